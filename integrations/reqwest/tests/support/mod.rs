//! Shared by the test files: output capture and a tiny real hyper server on 127.0.0.1.
#![allow(dead_code)]

use std::convert::Infallible;
use std::io;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tracing::Dispatch;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;

/// JSON lines written by the layers.
#[derive(Clone, Default)]
pub(crate) struct Captured(Arc<Mutex<Vec<u8>>>);

pub(crate) struct CapturedWriter(Arc<Mutex<Vec<u8>>>);

impl io::Write for CapturedWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = CapturedWriter;
    fn make_writer(&'a self) -> CapturedWriter {
        CapturedWriter(Arc::clone(&self.0))
    }
}

impl Captured {
    /// registry + taskwire_tasks::layer() + taskwire_json::layer() writing here.
    pub(crate) fn dispatch(&self) -> Dispatch {
        Dispatch::new(
            tracing_subscriber::registry()
                .with(taskwire_tasks::layer())
                .with(taskwire_json::layer().with_writer(self.clone())),
        )
    }

    pub(crate) fn records(&self) -> Vec<Value> {
        let buf = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        String::from_utf8_lossy(&buf)
            .lines()
            .map(|l| serde_json::from_str(l).expect("every line is JSON"))
            .collect()
    }

    /// The one `task.end` record named `name`.
    pub(crate) fn task(&self, name: &str) -> Value {
        let mut found: Vec<Value> = self
            .records()
            .into_iter()
            .filter(|r| r["msg"] == "task.end" && r["task.name"] == name)
            .collect();
        assert_eq!(found.len(), 1, "one task.end named {name}: {found:?}");
        found.remove(0)
    }

    pub(crate) fn tasks_named(&self, name: &str) -> usize {
        self.records()
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

/// A port nothing listens on: bound, read, released.
pub(crate) fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
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
