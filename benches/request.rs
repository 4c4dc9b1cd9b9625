//! The whole stack on a request-shaped workload, paired against what a user would otherwise
//! install: per request, a request span of 5 fields with 3 child spans of 3 fields (one of them
//! entered twice), 4 `info!` of 4 fields, 1 `warn!`, and in 1 request of 10 an `error!` with an
//! error value; single thread; every JSON output into a no-op writer that counts what it gets.
//!
//! Stacks, all in the same paired run:
//!
//! - `registry`: the bare Registry;
//! - `B`: `fmt().json()` with the current span and the span list;
//! - `C`, the peer stack: `B` + tracing-opentelemetry (SDK provider, batch processor, no-op
//!   exporter) + a hand-written layer timing spans into `histogram!` through the `metrics`
//!   facade + sentry-tracing with a transport that drops every envelope (its error layer for
//!   ERROR events and its breadcrumb layer for INFO and above, as sentry-tracing's legacy
//!   combined layer did; no Sentry spans, the traces go to OpenTelemetry);
//! - `taskwire`: taskwire's layers composed by hand (tasks, metrics, tickets into SQLite in a
//!   temporary folder, json);
//! - `builder`: the same through `taskwire::builder()` (`.build()`, then `with_default`);
//! - `floor`: the least code that does the work the taskwire stack must do for this workload
//!   (`benches/support/request_floor.rs`), and the same writing `task.end` for the root span
//!   only.
//!
//! One Prometheus recorder (taskwire's buckets) is installed for the process; both metrics
//! layers record into it, and it is drained after every chunk, outside the timed section.
//!
//! ```text
//! TASKWIRE_PAIRED=1 cargo bench --features prometheus --bench request
//! ```
//!
//! runs the stacks round-robin in chunks of 200 requests (`TASKWIRE_CHUNK`), 1,000 rounds
//! (`TASKWIRE_ROUNDS`), and prints each stack's
//! median time per request, the medians (with quartiles) of the per-round ratios, and per
//! request the heap allocations on the request's thread (a counting allocator, over at least
//! 1 s of requests after warm-up) and the bytes and lines the JSON outputs received. Without
//! `TASKWIRE_PAIRED`, criterion measures each stack on its own. `TASKWIRE_BENCH_SHOW=1` prints
//! one request's output of `B`, `taskwire` and `floor` first.

#![allow(unsafe_code)] // the counting allocator (benches/support/alloc.rs)

use std::hint::black_box;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use criterion::{criterion_group, Criterion};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use sentry::integrations::tracing::{BreadcrumbLayer, ErrorLayer};
use tracing::level_filters::LevelFilter;
use tracing::{Dispatch, Subscriber};
use tracing_core::span::{Attributes, Id};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

#[path = "support/alloc.rs"]
mod alloc;
#[allow(dead_code)] // the request bench uses the exporter only
#[path = "support/floors.rs"]
mod floors;
#[path = "support/paired.rs"]
mod paired;
#[path = "support/request_floor.rs"]
mod request_floor;
#[path = "support/request_workload.rs"]
mod request_workload;

use request_workload::request;

#[global_allocator]
static GLOBAL: alloc::Counting = alloc::Counting;

/// Whether the writers count what they get (only while allocations are counted).
static COUNT: AtomicBool = AtomicBool::new(false);
/// Whether the writers print what they get (`TASKWIRE_BENCH_SHOW`).
static SHOW: AtomicBool = AtomicBool::new(false);

/// A no-op JSON output that counts the bytes and lines it is given while [`COUNT`] is set.
#[derive(Clone, Default)]
struct Out(Arc<Counts>);

#[derive(Default)]
struct Counts {
    bytes: AtomicU64,
    lines: AtomicU64,
}

impl Out {
    fn take(&self) -> (u64, u64) {
        (
            self.0.bytes.swap(0, Ordering::Relaxed),
            self.0.lines.swap(0, Ordering::Relaxed),
        )
    }
}

struct OutWriter<'a>(&'a Counts);

impl Write for OutWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        black_box(buf);
        if COUNT.load(Ordering::Relaxed) {
            let lines = buf.iter().filter(|b| **b == b'\n').count() as u64;
            self.0.bytes.fetch_add(buf.len() as u64, Ordering::Relaxed);
            self.0.lines.fetch_add(lines, Ordering::Relaxed);
        }
        if SHOW.load(Ordering::Relaxed) {
            let _ = io::stderr().write_all(buf);
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Out {
    type Writer = OutWriter<'a>;

    fn make_writer(&'a self) -> OutWriter<'a> {
        OutWriter(&self.0)
    }
}

/// A sentry transport that drops every envelope.
struct Dropping;

impl sentry::Transport for Dropping {
    fn send_envelope(&self, envelope: sentry::Envelope) {
        black_box(envelope);
    }
}

/// The hand-written metrics layer of the peer stack: an `Instant` in the extensions, and on
/// close the span's duration into `histogram!("span.duration", "name" => name)`.
struct SpanHistogram;

struct Started(std::time::Instant);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for SpanHistogram {
    fn on_new_span(&self, _attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut()
                .insert(Started(std::time::Instant::now()));
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id) {
            if let Some(started) = span.extensions().get::<Started>() {
                metrics::histogram!("span.duration", "name" => span.name())
                    .record(started.0.elapsed().as_secs_f64());
            }
        }
    }
}

/// `B`: `fmt().json()` with the current span and the span list.
fn fmt_json<S>(out: Out) -> impl Layer<S> + Send + Sync
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(true)
        .with_span_list(true)
        .with_writer(out)
}

/// Everything the stacks need that lives for the whole run: the recorder's handle, the
/// peers' providers and guards, the tickets databases' folder.
struct Fixture {
    prometheus: PrometheusHandle,
    provider: SdkTracerProvider,
    _sentry: sentry::ClientInitGuard,
    dir: std::path::PathBuf,
    tickets: Vec<taskwire_tickets::TicketsGuard>,
    builder_guards: Vec<taskwire::Guard>,
    /// The tickets writers' period, when not their default (100 ms).
    tickets_period: Option<Duration>,
}

impl Fixture {
    fn new() -> Fixture {
        let recorder = taskwire_metrics::prometheus::configure(PrometheusBuilder::new())
            .expect("buckets")
            .build_recorder();
        let prometheus = recorder.handle();
        metrics::set_global_recorder(recorder).expect("the only recorder");
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(floors::NoopExporter)
            .build();
        let transport =
            |_: &sentry::ClientOptions| Arc::new(Dropping) as Arc<dyn sentry::Transport>;
        let sentry = sentry::init(
            sentry::ClientOptions::new()
                .dsn("https://public@sentry.invalid/1")
                .transport(transport),
        );
        let dir =
            std::env::temp_dir().join(format!("taskwire-bench-request-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temporary folder");
        Fixture {
            prometheus,
            provider,
            _sentry: sentry,
            dir,
            tickets: Vec::new(),
            builder_guards: Vec::new(),
            tickets_period: None,
        }
    }

    /// The tickets layer of `db`, with the fixture's writer period.
    fn tickets_layer(&self, db: &str) -> taskwire_tickets::TicketsBuilder {
        let store = taskwire_tickets::Sqlite::open(self.dir.join(db)).expect("tickets db");
        let tickets = taskwire_tickets::layer(store);
        match self.tickets_period {
            Some(period) => tickets.with_flush_interval(period),
            None => tickets,
        }
    }

    fn registry(&self) -> Dispatch {
        Dispatch::new(tracing_subscriber::registry())
    }

    fn b(&self, out: Out) -> Dispatch {
        Dispatch::new(tracing_subscriber::registry().with(fmt_json(out)))
    }

    fn c(&self, out: Out) -> Dispatch {
        Dispatch::new(
            tracing_subscriber::registry()
                .with(fmt_json(out))
                .with(tracing_opentelemetry::layer().with_tracer(self.provider.tracer("bench")))
                .with(SpanHistogram)
                .with(ErrorLayer::new().with_filter(LevelFilter::ERROR))
                .with(BreadcrumbLayer::new().with_filter(LevelFilter::INFO)),
        )
    }

    fn taskwire(&mut self, out: Out) -> Dispatch {
        let (tickets, guard) = self.tickets_layer("hand.db").with_service("bench").build();
        self.tickets.push(guard);
        request_workload::taskwire_by_hand(tickets, out)
    }

    fn builder(&mut self, out: Out) -> Dispatch {
        let (dispatch, guard) = taskwire::builder()
            .service("bench")
            .tasks(taskwire_tasks::layer())
            .metrics(taskwire_metrics::layer())
            .tickets_layer(self.tickets_layer("builder.db"))
            .json(out)
            .log_bridge(false)
            .build()
            .expect("builder");
        self.builder_guards.push(guard);
        dispatch
    }

    fn floor(&self, out: Out, every_task_end: bool) -> Dispatch {
        Dispatch::new(tracing_subscriber::registry().with(request_floor::layer(
            "bench",
            out,
            every_task_end,
        )))
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        self.builder_guards.clear();
        self.tickets.clear();
        let _ = self.provider.shutdown();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The stacks, each with its output.
fn stacks(f: &mut Fixture) -> Vec<(&'static str, Dispatch, Option<Out>)> {
    let out = || Some(Out::default());
    let (b, c, t, bu, fl, fr) = (out(), out(), out(), out(), out(), out());
    vec![
        ("registry", f.registry(), None),
        ("B fmt().json()", f.b(b.clone().unwrap_or_default()), b),
        ("C peer stack", f.c(c.clone().unwrap_or_default()), c),
        (
            "taskwire (by hand)",
            f.taskwire(t.clone().unwrap_or_default()),
            t,
        ),
        (
            "taskwire::builder()",
            f.builder(bu.clone().unwrap_or_default()),
            bu,
        ),
        ("floor", f.floor(fl.clone().unwrap_or_default(), true), fl),
        (
            "floor, root task.end only",
            f.floor(fr.clone().unwrap_or_default(), false),
            fr,
        ),
    ]
}

const REGISTRY: usize = 0;
const B: usize = 1;
const C: usize = 2;
const TASKWIRE: usize = 3;
const BUILDER: usize = 4;
const FLOOR: usize = 5;
const FLOOR_ROOTS: usize = 6;

/// Runs `n` requests numbered from `*next`.
fn run(next: &mut u64, n: u32) {
    for _ in 0..n {
        request(*next);
        *next += 1;
    }
}

fn show(stacks: &[(&'static str, Dispatch, Option<Out>)]) {
    SHOW.store(true, Ordering::Relaxed);
    for i in [B, TASKWIRE, FLOOR] {
        let (name, d, _) = &stacks[i];
        eprintln!("--- {name}, one failing request:");
        tracing::dispatcher::with_default(d, || request(0));
    }
    SHOW.store(false, Ordering::Relaxed);
}

/// Per request: allocations on this thread, over chunks of 1,000 requests after 1,000 of
/// warm-up for at least [`COUNTED_FOR`], and the bytes and lines written by the first chunk
/// (requests 1,001 to 2,000 of every stack, so that all write ids of as many digits). The
/// recorder is drained after each chunk, outside the count, as in the paired rounds.
///
/// The tickets writer gives each group a budget of samples per period (100 ms): a sample
/// allocates (its strings, an error's backtrace), so the period's first WARN and ERROR events
/// allocate more than the rest (about 1,300 allocations a period here). Over 1,000 requests
/// (7 ms) a period boundary fell inside the count in some runs only; over many periods the
/// count is the steady state's.
fn per_request(d: &Dispatch, out: Option<&Out>, upkeep: &dyn Fn()) -> (f64, f64, f64) {
    const CHUNK: u32 = 1_000;
    let mut next = 1;
    tracing::dispatcher::with_default(d, || {
        run(&mut next, CHUNK);
        upkeep();
        if let Some(o) = out {
            o.take();
        }
        let start = std::time::Instant::now();
        let (mut allocs, mut requests) = (0_u64, 0_u64);
        while requests == 0 || start.elapsed() < COUNTED_FOR {
            COUNT.store(requests == 0, Ordering::Relaxed);
            let (a, ()) = alloc::count(|| run(&mut next, CHUNK));
            COUNT.store(false, Ordering::Relaxed);
            upkeep();
            allocs += a;
            requests += u64::from(CHUNK);
        }
        let (bytes, lines) = out.map(Out::take).unwrap_or_default();
        let n = f64::from(CHUNK);
        (
            allocs as f64 / requests as f64,
            bytes as f64 / n,
            lines as f64 / n,
        )
    })
}

/// How long [`per_request`] counts each stack: ten tickets writer periods.
const COUNTED_FOR: Duration = Duration::from_secs(1);

fn paired() {
    let mut f = Fixture::new();
    let stacks = stacks(&mut f);
    if std::env::var_os("TASKWIRE_BENCH_SHOW").is_some() {
        show(&stacks);
    }
    let mut next = 1_u64;
    let upkeep = || f.prometheus.run_upkeep();
    let counted: Vec<(f64, f64, f64)> = stacks
        .iter()
        .map(|(_, d, out)| per_request(d, out.as_ref(), &upkeep))
        .collect();
    let chunk: u32 = std::env::var("TASKWIRE_CHUNK")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(200);
    let rounds = std::env::var("TASKWIRE_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(1_000);
    let dispatchers: Vec<&Dispatch> = stacks.iter().map(|(_, d, _)| d).collect();
    let prometheus = f.prometheus.clone();
    let t = paired::rounds(
        &dispatchers,
        chunk,
        rounds,
        &mut || run(&mut next, 1),
        &mut || prometheus.run_upkeep(),
    );
    println!("paired: {rounds} rounds of {chunk} requests per stack");
    println!(
        "  {:26} {:>12} {:>14} {:>14} {:>14}",
        "stack", "ns/request", "allocs/request", "bytes/request", "lines/request"
    );
    for (i, (name, _, out)) in stacks.iter().enumerate() {
        let mut own = t[i].clone();
        let (allocs, bytes, lines) = counted[i];
        let written = if out.is_some() {
            format!("{bytes:>14.0} {lines:>14.1}")
        } else {
            String::new()
        };
        println!(
            "  {name:26} {:>12.0} {allocs:>14.2} {written}",
            paired::quartiles(&mut own)[1]
        );
    }
    let ratios = [
        ("taskwire / B", TASKWIRE, B),
        ("taskwire / C", TASKWIRE, C),
        ("builder / taskwire by hand", BUILDER, TASKWIRE),
        ("floor / B", FLOOR, B),
        ("floor / C", FLOOR, C),
        ("taskwire / floor", TASKWIRE, FLOOR),
        ("floor, root task.end / B", FLOOR_ROOTS, B),
        ("registry / B", REGISTRY, B),
    ];
    println!("per-round ratios, median (quartiles):");
    for (name, num, den) in ratios {
        let [q1, m, q3] = paired::ratio(&t[num], &t[den]);
        println!("  {name:28} {m:.3} ({q1:.3}-{q3:.3})");
    }
    drop(dispatchers);
    drop(stacks);
}

fn bench_request(c: &mut Criterion) {
    let mut f = Fixture::new();
    let stacks = stacks(&mut f);
    let mut g = c.benchmark_group("request");
    let mut next = 1_u64;
    for (name, d, _) in &stacks {
        let prometheus = f.prometheus.clone();
        g.bench_function(*name, |b| {
            tracing::dispatcher::with_default(d, || {
                b.iter_custom(|iters| {
                    let mut total = std::time::Duration::ZERO;
                    let mut left = iters;
                    while left > 0 {
                        let n = left.min(1_000);
                        let start = std::time::Instant::now();
                        for _ in 0..n {
                            request(next);
                            next += 1;
                        }
                        total += start.elapsed();
                        prometheus.run_upkeep();
                        left -= n;
                    }
                    total
                })
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench_request);

/// `TASKWIRE_INSTR=registry|b|c|taskwire|builder|floor|floor_roots`: 1,000 requests of warm-up,
/// with the tickets writers' period an hour,
/// then 10,000 under that stack in [`measured`], for counting instructions:
/// `valgrind --tool=callgrind --collect-atstart=no --toggle-collect='*measured*' BENCH_BINARY`.
fn instructions(which: &str) {
    const KEYS: [&str; 7] = [
        "registry",
        "b",
        "c",
        "taskwire",
        "builder",
        "floor",
        "floor_roots",
    ];
    let Some(i) = KEYS.iter().position(|k| *k == which) else {
        eprintln!("TASKWIRE_INSTR is one of {KEYS:?}");
        return;
    };
    let mut f = Fixture::new();
    // The tickets writers' sample budget is per period (100 ms): under callgrind a period
    // spans about a hundred requests, so nearly every WARN and ERROR would build a sample
    // (at full speed, a few in ten thousand), and how many did would depend on the machine's
    // load. With an hour's period the samples are those of the warm-up's first requests.
    f.tickets_period = Some(Duration::from_secs(3600));
    let stacks = stacks(&mut f);
    let d = &stacks[i].1;
    let mut next = 1;
    tracing::dispatcher::with_default(d, || run(&mut next, 1_000));
    f.prometheus.run_upkeep();
    measured(d, &mut next);
    println!("{}: 10,000 requests measured", stacks[i].0);
}

/// The section `TASKWIRE_INSTR` counts.
#[inline(never)]
fn measured(d: &Dispatch, next: &mut u64) {
    tracing::dispatcher::with_default(d, || run(next, 10_000));
}

fn main() {
    if let Ok(which) = std::env::var("TASKWIRE_INSTR") {
        instructions(&which);
        return;
    }
    paired::main(paired, benches);
}
