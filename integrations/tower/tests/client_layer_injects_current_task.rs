//! A tower HTTP client wrapped in `PropagateLayer` sends the current task, so the server's
//! request task becomes its child, across a real connection.
#![cfg(feature = "axum")]

mod support;

use support::server::Harness;
use support::{WaitForTask, PARENT_ID, TRACEPARENT, TRACE_ID};
use taskwire_test_support::json_line::str_of;
use taskwire_tower::PropagateLayer;
use tower::{Layer, ServiceExt};
use tracing::Instrument;

#[tokio::test]
async fn the_servers_task_is_a_child_of_the_callers_task() {
    let h = Harness::start(taskwire_tower::layer()).await;
    let client = PropagateLayer::new().layer(h.client.clone());

    let span = tracing::info_span!("checkout");
    let (caller, res) = async {
        let caller = taskwire_core::capture::current().expect("inside checkout");
        let req = h.request("/users/9", &[("traceparent", b"00-stale")]);
        (caller, client.clone().oneshot(req).await.unwrap())
    }
    .instrument(span.clone())
    .await;
    assert_eq!(res.status(), 200);
    drop(span);

    let server = h.buf.task_end("GET /users/{id}").await;
    assert_eq!(str_of(&server, "trace_id"), caller.trace_id.to_string());
    assert_eq!(
        str_of(&server, "parent_span_id"),
        caller.span_id.to_string()
    );
    assert_eq!(server["task.remote_parent"], true);

    let checkout = h.buf.task_end("checkout").await;
    assert_eq!(str_of(&checkout, "span_id"), caller.span_id.to_string());
}

#[tokio::test]
async fn the_callers_tracestate_travels_along() {
    let h = Harness::start(taskwire_tower::layer()).await;
    let client = taskwire_tower::propagate().layer(h.client.clone());
    // The caller itself continues a remote task that carried a tracestate.
    let carrier = [("traceparent", TRACEPARENT), ("tracestate", "vendor=v1")];
    let span = taskwire_tasks::import_from(&carrier[..], tracing::info_span!("caller"));
    let (caller, body) = async {
        let caller = taskwire_core::capture::current().unwrap();
        let res = client
            .clone()
            .oneshot(h.request("/headers", &[]))
            .await
            .unwrap();
        let body = axum::body::to_bytes(axum::body::Body::new(res.into_body()), usize::MAX)
            .await
            .unwrap();
        (caller, String::from_utf8(body.to_vec()).unwrap())
    }
    .instrument(span)
    .await;
    assert_eq!(caller.trace_id.to_string(), TRACE_ID);
    assert!(body.contains(&format!("traceparent: {caller}\n")), "{body}");
    assert!(body.contains("tracestate: vendor=v1\n"), "{body}");
    // The handler runs in the server task, which kept the tracestate.
    assert!(body.contains(" vendor=v1\n"), "{body}");
    let caller_end = h.buf.task_end("caller").await;
    assert_eq!(str_of(&caller_end, "parent_span_id"), PARENT_ID);
}

#[tokio::test]
async fn outside_a_task_requests_are_left_alone() {
    let h = Harness::start(taskwire_tower::layer()).await;
    let client = taskwire_tower::propagate().layer(h.client.clone());
    let res = client
        .oneshot(h.request("/headers", &[("tracestate", b"keep=me")]))
        .await
        .unwrap();
    let body = axum::body::to_bytes(axum::body::Body::new(res.into_body()), usize::MAX)
        .await
        .unwrap();
    let body = String::from_utf8(body.to_vec()).unwrap();
    assert!(!body.contains("traceparent:"), "{body}");
    assert!(body.contains("tracestate: keep=me\n"), "{body}");
}
