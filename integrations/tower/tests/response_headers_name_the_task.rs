//! `traceresponse` names the server task; `x-request-id` is reused when valid, and otherwise
//! the task's span id; both can be turned off, never override the handler's, and the request
//! id can live in another header.
#![cfg(feature = "axum")]

mod support;

use http::HeaderName;
use support::server::Harness;
use support::{WaitForTask, TRACEPARENT, TRACE_ID};
use taskwire_core::propagation::TraceParent;
use taskwire_test_support::json_line::{is_hex_id, str_of};

#[tokio::test]
async fn traceresponse_is_the_server_tasks_traceparent() {
    let h = Harness::start(taskwire_tower::layer()).await;
    let (res, _) = h
        .get("/users/1", &[("traceparent", TRACEPARENT.as_bytes())])
        .await;
    let end = h.buf.task_end("GET /users/{id}").await;
    let expected = format!(
        "00-{}-{}-01",
        str_of(&end, "trace_id"),
        str_of(&end, "span_id")
    );
    assert_eq!(res.headers()["traceresponse"], expected.as_str());
    assert_eq!(str_of(&end, "trace_id"), TRACE_ID);
    let parsed = TraceParent::parse(res.headers()["traceresponse"].to_str().unwrap()).unwrap();
    assert!(parsed.sampled);

    // Not sampled upstream: the flag is carried back.
    let unsampled = TRACEPARENT.replace("-01", "-00");
    let (res, _) = h
        .get("/users/2", &[("traceparent", unsampled.as_bytes())])
        .await;
    let tr = res.headers()["traceresponse"].to_str().unwrap();
    assert!(
        tr.starts_with(&format!("00-{TRACE_ID}-")) && tr.ends_with("-00"),
        "{tr}"
    );
}

#[tokio::test]
async fn an_incoming_request_id_is_reused() {
    let h = Harness::start(taskwire_tower::layer()).await;
    let (res, body) = h
        .get("/headers", &[("x-request-id", b"req-0042.A~b")])
        .await;
    assert_eq!(res.headers()["x-request-id"], "req-0042.A~b");
    assert!(body.contains("x-request-id: req-0042.A~b\n"), "{body}");
    let end = h.buf.task_end("GET /headers").await;
    assert_eq!(str_of(&end, "http.request_id"), "req-0042.A~b");
}

#[tokio::test]
async fn a_missing_or_invalid_request_id_is_replaced_by_the_span_id() {
    let h = Harness::start(taskwire_tower::layer()).await;
    let too_long = "r".repeat(129);
    let cases: [(&str, Vec<&[u8]>); 5] = [
        ("missing", vec![]),
        ("too long", vec![too_long.as_bytes()]),
        ("space", vec![b"two words"]),
        ("binary", vec![b"id-\xff\xfe"]),
        ("repeated", vec![b"one", b"two"]),
    ];
    for (what, ids) in cases {
        h.buf.clear();
        let headers: Vec<(&str, &[u8])> = ids.iter().map(|v| ("x-request-id", *v)).collect();
        let (res, body) = h.get("/headers", &headers).await;
        let end = h.buf.task_end("GET /headers").await;
        let span_id = str_of(&end, "span_id");
        assert!(is_hex_id(span_id, 16));
        assert_eq!(res.headers()["x-request-id"], span_id, "{what}");
        assert_eq!(str_of(&end, "http.request_id"), span_id, "{what}");
        // The handler sees the id it will be answered with, once.
        assert!(
            body.contains(&format!("x-request-id: {span_id}\n")),
            "{what}: {body}"
        );
        assert_eq!(body.matches("x-request-id:").count(), 1, "{what}: {body}");
    }
}

#[tokio::test]
async fn response_headers_can_be_turned_off() {
    let h = Harness::start(
        taskwire_tower::layer()
            .with_traceresponse(false)
            .with_request_id_header(false),
    )
    .await;
    let (res, _) = h.get("/users/1", &[("x-request-id", b"abc")]).await;
    assert!(!res.headers().contains_key("traceresponse"));
    assert!(!res.headers().contains_key("x-request-id"));
    let end = h.buf.task_end("GET /users/{id}").await;
    assert_eq!(str_of(&end, "http.request_id"), "abc", "still recorded");
}

#[tokio::test]
async fn the_request_id_header_name_is_an_option() {
    let h = Harness::start(
        taskwire_tower::layer()
            .with_request_id_header_name(HeaderName::from_static("x-correlation-id")),
    )
    .await;

    // The configured header is read; `x-request-id` is not.
    let (res, body) = h
        .get(
            "/headers",
            &[("x-correlation-id", b"corr-7"), ("x-request-id", b"other")],
        )
        .await;
    assert_eq!(res.headers()["x-correlation-id"], "corr-7");
    assert!(!res.headers().contains_key("x-request-id"));
    assert!(body.contains("x-correlation-id: corr-7\n"), "{body}");
    let end = h.buf.task_end("GET /headers").await;
    assert_eq!(str_of(&end, "http.request_id"), "corr-7");

    // Without one, the minted id goes into the configured header, for the handler and the
    // client alike.
    h.buf.clear();
    let (res, body) = h.get("/headers", &[("x-request-id", b"ignored")]).await;
    let end = h.buf.task_end("GET /headers").await;
    let span_id = str_of(&end, "span_id");
    assert_eq!(res.headers()["x-correlation-id"], span_id);
    assert_eq!(str_of(&end, "http.request_id"), span_id);
    assert!(
        body.contains(&format!("x-correlation-id: {span_id}\n")),
        "{body}"
    );
    assert!(body.contains("x-request-id: ignored\n"), "{body}");
}
