//! The client side of the metrics-route tests: requests to a service's `GET /users/{id}`, and
//! its metrics route read until the route's task count arrives; over real HTTP on 127.0.0.1.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The value of `route`'s Prometheus count line, if there is one.
pub fn count(text: &str, route: &str) -> Option<u64> {
    let prefix = format!(r#"taskwire_span_duration_seconds_count{{name="{route}""#);
    text.lines()
        .find(|l| l.starts_with(&prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
}

/// Asks the service at `addr` for `/users/0` to `/users/{n - 1}`; each answers 200 with `user`.
pub async fn get_users(client: &reqwest::Client, addr: SocketAddr, n: u64) {
    for i in 0..n {
        let res = client
            .get(format!("http://{addr}/users/{i}"))
            .send()
            .await
            .expect("GET /users/{id}");
        assert_eq!(res.status(), 200);
        assert_eq!(res.text().await.expect("body"), "user");
    }
}

/// The text of `http://{addr}/metrics` once the count of `GET /users/{id}` in it is `want`,
/// asked again until then, for at most 10 s (the task of a request ends when its response body
/// has been sent, which may be after the client has read it).
pub async fn wait_for_count(client: &reqwest::Client, addr: SocketAddr, want: u64) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics body");
        if count(&text, "GET /users/{id}") == Some(want) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "no count of {want} for `GET /users/{{id}}` within 10 s in:\n{text}"
        );
        tokio::task::yield_now().await;
    }
}
