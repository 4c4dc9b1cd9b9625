//! The default record policy (`TaskRecords::Significant`): roots, process hops (imported or
//! exported context), failed and slow tasks write `task.end`, and so does every ancestor of
//! one of them, so each record's parent has a record; every other task is counted in the
//! record of its nearest written ancestor (`task.children`, `task.children_summary`).
//! `task.start` follows the same policy.

mod support;

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;
use support::{run, run_over_capture_layer, spin};
use taskwire_core::task_record::children;
use taskwire_test_support::Capture;

/// The `task.end` records by task name.
fn ends(cap: &Capture) -> HashMap<String, Value> {
    cap.task_ends()
        .into_iter()
        .map(Value::Object)
        .map(|e| (e["task.name"].as_str().unwrap_or("?").to_owned(), e))
        .collect()
}

/// `(name, count)` of each group of a record's `task.children_summary`.
fn groups(e: &Value) -> Vec<(String, u64)> {
    children::parse(e["task.children_summary"].as_str().unwrap_or(""))
        .map(|g| (g.name.to_owned(), g.count))
        .collect()
}

#[test]
fn quick_tasks_are_summarised_in_the_nearest_written_ancestor_with_their_own_descendants() {
    let cap = run(taskwire_tasks::layer(), || {
        let _root = tracing::info_span!("handle_order").entered();
        for _ in 0..3 {
            let _v = tracing::info_span!("validate").entered();
        }
        let _load = tracing::info_span!("load").entered();
        for _ in 0..2 {
            let _q = tracing::info_span!("db.query").entered();
        }
    });
    let ends = ends(&cap);
    assert_eq!(ends.len(), 1, "{ends:?}");
    let root = &ends["handle_order"];
    assert_eq!(root["task.children"], 6);
    assert_eq!(
        groups(root),
        [
            ("validate".to_owned(), 3),
            ("load".to_owned(), 1),
            ("db.query".to_owned(), 2)
        ]
    );
    let total: u64 = children::parse(root["task.children_summary"].as_str().unwrap_or(""))
        .map(|g| g.total_us)
        .sum();
    assert!(total <= 3 * root["task.duration_us"].as_u64().unwrap_or(0));
}

#[test]
fn a_failed_task_and_its_ancestors_write_records_so_its_parent_links() {
    let cap = run(taskwire_tasks::layer(), || {
        let _root = tracing::info_span!("handle_order").entered();
        let _charge = tracing::info_span!("charge").entered();
        {
            let _ok = tracing::info_span!("tokenize").entered();
        }
        let _bank = tracing::info_span!("call_bank").entered();
        tracing::error!("declined");
    });
    let ends = ends(&cap);
    let (root, charge, bank) = (&ends["handle_order"], &ends["charge"], &ends["call_bank"]);
    assert_eq!(bank["task.outcome"], "failed");
    assert_eq!(bank["parent_span_id"], charge["span_id"]);
    assert_eq!(charge["parent_span_id"], root["span_id"]);
    assert_eq!(charge["task.outcome"], "succeeded");
    assert_eq!(charge["task.failed_children"], 1);
    assert_eq!(groups(charge), [("tokenize".to_owned(), 1)]);
    assert!(root.get("task.children").is_none());
    assert!(!ends.contains_key("tokenize"));
}

#[test]
fn children_closed_in_and_out_of_their_entered_parent_are_summarised_in_close_order() {
    summarised_in_close_order(&run(taskwire_tasks::layer(), children_in_and_out_of_root));
}

#[test]
fn children_are_summarised_in_close_order_over_a_capture_layer() {
    summarised_in_close_order(&run_over_capture_layer(
        taskwire_tasks::layer(),
        children_in_and_out_of_root,
    ));
}

/// The children of one root, closed in and out of their entered parent, on this thread and
/// another.
fn children_in_and_out_of_root() {
    let root = tracing::info_span!("root");
    let early = tracing::info_span!(parent: &root, "early");
    {
        let _r = root.enter();
        let _a = tracing::info_span!("a").entered();
    }
    // closed while its parent is not entered
    drop(early);
    let _r = root.enter();
    // closed on another thread while its parent is entered here
    let dispatch = tracing::dispatcher::get_default(Clone::clone);
    std::thread::scope(|s| {
        s.spawn(|| {
            tracing::dispatcher::with_default(&dispatch, || {
                let _t = tracing::info_span!(parent: &root, "elsewhere").entered();
            });
        });
    });
    {
        let _b = tracing::info_span!("b").entered();
    }
    // closed inside a re-entry of the parent, after `b`
    let _again = root.enter();
    let _q = tracing::info_span!("q").entered();
    let _c = tracing::info_span!(parent: &root, "c").entered();
}

/// The root's record of [`children_in_and_out_of_root`] summarises its children in the order
/// they closed.
fn summarised_in_close_order(cap: &Capture) {
    let ends = ends(cap);
    assert_eq!(ends.len(), 1, "{ends:?}");
    let root = &ends["root"];
    assert_eq!(root["task.children"], 6);
    let names: Vec<String> = groups(root).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["a", "early", "elsewhere", "b", "c", "q"]);
}

#[test]
fn tasks_slower_than_the_threshold_write_records() {
    let layer = taskwire_tasks::layer().with_slow_threshold(Duration::from_millis(20));
    let cap = run(layer, || {
        let _root = tracing::info_span!("root").entered();
        {
            let _s = tracing::info_span!("slow").entered();
            spin(Duration::from_millis(25));
        }
        let _q = tracing::info_span!("quick").entered();
    });
    let ends = ends(&cap);
    assert!(
        ends.contains_key("slow") && !ends.contains_key("quick"),
        "{ends:?}"
    );
    assert_eq!(groups(&ends["root"]), [("quick".to_owned(), 1)]);
}

#[test]
fn process_hops_write_records_both_ways() {
    let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let cap = run(taskwire_tasks::layer(), || {
        let _root = tracing::info_span!("job").entered();
        {
            // a helper that sends its context to another process
            let _call = tracing::info_span!("notify").entered();
            let mut headers = HashMap::<String, String>::new();
            assert!(taskwire_tasks::inject_current(&mut headers));
        }
        {
            let _quiet = tracing::info_span!("quiet").entered();
        }
        // a task continued from another process, nested in a local span
        let span = taskwire_tasks::import(header, tracing::info_span!("consume"));
        let _c = span.enter();
    });
    let ends = ends(&cap);
    assert!(ends.contains_key("notify"), "{ends:?}");
    assert_eq!(ends["consume"]["task.remote_parent"], true);
    assert_eq!(groups(&ends["job"]), [("quiet".to_owned(), 1)]);
}

#[test]
fn all_tasks_writes_every_record_without_summaries() {
    let cap = run(taskwire_tasks::layer().all_tasks(), || {
        let _root = tracing::info_span!("root").entered();
        let _c = tracing::info_span!("child").entered();
    });
    let ends = ends(&cap);
    assert_eq!(ends.len(), 2);
    assert!(ends["root"].get("task.children").is_none());
}

#[test]
fn task_start_follows_the_policy() {
    let cap = run(taskwire_tasks::layer().with_task_start(true), || {
        let _root = tracing::info_span!("root").entered();
        let _c = tracing::info_span!("helper").entered();
    });
    let starts: Vec<String> = cap
        .json_lines()
        .iter()
        .filter(|r| r["msg"] == "task.start")
        .filter_map(|r| r["task.name"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(starts, ["root"]);
}
