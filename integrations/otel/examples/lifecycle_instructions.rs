//! Runs N span lifecycles (2 nested spans of 3 fields, as in `benches/tasks.rs`) under one
//! subscriber stack, for counting instructions with callgrind, which is repeatable on a
//! shared machine where wall-clock benchmarks are not:
//!
//! ```text
//! cargo build --release -p taskwire-otel --example lifecycle_instructions
//! valgrind --tool=callgrind --separate-threads=yes \
//!     target/release/examples/lifecycle_instructions tasks_otel 20000
//! ```
//!
//! Stacks: `registry` (bare), `floor` (a layer storing a u64 id), `minimal` and
//! `minimal_unsampled` (the least a hand-written task layer can do, `benches/support/floors.rs`),
//! `model` (the task model's floor: the task floor plus outcomes, control fields,
//! `tracestate`, re-entries and the default record policy, `benches/support/model_floor.rs`),
//! `model_export` (the same with the export floor's work: fields kept, every task queued),
//! `minimal_export` (the export floor: the least code that copies each finished task into a
//! bounded queue another thread empties), `tasks`, `unsampled` (tasks
//! with a sampling ratio of 0), `tasks_otel` (tasks + taskwire-otel
//! into a no-op exporter through its queue and export thread), `capture_tasks` and
//! `capture_tasks_json` (the same layers above `taskwire_core::span::capture()`), `tasks_quiet_otel` (the same
//! without `task.end` records), `tasks_json` and `tasks_json_otel` (with the JSON layer into a
//! sink, which captures the fields the export then reuses), `tracing_otel`
//! (tracing-opentelemetry, SDK batch processor, the same no-op exporter). Subtract a run of N
//! from a run of 2N to remove the setup; the caller's cost is the main thread's count, the
//! export thread's is separate. Every exporting stack's queue holds the whole run (nothing is
//! dropped, which would skip work) and the spans its exporter received are printed.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::{BatchConfigBuilder, BatchSpanProcessor, SdkTracerProvider};
use tracing_subscriber::prelude::*;

#[path = "../../../benches/support/floors.rs"]
mod floors;
#[path = "../../../benches/support/model_floor.rs"]
mod model_floor;
use floors::{
    lifecycle, CountingExporter, FloorQueue, IdLayer, MinimalExport, MinimalTasks, NoopExporter,
};

/// Spans every exporting stack's queue holds: more than any run creates.
const QUEUE: usize = 1 << 20;

fn run(d: tracing::Dispatch, n: usize) {
    tracing::dispatcher::with_default(&d, || {
        for _ in 0..n {
            lifecycle();
        }
    });
}

/// The export layer into the no-op exporter, with a queue large enough that nothing is dropped.
fn noop_export() -> (taskwire_otel::OtelLayer, taskwire_otel::OtelGuard) {
    taskwire_otel::layer()
        .with_span_exporter(NoopExporter)
        .with_queue_capacity(QUEUE)
        .build()
        .expect("starts")
}

fn main() {
    let mut args = std::env::args().skip(1);
    let stack = args.next().unwrap_or_else(|| "tasks_otel".into());
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(10_000);
    match stack.as_str() {
        "floor" => run(
            tracing::Dispatch::new(tracing_subscriber::registry().with(IdLayer)),
            n,
        ),
        "minimal" => run(
            tracing::Dispatch::new(
                tracing_subscriber::registry().with(MinimalTasks { sampled: true }),
            ),
            n,
        ),
        "minimal_unsampled" => run(
            tracing::Dispatch::new(
                tracing_subscriber::registry().with(MinimalTasks { sampled: false }),
            ),
            n,
        ),
        "minimal_export" => {
            let queue = FloorQueue::start(QUEUE, 512);
            let layer = MinimalExport {
                queue: queue.clone(),
            };
            run(
                tracing::Dispatch::new(tracing_subscriber::registry().with(layer)),
                n,
            );
            queue.drain();
            queue.stop();
            let taken = queue.taken.load(std::sync::atomic::Ordering::Relaxed);
            let dropped = queue.dropped.load(std::sync::atomic::Ordering::Relaxed);
            eprintln!("spans: {taken} taken, {dropped} dropped");
        }
        "model_export" => {
            let queue = FloorQueue::start(QUEUE, 512);
            run(
                tracing::Dispatch::new(
                    tracing_subscriber::registry()
                        .with(model_floor::TaskModelFloor::exporting(queue.clone())),
                ),
                n,
            );
            queue.drain();
            queue.stop();
            let taken = queue.taken.load(std::sync::atomic::Ordering::Relaxed);
            let dropped = queue.dropped.load(std::sync::atomic::Ordering::Relaxed);
            eprintln!("spans: {taken} taken, {dropped} dropped");
        }
        "model" => run(
            tracing::Dispatch::new(
                tracing_subscriber::registry().with(model_floor::TaskModelFloor::new()),
            ),
            n,
        ),
        "registry" => run(tracing::Dispatch::new(tracing_subscriber::registry()), n),
        "unsampled" => run(
            tracing::Dispatch::new(
                tracing_subscriber::registry().with(
                    taskwire_tasks::layer().with_sampler(taskwire_tasks::Sampler::ratio(0.0)),
                ),
            ),
            n,
        ),
        "tasks" => run(
            tracing::Dispatch::new(tracing_subscriber::registry().with(taskwire_tasks::layer())),
            n,
        ),
        "tasks_otel" => {
            let (otel, guard) = noop_export();
            run(
                tracing::Dispatch::new(
                    tracing_subscriber::registry()
                        .with(taskwire_tasks::layer())
                        .with(otel),
                ),
                n,
            );
            eprintln!("{}", guard.shutdown());
        }
        "tasks_quiet_otel" => {
            // Export without task.end records: a service that exports its tasks as spans
            // rather than logging them.
            let (otel, guard) = noop_export();
            let tasks = taskwire_tasks::layer().with_records(taskwire_tasks::TaskRecords::Off);
            run(
                tracing::Dispatch::new(tracing_subscriber::registry().with(tasks).with(otel)),
                n,
            );
            eprintln!("{}", guard.shutdown());
        }
        "capture_tasks" => run(
            tracing::Dispatch::new(
                tracing_subscriber::registry()
                    .with(taskwire_core::span::capture())
                    .with(taskwire_tasks::layer()),
            ),
            n,
        ),
        "capture_tasks_json" => run(
            tracing::Dispatch::new(
                tracing_subscriber::registry()
                    .with(taskwire_core::span::capture())
                    .with(taskwire_tasks::layer())
                    .with(taskwire_json::layer().with_writer(std::io::sink)),
            ),
            n,
        ),
        "tasks_json" => run(
            tracing::Dispatch::new(
                tracing_subscriber::registry()
                    .with(taskwire_tasks::layer())
                    .with(taskwire_json::layer().with_writer(std::io::sink)),
            ),
            n,
        ),
        "tasks_json_otel" => {
            let (otel, guard) = noop_export();
            run(
                tracing::Dispatch::new(
                    tracing_subscriber::registry()
                        .with(taskwire_tasks::layer())
                        .with(taskwire_json::layer().with_writer(std::io::sink))
                        .with(otel),
                ),
                n,
            );
            eprintln!("{}", guard.shutdown());
        }
        "tracing_otel" => {
            let received = CountingExporter::default();
            let config = BatchConfigBuilder::default()
                .with_max_queue_size(QUEUE)
                .build();
            let processor = BatchSpanProcessor::builder(received.clone())
                .with_batch_config(config)
                .build();
            let provider = SdkTracerProvider::builder()
                .with_span_processor(processor)
                .build();
            let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("bench"));
            run(
                tracing::Dispatch::new(tracing_subscriber::registry().with(layer)),
                n,
            );
            let _ = provider.shutdown();
            let got = received.spans.load(std::sync::atomic::Ordering::Relaxed);
            eprintln!("spans: {got} of {} received by the exporter", 2 * n);
        }
        other => eprintln!(
            "unknown stack {other}: registry, floor, minimal, minimal_unsampled, minimal_export, unsampled, tasks, capture_tasks, capture_tasks_json, tasks_otel, tasks_quiet_otel, tasks_json, \
             tasks_json_otel, tracing_otel"
        ),
    }
}
