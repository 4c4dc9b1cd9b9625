//! Slow-span warnings: off by default; when on, a span slower than its series' current p99
//! raises one WARN event (target `taskwire::metrics`, inside the span), at most once per
//! interval per series.

use std::time::Duration;
use taskwire_test_support::Capture;

use taskwire_metrics::{ManualClock, SlowSpans};
use tracing_subscriber::prelude::*;

fn run(slow: Option<SlowSpans>) -> Vec<serde_json::Value> {
    let clock = ManualClock::new();
    let mut layer = taskwire_metrics::layer().with_clock(clock.clone());
    if let Some(s) = slow {
        layer = layer.with_slow_spans(s);
    }
    let sink = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(layer)
        .with(taskwire_json::layer().with_writer(sink.clone()));
    let span = |d: Duration| {
        let _s = tracing::info_span!("query", table = "users").entered();
        clock.advance(d);
    };
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..200 {
            span(Duration::from_micros(900 + i));
        }
        // The window's p99 is refreshed when the next slot starts.
        clock.advance(Duration::from_secs(10));
        span(Duration::from_millis(1)); // normal
        span(Duration::from_millis(50)); // slow: warned
        span(Duration::from_millis(60)); // slow, but within the interval
        clock.advance(Duration::from_secs(61));
        // The first samples left the window: it needs enough samples again.
        span(Duration::from_millis(70)); // slow, too few samples in the window
        for i in 0..200 {
            span(Duration::from_micros(900 + i));
        }
        clock.advance(Duration::from_secs(10));
        span(Duration::from_millis(80)); // slow again, after the interval
    });
    sink.json_lines()
        .into_iter()
        .filter(|v| v["target"] == "taskwire::metrics")
        .collect()
}

#[test]
fn off_by_default() {
    assert!(run(None).is_empty());
}

#[test]
fn warns_rate_limited() {
    let warnings = run(Some(
        SlowSpans::p99().with_interval(Duration::from_secs(60)),
    ));
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    let w = &warnings[0];
    assert_eq!(w["level"], "WARN");
    assert_eq!(w["task.name"], "query");
    assert_eq!(
        w["table"], "users",
        "the warning is an event inside the slow span"
    );
    assert!((w["duration_seconds"].as_f64().unwrap() - 0.05).abs() < 1e-9);
    let p99 = w["p99_seconds"].as_f64().unwrap();
    assert!((0.00105..0.00112).contains(&p99), "{p99}");
    assert!((warnings[1]["duration_seconds"].as_f64().unwrap() - 0.08).abs() < 1e-9);
}

#[test]
fn needs_enough_samples() {
    let warnings = run(Some(SlowSpans::p99().with_min_samples(1_000)));
    assert!(warnings.is_empty());
}
