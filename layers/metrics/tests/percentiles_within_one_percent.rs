//! The log-linear histogram's percentiles (and mean and standard deviation) stay within 1 % of
//! the exact values, on 1M samples of uniform, exponential and bimodal data; and the layer's
//! snapshot reports the same through spans.

use std::time::Duration;

use taskwire_metrics::histogram::{Histogram, HistogramSnapshot};
use tracing_subscriber::prelude::*;

const QUANTILES: [f64; 6] = [0.5, 0.75, 0.95, 0.98, 0.99, 0.999];

/// splitmix64: a small, good, seeded generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in (0, 1).
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unit(), self.unit());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn exact(sorted: &[u64], q: f64) -> f64 {
    let n = sorted.len();
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
    sorted[rank - 1] as f64
}

fn check(name: &str, mut samples: Vec<u64>) {
    let h = Histogram::new();
    for &v in &samples {
        h.record(v);
    }
    let mut snap = HistogramSnapshot::new();
    snap.add(&h);
    assert_eq!(snap.count(), samples.len() as u64);
    samples.sort_unstable();
    let mut got = [0.0; QUANTILES.len()];
    snap.values_at_quantiles(&QUANTILES, &mut got);
    for (q, g) in QUANTILES.iter().zip(got) {
        let want = exact(&samples, *q);
        let err = (g - want).abs() / want;
        assert!(
            err <= 0.01,
            "{name}: p{q}: got {g}, exact {want}, relative error {err:.5}"
        );
        assert_eq!(snap.value_at_quantile(*q), g);
    }
    let n = samples.len() as f64;
    let mean = samples.iter().map(|&v| v as f64).sum::<f64>() / n;
    let sd = (samples
        .iter()
        .map(|&v| (v as f64 - mean).powi(2))
        .sum::<f64>()
        / n)
        .sqrt();
    let (m, s) = snap.mean_stddev();
    assert!(
        (m - mean).abs() / mean <= 0.01,
        "{name}: mean {m} vs {mean}"
    );
    assert!((s - sd).abs() / sd <= 0.01, "{name}: stddev {s} vs {sd}");
}

const N: usize = 1_000_000;

#[test]
fn uniform() {
    let mut r = Rng(1);
    // 1 µs .. 1 s, in nanoseconds.
    check(
        "uniform",
        (0..N)
            .map(|_| 1_000 + (r.unit() * 999_999_000.0) as u64)
            .collect(),
    );
}

#[test]
fn exponential() {
    let mut r = Rng(2);
    // Mean 5 ms; the tail reaches tens of ms, the head single microseconds.
    check(
        "exponential",
        (0..N)
            .map(|_| ((-r.unit().ln()) * 5e6) as u64 + 1)
            .collect(),
    );
}

#[test]
fn bimodal() {
    let mut r = Rng(3);
    // 90 % cache hits around 200 µs, 10 % misses around 40 ms.
    check(
        "bimodal",
        (0..N)
            .map(|_| {
                let v = if r.unit() < 0.9 {
                    200e3 + 20e3 * r.normal()
                } else {
                    40e6 + 4e6 * r.normal()
                };
                v.max(1.0) as u64
            })
            .collect(),
    );
}

#[test]
fn snapshot_of_spans_matches_exact_percentiles() {
    let clock = taskwire_metrics::ManualClock::new();
    let layer = taskwire_metrics::layer().with_clock(clock.clone());
    let metrics = layer.handle();
    let mut r = Rng(4);
    let mut samples: Vec<u64> = (0..20_000)
        .map(|_| ((-r.unit().ln()) * 2e6) as u64 + 1)
        .collect();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for &d in &samples {
            let _s = tracing::info_span!("work").entered();
            clock.advance(Duration::from_nanos(d));
        }
    });
    samples.sort_unstable();
    let s = metrics.snapshot();
    let w = &s.tasks[0].window;
    assert_eq!(w.count, samples.len() as u64);
    assert_eq!(w.min, samples[0] as f64 / 1e9);
    assert_eq!(w.max, *samples.last().unwrap() as f64 / 1e9);
    for (q, got) in [(0.5, w.p50), (0.99, w.p99), (0.999, w.p999)] {
        let want = exact(&samples, q) / 1e9;
        assert!((got - want).abs() / want <= 0.01, "p{q}: {got} vs {want}");
    }
}
