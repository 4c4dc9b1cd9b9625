//! The request task carries the attributes of OpenTelemetry's stable HTTP server span
//! conventions: `url.scheme`, `url.query` (sensitive values redacted by the redactor's rules),
//! `server.address` and `server.port` from the request's authority, `user_agent.original`.
//! Over real HTTP on 127.0.0.1.

mod support;

use support::{client, Captured, TestServer};
use taskwire_core::Redactor;

#[tokio::test]
async fn scheme_query_server_and_user_agent_are_recorded() {
    let server = TestServer::start(
        taskwire_actix::middleware().with_redactor(Redactor::default().with_key("ssn")),
    );
    let res = client()
        .get(server.url("/users/7?q=shoes&access_token=s3cr3t&ssn=123-45&sig=abc&page=2"))
        .header("x-request-id", "fields-1")
        .header("user-agent", "probe/1.0 (+https://example.invalid)")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    res.text().await.expect("body");
    let task = server.captured.request_task("fields-1");
    assert_eq!(task["url.scheme"], "http");
    assert_eq!(task["url.path"], "/users/7");
    assert_eq!(
        task["url.query"],
        "q=shoes&access_token=REDACTED&ssn=REDACTED&sig=REDACTED&page=2"
    );
    assert_eq!(task["server.address"], "127.0.0.1");
    assert_eq!(task["server.port"], server.addr.port());
    assert_eq!(
        task["user_agent.original"],
        "probe/1.0 (+https://example.invalid)"
    );
    let all = serde_json::to_string(&server.captured.json_lines()).expect("json");
    assert!(!all.contains("s3cr3t") && !all.contains("123-45"), "{all}");

    // Without a query the field is absent; a Host without a port gives the scheme's default.
    let res = client()
        .get(server.url("/users/8"))
        .header("x-request-id", "fields-2")
        .header("host", "shop.example")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    res.text().await.expect("body");
    let task = server.captured.request_task("fields-2");
    assert!(task.get("url.query").is_none(), "{task}");
    assert_eq!(task["server.address"], "shop.example");
    assert_eq!(task["server.port"], 80);
}
