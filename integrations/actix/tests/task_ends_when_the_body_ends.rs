//! The request task stays open while the response body streams, and skipped paths get no task.

mod support;

use support::{Captured, TestServer};

#[tokio::test]
async fn task_ends_after_the_last_chunk() {
    let server = TestServer::start(taskwire_actix::middleware());
    let res = server.get_with_request_id("/stream", "stream-1").await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.expect("body"), "chunk 1;chunk 2;chunk 3;");

    let task = server.captured.request_task("stream-1");
    assert_eq!(task["task.name"], "GET /stream");
    assert_eq!(task["task.outcome"], "succeeded");
    let records = server.captured.json_lines();
    let end = records
        .iter()
        .position(|r| r["msg"] == "task.end" && r["http.request_id"] == "stream-1")
        .expect("task.end");
    let chunks: Vec<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| r["msg"] == "chunk produced")
        .map(|(i, r)| {
            assert_eq!(
                r["span_id"], task["span_id"],
                "chunks are produced inside the task"
            );
            i
        })
        .collect();
    assert_eq!(chunks.len(), 3);
    assert!(chunks.iter().all(|&i| i < end), "task.end after the body");
}

#[tokio::test]
async fn skipped_paths_have_no_task_and_no_headers() {
    let server = TestServer::start(taskwire_actix::middleware().with_skip_paths(["/health"]));
    let res = server
        .get_with_traceparent(
            "/health",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("traceresponse").is_none());
    assert!(res.headers().get("x-request-id").is_none());
    assert_eq!(res.text().await.expect("body"), "ok");

    // Written while handling, before the response: outside any task.
    let event = server
        .captured
        .wait_for("health checked", |r| r["msg"] == "health checked");
    assert!(event.get("trace_id").is_none(), "{event:?}");
    assert!(event.get("span_id").is_none(), "{event:?}");

    // A skipped request never opens a task, so none can show up later either.
    let res = server.get_with_request_id("/users/2", "after-health").await;
    res.text().await.expect("body");
    server.captured.request_task("after-health");
    let ends = server.captured.task_ends();
    assert_eq!(ends.len(), 1, "{ends:?}");
    assert!(ends.iter().all(|r| r["url.path"] != "/health"));
}
