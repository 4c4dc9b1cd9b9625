//! Setup for `metrics-exporter-prometheus` (feature `prometheus`): taskwire's histograms
//! exported as Prometheus histograms with buckets (the exporter's own default is a summary).
//!
//! ```
//! use metrics_exporter_prometheus::{Matcher, PrometheusBuilder};
//! use taskwire_metrics::names;
//!
//! # fn main() -> Result<(), metrics_exporter_prometheus::BuildError> {
//! let recorder = taskwire_metrics::prometheus::configure(PrometheusBuilder::new())?
//!     // per metric: other buckets for busy time
//!     .set_buckets_for_metric(Matcher::Full(names::SPAN_BUSY.into()), &[0.001, 0.01, 0.1, 1.0])?
//!     .build_recorder();
//! let handle = recorder.handle();
//! # let _ = handle.render();
//! # Ok(()) }
//! ```

use metrics_exporter_prometheus::{BuildError, Matcher};
/// The exporter's configuration and the handle that renders its metrics, re-exported so that
/// they can be named without a dependency on metrics-exporter-prometheus.
pub use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::export::names;

/// Bucket upper bounds, in seconds, for taskwire's histograms: 100 µs to 60 s.
pub const DEFAULT_BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0, 60.0,
];

/// Exports every taskwire histogram with [`DEFAULT_BUCKETS`]. A later
/// `set_buckets_for_metric(Matcher::Full(name), …)` for one of them replaces its buckets; other
/// histograms keep the exporter's settings.
///
/// # Errors
///
/// None with the default buckets; the exporter's error type is kept for [`configure_with`].
pub fn configure(builder: PrometheusBuilder) -> Result<PrometheusBuilder, BuildError> {
    configure_with(builder, DEFAULT_BUCKETS)
}

/// Exports every taskwire histogram with `buckets` (upper bounds, in seconds).
///
/// # Errors
///
/// [`BuildError::EmptyBucketsOrQuantiles`] when `buckets` is empty.
pub fn configure_with(
    mut builder: PrometheusBuilder,
    buckets: &[f64],
) -> Result<PrometheusBuilder, BuildError> {
    for metric in names::HISTOGRAMS {
        builder = builder.set_buckets_for_metric(Matcher::Full(metric.to_owned()), buckets)?;
    }
    Ok(builder)
}
