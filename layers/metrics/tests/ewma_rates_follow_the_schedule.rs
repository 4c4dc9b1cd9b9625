//! The m1/m5/m15 rates follow Dropwizard's and scales' definition (5-second ticks,
//! `alpha = 1 - exp(-5 s / window)`, the first tick sets the rate) on a known schedule, driven
//! by a manual clock: no sleeps, and right whether or not anybody read in between.

use std::time::Duration;

use taskwire_metrics::{ManualClock, MetricsHandle, Rates};
use tracing_subscriber::prelude::*;

fn events_rates(metrics: &MetricsHandle, level: &str) -> (u64, Rates) {
    let s = metrics.snapshot();
    let c = s
        .counters
        .iter()
        .find(|c| c.metric == "taskwire_events_total" && c.labels.get("level") == Some(level))
        .expect("events counter");
    (c.count, c.rates)
}

/// The reference: the textbook recurrence, tick by tick.
#[derive(Default)]
struct Reference {
    rates: [f64; 3],
    init: bool,
}

impl Reference {
    fn tick(&mut self, count: u64) {
        let instant = count as f64 / 5.0;
        for (r, m) in self.rates.iter_mut().zip([1.0, 5.0, 15.0]) {
            let alpha = 1.0 - (-5.0_f64 / 60.0 / m).exp();
            if self.init {
                *r += alpha * (instant - *r);
            } else {
                *r = instant;
            }
        }
        self.init = true;
    }
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * b.abs().max(1e-9)
}

#[test]
fn dropwizard_one_tick_then_idle() {
    let clock = ManualClock::new();
    let layer = taskwire_metrics::layer().with_clock(clock.clone());
    let metrics = layer.handle();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for _ in 0..3 {
            tracing::info!("x");
        }
    });
    clock.advance(Duration::from_secs(5));
    let (count, r) = events_rates(&metrics, "info");
    assert_eq!(count, 3);
    assert!(close(r.m1, 0.6) && close(r.m5, 0.6) && close(r.m15, 0.6));
    // Dropwizard Metrics' EWMATest values one minute later.
    clock.advance(Duration::from_secs(60));
    let (_, r) = events_rates(&metrics, "info");
    assert!((r.m1 - 0.220_727_66).abs() < 1e-8, "{}", r.m1);
    assert!((r.m5 - 0.491_238_45).abs() < 1e-8, "{}", r.m5);
    assert!((r.m15 - 0.561_304_19).abs() < 1e-8, "{}", r.m15);
    assert!(close(r.mean, 3.0 / 65.0));
}

/// A load that ramps up, holds, stops and resumes, read only at the very end.
#[test]
fn varying_schedule_read_once() {
    let clock = ManualClock::new();
    let layer = taskwire_metrics::layer().with_clock(clock.clone());
    let metrics = layer.handle();
    let mut reference = Reference::default();
    // Events per 5-second tick.
    let schedule: Vec<u64> = (1..=24)
        .map(|i| i * 10)
        .chain(std::iter::repeat_n(240, 36))
        .chain(std::iter::repeat_n(0, 20))
        .chain(std::iter::repeat_n(17, 12))
        .collect();
    let total: u64 = schedule.iter().sum();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for &n in &schedule {
            // Spread over the tick, never on its last nanosecond.
            let step = Duration::from_nanos(5_000_000_000 / (n + 1));
            for _ in 0..n {
                clock.advance(step);
                tracing::warn!("event");
            }
            clock.advance(Duration::from_secs(5) - step * n as u32);
            reference.tick(n);
        }
    });
    let (count, r) = events_rates(&metrics, "warn");
    assert_eq!(count, total);
    let [m1, m5, m15] = reference.rates;
    assert!(close(r.m1, m1), "m1 {} vs {m1}", r.m1);
    assert!(close(r.m5, m5), "m5 {} vs {m5}", r.m5);
    assert!(close(r.m15, m15), "m15 {} vs {m15}", r.m15);
}

/// Spans: the timer's rates and the task row follow the same schedule.
#[test]
fn span_rates() {
    let clock = ManualClock::new();
    let layer = taskwire_metrics::layer().with_clock(clock.clone());
    let metrics = layer.handle();
    let mut reference = Reference::default();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for n in [50_u64, 50, 100, 0, 0, 25] {
            for _ in 0..n {
                let _s = tracing::info_span!("req").entered();
                clock.advance(Duration::from_millis(1));
            }
            clock.advance(Duration::from_secs(5) - Duration::from_millis(n));
            reference.tick(n);
        }
    });
    let s = metrics.snapshot();
    let t = &s.tasks[0];
    assert_eq!(t.count, 225);
    assert!(close(t.rates.m1, reference.rates[0]));
    assert!(close(t.rates.m15, reference.rates[2]));
    // Since the layer was built.
    assert!(close(t.rates.mean, 225.0 / 30.0));
}
