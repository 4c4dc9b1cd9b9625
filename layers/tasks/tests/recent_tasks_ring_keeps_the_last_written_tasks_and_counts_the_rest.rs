//! The recent-tasks ring ([`RecentTasks`]): bounded under a burst from 8 threads, with every
//! task it let go counted; filled with the tasks the record policy writes (the others
//! summarised in them, as in the logs); off unless given to the layer; read back as the
//! `task.end` records the JSON layer writes.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Barrier};

use taskwire_tasks::{RecentTasks, TaskRecords};
use taskwire_test_support::json_line::parse_line;
use tracing_subscriber::prelude::*;

const THREADS: usize = 8;
const PER_THREAD: usize = 2_000;
const CAPACITY: usize = 500;

#[test]
fn an_8_thread_burst_keeps_the_capacity_and_counts_every_task_it_dropped() {
    let recent = RecentTasks::new(CAPACITY);
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::registry().with(taskwire_tasks::layer().with_recent(recent.clone())),
    );
    let start = Arc::new(Barrier::new(THREADS));
    let threads: Vec<_> = (0..THREADS)
        .map(|t| {
            let dispatch = dispatch.clone();
            let start = start.clone();
            std::thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    start.wait();
                    for i in 0..PER_THREAD {
                        let _root = tracing::info_span!("burst", worker = t, i).entered();
                    }
                });
            })
        })
        .collect();
    // a reader copies the ring while it is written: each copy is within the bound, without
    // a task twice
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (recent, done) = (recent.clone(), done.clone());
        std::thread::spawn(move || {
            let mut copies = 0;
            while !done.load(Ordering::Acquire) || copies == 0 {
                let copy = recent.tasks();
                assert!(copy.len() <= CAPACITY);
                let ids: HashSet<u64> = copy.iter().map(|t| t.span_id()).collect();
                assert_eq!(ids.len(), copy.len(), "a copy holds a task twice");
                copies += 1;
            }
            copies
        })
    };
    for t in threads {
        t.join().expect("a burst thread panicked");
    }
    done.store(true, Ordering::Release);
    assert!(reader.join().expect("the reader panicked") > 0);
    let total = (THREADS * PER_THREAD) as u64;
    assert_eq!(recent.ended(), total);
    assert_eq!(recent.len(), CAPACITY);
    assert_eq!(recent.dropped(), total - CAPACITY as u64);
    let tasks = recent.tasks();
    assert_eq!(tasks.len(), CAPACITY);
    let ids: HashSet<u64> = tasks.iter().map(|t| t.span_id()).collect();
    assert_eq!(ids.len(), CAPACITY, "a slot was written twice or torn");
    for t in &tasks {
        assert_eq!(t.name(), "burst");
        assert!(t.parent_span_id().is_none());
        let attrs = t.attributes().expect("the span's fields are kept");
        let v: serde_json::Value = serde_json::from_str(&attrs).expect("attributes are JSON");
        assert!(
            v["worker"].as_u64().is_some() && v["i"].as_u64().is_some(),
            "{attrs}"
        );
    }
    // the ring keeps the newest: what it holds of each thread is the end of that thread's
    // sequence, since one thread's tasks go in in order and the oldest go out first
    let mut by_thread = vec![Vec::new(); THREADS];
    for task in &tasks {
        let attrs = task.attributes().unwrap_or_default();
        let v: serde_json::Value = serde_json::from_str(&attrs).expect("attributes are JSON");
        let (t, i) = (v["worker"].as_u64(), v["i"].as_u64());
        by_thread[t.expect("thread") as usize].push(i.expect("i"));
    }
    for (t, kept) in by_thread.iter_mut().enumerate() {
        kept.sort_unstable();
        let from = (PER_THREAD - kept.len()) as u64;
        assert!(
            kept.iter().copied().eq(from..PER_THREAD as u64),
            "thread {t} kept {} tasks that are not its last ones",
            kept.len()
        );
    }
    // oldest first
    assert!(tasks.windows(2).all(|w| w[0].end() <= w[1].end()));
}

#[test]
fn the_ring_holds_the_tasks_the_record_policy_writes_with_their_summaries() {
    let recent = RecentTasks::new(100).with_service("front");
    let subscriber =
        tracing_subscriber::registry().with(taskwire_tasks::layer().with_recent(recent.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let _root = tracing::info_span!("request", route = "/orders").entered();
        for _ in 0..3 {
            let _quick = tracing::info_span!("validate").entered();
        }
        tracing::info_span!("charge").in_scope(|| {
            tracing::error!("card declined");
        });
    });
    let tasks = recent.tasks();
    let names: Vec<&str> = tasks.iter().map(|t| t.name()).collect();
    assert_eq!(
        names,
        ["charge", "request"],
        "quick children are summarised"
    );
    let (charge, request) = (&tasks[0], &tasks[1]);
    assert!(charge.failed());
    assert_eq!(charge.failure(), Some("card declined"));
    assert_eq!(charge.parent_span_id(), Some(request.span_id()));
    assert_eq!(charge.trace_id(), request.trace_id());
    assert!(!request.failed());
    assert_eq!(request.failed_children(), 1);
    assert_eq!(request.children(), 3);
    assert!(request
        .children_summary()
        .is_some_and(|s| s.contains("validate")));
    assert_eq!(
        request.attributes().as_deref(),
        Some(r#"{"route":"/orders"}"#)
    );
    assert_eq!(recent.dropped(), 0);

    // read back as the records the JSON layer writes
    let mut out = Vec::new();
    recent.write_records(&mut out);
    let text = String::from_utf8(out).expect("records are UTF-8");
    let lines: Vec<_> = text.lines().map(parse_line).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["msg"], "task.end");
    assert_eq!(lines[1]["target"], "taskwire::tasks");
    assert_eq!(lines[1]["service"], "front");
    assert_eq!(lines[1]["task.name"], "request");
    assert_eq!(lines[1]["task.children"], 3);
    assert_eq!(lines[1]["route"], "/orders");
    assert_eq!(lines[0]["task.outcome"], "failed");
    assert_eq!(lines[0]["task.failure"], "card declined");
    assert_eq!(lines[0]["parent_span_id"], lines[1]["span_id"]);
    assert_eq!(lines[0]["trace_id"], format!("{:032x}", request.trace_id()));
}

#[test]
fn every_task_is_kept_under_all_tasks_and_none_under_records_off() {
    for (records, kept) in [(TaskRecords::All, 2), (TaskRecords::Off, 0)] {
        let recent = RecentTasks::new(10);
        let layer = taskwire_tasks::layer()
            .with_records(records)
            .with_recent(recent.clone());
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            let _root = tracing::info_span!("root").entered();
            let _child = tracing::info_span!("child").entered();
        });
        assert_eq!(recent.len(), kept, "{records:?}");
    }
}

#[test]
fn without_a_ring_the_layer_keeps_nothing() {
    let layer = taskwire_tasks::layer();
    assert!(format!("{layer:?}").contains("recent: None"));
    let unused = RecentTasks::new(10);
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let _root = tracing::info_span!("root").entered();
    });
    assert_eq!((unused.len(), unused.ended()), (0, 0));
}

#[test]
fn fields_named_like_record_keys_do_not_overwrite_the_record() {
    let recent = RecentTasks::new(4);
    let subscriber =
        tracing_subscriber::registry().with(taskwire_tasks::layer().with_recent(recent.clone()));
    tracing::subscriber::with_default(subscriber, || {
        let _root =
            tracing::info_span!("root", msg = "<script>", trace_id = 1, "q\"uote" = 2).entered();
    });
    let mut out = Vec::new();
    recent.write_records(&mut out);
    let text = String::from_utf8(out).expect("records are UTF-8");
    let line = parse_line(text.trim_end());
    assert_eq!(line["msg"], "task.end");
    assert_eq!(line["fields.msg"], "<script>");
    assert_eq!(line["fields.trace_id"], 1);
    assert_eq!(line["q\"uote"], 2);
    assert_eq!(line["trace_id"].as_str().map(str::len), Some(32));
}

#[test]
fn a_ring_of_capacity_zero_keeps_nothing_and_counts_every_task() {
    let recent = RecentTasks::new(0);
    let subscriber =
        tracing_subscriber::registry().with(taskwire_tasks::layer().with_recent(recent.clone()));
    tracing::subscriber::with_default(subscriber, || {
        for _ in 0..3 {
            let _root = tracing::info_span!("root").entered();
        }
    });
    assert_eq!((recent.len(), recent.ended(), recent.dropped()), (0, 3, 3));
}
