//! An `.instrument()`ed future keeps its span's fields (and trace id) on every event, also
//! after the multi-thread runtime moved it to another worker thread.

mod support;

use taskwire_test_support::json_line;
use taskwire_test_support::Capture;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use tracing::instrument::WithSubscriber;
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;

/// Upper bound on iterations; the loop stops as soon as the task ran on two workers.
const MAX_ROUNDS: usize = 100_000;

#[test]
fn instrumented_future_keeps_span_fields_across_worker_threads() {
    let buf = Capture::default();
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::registry().with(support::json(&buf).with_process(true)),
    );

    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .thread_name_fn(|| format!("tw-worker-{}", NEXT.fetch_add(1, Ordering::Relaxed)))
        .build()
        .expect("runtime");

    let span = tracing::dispatcher::with_default(&dispatch, || {
        tracing::info_span!("job", job_id = 42, kind = "batch")
    });
    let task = async {
        let mut threads = HashSet::new();
        for round in 0..MAX_ROUNDS {
            let name = std::thread::current().name().map(str::to_owned);
            threads.insert(name);
            tracing::info!(round, "tick");
            if threads.len() > 1 {
                break;
            }
            // Completing on the blocking pool wakes the task from outside the workers, so any
            // idle worker may pick it up; yielding lets others steal it.
            tokio::task::spawn_blocking(|| ())
                .await
                .expect("blocking task");
            tokio::task::yield_now().await;
        }
        tracing::info!("done");
    }
    .instrument(span)
    .with_subscriber(dispatch.clone());
    rt.block_on(async { tokio::spawn(task).await.expect("task") });
    drop(rt);

    let records = buf.records();
    assert!(records.len() >= 3, "{records:?}");
    let threads: HashSet<&str> = records
        .iter()
        .map(|r| json_line::str_of(r, "thread"))
        .collect();
    assert!(
        threads.len() >= 2,
        "the task never moved between workers in {MAX_ROUNDS} rounds: {threads:?}"
    );
    assert!(
        threads.iter().all(|t| t.starts_with("tw-worker-")),
        "{threads:?}"
    );
    let trace_id = json_line::str_of(&records[0], "trace_id");
    let span_id = json_line::str_of(&records[0], "span_id");
    for r in &records {
        assert_eq!(r["job_id"], json!(42), "{r:?}");
        assert_eq!(r["kind"], json!("batch"), "{r:?}");
        assert_eq!(json_line::str_of(r, "trace_id"), trace_id);
        assert_eq!(json_line::str_of(r, "span_id"), span_id);
    }
    assert_eq!(records.last().map(|r| &r["msg"]), Some(&json!("done")));
}
