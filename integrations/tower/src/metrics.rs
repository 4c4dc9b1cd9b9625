//! An axum handler serving taskwire-metrics' in-app snapshot (features `axum` and `metrics`).
//!
//! The format follows the request: `?format=json|prometheus|table`, else `Accept:
//! application/json` for JSON, else the Prometheus text format (see
//! [`taskwire_metrics::Format::negotiate`]).
//!
//! ```
//! use axum::{routing::get, Router};
//!
//! let layer = taskwire_metrics::layer();
//! let app: Router = Router::new().route("/metrics", get(taskwire_tower::metrics::handler(layer.handle())));
//! # drop(app);
//! ```
//!
//! A snapshot takes a few microseconds per series, on the handler's task.

use std::future::{ready, Ready};

use axum::body::Body;
use axum::response::Response;
use http::header::{HeaderValue, ACCEPT, CONTENT_TYPE};
use http::{HeaderMap, Uri};
use taskwire_metrics::{Format, MetricsHandle};

/// An axum handler (`get(handler(h))`) that answers with a snapshot of `handle`.
pub fn handler(
    handle: MetricsHandle,
) -> impl Fn(HeaderMap, Uri) -> Ready<Response> + Clone + Send + Sync + 'static {
    move |headers: HeaderMap, uri: Uri| {
        let accept = headers.get(ACCEPT).and_then(|v| v.to_str().ok());
        let format = Format::negotiate(accept, uri.query());
        let mut res = Response::new(Body::from(handle.render(format)));
        res.headers_mut().insert(
            CONTENT_TYPE,
            HeaderValue::from_static(format.content_type()),
        );
        ready(res)
    }
}
