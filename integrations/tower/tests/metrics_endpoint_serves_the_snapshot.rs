//! The metrics handler serves taskwire-metrics' snapshot of the requests the middleware turned
//! into tasks: Prometheus text by default, JSON on `Accept: application/json`, a table on
//! `?format=table`.
#![cfg(all(feature = "axum", feature = "metrics"))]

use axum::body::{to_bytes, Body};
use axum::routing::get;
use axum::Router;
use http::Request;
use tower::ServiceExt;

async fn call(app: &Router, uri: &str, accept: Option<&str>) -> (String, String) {
    let mut req = Request::get(uri);
    if let Some(a) = accept {
        req = req.header("accept", a);
    }
    let res = app
        .clone()
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible");
    let content_type = res.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let body = to_bytes(res.into_body(), usize::MAX).await.expect("body");
    (
        content_type,
        String::from_utf8(body.to_vec()).expect("utf-8"),
    )
}

#[tokio::test]
async fn serves_prometheus_json_and_a_table() {
    let (handle, _default) = taskwire_test_stack::tasks_and_metrics();
    let app = Router::new()
        .route("/users/{id}", get(|| async { "ok" }))
        .route(
            "/metrics",
            get(taskwire_tower::metrics::handler(handle.clone())),
        )
        .layer(taskwire_tower::layer().with_skip_paths(["/metrics"]));
    for i in 0..5 {
        call(&app, &format!("/users/{i}"), None).await;
    }

    let (ct, text) = call(&app, "/metrics", None).await;
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let count = text
        .lines()
        .find(|l| l.starts_with(r#"taskwire_span_duration_seconds_count{name="GET /users/{id}""#))
        .unwrap_or_else(|| panic!("no count line in:\n{text}"));
    assert!(count.ends_with(" 5"), "{count}");
    assert!(text.contains("# TYPE taskwire_span_duration_seconds summary"));

    let (ct, json) = call(&app, "/metrics", Some("application/json")).await;
    assert_eq!(ct, "application/json");
    let v: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let task = v["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .find(|t| t["name"] == "GET /users/{id}")
        .expect("the route's task row");
    assert_eq!(task["count"], 5);
    assert_eq!(task["errors"], 0);

    let (_, table) = call(&app, "/metrics?format=table", None).await;
    assert!(table.starts_with("task"), "{table}");
    assert!(table.contains("GET /users/{id}"), "{table}");
    assert!(
        !table.contains("/metrics"),
        "skipped paths open no task: {table}"
    );
}
