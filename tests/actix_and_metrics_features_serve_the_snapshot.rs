//! With the umbrella's `actix` and `metrics` features, `taskwire::actix::metrics::route` exists
//! and serves the in-app snapshot of the requests `taskwire::actix::middleware()` turned into
//! tasks, over real HTTP on 127.0.0.1: the umbrella forwards `metrics` to taskwire-actix.
//!
//! actix-web runs its workers on threads of their own, so the subscriber is the global default
//! (this file is its own test binary).
#![cfg(all(feature = "actix", feature = "metrics"))]

use std::time::{Duration, Instant};

use actix_web::{web, App, HttpResponse, HttpServer};
use tracing_subscriber::prelude::*;

/// The value of the route's Prometheus count line, if there is one.
fn count(text: &str, route: &str) -> Option<u64> {
    let prefix = format!(r#"taskwire_span_duration_seconds_count{{name="{route}""#);
    text.lines()
        .find(|l| l.starts_with(&prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
}

#[actix_web::test]
async fn metrics_route_is_reachable_through_the_umbrella() {
    let metrics = taskwire::metrics::layer();
    let handle = metrics.handle();
    tracing::subscriber::set_global_default(
        tracing_subscriber::registry()
            .with(taskwire::tasks::layer())
            .with(metrics),
    )
    .expect("the only subscriber of this test binary");

    let route_handle = handle.clone();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(taskwire::actix::middleware().with_skip_paths(["/metrics"]))
            .route(
                "/users/{id}",
                web::get().to(|| async { HttpResponse::Ok().body("user") }),
            )
            .route(
                "/metrics",
                taskwire::actix::metrics::route(route_handle.clone()),
            )
    })
    .workers(1)
    .bind(("127.0.0.1", 0))
    .expect("bind 127.0.0.1");
    let addr = *server.addrs().first().expect("a bound address");
    let server = server.run();
    let stop = server.handle();
    actix_web::rt::spawn(server);

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
    // A request's task ends when its response body has been sent, which may be after the client
    // has read it: wait for the third, with a deadline.
    let deadline = Instant::now() + Duration::from_secs(10);
    let text = loop {
        let text = client
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .expect("GET /metrics")
            .text()
            .await
            .expect("metrics body");
        if count(&text, "GET /users/{id}") == Some(3) {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "no count of 3 for `GET /users/{{id}}` within 10 s in:\n{text}"
        );
        actix_web::rt::task::yield_now().await;
    };
    assert_eq!(
        count(&text, "GET /metrics"),
        None,
        "skipped paths open no task"
    );
    assert_eq!(
        count(
            &handle.render(taskwire::metrics::Format::Prometheus),
            "GET /users/{id}"
        ),
        Some(3),
        "the route serves the same snapshot as the handle"
    );
    stop.stop(true).await;
}
