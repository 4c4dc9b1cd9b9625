//! Every event is counted once under its level (and target, when enabled); ERROR events also
//! by target; events of suppressed threads and taskwire-tasks' own records are not counted.

use std::collections::BTreeMap;

use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use taskwire_metrics::Snapshot;
use tracing_subscriber::prelude::*;

fn counts(s: &Snapshot, metric: &str, label: &str) -> BTreeMap<String, u64> {
    s.counters
        .iter()
        .filter(|c| c.metric == metric)
        .map(|c| (c.labels.get(label).unwrap_or("").to_owned(), c.count))
        .collect()
}

fn emit() {
    for _ in 0..5 {
        tracing::trace!("t");
    }
    for _ in 0..4 {
        tracing::debug!("d");
    }
    for _ in 0..3 {
        tracing::info!(target: "shop::cart", "i");
    }
    let _span = tracing::info_span!("task").entered();
    for _ in 0..2 {
        tracing::warn!("w");
    }
    tracing::error!(target: "shop::pay", "e");
    taskwire_core::suppress::suppressed(|| {
        tracing::error!("from a worker thread: not counted");
    });
}

#[test]
fn counts_per_level() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let layer = taskwire_metrics::layer();
    let metrics = layer.handle();
    metrics::with_local_recorder(&recorder, || {
        let subscriber = tracing_subscriber::registry()
            .with(taskwire_tasks::layer())
            .with(layer);
        tracing::subscriber::with_default(subscriber, emit);
    });
    let s = metrics.snapshot();
    let by_level = counts(&s, "taskwire_events_total", "level");
    let want: BTreeMap<String, u64> = [
        ("trace", 5),
        ("debug", 4),
        ("info", 3),
        ("warn", 2),
        ("error", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    assert_eq!(by_level, want, "task.end records are not counted");
    assert_eq!(
        counts(&s, "taskwire_errors_total", "target"),
        [("shop::pay".to_owned(), 1)].into_iter().collect()
    );

    // The facade saw the same counts.
    let facade: BTreeMap<String, u64> = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(k, ..)| k.key().name() == "taskwire_events_total")
        .map(|(k, _, _, v)| {
            let level = k
                .key()
                .labels()
                .find(|l| l.key() == "level")
                .map(|l| l.value().to_owned())
                .unwrap_or_default();
            let n = match v {
                DebugValue::Counter(n) => n,
                _ => 0,
            };
            (level, n)
        })
        .collect();
    assert_eq!(facade, want);
}

#[test]
fn counts_per_level_and_target() {
    let layer = taskwire_metrics::layer().with_target_labels(true);
    let metrics = layer.handle();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), emit);
    let s = metrics.snapshot();
    let mut by: BTreeMap<(String, String), u64> = BTreeMap::new();
    for c in s
        .counters
        .iter()
        .filter(|c| c.metric == "taskwire_events_total")
    {
        let key = (
            c.labels.get("level").unwrap_or("").to_owned(),
            c.labels.get("target").unwrap_or("").to_owned(),
        );
        *by.entry(key).or_default() += c.count;
    }
    let me = module_path!().to_owned();
    let want: BTreeMap<(String, String), u64> = [
        (("trace".to_owned(), me.clone()), 5),
        (("debug".to_owned(), me.clone()), 4),
        (("info".to_owned(), "shop::cart".to_owned()), 3),
        (("warn".to_owned(), me), 2),
        (("error".to_owned(), "shop::pay".to_owned()), 1),
    ]
    .into_iter()
    .collect();
    assert_eq!(by, want);
}

#[test]
fn counts_from_many_threads_add_up() {
    let layer = taskwire_metrics::layer();
    let metrics = layer.handle();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    std::thread::scope(|scope| {
        for _ in 0..4 {
            let d = dispatch.clone();
            scope.spawn(move || {
                tracing::dispatcher::with_default(&d, || {
                    for _ in 0..10_000 {
                        tracing::info!("i");
                        let _s = tracing::info_span!("job").entered();
                    }
                });
            });
        }
    });
    let s = metrics.snapshot();
    assert_eq!(counts(&s, "taskwire_events_total", "level")["info"], 40_000);
    assert_eq!(s.tasks[0].count, 40_000);
}
