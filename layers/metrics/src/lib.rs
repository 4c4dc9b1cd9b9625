//! Span timings and event counts from plain `tracing`: through the [`metrics`] facade to any
//! recorder (Prometheus, StatsD, …), and aggregated in-app for a snapshot with percentiles and
//! moving rates (Python scales' `PmfStat` and `MeterStat`, Dropwizard's `Timer` and `Meter`).
//!
//! ```
//! use tracing_subscriber::prelude::*;
//!
//! let layer = taskwire_metrics::layer().with_label_fields(["tier"]);
//! let metrics = layer.handle();
//! let subscriber = tracing_subscriber::registry().with(layer);
//! tracing::subscriber::with_default(subscriber, || {
//!     for tier in ["gold", "free", "free"] {
//!         let _span = tracing::info_span!("checkout", tier).entered();
//!         tracing::info!("paid");
//!     }
//! });
//!
//! let snapshot = metrics.snapshot();
//! let checkout = &snapshot.tasks[0];
//! assert_eq!((checkout.name.as_str(), checkout.count), ("checkout", 3));
//! assert!(checkout.window.p99 >= checkout.window.p50);
//! println!("{}", taskwire_metrics::render_table(&snapshot));
//! ```
//!
//! # What is recorded
//!
//! | metric | kind | labels |
//! |---|---|---|
//! | `taskwire_span_duration_seconds` | histogram | `name`, `target`, `outcome`, allow-listed fields |
//! | `taskwire_span_busy_seconds` | histogram, with [`with_busy_time`](MetricsLayer::with_busy_time) | same |
//! | `taskwire_events_total` | counter | `level` (and `target`, with [`with_target_labels`](MetricsLayer::with_target_labels)) |
//! | `taskwire_errors_total` | counter | `target` |
//! | `taskwire_task_failures_total` | counter | `name`, `target`, allow-listed fields |
//! | `taskwire_metrics_dropped_label_sets_total` | counter | `metric` |
//!
//! - `name` is the span's `task.name` (or `otel.name`) field when it has one (the route of a
//!   request task, `GET /users/{id}`), else the span name; `outcome` is `succeeded` or
//!   `failed` by taskwire-core's [`SpanData::failed`](taskwire_core::SpanData::failed): an
//!   ERROR event inside the span (counted by taskwire-tasks, when installed), a
//!   `taskwire_tasks::fail`, or a field `outcome = "failed"`.
//! - Label values come from the span's captured fields when it closes, so `Span::record` counts.
//!   Which labels a call site has is resolved once per call site.
//! - Each label set gets its handles from the recorder once; later samples go straight to them.
//! - A hard cap (default 500 label sets per metric) sends further label sets to an
//!   `overflow="true"` series and counts them; a task name first seen past the cap still gets
//!   its own span series, from a reserve as large as the cap.
//! - Events of taskwire's background threads (`taskwire_core::suppress`) and taskwire-tasks'
//!   own `task.start`/`task.end` records are not counted.
//!
//! # In-app aggregates
//!
//! [`MetricsHandle::snapshot`] returns a serializable [`Snapshot`]: per series the lifetime
//! count, sum and mean rate, the 1-, 5- and 15-minute moving rates, and over a sliding window
//! (60 s by default) count, min, max, mean, standard deviation, p50, p75, p95, p98, p99 and
//! p99.9 with an exemplar (the trace id of the slowest sample). Histograms are log-linear
//! ([`histogram`]; ≤ 1/128 relative error), recorded with atomic adds, and their memory is
//! fixed per series whether or not anyone reads: nothing grows with the number of spans. Rate
//! ticks and window slots are advanced by whoever records or reads next; no thread is started.
//! [`Snapshot::to_json`], [`Snapshot::to_prometheus`] and [`render_table`] render it;
//! taskwire-tower (features `axum` + `metrics`) and taskwire-actix (feature `metrics`) serve
//! it over HTTP. Slow-span warnings ([`SlowSpans`]) are off by default.
//!
//! # Exporting to Prometheus
//!
//! Install a recorder before the first span closes, e.g. metrics-exporter-prometheus with
//! taskwire's buckets ([`prometheus::configure`], feature `prometheus`):
//!
//! ```
//! # #[cfg(feature = "prometheus")] {
//! use metrics_exporter_prometheus::PrometheusBuilder;
//! use tracing_subscriber::prelude::*;
//!
//! let recorder = taskwire_metrics::prometheus::configure(PrometheusBuilder::new())
//!     .expect("default buckets")
//!     .build_recorder();
//! let prometheus = recorder.handle();
//! metrics::with_local_recorder(&recorder, || {
//!     let subscriber = tracing_subscriber::registry().with(taskwire_metrics::layer());
//!     tracing::subscriber::with_default(subscriber, || {
//!         let _span = tracing::info_span!("checkout").entered();
//!     });
//! });
//! assert!(prometheus.render().contains("taskwire_span_duration_seconds_bucket"));
//! # }
//! ```
//!
//! # Features
//!
//! | feature | default | enables |
//! |---|---|---|
//! | `prometheus` | no | [`prometheus::configure`]: taskwire's histograms as Prometheus histograms with buckets on a `metrics_exporter_prometheus::PrometheusBuilder` (none of the exporter's HTTP or push features) |
//!
//! Metric names, labels and the choices behind them are in `docs/metrics.md`.
#![forbid(unsafe_code)]

/// Hooks for taskwire's own benchmarks; not part of the API.
#[doc(hidden)]
pub mod bench_support;
mod callsites;
mod clock;
mod ewma;
mod export;
mod family;
mod glob;
pub mod histogram;
mod labels;
mod layer;
#[cfg(feature = "prometheus")]
pub mod prometheus;
mod registry;
mod render;
mod series;
mod slow;
mod snapshot;
mod span;
mod stripe;

pub use clock::ManualClock;
pub use export::names;
pub use family::DEFAULT_MAX_LABEL_SETS;
pub use labels::MAX_LABEL_VALUE_LEN;
pub use layer::{MetricsLayer, TARGET};
pub use render::{render_table, Format, Table};
pub use slow::SlowSpans;
pub use snapshot::{
    CounterStats, Distribution, Exemplar, LabelSet, MetricsHandle, Rates, Snapshot, TaskStats,
    TimerStats,
};

/// A metrics layer with the defaults: wall time only, no label fields, events by level,
/// 500 label sets per metric, a 60-second window, no slow-span warnings. Take its
/// [`handle`](MetricsLayer::handle) to read the in-app aggregates.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let layer = taskwire_metrics::layer();
/// let handle = layer.handle();
/// let _subscriber = tracing_subscriber::registry().with(layer);
/// # drop(handle);
/// ```
pub fn layer() -> MetricsLayer {
    MetricsLayer::default()
}
