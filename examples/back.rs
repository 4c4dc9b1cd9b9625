//! The back half of the two-service example: an actix-web payment service.
//!
//! `GET /charge/{order}` charges an order. Orders whose id is a multiple of 13 hit a simulated
//! ledger fault: the handler logs an ERROR and answers `500`, so the request task fails. Every
//! request is a task continued from the caller's `traceparent` (`taskwire::actix`), written as
//! JSON lines to stdout and to a log file.
//!
//! ```text
//! cargo run --example back --features actix -- --port 8081 --log target/two-services/back.log
//! ```
//!
//! | argument | env | default | meaning |
//! |---|---|---|---|
//! | `--port PORT` | `PORT` | `8081` | port on 127.0.0.1; `0` picks a free one |
//! | `--log PATH` | `LOG_FILE` | `target/two-services/back.log` | the JSON log file (appended to) |
//! | `--stop-on-eof` | | off | also stop when standard input is closed (for tests and scripts) |
//!
//! The first line on stdout is always `listening on 127.0.0.1:PORT` (the port actually bound).
//! Ctrl-C, `SIGTERM` or (with `--stop-on-eof`) the end of standard input stops the server
//! gracefully; the log file is complete once the process has exited.
//! `examples/front.rs` is the service that calls this one; `docs/propagation.md` ("Two
//! services, one tree") runs both.

use std::error::Error;
use std::fmt;
use std::time::Duration;

use actix_web::{web, App, HttpResponse, HttpServer};
use tracing::{error, info, instrument};

#[path = "support/service.rs"]
mod service;

const USAGE: &str = "usage: back [--port PORT] [--log PATH] [--tickets PATH] [--stop-on-eof]";

/// The simulated fault.
#[derive(Debug)]
struct LedgerUnavailable {
    order: u64,
}

impl fmt::Display for LedgerUnavailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ledger write for order {} timed out", self.order)
    }
}

impl Error for LedgerUnavailable {}

/// A child task of the request task; `err` writes an ERROR event (and fails this task) when it
/// returns `Err`.
#[instrument(err)]
async fn write_ledger(order: u64) -> Result<(), LedgerUnavailable> {
    actix_web::rt::time::sleep(Duration::from_millis(2)).await;
    if order.is_multiple_of(13) {
        return Err(LedgerUnavailable { order });
    }
    Ok(())
}

async fn charge(order: web::Path<u64>) -> HttpResponse {
    let order = order.into_inner();
    info!(order, "charging");
    match write_ledger(order).await {
        Ok(()) => {
            info!(order, "charged");
            HttpResponse::Ok().body(format!("charged order {order}"))
        }
        Err(e) => {
            // An ERROR inside the request task fails it (so would the 500 alone).
            error!(order, error = %e, "charge failed");
            HttpResponse::InternalServerError().body("charge failed")
        }
    }
}

#[actix_web::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let args = service::args("back", USAGE, "8081", None);
    // Keep the guard until the server has stopped: dropping it flushes the log file.
    let _guard = service::install("back", &args.log, args.tickets.as_deref())?;

    let server = HttpServer::new(|| {
        App::new()
            .wrap(taskwire::actix::middleware())
            .route("/charge/{order}", web::get().to(charge))
    })
    .workers(2)
    // In-flight requests get this long to finish once a shutdown has begun.
    .shutdown_timeout(5)
    .shutdown_signal(service::shutdown_signal(args.stop_on_eof))
    .bind(("127.0.0.1", args.port))?;
    let addr = *server.addrs().first().ok_or("bound to no address")?;

    // First line on stdout, before any log line: tests read the port from it.
    println!("listening on {addr}");
    info!(%addr, log = %args.log.display(), "back listening");
    server.run().await?;
    info!("back stopped");
    Ok(())
}
