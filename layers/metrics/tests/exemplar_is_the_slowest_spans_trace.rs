//! The exemplar of a series (and of its task row) is the slowest span in the window, with the
//! trace id and span id taskwire gave it, so it can be found in the logs.

use std::time::Duration;

use taskwire_metrics::ManualClock;
use tracing_subscriber::prelude::*;

#[test]
fn slowest_span_with_its_ids() {
    let clock = ManualClock::new();
    let layer = taskwire_metrics::layer().with_clock(clock.clone());
    let metrics = layer.handle();
    let mut slowest = None;
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer())
        .with(layer);
    tracing::subscriber::with_default(subscriber, || {
        for ms in [3_u64, 9, 70, 5, 12] {
            let _s = tracing::info_span!("render").entered();
            if ms == 70 {
                slowest = taskwire_tasks::current();
            }
            clock.advance(Duration::from_millis(ms));
        }
    });
    let slowest = slowest.expect("task context");
    let s = metrics.snapshot();
    let e = s.tasks[0].exemplar.clone().expect("exemplar");
    assert_eq!(e.seconds, 0.07);
    assert_eq!(
        e.trace_id.as_deref(),
        Some(slowest.trace_id().to_string().as_str())
    );
    assert_eq!(
        e.span_id.as_deref(),
        Some(slowest.span_id().to_string().as_str())
    );
    assert_eq!(s.timers[0].exemplar, Some(e));

    // Once the window has moved past it, the exemplar goes.
    clock.advance(Duration::from_secs(120));
    assert_eq!(metrics.snapshot().tasks[0].exemplar, None);
}

#[test]
fn without_a_capturing_layer_there_are_no_ids() {
    let layer = taskwire_metrics::layer();
    let metrics = layer.handle();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let _s = tracing::info_span!("render").entered();
    });
    let e = metrics.snapshot().tasks[0].exemplar.clone();
    // The sample may be under a nanosecond-resolution clock's first tick; if kept, no ids.
    if let Some(e) = e {
        assert_eq!(e.trace_id, None);
    }
}
