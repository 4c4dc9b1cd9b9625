//! Past the cap on label sets, new label sets share one `overflow="true"` series (in-app and
//! through the facade), each refused set is counted once, and nothing else grows.

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use metrics_util::MetricKind;
use tracing_subscriber::prelude::*;

#[test]
fn overflow_series_and_dropped_counter() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let layer = taskwire_metrics::layer()
        .with_label_fields(["user"])
        .with_max_label_sets(3);
    let metrics = layer.handle();
    metrics::with_local_recorder(&recorder, || {
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            for round in 0..5 {
                for user in 0..10 {
                    let _s = tracing::info_span!("login", user).entered();
                    let _ = round;
                }
            }
        });
    });
    assert_eq!(metrics.span_label_sets(), 3);
    let s = metrics.snapshot();
    let overflow = s
        .timers
        .iter()
        .find(|t| t.labels.get("overflow") == Some("true"))
        .expect("overflow series");
    assert_eq!(overflow.count, 7 * 5);
    assert_eq!(s.timers.len(), 4);
    let kept: u64 = s
        .timers
        .iter()
        .filter(|t| t.labels.get("overflow").is_none())
        .map(|t| t.count)
        .sum();
    assert_eq!(kept, 3 * 5);
    let dropped = s
        .counters
        .iter()
        .find(|c| c.metric == "taskwire_metrics_dropped_label_sets_total")
        .expect("dropped counter");
    assert_eq!(dropped.count, 7, "each refused label set counted once");
    assert_eq!(
        dropped.labels.get("metric"),
        Some("taskwire_span_duration_seconds")
    );
    let overflow_task = s.tasks.iter().find(|t| t.name == "(overflow)").unwrap();
    assert_eq!(overflow_task.count, 35);

    // The facade saw the same: 3 label sets, the overflow series, the dropped counter.
    let facade = snapshotter.snapshot().into_vec();
    let histograms: Vec<_> = facade
        .iter()
        .filter(|(k, ..)| {
            k.kind() == MetricKind::Histogram && k.key().name() == "taskwire_span_duration_seconds"
        })
        .collect();
    assert_eq!(histograms.len(), 4);
    let overflow_samples = histograms
        .iter()
        .find(|(k, ..)| {
            k.key()
                .labels()
                .any(|l| l.key() == "overflow" && l.value() == "true")
        })
        .map(|(_, _, _, v)| match v {
            DebugValue::Histogram(v) => v.len(),
            _ => 0,
        });
    assert_eq!(overflow_samples, Some(35));
    let dropped = facade
        .iter()
        .find(|(k, ..)| k.key().name() == "taskwire_metrics_dropped_label_sets_total")
        .map(|(_, _, _, v)| v);
    assert_eq!(dropped, Some(&DebugValue::Counter(7)));
}

#[test]
fn event_targets_are_capped_too() {
    let layer = taskwire_metrics::layer()
        .with_target_labels(true)
        .with_max_label_sets(2);
    let metrics = layer.handle();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        tracing::info!(target: "a", "x");
        tracing::info!(target: "b", "x");
        tracing::info!(target: "c", "x");
        tracing::warn!(target: "d", "x");
    });
    let s = metrics.snapshot();
    let events: Vec<_> = s
        .counters
        .iter()
        .filter(|c| c.metric == "taskwire_events_total")
        .collect();
    assert_eq!(events.len(), 3);
    let overflow = events
        .iter()
        .find(|c| c.labels.get("overflow") == Some("true"))
        .unwrap();
    assert_eq!(overflow.count, 2);
}

/// One name's high-cardinality label fills the cap; a task name first seen afterwards still
/// gets its own series (from the reserve), while further label sets of a present name go to
/// overflow.
#[test]
fn a_task_name_first_seen_past_the_cap_gets_its_own_series() {
    let layer = taskwire_metrics::layer()
        .with_label_fields(["user"])
        .with_max_label_sets(3);
    let metrics = layer.handle();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for user in 0..10 {
            let _s = tracing::info_span!("login", user).entered();
        }
        let _s = tracing::info_span!("checkout", user = 1).entered();
        drop(_s);
        let _s = tracing::info_span!("checkout", user = 2).entered();
    });
    let s = metrics.snapshot();
    let checkout: Vec<_> = s
        .timers
        .iter()
        .filter(|t| t.labels.get("name") == Some("checkout"))
        .collect();
    assert_eq!(checkout.len(), 1, "{:#?}", s.timers);
    assert_eq!(checkout[0].labels.get("user"), Some("1"));
    let overflow = s
        .timers
        .iter()
        .find(|t| t.labels.get("overflow") == Some("true"))
        .expect("overflow series");
    assert_eq!(overflow.count, 7 + 1, "7 logins and the second checkout");
    assert_eq!(metrics.span_label_sets(), 4);
}
