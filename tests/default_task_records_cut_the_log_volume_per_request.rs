//! On the request workload of `benches/request.rs`, the default taskwire stack writes at most a
//! quarter more bytes per request than `fmt().json()` with the current span and the span list
//! (stack `B` of the bench), and at most a fifth more than the floor of its job (`floor`: what
//! any stack writing the same content, ids and task records must write; with the bench's
//! `service` set it is itself above B, see docs/benchmarks.md, "Log volume"). The tasks layer's default record policy writes one
//! `task.end` per request (the request's, with its three quick child tasks summarised in it)
//! instead of four, plus the failed task on the failing request (1 in 10); a record leaves out
//! zero counters; and the JSON layer's default record leaves out the source location and
//! process keys, as `fmt().json()` does.
//! The bytes and lines per request of each stack, and the lines of one failing request of B
//! and of the default stack, are printed for docs/benchmarks.md:
//!
//! ```text
//! cargo test --test default_task_records_cut_the_log_volume_per_request -- --nocapture
//! ```
//!
//! Bytes do not depend on optimisation, so a debug build measures them. The workload runs on a
//! thread named `main`, as in the bench (taskwire writes the thread's name when asked to).
#![cfg(all(feature = "tickets", feature = "metrics"))]

#[path = "../benches/support/request_workload.rs"]
mod request_workload;

use std::time::Duration;

use request_workload::{request, taskwire_with};
use taskwire_test_support::{Capture, TempDir};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

const REQUESTS: u64 = 1_000;

/// The request whose lines are printed: a failing one.
const SHOWN: u64 = 10;

/// What a stack wrote for the workload.
struct Volume {
    bytes: f64,
    /// The floor's bytes per request for these lines ([`floor`]), with and without `service`.
    floor: (f64, f64),
    lines: f64,
    /// The lines of request [`SHOWN`].
    shown: Vec<String>,
}

/// Runs the workload through `dispatch` into `out`, on a thread named `main` as in the bench.
fn run(dispatch: &Dispatch, out: &Capture) -> Volume {
    let dispatch = dispatch.clone();
    std::thread::Builder::new()
        .name("main".into())
        .spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || {
                for n in 1..=REQUESTS {
                    request(n);
                }
            })
        })
        .expect("thread")
        .join()
        .expect("the workload ran");
    let text = out.text();
    let n = REQUESTS as f64;
    let id = format!("\"request_id\":{SHOWN}");
    Volume {
        bytes: text.len() as f64 / n,
        floor: (floor(&text, true), floor(&text, false)),
        lines: text.lines().count() as f64 / n,
        shown: text
            .lines()
            .filter(|l| l.contains(&format!("{id},")) || l.contains(&format!("{id}}}")))
            .map(str::to_owned)
            .collect(),
    }
}

/// The bytes per request of the *floor*: what the default stack writes, less every key the job
/// does not need. The job is `fmt().json()`'s content (time, level, target, message, the event's
/// fields, the fields of every enclosing span once), the W3C ids that link a line to its task
/// (`trace_id`, `span_id`), the configured `service`, and one record per kept task (the
/// request; the failed task on a failing request) with what `taskwire tree` needs and no event
/// line carries: the task's name, outcome, failure, duration, its summarised children, and its
/// parent. Left out: `parent_span_id` on events, the ticket fingerprint, and on records the
/// span fields, `task.target`, `task.busy_us` and the counters. Each line is re-encoded compactly
/// by `serde_json`, which encodes values as the JSON layer does.
fn floor(lines: &str, service: bool) -> f64 {
    const RECORD_KEEPS: [&str; 13] = [
        "ts",
        "level",
        "target",
        "msg",
        "task.name",
        "task.outcome",
        "task.duration_us",
        "task.failure",
        "task.children",
        "task.children_summary",
        "trace_id",
        "span_id",
        "parent_span_id",
    ];
    let mut bytes = 0;
    for line in lines.lines() {
        let mut record: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(line).expect("a JSON line");
        if record.get("msg").and_then(|m| m.as_str()) == Some("task.end") {
            record.retain(|k, _| RECORD_KEEPS.contains(&k.as_str()) || k == "service");
        } else {
            record.remove("parent_span_id");
            record.remove("ticket.fingerprint");
        }
        if !service {
            record.remove("service");
        }
        bytes += serde_json::to_string(&record).expect("encodes").len() + 1;
    }
    bytes as f64 / REQUESTS as f64
}

/// The taskwire stack of the bench with `tasks` and `json` as its tasks and JSON layers.
fn taskwire(
    tasks: taskwire_tasks::TasksLayer,
    json: taskwire_json::JsonLayer,
    name: &str,
) -> Volume {
    let dir = TempDir::new(name);
    let out = Capture::new();
    let store = taskwire_tickets::Sqlite::open(dir.join("tickets.db")).expect("store");
    let (tickets, _guard) = taskwire_tickets::layer(store)
        .with_service("bench")
        .with_flush_interval(Duration::from_secs(3600))
        .build();
    let json = json.with_service("bench").with_writer(out.clone());
    run(&taskwire_with(tasks, tickets, json), &out)
}

fn b() -> Volume {
    let out = Capture::new();
    let b = Dispatch::new(
        tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_span_list(true)
                .with_writer(out.clone()),
        ),
    );
    run(&b, &out)
}

#[test]
fn the_default_stack_writes_at_most_a_quarter_more_bytes_per_request_than_fmt_json() {
    let b = b();
    let d = taskwire(taskwire_tasks::layer(), taskwire_json::layer(), "lv-d");
    let a = taskwire(
        taskwire_tasks::layer().all_tasks(),
        taskwire_json::layer(),
        "lv-a",
    );
    let full = taskwire(
        taskwire_tasks::layer(),
        taskwire_json::layer()
            .with_source_location(true)
            .with_process(true),
        "lv-f",
    );

    for (name, v) in [("B", &b), ("taskwire, default settings", &d)] {
        println!("{name}, request {SHOWN}:");
        for line in &v.shown {
            println!("  ({} bytes) {line}", line.len() + 1);
        }
    }
    println!("| stack | bytes/request | lines/request | bytes × B |");
    println!("|---|---:|---:|---:|");
    for (name, v) in [
        ("B: `fmt().json()`, current span + span list", &b),
        ("taskwire, default settings", &d),
        ("taskwire, `all_tasks()`", &a),
        (
            "taskwire, `with_source_location(true).with_process(true)`",
            &full,
        ),
    ] {
        println!(
            "| {name} | {:.0} | {:.1} | {:.2}× |",
            v.bytes,
            v.lines,
            v.bytes / b.bytes
        );
    }
    let (with_service, without) = d.floor;
    println!(
        "| floor of the default stack's job (see `floor`), `service` set as above | {with_service:.0} | {:.1} | {:.2}× |",
        d.lines,
        with_service / b.bytes
    );
    println!(
        "| the same floor, no `service` configured | {without:.0} | {:.1} | {:.2}× |",
        d.lines,
        without / b.bytes
    );
    // the events, the request's record, and on the failing request (1 in 10) the failed task
    assert!(
        (d.lines - (b.lines + 1.1)).abs() < 0.01,
        "{} lines per request",
        d.lines
    );
    assert!(d.bytes < a.bytes && a.lines - d.lines > 2.8);
    assert!(d.bytes < full.bytes);
    assert!(
        d.bytes <= 1.25 * b.bytes,
        "{:.0} bytes per request, B writes {:.0}",
        d.bytes,
        b.bytes
    );
    // what the default record adds to the floor (parent ids on events, the ticket fingerprint,
    // and a task record that can be read alone) stays within a fifth of it
    assert!(
        d.bytes <= 1.2 * with_service,
        "{:.0} bytes per request, the floor is {with_service:.0}",
        d.bytes
    );
}
