//! The W3C Trace Context harness (w3c/trace-context `test/test.py` at acab820, Level 2), all 41
//! cases, against an axum service with `taskwire::tower::layer()` that calls the harness back
//! through taskwire's reqwest middleware, over real HTTP on 127.0.0.1; and the `traceresponse`
//! it answers with carries the random-trace-id flag like its `traceparent`.
//!
//! The subscriber is the process's global default (axum's connection tasks run on runtime
//! threads), so this test has its own file.
#![cfg(all(feature = "axum", feature = "reqwest"))]

#[path = "support/w3c_harness/mod.rs"]
mod w3c_harness;
#[macro_use]
#[path = "support/w3c_services.rs"]
mod w3c_services;

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use w3c_services::Harness;

/// The axum service under test, on a runtime of its own, and the harness pointed at it.
fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        w3c_services::install_global_tasks_subscriber();
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let app = Router::new()
            .route(
                "/test",
                post(
                    |State(client): State<reqwest_middleware::ClientWithMiddleware>,
                     body: String| async move {
                        if w3c_services::call_back(&client, &body).await {
                            StatusCode::OK
                        } else {
                            StatusCode::BAD_GATEWAY
                        }
                    },
                ),
            )
            .with_state(w3c_services::traced_client())
            .layer(taskwire::tower::layer());
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("address");
        rt.spawn(async move { axum::serve(listener, app).await });
        // The service's runtime lives as long as the test binary.
        std::mem::forget(rt);
        Harness::start(format!("http://{addr}/test"))
    })
}

w3c_service_tests!(harness);
