//! The tower middleware's added cost per request: taskwire's `TaskLayer` beside tower-http's
//! `TraceLayer`, both around the same trivial service, under the same subscriber (Registry +
//! taskwire-tasks + taskwire-json into a no-op writer). "Added cost" is each middleware's time
//! minus the bare service's.
//!
//! ```text
//! cargo bench --bench tower --features tower
//! ```

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::io;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use criterion::{criterion_group, criterion_main, Criterion};
use http::{Request, Response};
use http_body::Body;
use tower::{service_fn, Layer, Service, ServiceExt};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

#[derive(Clone, Copy)]
struct Noop;

impl io::Write for Noop {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        black_box(buf.len());
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Noop {
    type Writer = Noop;
    fn make_writer(&'a self) -> Noop {
        Noop
    }
}

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
            .with(taskwire_json::layer().with_writer(Noop)),
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

criterion_group!(benches, bench);
criterion_main!(benches);
