//! A 5xx response fails its task with one ERROR event grouped by route and status; a
//! panicking handler answers 500, fails its task with an ERROR event, and the server keeps
//! serving; a 4xx does not fail.
#![cfg(feature = "axum")]

mod support;

use serde_json::Value;
use support::server::Harness;
use support::WaitForTask;
use taskwire_test_support::json_line::{str_of, u64_of};

fn errors_of<'a>(
    records: &'a [taskwire_test_support::Record],
    span_id: &str,
) -> Vec<&'a taskwire_test_support::Record> {
    records
        .iter()
        .filter(|r| r.get("level").and_then(Value::as_str) == Some("ERROR"))
        .filter(|r| r.get("span_id").and_then(Value::as_str) == Some(span_id))
        .collect()
}

#[tokio::test]
async fn a_5xx_response_fails_the_task_with_one_error_event() {
    let h = Harness::start(taskwire_tower::layer()).await;
    let (res, body) = h.get("/fail", &[]).await;
    assert_eq!(res.status(), 500);
    assert_eq!(body, "nope", "the handler's response is sent as it is");

    let end = h.buf.task_end("GET /fail").await;
    assert_eq!(str_of(&end, "task.outcome"), "failed");
    assert_eq!(
        str_of(&end, "task.failure"),
        "HTTP 500 Internal Server Error"
    );
    assert_eq!(u64_of(&end, "task.errors"), 1);
    assert_eq!(u64_of(&end, "http.response.status_code"), 500);
    assert_eq!(str_of(&end, "error.type"), "500");
    let records = h.buf.records();
    let errors = errors_of(&records, str_of(&end, "span_id"));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(str_of(errors[0], "target"), "taskwire::http");
    assert_eq!(
        str_of(errors[0], "msg"),
        "GET /fail: HTTP 500 Internal Server Error"
    );
    assert_eq!(str_of(errors[0], "fingerprint"), "GET /fail 500");
}

#[tokio::test]
async fn a_4xx_response_is_the_clients_mistake() {
    let h = Harness::start(taskwire_tower::layer()).await;
    let (res, _) = h.get("/missing", &[]).await;
    assert_eq!(res.status(), 404);
    let end = h.buf.task_end("GET /missing").await;
    assert_eq!(str_of(&end, "task.outcome"), "succeeded");
    assert!(end.get("error.type").is_none());
}

#[tokio::test]
async fn a_panic_answers_500_fails_the_task_and_the_server_keeps_serving() {
    let h = Harness::start(taskwire_tower::layer()).await;
    let (res, body) = h.get("/panic", &[("x-request-id", b"panic-1")]).await;
    assert_eq!(res.status(), 500);
    assert_eq!(body, "");
    assert_eq!(res.headers()["x-request-id"], "panic-1");
    assert!(res.headers().contains_key("traceresponse"));

    let end = h.buf.task_end("GET /panic").await;
    assert_eq!(str_of(&end, "task.outcome"), "failed");
    assert_eq!(
        str_of(&end, "task.failure"),
        "request handler panicked: boom"
    );
    assert_eq!(u64_of(&end, "task.errors"), 1);
    assert_eq!(u64_of(&end, "http.response.status_code"), 500);
    assert_eq!(str_of(&end, "error.type"), "panic");

    let records = h.buf.records();
    let errors = errors_of(&records, str_of(&end, "span_id"));
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(str_of(errors[0], "msg"), "request handler panicked: boom");
    assert_eq!(str_of(errors[0], "trace_id"), str_of(&end, "trace_id"));

    // Same client, same pooled connection: still served.
    for _ in 0..3 {
        let (res, body) = h.get("/users/1", &[]).await;
        assert_eq!(res.status(), 200);
        assert_eq!(body, "user");
    }
    let (res, _) = h.get("/panic", &[]).await;
    assert_eq!(res.status(), 500);
}
