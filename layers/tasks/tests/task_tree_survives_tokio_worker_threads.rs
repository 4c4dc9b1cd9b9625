//! The task tree stays right while futures move between tokio worker threads, through
//! `taskwire_tasks::spawn`, `spawn_blocking` and `spawn_thread`.

use std::collections::HashMap;
use taskwire_test_support::Capture;

use serde_json::Value;
use tracing::Instrument;
use tracing_subscriber::prelude::*;

async fn leaf(i: u32) {
    for _ in 0..20 {
        tokio::task::yield_now().await;
        let ctx = taskwire_tasks::current().expect("inside the leaf task");
        tracing::info!(i, span = %ctx.span_id(), "step");
    }
}

#[test]
fn tree_is_right_across_worker_threads() {
    let cap = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer().all_tasks())
        .with(
            taskwire_json::layer()
                .with_process(true)
                .with_writer(cap.clone()),
        );
    let dispatch = tracing::Dispatch::new(subscriber);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .build()
        .unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        rt.block_on(async {
            let root = tracing::info_span!("root");
            async {
                let mut handles = Vec::new();
                for i in 0..8 {
                    handles.push(taskwire_tasks::spawn(
                        async move {
                            leaf(i).instrument(tracing::info_span!("leaf", i)).await;
                        }
                        .instrument(tracing::info_span!("branch", i)),
                    ));
                }
                handles.push(taskwire_tasks::spawn_blocking(|| {
                    let _b = tracing::info_span!("blocking").entered();
                }));
                for h in handles {
                    h.await.unwrap();
                }
                taskwire_tasks::spawn_thread(|| {
                    let _t = tracing::info_span!("thread").entered();
                })
                .join()
                .unwrap();
            }
            .instrument(root)
            .await;
        });
    });
    drop(rt);

    let lines = cap.json_lines();
    let ends: Vec<&Value> = lines.iter().filter(|l| l["msg"] == "task.end").collect();
    let by_id: HashMap<&str, &Value> = ends
        .iter()
        .map(|e| (e["span_id"].as_str().unwrap(), *e))
        .collect();
    let names: Vec<&Value> = ends.iter().map(|e| &e["task.name"]).collect();
    let root = ends
        .iter()
        .find(|e| e["task.name"] == "root")
        .unwrap_or_else(|| panic!("no root among {names:?}"));
    let trace = root["trace_id"].as_str().unwrap();
    assert_eq!(ends.len(), 1 + 8 + 8 + 1 + 1);
    for e in &ends {
        assert_eq!(e["trace_id"], trace, "{e}");
        let name = e["task.name"].as_str().unwrap();
        let parent_name = e
            .get("parent_span_id")
            .and_then(|p| by_id.get(p.as_str().unwrap()))
            .map(|p| p["task.name"].as_str().unwrap());
        let expected = match name {
            "root" => None,
            "branch" | "blocking" | "thread" => Some("root"),
            "leaf" => Some("branch"),
            other => panic!("unexpected task {other}"),
        };
        assert_eq!(parent_name, expected, "{e}");
        if name == "leaf" {
            let branch = by_id[e["parent_span_id"].as_str().unwrap()];
            assert_eq!(branch["i"], e["i"], "leaf under its own branch");
        }
    }
    // Every step saw its own leaf as the current task, on whichever thread it ran.
    let steps: Vec<&Value> = lines.iter().filter(|l| l["msg"] == "step").collect();
    assert_eq!(steps.len(), 8 * 20);
    for s in &steps {
        assert_eq!(
            s["span"], s["span_id"],
            "current() agrees with the record: {s}"
        );
        assert_eq!(by_id[s["span_id"].as_str().unwrap()]["task.name"], "leaf");
    }
    let threads: std::collections::HashSet<&str> = steps
        .iter()
        .map(|s| s["thread"].as_str().unwrap())
        .collect();
    assert!(!threads.is_empty());
}
