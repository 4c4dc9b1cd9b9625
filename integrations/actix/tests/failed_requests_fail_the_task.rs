//! 5xx responses, handler errors that map to a 5xx and panics fail the request task; a panic
//! is answered with a 500 and the server keeps serving. A 4xx does not fail the task.

mod support;

use support::{client, Captured, TestServer};

#[tokio::test]
async fn server_error_status_fails_the_task() {
    let server = TestServer::start(taskwire_actix::middleware());
    let res = server.get_with_request_id("/fail", "fail-1").await;
    assert_eq!(res.status(), 500);
    assert!(res.headers().get("traceresponse").is_some());
    assert_eq!(res.text().await.expect("body"), "no");

    let task = server.captured.request_task("fail-1");
    assert_eq!(task["task.name"], "GET /fail");
    assert_eq!(task["task.outcome"], "failed");
    assert_eq!(task["http.response.status_code"], 500);
    assert_eq!(task["task.failure"], "HTTP 500 Internal Server Error");
    assert_eq!(task["error.type"], "500");
}

#[tokio::test]
async fn panic_is_answered_with_500_fails_the_task_and_the_server_keeps_serving() {
    let server = TestServer::start(taskwire_actix::middleware());
    let res = client()
        .get(server.url("/panic"))
        .header("x-request-id", "panic-1")
        .send()
        .await
        .expect("the client gets an answer, not a dropped connection");
    assert_eq!(res.status(), 500);
    let traceresponse = res
        .headers()
        .get("traceresponse")
        .expect("traceresponse on the 500")
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(res.headers()["x-request-id"], "panic-1");
    res.text().await.expect("body");

    let task = server.captured.request_task("panic-1");
    assert_eq!(task["task.name"], "GET /panic");
    assert_eq!(task["task.outcome"], "failed");
    assert_eq!(task["task.errors"], 1);
    assert_eq!(task["http.response.status_code"], 500);
    assert_eq!(
        task["task.failure"],
        "request handler panicked: boom at the handler"
    );
    assert_eq!(task["error.type"], "panic");
    let span_id = task["span_id"].as_str().expect("span id");
    assert!(traceresponse.contains(span_id));
    let error = server.captured.wait_for("panic ERROR event", |r| {
        r["level"] == "ERROR" && r["msg"] == "request handler panicked: boom at the handler"
    });
    assert_eq!(
        error["span_id"], span_id,
        "the ERROR event is inside the task"
    );
    assert_eq!(error["panic"], true);

    // One worker: if the panic had killed it, this would fail or hang.
    for i in 0..3 {
        let id = format!("after-panic-{i}");
        let res = client()
            .get(server.url("/users/1"))
            .header("x-request-id", id.as_str())
            .send()
            .await
            .expect("server still serving");
        assert_eq!(res.status(), 200);
        res.text().await.expect("body");
        assert_eq!(
            server.captured.request_task(&id)["task.outcome"],
            "succeeded"
        );
    }
}

#[tokio::test]
async fn handler_error_fails_the_task_when_it_is_a_5xx() {
    let server = TestServer::start(taskwire_actix::middleware());
    let res = server.get_with_request_id("/unavailable", "err-503").await;
    assert_eq!(res.status(), 503);
    res.text().await.expect("body");
    let task = server.captured.request_task("err-503");
    assert_eq!(task["task.outcome"], "failed");
    assert_eq!(task["task.failure"], "database is down");
    assert_eq!(task["error.message"], "database is down");
    assert_eq!(task["error.type"], "503");
    assert_eq!(task["http.response.status_code"], 503);

    let res = server.get_with_request_id("/bad", "err-400").await;
    assert_eq!(res.status(), 400);
    res.text().await.expect("body");
    let task = server.captured.request_task("err-400");
    assert_eq!(
        task["task.outcome"], "succeeded",
        "a 4xx is the client's fault"
    );
    assert_eq!(task["error.message"], "missing field name");
    assert_eq!(task["http.response.status_code"], 400);
}

#[tokio::test]
async fn unmatched_route_is_named_after_the_method_only() {
    let server = TestServer::start(taskwire_actix::middleware());
    let res = server
        .get_with_request_id("/no/such/route/4711", "unmatched-1")
        .await;
    assert_eq!(res.status(), 404);
    res.text().await.expect("body");
    let task = server.captured.request_task("unmatched-1");
    assert_eq!(task["task.name"], "GET");
    assert!(task.get("http.route").is_none());
    assert_eq!(task["url.path"], "/no/such/route/4711");
    assert_eq!(task["task.outcome"], "succeeded");
    assert_eq!(task["http.response.status_code"], 404);
}

#[tokio::test]
async fn unknown_method_is_recorded_as_other() {
    let server = TestServer::start(taskwire_actix::middleware());
    let method = reqwest::Method::from_bytes(b"PURGE").expect("method");
    let res = client()
        .request(method, server.url("/users/8"))
        .header("x-request-id", "purge-1")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 404, "the route only takes GET");
    res.text().await.expect("body");
    let task = server.captured.request_task("purge-1");
    assert_eq!(task["task.name"], "HTTP /users/{id}");
    assert_eq!(task["http.request.method"], "_OTHER");
    assert_eq!(task["http.request.method_original"], "PURGE");
    assert_eq!(task["network.protocol.version"], "1.1");
}
