//! Shared by the test files: the subscriber under test and its task records, and a tiny real
//! hyper server on 127.0.0.1.
#![allow(dead_code)]

use std::convert::Infallible;
use std::net::SocketAddr;

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use taskwire_test_support::Capture;
use tokio::net::TcpListener;
use tracing::Dispatch;

/// What these tests read from a [`Capture`] the layers write to.
pub(crate) trait Captured {
    /// registry + taskwire_tasks::layer() + taskwire_json::layer() writing here.
    fn dispatch(&self) -> Dispatch;

    /// The one `task.end` record named `name`.
    fn task(&self, name: &str) -> Value;

    /// How many `task.end` records are named `name`.
    fn tasks_named(&self, name: &str) -> usize;
}

impl Captured for Capture {
    fn dispatch(&self) -> Dispatch {
        Dispatch::new(taskwire_test_stack::tasks_and_json(self))
    }

    fn task(&self, name: &str) -> Value {
        let mut found: Vec<Value> = self
            .json_lines()
            .into_iter()
            .filter(|r| r["msg"] == "task.end" && r["task.name"] == name)
            .collect();
        assert_eq!(found.len(), 1, "one task.end named {name}: {found:?}");
        found.remove(0)
    }

    fn tasks_named(&self, name: &str) -> usize {
        self.json_lines()
            .iter()
            .filter(|r| r["msg"] == "task.end" && r["task.name"] == name)
            .count()
    }
}

/// Starts a hyper HTTP/1 server on 127.0.0.1:0 on the current runtime (so, in a
/// current-thread test, on the test's thread and under its default subscriber).
///
/// Each request becomes a task `server {path}`, imported from the request's `traceparent`,
/// entered for the whole (synchronous) handler, so its `task.end` is written before the response
/// leaves. `/fail` answers 503; everything else 200 with the `traceparent` and `tracestate`
/// it got: `{traceparent}|{tracestate}`, `none` for a missing one.
pub(crate) async fn start_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(handle))
                    .await;
            });
        }
    });
    addr
}

async fn handle(req: Request<Incoming>) -> Result<Response<String>, Infallible> {
    let carrier: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let path = req.uri().path().to_owned();
    let name = format!("server {path}");
    let span = taskwire_tasks::import_from(
        &carrier,
        tracing::info_span!("server", task.name = name.as_str()),
    );
    let _entered = span.enter();
    let header = |name: &str| {
        let values: Vec<&str> = req
            .headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect();
        if values.is_empty() {
            String::from("none")
        } else {
            values.join(",")
        }
    };
    let seen = format!("{}|{}", header("traceparent"), header("tracestate"));
    let status = match path.as_str() {
        "/fail" => 503,
        "/missing" => 404,
        _ => 200,
    };
    Ok(Response::builder()
        .status(status)
        .body(seen)
        .expect("response"))
}

/// A reqwest_middleware client with the client-task middleware (no proxy: 127.0.0.1).
pub(crate) fn client() -> reqwest_middleware::ClientWithMiddleware {
    let inner = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    reqwest_middleware::ClientBuilder::new(inner)
        .with(taskwire_reqwest::middleware())
        .build()
}
