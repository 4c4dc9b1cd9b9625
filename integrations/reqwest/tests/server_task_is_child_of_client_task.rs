//! The client task is a child of the span that makes the call, and the server's request task
//! is a child of the client task (not of the caller): the middleware sends its own
//! `traceparent`. Status and latency are recorded; 5xx and transport errors fail the client
//! task; `NoTrace` sends the request untouched.
//!
//! Each test runs on a current-thread runtime with its subscriber as the thread's default: the
//! client, and the hyper server spawned on the same runtime, record into it.

mod support;

use support::{client, start_server, Captured};
use taskwire_test_support::services::free_port;
use taskwire_test_support::Capture;
use tracing::Instrument;

#[tokio::test]
async fn server_task_is_a_child_of_the_client_task() {
    let captured = Capture::default();
    let _default = tracing::dispatcher::set_default(&captured.dispatch());
    let addr = start_server().await;
    let client = client();

    let body = async {
        let res = client
            .get(format!("http://{addr}/users/7?q=shoes&access_token=s3cr3t"))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200);
        res.text().await.expect("body")
    }
    .instrument(tracing::info_span!("checkout"))
    .await;

    let checkout = captured.task("checkout");
    let client_task = captured.task("GET 127.0.0.1");
    let server = captured.task("server /users/7");

    // checkout → client task (same trace, local parent)
    assert_eq!(client_task["trace_id"], checkout["trace_id"]);
    assert_eq!(client_task["parent_span_id"], checkout["span_id"]);
    assert!(client_task.get("task.remote_parent").is_none());
    // client task → server task (same trace, remote parent)
    assert_eq!(server["trace_id"], checkout["trace_id"]);
    assert_eq!(server["parent_span_id"], client_task["span_id"]);
    assert_eq!(server["task.remote_parent"], true);
    // what went over the wire
    assert_eq!(
        body,
        format!(
            // sampled, and the trace id taskwire drew is random (W3C Level 2 flag 0x02)
            "00-{}-{}-03|none",
            client_task["trace_id"].as_str().expect("trace id"),
            client_task["span_id"].as_str().expect("span id")
        )
    );

    assert_eq!(client_task["task.outcome"], "succeeded");
    assert_eq!(client_task["http.request.method"], "GET");
    assert_eq!(client_task["http.response.status_code"], 200);
    assert_eq!(client_task["server.address"], "127.0.0.1");
    assert_eq!(client_task["server.port"], addr.port());
    assert_eq!(
        client_task["url.full"],
        format!("http://{addr}/users/7?q=shoes&access_token=REDACTED")
    );
    assert!(client_task["http.client.latency_us"].is_u64());
    assert!(!captured
        .json_lines()
        .iter()
        .any(|r| r.to_string().contains("s3cr3t")));
}

#[tokio::test]
async fn tracestate_travels_with_the_client_task() {
    let captured = Capture::default();
    let _default = tracing::dispatcher::set_default(&captured.dispatch());
    let addr = start_server().await;
    let client = client();

    // The caller itself was called with a traceparent and tracestate.
    let carrier = vec![
        (
            "traceparent".to_owned(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".to_owned(),
        ),
        ("tracestate".to_owned(), "vendor=abc".to_owned()),
    ];
    let span = taskwire_tasks::import_from(&carrier, tracing::info_span!("handler"));
    let body = async {
        client
            .get(format!("http://{addr}/users/1"))
            .header("tracestate", "stale=1")
            .send()
            .await
            .expect("request")
            .text()
            .await
            .expect("body")
    }
    .instrument(span)
    .await;

    let client_task = captured.task("GET 127.0.0.1");
    let server = captured.task("server /users/1");
    assert_eq!(client_task["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(server["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(server["parent_span_id"], client_task["span_id"]);
    // The trace's tracestate replaces the one the caller left on the request.
    assert_eq!(
        body,
        format!(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-{}-01|vendor=abc",
            client_task["span_id"].as_str().expect("span id")
        )
    );
}

#[tokio::test]
async fn server_error_fails_the_client_task() {
    let captured = Capture::default();
    let _default = tracing::dispatcher::set_default(&captured.dispatch());
    let addr = start_server().await;

    let res = client()
        .get(format!("http://{addr}/fail"))
        .send()
        .instrument(tracing::info_span!("caller"))
        .await
        .expect("a 503 is a response, not an error");
    assert_eq!(res.status(), 503);

    let client_task = captured.task("GET 127.0.0.1");
    assert_eq!(client_task["task.outcome"], "failed");
    assert_eq!(client_task["http.response.status_code"], 503);
    assert_eq!(client_task["error.type"], "503");
    assert_eq!(client_task["task.failure"], "HTTP 503 Service Unavailable");
    // A failed child does not fail its parent; the parent counts it.
    let caller = captured.task("caller");
    assert_eq!(caller["task.outcome"], "succeeded");
    assert_eq!(caller["task.failed_children"], 1);
}

/// OpenTelemetry's client rule: a 4xx is an error of the client span (it stays a success on
/// the server side), with the status code as `error.type`.
#[tokio::test]
async fn a_4xx_response_fails_the_client_task() {
    let captured = Capture::default();
    let _default = tracing::dispatcher::set_default(&captured.dispatch());
    let addr = start_server().await;

    let res = client()
        .get(format!("http://{addr}/missing"))
        .send()
        .instrument(tracing::info_span!("caller"))
        .await
        .expect("a 404 is a response");
    assert_eq!(res.status(), 404);
    let client_task = captured.task("GET 127.0.0.1");
    assert_eq!(client_task["http.response.status_code"], 404);
    assert_eq!(client_task["task.outcome"], "failed");
    assert_eq!(client_task["error.type"], "404");
    assert_eq!(client_task["task.failure"], "HTTP 404 Not Found");
    let caller = captured.task("caller");
    assert_eq!(
        caller["task.outcome"], "succeeded",
        "a failed child does not fail its parent"
    );
}

#[tokio::test]
async fn connection_refused_fails_the_client_task_without_panicking() {
    let captured = Capture::default();
    let _default = tracing::dispatcher::set_default(&captured.dispatch());
    let port = free_port(); // free: nothing listens on it

    let err = client()
        .get(format!("http://127.0.0.1:{port}/users/1?token=s3cr3t"))
        .send()
        .instrument(tracing::info_span!("caller"))
        .await
        .expect_err("nothing listens there");
    assert!(err.is_connect(), "{err:?}");

    let client_task = captured.task("GET 127.0.0.1");
    assert_eq!(client_task["task.outcome"], "failed");
    assert_eq!(client_task["error.type"], "connect");
    assert!(client_task.get("http.response.status_code").is_none());
    let failure = client_task["task.failure"].as_str().expect("a reason");
    assert!(failure.starts_with("connect error"), "{failure}");
    assert!(!failure.contains("s3cr3t"), "{failure}");
    assert_eq!(
        client_task["url.full"],
        format!("http://127.0.0.1:{port}/users/1?token=REDACTED")
    );
}

#[tokio::test]
async fn no_trace_sends_the_request_untouched() {
    let captured = Capture::default();
    let _default = tracing::dispatcher::set_default(&captured.dispatch());
    let addr = start_server().await;

    let body = client()
        .get(format!("http://{addr}/users/2"))
        .with_extension(taskwire_reqwest::NoTrace)
        .send()
        .instrument(tracing::info_span!("caller"))
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert_eq!(body, "none|none", "no traceparent was sent");
    assert_eq!(captured.tasks_named("GET 127.0.0.1"), 0, "no client task");
    let server = captured.task("server /users/2");
    assert!(server.get("task.remote_parent").is_none());
    assert!(server.get("parent_span_id").is_none());
}

#[tokio::test]
async fn without_an_enclosing_span_the_client_task_is_a_root() {
    let captured = Capture::default();
    let _default = tracing::dispatcher::set_default(&captured.dispatch());
    let addr = start_server().await;

    client()
        .get(format!("http://{addr}/users/3"))
        .send()
        .await
        .expect("request");
    let client_task = captured.task("GET 127.0.0.1");
    let server = captured.task("server /users/3");
    assert!(client_task.get("parent_span_id").is_none());
    assert_eq!(server["trace_id"], client_task["trace_id"]);
    assert_eq!(server["parent_span_id"], client_task["span_id"]);
}

#[tokio::test]
async fn unknown_method_is_recorded_as_other() {
    let captured = Capture::default();
    let _default = tracing::dispatcher::set_default(&captured.dispatch());
    let addr = start_server().await;

    let method = reqwest::Method::from_bytes(b"PURGE").expect("method");
    let res = client()
        .request(method, format!("http://{addr}/users/4"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let client_task = captured.task("HTTP 127.0.0.1");
    assert_eq!(client_task["http.request.method"], "_OTHER");
    assert_eq!(client_task["http.request.method_original"], "PURGE");
}

#[tokio::test]
async fn without_propagation_the_task_is_recorded_but_not_sent() {
    let captured = Capture::default();
    let _default = tracing::dispatcher::set_default(&captured.dispatch());
    let addr = start_server().await;
    let inner = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("client");
    let client = reqwest_middleware::ClientBuilder::new(inner)
        .with(taskwire_reqwest::middleware().with_propagation(false))
        .build();

    let body = client
        .get(format!("http://{addr}/users/6"))
        .send()
        .await
        .expect("request")
        .text()
        .await
        .expect("body");
    assert_eq!(body, "none|none");
    assert_eq!(
        captured.task("GET 127.0.0.1")["http.response.status_code"],
        200
    );
    assert!(captured
        .task("server /users/6")
        .get("task.remote_parent")
        .is_none());
}

#[tokio::test]
async fn client_task_is_named_after_method_host_and_route_template_never_the_path() {
    let captured = Capture::default();
    let _default = tracing::dispatcher::set_default(&captured.dispatch());
    let addr = start_server().await;

    async {
        client()
            .get(format!("http://{addr}/users/8"))
            .with_extension(taskwire_reqwest::UrlTemplate::new("/users/{id}"))
            .send()
            .await
            .expect("request");
        client()
            .get(format!("http://{addr}/users/9"))
            .send()
            .await
            .expect("request");
    }
    .instrument(tracing::info_span!("caller"))
    .await;

    let templated = captured.task("GET 127.0.0.1/users/{id}");
    assert_eq!(templated["url.template"], "/users/{id}");
    assert_eq!(templated["http.response.status_code"], 200);
    let plain = captured.task("GET 127.0.0.1");
    assert!(plain.get("url.template").is_none());
    // the ids of the path are in `url.full`, never in a task name
    let names: Vec<String> = captured
        .json_lines()
        .iter()
        .filter(|r| r["msg"] == "task.end" && r["target"] == "taskwire::tasks")
        .filter_map(|r| r["task.name"].as_str().map(str::to_owned))
        .collect();
    assert!(
        names
            .iter()
            .all(|n| !n.starts_with("GET") || !n.contains("/users/8") && !n.contains("/users/9")),
        "{names:?}"
    );
}
