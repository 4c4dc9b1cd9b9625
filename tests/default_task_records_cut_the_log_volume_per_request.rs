//! On the request workload of `benches/request.rs`, the tasks layer's default record policy
//! writes one `task.end` per request (the request's, with its three quick child tasks
//! summarised in it) instead of four, plus the failed task on the failing request (1 in 10);
//! every task's record (`all_tasks()`) writes three lines more per request. The bytes and lines
//! per request of each stack, beside `fmt().json()` with the current span and the span list
//! (stack `B` of the bench), are printed for docs/benchmarks.md:
//!
//! ```text
//! cargo test --test default_task_records_cut_the_log_volume_per_request -- --nocapture
//! ```
//!
//! Bytes do not depend on optimisation, so a debug build measures them. The workload runs on a
//! thread named `main`, as in the bench (taskwire writes the thread's name).

#[path = "../benches/support/request_workload.rs"]
mod request_workload;

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use request_workload::{request, taskwire_with};
use taskwire_json::Key;
use taskwire_test_support::TempDir;
use tracing::Dispatch;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

const REQUESTS: u64 = 1_000;

/// Counts the bytes and lines it is given.
#[derive(Clone, Default)]
struct Counting(Arc<(AtomicU64, AtomicU64)>);

impl io::Write for &Counting {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let lines = buf.iter().filter(|b| **b == b'\n').count() as u64;
        self.0 .0.fetch_add(buf.len() as u64, Ordering::Relaxed);
        self.0 .1.fetch_add(lines, Ordering::Relaxed);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Counting {
    type Writer = &'a Counting;
    fn make_writer(&'a self) -> &'a Counting {
        self
    }
}

/// Bytes and lines per request written through `dispatch` into `out`, on a thread named
/// `main` as in the bench (taskwire writes the thread's name).
fn per_request(dispatch: &Dispatch, out: &Counting) -> (f64, f64) {
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
    let n = REQUESTS as f64;
    (
        out.0 .0.load(Ordering::Relaxed) as f64 / n,
        out.0 .1.load(Ordering::Relaxed) as f64 / n,
    )
}

fn taskwire(
    tasks: taskwire_tasks::TasksLayer,
    json: taskwire_json::JsonLayer,
    name: &str,
) -> (f64, f64) {
    let dir = TempDir::new(name);
    let out = Counting::default();
    let store = taskwire_tickets::Sqlite::open(dir.join("tickets.db")).expect("store");
    let (tickets, _guard) = taskwire_tickets::layer(store)
        .with_service("bench")
        .with_flush_interval(Duration::from_secs(3600))
        .build();
    let json = json.with_service("bench").with_writer(out.clone());
    per_request(&taskwire_with(tasks, tickets, json), &out)
}

#[test]
fn the_default_policy_writes_one_task_record_per_request_and_summarises_the_rest() {
    let b_out = Counting::default();
    let b = Dispatch::new(
        tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .json()
                .with_current_span(true)
                .with_span_list(true)
                .with_writer(b_out.clone()),
        ),
    );
    let (b_bytes, b_lines) = per_request(&b, &b_out);

    let (d_bytes, d_lines) = taskwire(taskwire_tasks::layer(), taskwire_json::layer(), "lv-d");
    let (a_bytes, a_lines) = taskwire(
        taskwire_tasks::layer().all_tasks(),
        taskwire_json::layer(),
        "lv-a",
    );
    // what the JSON layer's location and process keys weigh (B writes neither)
    let lean = [
        Key::File,
        Key::Line,
        Key::Module,
        Key::Thread,
        Key::Pid,
        Key::Host,
    ]
    .into_iter()
    .fold(
        taskwire_json::layer(),
        taskwire_json::JsonLayer::without_key,
    );
    let (l_bytes, l_lines) = taskwire(taskwire_tasks::layer(), lean, "lv-l");

    println!("| stack | bytes/request | lines/request | bytes × B |");
    println!("|---|---:|---:|---:|");
    for (name, bytes, lines) in [
        (
            "B: `fmt().json()`, current span + span list",
            b_bytes,
            b_lines,
        ),
        ("taskwire, default record policy", d_bytes, d_lines),
        ("taskwire, `all_tasks()`", a_bytes, a_lines),
        (
            "taskwire, default policy, JSON without file/line/module/thread/pid/host",
            l_bytes,
            l_lines,
        ),
    ] {
        println!(
            "| {name} | {bytes:.0} | {lines:.1} | {:.2}× |",
            bytes / b_bytes
        );
    }
    // the events, the request's record, and on the failing request (1 in 10) the failed task
    assert!(
        (d_lines - (b_lines + 1.1)).abs() < 0.01,
        "{d_lines} lines per request"
    );
    assert!(d_bytes < a_bytes && a_lines - d_lines > 2.8);
}
