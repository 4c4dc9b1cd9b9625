//! The W3C Trace Context harness (w3c/trace-context `test/test.py` at acab820, Level 2), all 41
//! cases, against an actix-web service with `taskwire::actix::middleware()` that calls the
//! harness back through taskwire's reqwest middleware, over real HTTP on 127.0.0.1; and the
//! `traceresponse` it answers with carries the random-trace-id flag like its `traceparent`.
//!
//! The subscriber is the process's global default (actix runs its own worker threads), so this
//! test has its own file.
#![cfg(all(feature = "actix", feature = "reqwest"))]

#[path = "support/w3c_harness/mod.rs"]
mod w3c_harness;
#[macro_use]
#[path = "support/w3c_services.rs"]
mod w3c_services;

use std::sync::OnceLock;

use actix_web::{web, App, HttpResponse, HttpServer};
use w3c_services::Harness;

async fn test_endpoint(
    client: web::Data<reqwest_middleware::ClientWithMiddleware>,
    body: String,
) -> HttpResponse {
    if w3c_services::call_back(&client, &body).await {
        HttpResponse::Ok().finish()
    } else {
        HttpResponse::BadGateway().finish()
    }
}

/// The actix service under test, on a thread of its own, and the harness pointed at it.
fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        w3c_services::install_global_tasks_subscriber();
        let (tx, rx) = std::sync::mpsc::channel();
        // The server runs as long as the test binary.
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let client = web::Data::new(w3c_services::traced_client());
                let server = HttpServer::new(move || {
                    App::new()
                        .app_data(client.clone())
                        .wrap(taskwire::actix::middleware())
                        .route("/test", web::post().to(test_endpoint))
                })
                .workers(1)
                .disable_signals()
                .bind(("127.0.0.1", 0))
                .expect("bind 127.0.0.1:0");
                tx.send(server.addrs()[0]).expect("the test is waiting");
                server.run().await.expect("server ran");
            });
        });
        let addr = rx.recv().expect("the server started");
        Harness::start(format!("http://{addr}/test"))
    })
}

w3c_service_tests!(harness);
