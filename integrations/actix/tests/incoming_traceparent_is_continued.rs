//! A request's `traceparent` makes the request task a child of the caller's task; anything
//! malformed starts a new root and the request is still served. The task is named after the
//! route, and the response carries `traceresponse` and `x-request-id`.

mod support;

use serde_json::Value;
use support::{client, Captured, TestServer};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT: &str = "00f067aa0ba902b7";
const TP: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

fn header(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get(name)
        .map(|v| v.to_str().expect("ascii header").to_owned())
}

#[tokio::test]
async fn valid_traceparent_is_continued() {
    let server = TestServer::start(taskwire_actix::middleware());
    let res = client()
        .get(server.url("/users/7"))
        .header("traceparent", TP)
        .header("tracestate", "vendor=abc")
        .header("x-request-id", "req-continued-1")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let traceresponse = header(&res, "traceresponse").expect("traceresponse sent");
    assert_eq!(
        header(&res, "x-request-id").as_deref(),
        Some("req-continued-1")
    );
    let body = res.text().await.expect("body");

    let task = server.captured.request_task("req-continued-1");
    assert_eq!(task["task.name"], "GET /users/{id}");
    assert_eq!(task["task.outcome"], "succeeded");
    assert_eq!(task["task.remote_parent"], true);
    assert_eq!(task["trace_id"], TRACE);
    assert_eq!(task["parent_span_id"], PARENT);
    assert_eq!(task["http.request.method"], "GET");
    assert_eq!(task["http.route"], "/users/{id}");
    assert_eq!(task["url.path"], "/users/7");
    assert_eq!(task["http.response.status_code"], 200);
    assert!(
        task.get("client.address").is_none(),
        "client address is opt-in"
    );
    let span_id = task["span_id"].as_str().expect("span_id");
    assert_ne!(span_id, PARENT);

    // W3C Level 2: the server's own task, in the caller's trace.
    assert_eq!(traceresponse, format!("00-{TRACE}-{span_id}-01"));
    // The handler ran inside the task and saw the caller's tracestate.
    assert_eq!(
        body,
        format!("00-{TRACE}-{span_id}-01|vendor=abc|req-continued-1")
    );
    let event = server
        .captured
        .wait_for("loading user", |r| r["msg"] == "loading user");
    assert_eq!(event["span_id"], span_id);
    assert_eq!(event["trace_id"], TRACE);
    assert_eq!(event["user"], 7);
}

#[tokio::test]
async fn unsampled_traceparent_keeps_its_flag() {
    let server = TestServer::start(taskwire_actix::middleware());
    let res = server
        .get_with_traceparent(
            "/users/1",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
        )
        .await;
    assert_eq!(res.status(), 200);
    let tr = header(&res, "traceresponse").expect("traceresponse");
    assert!(tr.starts_with(&format!("00-{TRACE}-")), "{tr}");
    assert!(tr.ends_with("-00"), "{tr}");
}

async fn assert_new_root(server: &TestServer, id: &str, traceparents: &[&str]) {
    let mut req = client()
        .get(server.url("/users/3"))
        .header("x-request-id", id);
    for tp in traceparents {
        req = req.header("traceparent", *tp);
    }
    let res = req.send().await.expect("request");
    assert_eq!(res.status(), 200, "{traceparents:?}");
    let tr = header(&res, "traceresponse").expect("traceresponse");
    res.text().await.expect("body");

    let task = server.captured.request_task(id);
    assert!(task.get("task.remote_parent").is_none(), "{traceparents:?}");
    assert!(task.get("parent_span_id").is_none(), "{task}");
    assert_ne!(task["trace_id"], TRACE);
    assert_eq!(task["task.outcome"], "succeeded");
    assert_eq!(task["http.response.status_code"], 200);
    // A new root: sampled, and its trace id is random (W3C Level 2 flag 0x02).
    assert_eq!(
        tr,
        format!(
            "00-{}-{}-03",
            task["trace_id"].as_str().expect("trace id"),
            task["span_id"].as_str().expect("span id")
        )
    );
}

#[tokio::test]
async fn malformed_traceparent_starts_a_new_root() {
    let server = TestServer::start(taskwire_actix::middleware());
    let cases: &[(&str, &[&str])] = &[
        ("bad-garbage", &["not a traceparent"]),
        (
            "bad-uppercase",
            &["00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01"],
        ),
        (
            "bad-zero-trace",
            &["00-00000000000000000000000000000000-00f067aa0ba902b7-01"],
        ),
        (
            "bad-version-ff",
            &["ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"],
        ),
        ("bad-empty", &[""]),
        ("bad-duplicate", &[TP, TP]),
        (
            "bad-two-different",
            &[
                TP,
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            ],
        ),
    ];
    let before = taskwire_core::propagation::stats().malformed_traceparent;
    for (id, traceparents) in cases {
        assert_new_root(&server, id, traceparents).await;
    }
    // Counted by the codec (the server runs in this process).
    assert!(taskwire_core::propagation::stats().malformed_traceparent >= before + 7);
}

#[tokio::test]
async fn request_ids_are_reused_only_when_valid() {
    let server = TestServer::start(taskwire_actix::middleware());
    let is_span_id = |id: &str| {
        id.len() == 16
            && id
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    };

    // None sent: the task's span id, the same in the header, the task and the handler.
    let res = client()
        .get(server.url("/users/5"))
        .send()
        .await
        .expect("request");
    let id = header(&res, "x-request-id").expect("x-request-id");
    assert!(is_span_id(&id), "{id}");
    let body = res.text().await.expect("body");
    assert!(body.ends_with(&format!("|{id}")), "{body}");
    let task = server.captured.request_task(&id);
    assert_eq!(task["task.name"], "GET /users/{id}");
    assert_eq!(task["span_id"], id.as_str());

    // Invalid ones, and two of them, are replaced.
    let long = "a".repeat(129);
    let bad: [&[&str]; 5] = [
        &["has space"],
        &[long.as_str()],
        &["tab\there"],
        &["caf\u{e9}"],
        &["one", "two"],
    ];
    for values in bad {
        let mut req = client().get(server.url("/users/5"));
        for v in values {
            req = req.header(
                "x-request-id",
                reqwest::header::HeaderValue::from_bytes(v.as_bytes()).expect("sendable"),
            );
        }
        let res = req.send().await.expect("request");
        assert_eq!(res.status(), 200);
        let id = header(&res, "x-request-id").expect("x-request-id");
        assert!(is_span_id(&id), "{values:?} -> {id}");
        res.text().await.expect("body");
        assert_eq!(server.captured.request_task(&id)["span_id"], id.as_str());
    }

    // The longest valid one is kept.
    let max = "b".repeat(128);
    let res = client()
        .get(server.url("/users/5"))
        .header("x-request-id", max.as_str())
        .send()
        .await
        .expect("request");
    assert_eq!(header(&res, "x-request-id").as_deref(), Some(max.as_str()));
}

#[tokio::test]
async fn headers_the_handler_set_win() {
    let server = TestServer::start(taskwire_actix::middleware());
    let res = server.get_with_request_id("/own-headers", "theirs").await;
    assert_eq!(header(&res, "x-request-id").as_deref(), Some("mine"));
    assert_eq!(header(&res, "traceresponse").as_deref(), Some("00-mine"));
    assert_eq!(res.headers().get_all("x-request-id").iter().count(), 1);
    res.text().await.expect("body");
    // The task still knows the request by the id it came with.
    server.captured.request_task("theirs");
}

#[tokio::test]
async fn client_address_is_opt_in() {
    let server = TestServer::start(
        taskwire_actix::middleware().with_client_address(taskwire_actix::ClientAddress::Peer),
    );
    let res = client()
        .get(server.url("/users/9"))
        .header("x-request-id", "peer-1")
        .header("x-forwarded-for", "203.0.113.7")
        .send()
        .await
        .expect("request");
    res.text().await.expect("body");
    let task = server.captured.request_task("peer-1");
    assert_eq!(task["client.address"], "127.0.0.1");
    assert!(task["client.port"].is_u64());

    let server = TestServer::start(
        taskwire_actix::middleware()
            .with_client_address(taskwire_actix::ClientAddress::ForwardedFor),
    );
    for (id, forwarded, expected) in [
        ("fwd-1", "203.0.113.7, 10.0.0.1", "203.0.113.7"),
        ("fwd-2", "[2001:db8::1]:443", "2001:db8::1"),
        ("fwd-3", "<script>", "127.0.0.1"),
    ] {
        let res = client()
            .get(server.url("/users/9"))
            .header("x-request-id", id)
            .header("x-forwarded-for", forwarded)
            .send()
            .await
            .expect("request");
        res.text().await.expect("body");
        assert_eq!(server.captured.request_task(id)["client.address"], expected);
    }
}

#[tokio::test]
async fn response_headers_can_be_turned_off_or_renamed() {
    let server = TestServer::start(
        taskwire_actix::middleware()
            .with_traceresponse(false)
            .with_request_id_header_name(actix_web::http::header::HeaderName::from_static(
                "x-correlation-id",
            )),
    );
    let res = client()
        .get(server.url("/users/9"))
        .header("x-correlation-id", "corr-9")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("traceresponse").is_none());
    assert!(res.headers().get("x-request-id").is_none());
    assert_eq!(header(&res, "x-correlation-id").as_deref(), Some("corr-9"));
    res.text().await.expect("body");
    server.captured.request_task("corr-9");

    let server = TestServer::start(taskwire_actix::middleware().with_request_id_header(false));
    let res = server.get_with_request_id("/users/9", "kept-inside").await;
    assert!(res.headers().get("x-request-id").is_none());
    assert!(res.headers().get("traceresponse").is_some());
    let body = res.text().await.expect("body");
    assert!(body.ends_with("|kept-inside"), "the handler has it: {body}");
    let task: Value = server.captured.request_task("kept-inside");
    assert_eq!(task["task.outcome"], "succeeded");
}
