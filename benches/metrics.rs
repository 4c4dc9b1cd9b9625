//! Metrics benchmarks: the cost of a span lifecycle (create with 2 fields, enter, exit, close)
//! with taskwire-metrics beside the bare Registry, an empty layer, the usual hand-written layer
//! (an `Instant` in the extensions, `histogram!("span.duration", "name" => name)` on close, a
//! Prometheus recorder installed), metrics-tracing-context on top of it, and tracing-timing;
//! the primitives (a clock pair, one hdrhistogram record) beside taskwire's recording; and a
//! snapshot of 100 histograms with all percentiles.
//!
//! ```text
//! cargo bench --bench metrics
//! ```
//!
//! Recorders that keep raw samples (metrics-exporter-prometheus) are drained between batches of
//! 10 000 spans, outside the timed section, as a scraper or the exporter's upkeep would.
//!
//! On a shared machine, `TASKWIRE_PAIRED=1 cargo bench --bench metrics` instead runs the main
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
use tracing::Subscriber;
use tracing_core::span::{Attributes, Id};
use tracing_subscriber::layer::Context;
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// A layer that does nothing.
struct Empty;

impl<S: Subscriber> Layer<S> for Empty {}

/// The usual hand-written metrics layer.
struct Peer;

struct Start(Instant);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Peer {
    fn on_new_span(&self, _attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Start(Instant::now()));
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id) {
            if let Some(start) = span.extensions().get::<Start>() {
                metrics::histogram!("span.duration", "name" => span.name())
                    .record(start.0.elapsed().as_secs_f64());
            }
        }
    }
}

/// The floor of any layer that times spans into the facade: an `Instant` in the extensions and
/// one handle registered up front (no labels, no lookup, no in-app aggregation).
struct Floor(metrics::Histogram);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Floor {
    fn on_new_span(&self, _attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Start(Instant::now()));
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id) {
            if let Some(start) = span.extensions().get::<Start>() {
                self.0.record(start.0.elapsed().as_secs_f64());
            }
        }
    }
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

/// Times `iters` lifecycles in batches, draining the recorder between batches (untimed).
fn batched(iters: u64, drain: &dyn Fn()) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(10_000);
        let start = Instant::now();
        for _ in 0..n {
            lifecycle();
        }
        total += start.elapsed();
        drain();
        left -= n;
    }
    total
}

fn with_recorder<R: metrics::Recorder>(
    c: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    name: &str,
    recorder: &R,
    drain: &dyn Fn(),
    dispatch: tracing::Dispatch,
) {
    metrics::with_local_recorder(recorder, || {
        tracing::dispatcher::with_default(&dispatch, || {
            c.bench_function(name, |b| b.iter_custom(|iters| batched(iters, drain)));
        });
    });
}

fn bench_lifecycle(c: &mut Criterion) {
    let mut g = c.benchmark_group("metrics_span_lifecycle_2_fields");
    g.bench_function("registry", |b| {
        let d = tracing::Dispatch::new(tracing_subscriber::registry());
        tracing::dispatcher::with_default(&d, || b.iter(lifecycle));
    });
    g.bench_function("empty_layer", |b| {
        let d = tracing::Dispatch::new(tracing_subscriber::registry().with(Empty));
        tracing::dispatcher::with_default(&d, || b.iter(lifecycle));
    });
    {
        let (recorder, handle) = prometheus();
        let d = tracing::Dispatch::new(tracing_subscriber::registry().with(Peer));
        with_recorder(
            &mut g,
            "peer_histogram_macro",
            &recorder,
            &|| handle.run_upkeep(),
            d,
        );
    }
    {
        let (recorder, handle) = prometheus();
        let h = metrics::with_local_recorder(&recorder, || metrics::histogram!("span.duration"));
        let d = tracing::Dispatch::new(tracing_subscriber::registry().with(Floor(h)));
        with_recorder(
            &mut g,
            "floor_cached_handle",
            &recorder,
            &|| handle.run_upkeep(),
            d,
        );
    }
    {
        let (recorder, handle) = prometheus();
        let d = tracing::Dispatch::new(tracing_subscriber::registry().with(PeerBusy));
        with_recorder(
            &mut g,
            "peer_busy_histogram_macro",
            &recorder,
            &|| handle.run_upkeep(),
            d,
        );
    }
    {
        let (recorder, handle) = prometheus();
        let recorder = metrics_tracing_context::TracingContextLayer::all().layer(recorder);
        let d = tracing::Dispatch::new(
            tracing_subscriber::registry()
                .with(metrics_tracing_context::MetricsLayer::new())
                .with(Peer),
        );
        with_recorder(
            &mut g,
            "peer_with_metrics_tracing_context",
            &recorder,
            &|| handle.run_upkeep(),
            d,
        );
    }
    g.bench_function("tracing_timing", |b| {
        let layer = tracing_timing::Builder::default()
            .span_close_events()
            .layer(|| tracing_timing::Histogram::new_with_max(60_000_000_000, 2).expect("bounds"));
        let d = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
        tracing::dispatcher::with_default(&d, || b.iter(lifecycle));
    });
    {
        let (recorder, handle) = prometheus();
        let d =
            tracing::Dispatch::new(tracing_subscriber::registry().with(taskwire_metrics::layer()));
        with_recorder(
            &mut g,
            "taskwire_metrics",
            &recorder,
            &|| handle.run_upkeep(),
            d,
        );
    }
    {
        let (recorder, handle) = prometheus();
        let d = tracing::Dispatch::new(
            tracing_subscriber::registry().with(taskwire_metrics::layer().with_busy_time(true)),
        );
        with_recorder(
            &mut g,
            "taskwire_metrics_busy",
            &recorder,
            &|| handle.run_upkeep(),
            d,
        );
    }
    {
        let (recorder, handle) = prometheus();
        let d = tracing::Dispatch::new(
            tracing_subscriber::registry()
                .with(taskwire_metrics::layer().with_label_fields(["route"])),
        );
        with_recorder(
            &mut g,
            "taskwire_metrics_route_label",
            &recorder,
            &|| handle.run_upkeep(),
            d,
        );
    }
    // In a full stack the span capture is shared: what labels from fields add to taskwire-tasks.
    g.bench_function("taskwire_tasks_alone", |b| {
        let d =
            tracing::Dispatch::new(tracing_subscriber::registry().with(taskwire_tasks::layer()));
        tracing::dispatcher::with_default(&d, || b.iter(lifecycle));
    });
    {
        let (recorder, handle) = prometheus();
        let d = tracing::Dispatch::new(
            tracing_subscriber::registry()
                .with(taskwire_tasks::layer())
                .with(taskwire_metrics::layer().with_label_fields(["route"])),
        );
        with_recorder(
            &mut g,
            "taskwire_tasks_and_metrics_route_label",
            &recorder,
            &|| handle.run_upkeep(),
            d,
        );
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
        let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3)
            .expect("bounds");
        let mut v = 1_000_u64;
        b.iter(|| {
            v = v.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1) >> 40 | 1;
            h.record(black_box(v)).expect("in range");
        })
    });
    g.bench_function("clock_pair_and_hdrhistogram_record", |b| {
        let mut h = hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3)
            .expect("bounds");
        b.iter(|| {
            let start = Instant::now();
            let d = start.elapsed();
            h.record(d.as_nanos() as u64).expect("in range");
        })
    });
    g.bench_function("taskwire_histogram_record", |b| {
        let h = taskwire_metrics::histogram::Histogram::new();
        let mut v = 1_000_u64;
        b.iter(|| {
            v = v.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1) >> 40 | 1;
            h.record(black_box(v));
        })
    });
    {
        // One sample into a cached Prometheus histogram handle.
        let (recorder, handle) = prometheus();
        let h = metrics::with_local_recorder(&recorder, || metrics::histogram!("x_seconds"));
        g.bench_function("prometheus_handle_record", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let n = left.min(10_000);
                    let t = Instant::now();
                    for _ in 0..n {
                        h.record(black_box(0.001));
                    }
                    total += t.elapsed();
                    handle.run_upkeep();
                    left -= n;
                }
                total
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
                    let mut total = Duration::ZERO;
                    let mut left = iters;
                    while left > 0 {
                        let n = left.min(10_000);
                        let t = Instant::now();
                        for _ in 0..n {
                            let start = rec.start();
                            rec.finish(black_box(start));
                        }
                        total += t.elapsed();
                        handle.run_upkeep();
                        left -= n;
                    }
                    total
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
    let d = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    tracing::dispatcher::with_default(&d, || {
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

/// One variant of the paired run: its subscriber and recorder.
struct Variant {
    name: &'static str,
    dispatch: tracing::Dispatch,
    recorder: Option<(PrometheusRecorder, PrometheusHandle)>,
}

fn variant(
    name: &'static str,
    recorder: bool,
    make: impl FnOnce(Option<&PrometheusRecorder>) -> tracing::Dispatch,
) -> Variant {
    let recorder = recorder.then(prometheus);
    let dispatch = make(recorder.as_ref().map(|(r, _)| r));
    Variant {
        name,
        dispatch,
        recorder,
    }
}

fn chunk(v: &Variant, n: u32) -> f64 {
    let run = || {
        tracing::dispatcher::with_default(&v.dispatch, || {
            let t = Instant::now();
            for _ in 0..n {
                lifecycle();
            }
            t.elapsed().as_nanos() as f64 / f64::from(n)
        })
    };
    let ns = match &v.recorder {
        Some((r, _)) => metrics::with_local_recorder(r, run),
        None => run(),
    };
    if let Some((_, h)) = &v.recorder {
        h.run_upkeep();
    }
    ns
}

fn median(v: &mut [f64]) -> f64 {
    quartiles(v)[1]
}

fn paired() {
    let variants = vec![
        variant("empty_layer", false, |_| {
            tracing::Dispatch::new(tracing_subscriber::registry().with(Empty))
        }),
        variant("peer_histogram_macro", true, |_| {
            tracing::Dispatch::new(tracing_subscriber::registry().with(Peer))
        }),
        variant("floor_cached_handle", true, |r| {
            let h = metrics::with_local_recorder(r.expect("recorder"), || {
                metrics::histogram!("span.duration")
            });
            tracing::Dispatch::new(tracing_subscriber::registry().with(Floor(h)))
        }),
        variant("taskwire_metrics", true, |_| {
            tracing::Dispatch::new(tracing_subscriber::registry().with(taskwire_metrics::layer()))
        }),
        variant("peer_busy_histogram_macro", true, |_| {
            tracing::Dispatch::new(tracing_subscriber::registry().with(PeerBusy))
        }),
        variant("taskwire_metrics_busy", true, |_| {
            tracing::Dispatch::new(
                tracing_subscriber::registry().with(taskwire_metrics::layer().with_busy_time(true)),
            )
        }),
    ];
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
    for (a, b) in [(3, 1), (2, 1), (5, 4)] {
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
    let mut hdr =
        hdrhistogram::Histogram::<u64>::new_with_bounds(1, 3_600_000_000_000, 3).expect("bounds");
    let n = 10_000_u32;
    let time = |f: &mut dyn FnMut()| {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        t.elapsed().as_nanos() as f64 / f64::from(n)
    };
    let names = [
        "clock_pair_and_hdrhistogram_record",
        "taskwire_recording",
        "taskwire_recording_in_app_only",
        "prometheus_handle_record",
    ];
    let rounds = 200;
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for _ in 0..rounds {
        times[0].push(time(&mut || {
            let start = Instant::now();
            let d = start.elapsed();
            let _ = hdr.record(black_box(d.as_nanos() as u64));
        }));
        times[1].push(time(&mut || rec.finish(black_box(rec.start()))));
        times[2].push(time(&mut || in_app.finish(black_box(in_app.start()))));
        times[3].push(time(&mut || handle.record(black_box(0.001))));
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
