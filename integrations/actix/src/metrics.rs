//! An actix-web route serving taskwire-metrics' in-app snapshot (feature `metrics`).
//!
//! The format follows the request: `?format=json|prometheus|table`, else `Accept:
//! application/json` for JSON, else the Prometheus text format (see
//! [`taskwire_metrics::Format::negotiate`]).
//!
//! ```
//! use actix_web::App;
//!
//! let layer = taskwire_metrics::layer();
//! let metrics = layer.handle();
//! // In `HttpServer::new(move || …)`, once per worker:
//! let app = App::new()
//!     .wrap(taskwire_actix::middleware().with_skip_paths(["/metrics"]))
//!     .route("/metrics", taskwire_actix::metrics::route(metrics.clone()));
//! # drop(app);
//! ```
//!
//! A snapshot takes a few microseconds per series, on the worker that serves the request.

use actix_web::http::header::ACCEPT;
use actix_web::{web, HttpRequest, HttpResponse, Route};
use taskwire_metrics::{Format, MetricsHandle};

/// A `GET` route that answers with a snapshot of `handle`.
pub fn route(handle: MetricsHandle) -> Route {
    web::get().to(move |req: HttpRequest| {
        let res = respond(&handle, &req);
        async move { res }
    })
}

fn respond(handle: &MetricsHandle, req: &HttpRequest) -> HttpResponse {
    let accept = req.headers().get(ACCEPT).and_then(|v| v.to_str().ok());
    let format = Format::negotiate(accept, Some(req.query_string()));
    HttpResponse::Ok()
        .content_type(format.content_type())
        .body(handle.render(format))
}
