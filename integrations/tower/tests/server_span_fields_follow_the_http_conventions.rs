//! The request task carries the attributes of OpenTelemetry's stable HTTP server span
//! conventions: `url.scheme`, `url.query` (sensitive values redacted by the redactor's rules),
//! `server.address` and `server.port` from the request's authority, `user_agent.original`.
//! Over real HTTP on 127.0.0.1.
#![cfg(feature = "axum")]

mod support;

use support::server::Harness;
use support::WaitForTask;
use taskwire_core::Redactor;
use taskwire_test_support::json_line::{str_of, u64_of};

#[tokio::test]
async fn scheme_query_server_and_user_agent_are_recorded() {
    let h =
        Harness::start(taskwire_tower::layer().with_redactor(Redactor::default().with_key("ssn")))
            .await;
    let (res, _) = h
        .get(
            "/users/7?q=shoes&access_token=s3cr3t&ssn=123-45&sig=abc&page=2",
            &[("user-agent", b"probe/1.0 (+https://example.invalid)")],
        )
        .await;
    assert_eq!(res.status(), 200);
    let end = h.buf.task_end("GET /users/{id}").await;
    assert_eq!(str_of(&end, "url.scheme"), "http");
    assert_eq!(str_of(&end, "url.path"), "/users/7");
    assert_eq!(
        str_of(&end, "url.query"),
        "q=shoes&access_token=REDACTED&ssn=REDACTED&sig=REDACTED&page=2"
    );
    assert_eq!(str_of(&end, "server.address"), "127.0.0.1");
    assert_eq!(u64_of(&end, "server.port"), u64::from(h.addr.port()));
    assert_eq!(
        str_of(&end, "user_agent.original"),
        "probe/1.0 (+https://example.invalid)"
    );
    let all = serde_json::to_string(&h.buf.records()).expect("json");
    assert!(!all.contains("s3cr3t") && !all.contains("123-45"), "{all}");

    // Without a query or a user agent, the fields are absent; a Host without a port gives
    // the scheme's default.
    h.buf.clear();
    let (res, _) = h.get("/users/8", &[("host", b"shop.example")]).await;
    assert_eq!(res.status(), 200);
    let end = h.buf.task_end("GET /users/{id}").await;
    assert!(end.get("url.query").is_none(), "{end:?}");
    assert!(end.get("user_agent.original").is_none(), "{end:?}");
    assert_eq!(str_of(&end, "server.address"), "shop.example");
    assert_eq!(u64_of(&end, "server.port"), 80);
}
