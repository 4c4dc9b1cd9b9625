//! Requests that match no route are named after their method alone, so a scanner's thousand
//! paths make a handful of task names, and a real route first requested afterwards still gets
//! its own metrics series under the default cap of 500 label sets. Over real HTTP on 127.0.0.1.
#![cfg(all(feature = "axum", feature = "metrics"))]

mod support;

use support::WaitForTask;
#[path = "../../../tests/support/unmatched_requests.rs"]
mod unmatched_requests;

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tracing_subscriber::prelude::*;

#[tokio::test]
async fn a_thousand_unknown_paths_leave_the_real_route_its_own_series() {
    let metrics_layer = taskwire_metrics::layer().with_label_fields(["http.route"]);
    let metrics = metrics_layer.handle();
    let _default = tracing::subscriber::set_default(taskwire_test_stack::tasks_with(metrics_layer));
    let app = Router::new()
        .route("/users/{id}", get(|| async { "user" }))
        .layer(taskwire_tower::layer());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
    let client: Client<_, Body> = Client::builder(TokioExecutor::new()).build_http();
    let send = |method: &str, path: &str| {
        let req = Request::builder()
            .method(Method::from_bytes(method.as_bytes()).expect("method"))
            .uri(format!("http://{addr}{path}"))
            .body(Body::empty())
            .expect("request");
        let client = client.clone();
        async move {
            let res = client.request(req).await.expect("response");
            let status = res.status();
            axum::body::to_bytes(Body::new(res.into_body()), usize::MAX)
                .await
                .expect("body");
            status
        }
    };
    unmatched_requests::scan_then_route(|method, path| {
        let status = send(method, path);
        async move { status.await.as_u16() }
    })
    .await;
    unmatched_requests::assert_route_keeps_its_series(&metrics).await;
}

/// The raw path is only `url.path`, which a redactor key hides in every record.
#[tokio::test]
async fn the_raw_path_is_only_a_field_a_redactor_can_hide() {
    use taskwire_core::Redactor;
    use taskwire_test_support::Capture;
    let redactor = Redactor::default().with_key("url.path");
    let buf = Capture::default();
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer().with_redactor(redactor.clone()))
        .with(
            taskwire_json::layer()
                .with_redactor(redactor)
                .with_writer(buf.clone()),
        );
    let _default = tracing::subscriber::set_default(subscriber);
    let svc = tower::Layer::layer(
        &taskwire_tower::layer(),
        tower::service_fn(|_req: Request<String>| async {
            Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
        }),
    );
    tower::ServiceExt::oneshot(
        svc,
        Request::get("/reset/4f7c2e-secret-token")
            .body(String::new())
            .expect("request"),
    )
    .await
    .expect("response");
    let end = buf.task_end("GET").await;
    assert_eq!(end["url.path"], "[redacted]");
    let all = serde_json::to_string(&buf.records()).expect("json");
    assert!(!all.contains("secret-token"), "{all}");
}
