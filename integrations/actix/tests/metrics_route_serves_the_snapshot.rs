//! The metrics route serves taskwire-metrics' snapshot of the requests the middleware turned
//! into tasks: Prometheus text by default, JSON on `Accept: application/json`, a table on
//! `?format=table`.
#![cfg(feature = "metrics")]

use actix_web::{test, web, App};

#[actix_web::test]
async fn serves_prometheus_json_and_a_table() {
    let (handle, _default) = taskwire_test_stack::tasks_and_metrics();
    let app = test::init_service(
        App::new()
            .wrap(taskwire_actix::middleware().with_skip_paths(["/metrics"]))
            .route("/users/{id}", web::get().to(|| async { "ok" }))
            .route(
                "/fail",
                web::get()
                    .to(|| async { actix_web::HttpResponse::InternalServerError().body("no") }),
            )
            .route("/metrics", taskwire_actix::metrics::route(handle.clone())),
    )
    .await;
    for i in 0..4 {
        let req = test::TestRequest::get()
            .uri(&format!("/users/{i}"))
            .to_request();
        let _ = test::call_and_read_body(&app, req).await;
    }
    let _ =
        test::call_and_read_body(&app, test::TestRequest::get().uri("/fail").to_request()).await;

    let res = test::call_service(&app, test::TestRequest::get().uri("/metrics").to_request()).await;
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(ct.starts_with("text/plain; version=0.0.4"), "{ct}");
    let text = String::from_utf8(test::read_body(res).await.to_vec()).expect("utf-8");
    let count = text
        .lines()
        .find(|l| l.starts_with(r#"taskwire_span_duration_seconds_count{name="GET /users/{id}""#))
        .unwrap_or_else(|| panic!("no count line in:\n{text}"));
    assert!(count.ends_with(" 4"), "{count}");

    let req = test::TestRequest::get()
        .uri("/metrics")
        .insert_header(("accept", "application/json"))
        .to_request();
    let v: serde_json::Value = test::call_and_read_body_json(&app, req).await;
    let row = |name: &str| {
        v["tasks"]
            .as_array()
            .expect("tasks")
            .iter()
            .find(|t| t["name"] == name)
            .cloned()
            .unwrap_or_else(|| panic!("no row {name}: {v}"))
    };
    assert_eq!(row("GET /users/{id}")["count"], 4);
    let fail = row("GET /fail");
    assert_eq!(
        (fail["count"].as_u64(), fail["errors"].as_u64()),
        (Some(1), Some(1))
    );

    let req = test::TestRequest::get()
        .uri("/metrics?format=table")
        .to_request();
    let table =
        String::from_utf8(test::call_and_read_body(&app, req).await.to_vec()).expect("utf-8");
    assert!(table.starts_with("task"), "{table}");
    assert!(table.contains("GET /users/{id}"), "{table}");
}
