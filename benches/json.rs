//! Time per event of taskwire-json against the other JSON subscribers for `tracing`, the bare
//! registry (the floor) and `serde_json` writing an equivalent pre-built record (the limit),
//! plus taskwire-json's throughput with one thread and with two threads sharing one sink (and
//! the limit's on one and two threads, as the control for what the machine's cores allow).
//!
//! Run with `cargo bench --bench json`. Every subscriber writes to a no-op writer that still
//! receives each line (`black_box`), so the numbers are the layer's, not stdout's. Set
//! `TASKWIRE_BENCH_SHOW=1` to print one line of each subscriber's output first.
//!
//! On a shared machine, `TASKWIRE_PAIRED=1 cargo bench --bench json` instead measures the thread
//! scaling paired: each round runs taskwire-json and the limit on one thread and then on two, in
//! chunks short enough that all four see the same load, and prints the median of the per-round
//! ratios (two threads' throughput ÷ one thread's).
//!
//! The workload: one `info!` with a message and five fields (an `i64`, an `f64`, a `bool`, a
//! 20-character `&str` and a `Display` value via `%`) inside two nested, entered spans of three
//! fields each, on one thread.

use std::hint::black_box;
use std::io::{self, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant, SystemTime};

#[path = "support/json_workload.rs"]
mod json_workload;
#[path = "support/paired.rs"]
mod paired;
use json_workload::{event, in_spans, ADDR};
use paired::quartiles;

use criterion::measurement::WallTime;
use criterion::{criterion_group, BenchmarkGroup, Criterion, Throughput};
use serde::Serialize;
use taskwire_test_support::{Capture, Discard};
use tracing::{Dispatch, Subscriber};
use tracing_bunyan_formatter::{BunyanFormattingLayer, JsonStorageLayer};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::Registry;

/// One sink shared by every thread: it counts the bytes it is given with an atomic add.
#[derive(Clone, Debug, Default)]
struct SharedSink(Arc<AtomicU64>);

struct SharedSinkWriter<'a>(&'a AtomicU64);

impl Write for SharedSinkWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }
    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.0
            .fetch_add(black_box(buf).len() as u64, Ordering::Relaxed);
        Ok(())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for SharedSink {
    type Writer = SharedSinkWriter<'a>;
    fn make_writer(&'a self) -> Self::Writer {
        SharedSinkWriter(&self.0)
    }
}

/// taskwire-json with the location and process keys on: the line the limit writes (the
/// default line leaves these six keys out).
fn taskwire<W: for<'w> MakeWriter<'w> + Send + Sync + 'static>(w: W) -> impl Subscriber {
    Registry::default().with(
        taskwire_json::layer()
            .with_source_location(true)
            .with_process(true)
            .with_writer(w),
    )
}

fn tracing_subscriber_json<W: for<'w> MakeWriter<'w> + Send + Sync + 'static>(
    w: W,
) -> impl Subscriber {
    Registry::default().with(
        tracing_subscriber::fmt::layer()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_writer(w),
    )
}

fn json_subscriber<W: for<'w> MakeWriter<'w> + Send + Sync + 'static>(w: W) -> impl Subscriber {
    Registry::default().with(
        json_subscriber::fmt::layer()
            .with_current_span(false)
            .with_span_list(false)
            .flatten_event(true)
            .flatten_span_list_on_top_level(true)
            .with_writer(w),
    )
}

fn bunyan<W: for<'w> MakeWriter<'w> + Send + Sync + 'static>(w: W) -> impl Subscriber {
    Registry::default()
        .with(JsonStorageLayer)
        .with(BunyanFormattingLayer::new("bench".into(), w))
}

/// The same keys and values taskwire-json writes for the workload, built once.
#[derive(Serialize)]
struct Record<'a> {
    ts: &'a str,
    level: &'a str,
    target: &'a str,
    msg: &'a str,
    user_id: i64,
    ratio: f64,
    ok: bool,
    customer: &'a str,
    addr: &'a str,
    table: &'a str,
    rows: i64,
    cached: bool,
    method: &'a str,
    route: &'a str,
    attempt: u64,
    trace_id: &'a str,
    span_id: &'a str,
    parent_span_id: &'a str,
    file: &'a str,
    line: u32,
    module: &'a str,
    thread: &'a str,
    pid: u32,
    host: &'a str,
}

/// The limit: the timestamp formatted and an equivalent record serialized by `serde_json`, both
/// into reused buffers, then handed to the no-op writer.
struct Limit {
    ts: Vec<u8>,
    line: Vec<u8>,
    addr: String,
    thread: String,
}

impl Limit {
    fn new() -> Self {
        Limit {
            ts: Vec::with_capacity(32),
            line: Vec::with_capacity(1024),
            addr: ADDR.to_string(),
            thread: std::thread::current()
                .name()
                .unwrap_or("unnamed")
                .to_owned(),
        }
    }

    #[inline(never)]
    fn write(&mut self, out: &mut impl Write) {
        self.ts.clear();
        taskwire_core::time::write_rfc3339(&mut self.ts, SystemTime::now());
        let rec = Record {
            ts: std::str::from_utf8(&self.ts).unwrap_or_default(),
            level: "INFO",
            target: "json::json_workload",
            msg: "order placed",
            user_id: 1_234_567,
            ratio: 0.75,
            ok: true,
            customer: "abcdefghijklmnopqrst",
            addr: &self.addr,
            table: "orders",
            rows: 42,
            cached: false,
            method: "POST",
            route: "/api/v1/orders",
            attempt: 1,
            trace_id: "4bf92f3577b34da6a3ce929d0e0e4736",
            span_id: "00f067aa0ba902b7",
            parent_span_id: "b7ad6b7169203331",
            file: "benches/support/json_workload.rs",
            line: 31,
            module: "json::json_workload",
            thread: &self.thread,
            pid: taskwire_core::process::pid(),
            host: taskwire_core::process::hostname(),
        };
        self.line.clear();
        if serde_json::to_writer(&mut self.line, &rec).is_ok() {
            self.line.push(b'\n');
            let _ = out.write_all(&self.line);
        }
    }
}

/// Prints one line of each subscriber's output, to check they write what the table says.
fn show() {
    fn line_of<S: Subscriber + Send + Sync + 'static>(make: impl FnOnce(Capture) -> S) -> String {
        let cap = Capture::default();
        tracing::subscriber::with_default(make(cap.clone()), || in_spans(event));
        String::from_utf8_lossy(&cap.bytes()).into_owned()
    }
    let mut limit = Limit::new();
    let mut out = Vec::new();
    limit.write(&mut out);
    for (name, line) in [
        ("taskwire-json", line_of(taskwire)),
        ("tracing-subscriber", line_of(tracing_subscriber_json)),
        ("json-subscriber", line_of(json_subscriber)),
        ("bunyan", line_of(bunyan)),
        (
            "serde_json limit",
            String::from_utf8_lossy(&out).into_owned(),
        ),
    ] {
        eprint!("{name} ({} bytes): {line}", line.len());
    }
}

fn bench_subscriber<S: Subscriber + Send + Sync + 'static>(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    subscriber: S,
) {
    tracing::subscriber::with_default(subscriber, || {
        in_spans(|| g.bench_function(name, |b| b.iter(event)));
    });
}

fn per_event(c: &mut Criterion) {
    if std::env::var_os("TASKWIRE_BENCH_SHOW").is_some() {
        show();
    }
    let mut g = c.benchmark_group("json_event");
    g.throughput(Throughput::Elements(1));
    // The targets are ratios of (a) to (f) and to (b): they are measured one after the other,
    // so that a slowdown of a shared machine during the run touches them alike.
    bench_subscriber(&mut g, "a_taskwire_json", taskwire(Discard));
    let mut limit = Limit::new();
    g.bench_function("f_serde_json_limit", |b| {
        b.iter(|| limit.write(&mut Discard));
    });
    bench_subscriber(
        &mut g,
        "b_tracing_subscriber_json",
        tracing_subscriber_json(Discard),
    );
    bench_subscriber(&mut g, "c_json_subscriber", json_subscriber(Discard));
    bench_subscriber(&mut g, "d_bunyan", bunyan(Discard));
    bench_subscriber(&mut g, "e_registry_floor", Registry::default());
    g.finish();
}

/// Runs `work(n, start)` on `threads` threads, `n` being each thread's share of `iters`; each
/// thread prepares, waits on `start`, then does its `n` iterations. The time is from the moment
/// all threads are ready until the last one is done.
fn run_threads(threads: u64, iters: u64, work: &(impl Fn(u64, &Barrier) + Sync)) -> Duration {
    let start = Barrier::new(threads as usize + 1);
    std::thread::scope(|s| {
        for t in 0..threads {
            let n = iters / threads + u64::from(t < iters % threads);
            let start = &start;
            s.spawn(move || work(n, start));
        }
        start.wait();
        Instant::now()
        // The scope joins every thread before it returns.
    })
    .elapsed()
}

/// One thread's share of taskwire-json's throughput work: `n` events in the workload's spans,
/// after `start`.
fn taskwire_work(dispatch: &Dispatch, n: u64, start: &Barrier) {
    tracing::dispatcher::with_default(dispatch, || {
        in_spans(|| {
            // Warm the thread's buffers before the clock starts.
            event();
            start.wait();
            for _ in 0..n {
                event();
            }
        });
    });
}

/// One thread's share of the limit's throughput work (its own record and buffers).
fn limit_work(n: u64, start: &Barrier) {
    let mut limit = Limit::new();
    limit.write(&mut Discard);
    start.wait();
    for _ in 0..n {
        limit.write(&mut Discard);
    }
}

/// taskwire-json's throughput with one thread and with two threads writing to one shared sink,
/// and, as the control that shows what this machine's cores give to work that shares nothing,
/// the serde_json limit on one and two threads (each with its own record and buffers).
fn threads(c: &mut Criterion) {
    let sink = SharedSink::default();
    let dispatch = Dispatch::new(taskwire(sink.clone()));
    let taskwire_work = |n: u64, start: &Barrier| taskwire_work(&dispatch, n, start);
    let mut g = c.benchmark_group("json_threads");
    g.throughput(Throughput::Elements(1));
    for n in [1_u64, 2] {
        g.bench_function(format!("taskwire_json_{n}_thread"), |b| {
            b.iter_custom(|iters| run_threads(n, iters, &taskwire_work));
        });
    }
    for n in [1_u64, 2] {
        g.bench_function(format!("serde_json_limit_{n}_thread"), |b| {
            b.iter_custom(|iters| run_threads(n, iters, &limit_work));
        });
    }
    g.finish();
    black_box(sink.0.load(Ordering::Relaxed));
}

/// The thread scaling, paired (`TASKWIRE_PAIRED=1`): per round, one chunk of each workload on
/// one thread and on two (each thread doing the whole chunk, so two threads do twice the work),
/// then the per-round ratio `2 × t(1 thread) ÷ t(2 threads)`; prints the median and quartiles of
/// the ratios over all rounds. taskwire-json runs twice: into one sink that counts the bytes of
/// both threads on one atomic, and into one sink that discards them (as the limit's does).
fn paired_threads() {
    let sink = SharedSink::default();
    let dispatch = Dispatch::new(taskwire(sink.clone()));
    let counted_work = |n: u64, start: &Barrier| taskwire_work(&dispatch, n, start);
    // The same layer into one sink that shares no state between threads (the limit's
    // `Discard`): the layer's own scaling, without the counter's contended cache line.
    let quiet = Dispatch::new(taskwire(Discard));
    let quiet_work = |n: u64, start: &Barrier| taskwire_work(&quiet, n, start);
    let chunk: u64 = std::env::var("TASKWIRE_PAIRED_CHUNK")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let rounds: usize = std::env::var("TASKWIRE_PAIRED_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    // Warm up both workloads on both thread counts.
    for _ in 0..5 {
        run_threads(1, chunk, &counted_work);
        run_threads(2, 2 * chunk, &counted_work);
        run_threads(1, chunk, &limit_work);
        run_threads(2, 2 * chunk, &limit_work);
        run_threads(1, chunk, &quiet_work);
        run_threads(2, 2 * chunk, &quiet_work);
    }
    let mut t = [(); 6].map(|()| Vec::with_capacity(rounds));
    for _ in 0..rounds {
        t[0].push(run_threads(1, chunk, &counted_work).as_secs_f64());
        t[1].push(run_threads(2, 2 * chunk, &counted_work).as_secs_f64());
        t[2].push(run_threads(1, chunk, &limit_work).as_secs_f64());
        t[3].push(run_threads(2, 2 * chunk, &limit_work).as_secs_f64());
        t[4].push(run_threads(1, chunk, &quiet_work).as_secs_f64());
        t[5].push(run_threads(2, 2 * chunk, &quiet_work).as_secs_f64());
    }
    black_box(sink.0.load(Ordering::Relaxed));
    let per_event = |v: &[f64], events: u64| {
        let mut v: Vec<f64> = v.iter().map(|s| s * 1e9 / events as f64).collect();
        quartiles(&mut v)[1]
    };
    println!("paired thread scaling: {rounds} rounds, {chunk} events per thread per chunk");
    for (name, one, two) in [
        ("taskwire_json (counting sink)", 0, 1),
        ("taskwire_json (discarding sink)", 4, 5),
        ("serde_json limit", 2, 3),
    ] {
        let mut ratios: Vec<f64> = t[one]
            .iter()
            .zip(&t[two])
            .map(|(a, b)| 2.0 * a / b)
            .collect();
        let q = quartiles(&mut ratios);
        let met = ratios.iter().filter(|r| **r >= 1.7).count();
        println!(
            "  {name:31} 1 thread {:6.1} ns/event, 2 threads {:6.1} ns/event (wall), \
             2 threads / 1 thread: median {:.2}x (quartiles {:.2}x-{:.2}x), >= 1.7x in {met} of {rounds} rounds",
            per_event(&t[one], chunk),
            per_event(&t[two], 2 * chunk),
            q[1],
            q[0],
            q[2],
        );
    }
}

criterion_group! {
    name = benches;
    // Short enough that the whole run fits a quiet moment on a shared machine; at about a
    // microsecond per event each of the 100 samples still averages thousands of events.
    config = Criterion::default()
        .sample_size(100)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    targets = per_event, threads
}

fn main() {
    paired::main(paired_threads, benches);
}
