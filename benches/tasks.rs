//! Tasks benchmarks: the cost of a span lifecycle (2 nested spans of 3 fields: create, enter,
//! exit, close) with taskwire-tasks, beside the bare Registry, the floor (a trivial layer that
//! only stores a u64 id in extensions), the least a hand-written task layer can do
//! (`benches/support/floors.rs`, sampled and unsampled) and tracing-opentelemetry with an SDK provider and a
//! no-op exporter; with export on: taskwire-tasks + taskwire-otel through its queue and export
//! thread into the same no-op exporter (and both into OTLP/HTTP against a local sink that
//! answers 200); plus reading the current task id and the traceparent codec.
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

use std::hint::black_box;

use criterion::measurement::WallTime;
use criterion::{criterion_group, BenchmarkGroup, Criterion};
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use taskwire_core::propagation::TraceParent;
use tracing_subscriber::prelude::*;

#[path = "support/floors.rs"]
mod floors;
#[path = "support/paired.rs"]
mod paired;
use floors::{lifecycle, IdLayer, MinimalTasks, NoopExporter};
use paired::quartiles;

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
    g.bench_function("tracing_opentelemetry", |b| {
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(NoopExporter)
            .build();
        let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"));
        let d = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        tracing::dispatcher::with_default(&d, || b.iter(lifecycle));
        let _ = provider.shutdown();
    });
    // Export on. The layer (and its export thread) is built once per row, outside the
    // measured closure, and its counts are printed after the row.
    bench_tasks_otel(
        &mut g,
        "taskwire_tasks_otel_export",
        taskwire_otel::layer().with_span_exporter(NoopExporter),
    );

    // The same two, exporting OTLP/HTTP protobuf for real (opentelemetry-otlp, blocking
    // reqwest client) to a local endpoint that reads each request and answers 200.
    let sink = otlp_sink();
    bench_tasks_otel(
        &mut g,
        "taskwire_tasks_otel_otlp",
        taskwire_otel::layer().with_endpoint(&sink),
    );

    use opentelemetry_otlp::WithExportConfig;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(opentelemetry_otlp::Protocol::HttpBinary)
        .with_endpoint(format!("{sink}/v1/traces"))
        .build()
        .expect("OTLP exporter");
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .build();
    let d = tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"))),
    );
    g.bench_function("tracing_opentelemetry_otlp", |b| {
        tracing::dispatcher::with_default(&d, || b.iter(lifecycle));
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
        tracing::dispatcher::with_default(&d, || b.iter(lifecycle));
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
fn paired() {
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(NoopExporter)
        .build();
    let (otel, guard) = taskwire_otel::layer()
        .with_span_exporter(NoopExporter)
        .build()
        .expect("taskwire-otel starts");
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
            "tracing_opentelemetry",
            tracing::Dispatch::new(
                tracing_subscriber::registry()
                    .with(tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"))),
            ),
        ),
    ];
    let chunk = 1_000_u32;
    let rounds = 1_000;
    let dispatchers: Vec<&tracing::Dispatch> = stacks.iter().map(|(_, d)| d).collect();
    let t = paired::rounds(&dispatchers, chunk, rounds, &mut lifecycle, &mut || {});
    drop(dispatchers);
    drop(stacks);
    report("taskwire_tasks_otel_export", guard.shutdown());
    let _ = provider.shutdown();
    let names = [
        "floor_id_layer",
        "minimal_task_layer",
        "minimal_task_layer_unsampled",
        "taskwire_tasks",
        "taskwire_tasks_unsampled",
        "taskwire_tasks_otel_export",
        "taskwire_tasks_recent",
        "taskwire_tasks_json",
        "taskwire_tasks_json_recent",
        "tracing_opentelemetry",
    ];
    let otel = names.len() - 1;
    println!("paired: {rounds} rounds of {chunk} lifecycles per stack");
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
    // The task target: taskwire-tasks ÷ the task floor (the minimal task layer).
    for (name, num, den) in [
        ("taskwire_tasks / minimal_task_layer", 3, 1),
        (
            "taskwire_tasks_unsampled / minimal_task_layer_unsampled",
            4,
            2,
        ),
        // the ring of recent tasks on, against off
        ("taskwire_tasks_recent / taskwire_tasks", 6, 3),
        // the same beside the JSON layer, which captures the fields anyway
        ("taskwire_tasks_json_recent / taskwire_tasks_json", 8, 7),
    ] {
        let [q1, m, q3] = paired::ratio(&t[num], &t[den]);
        println!("  {name:56} {m:.3} ({q1:.3}-{q3:.3})");
    }
}

criterion_group!(benches, bench_lifecycle, bench_current, bench_codec);

fn main() {
    paired::main(paired, benches);
}
