//! With a capture layer below it and the process clock, the metrics layer leaves a span's timing
//! to the capture (started when the span's data is created, busy time kept by the capture) and
//! records the same wall and busy time it would keep itself; a second metrics layer over the
//! same capture records nothing.

use std::time::Duration;

use tracing_subscriber::prelude::*;

#[test]
fn wall_runs_from_creation_and_busy_only_while_entered() {
    let layer = taskwire_metrics::layer().with_busy_time(true);
    let metrics = layer.handle();
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_core::span::capture())
        .with(layer);
    tracing::subscriber::with_default(subscriber, || {
        let span = tracing::info_span!("poll");
        std::thread::sleep(Duration::from_millis(30)); // waiting: wall only
        {
            let _a = span.enter();
            let _b = span.enter(); // re-entered: still one busy stretch
            std::thread::sleep(Duration::from_millis(5));
        }
        drop(span);
    });
    let s = metrics.snapshot();
    let get = |metric: &str| s.timer(metric).unwrap_or_else(|| panic!("{metric}"));
    let wall = get("taskwire_span_duration_seconds");
    let busy = get("taskwire_span_busy_seconds");
    assert_eq!((wall.count, busy.count), (1, 1));
    assert_eq!(busy.labels, wall.labels);
    assert!(wall.sum_seconds >= 0.035, "wall {}", wall.sum_seconds);
    assert!(busy.sum_seconds >= 0.005, "busy {}", busy.sum_seconds);
    assert!(
        busy.sum_seconds <= wall.sum_seconds - 0.03,
        "busy {} counts the wait (wall {})",
        busy.sum_seconds,
        wall.sum_seconds
    );
}

#[test]
fn a_second_metrics_layer_over_one_capture_records_nothing() {
    let (a, b) = (taskwire_metrics::layer(), taskwire_metrics::layer());
    let (ha, hb) = (a.handle(), b.handle());
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_core::span::capture())
        .with(a)
        .with(b);
    tracing::subscriber::with_default(subscriber, || {
        let _s = tracing::info_span!("checkout").entered();
    });
    assert_eq!(ha.snapshot().tasks[0].count, 1);
    assert!(hb.snapshot().tasks.is_empty());
}
