//! Time per event of taskwire-console beside tracing-subscriber's `fmt().compact()` and
//! `fmt().pretty()`, with the bare registry as the floor. The target: taskwire-console's compact
//! style at most 0.5x `fmt().compact()` per event.
//!
//! Run with `cargo bench -p taskwire-console --bench console` (criterion groups), or, on a
//! shared machine, `TASKWIRE_PAIRED=1 cargo bench -p taskwire-console --bench console`: every stack runs round-robin in short
//! chunks, so that all see the same load, and the report gives each stack's median ns per event
//! and the quartiles of the per-round ratios to `fmt().compact()`. `TASKWIRE_BENCH_SHOW=1`
//! prints one event of each stack first.
//!
//! Every stack writes to a no-op writer that still receives each line (`black_box`), without
//! colour (`fmt` with `with_ansi(false)`, taskwire-console with `ColorWhen::Never`), so the
//! numbers are the layers', not the terminal's. The workload is the JSON benchmark's
//! (`benches/support/json_workload.rs` of the workspace root, shared with the umbrella's
//! benchmarks as `paired.rs` is): an `info!` with a message and five fields inside two nested,
//! entered spans of three fields each.

use std::time::Instant;

#[path = "../../../benches/support/json_workload.rs"]
mod json_workload;
#[path = "../../../benches/support/paired.rs"]
mod paired;
use json_workload::{event, in_spans};
use paired::quartiles;

use criterion::{criterion_group, Criterion, Throughput};
use taskwire_console::{ColorWhen, Style};
use taskwire_test_support::{Capture, Discard};
use tracing::Dispatch;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::Registry;

fn console<W: for<'w> MakeWriter<'w> + Send + Sync + 'static>(w: W, style: Style) -> Dispatch {
    Dispatch::new(
        Registry::default()
            .with(taskwire_core::span::capture())
            .with(
                taskwire_console::layer()
                    .with_writer(w)
                    .with_color(ColorWhen::Never)
                    .with_style(style),
            ),
    )
}

fn fmt_compact<W: for<'w> MakeWriter<'w> + Send + Sync + 'static>(w: W) -> Dispatch {
    Dispatch::new(
        Registry::default().with(
            tracing_subscriber::fmt::layer()
                .compact()
                .with_ansi(false)
                .with_writer(w),
        ),
    )
}

fn fmt_pretty<W: for<'w> MakeWriter<'w> + Send + Sync + 'static>(w: W) -> Dispatch {
    Dispatch::new(
        Registry::default().with(
            tracing_subscriber::fmt::layer()
                .pretty()
                .with_ansi(false)
                .with_writer(w),
        ),
    )
}

/// The stacks, in report order; `fmt().compact()` is the reference.
fn stacks<W: for<'w> MakeWriter<'w> + Clone + Send + Sync + 'static>(
    w: W,
) -> Vec<(&'static str, Dispatch)> {
    vec![
        (
            "taskwire_console_compact",
            console(w.clone(), Style::Compact),
        ),
        ("taskwire_console_pretty", console(w.clone(), Style::Pretty)),
        ("fmt_compact", fmt_compact(w.clone())),
        ("fmt_pretty", fmt_pretty(w)),
        ("registry_floor", Dispatch::new(Registry::default())),
    ]
}

const REFERENCE: usize = 2;

fn show() {
    let cap = Capture::default();
    for (name, d) in stacks(cap.clone()) {
        cap.clear();
        tracing::dispatcher::with_default(&d, || in_spans(event));
        eprint!("{name}:\n{}", cap.text());
    }
}

fn per_event(c: &mut Criterion) {
    if std::env::var_os("TASKWIRE_BENCH_SHOW").is_some() {
        show();
    }
    let mut g = c.benchmark_group("console_event");
    g.throughput(Throughput::Elements(1));
    for (name, d) in stacks(Discard) {
        tracing::dispatcher::with_default(&d, || {
            in_spans(|| g.bench_function(name, |b| b.iter(event)));
        });
    }
    g.finish();
}

criterion_group!(benches, per_event);

/// Every stack round-robin, `chunk` events per stack per round, inside the workload's spans.
fn paired_run() {
    if std::env::var_os("TASKWIRE_BENCH_SHOW").is_some() {
        show();
    }
    let env = |k: &str, d: usize| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let chunk = env("TASKWIRE_PAIRED_CHUNK", 2_000);
    let rounds = env("TASKWIRE_PAIRED_ROUNDS", 300);
    let stacks = stacks(Discard);
    let time = |d: &Dispatch| {
        tracing::dispatcher::with_default(d, || {
            in_spans(|| {
                let t = Instant::now();
                for _ in 0..chunk {
                    event();
                }
                t.elapsed().as_nanos() as f64 / chunk as f64
            })
        })
    };
    for _ in 0..5 {
        for (_, d) in &stacks {
            time(d);
        }
    }
    let mut t: Vec<Vec<f64>> = vec![Vec::with_capacity(rounds); stacks.len()];
    for _ in 0..rounds {
        for (i, (_, d)) in stacks.iter().enumerate() {
            t[i].push(time(d));
        }
    }
    println!("paired: {rounds} rounds of {chunk} events per stack");
    for (i, (name, _)) in stacks.iter().enumerate() {
        let [q1, m, q3] = quartiles(&mut t[i].clone());
        let [r1, r, r3] = paired::ratio(&t[i], &t[REFERENCE]);
        println!(
            "  {name:26} median {m:7.1} ns (quartiles {q1:.1}-{q3:.1})  / fmt_compact {r:.3} ({r1:.3}-{r3:.3})"
        );
    }
}

fn main() {
    paired::main(paired_run, benches);
}
