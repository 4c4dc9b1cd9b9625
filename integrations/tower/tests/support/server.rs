//! A real axum server on 127.0.0.1 (port 0) with the task layer, and a real hyper client.
//!
//! Everything runs on the test's current-thread runtime, where the subscriber under test is
//! the thread's default (`set_default`): axum's per-connection tasks, spawned with
//! `tokio::spawn`, run on this thread and so record into the test's buffer.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{HeaderMap, Request, Response, StatusCode};
use axum::routing::get;
use axum::Router;
use bytes::Bytes;
use http_body::Frame;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tokio::sync::mpsc;
use tracing::dispatcher::DefaultGuard;

use super::subscriber;
use taskwire_test_support::Capture;

/// The HTTP client used by the tests.
pub type HttpClient = Client<HttpConnector, Body>;

/// A running server, the buffer its records go to, and a client.
pub struct Harness {
    pub addr: SocketAddr,
    pub buf: Capture,
    pub client: HttpClient,
    /// Feeds the body of `/stream`, one chunk per message; dropping it ends the body.
    pub stream_tx: Option<mpsc::UnboundedSender<Bytes>>,
    _default: DefaultGuard,
}

/// The routes: `/users/{id}` answers 200, `/fail` 500, `/missing` 404, `/panic` panics,
/// `/health` is meant to be skipped, `/headers` echoes the propagation headers it received, and
/// `/stream` streams what the test sends through [`Harness::stream_tx`].
pub fn app(stream_rx: mpsc::UnboundedReceiver<Bytes>) -> Router {
    let stream_rx = Arc::new(Mutex::new(Some(stream_rx)));
    Router::new()
        .route("/users/{id}", get(|| async { "user" }))
        .route(
            "/fail",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "nope") }),
        )
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .route("/panic", get(panics))
        .route("/health", get(|| async { "ok" }))
        .route("/headers", get(echo_headers))
        .route(
            "/stream",
            get(move || {
                let rx = stream_rx
                    .lock()
                    .expect("no test panicked holding the lock")
                    .take()
                    .expect("/stream is called once");
                async move { Body::new(ChannelBody(rx)) }
            }),
        )
}

async fn panics() -> &'static str {
    panic!("boom")
}

/// `name: value` lines for the headers a propagation test looks at.
async fn echo_headers(headers: HeaderMap) -> String {
    let mut out = String::new();
    for name in [
        "traceparent",
        "tracestate",
        "x-request-id",
        "x-correlation-id",
    ] {
        for v in headers.get_all(name) {
            out.push_str(name);
            out.push_str(": ");
            out.push_str(v.to_str().unwrap_or("<binary>"));
            out.push('\n');
        }
    }
    match taskwire_core::capture::current() {
        Some(task) => {
            out.push_str("current: ");
            out.push_str(&task.to_string());
            out.push(' ');
            out.push_str(
                taskwire_core::capture::current_tracestate()
                    .as_deref()
                    .unwrap_or("-"),
            );
            out.push('\n');
        }
        None => out.push_str("current: none\n"),
    }
    out
}

/// A body that yields what the channel delivers and ends when the sender is dropped.
struct ChannelBody(mpsc::UnboundedReceiver<Bytes>);

impl http_body::Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|c| Ok(Frame::data(c))))
    }
}

impl Harness {
    /// Installs the subscriber as this thread's default, serves [`app`] wrapped in `layer`
    /// (with `Router::layer`, so that `MatchedPath` is known) on 127.0.0.1:0.
    pub async fn start(layer: taskwire_tower::TaskLayer) -> Harness {
        let buf = Capture::default();
        let default = tracing::subscriber::set_default(subscriber(&buf));
        let (stream_tx, stream_rx) = mpsc::unbounded_channel();
        let app = app(stream_rx).layer(layer);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        let addr = listener.local_addr().expect("the bound address");
        tokio::spawn(async move { axum::serve(listener, app).await.expect("the server runs") });
        let client = Client::builder(TokioExecutor::new()).build_http();
        Harness {
            addr,
            buf,
            client,
            stream_tx: Some(stream_tx),
            _default: default,
        }
    }

    /// A GET request to `path` with `headers` (appended, so repeated names repeat).
    pub fn request(&self, path: &str, headers: &[(&str, &[u8])]) -> Request<Body> {
        let mut req = Request::get(format!("http://{}{path}", self.addr));
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.body(Body::empty()).expect("a valid request")
    }

    /// Sends a GET to `path` and reads the whole response.
    pub async fn get(&self, path: &str, headers: &[(&str, &[u8])]) -> (Response<()>, String) {
        let res = self
            .client
            .request(self.request(path, headers))
            .await
            .expect("the request is answered");
        let (parts, body) = res.into_parts();
        let bytes = axum::body::to_bytes(Body::new(body), usize::MAX)
            .await
            .expect("the response body is read");
        (
            Response::from_parts(parts, ()),
            String::from_utf8(bytes.to_vec()).expect("the output is UTF-8"),
        )
    }
}
