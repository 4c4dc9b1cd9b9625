//! Tower middleware for taskwire: every HTTP request a server handles becomes a task that
//! continues the caller's W3C trace context, and every request a client sends carries the
//! current task.
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use tracing_subscriber::prelude::*;
//!
//! # async fn user() -> &'static str { "ok" }
//! #[tokio::main]
//! async fn main() -> std::io::Result<()> {
//!     tracing_subscriber::registry()
//!         .with(taskwire_tasks::layer())
//!         .with(taskwire_json::layer())
//!         .init();
//!
//!     let app = Router::new()
//!         .route("/users/{id}", get(user))
//!         .route("/health", get(|| async { "ok" }))
//!         // `Router::layer`, not a layer around the router: axum's `MatchedPath` is known
//!         // inside, so tasks are named after the route, `GET /users/{id}`.
//!         .layer(taskwire_tower::layer().with_skip_paths(["/health"]));
//!
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//!     axum::serve(listener, app).await
//! }
//! ```
//!
//! # Server: [`TaskLayer`]
//!
//! For each request, [`TaskService`]:
//!
//! 1. reads `traceparent` and `tracestate` with taskwire-core's codec ([`HeaderExtractor`]).
//!    A valid one makes the request task a child of the caller's task (`task.remote_parent`
//!    true in its `task.end` record); a missing, malformed, hostile or duplicated one starts a
//!    new root, is counted in [`taskwire_core::propagation::stats`], and never fails the request;
//! 2. opens the `http.server.request` span, named `"{method} {route}"` (`task.name`), with the
//!    OpenTelemetry HTTP server fields listed in [`server`];
//! 3. reuses the request's `x-request-id` when it has exactly one of 1 to 128 visible ASCII
//!    characters, and otherwise gives the request one: the task's span id in hex;
//! 4. runs the inner service inside the task, catching panics;
//! 5. records `http.response.status_code`, adds `traceresponse` (W3C Trace Context Level 2)
//!    and `x-request-id` to the response unless the handler set them, and moves the task into
//!    the response body ([`TaskBody`]): **the task ends when the body ends** (or is dropped),
//!    so a streaming response is timed in full.
//!
//! ## When a request task fails
//!
//! | what happened | the client gets | the task |
//! |---|---|---|
//! | a `5xx` response | that response | failed, `task.failure` = `"HTTP 500 Internal Server Error"`, `error.type` = `"500"`; an ERROR event (a ticket by route and status) unless one was reported inside the request |
//! | a `4xx` response | that response | succeeded: the client's mistake, not the server's (OpenTelemetry's rule for servers) |
//! | the handler panicked | an empty `500` | failed by an ERROR event: `taskwire::panic_hook()`'s, else `request handler panicked: {message}`; the server keeps serving |
//! | the inner service returned `Err` | a closed connection | failed by an ERROR event with the error |
//! | the response body failed | a cut response | failed by an ERROR event with the error |
//!
//! A 5xx nobody reported becomes an ERROR event inside the request task, grouped into tickets
//! by route and status (`with_server_error_tickets(false)` turns it off); a handler that logged
//! `error!` about the cause (or whose inner task failed) has reported it, and is counted once
//! (`taskwire_core::http::server_error`). Panics and service errors are reported by nobody
//! else, so the middleware does, with an ERROR event inside the task (a panic the panic hook
//! reported is not reported again).
//!
//! ## Routes
//!
//! The route in `task.name` and `http.route` is, in order: the function given to
//! [`TaskLayer::with_route`]; axum's `MatchedPath` (feature `axum`; add the layer with
//! `Router::layer` so that the route is matched before the middleware runs — `Router::route_layer`
//! works too, and leaves unmatched requests without a task). A request that matched no route
//! (a 404 from the router, a scanner's path) is named after its method alone (`GET`; `HTTP`
//! for a non-standard method), the same rule as taskwire-actix: a path is not a name, and ten
//! names at most cannot crowd real routes out of metrics. The path itself is only in
//! `url.path`.
//!
//! ## Options
//!
//! [`TaskLayer`]'s setters (`with_traceresponse`, `with_request_id_header`,
//! `with_request_id_header_name`, `with_client_address`, `with_skip_paths`, `with_redactor`)
//! are those of taskwire-actix, with the same defaults: the policy behind them (task names,
//! outcomes, request ids, client address) lives once in taskwire-core, whose
//! [options table](taskwire_core::http#options) documents them. `with_route` is tower's own.
//!
//! # Client: [`PropagateLayer`]
//!
//! Wrap a tower HTTP client (hyper-util's `Client`, tonic's `Channel`) and call it inside a
//! task: each request carries that task as `traceparent` (and `tracestate`), so the server's
//! request task becomes its child.
//!
//! ```
//! use tower_layer::Layer;
//!
//! # fn wrap<C>(client: C) {
//! let client = taskwire_tower::propagate().layer(client);
//! # let _ = client;
//! # }
//! ```
//!
//! # Features
//!
//! | feature | default | enables |
//! |---|---|---|
//! | `axum` | no | route names from axum's `MatchedPath`, and `client.address` from axum's `ConnectInfo<SocketAddr>` (turns on axum's `matched-path` and `tokio` features) |
//! | `metrics` | no | with `axum`: `metrics::handler`, an axum handler serving taskwire-metrics' in-app snapshot as Prometheus text, JSON or a table |
//!
//! Without features the crate depends on `http`, `http-body`, `tower-layer`, `tower-service`,
//! `pin-project-lite`, `tracing` and taskwire-core only, so it serves hyper and tonic as well as
//! axum.
//!
//! The wire format, and how a task continues across processes, are explained in
//! `docs/propagation.md`.
#![forbid(unsafe_code)]

#[macro_use]
mod macros;

mod headers;
#[cfg(all(feature = "axum", feature = "metrics"))]
pub mod metrics;
mod propagate;
pub mod server;

pub use headers::{HeaderExtractor, HeaderInjector};
pub use propagate::{PropagateLayer, PropagateService};
pub use server::{ClientAddress, ResponseFuture, TaskBody, TaskLayer, TaskService};

/// A server [`TaskLayer`] with the defaults; configure it with its `with_*` setters.
pub fn layer() -> TaskLayer {
    TaskLayer::new()
}

/// A client [`PropagateLayer`].
pub fn propagate() -> PropagateLayer {
    PropagateLayer::new()
}
