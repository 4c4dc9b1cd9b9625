//! The thread scaling of each stack on the request workload of `benches/request.rs`: two
//! threads serving requests at once under one subscriber, against one thread, paired.
//!
//! Stacks: the bare Registry; each taskwire layer alone (JSON lines, tasks, metrics into the
//! process's Prometheus recorder, tickets into SQLite in a temporary folder); taskwire's layers
//! composed by hand, as `benches/request.rs` does; `fmt().json()` with the current span and the
//! span list (`B`), every JSON output writing into one sink that discards what it gets; and, as
//! the control for what the machine's two cores give to work that shares nothing, a loop that
//! only hashes (no subscriber).
//!
//! ```text
//! cargo bench --features prometheus --bench request_threads
//! ```
//!
//! Each stack runs in a process of its own (this executable again), installed as the global
//! default, as applications install theirs: a scoped default (`with_default`) makes every span
//! clone and drop an `Arc` of the subscriber, one cache line all threads write, which a global
//! default does not. In that process, two worker threads live for the whole run (their
//! thread-local buffers stay warm, as a server's workers' do); per round, a chunk of requests
//! on one worker, then the same chunk on each of the two; the ratio is `2 × t(1 thread) ÷
//! t(2 threads)` inside the round (2.0: the second thread costs the first nothing). Prints the
//! median and quartiles over the rounds, and the time per request on one thread.
//! `TASKWIRE_CHUNK` (default 500) and `TASKWIRE_ROUNDS` (default 200) change the run;
//! `TASKWIRE_ONLY=taskwire-metrics` (a prefix of the names printed) runs only the stacks it
//! names. The metrics recorder is drained after every chunk, outside the timed section;
//! `TASKWIRE_NO_RECORDER=1` installs none (the `metrics` facade then drops what it is given),
//! which leaves the metrics layer's own part.

use std::hash::{BuildHasher, Hasher};
use std::hint::black_box;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use taskwire_test_support::Discard;
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

#[allow(dead_code)] // the quartiles only
#[path = "support/paired.rs"]
mod paired;
#[path = "support/request_workload.rs"]
mod request_workload;

/// The stacks, in the order they run and print.
const STACKS: [&str; 8] = [
    "registry (bare)",
    "taskwire-json alone",
    "taskwire-tasks alone",
    "taskwire-metrics alone",
    "taskwire-tickets alone",
    "taskwire (tasks, metrics, tickets, json)",
    "B fmt().json()",
    "control: hashing, no subscriber",
];

/// The variable that tells a child process which stack to run.
const STACK_VAR: &str = "TASKWIRE_THREADS_STACK";

/// Two threads that live for the whole run: each takes a job (the first request number and
/// how many), runs it and says so.
struct Workers {
    jobs: Vec<mpsc::Sender<(u64, u64)>>,
    done: mpsc::Receiver<()>,
}

impl Workers {
    /// Runs `n` requests on each of the first `threads` workers; the time from handing out
    /// the jobs until the last one is done.
    fn run(&self, threads: usize, n: u64) -> Duration {
        let start = Instant::now();
        for (t, job) in self.jobs.iter().take(threads).enumerate() {
            job.send((t as u64 * n, n)).expect("the worker runs");
        }
        for _ in 0..threads {
            self.done.recv().expect("the worker answers");
        }
        start.elapsed()
    }
}

/// `n` requests under the global default, numbered from `first` (request `k` fails when
/// `k % 10 == 0`).
fn requests(first: u64, n: u64) {
    for k in first..first + n {
        request_workload::request(k);
    }
}

/// The control: work of about a request's length that shares nothing between threads.
fn hashing(first: u64, n: u64) {
    let state = std::hash::RandomState::new();
    for k in first..first + n {
        let mut h = state.build_hasher();
        for i in 0..400_u64 {
            h.write_u64(black_box(k ^ i));
        }
        black_box(h.finish());
    }
}

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Installs stack `name` as the global default (none for the control); returns the tickets
/// guards to keep.
fn install(name: &str, dir: &std::path::Path) -> Vec<taskwire_tickets::TicketsGuard> {
    let mut guards = Vec::new();
    let mut tickets = || {
        let store = taskwire_tickets::Sqlite::open(dir.join("tickets.db")).expect("tickets db");
        let (layer, guard) = taskwire_tickets::layer(store).with_service("bench").build();
        guards.push(guard);
        layer
    };
    let registry = tracing_subscriber::registry();
    let dispatch = match name {
        "registry (bare)" => Dispatch::new(registry),
        "taskwire-json alone" => {
            Dispatch::new(registry.with(taskwire_json::layer().with_writer(Discard)))
        }
        "taskwire-tasks alone" => Dispatch::new(registry.with(taskwire_tasks::layer())),
        "taskwire-metrics alone" => Dispatch::new(registry.with(taskwire_metrics::layer())),
        "taskwire-tickets alone" => Dispatch::new(registry.with(tickets())),
        "taskwire (tasks, metrics, tickets, json)" => {
            request_workload::taskwire_by_hand(tickets(), Discard)
        }
        "B fmt().json()" => Dispatch::new(
            registry.with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(true)
                    .with_writer(Discard),
            ),
        ),
        _ => return guards,
    };
    tracing::dispatcher::set_global_default(dispatch).expect("the only default");
    guards
}

/// Runs stack `name` in this process and prints its line.
fn run_stack(name: &str, prometheus: &PrometheusHandle) {
    let dir = std::env::temp_dir().join(format!("taskwire-bench-threads-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let guards = install(name, &dir);
    let work: fn(u64, u64) = if name.starts_with("control") {
        hashing
    } else {
        requests
    };
    let chunk = env("TASKWIRE_CHUNK", 500);
    let rounds = env("TASKWIRE_ROUNDS", 200) as usize;
    let (mut one, mut two) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    std::thread::scope(|s| {
        let (done_tx, done) = mpsc::channel();
        let mut jobs = Vec::new();
        for _ in 0..2 {
            let (job_tx, job_rx) = mpsc::channel::<(u64, u64)>();
            let done_tx = done_tx.clone();
            s.spawn(move || {
                for (first, n) in job_rx {
                    work(first, n);
                    if done_tx.send(()).is_err() {
                        return;
                    }
                }
            });
            jobs.push(job_tx);
        }
        let workers = Workers { jobs, done };
        // Five warm-up rounds.
        for round in 0..rounds + 5 {
            let t1 = workers.run(1, chunk);
            prometheus.run_upkeep();
            let t2 = workers.run(2, chunk);
            prometheus.run_upkeep();
            if round >= 5 {
                one.push(t1.as_secs_f64());
                two.push(t2.as_secs_f64());
            }
        }
        // Dropping the senders ends the workers.
        drop(workers);
    });
    let mut ratios: Vec<f64> = one.iter().zip(&two).map(|(a, b)| 2.0 * a / b).collect();
    let [q1, m, q3] = paired::quartiles(&mut ratios);
    let mut per_request: Vec<f64> = one.iter().map(|s| s * 1e9 / chunk as f64).collect();
    let [_, t, _] = paired::quartiles(&mut per_request);
    println!(
        "  {name:42} 1 thread {t:8.0} ns/request   2 threads / 1 thread: median {m:.2}x (quartiles {q1:.2}x-{q3:.2}x)"
    );
    for guard in guards {
        let _ = guard.flush();
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn main() {
    if let Ok(name) = std::env::var(STACK_VAR) {
        let recorder = taskwire_metrics::prometheus::configure(PrometheusBuilder::new())
            .expect("buckets")
            .build_recorder();
        let prometheus = recorder.handle();
        // Without it the `metrics` facade drops what it is given: the layer's own part alone.
        if std::env::var_os("TASKWIRE_NO_RECORDER").is_none() {
            metrics::set_global_recorder(recorder).expect("the only recorder");
        }
        run_stack(&name, &prometheus);
        return;
    }
    let only = std::env::var("TASKWIRE_ONLY").unwrap_or_default();
    let exe = std::env::current_exe().expect("this benchmark's path");
    println!(
        "thread scaling: {} rounds, {} requests per thread per chunk, one process per stack",
        env("TASKWIRE_ROUNDS", 200),
        env("TASKWIRE_CHUNK", 500)
    );
    for name in STACKS.iter().filter(|n| n.starts_with(only.as_str())) {
        let status = std::process::Command::new(&exe)
            .env(STACK_VAR, name)
            .status()
            .expect("the stack's process starts");
        assert!(status.success(), "the run of {name} failed: {status}");
    }
}
