//! Tasks benchmarks: the cost of a span lifecycle (2 nested spans of 3 fields: create, enter,
//! exit, close) with taskwire-tasks, beside the bare Registry, the floor (a trivial layer that
//! only stores a u64 id in extensions), the least a hand-written task layer can do
//! (`benches/support/floors.rs`, sampled and unsampled), the task model's floor (the same plus
//! the work the task model requires: outcomes, control fields, `tracestate`, re-entries, the
//! default record policy; `benches/support/model_floor.rs`) and tracing-opentelemetry with an SDK
//! provider and a no-op exporter; with export on: taskwire-tasks + taskwire-otel through its
//! queue and export thread into the same no-op exporter (and both into OTLP/HTTP against a
//! local sink that answers 200), beside the export floor (the least code that copies each
//! finished task into a bounded queue another thread empties); plus reading the current task id
//! and the traceparent codec.
//!
//! ```text
//! cargo bench --bench tasks
//! ```
//!
//! On a shared machine, `TASKWIRE_PAIRED=1 cargo bench --bench tasks` instead runs the main
//! lifecycle stacks round-robin in chunks of 1,000 lifecycles, 1,000 rounds, and prints the
//! medians of the per-round ratios to the id floor, to tracing-opentelemetry,
//! taskwire-tasks ÷ the task floor (the minimal task layer), and taskwire-tasks with a ring of
//! recent tasks (`taskwire_tasks_recent`, the root of each lifecycle kept) ÷ without one,
//! alone and beside the JSON layer writing to a sink.
//!
//! The export rows measure the caller's thread and drop nothing: every exporting stack's queue
//! holds a whole chunk (4,096 spans for chunks of 2,000: taskwire-otel's queue capacity, the
//! SDK's `BatchConfig` max queue size, the export floor's queue), and after every chunk,
//! outside the timed section, each exporter is flushed (`OtelGuard::flush`,
//! `SdkTracerProvider::force_flush`, the floor's drain), so every chunk starts with empty
//! queues; the export threads still wake at every 512 spans inside the chunk, as they would in
//! an application. After the run the bench prints, per exporting stack, the spans created and
//! the spans its exporter received (taskwire-otel's counts; for the SDK, which does not report
//! its drops, the spans the counting no-op exporter was handed; the floor's own count) and
//! fails if any was dropped. Every chunk is timed in wall time and in the calling thread's CPU
//! time (`CLOCK_THREAD_CPUTIME_ID`): the export rows are also given in the second, which leaves
//! out the export threads' work that wall time charges to the caller when no core is free.
//! Criterion mode times the export rows the same way (chunks of 1,000 lifecycles, flushed
//! between chunks outside the measured time).

use std::hint::black_box;
use std::sync::atomic::Ordering;

use criterion::measurement::WallTime;
use criterion::{criterion_group, Bencher, BenchmarkGroup, Criterion};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider, SpanExporter,
};
use taskwire_core::propagation::TraceParent;
use tracing_subscriber::prelude::*;

#[path = "support/floors.rs"]
mod floors;
#[path = "support/model_floor.rs"]
mod model_floor;
#[path = "support/paired.rs"]
mod paired;
use floors::{
    lifecycle, CountingExporter, FloorQueue, IdLayer, MinimalExport, MinimalTasks, NoopExporter,
};
use paired::quartiles;

/// Lifecycles per timed chunk.
const CHUNK: u32 = 1_000;
/// Spans every exporting stack's queue holds: a chunk (two spans per lifecycle) fits whole.
const QUEUE: usize = 4_096;

/// An SDK provider with the batch span processor into `exporter`, its queue holding a chunk.
fn sdk_provider(exporter: impl SpanExporter + 'static) -> SdkTracerProvider {
    let config = BatchConfigBuilder::default()
        .with_max_queue_size(QUEUE)
        .build();
    let processor = BatchSpanProcessor::builder(exporter)
        .with_batch_config(config)
        .build();
    SdkTracerProvider::builder()
        .with_span_processor(processor)
        .build()
}

/// Criterion's loop for an exporting stack: lifecycles in chunks of [`CHUNK`], with `flush`
/// after each chunk outside the measured time, so that every chunk starts with empty queues.
/// Returns how many lifecycles ran (warm-up included).
fn iter_flushed(b: &mut Bencher<'_>, flush: &dyn Fn()) -> u64 {
    let ran = std::cell::Cell::new(0_u64);
    b.iter_custom(|iters| {
        ran.set(ran.get() + iters);
        paired::batched(iters, u64::from(CHUNK), lifecycle, flush)
    });
    ran.get()
}

fn bench_lifecycle(c: &mut Criterion) {
    let mut g = c.benchmark_group("span_lifecycle_2_deep_3_fields");
    g.bench_function("registry", |b| {
        let d = tracing::Dispatch::new(tracing_subscriber::registry());
        tracing::dispatcher::with_default(&d, || b.iter(lifecycle));
    });
    g.bench_function("floor_id_layer", |b| {
        let d = tracing::Dispatch::new(tracing_subscriber::registry().with(IdLayer));
        tracing::dispatcher::with_default(&d, || b.iter(lifecycle));
    });
    g.bench_function("minimal_task_layer", |b| {
        let layer = MinimalTasks { sampled: true };
        let d = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        tracing::dispatcher::with_default(&d, || b.iter(lifecycle));
    });
    g.bench_function("minimal_task_layer_unsampled", |b| {
        let layer = MinimalTasks { sampled: false };
        let d = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        tracing::dispatcher::with_default(&d, || b.iter(lifecycle));
    });
    g.bench_function("task_model_floor", |b| {
        let layer = model_floor::TaskModelFloor::new();
        let d = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        tracing::dispatcher::with_default(&d, || b.iter(lifecycle));
    });
    g.bench_function("taskwire_tasks", |b| {
        let d =
            tracing::Dispatch::new(tracing_subscriber::registry().with(taskwire_tasks::layer()));
        tracing::dispatcher::with_default(&d, || b.iter(lifecycle));
    });
    g.bench_function("taskwire_tasks_recent", |b| {
        let layer = taskwire_tasks::layer().with_recent(taskwire_tasks::RecentTasks::new(1_000));
        let d = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        tracing::dispatcher::with_default(&d, || b.iter(lifecycle));
    });
    g.bench_function("taskwire_tasks_unsampled", |b| {
        let layer = taskwire_tasks::layer().with_sampler(taskwire_tasks::Sampler::ratio(0.0));
        let d = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        tracing::dispatcher::with_default(&d, || b.iter(lifecycle));
    });
    // The SDK does not report its drops: the exporter counts what it was handed.
    let received = CountingExporter::default();
    let mut created = 0;
    g.bench_function("tracing_opentelemetry", |b| {
        let provider = sdk_provider(received.clone());
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"));
        let d = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        let ran = tracing::dispatcher::with_default(&d, || {
            iter_flushed(b, &|| {
                let _ = provider.force_flush();
            })
        });
        created += 2 * ran;
        let _ = provider.shutdown();
    });
    eprintln!(
        "tracing_opentelemetry: spans: {created} created, {} received by the exporter",
        received.spans.load(Ordering::Relaxed)
    );
    let queue = FloorQueue::start(QUEUE, 512);
    g.bench_function("minimal_export_floor", |b| {
        let layer = MinimalExport {
            queue: queue.clone(),
        };
        let d = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        tracing::dispatcher::with_default(&d, || iter_flushed(b, &|| queue.drain()));
    });
    queue.stop();
    eprintln!(
        "minimal_export_floor: spans: {} taken, {} dropped",
        queue.taken.load(Ordering::Relaxed),
        queue.dropped.load(Ordering::Relaxed)
    );
    // Export on. The layer (and its export thread) is built once per row, outside the
    // measured closure, and its counts are printed after the row.
    bench_tasks_otel(
        &mut g,
        "taskwire_tasks_otel_export",
        taskwire_otel::layer()
            .with_span_exporter(NoopExporter)
            .with_queue_capacity(QUEUE),
    );

    // The same two, exporting OTLP/HTTP protobuf for real (opentelemetry-otlp, blocking
    // reqwest client) to a local endpoint that reads each request and answers 200.
    let sink = otlp_sink();
    bench_tasks_otel(
        &mut g,
        "taskwire_tasks_otel_otlp",
        taskwire_otel::layer()
            .with_endpoint(&sink)
            .with_queue_capacity(QUEUE),
    );

    use opentelemetry_otlp::WithExportConfig;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(format!("{sink}/v1/traces"))
        .build()
        .expect("OTLP exporter");
    let provider = sdk_provider(exporter);
    let d = tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"))),
    );
    g.bench_function("tracing_opentelemetry_otlp", |b| {
        tracing::dispatcher::with_default(&d, || {
            iter_flushed(b, &|| {
                let _ = provider.force_flush();
            })
        });
    });
    drop(d);
    let _ = provider.shutdown();
    g.finish();
}

/// Benchmarks the lifecycle under the tasks layer and the otel layer `builder` builds, then
/// prints the export counts of the row.
fn bench_tasks_otel(
    g: &mut BenchmarkGroup<'_, WallTime>,
    name: &str,
    builder: taskwire_otel::OtelBuilder,
) {
    let (otel, guard) = builder.build().expect("taskwire-otel starts");
    let d = tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(taskwire_tasks::layer())
            .with(otel),
    );
    g.bench_function(name, |b| {
        tracing::dispatcher::with_default(&d, || {
            iter_flushed(b, &|| {
                let _ = guard.flush();
            })
        });
    });
    drop(d);
    report(name, guard.shutdown());
}

/// Prints what the export thread did during a benchmark: spans dropped because it fell
/// behind cost the caller less than exported ones, so the count matters for the reading.
fn report(name: &str, stats: taskwire_otel::ExportStats) {
    eprintln!("{name}: {stats}");
}

/// A local OTLP/HTTP endpoint that reads each request whole and answers 200 with an empty
/// body: the exporters do all their work (encoding, HTTP), nothing is stored.
fn otlp_sink() -> String {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(conn);
                loop {
                    let mut len = 0_usize;
                    let mut line = String::new();
                    loop {
                        line.clear();
                        match reader.read_line(&mut line) {
                            Ok(0) | Err(_) => return,
                            Ok(_) => {}
                        }
                        let l = line.trim_end();
                        if l.is_empty() {
                            break;
                        }
                        if let Some((k, v)) = l.split_once(':') {
                            if k.eq_ignore_ascii_case("content-length") {
                                len = v.trim().parse().unwrap_or(0);
                            }
                        }
                    }
                    let mut body = vec![0_u8; len];
                    if reader.read_exact(&mut body).is_err() {
                        return;
                    }
                    let answer = b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
                    if reader.get_mut().write_all(answer).is_err() {
                        return;
                    }
                }
            });
        }
    });
    url
}

fn bench_current(c: &mut Criterion) {
    let mut g = c.benchmark_group("current_task");
    let d = tracing::Dispatch::new(tracing_subscriber::registry().with(taskwire_tasks::layer()));
    tracing::dispatcher::with_default(&d, || {
        let _s = tracing::info_span!("task").entered();
        g.bench_function("taskwire_current_ids", |b| {
            b.iter(|| black_box(taskwire_tasks::current_ids()))
        });
        g.bench_function("span_current_clone", |b| {
            b.iter(|| black_box(tracing::Span::current()))
        });
    });
    g.finish();
}

fn bench_codec(c: &mut Criterion) {
    let mut g = c.benchmark_group("traceparent");
    let header = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    g.bench_function("parse_and_format", |b| {
        b.iter(|| {
            let tp = TraceParent::parse(black_box(header));
            black_box(tp.map(|t| t.to_bytes()))
        })
    });
    g.finish();
}

/// The lifecycle ratios measured paired (`TASKWIRE_PAIRED=1`): every stack runs round-robin in
/// chunks of lifecycles, so all see the same load; prints each stack's median time and the
/// medians (with quartiles) of the per-round ratios to the floor and to tracing-opentelemetry.
/// Every exporter is flushed after every chunk, outside the timed section, and the run fails
/// if any exporting stack dropped a span. The export stacks are also given in the calling
/// thread's CPU time, measured over the same chunks.
fn paired() {
    let sdk_received = CountingExporter::default();
    let provider = sdk_provider(sdk_received.clone());
    let (otel, guard) = taskwire_otel::layer()
        .with_span_exporter(NoopExporter)
        .with_queue_capacity(QUEUE)
        .build()
        .expect("taskwire-otel starts");
    let floor_queue = FloorQueue::start(QUEUE, 512);
    let model_queue = FloorQueue::start(QUEUE, 512);
    let stacks: Vec<(&str, tracing::Dispatch)> = vec![
        (
            "floor_id_layer",
            tracing::Dispatch::new(tracing_subscriber::registry().with(IdLayer)),
        ),
        (
            "minimal_task_layer",
            tracing::Dispatch::new(
                tracing_subscriber::registry().with(MinimalTasks { sampled: true }),
            ),
        ),
        (
            "minimal_task_layer_unsampled",
            tracing::Dispatch::new(
                tracing_subscriber::registry().with(MinimalTasks { sampled: false }),
            ),
        ),
        (
            "task_model_floor",
            tracing::Dispatch::new(
                tracing_subscriber::registry().with(model_floor::TaskModelFloor::new()),
            ),
        ),
        (
            "taskwire_tasks",
            tracing::Dispatch::new(tracing_subscriber::registry().with(taskwire_tasks::layer())),
        ),
        (
            "taskwire_tasks_unsampled",
            tracing::Dispatch::new(
                tracing_subscriber::registry().with(
                    taskwire_tasks::layer().with_sampler(taskwire_tasks::Sampler::ratio(0.0)),
                ),
            ),
        ),
        (
            "taskwire_tasks_otel_export",
            tracing::Dispatch::new(
                tracing_subscriber::registry()
                    .with(taskwire_tasks::layer())
                    .with(otel),
            ),
        ),
        (
            "taskwire_tasks_recent",
            tracing::Dispatch::new(tracing_subscriber::registry().with(
                taskwire_tasks::layer().with_recent(taskwire_tasks::RecentTasks::new(1_000)),
            )),
        ),
        (
            "taskwire_tasks_json",
            tracing::Dispatch::new(
                tracing_subscriber::registry()
                    .with(taskwire_tasks::layer())
                    .with(taskwire_json::layer().with_writer(std::io::sink)),
            ),
        ),
        (
            "taskwire_tasks_json_recent",
            tracing::Dispatch::new(
                tracing_subscriber::registry()
                    .with(
                        taskwire_tasks::layer()
                            .with_recent(taskwire_tasks::RecentTasks::new(1_000)),
                    )
                    .with(taskwire_json::layer().with_writer(std::io::sink)),
            ),
        ),
        (
            "minimal_export_floor",
            tracing::Dispatch::new(tracing_subscriber::registry().with(MinimalExport {
                queue: floor_queue.clone(),
            })),
        ),
        (
            "task_model_export_floor",
            tracing::Dispatch::new(
                tracing_subscriber::registry()
                    .with(model_floor::TaskModelFloor::exporting(model_queue.clone())),
            ),
        ),
        (
            "tracing_opentelemetry",
            tracing::Dispatch::new(
                tracing_subscriber::registry()
                    .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"))),
            ),
        ),
    ];
    let rounds = 1_000;
    let names: Vec<&str> = stacks.iter().map(|(n, _)| *n).collect();
    let at = |name: &str| names.iter().position(|n| *n == name).unwrap_or(0);
    let dispatchers: Vec<&tracing::Dispatch> = stacks.iter().map(|(_, d)| d).collect();
    // Every chunk starts with empty export queues; flushing takes place outside the timing.
    let mut flush = || {
        let _ = guard.flush();
        let _ = provider.force_flush();
        floor_queue.drain();
        model_queue.drain();
    };
    let (t, cpu) =
        paired::rounds_wall_and_cpu(&dispatchers, CHUNK, rounds, &mut lifecycle, &mut flush);
    drop(dispatchers);
    drop(stacks);
    // Two spans per lifecycle, five warm-up rounds.
    let created = (rounds as u64 + 5) * u64::from(CHUNK) * 2;
    let stats = guard.shutdown();
    let _ = provider.shutdown();
    floor_queue.stop();
    model_queue.stop();
    let received = [
        ("taskwire_tasks_otel_export", stats.spans_exported),
        (
            "tracing_opentelemetry (spans the no-op exporter got)",
            sdk_received.spans.load(Ordering::Relaxed),
        ),
        (
            "minimal_export_floor",
            floor_queue.taken.load(Ordering::Relaxed),
        ),
        (
            "task_model_export_floor",
            model_queue.taken.load(Ordering::Relaxed),
        ),
    ];
    report("taskwire_tasks_otel_export", stats);
    let otel = at("tracing_opentelemetry");
    println!("paired: {rounds} rounds of {CHUNK} lifecycles per stack");
    for (i, name) in names.iter().enumerate() {
        let mut own = t[i].clone();
        let f = paired::ratio(&t[i], &t[0]);
        let o = paired::ratio(&t[otel], &t[i]);
        println!(
            "  {name:30} median {:7.1} ns  x floor {:.2} ({:.2}-{:.2})  tracing-opentelemetry / this {:.2} ({:.2}-{:.2})",
            quartiles(&mut own)[1],
            f[1],
            f[0],
            f[2],
            o[1],
            o[0],
            o[2]
        );
    }
    for (name, num, den) in [
        // The task target: taskwire-tasks ÷ the task floor (the minimal task layer).
        (
            "taskwire_tasks / minimal_task_layer",
            "taskwire_tasks",
            "minimal_task_layer",
        ),
        // what the task model requires beyond the task floor, and taskwire above that
        (
            "task_model_floor / minimal_task_layer",
            "task_model_floor",
            "minimal_task_layer",
        ),
        (
            "taskwire_tasks / task_model_floor",
            "taskwire_tasks",
            "task_model_floor",
        ),
        (
            "taskwire_tasks_unsampled / minimal_task_layer_unsampled",
            "taskwire_tasks_unsampled",
            "minimal_task_layer_unsampled",
        ),
        // the ring of recent tasks on, against off
        (
            "taskwire_tasks_recent / taskwire_tasks",
            "taskwire_tasks_recent",
            "taskwire_tasks",
        ),
        // the same beside the JSON layer, which captures the fields anyway
        (
            "taskwire_tasks_json_recent / taskwire_tasks_json",
            "taskwire_tasks_json_recent",
            "taskwire_tasks_json",
        ),
        // The export target, and what the least exporting layer reaches.
        (
            "tracing_opentelemetry / taskwire_tasks_otel_export",
            "tracing_opentelemetry",
            "taskwire_tasks_otel_export",
        ),
        (
            "tracing_opentelemetry / minimal_export_floor",
            "tracing_opentelemetry",
            "minimal_export_floor",
        ),
        (
            "taskwire_tasks_otel_export / minimal_export_floor",
            "taskwire_tasks_otel_export",
            "minimal_export_floor",
        ),
        // the export on top of the task model: the least code doing what taskwire's stack does
        (
            "tracing_opentelemetry / task_model_export_floor",
            "tracing_opentelemetry",
            "task_model_export_floor",
        ),
        (
            "taskwire_tasks_otel_export / task_model_export_floor",
            "taskwire_tasks_otel_export",
            "task_model_export_floor",
        ),
    ] {
        let [q1, m, q3] = paired::ratio(&t[at(num)], &t[at(den)]);
        println!("  {name:56} {m:.3} ({q1:.3}-{q3:.3})");
    }
    // The export target in the calling thread's CPU time: what the application's thread pays,
    // without the export threads' work, which wall time charges to it when no core is free.
    println!("calling thread's CPU time (the same rounds):");
    for name in [
        "minimal_task_layer",
        "taskwire_tasks",
        "taskwire_tasks_otel_export",
        "minimal_export_floor",
        "task_model_export_floor",
        "tracing_opentelemetry",
    ] {
        let mut own = cpu[at(name)].clone();
        let o = paired::ratio(&cpu[otel], &cpu[at(name)]);
        println!(
            "  {name:30} median {:7.1} ns  tracing-opentelemetry / this {:.3} ({:.3}-{:.3})",
            quartiles(&mut own)[1],
            o[1],
            o[0],
            o[2]
        );
    }
    for den in ["minimal_export_floor", "task_model_export_floor"] {
        let [q1, m, q3] = paired::ratio(&cpu[at("taskwire_tasks_otel_export")], &cpu[at(den)]);
        let name = format!("taskwire_tasks_otel_export / {den}");
        println!("  {name:56} {m:.3} ({q1:.3}-{q3:.3})");
    }
    println!("spans created per stack: {created}");
    let mut dropped = false;
    for (name, got) in received {
        println!(
            "  {name:56} received {got} (dropped {})",
            created.saturating_sub(got)
        );
        dropped |= got != created;
    }
    assert!(
        !dropped,
        "an exporting stack dropped spans: the run does not measure the target"
    );
}

criterion_group!(benches, bench_lifecycle, bench_current, bench_codec);

fn main() {
    paired::main(paired, benches);
}
