//! taskwire: one instrumentation call feeds logs, errors and metrics.
//!
//! An application keeps using plain [`tracing`] (`#[instrument]`, `info!`, `error!`) and adds
//! taskwire's layers to a `tracing_subscriber::Registry`, either in one call:
//!
//! ```
//! # fn main() -> Result<(), taskwire::InstallError> {
//! let (dispatch, _guard) = taskwire::builder()
//!     .service("checkout")
//!     .release("1.4.2")
//!     .json(std::io::stdout)
//!     .build()?; // or `.install()?` to make it the global default
//! tracing::dispatcher::with_default(&dispatch, || {
//!     let _order = tracing::info_span!("order", order_id = 42).entered();
//!     tracing::info!(items = 3, "order placed");
//! });
//! # Ok(()) }
//! ```
//!
//! or by hand, layer by layer, the span capture first (see [`capture()`]):
//!
//! ```
//! use tracing_subscriber::prelude::*;
//! let subscriber = tracing_subscriber::registry()
//!     .with(taskwire::capture())
//!     .with(taskwire::tasks::layer())
//!     .with(taskwire::json::layer());
//! tracing::subscriber::with_default(subscriber, || tracing::info!("hello"));
//! ```
//!
//! | crate | re-exported as | what it holds |
//! |---|---|---|
//! | `taskwire-core` | [`core`] | W3C ids, shared span capture, redaction, JSON primitives |
//! | `taskwire-json` | [`json`] | structured JSON lines with the context of every enclosing span |
//! | `taskwire-console` | `console` | human-readable lines: colour, task path, trace id, ✓/✗ task ends |
//! | `taskwire-tasks` | [`tasks`] | spans as hierarchical tasks: outcomes, `task.end` records, export/import across processes |
//! | `taskwire-tickets` | `tickets` | error events grouped into tickets (counts, status, regressions, samples) in SQLite |
//! | `taskwire-metrics` | `metrics` | span timings and event counts through the `metrics` facade, plus an in-app snapshot |
//!
//! | feature | enables |
//! |---|---|
//! | `console` (default) | `taskwire::console` and `builder().console()`: human-readable lines for development (`docs/console.md`) |
//! | `tickets` (default) | `taskwire::tickets` and `builder().tickets(..)`: tickets in SQLite |
//! | `mongodb` | `taskwire::tickets::MongoDb`: the same tickets on a shared MongoDB deployment |
//! | `webhook` | `taskwire::tickets::alerts::Alerts::webhook`: ticket alerts (new, regressed, over a rate) posted to webhooks, JSON or Slack's form (`docs/alerts.md`) |
//! | `metrics` (default) | `taskwire::metrics` and `builder().metrics(..)`: span timings, event counts, snapshot; with `axum`, `tower::metrics::handler`; with `actix`, `actix::metrics::route`; with `otel`, `otel::OtelBuilder::with_metrics` |
//! | `prometheus` | `metrics` plus `taskwire::Prometheus` and `builder().prometheus(..)`: a metrics-exporter-prometheus recorder serving `/metrics` or handing back its handle (`docs/metrics.md`) |
//! | `tokio` | `tasks::spawn` / `tasks::spawn_blocking`, carrying the current task into tokio tasks |
//! | `tower` | `taskwire::tower`: tower middleware (axum, hyper, tonic) for request tasks and propagation |
//! | `axum` | `tower` plus axum route templates (`MatchedPath`) as task names |
//! | `actix` | `taskwire::actix`: actix-web middleware for request tasks |
//! | `reqwest` | `taskwire::reqwest`: reqwest-middleware for client tasks and propagation |
//! | `otel` | `taskwire::otel`: tasks (and, with `metrics`, the metrics snapshot) exported over OTLP |
//!
//! The dependencies each feature brings are measured in `docs/features.md`.
//!
//! Every combination of features builds, and each integration's metrics part follows the
//! `metrics` feature: `features = ["axum", "metrics"]` is all an axum service needs for a
//! `/metrics` route.
//!
//! `install()` also installs [`panic_hook()`]: a panic anywhere becomes an ERROR event inside
//! the current task, so a failed task and (with `tickets`) a ticket at the panic's location.
//!
//! The guides live in the repository's `docs/` folder: `record-schema.md` (every key of a
//! JSON record) and `architecture.md` (how the layers share one capture).
#![forbid(unsafe_code)]

mod builder;
mod panic;

#[cfg(feature = "prometheus")]
pub use builder::Prometheus;
pub use builder::{builder, Builder, CaptureRegistry, Guard, InstallError};
pub use panic::panic_hook;

/// The span capture, installed first in a hand-built stack
/// (`registry().with(taskwire::capture()).with(taskwire::json::layer())`): it captures every
/// span once (ids, lineage, fields, timing) and every taskwire layer above it reads that.
/// A stack without it still works (its innermost taskwire layer captures), but then a
/// per-layer filter on that layer hides spans from every layer. See `docs/architecture.md`.
pub fn capture() -> taskwire_core::CaptureLayer {
    taskwire_core::span::capture()
}
#[cfg(feature = "actix")]
pub use taskwire_actix as actix;
#[cfg(feature = "console")]
pub use taskwire_console as console;
pub use taskwire_core as core;
pub use taskwire_json as json;
#[cfg(feature = "metrics")]
pub use taskwire_metrics as metrics;
#[cfg(feature = "otel")]
pub use taskwire_otel as otel;
#[cfg(feature = "reqwest")]
pub use taskwire_reqwest as reqwest;
pub use taskwire_tasks as tasks;
#[cfg(feature = "tickets")]
pub use taskwire_tickets as tickets;
#[cfg(feature = "tower")]
pub use taskwire_tower as tower;

/// The snippets of README.md and docs/*.md, compiled (and, unless marked `no_run`, run) as
/// doctests, each file with the features its snippets need: `cargo test --all-features` (what
/// `scripts/test` runs) tests them all. `tests/docs_snippets_are_tagged_and_compiled.rs` checks
/// that every file is listed here and every code block is tagged.
#[cfg(doctest)]
mod docs {
    #[cfg(all(feature = "tickets", feature = "prometheus"))]
    #[doc = include_str!("../README.md")]
    struct Readme;

    #[cfg(feature = "webhook")]
    #[doc = include_str!("../docs/alerts.md")]
    struct Alerts;

    #[doc = include_str!("../docs/architecture.md")]
    struct Architecture;

    #[doc = include_str!("../docs/benchmarks.md")]
    struct Benchmarks;

    #[doc = include_str!("../docs/cli.md")]
    struct Cli;
    #[cfg(feature = "console")]
    #[doc = include_str!("../docs/console.md")]
    struct Console;

    #[doc = include_str!("../docs/features.md")]
    struct Features;

    #[cfg(all(feature = "prometheus", feature = "axum", feature = "actix"))]
    #[doc = include_str!("../docs/metrics.md")]
    struct Metrics;

    #[cfg(feature = "otel")]
    #[doc = include_str!("../docs/opentelemetry.md")]
    struct OpenTelemetry;

    #[cfg(all(feature = "axum", feature = "actix", feature = "reqwest"))]
    #[doc = include_str!("../docs/propagation.md")]
    struct Propagation;

    #[doc = include_str!("../docs/record-schema.md")]
    struct RecordSchema;

    #[cfg(all(feature = "mongodb", feature = "otel", feature = "metrics"))]
    #[doc = include_str!("../docs/scaling.md")]
    struct Scaling;

    #[doc = include_str!("../docs/tasks.md")]
    struct Tasks;

    #[cfg(all(feature = "tickets", feature = "mongodb"))]
    #[doc = include_str!("../docs/tickets.md")]
    struct Tickets;

    #[doc = include_str!("../docs/web.md")]
    struct Web;
}
