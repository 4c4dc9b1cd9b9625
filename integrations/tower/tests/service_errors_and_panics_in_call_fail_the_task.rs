//! Every way a request can go wrong fails its task: the inner service's `Err`, a panic in
//! `call` (before any future exists), a failing response body. Any tower service, no axum.

mod support;

use std::convert::Infallible;
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame};
use serde_json::Value;
use support::local::{capture, drain};
use support::WaitForTask;
use taskwire_test_support::json_line::{str_of, u64_of};
use tower::{service_fn, Layer, ServiceExt};

#[derive(Debug)]
struct DbDown;

impl fmt::Display for DbDown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("database is down")
    }
}

#[tokio::test]
async fn a_service_error_fails_the_task_with_an_error_event() {
    let (buf, _guard) = capture();
    let svc = taskwire_tower::layer().layer(service_fn(|_req: Request<String>| async {
        Err::<Response<String>, _>(DbDown)
    }));
    let err = svc
        .oneshot(Request::get("/orders").body(String::new()).unwrap())
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "database is down");

    let end = buf.task_end("GET").await;
    assert_eq!(str_of(&end, "task.outcome"), "failed");
    assert_eq!(
        str_of(&end, "task.failure"),
        "request failed in the service: database is down"
    );
    assert_eq!(str_of(&end, "error.type"), "service");
    assert!(end.get("http.response.status_code").is_none());
    let errors: Vec<_> = buf
        .records()
        .into_iter()
        .filter(|r| r.get("level").and_then(Value::as_str) == Some("ERROR"))
        .collect();
    assert_eq!(errors.len(), 1);
    assert_eq!(str_of(&errors[0], "span_id"), str_of(&end, "span_id"));
}

/// A service whose `call` itself panics.
#[derive(Clone)]
struct PanicsInCall;

impl tower::Service<Request<String>> for PanicsInCall {
    type Response = Response<String>;
    type Error = Infallible;
    type Future = std::future::Ready<Result<Response<String>, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<String>) -> Self::Future {
        panic!("no future for you: {}", 42)
    }
}

#[tokio::test]
async fn a_panic_in_call_answers_500() {
    let (buf, _guard) = capture();
    let svc = taskwire_tower::layer().layer(PanicsInCall);
    let res = svc
        .oneshot(Request::post("/pay").body(String::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), 500);
    assert_eq!(res.headers()["content-length"], "0");
    assert!(res.headers().contains_key("x-request-id"));
    let (data, err) = drain(res.into_body()).await;
    assert!(data.is_empty() && err.is_none());
    let end = buf.task_end("POST").await;
    assert_eq!(str_of(&end, "task.outcome"), "failed");
    assert_eq!(
        str_of(&end, "task.failure"),
        "request handler panicked: no future for you: 42"
    );
    assert_eq!(u64_of(&end, "http.response.status_code"), 500);
}

/// A body that sends one data frame, then does what `then` does on the second poll (fail, or
/// panic).
struct HalfBody {
    polls: u8,
    then: fn() -> Result<Frame<Bytes>, String>,
}

impl HalfBody {
    fn new(then: fn() -> Result<Frame<Bytes>, String>) -> Self {
        HalfBody { polls: 0, then }
    }
}

impl Body for HalfBody {
    type Data = Bytes;
    type Error = String;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, String>>> {
        self.polls += 1;
        Poll::Ready(Some(match self.polls {
            1 => Ok(Frame::data(Bytes::from_static(b"half"))),
            _ => (self.then)(),
        }))
    }
}

#[tokio::test]
async fn a_failing_body_fails_the_task_when_it_fails() {
    let (buf, _guard) = capture();
    let svc = taskwire_tower::layer().layer(service_fn(|_req: Request<String>| async {
        Ok::<_, Infallible>(Response::new(HalfBody::new(|| Err("disk gone".to_owned()))))
    }));
    let res = svc
        .oneshot(Request::get("/export").body(String::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(buf.task_ends().is_empty(), "open while the body is sent");
    let body = res.into_body();
    let (data, err) = drain(body).await;
    assert_eq!(data, b"half");
    assert_eq!(err.as_deref(), Some("disk gone"));
    let end = buf.task_end("GET").await;
    assert_eq!(str_of(&end, "task.outcome"), "failed");
    assert_eq!(
        str_of(&end, "task.failure"),
        "response body failed: disk gone"
    );
    assert_eq!(str_of(&end, "error.type"), "body");
}

#[tokio::test]
async fn a_panicking_body_fails_the_task_and_keeps_unwinding() {
    let (buf, _guard) = capture();
    let svc = taskwire_tower::layer().layer(service_fn(|_req: Request<String>| async {
        Ok::<_, Infallible>(Response::new(HalfBody::new(|| {
            panic!("encoder bug at row {}", 7)
        })))
    }));
    let res = svc
        .oneshot(Request::get("/report").body(String::new()).unwrap())
        .await
        .unwrap();
    let mut body = res.into_body();
    let waker = std::task::Waker::noop();
    let mut cx = Context::from_waker(waker);
    let first = Pin::new(&mut body).poll_frame(&mut cx);
    assert!(matches!(first, Poll::Ready(Some(Ok(_)))));
    // The server sees the panic as before (hyper drops the connection); the task records it.
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = Pin::new(&mut body).poll_frame(&mut cx);
    }));
    let payload = unwound.expect_err("the panic continues past the middleware");
    let message = payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
    assert_eq!(message, Some("encoder bug at row 7"));
    drop(body);
    let end = buf.task_end("GET").await;
    assert_eq!(str_of(&end, "task.outcome"), "failed");
    assert_eq!(
        str_of(&end, "task.failure"),
        "response body panicked: encoder bug at row 7"
    );
    assert_eq!(str_of(&end, "error.type"), "panic");
}

#[tokio::test]
async fn without_a_subscriber_nothing_breaks() {
    // No taskwire layer: no ids, so no traceresponse; a request id is still generated.
    let svc = taskwire_tower::layer().layer(service_fn(|_req: Request<String>| async {
        Ok::<_, Infallible>(Response::new(String::from("ok")))
    }));
    let res = svc
        .oneshot(
            Request::get("/")
                .header("traceparent", "garbage")
                .body(String::new())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert!(!res.headers().contains_key("traceresponse"));
    let id = res.headers()["x-request-id"].to_str().unwrap();
    assert!(taskwire_test_support::json_line::is_hex_id(id, 16), "{id}");
}
