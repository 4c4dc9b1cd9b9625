//! With the umbrella's `actix` and `metrics` features, `taskwire::actix::metrics::route` exists
//! and serves the in-app snapshot of the requests `taskwire::actix::middleware()` turned into
//! tasks, over real HTTP on 127.0.0.1: the umbrella forwards `metrics` to taskwire-actix.
//!
//! actix-web runs its workers on threads of their own, so the subscriber is the global default
//! (this file is its own test binary).
#![cfg(all(feature = "actix", feature = "metrics"))]

#[path = "support/metrics_snapshot.rs"]
mod metrics_snapshot;

use actix_web::{web, App, HttpResponse, HttpServer};
use metrics_snapshot::count;
use tracing_subscriber::prelude::*;

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
    metrics_snapshot::get_users(&client, addr, 3).await;
    let text = metrics_snapshot::wait_for_count(&client, addr, 3).await;
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
