//! actix-web middleware that makes every request a task: it continues the caller's W3C trace
//! context, names the task after the matched route, records the status, fails the task on 5xx
//! and panics, and answers with `traceresponse` and `x-request-id` headers.
//!
//! ```no_run
//! use actix_web::{web, App, HttpServer};
//! use tracing_subscriber::prelude::*;
//!
//! async fn user(id: web::Path<u32>) -> String {
//!     tracing::info!(user = *id, "loading user");
//!     format!("user {id}")
//! }
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     tracing_subscriber::registry()
//!         .with(taskwire_tasks::layer())
//!         .with(taskwire_json::layer().with_writer(std::io::stdout))
//!         .init();
//!
//!     HttpServer::new(|| {
//!         App::new()
//!             .wrap(taskwire_actix::middleware().with_skip_path("/health"))
//!             .route("/users/{id}", web::get().to(user))
//!             .route("/health", web::get().to(|| async { "ok" }))
//!     })
//!     .bind(("127.0.0.1", 8080))?
//!     .run()
//!     .await
//! }
//! ```
//!
//! A request `GET /users/7` carrying
//! `traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01` produces a
//! `task.end` record named `GET /users/{id}` with `trace_id` `4bf92f35…`, `parent_span_id`
//! `00f067aa0ba902b7`, `task.remote_parent: true` and `http.response.status_code: 200`; the
//! `info!` inside the handler carries the same ids. The response carries
//! `traceresponse: 00-4bf92f3577b34da6a3ce929d0e0e4736-{the task's span id}-01` and an
//! `x-request-id`.
//!
//! # The request task
//!
//! | field | value |
//! |---|---|
//! | `task.name` | `"{METHOD} {route}"` (`GET /users/{id}`), `"{METHOD}"` when no route matched |
//! | `http.request.method` | the method; non-standard methods as `_OTHER` |
//! | `http.route` | the route template, when one matched |
//! | `url.path` | the request path |
//! | `http.request_id` | the request id, when request ids are on |
//! | `client.address` | the peer IP, opt-in ([`RequestTasks::with_client_address`]) |
//! | `http.response.status_code` | the status sent |
//! | `error.message` | the message of the error a handler returned, if any |
//!
//! The task fails on a 5xx response (with the handler's error message as the reason when it
//! returned an `Err`) and on a panic: the panic is caught, answered with a 500, and logged as
//! an ERROR event inside the task (`request handler panicked: {message}`), so the worker keeps
//! serving. It ends when the response body has been sent, so streaming time counts.
//!
//! Bad input never panics the middleware: a malformed or duplicated `traceparent` starts a new
//! root task, an invalid `tracestate` is dropped (both counted in
//! [`taskwire_core::propagation::stats`]), and an invalid `x-request-id` (empty, longer than
//! 128 bytes, anything but visible ASCII) is replaced by a generated one.
//!
//! Without a taskwire layer in the subscriber the middleware still handles request ids and
//! panics; it just has no ids to continue and sends no `traceresponse`.
//!
//! # Features
//!
//! This crate has no cargo features. It needs Rust 1.89 (actix-web 4.18).
//!
//! The wire format, and how the other integrations fit, is in `docs/propagation.md`.
#![forbid(unsafe_code)]

mod body;
mod headers;
mod middleware;
mod request_id;

pub use body::TaskBody;
pub use headers::HeaderExtractor;
pub use middleware::{
    RequestTasks, RequestTasksService, ResponseFuture, TRACERESPONSE, X_REQUEST_ID,
};
pub use request_id::RequestId;

/// The request-task middleware with the defaults: `traceresponse` and `x-request-id` on,
/// client address off, no skipped paths. Configure it with the `with_*` setters of
/// [`RequestTasks`].
///
/// ```
/// use actix_web::{web, App};
///
/// let app = App::new()
///     .wrap(
///         taskwire_actix::middleware()
///             .with_skip_path("/health")
///             .with_client_address(true),
///     )
///     .route("/", web::get().to(|| async { "hello" }));
/// # let _ = app;
/// ```
pub fn middleware() -> RequestTasks {
    RequestTasks::default()
}
