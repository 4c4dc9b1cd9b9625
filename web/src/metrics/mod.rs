//! Where the metrics page's numbers come from, behind one small trait: the `task.end` records
//! of the log sources ([`FromLogs`], for `taskwire serve`) or the metrics layer's in-app
//! snapshot ([`FromApp`], for the in-app dashboard). Both answer a [`View`]: a
//! [`taskwire_metrics::Snapshot`] (count, errors, m1/m5/m15 rates, percentiles and maximum per
//! task name) and, per task name, the two plots' data.

mod app;
mod logs;

pub(crate) use app::FromApp;
pub(crate) use logs::FromLogs;

use taskwire_metrics::Snapshot;

/// What the metrics page shows.
#[derive(Debug, Default)]
pub(crate) struct View {
    /// Where the numbers come from, for the reader.
    pub(crate) source: String,
    /// The aggregates (the raw JSON behind the toggle).
    pub(crate) snapshot: Snapshot,
    /// Per task name (in the snapshot's order), the plots.
    pub(crate) plots: Vec<Plots>,
    /// Problems reading the sources.
    pub(crate) problems: Vec<String>,
}

/// The plots of one task name.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Plots {
    /// The latency histogram: (upper bound in seconds, count) per bucket, ascending.
    pub(crate) latency: Vec<(f64, u64)>,
    /// What the histogram's buckets are.
    pub(crate) latency_note: &'static str,
    /// Tasks ended per second, oldest first, one value per `step_seconds`.
    pub(crate) rate: Vec<f64>,
    /// The time each rate value covers.
    pub(crate) step_seconds: f64,
}

/// A source of the metrics page.
pub(crate) trait Source: Send + Sync {
    /// The numbers as of now.
    fn view(&self) -> View;
}

/// Exponentially weighted moving averages ticked every [`TICK_S`] seconds, as the metrics
/// layer's rates: m1, m5, m15.
pub(crate) const TICK_S: f64 = 5.0;

/// One moving average.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ewma {
    alpha: f64,
    rate: Option<f64>,
}

impl Ewma {
    pub(crate) fn minutes(m: f64) -> Ewma {
        Ewma {
            alpha: 1.0 - (-TICK_S / 60.0 / m).exp(),
            rate: None,
        }
    }

    /// One tick in which `n` things happened.
    pub(crate) fn tick(&mut self, n: u64) {
        let instant = n as f64 / TICK_S;
        self.rate = Some(match self.rate {
            Some(r) => r + self.alpha * (instant - r),
            None => instant,
        });
    }

    pub(crate) fn rate(&self) -> f64 {
        self.rate.unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steady_rate_is_its_own_average_and_silence_decays_it() {
        let mut m1 = Ewma::minutes(1.0);
        for _ in 0..100 {
            m1.tick(50);
        }
        assert!((m1.rate() - 10.0).abs() < 1e-9, "{}", m1.rate());
        for _ in 0..12 {
            m1.tick(0);
        }
        // one minute of silence leaves 1/e of a 1-minute average
        assert!(
            (m1.rate() - 10.0 / std::f64::consts::E).abs() < 0.01,
            "{}",
            m1.rate()
        );
    }
}
