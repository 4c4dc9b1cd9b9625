//! Wall time runs from creation to close; busy time only while the span is entered (nested
//! and repeated entries counted once), recorded into its own histogram when enabled.

use std::time::Duration;

use taskwire_metrics::ManualClock;
use tracing_subscriber::prelude::*;

#[test]
fn wall_and_busy() {
    let clock = ManualClock::new();
    let layer = taskwire_metrics::layer()
        .with_clock(clock.clone())
        .with_busy_time(true);
    let metrics = layer.handle();
    let ms = Duration::from_millis;
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let span = tracing::info_span!("poll");
        clock.advance(ms(10)); // waiting: wall only
        {
            let _a = span.enter();
            clock.advance(ms(3));
            let _b = span.enter(); // re-entered: still one busy stretch
            clock.advance(ms(2));
        }
        clock.advance(ms(20)); // waiting again
        span.in_scope(|| clock.advance(ms(4)));
        drop(span);
    });
    let s = metrics.snapshot();
    let get = |metric: &str| s.timer(metric).unwrap_or_else(|| panic!("{metric}"));
    let wall = get("taskwire_span_duration_seconds");
    let busy = get("taskwire_span_busy_seconds");
    assert!(
        (wall.sum_seconds - 0.039).abs() < 1e-12,
        "{}",
        wall.sum_seconds
    );
    assert!(
        (busy.sum_seconds - 0.009).abs() < 1e-12,
        "{}",
        busy.sum_seconds
    );
    assert_eq!(busy.window.max, 0.009);
    assert_eq!(busy.labels, wall.labels);
}

#[test]
fn off_by_default() {
    let layer = taskwire_metrics::layer();
    let metrics = layer.handle();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let _s = tracing::info_span!("poll").entered();
    });
    let s = metrics.snapshot();
    assert!(s
        .timers
        .iter()
        .all(|t| t.metric == "taskwire_span_duration_seconds"));
}
