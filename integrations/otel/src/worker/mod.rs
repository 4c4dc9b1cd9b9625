//! The OTLP export behind the layer: the bounded queue between the application's threads and
//! the export thread (`queue`), the thread and its loop (`export`), the exporters it drives
//! (`sink`), its counters as the user sees them (`stats`), and the guard that flushes and stops
//! it (`guard`).

mod export;
mod guard;
mod queue;
mod sink;
mod stats;

pub(crate) use export::{start, WorkerConfig};
pub use guard::{FlushError, OtelGuard};
pub(crate) use queue::Shared;
pub(crate) use sink::{LogSink, SinkFactory, SpanSink};
pub use stats::ExportStats;
