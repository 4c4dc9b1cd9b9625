//! The front half of the two-service example: an axum shop service that calls the payment
//! service of `examples/back.rs`.
//!
//! `GET /checkout/{order}` prices the cart, then charges the order with
//! `GET {back}/charge/{order}` through a `reqwest_middleware` client. Each request is a task
//! continued from the caller's `traceparent` (`taskwire::tower`); each call to back is a client
//! task (`taskwire::reqwest`) whose `traceparent` back continues, so the two processes' logs form
//! one task tree. When back fails (it does for orders that are multiples of 13), front logs an
//! ERROR and answers `502 Bad Gateway`.
//!
//! ```text
//! cargo run --example front --features axum,reqwest -- --port 8080 \
//!     --back http://127.0.0.1:8081 --log target/two-services/front.log
//! ```
//!
//! | argument | env | default | meaning |
//! |---|---|---|---|
//! | `--port PORT` | `PORT` | `8080` | port on 127.0.0.1; `0` picks a free one |
//! | `--back URL` | `BACK_URL` | `http://127.0.0.1:8081` | where back listens |
//! | `--log PATH` | `LOG_FILE` | `target/two-services/front.log` | the JSON log file (appended to) |
//! | `--stop-on-eof` | | off | also stop when standard input is closed (for tests and scripts) |
//!
//! The first line on stdout is always `listening on 127.0.0.1:PORT` (the port actually bound).
//! Ctrl-C, `SIGTERM` or (with `--stop-on-eof`) the end of standard input stops the server
//! gracefully; the log file is complete once the process has exited.
//! `docs/propagation.md` ("Two services, one tree") runs both services.

use std::error::Error;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use axum::Router;
use reqwest_middleware::ClientWithMiddleware;
use tracing::{error, info, instrument};

#[path = "support/service.rs"]
mod service;

const USAGE: &str =
    "usage: front [--port PORT] [--back URL] [--log PATH] [--tickets PATH] [--stop-on-eof]";

#[derive(Clone)]
struct Shop {
    client: ClientWithMiddleware,
    back: String,
}

/// A local child task of the request task.
#[instrument]
async fn price_cart(order: u64) -> u64 {
    tokio::time::sleep(Duration::from_millis(1)).await;
    1_000 + order % 7 * 250
}

async fn checkout(State(shop): State<Shop>, Path(order): Path<u64>) -> (StatusCode, String) {
    let amount_cents = price_cart(order).await;
    info!(order, amount_cents, "charging");
    // The client task `GET <back host>` is a child of this request task; back's request task is its child.
    let url = format!("{}/charge/{order}", shop.back);
    match shop.client.get(&url).send().await {
        Ok(res) if res.status().is_success() => {
            let receipt = res.text().await.unwrap_or_default();
            info!(order, %receipt, "order paid");
            (StatusCode::OK, format!("order {order} paid: {receipt}\n"))
        }
        Ok(res) => {
            // An ERROR inside the request task fails it (so would the 502 alone).
            error!(
                order,
                status = res.status().as_u16(),
                "payment service failed"
            );
            (
                StatusCode::BAD_GATEWAY,
                format!("order {order}: payment failed\n"),
            )
        }
        Err(e) => {
            error!(order, error = %e, "payment service unreachable");
            (
                StatusCode::BAD_GATEWAY,
                format!("order {order}: payment service unreachable\n"),
            )
        }
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args = service::args("front", USAGE, "8080", Some("http://127.0.0.1:8081"));
    // Keep the guard until the server has stopped: dropping it flushes the log file.
    let _guard = service::install("front", &args.log, args.tickets.as_deref())?;

    let client = reqwest_middleware::ClientBuilder::new(
        reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()?,
    )
    .with(taskwire::reqwest::middleware())
    .build();
    let shop = Shop {
        client,
        back: args.back.unwrap_or_default(),
    };
    let app = Router::new()
        .route("/checkout/{order}", get(checkout))
        // `Router::layer`: the route is matched first, so tasks are named `GET /checkout/{order}`.
        .layer(taskwire::tower::layer())
        .with_state(shop);

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await?;
    let addr = listener.local_addr()?;
    // First line on stdout, before any log line: tests read the port from it.
    println!("listening on {addr}");
    info!(%addr, log = %args.log.display(), "front listening");
    axum::serve(listener, app)
        .with_graceful_shutdown(service::shutdown_signal(args.stop_on_eof))
        .await?;
    info!("front stopped");
    Ok(())
}
