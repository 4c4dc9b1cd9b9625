//! Requests to a skipped path (`/health`) pass through: no task, no headers added.
#![cfg(feature = "axum")]

mod support;

use support::server::Harness;
use support::{WaitForTask, TRACEPARENT};
use taskwire_test_support::json_line::str_of;

#[tokio::test]
async fn health_checks_open_no_task() {
    // Each call adds to the list: `/health` stays skipped.
    let h = Harness::start(
        taskwire_tower::layer()
            .with_skip_paths(["/health"])
            .with_skip_paths(["/ready"]),
    )
    .await;
    let (res, body) = h
        .get("/health", &[("traceparent", TRACEPARENT.as_bytes())])
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(body, "ok");
    assert!(!res.headers().contains_key("traceresponse"));
    assert!(!res.headers().contains_key("x-request-id"));

    // A later request on the same connection: its task.end is written after anything /health
    // could have written.
    let (res, _) = h.get("/users/1", &[]).await;
    assert_eq!(res.status(), 200);
    let end = h.buf.task_end("GET /users/{id}").await;
    assert_eq!(str_of(&end, "url.path"), "/users/1");
    assert_eq!(h.buf.task_ends().len(), 1, "{:#?}", h.buf.task_ends());

    // Only exact paths are skipped.
    let (res, _) = h.get("/health/", &[]).await;
    assert_eq!(res.status(), 404);
    let end = h.buf.task_end("GET").await;
    assert_eq!(str_of(&end, "url.path"), "/health/");
}
