//! With the umbrella's `axum` and `metrics` features, `taskwire::tower::metrics::handler` exists
//! and serves the in-app snapshot of the requests `taskwire::tower::layer()` turned into tasks,
//! over real HTTP on 127.0.0.1: the umbrella forwards `metrics` to taskwire-tower.
#![cfg(all(feature = "axum", feature = "metrics"))]

#[path = "support/metrics_snapshot.rs"]
mod metrics_snapshot;

use axum::routing::get;
use axum::Router;
use tracing_subscriber::prelude::*;

#[tokio::test]
async fn metrics_handler_is_reachable_through_the_umbrella() {
    let metrics = taskwire::metrics::layer();
    let handle = metrics.handle();
    let subscriber = tracing_subscriber::registry()
        .with(taskwire::tasks::layer())
        .with(metrics);
    // A current-thread runtime: the server's tasks run on this thread, under this default.
    let _default = tracing::subscriber::set_default(subscriber);

    let app = Router::new()
        .route("/users/{id}", get(|| async { "user" }))
        .route("/metrics", get(taskwire::tower::metrics::handler(handle)))
        .layer(taskwire::tower::layer().with_skip_paths(["/metrics"]));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1");
    let addr = listener.local_addr().expect("local address");
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let client = reqwest::Client::new();
    metrics_snapshot::get_users(&client, addr, 3).await;
    let text = metrics_snapshot::wait_for_count(&client, addr, 3).await;
    assert!(
        text.contains("# TYPE taskwire_span_duration_seconds summary"),
        "{text}"
    );
    assert!(
        !text.contains(r#"name="GET /metrics""#),
        "skipped paths open no task: {text}"
    );
    server.abort();
}
