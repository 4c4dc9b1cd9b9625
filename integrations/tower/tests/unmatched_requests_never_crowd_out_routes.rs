//! Requests that match no route are named after their method alone, so a scanner's thousand
//! paths make a handful of task names, and a real route first requested afterwards still gets
//! its own metrics series under the default cap of 500 label sets. Over real HTTP on 127.0.0.1.
#![cfg(all(feature = "axum", feature = "metrics"))]

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::routing::get;
use axum::Router;
use http::{Method, Request};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use tracing_subscriber::prelude::*;

/// Methods a scanner uses; `BREW` is not a standard one and is named `HTTP`.
const METHODS: [&str; 5] = ["GET", "POST", "HEAD", "DELETE", "BREW"];
const ROUTE: &str = "GET /users/{id}";

/// 1,000 distinct paths under `/scan`, with percent-encoded quotes, newlines and the like.
fn scanner_paths() -> Vec<String> {
    let strategy = "(/([a-zA-Z0-9._~-]|%[0-9A-F]{2}){1,12}){1,4}";
    let mut runner = TestRunner::deterministic();
    let mut paths = BTreeSet::new();
    while paths.len() < 1000 {
        let tail = strategy.new_tree(&mut runner).expect("strategy").current();
        paths.insert(format!("/scan{tail}"));
    }
    paths.into_iter().collect()
}

#[tokio::test]
async fn a_thousand_unknown_paths_leave_the_real_route_its_own_series() {
    let metrics_layer = taskwire_metrics::layer().with_label_fields(["http.route"]);
    let metrics = metrics_layer.handle();
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer())
        .with(metrics_layer);
    let _default = tracing::subscriber::set_default(subscriber);
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

    let paths = scanner_paths();
    for (i, path) in paths.iter().enumerate() {
        let status = send(METHODS[i % METHODS.len()], path).await;
        assert_eq!(status, 404, "{path}");
    }
    assert_eq!(send("GET", "/users/7").await, 200);

    // Each task ends when its response body has been sent: wait until all are counted.
    let deadline = Instant::now() + Duration::from_secs(20);
    let snapshot = loop {
        let s = metrics.snapshot();
        let counted: u64 = s.tasks.iter().map(|t| t.count).sum();
        if counted == 1001 || Instant::now() > deadline {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let route = snapshot
        .timers
        .iter()
        .find(|t| t.labels.get("name") == Some(ROUTE))
        .unwrap_or_else(|| panic!("no series of its own for {ROUTE}: {:#?}", snapshot.tasks));
    assert_eq!(route.count, 1);
    assert_eq!(route.labels.get("http_route"), Some("/users/{id}"));
    let unmatched: BTreeSet<&str> = snapshot
        .tasks
        .iter()
        .map(|t| t.name.as_str())
        .filter(|n| *n != ROUTE)
        .collect();
    assert!(
        unmatched.len() <= METHODS.len(),
        "{} names for unmatched requests: {unmatched:?}",
        unmatched.len()
    );
    assert_eq!(
        unmatched,
        BTreeSet::from(["DELETE", "GET", "HEAD", "HTTP", "POST"])
    );
    let counted: u64 = snapshot.tasks.iter().map(|t| t.count).sum();
    assert_eq!(counted, 1001, "every request is counted, none in overflow");
}

/// The raw path is only `url.path`, which a redactor key hides in every record.
#[tokio::test]
async fn the_raw_path_is_only_a_field_a_redactor_can_hide() {
    use support::Buf;
    use taskwire_core::Redactor;
    let redactor = Redactor::default().with_key("url.path");
    let buf = Buf::default();
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
