//! End to end against a real OpenTelemetry collector (rotel, started by `scripts/test`): an
//! axum service with taskwire-tower, called over real HTTP on 127.0.0.1 by reqwest with
//! taskwire-reqwest, exported by taskwire-otel. The collector receives the attributes and
//! statuses of OpenTelemetry's stable HTTP span conventions: `url.scheme`, the redacted
//! `url.query`, `server.address`/`server.port`, `user_agent.original` on server spans; a 4xx
//! is an Error of the client span (with `error.type` and no description repeating the code)
//! and leaves the server span Unset.
#![cfg(all(feature = "axum", feature = "reqwest", feature = "otel"))]

#[path = "../integrations/otel/tests/support/mod.rs"]
mod otel_support;

use std::time::Duration;

use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use tracing::Instrument;
use tracing_subscriber::prelude::*;

#[tokio::test]
async fn server_and_client_spans_follow_the_http_conventions() {
    let (url, log) = taskwire_test_support::services::otel_collector();
    let (otel, guard) = taskwire::otel::layer()
        .with_endpoint(&url)
        .with_service_name("http-conventions")
        .build()
        .expect("starts");
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer())
        .with(otel);
    let _default = tracing::subscriber::set_default(subscriber);

    let app = Router::new()
        .route("/users/{id}", get(|| async { "user" }))
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .layer(taskwire::tower::layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    let client = reqwest_middleware::ClientBuilder::new(
        reqwest::Client::builder()
            .no_proxy()
            .build()
            .expect("client"),
    )
    .with(taskwire::reqwest::middleware())
    .build();

    let trace = async {
        let res = client
            .get(format!("http://{addr}/users/7?q=shoes&token=s3cr3t"))
            .header("user-agent", "conventions-test/1.0")
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 200);
        res.text().await.expect("body");
        let res = client
            .get(format!("http://{addr}/missing"))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), 404);
        res.text().await.expect("body");
        taskwire_tasks::current()
            .expect("task")
            .trace_id()
            .to_string()
    }
    .instrument(tracing::info_span!("caller"))
    .await;
    assert!(
        guard.flush_within(Duration::from_secs(15)),
        "flush timed out"
    );

    // caller, two client spans, two server spans.
    let got = otel_support::wait_for(&log, Duration::from_secs(10), |r| {
        r.trace(&trace).len() >= 5
    });
    let spans = got.trace(&trace);
    assert_eq!(spans.len(), 5, "collector received {spans:#?}");
    let named = |name: &str, kind: &str| {
        spans
            .iter()
            .filter(|s| s.name == name && s.kind == kind)
            .copied()
            .collect::<Vec<_>>()
    };

    let server = named("GET /users/{id}", "SPAN_KIND_SERVER");
    let server = server.first().unwrap_or_else(|| panic!("{spans:#?}"));
    assert_eq!(server.attr("url.scheme"), Some("Str(http)"));
    assert_eq!(server.attr("url.path"), Some("Str(/users/7)"));
    assert_eq!(
        server.attr("url.query"),
        Some("Str(q=shoes&token=REDACTED)")
    );
    assert_eq!(server.attr("server.address"), Some("Str(127.0.0.1)"));
    assert_eq!(
        server.attr("server.port").map(str::to_owned),
        Some(format!("Int({})", addr.port()))
    );
    assert_eq!(
        server.attr("user_agent.original"),
        Some("Str(conventions-test/1.0)")
    );
    assert_eq!(server.attr("http.route"), Some("Str(/users/{id})"));
    assert_eq!(server.status_code, "STATUS_CODE_UNSET");

    let missing_server = named("GET /missing", "SPAN_KIND_SERVER");
    let missing_server = missing_server
        .first()
        .unwrap_or_else(|| panic!("{spans:#?}"));
    assert_eq!(
        missing_server.status_code, "STATUS_CODE_UNSET",
        "a 4xx is the client's mistake on the server side"
    );

    // client tasks are named after the method and the host (`GET 127.0.0.1:PORT`)
    let clients: Vec<_> = spans
        .iter()
        .filter(|s| s.kind == "SPAN_KIND_CLIENT" && s.name.starts_with("GET "))
        .collect();
    assert_eq!(clients.len(), 2, "{spans:#?}");
    let failed = clients
        .iter()
        .find(|s| s.attr("http.response.status_code") == Some("Int(404)"))
        .unwrap_or_else(|| panic!("{clients:#?}"));
    assert_eq!(failed.status_code, "STATUS_CODE_ERROR");
    assert_eq!(failed.status_message, "", "the code says it: {failed:#?}");
    assert_eq!(failed.attr("error.type"), Some("Str(404)"));
    let ok = clients
        .iter()
        .find(|s| s.attr("http.response.status_code") == Some("Int(200)"))
        .unwrap_or_else(|| panic!("{clients:#?}"));
    assert_eq!(ok.status_code, "STATUS_CODE_UNSET");

    let all = format!("{spans:?}");
    assert!(!all.contains("s3cr3t"), "{all}");
    drop(guard);
}
