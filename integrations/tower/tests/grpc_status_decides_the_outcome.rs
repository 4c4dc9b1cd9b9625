//! A gRPC call's task takes its outcome from the response's `grpc-status` (trailers, or the
//! headers of a trailers-only response), not from the HTTP status, which is always 200: real
//! axum server on 127.0.0.1 speaking HTTP/2 (h2c), real hyper HTTP/2 client.
#![cfg(feature = "axum")]

mod support;

use std::collections::VecDeque;
use std::convert::Infallible;
use std::future::poll_fn;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, Response};
use axum::routing::post;
use axum::Router;
use bytes::Bytes;
use http_body::{Body as _, Frame};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use support::WaitForTask;
use taskwire_test_support::json_line::{str_of, u64_of};
use taskwire_test_support::Capture;

/// A response body of fixed frames: data, then (maybe) trailers.
struct Frames(VecDeque<Frame<Bytes>>);

impl http_body::Body for Frames {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(self.0.pop_front().map(Ok))
    }
}

/// One length-prefixed gRPC message holding `payload`.
fn message(payload: &[u8]) -> Bytes {
    let mut m = vec![0_u8];
    m.extend_from_slice(
        &u32::try_from(payload.len())
            .expect("a message under 4 GiB")
            .to_be_bytes(),
    );
    m.extend_from_slice(payload);
    Bytes::from(m)
}

/// A gRPC response: one message, then trailers with `status` (and `message`), or none.
fn answer(status: Option<&'static str>, msg: Option<&'static str>) -> Response<Body> {
    let mut frames = VecDeque::from([Frame::data(message(b"reply"))]);
    if let Some(status) = status {
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", HeaderValue::from_static(status));
        if let Some(msg) = msg {
            trailers.insert("grpc-message", HeaderValue::from_static(msg));
        }
        frames.push_back(Frame::trailers(trailers));
    }
    Response::builder()
        .header("content-type", "application/grpc")
        .body(Body::new(Frames(frames)))
        .expect("a valid message")
}

/// A trailers-only gRPC response: the status in the headers, no body.
fn trailers_only(status: &'static str) -> Response<Body> {
    Response::builder()
        .header("content-type", "application/grpc")
        .header("grpc-status", status)
        .body(Body::empty())
        .expect("a valid message")
}

async fn panics() -> Response<Body> {
    panic!("handler exploded")
}

fn app() -> Router {
    Router::new()
        .route(
            "/shop.Orders/Place",
            post(|| async { answer(Some("0"), None) }),
        )
        .route(
            "/shop.Orders/Fail",
            post(|| async { answer(Some("13"), Some("db%20down")) }),
        )
        .route("/shop.Orders/Find", post(|| async { trailers_only("5") }))
        .route("/shop.Orders/Drain", post(|| async { trailers_only("14") }))
        .route(
            "/shop.Orders/Garbage",
            post(|| async { answer(Some("thirteen"), None) }),
        )
        .route("/shop.Orders/Cut", post(|| async { answer(None, None) }))
        .route("/shop.Orders/Panic", post(panics))
        .route("/plain", post(|| async { "not grpc" }))
}

struct Harness {
    addr: SocketAddr,
    buf: Capture,
    _default: tracing::dispatcher::DefaultGuard,
}

impl Harness {
    async fn start() -> Harness {
        let buf = Capture::default();
        let default = tracing::subscriber::set_default(support::subscriber(&buf));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port on 127.0.0.1");
        let addr = listener.local_addr().expect("the bound address");
        let app = app().layer(taskwire_tower::layer());
        tokio::spawn(async move { axum::serve(listener, app).await.expect("the server runs") });
        Harness {
            addr,
            buf,
            _default: default,
        }
    }

    /// Calls `path` over HTTP/2 as a gRPC client does; returns the response head, the data
    /// received and the trailers.
    async fn call(&self, path: &str) -> (Response<()>, Vec<u8>, Option<HeaderMap>) {
        let client: Client<_, Body> = Client::builder(TokioExecutor::new())
            .http2_only(true)
            .build_http();
        let req = Request::post(format!("http://{}{path}", self.addr))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(Body::from(message(b"request")))
            .expect("a valid message");
        let res = client.request(req).await.expect("the request is answered");
        let (parts, mut body) = res.into_parts();
        let (mut data, mut trailers) = (Vec::new(), None);
        while let Some(frame) = poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
            let frame = frame.expect("the response body is read");
            match frame.into_data() {
                Ok(d) => data.extend_from_slice(&d),
                Err(frame) => trailers = frame.into_trailers().ok(),
            }
        }
        (Response::from_parts(parts, ()), data, trailers)
    }
}

#[tokio::test]
async fn an_ok_status_in_the_trailers_succeeds_with_rpc_fields() {
    let h = Harness::start().await;
    let (res, data, trailers) = h.call("/shop.Orders/Place").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.version(), http::Version::HTTP_2);
    assert_eq!(data, message(b"reply"));
    assert_eq!(trailers.unwrap()["grpc-status"], "0");

    let end = h.buf.task_end("shop.Orders/Place").await;
    assert_eq!(str_of(&end, "task.outcome"), "succeeded");
    assert_eq!(str_of(&end, "rpc.system"), "grpc");
    assert_eq!(str_of(&end, "rpc.service"), "shop.Orders");
    assert_eq!(str_of(&end, "rpc.method"), "Place");
    assert_eq!(u64_of(&end, "rpc.grpc.status_code"), 0);
    assert_eq!(u64_of(&end, "http.response.status_code"), 200);
    assert_eq!(str_of(&end, "network.protocol.version"), "2");
    assert!(end.get("error.type").is_none());
}

#[tokio::test]
async fn an_internal_status_in_the_trailers_fails_the_task_with_its_message() {
    let h = Harness::start().await;
    let (res, _, trailers) = h.call("/shop.Orders/Fail").await;
    assert_eq!(res.status(), 200, "gRPC errors travel in a 200 response");
    assert_eq!(trailers.unwrap()["grpc-status"], "13");

    let end = h.buf.task_end("shop.Orders/Fail").await;
    assert_eq!(str_of(&end, "task.outcome"), "failed");
    assert_eq!(str_of(&end, "task.failure"), "gRPC INTERNAL: db down");
    assert_eq!(u64_of(&end, "rpc.grpc.status_code"), 13);
    assert_eq!(str_of(&end, "error.type"), "INTERNAL");
    assert!(
        end.get("task.errors").is_none(),
        "the handler's answer, not a new error: {end:?}"
    );
}

#[tokio::test]
async fn trailers_only_responses_decide_in_the_headers() {
    let h = Harness::start().await;
    let (res, data, _) = h.call("/shop.Orders/Find").await;
    assert_eq!(res.headers()["grpc-status"], "5");
    assert!(data.is_empty());
    let end = h.buf.task_end("shop.Orders/Find").await;
    assert_eq!(
        str_of(&end, "task.outcome"),
        "succeeded",
        "NOT_FOUND is the caller's, like a 404"
    );
    assert_eq!(u64_of(&end, "rpc.grpc.status_code"), 5);

    h.call("/shop.Orders/Drain").await;
    let end = h.buf.task_end("shop.Orders/Drain").await;
    assert_eq!(str_of(&end, "task.outcome"), "failed");
    assert_eq!(str_of(&end, "task.failure"), "gRPC UNAVAILABLE");
    assert_eq!(u64_of(&end, "rpc.grpc.status_code"), 14);
}

#[tokio::test]
async fn a_malformed_or_missing_status_is_unknown_and_fails() {
    let h = Harness::start().await;
    h.call("/shop.Orders/Garbage").await;
    let end = h.buf.task_end("shop.Orders/Garbage").await;
    assert_eq!(str_of(&end, "task.outcome"), "failed");
    assert_eq!(u64_of(&end, "rpc.grpc.status_code"), 2);
    assert_eq!(str_of(&end, "error.type"), "UNKNOWN");

    let (_, data, trailers) = h.call("/shop.Orders/Cut").await;
    assert_eq!(data, message(b"reply"));
    assert!(trailers.is_none());
    let end = h.buf.task_end("shop.Orders/Cut").await;
    assert_eq!(str_of(&end, "task.outcome"), "failed");
    assert_eq!(
        str_of(&end, "task.failure"),
        "gRPC UNKNOWN: the response ended without grpc-status"
    );
}

#[tokio::test]
async fn a_panicking_grpc_handler_answers_internal_as_grpc_clients_expect() {
    let h = Harness::start().await;
    let (res, data, _) = h.call("/shop.Orders/Panic").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/grpc");
    assert_eq!(res.headers()["grpc-status"], "13");
    assert!(data.is_empty());
    let end = h.buf.task_end("shop.Orders/Panic").await;
    assert_eq!(str_of(&end, "task.outcome"), "failed");
    assert_eq!(u64_of(&end, "rpc.grpc.status_code"), 13);
    assert_eq!(str_of(&end, "error.type"), "panic");
    let errors: Vec<_> = h
        .buf
        .records()
        .into_iter()
        .filter(|r| r.get("level").and_then(Value::as_str) == Some("ERROR"))
        .collect();
    assert!(
        errors
            .iter()
            .any(|r| str_of(r, "msg").contains("handler exploded")),
        "{errors:?}"
    );
    // The server keeps serving.
    h.call("/shop.Orders/Place").await;
    h.buf.task_end("shop.Orders/Place").await;
}

#[tokio::test]
async fn plain_http_over_http2_is_not_taken_for_grpc() {
    let h = Harness::start().await;
    let client: Client<_, Body> = Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http();
    let req = Request::post(format!("http://{}/plain", h.addr))
        .body(Body::empty())
        .unwrap();
    let res = client.request(req).await.unwrap();
    assert_eq!(res.status(), 200);
    let end = h.buf.task_end("POST /plain").await;
    assert_eq!(str_of(&end, "task.outcome"), "succeeded");
    assert!(end.get("rpc.system").is_none());
    assert!(end.get("rpc.grpc.status_code").is_none());
}
