//! A request task continues a valid incoming `traceparent`, starts a new root for anything
//! else (without failing the request), and is named after the route template.
#![cfg(feature = "axum")]

mod support;

use support::server::Harness;
use support::{WaitForTask, PARENT_ID, TRACEPARENT, TRACE_ID};
use taskwire_core::propagation;
use taskwire_test_support::json_line::{is_hex_id, str_of, u64_of};

#[tokio::test]
async fn valid_traceparent_is_continued() {
    let h = Harness::start(taskwire_tower::layer()).await;
    let (res, body) = h
        .get(
            "/users/7",
            &[
                ("traceparent", TRACEPARENT.as_bytes()),
                ("tracestate", b"vendor=abc"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(body, "user");

    let end = h.buf.task_end("GET /users/{id}").await;
    assert_eq!(str_of(&end, "trace_id"), TRACE_ID);
    assert_eq!(str_of(&end, "parent_span_id"), PARENT_ID);
    assert_eq!(end["task.remote_parent"], true);
    assert_eq!(str_of(&end, "task.outcome"), "succeeded");
    assert_eq!(str_of(&end, "http.route"), "/users/{id}");
    assert_eq!(str_of(&end, "url.path"), "/users/7");
    assert_eq!(str_of(&end, "http.request.method"), "GET");
    assert_eq!(str_of(&end, "network.protocol.version"), "1.1");
    assert_eq!(u64_of(&end, "http.response.status_code"), 200);
    assert!(
        end.get("client.address").is_none(),
        "client.address is opt-in"
    );
    assert!(end.get("error.type").is_none());
}

#[tokio::test]
async fn the_handler_runs_inside_the_continued_task_with_its_tracestate() {
    let h = Harness::start(taskwire_tower::layer()).await;
    let (res, body) = h
        .get(
            "/headers",
            &[
                ("traceparent", TRACEPARENT.as_bytes()),
                ("tracestate", b"a=1"),
                ("tracestate", b"b=2"),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let end = h.buf.task_end("GET /headers").await;
    assert_eq!(str_of(&end, "trace_id"), TRACE_ID);
    let span_id = str_of(&end, "span_id");
    assert!(
        body.contains(&format!("current: 00-{TRACE_ID}-{span_id}-01 a=1,b=2\n")),
        "{body}"
    );
}

/// Values a client can put in a `traceparent` header that must each start a new root.
fn hostile_traceparents() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        (
            "uppercase hex",
            TRACEPARENT.to_ascii_uppercase().into_bytes(),
        ),
        (
            "version ff",
            TRACEPARENT.replacen("00", "ff", 1).into_bytes(),
        ),
        (
            "all-zero trace id",
            b"00-00000000000000000000000000000000-00f067aa0ba902b7-01".to_vec(),
        ),
        ("truncated", TRACEPARENT.as_bytes()[..40].to_vec()),
        ("64 KiB", "0".repeat(64 * 1024).into_bytes()),
        ("binary obs-text", b"\x80\xff\xfe00-\t-\xc3\xa9".to_vec()),
        (
            "valid then binary",
            [TRACEPARENT.as_bytes(), b"\xff"].concat(),
        ),
        ("empty", Vec::new()),
    ]
}

#[tokio::test]
async fn malformed_or_hostile_traceparent_starts_a_new_root() {
    let h = Harness::start(taskwire_tower::layer()).await;
    let before = propagation::stats().malformed_traceparent;
    let cases = hostile_traceparents();
    for (what, value) in &cases {
        let (res, body) = h
            .get(
                "/users/1",
                &[("traceparent", value), ("tracestate", b"a=b")],
            )
            .await;
        assert_eq!(res.status(), 200, "{what}");
        assert_eq!(body, "user", "{what}");
    }
    // Two valid headers are refused too: which one would be the parent?
    let (res, _) = h
        .get(
            "/users/2",
            &[
                ("traceparent", TRACEPARENT.as_bytes()),
                ("traceparent", TRACEPARENT.as_bytes()),
            ],
        )
        .await;
    assert_eq!(res.status(), 200);
    let _ = h
        .buf
        .wait_for_async("task.end of /users/2", |r| {
            taskwire_test_support::json_line::is_task_end(r)
                && r.get("url.path").and_then(|v| v.as_str()) == Some("/users/2")
        })
        .await;

    let ends = h.buf.task_ends();
    assert_eq!(ends.len(), cases.len() + 1);
    for end in &ends {
        assert_ne!(str_of(end, "trace_id"), TRACE_ID, "{end:?}");
        assert!(is_hex_id(str_of(end, "trace_id"), 32));
        assert!(end.get("parent_span_id").is_none(), "a new root: {end:?}");
        assert!(end.get("task.remote_parent").is_none(), "{end:?}");
        assert_eq!(str_of(end, "task.outcome"), "succeeded");
    }
    // Counted by the codec (other tests in this binary may count too, never less).
    let counted = propagation::stats().malformed_traceparent - before;
    assert!(counted >= cases.len() as u64, "counted {counted}");
}

#[tokio::test]
async fn oversized_headers_are_refused_by_the_server_which_keeps_serving() {
    let h = Harness::start(taskwire_tower::layer()).await;
    // 1 MB is beyond hyper's header buffer: hyper answers (431) before any middleware runs.
    let huge = "0".repeat(1 << 20);
    let res = h
        .client
        .request(h.request("/users/1", &[("traceparent", huge.as_bytes())]))
        .await;
    // hyper answers 431 (or, if it closes while the client still writes, the client sees an
    // error): either way no task, no panic.
    if let Ok(res) = res {
        assert_eq!(res.status(), 431);
    }
    let (res, _) = h.get("/users/3", &[]).await;
    assert_eq!(res.status(), 200);
    let end = h.buf.task_end("GET /users/{id}").await;
    assert_eq!(str_of(&end, "url.path"), "/users/3");
    assert_eq!(h.buf.task_ends().len(), 1);
}

#[tokio::test]
async fn unmatched_paths_are_named_after_the_method_alone() {
    let h = Harness::start(taskwire_tower::layer()).await;
    let (res, _) = h.get("/no/such/page", &[]).await;
    assert_eq!(res.status(), 404);
    let end = h.buf.task_end("GET").await;
    assert!(end.get("http.route").is_none(), "a path is not a route");
    assert_eq!(str_of(&end, "url.path"), "/no/such/page");
    assert_eq!(u64_of(&end, "http.response.status_code"), 404);
    assert_eq!(
        str_of(&end, "task.outcome"),
        "succeeded",
        "4xx is the client's"
    );
}
