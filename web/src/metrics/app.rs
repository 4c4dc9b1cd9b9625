//! The metrics of the in-app dashboard: the metrics layer's snapshot of this process, and a
//! short history of its counts (sampled every [`SAMPLE`], and at each view) for the rate
//! plot.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use taskwire_metrics::{Distribution, MetricsHandle, Snapshot};

use super::{Plots, View};

/// How often the history samples the counts.
const SAMPLE: Duration = Duration::from_secs(5);
/// Samples kept: ten minutes.
const KEPT: usize = 120;

/// One sample of the history: when, and the count of each task name.
type Sample = (Instant, Vec<(String, u64)>);

/// Metrics from the process's own metrics layer.
#[derive(Debug)]
pub(crate) struct FromApp {
    handle: MetricsHandle,
    history: Mutex<VecDeque<Sample>>,
}

impl FromApp {
    /// A source over `handle`; when a tokio runtime is running, a task samples the counts
    /// every [`SAMPLE`] for as long as the source lives.
    pub(crate) fn new(handle: MetricsHandle) -> Arc<FromApp> {
        let me = Arc::new(FromApp {
            handle,
            history: Mutex::new(VecDeque::new()),
        });
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            let weak: Weak<FromApp> = Arc::downgrade(&me);
            rt.spawn(async move {
                let mut every = tokio::time::interval(SAMPLE);
                loop {
                    every.tick().await;
                    let Some(me) = weak.upgrade() else { return };
                    me.sample(&me.handle.snapshot());
                }
            });
        }
        me
    }

    /// Adds the counts of `s` to the history (not more often than every second).
    fn sample(&self, s: &Snapshot) {
        let mut h = self.history.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if h.back()
            .is_some_and(|(t, _)| now - *t < Duration::from_secs(1))
        {
            return;
        }
        h.push_back((
            now,
            s.tasks.iter().map(|t| (t.name.clone(), t.count)).collect(),
        ));
        while h.len() > KEPT {
            h.pop_front();
        }
    }

    /// Tasks ended per second between each two samples, for `name`.
    fn rate(&self, name: &str) -> Vec<f64> {
        let h = self.history.lock().unwrap_or_else(|p| p.into_inner());
        let count = |c: &[(String, u64)]| c.iter().find(|(n, _)| n == name).map_or(0, |x| x.1);
        h.iter()
            .zip(h.iter().skip(1))
            .map(|((t0, c0), (t1, c1))| {
                let dt = (*t1 - *t0).as_secs_f64().max(1e-3);
                count(c1).saturating_sub(count(c0)) as f64 / dt
            })
            .collect()
    }
}

impl super::Source for FromApp {
    fn view(&self) -> View {
        let snapshot = self.handle.snapshot();
        self.sample(&snapshot);
        let plots = snapshot
            .tasks
            .iter()
            .map(|t| Plots {
                latency: from_quantiles(&t.window),
                latency_note: "tasks of the window between its percentiles (min, p50, p75, p95, p98, p99, p99.9, max)",
                rate: self.rate(&t.name),
                step_seconds: SAMPLE.as_secs_f64(),
            })
            .collect();
        View {
            source: format!(
                "this process's metrics layer: the last {:.0} s for percentiles, its whole life for counts",
                snapshot.window_seconds
            ),
            snapshot,
            plots,
            problems: Vec::new(),
        }
    }
}

/// The window's distribution as a histogram whose buckets end at its percentiles: the share
/// of samples between two percentiles is known exactly (50 % up to p50, 25 % up to p75, …).
fn from_quantiles(d: &Distribution) -> Vec<(f64, u64)> {
    if d.count == 0 {
        return Vec::new();
    }
    let n = d.count as f64;
    let edges = [
        (d.p50, 0.5),
        (d.p75, 0.75),
        (d.p95, 0.95),
        (d.p98, 0.98),
        (d.p99, 0.99),
        (d.p999, 0.999),
        (d.max, 1.0),
    ];
    let mut below = 0u64;
    edges
        .iter()
        .map(|&(upper, share)| {
            let upto = (share * n).round() as u64;
            let c = upto.saturating_sub(below);
            below = below.max(upto);
            (upper, c)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_buckets_hold_every_sample_once() {
        let mut d = Distribution::default();
        d.count = 1000;
        (d.p50, d.p75, d.p95, d.p98, d.p99, d.p999, d.max) = (1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0);
        let h = from_quantiles(&d);
        assert_eq!(h.iter().map(|b| b.1).sum::<u64>(), 1000);
        assert_eq!(h[0], (1.0, 500));
        assert_eq!(h[6], (7.0, 1));
    }
}
