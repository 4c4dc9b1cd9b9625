//! With the umbrella's `axum` and `metrics` features, `taskwire::tower::metrics::handler` exists
//! and serves the in-app snapshot of the requests `taskwire::tower::layer()` turned into tasks,
//! over real HTTP on 127.0.0.1: the umbrella forwards `metrics` to taskwire-tower.
#![cfg(all(feature = "axum", feature = "metrics"))]

use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use tracing_subscriber::prelude::*;

/// The Prometheus count line of the route's task, once it reaches `want` (the task of a request
/// ends when its response body has been sent, which may be after the client has read it).
async fn wait_for_count(client: &reqwest::Client, url: &str, want: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = client
            .get(url)
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics body");
        let count = text
            .lines()
            .find(|l| {
                l.starts_with(r#"taskwire_span_duration_seconds_count{name="GET /users/{id}""#)
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|n| n.parse::<u64>().ok());
        if count == Some(want) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "no count of {want} for `GET /users/{{id}}` within 10 s in:\n{text}"
        );
        tokio::task::yield_now().await;
    }
}

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
    for i in 0..3 {
        let res = client
            .get(format!("http://{addr}/users/{i}"))
            .send()
            .await
            .expect("GET /users/{id}");
        assert_eq!(res.status(), 200);
        assert_eq!(res.text().await.expect("body"), "user");
    }
    let text = wait_for_count(&client, &format!("http://{addr}/metrics"), 3).await;
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
