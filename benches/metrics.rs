//! Metrics benchmarks: the cost of a span lifecycle (create with 2 fields, enter, exit, close)
//! with taskwire-metrics beside the bare Registry, an empty layer, the usual hand-written layer
//! (an `Instant` in the extensions, `histogram!("span.duration", "name" => name)` on close, a
//! Prometheus recorder installed), metrics-tracing-context on top of it, and tracing-timing;
//! the primitives (a clock pair, one hdrhistogram record) beside taskwire's recording; and a
//! snapshot of 100 histograms with all percentiles.
//!
//! ```text
//! cargo bench --features prometheus --bench metrics
//! ```
//!
//! Recorders that keep raw samples (metrics-exporter-prometheus) are drained between batches of
//! 10 000 spans, outside the timed section, as a scraper or the exporter's upkeep would.
//!
//! On a shared machine, `TASKWIRE_PAIRED=1 cargo bench --features prometheus --bench metrics` instead runs the main
//! variants round-robin in short chunks (so all see the same load) and prints per-variant medians
//! and the median of per-round ratios.

use std::hint::black_box;
use std::time::{Duration, Instant};

#[path = "support/paired.rs"]
mod paired;
use paired::quartiles;

use criterion::{criterion_group, Criterion};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use metrics_util::layers::Layer as _;
use tracing::{Dispatch, Subscriber};
use tracing_core::span::{Attributes, Id};
use tracing_subscriber::layer::Context;
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::{LookupSpan, Registry};
use tracing_subscriber::Layer;

/// A layer that does nothing.
struct Empty;

impl<S: Subscriber> Layer<S> for Empty {}

/// A span's creation time, in its extensions.
struct Start(Instant);

/// A layer that puts an `Instant` in the extensions and hands the span's name and wall time in
/// seconds to `record` on close: with `histogram!("span.duration", "name" => name)`, the usual
/// hand-written metrics layer; with one handle registered up front, the floor of any layer
/// that times spans into the facade (no labels, no lookup, no in-app aggregation).
struct Elapsed<F>(F);

impl<S, F> Layer<S> for Elapsed<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    F: Fn(&'static str, f64) + 'static,
{
    fn on_new_span(&self, _attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Start(Instant::now()));
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id) {
            if let Some(start) = span.extensions().get::<Start>() {
                (self.0)(span.name(), start.0.elapsed().as_secs_f64());
            }
        }
    }
}

/// The usual hand-written metrics layer.
fn peer() -> Elapsed<impl Fn(&'static str, f64) + Send + Sync> {
    Elapsed(|name: &'static str, secs| {
        metrics::histogram!("span.duration", "name" => name).record(secs);
    })
}

/// The floor of any layer that times spans into the facade, its handle registered with
/// `recorder`.
fn floor(recorder: &PrometheusRecorder) -> Elapsed<impl Fn(&'static str, f64) + Send + Sync> {
    let h = metrics::with_local_recorder(recorder, || metrics::histogram!("span.duration"));
    Elapsed(move |_: &'static str, secs| h.record(secs))
}

/// The hand-written layer with busy time, as tracing-subscriber's `Timings` keep it.
struct PeerBusy;

struct Times {
    created: Instant,
    busy: Duration,
    entered: Option<Instant>,
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for PeerBusy {
    fn on_new_span(&self, _attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Times {
                created: Instant::now(),
                busy: Duration::ZERO,
                entered: None,
            });
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(t) = span.extensions_mut().get_mut::<Times>() {
                t.entered = Some(Instant::now());
            }
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            if let Some(t) = span.extensions_mut().get_mut::<Times>() {
                if let Some(at) = t.entered.take() {
                    t.busy += at.elapsed();
                }
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id) {
            if let Some(t) = span.extensions().get::<Times>() {
                let name = span.name();
                metrics::histogram!("span.duration", "name" => name)
                    .record(t.created.elapsed().as_secs_f64());
                metrics::histogram!("span.busy", "name" => name).record(t.busy.as_secs_f64());
            }
        }
    }
}

fn lifecycle() {
    let span = tracing::info_span!("request", user_id = 42_u64, route = "/checkout");
    let _e = span.enter();
    black_box(&span);
}

fn prometheus() -> (PrometheusRecorder, PrometheusHandle) {
    let recorder = taskwire_metrics::prometheus::configure(PrometheusBuilder::new())
        .expect("buckets")
        .build_recorder();
    let handle = recorder.handle();
    (recorder, handle)
}

/// A Registry with `layer`, as a dispatcher.
fn dispatch(layer: impl Layer<Registry> + Send + Sync + 'static) -> Dispatch {
    Dispatch::new(tracing_subscriber::registry().with(layer))
}

/// An hdrhistogram from a nanosecond to an hour, 3 significant digits.
fn hdr() -> hdrhistogram::Histogram<u64> {
    hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).expect("bounds")
}

/// The next of a spread of values over several octaves.
fn next_value(v: &mut u64) -> u64 {
    *v = v.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1) >> 40 | 1;
    *v
}

/// Times `iters` runs of `step` in batches of 10 000, calling `drain` between batches
/// (untimed), as a scraper or the exporter's upkeep would.
fn batched(iters: u64, step: impl FnMut(), drain: impl Fn()) -> Duration {
    paired::batched(iters, 10_000, step, drain)
}

/// Nanoseconds per run of `step`, over `n` runs.
fn per_run(n: u32, mut step: impl FnMut()) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        step();
    }
    t.elapsed().as_nanos() as f64 / f64::from(n)
}

/// One span lifecycle variant: its subscriber and, when it exports, its recorder with the
/// Prometheus handle that drains it.
struct Variant {
    name: &'static str,
    dispatch: Dispatch,
    recorder: Option<(Box<dyn metrics::Recorder>, PrometheusHandle)>,
}

impl Variant {
    /// A variant that exports nothing.
    fn plain(name: &'static str, dispatch: Dispatch) -> Self {
        Variant {
            name,
            dispatch,
            recorder: None,
        }
    }

    /// A variant exporting into a Prometheus recorder of its own, with a subscriber `make`
    /// builds for that recorder.
    fn recorded(name: &'static str, make: impl FnOnce(&PrometheusRecorder) -> Dispatch) -> Self {
        let (recorder, handle) = prometheus();
        let dispatch = make(&recorder);
        Variant {
            name,
            dispatch,
            recorder: Some((Box::new(recorder), handle)),
        }
    }

    /// Runs `f` with this variant's subscriber and recorder installed.
    fn run<R>(&self, f: impl FnOnce() -> R) -> R {
        let run = || tracing::dispatcher::with_default(&self.dispatch, f);
        match &self.recorder {
            Some((r, _)) => metrics::with_local_recorder(&**r, run),
            None => run(),
        }
    }

    /// Drains the recorder's raw samples, if any.
    fn drain(&self) {
        if let Some((_, h)) = &self.recorder {
            h.run_upkeep();
        }
    }
}

/// The span lifecycle variants, in the order of the criterion group.
fn variants() -> Vec<Variant> {
    let with_context = {
        let (recorder, handle) = prometheus();
        let recorder = metrics_tracing_context::TracingContextLayer::all().layer(recorder);
        Variant {
            name: "peer_with_metrics_tracing_context",
            dispatch: Dispatch::new(
                tracing_subscriber::registry()
                    .with(metrics_tracing_context::MetricsLayer::new())
                    .with(peer()),
            ),
            recorder: Some((Box::new(recorder), handle)),
        }
    };
    let tracing_timing = tracing_timing::Builder::default()
        .span_close_events()
        .layer(|| tracing_timing::Histogram::new_with_max(60_000_000_000, 2).expect("bounds"));
    vec![
        Variant::plain("registry", Dispatch::new(tracing_subscriber::registry())),
        Variant::plain("empty_layer", dispatch(Empty)),
        Variant::recorded("peer_histogram_macro", |_| dispatch(peer())),
        Variant::recorded("floor_cached_handle", |r| dispatch(floor(r))),
        Variant::recorded("peer_busy_histogram_macro", |_| dispatch(PeerBusy)),
        with_context,
        Variant::plain("tracing_timing", dispatch(tracing_timing)),
        Variant::recorded("taskwire_metrics", |_| dispatch(taskwire_metrics::layer())),
        Variant::recorded("taskwire_metrics_busy", |_| {
            dispatch(taskwire_metrics::layer().with_busy_time(true))
        }),
        Variant::recorded("taskwire_metrics_route_label", |_| {
            dispatch(taskwire_metrics::layer().with_label_fields(["route"]))
        }),
        // In a full stack the span capture is shared: what labels from fields add to
        // taskwire-tasks.
        Variant::plain("taskwire_tasks_alone", dispatch(taskwire_tasks::layer())),
        Variant::recorded("taskwire_tasks_and_metrics_route_label", |_| {
            Dispatch::new(
                tracing_subscriber::registry()
                    .with(taskwire_tasks::layer())
                    .with(taskwire_metrics::layer().with_label_fields(["route"])),
            )
        }),
    ]
}

fn bench_lifecycle(c: &mut Criterion) {
    let mut g = c.benchmark_group("metrics_span_lifecycle_2_fields");
    for v in variants() {
        v.run(|| match v.recorder {
            None => g.bench_function(v.name, |b| b.iter(lifecycle)),
            Some(_) => g.bench_function(v.name, |b| {
                b.iter_custom(|iters| batched(iters, lifecycle, || v.drain()))
            }),
        });
    }
    g.finish();
}

fn bench_primitives(c: &mut Criterion) {
    let mut g = c.benchmark_group("metrics_primitives");
    g.bench_function("clock_pair", |b| {
        b.iter(|| {
            let start = Instant::now();
            black_box(start.elapsed())
        })
    });
    g.bench_function("hdrhistogram_record", |b| {
        let mut h = hdr();
        let mut v = 1_000_u64;
        b.iter(|| h.record(black_box(next_value(&mut v))).expect("in range"))
    });
    g.bench_function("clock_pair_and_hdrhistogram_record", |b| {
        let mut h = hdr();
        b.iter(|| {
            let start = Instant::now();
            let d = start.elapsed();
            h.record(d.as_nanos() as u64).expect("in range");
        })
    });
    g.bench_function("taskwire_histogram_record", |b| {
        let h = taskwire_metrics::histogram::Histogram::new();
        let mut v = 1_000_u64;
        b.iter(|| h.record(black_box(next_value(&mut v))))
    });
    {
        // One sample into a cached Prometheus histogram handle.
        let (recorder, handle) = prometheus();
        let h = metrics::with_local_recorder(&recorder, || metrics::histogram!("x_seconds"));
        g.bench_function("prometheus_handle_record", |b| {
            b.iter_custom(|iters| {
                batched(iters, || h.record(black_box(0.001)), || handle.run_upkeep())
            })
        });
    }
    {
        // The layer's recording without a recorder: clock pair and the in-app windowed timer.
        let rec = taskwire_metrics::bench_support::SpanRecording::default();
        g.bench_function("taskwire_recording_in_app_only", |b| {
            b.iter(|| {
                let start = rec.start();
                rec.finish(black_box(start));
            })
        });
    }
    {
        // The layer's recording: clock pair, in-app windowed timer, facade handle.
        let (recorder, handle) = prometheus();
        metrics::with_local_recorder(&recorder, || {
            let rec = taskwire_metrics::bench_support::SpanRecording::default();
            g.bench_function("taskwire_recording", |b| {
                b.iter_custom(|iters| {
                    batched(
                        iters,
                        || rec.finish(black_box(rec.start())),
                        || handle.run_upkeep(),
                    )
                })
            });
        });
    }
    g.finish();
}

fn bench_snapshot(c: &mut Criterion) {
    let mut g = c.benchmark_group("metrics_snapshot");
    let layer = taskwire_metrics::layer();
    let handle = layer.handle();
    tracing::dispatcher::with_default(&dispatch(layer), || {
        for i in 0..100_000_u32 {
            let name = format!("task_{}", i % 100);
            let _s = tracing::info_span!("task", task.name = name.as_str()).entered();
            // Durations over several octaves.
            std::hint::spin_loop();
            black_box(i);
        }
    });
    assert_eq!(handle.snapshot().tasks.len(), 100);
    g.bench_function("100_histograms_all_percentiles", |b| {
        b.iter(|| black_box(handle.snapshot()))
    });
    g.bench_function("100_histograms_prometheus_text", |b| {
        b.iter(|| black_box(handle.snapshot().to_prometheus()))
    });
    g.finish();
}

criterion_group!(benches, bench_lifecycle, bench_primitives, bench_snapshot);

/// One paired chunk of `n` lifecycles of `v`: nanoseconds per lifecycle.
fn chunk(v: &Variant, n: u32) -> f64 {
    let ns = v.run(|| per_run(n, lifecycle));
    v.drain();
    ns
}

fn median(v: &mut [f64]) -> f64 {
    quartiles(v)[1]
}

/// The paired variants, and the ratios printed: (variant, against).
const PAIRED: [&str; 6] = [
    "empty_layer",
    "peer_histogram_macro",
    "floor_cached_handle",
    "taskwire_metrics",
    "peer_busy_histogram_macro",
    "taskwire_metrics_busy",
];
const PAIRED_RATIOS: [(usize, usize); 3] = [(3, 1), (2, 1), (5, 4)];

fn paired() {
    let mut all = variants();
    let variants: Vec<Variant> = PAIRED
        .iter()
        .map(|name| {
            let i = all.iter().position(|v| v.name == *name).expect("a variant");
            all.swap_remove(i)
        })
        .collect();
    // Warm up: register handles, fill caches.
    for v in &variants {
        chunk(v, 50_000);
    }
    let rounds = 150;
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); variants.len()];
    for _ in 0..rounds {
        for (i, v) in variants.iter().enumerate() {
            times[i].push(chunk(v, 10_000));
        }
    }
    let ratio = |a: usize, b: usize, base: Option<usize>| {
        let mut r: Vec<f64> = (0..rounds)
            .map(|k| {
                let o = base.map_or(0.0, |e| times[e][k]);
                (times[a][k] - o) / (times[b][k] - o)
            })
            .collect();
        median(&mut r)
    };
    for (i, v) in variants.iter().enumerate() {
        let mut t = times[i].clone();
        let min = t.iter().copied().fold(f64::INFINITY, f64::min);
        println!(
            "{:28} median {:7.1} ns  min {:7.1} ns",
            v.name,
            median(&mut t),
            min
        );
    }
    println!("per-round ratios (median of {rounds}); added = minus the empty layer:");
    for (a, b) in PAIRED_RATIOS {
        println!(
            "  {} / {}: total {:.2}x, added {:.2}x",
            variants[a].name,
            variants[b].name,
            ratio(a, b, None),
            ratio(a, b, Some(0))
        );
    }
}

/// The recording against its primitives, round-robin: ns per sample.
fn paired_recording() {
    let (recorder, prom) = prometheus();
    let rec = metrics::with_local_recorder(
        &recorder,
        taskwire_metrics::bench_support::SpanRecording::default,
    );
    let in_app = taskwire_metrics::bench_support::SpanRecording::default();
    let handle = metrics::with_local_recorder(&recorder, || metrics::histogram!("x_seconds"));
    let mut hdr = hdr();
    let n = 10_000_u32;
    let names = [
        "clock_pair_and_hdrhistogram_record",
        "taskwire_recording",
        "taskwire_recording_in_app_only",
        "prometheus_handle_record",
    ];
    let rounds = 200;
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for _ in 0..rounds {
        times[0].push(per_run(n, || {
            let start = Instant::now();
            let d = start.elapsed();
            let _ = hdr.record(black_box(d.as_nanos() as u64));
        }));
        times[1].push(per_run(n, || rec.finish(black_box(rec.start()))));
        times[2].push(per_run(n, || in_app.finish(black_box(in_app.start()))));
        times[3].push(per_run(n, || handle.record(black_box(0.001))));
        prom.run_upkeep();
    }
    for (i, name) in names.iter().enumerate() {
        let mut t = times[i].clone();
        println!("{name:36} median {:6.1} ns", median(&mut t));
    }
    for i in [1, 2] {
        let mut r: Vec<f64> = (0..rounds).map(|k| times[i][k] / times[0][k]).collect();
        println!("  {} / {}: {:.2}x", names[i], names[0], median(&mut r));
    }
}

fn main() {
    paired::main(
        || {
            paired();
            paired_recording();
        },
        benches,
    );
}
