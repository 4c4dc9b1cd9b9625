//! Human-readable console output for `tracing`, with what taskwire knows about each event: the
//! task it happened in, the trace a user can open with `taskwire tree`, and how each task
//! ended.
//!
//! ```
//! use tracing_subscriber::prelude::*;
//!
//! let subscriber = tracing_subscriber::registry()
//!     .with(taskwire_core::span::capture())
//!     .with(taskwire_tasks::layer())
//!     .with(taskwire_console::layer());
//! tracing::subscriber::with_default(subscriber, || {
//!     let _order = tracing::info_span!("handle_order", order_id = 42).entered();
//!     let _charge = tracing::info_span!("charge_card").entered();
//!     tracing::warn!(attempt = 2, "card declined, retrying");
//! });
//! ```
//!
//! prints (in colour on a terminal)
//!
//! ```text
//! 18:49:51.123 WARN  checkout: card declined, retrying attempt=2 order_id=42 [handle_order › charge_card 4bf92f35]
//! 18:49:51.124 ✓     handle_order › charge_card 1.21ms [4bf92f35]
//! 18:49:51.124 ✓     handle_order 1.30ms [4bf92f35]
//! ```
//!
//! # The line
//!
//! - an event: the time (`HH:MM:SS.mmm`, UTC), the level, the target, the message, the event's
//!   fields as `key=value`, the fields of the enclosing spans (innermost first), then in
//!   brackets the task path (the last three task names, `… › ` before them when deeper) and
//!   the trace id's first 8 hex digits, which `taskwire tree --trace` takes as they are
//!   ([`ConsoleLayer::with_trace_id_format`] writes all 32);
//! - a task's end (the tasks layer's `task.end` record): `✓` or `✗`, the task path, the
//!   duration and, for a failed task, the reason in red;
//! - [`Style::Pretty`] writes the fields one per line, and the path and trace on a line of
//!   their own; [`ConsoleLayer::with_indent`] indents lines by task depth, like tracing-tree.
//!
//! The task names are the spans' `task.name` (or `otel.name`) when set, else their names.
//!
//! # Safe to show
//!
//! Every text from user data (messages, values, keys, targets, task names) is written with
//! control characters escaped: an ANSI escape sequence in a value is shown as `\u{1b}[2J`,
//! never sent to the terminal, and a newline in a value cannot fake a line. Sensitive keys are
//! redacted as in every taskwire output ([`taskwire_core::Redactor`]).
//!
//! # Colour
//!
//! On a terminal only, and never when `NO_COLOR` is set (not empty); `FORCE_COLOR` and
//! [`ConsoleLayer::with_color`] override: see [`ColorWhen`].
//!
//! # Cost
//!
//! The same discipline as taskwire-json: span fields are captured once for every layer
//! ([`taskwire_core::span`]), and a line is rendered into a reused per-thread buffer and
//! written with one `write_all`, so an event in steady state allocates nothing. The layer
//! works inside `Option<L>`, boxed, and with per-layer filters. docs/console.md has the
//! options and docs/benchmarks.md the measurements.
#![forbid(unsafe_code)]

mod color;
mod layer;
mod plan;
mod render;
mod settings;
mod text;

pub use color::ColorWhen;
pub use layer::ConsoleLayer;
pub use settings::{Style, TraceIdFormat};
pub use taskwire_core::write_errors::WriteErrors;

/// A console layer writing to stdout, in colour when stdout is a terminal (see
/// [`ColorWhen`]). Configure it with the `with_*` setters of [`ConsoleLayer`].
pub fn layer() -> ConsoleLayer {
    ConsoleLayer::default()
}
