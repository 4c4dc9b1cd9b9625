//! Requests that match no route are named after their method alone, so a scanner's thousand
//! paths make a handful of task names, and a real route first requested afterwards still gets
//! its own metrics series under the default cap of 500 label sets. Over real HTTP on 127.0.0.1.
#![cfg(feature = "metrics")]

mod support;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use support::{client, Captured, TestServer};
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
    let dispatch = tracing::Dispatch::new(
        tracing_subscriber::registry()
            .with(taskwire_tasks::layer())
            .with(metrics_layer),
    );
    let server =
        TestServer::start_with(taskwire_actix::middleware(), dispatch, Captured::default());
    let client = client();

    let paths = scanner_paths();
    for (i, path) in paths.iter().enumerate() {
        let method =
            reqwest::Method::from_bytes(METHODS[i % METHODS.len()].as_bytes()).expect("method");
        let res = client
            .request(method, server.url(path))
            .send()
            .await
            .expect("response");
        assert_eq!(res.status(), 404, "{path}");
        res.bytes().await.expect("body");
    }
    let res = client
        .get(server.url("/users/7"))
        .send()
        .await
        .expect("response");
    assert_eq!(res.status(), 200);
    res.bytes().await.expect("body");

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
