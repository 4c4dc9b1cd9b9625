//! The W3C Trace Context harness (w3c/trace-context `test/test.py` at acab820, Level 2), all 41
//! cases, against an axum service with `taskwire::tower::layer()` that calls the harness back
//! through taskwire's reqwest middleware, over real HTTP on 127.0.0.1; and the `traceresponse`
//! it answers with carries the random-trace-id flag like its `traceparent`.
//!
//! The subscriber is the process's global default (axum's connection tasks run on runtime
//! threads), so this test has its own file.
#![cfg(all(feature = "axum", feature = "reqwest"))]

#[path = "support/w3c_harness.rs"]
mod w3c_harness;
#[path = "support/w3c_services.rs"]
mod w3c_services;

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use tracing_subscriber::prelude::*;
use w3c_services::Harness;

/// The axum service under test, on a runtime of its own, and the harness pointed at it.
fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        tracing::subscriber::set_global_default(
            tracing_subscriber::registry().with(taskwire::tasks::layer()),
        )
        .expect("the only global subscriber of this test binary");
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

#[test]
fn passes_all_41_cases_at_strict_level_2_spec_level_2() {
    w3c_harness::assert_passes_all(harness(), 2, 2, 41);
}

#[test]
fn passes_all_35_cases_at_strict_level_1_spec_level_2() {
    w3c_harness::assert_passes_all(harness(), 1, 2, 35);
}

#[test]
fn traceresponse_carries_the_random_flag() {
    w3c_services::traceresponse_flags_follow_the_trace(harness());
}
