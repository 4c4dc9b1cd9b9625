//! Structured JSON lines for `tracing`, with the bound context of every enclosing span.
//!
//! One JSON object per line per event, written with a single `write_all` so concurrent
//! threads never interleave lines, and rendered into a reused buffer so a record allocates
//! nothing in steady state. Span fields are captured once, when recorded, and rendered once per
//! change (one capture for every taskwire layer: [`taskwire_core::span`]), never per event.
//!
//! ```
//! use tracing_subscriber::prelude::*;
//!
//! let subscriber = tracing_subscriber::registry()
//!     .with(taskwire_json::layer().with_service("checkout").with_writer(std::io::stdout));
//! tracing::subscriber::with_default(subscriber, || {
//!     let _span = tracing::info_span!("order", order_id = 42).entered();
//!     tracing::info!(items = 3, "order placed");
//! });
//! ```
//!
//! prints one line like
//!
//! ```text
//! {"ts":"2026-11-21T18:49:51.123456Z","level":"INFO","target":"checkout","msg":"order placed","items":3,"order_id":42,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7","service":"checkout"}
//! ```
//!
//! # The record
//!
//! Keys, in order: `ts`, `level`, `target`, `msg`, the event's fields, the fields of every
//! enclosing span (innermost wins; an event field beats a span field), `trace_id`, `span_id`,
//! `parent_span_id` (inside a span), then `service`, `release` and static fields when
//! configured. No key ever repeats: a user field named like a built-in key in use is written
//! as `fields.<name>` ([`COLLISION_PREFIX`]). Every built-in key can be renamed
//! ([`JsonLayer::with_key_name`]) or left out ([`JsonLayer::without_key`]). The full schema,
//! with the value rules (NaN, 128-bit integers, errors), is in `docs/record-schema.md`.
//!
//! The default record is what `tracing_subscriber::fmt().json()` writes plus the trace context
//! (`trace_id`, `span_id`, `parent_span_id`) and the service and release. The call site's
//! `file`, `line` and `module`, and the `thread`, `pid` and `host`, are one call away (they
//! go between `parent_span_id` and `service`):
//!
//! ```
//! use taskwire_json::Key;
//! let everything = taskwire_json::layer().with_source_location(true).with_process(true);
//! let just_the_thread = taskwire_json::layer().with_key(Key::Thread);
//! ```
//!
//! Sensitive keys (passwords, tokens, cookies, authorization, …) are redacted before anything
//! is written; see [`taskwire_core::Redactor`].
//!
//! # Composing
//!
//! The layer works inside `Option<L>`, boxed as `Box<dyn Layer<S> + Send + Sync>`, and with
//! per-layer filters:
//!
//! ```
//! use tracing_subscriber::{filter::LevelFilter, prelude::*};
//!
//! let errors_to_stderr = taskwire_json::layer()
//!     .with_writer(std::io::stderr)
//!     .with_filter(LevelFilter::ERROR);
//! let maybe_stdout = Some(taskwire_json::layer());
//! let subscriber = tracing_subscriber::registry().with(errors_to_stderr).with(maybe_stdout);
//! # let _ = subscriber;
//! ```
#![forbid(unsafe_code)]

mod flat;
mod format;
mod keys;
mod layer;
mod plan;
mod render;

pub use keys::{Key, COLLISION_PREFIX};
pub use layer::{JsonLayer, WriteErrors};

/// A JSON layer writing to stdout with the default record. Configure it with the `with_*`
/// setters of [`JsonLayer`].
pub fn layer() -> JsonLayer {
    JsonLayer::default()
}
