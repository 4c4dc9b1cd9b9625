//! [`SlowSpans`]: when a closed span is slow enough to warn about.

use std::time::Duration;

use crate::ewma::TICK_NANOS;
use crate::family::Entry;
use crate::series::SpanSeries;

/// Slow-span warnings (Python scales' `warn99`): a WARN event when a span takes longer than the
/// current p99 of its series. Off unless given to [`MetricsLayer::with_slow_spans`](crate::MetricsLayer::with_slow_spans).
///
/// ```
/// use std::time::Duration;
/// use taskwire_metrics::SlowSpans;
///
/// let layer = taskwire_metrics::layer().with_slow_spans(
///     SlowSpans::p99()
///         .with_min_samples(50)
///         .with_interval(Duration::from_secs(10)),
/// );
/// # drop(layer);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SlowSpans {
    min_samples: u64,
    interval_ticks: u64,
}

impl SlowSpans {
    /// Warn above the p99 of the series' window, once the window holds 100 samples, at most
    /// once a minute per series.
    pub fn p99() -> Self {
        SlowSpans {
            min_samples: 100,
            interval_ticks: 12,
        }
    }

    /// Warn only once the window holds at least `n` samples (its p99 means little before).
    #[must_use]
    pub fn with_min_samples(mut self, n: u64) -> Self {
        self.min_samples = n;
        self
    }

    /// At most one warning per series per `interval` (rounded up to 5-second ticks).
    #[must_use]
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval_ticks = interval.as_nanos().div_ceil(u128::from(TICK_NANOS)).max(1) as u64;
        self
    }

    /// The p99 a span of `wall` nanoseconds just recorded into `entry` exceeded, when a
    /// warning is due.
    #[inline]
    pub(crate) fn p99_exceeded(
        &self,
        entry: &Entry<SpanSeries>,
        wall: u64,
        now: u64,
    ) -> Option<u64> {
        if entry.overflow {
            return None;
        }
        entry
            .value
            .wall
            .slow(wall, now, self.min_samples, self.interval_ticks)
    }
}
