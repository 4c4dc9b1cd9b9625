//! Exports taskwire's tasks as OpenTelemetry spans over OTLP, so Jaeger, Tempo or any
//! OpenTelemetry collector shows the same task tree taskwire logs.
//!
//! Each finished task becomes one span whose trace id, span id and parent span id are the
//! task's own (so a trace continued through taskwire's `traceparent` propagation, or by an
//! OpenTelemetry-instrumented service, is one trace in the back end). Its status comes from the
//! task's outcome, its attributes from its fields (redacted as everywhere in taskwire), the
//! events inside it become span events, and the service, release and host are resource
//! attributes. Optionally every record is also exported as an OTLP log record with its task's
//! ids ([`OtelBuilder::with_logs`]).
//!
//! ```no_run
//! use tracing_subscriber::prelude::*;
//!
//! # fn main() -> Result<(), taskwire_otel::InitError> {
//! // OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME are honoured.
//! let (otel, guard) = taskwire_otel::layer()
//!     .with_service_name("checkout")
//!     .with_endpoint("http://localhost:4318")
//!     .build()?;
//! let subscriber = tracing_subscriber::registry()
//!     .with(taskwire_tasks::layer())
//!     .with(otel);
//! tracing::subscriber::set_global_default(subscriber).expect("no other subscriber");
//!
//! {
//!     let _task = tracing::info_span!("checkout", order = 7).entered();
//!     tracing::info!("charged");
//! }
//! // Dropping the guard (at the end of main) exports what is still queued.
//! drop(guard);
//! # Ok(())
//! # }
//! ```
//!
//! The application's threads only copy each finished task into a bounded queue; a background
//! thread converts and exports in batches with `opentelemetry-otlp` (HTTP/protobuf). A
//! collector that is down or slow never blocks or crashes the application: what cannot be
//! queued or exported is dropped, counted ([`OtelGuard::stats`]) and reported on stderr.
//!
//! | feature | enables |
//! |---|---|
//! | `metrics` | `OtelBuilder::with_metrics`: taskwire-metrics' aggregates as OTLP metrics |
//!
//! What maps to what, and how this fits beside an existing `tracing-opentelemetry` setup, is
//! explained in `docs/opentelemetry.md`.
#![forbid(unsafe_code)]

mod builder;
mod convert;
mod layer;
#[cfg(feature = "metrics")]
mod metrics;
mod record;
mod transport;
mod worker;

pub use builder::{InitError, OtelBuilder};
pub use layer::OtelLayer;
pub use record::Limits;
pub use worker::{ExportStats, FlushError, OtelGuard};

/// A builder for the OTLP export; [`OtelBuilder::build`] returns the layer and the guard that
/// flushes it.
pub fn layer() -> OtelBuilder {
    OtelBuilder::default()
}
