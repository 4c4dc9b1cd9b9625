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
//!             .wrap(taskwire_actix::middleware().with_skip_paths(["/health"]))
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
//! Named and recorded as taskwire-tower names and records its request tasks, following the
//! OpenTelemetry HTTP server conventions:
//!
//! | field | value |
//! |---|---|
//! | span name | `http.server.request` |
//! | `task.name` | `"{METHOD} {route}"` (`GET /users/{id}`); just `"{METHOD}"` when no route matched (a 404), so scanners cannot mint task names |
//! | `http.request.method` | `GET`, `POST`, …; `_OTHER` for a non-standard method (named `HTTP {route}`) |
//! | `http.request.method_original` | the method as sent, only when it is `_OTHER` |
//! | `http.route` | the route template (`req.match_pattern()`), when one matched |
//! | `url.scheme` | `https` when the server listens with TLS, else `http` (forwarded headers are not read: any client can send them) |
//! | `url.path` | the request path, the only place the raw path appears (redact the key `url.path` to hide it) |
//! | `url.query` | the query string, when there is one, with the values of sensitive parameters (per [`RequestTasks::with_redactor`], and pre-signed URL signatures) replaced by `REDACTED` |
//! | `server.address`, `server.port` | the host and port the request was sent to (URI authority, else `Host`; the port written, else the scheme's default); `X-Forwarded-Host` is not read |
//! | `user_agent.original` | the `User-Agent` header, when it is text |
//! | `network.protocol.version` | `1.1`, `2`, … |
//! | `http.request_id` | the request id: the request's valid `x-request-id`, or the task's span id |
//! | `client.address`, `client.port` | opt-in, see [`ClientAddress`] |
//! | `http.response.status_code` | the status sent |
//! | `error.type` | on failure: the status code (`"500"`) or `"panic"` |
//! | `error.message` | the message of the error a handler returned, if any |
//!
//! ## When a request task fails
//!
//! | what happened | the client gets | the task |
//! |---|---|---|
//! | a `5xx` response | that response | failed, `task.failure` = `"HTTP 500 Internal Server Error"`; an ERROR event (a ticket by route and status) unless one was reported inside the request |
//! | a handler's `Err` that maps to a `5xx` | actix's answer for it | failed, `task.failure` = the error's message; an ERROR event as above |
//! | a `4xx` response, or a handler's `Err` that maps to one | that response | succeeded: the client's mistake, not the server's |
//! | the handler panicked | an empty `500`, with both headers | failed by an ERROR event: `taskwire::panic_hook()`'s, else `request handler panicked: {message}`; the worker keeps serving |
//! | the response body failed | a cut response | failed, `task.failure` = `"response body failed"` |
//!
//! A 5xx nobody reported becomes an ERROR event inside the request task, grouped into tickets
//! by route and status (`with_server_error_tickets(false)` turns it off); a handler that logged
//! `error!` about the cause (or whose inner task failed) has reported it, and is counted once
//! (`taskwire_core::http::server_error`). A panic is reported by the panic hook when it is
//! installed, else by the middleware. The task ends when the response body has
//! been sent (or dropped), so streaming time counts.
//!
//! ## Response headers
//!
//! `traceresponse` (W3C Trace Context Level 2: `00-{trace id}-{the task's span id}-{flags}`)
//! and `x-request-id` are added unless the handler set them; each can be turned off
//! ([`RequestTasks::with_traceresponse`], [`RequestTasks::with_request_id_header`]).
//!
//! ## Options
//!
//! [`RequestTasks`]'s setters (`with_traceresponse`, `with_request_id_header`,
//! `with_request_id_header_name`, `with_client_address`, `with_skip_paths`, `with_redactor`)
//! are those of taskwire-tower, with the same defaults: the policy behind them (task names,
//! outcomes, request ids, client address) lives once in taskwire-core, whose
//! [options table](taskwire_core::http#options) documents them.
//!
//! ## Bad input
//!
//! Nothing a client sends panics the middleware: a malformed or duplicated `traceparent` starts
//! a new root task, an invalid `tracestate` is dropped (both counted in
//! [`taskwire_core::propagation::stats`]), and an invalid or repeated `x-request-id` (empty,
//! longer than 128 bytes, anything but visible ASCII) is replaced by the task's span id.
//!
//! Without a taskwire layer in the subscriber the middleware still handles request ids (random
//! ones) and panics; it has no ids to continue and sends no `traceresponse`.
//!
//! # Features
//!
//! | feature | default | enables |
//! |---|---|---|
//! | `metrics` | no | `metrics::route`: an actix-web route serving taskwire-metrics' in-app snapshot as Prometheus text, JSON or a table |
//!
//! It needs Rust 1.89 (actix-web 4.18).
//!
//! The wire format, and how the other integrations fit, is in `docs/propagation.md`.
#![forbid(unsafe_code)]

mod body;
mod config;
mod fail;
mod future;
mod headers;
#[cfg(feature = "metrics")]
pub mod metrics;
mod middleware;
mod request_id;
mod service;
mod task;

pub use body::TaskBody;
pub use future::ResponseFuture;
pub use headers::HeaderExtractor;
pub use middleware::RequestTasks;
pub use request_id::RequestId;
pub use service::RequestTasksService;
pub use taskwire_core::http::{ClientAddress, TRACERESPONSE, X_REQUEST_ID};

/// The request-task middleware with the defaults: `traceresponse` and `x-request-id` on,
/// client address off, no skipped paths. Configure it with the `with_*` setters of
/// [`RequestTasks`].
///
/// ```
/// use actix_web::{web, App};
/// use taskwire_actix::ClientAddress;
///
/// let app = App::new()
///     .wrap(
///         taskwire_actix::middleware()
///             .with_skip_paths(["/health", "/metrics"])
///             .with_client_address(ClientAddress::Peer),
///     )
///     .route("/", web::get().to(|| async { "hello" }));
/// # let _ = app;
/// ```
pub fn middleware() -> RequestTasks {
    RequestTasks::default()
}
