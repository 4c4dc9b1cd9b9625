//! A [`reqwest_middleware`] middleware that makes every outgoing request a client task and
//! sends its W3C trace context, so the server's request task is a child of the client task,
//! which is a child of the code that made the call.
//!
//! ```no_run
//! use tracing::Instrument;
//! use tracing_subscriber::prelude::*;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), reqwest_middleware::Error> {
//!     tracing_subscriber::registry()
//!         .with(taskwire_tasks::layer())
//!         .with(taskwire_json::layer().with_writer(std::io::stdout))
//!         .init();
//!
//!     let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
//!         .with(taskwire_reqwest::middleware())
//!         .build();
//!
//!     async {
//!         // Client task `GET 127.0.0.1`, child of `checkout`; the server sees its
//!         // traceparent.
//!         let res = client.get("http://127.0.0.1:8080/users/7").send().await?;
//!         tracing::info!(status = res.status().as_u16(), "user loaded");
//!         Ok(())
//!     }
//!     .instrument(tracing::info_span!("checkout"))
//!     .await
//! }
//! ```
//!
//! # The client task
//!
//! | field | value |
//! |---|---|
//! | span name | `http.client.request` |
//! | `task.name` | method and host (`GET api.example.com`), with the route template of a [`UrlTemplate`] extension (`GET api.example.com/orders/{id}`); `HTTP` for a non-standard method; never the raw path |
//! | `url.template` | the [`UrlTemplate`], when given |
//! | `http.request.method` | the method; `_OTHER` for a non-standard one |
//! | `http.request.method_original` | the method as sent, only when it is `_OTHER` |
//! | `server.address`, `server.port` | host and port of the URL |
//! | `url.full` | the URL without user name, password and fragment; sensitive query values as `REDACTED` |
//! | `http.response.status_code` | the status received |
//! | `http.client.latency_us` | microseconds until the response headers arrived |
//! | `error.type` | on failure: the status code (`"503"`) or the transport error's kind (`connect`, `timeout`, …) |
//!
//! A 4xx or 5xx response (OpenTelemetry's rule for client spans: the call did not get what it
//! asked for) or a transport error fails the task; the reason (`HTTP 404 Not Found`,
//! `connect error: …`) is in its `task.end` record. A failed client task does not fail the
//! task that made the call. The response or error is
//! returned to the caller unchanged. A request with the [`NoTrace`] extension is sent as is:
//! no task, no headers.
//!
//! The client task sends its context to another process, so the tasks layer's default record
//! policy always writes its `task.end` record (and that of every task around it), whatever it
//! summarises.
//!
//! # Features
//!
//! This crate has no cargo features; TLS and the other reqwest features are chosen by the
//! application on its own `reqwest` dependency.
//!
//! The wire format, and how the server integrations continue the trace, is in
//! `docs/propagation.md`.
#![forbid(unsafe_code)]

mod headers;
mod middleware;
mod route;
mod url;

pub use headers::HeaderInjector;
pub use middleware::{ClientTasks, NoTrace};
pub use route::UrlTemplate;

/// The client-task middleware with the defaults: propagation on, default query redaction.
/// Configure it with the `with_*` setters of [`ClientTasks`].
///
/// ```
/// let client = reqwest_middleware::ClientBuilder::new(reqwest::Client::new())
///     .with(taskwire_reqwest::middleware().with_propagation(true))
///     .build();
/// # let _ = client;
/// ```
pub fn middleware() -> ClientTasks {
    ClientTasks::default()
}
