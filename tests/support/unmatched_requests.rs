//! A scanner's thousand unknown paths, then one real route, sent to an HTTP service through
//! taskwire's middleware; and the checks on the metrics snapshot that follows: unmatched
//! requests make a handful of task names, the route keeps its own series. Shared by the server
//! middlewares' tests (taskwire-tower, taskwire-actix), each with its own server and client.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeSet;
use std::future::Future;
use std::time::{Duration, Instant};

use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

/// Methods a scanner uses; `BREW` is not a standard one and is named `HTTP`.
pub const METHODS: [&str; 5] = ["GET", "POST", "HEAD", "DELETE", "BREW"];
/// The task name of the one real route, `GET /users/{id}`.
pub const ROUTE: &str = "GET /users/{id}";

/// 1,000 distinct paths under `/scan`, with percent-encoded quotes, newlines and the like.
pub fn scanner_paths() -> Vec<String> {
    let strategy = "(/([a-zA-Z0-9._~-]|%[0-9A-F]{2}){1,12}){1,4}";
    let mut runner = TestRunner::deterministic();
    let mut paths = BTreeSet::new();
    while paths.len() < 1000 {
        let tail = strategy.new_tree(&mut runner).expect("strategy").current();
        paths.insert(format!("/scan{tail}"));
    }
    paths.into_iter().collect()
}

/// Sends the scanner's paths (each answered 404), then `GET /users/7` (answered 200), one
/// after the other; `send(method, path)` sends one request, reads its body and gives its status.
pub async fn scan_then_route<F, Fut>(send: F)
where
    F: Fn(&str, &str) -> Fut,
    Fut: Future<Output = u16>,
{
    let paths = scanner_paths();
    for (i, path) in paths.iter().enumerate() {
        let status = send(METHODS[i % METHODS.len()], path).await;
        assert_eq!(status, 404, "{path}");
    }
    assert_eq!(send("GET", "/users/7").await, 200);
}

/// Waits until the 1,001 requests are counted (each task ends when its response body has been
/// sent), then checks the route's own series and the few names of the unmatched requests.
pub async fn assert_route_keeps_its_series(metrics: &taskwire_metrics::MetricsHandle) {
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
