//! The tower middleware's added cost per request: taskwire's `TaskLayer` beside tower-http's
//! `TraceLayer`, both around the same trivial service, under the same subscriber (Registry +
//! taskwire-tasks + taskwire-json into a no-op writer). "Added cost" is each middleware's time
//! minus the bare service's.
//!
//! ```text
//! cargo bench --bench tower --features tower
//! ```
//!
//! On a shared machine, `TASKWIRE_PAIRED=1 cargo bench --bench tower --features tower` instead
//! runs the three services round-robin in chunks of 2,000 requests (so all see the same load),
//! 300 rounds, and prints each one's median time per request and the median of the per-round
//! ratios of the added costs.
//!
//! `TASKWIRE_PAIRED=warn` measures what the builder's span filter costs under `RUST_LOG=warn`:
//! the same `TaskLayer` request through two `taskwire::builder()` stacks (tasks + JSON into a
//! no-op writer, filter `warn`), one with `span_filter("off")` (INFO spans follow the filter
//! and are disabled) and one with the default `span_filter("info")` (INFO spans tracked, their
//! `task.end` written), round-robin in chunks, and prints the medians and the median per-round
//! difference.
//!
//! For counting instructions, `TASKWIRE_INSTR=bare|taskwire|trace:N` runs N requests through
//! one service and exits (run it under callgrind for N and 2N and subtract):
//!
//! ```text
//! TASKWIRE_INSTR=taskwire:20000 valgrind --tool=callgrind target/release/deps/tower-… --bench
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

#[path = "support/paired.rs"]
mod paired;
use paired::quartiles;

use criterion::{criterion_group, Criterion};
use http::{Request, Response};
use http_body::Body;
use taskwire_test_support::Discard;
use tower::{service_fn, Layer, Service, ServiceExt};
use tracing_subscriber::prelude::*;

/// Polls a future that is ready at once (all of these are: no I/O).
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

/// Sends one request through `svc` and reads the whole response body.
fn one<S, B>(svc: &mut S)
where
    S: Service<Request<String>, Response = Response<B>>,
    S::Error: std::fmt::Debug,
    B: Body + Unpin,
{
    let req = Request::get("/users/42")
        .header(
            "traceparent",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        )
        .body(String::new())
        .unwrap_or_default();
    let resp = ready(async {
        let s = svc.ready().await?;
        s.call(req).await
    })
    .ok();
    if let Some(resp) = resp {
        let mut body = resp.into_body();
        let mut cx = Context::from_waker(Waker::noop());
        while let Poll::Ready(Some(frame)) = std::pin::Pin::new(&mut body).poll_frame(&mut cx) {
            black_box(frame.is_ok());
        }
    }
}

fn handler(
) -> impl Service<Request<String>, Response = Response<String>, Error = Infallible> + Clone {
    service_fn(|_req: Request<String>| async {
        Ok::<_, Infallible>(Response::new("ok".to_owned()))
    })
}

fn bench(c: &mut Criterion) {
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(taskwire_tasks::layer())
            .with(taskwire_json::layer().with_writer(Discard)),
    );
    let mut g = c.benchmark_group("tower_request");
    tracing::dispatcher::with_default(&dispatch, || {
        g.bench_function("bare_service", |b| {
            let mut svc = handler();
            b.iter(|| one(&mut svc))
        });
        g.bench_function("taskwire_task_layer", |b| {
            let mut svc = taskwire_tower::layer().layer(handler());
            b.iter(|| one(&mut svc))
        });
        g.bench_function("tower_http_trace_layer", |b| {
            let mut svc = tower_http::trace::TraceLayer::new_for_http().layer(handler());
            b.iter(|| one(&mut svc))
        });
    });
    g.finish();
}

/// The added costs measured paired (`TASKWIRE_PAIRED=1`): per round, one chunk of requests
/// through each service; the ratio of taskwire's added cost to `TraceLayer`'s inside each round;
/// the median and quartiles of those ratios.
fn paired() {
    with_services(|bare, taskwire, trace| {
        let chunk = 2_000_u32;
        let rounds = 300;
        let time = |f: &mut dyn FnMut()| {
            let t = std::time::Instant::now();
            for _ in 0..chunk {
                f();
            }
            t.elapsed().as_nanos() as f64 / f64::from(chunk)
        };
        for _ in 0..5 {
            time(bare);
            time(taskwire);
            time(trace);
        }
        let mut t: [Vec<f64>; 3] = [Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..rounds {
            t[0].push(time(bare));
            t[1].push(time(taskwire));
            t[2].push(time(trace));
        }
        let mut ratios: Vec<f64> = (0..rounds)
            .map(|k| (t[1][k] - t[0][k]) / (t[2][k] - t[0][k]))
            .collect();
        let q = quartiles(&mut ratios);
        let at_most_one = ratios.iter().filter(|r| **r <= 1.0).count();
        println!("paired: {rounds} rounds of {chunk} requests per service");
        for (name, v) in [
            "bare_service",
            "taskwire_task_layer",
            "tower_http_trace_layer",
        ]
        .iter()
        .zip(&t)
        {
            let mut v = v.clone();
            println!(
                "  {name:24} median {:8.1} ns per request",
                quartiles(&mut v)[1]
            );
        }
        println!(
            "  taskwire added / TraceLayer added: median {:.2}x (quartiles {:.2}x-{:.2}x), <= 1 in {at_most_one} of {rounds} rounds",
            q[1], q[0], q[2]
        );
    });
}

/// `TASKWIRE_PAIRED=warn`: the cost per request of tracking INFO spans under a `warn` filter.
fn paired_warn() {
    std::env::remove_var("RUST_LOG");
    let stack = |spans: &str| {
        taskwire::builder()
            .default_filter("warn")
            .span_filter(spans)
            .tasks(taskwire_tasks::layer())
            .json(Discard)
            .build()
            .map_err(|e| format!("{e:?}"))
    };
    let ((quiet, _q), (kept, _k)) = match (stack("off"), stack("info")) {
        (Ok(q), Ok(k)) => (q, k),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("cannot build the benchmark's stacks: {e}");
            return;
        }
    };
    let mut svc = taskwire_tower::layer().layer(handler());
    let chunk = 2_000_u32;
    let rounds = 300;
    let mut time = |d: &tracing::Dispatch| {
        tracing::dispatcher::with_default(d, || {
            let t = std::time::Instant::now();
            for _ in 0..chunk {
                one(&mut svc);
            }
            t.elapsed().as_nanos() as f64 / f64::from(chunk)
        })
    };
    for _ in 0..5 {
        time(&quiet);
        time(&kept);
    }
    let (mut q, mut k) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        q.push(time(&quiet));
        k.push(time(&kept));
    }
    let mut added: Vec<f64> = k.iter().zip(&q).map(|(k, q)| k - q).collect();
    let added = quartiles(&mut added);
    println!("paired (filter warn): {rounds} rounds of {chunk} requests per stack");
    println!(
        "  span_filter(\"off\")  median {:8.1} ns per request",
        quartiles(&mut q)[1]
    );
    println!(
        "  span_filter(\"info\") median {:8.1} ns per request",
        quartiles(&mut k)[1]
    );
    println!(
        "  added by tracking INFO spans: median {:.1} ns per request (quartiles {:.1}-{:.1})",
        added[1], added[0], added[2]
    );
}

/// `TASKWIRE_INSTR=service:N`: N requests through one service, nothing else.
fn instructions(spec: &str) {
    let (service, n) = spec.split_once(':').unwrap_or((spec, "10000"));
    let n: u32 = n.parse().unwrap_or(10_000);
    with_services(|bare, taskwire, trace| {
        for _ in 0..n {
            match service {
                "taskwire" => taskwire(),
                "trace" => trace(),
                _ => bare(),
            }
        }
    });
}

/// Runs `f` under the benchmark's subscriber with one request through each service: the bare
/// service, taskwire's `TaskLayer`, tower-http's `TraceLayer`.
fn with_services(f: impl FnOnce(&mut dyn FnMut(), &mut dyn FnMut(), &mut dyn FnMut())) {
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(taskwire_tasks::layer())
            .with(taskwire_json::layer().with_writer(Discard)),
    );
    tracing::dispatcher::with_default(&dispatch, || {
        let mut bare = handler();
        let mut taskwire = taskwire_tower::layer().layer(handler());
        let mut trace = tower_http::trace::TraceLayer::new_for_http().layer(handler());
        f(
            &mut || one(&mut bare),
            &mut || one(&mut taskwire),
            &mut || one(&mut trace),
        );
    });
}

criterion_group!(benches, bench);

fn main() {
    if let Ok(spec) = std::env::var("TASKWIRE_INSTR") {
        instructions(&spec);
        return;
    }
    if std::env::var("TASKWIRE_PAIRED").as_deref() == Ok("warn") {
        paired_warn();
        return;
    }
    paired::main(paired, benches);
}
