//! Server middleware: one task per request, continued from the caller's `traceparent`.
//!
//! [`TaskLayer`] wraps a service (an axum `Router`, a hyper service, a tonic server) in a
//! [`TaskService`], whose [`ResponseFuture`] runs the request inside the request task and whose
//! [`TaskBody`] keeps the task open until the response body has been sent.
//!
//! What a request task records, following the OpenTelemetry HTTP server conventions:
//!
//! | field | value |
//! |---|---|
//! | span name | `http.server.request` |
//! | `task.name` | `"{method} {route}"`, e.g. `GET /users/{id}`; the method alone (`GET`) when no route matched, so scanners cannot mint task names ([`ServerTaskName`](taskwire_core::http::ServerTaskName), shared with taskwire-actix) |
//! | `http.request.method` | `GET`, `POST`, …; `_OTHER` for a non-standard method |
//! | `http.request.method_original` | the method as sent, only when it is `_OTHER` |
//! | `http.route` | the route template, only when known (route function, axum `MatchedPath`) |
//! | `url.scheme` | `http` or `https`: the request URI's scheme (HTTP/2 and absolute-form requests carry it), else `http` |
//! | `url.path` | the request path, the only place the raw path appears (redact the key `url.path` to hide it) |
//! | `url.query` | the query string, when there is one, with the values of sensitive parameters (per [`TaskLayer::with_redactor`], and pre-signed URL signatures) replaced by `REDACTED` |
//! | `server.address`, `server.port` | the host and port the request was sent to (URI authority, else `Host`; the port written, else the scheme's default); `X-Forwarded-Host` is not read, any client can send it |
//! | `user_agent.original` | the `User-Agent` header, when it is text |
//! | `network.protocol.version` | `1.1`, `2`, … |
//! | `http.request_id` | the request id (incoming `x-request-id`, or the task's span id) |
//! | `client.address`, `client.port` | opt-in, see [`ClientAddress`] |
//! | `http.response.status_code` | recorded when the response head is ready |
//! | `error.type` | on failure: the status code (`"500"`), the gRPC code's name (`"INTERNAL"`), `"panic"`, or the service's error type |
//!
//! A gRPC call (content type `application/grpc…`) follows the OpenTelemetry RPC conventions
//! instead for its name and outcome:
//!
//! | field | value |
//! |---|---|
//! | `task.name` | `"{service}/{method}"` from the path, e.g. `shop.Orders/Place` |
//! | `rpc.system`, `rpc.service`, `rpc.method` | `grpc`, `shop.Orders`, `Place` |
//! | `rpc.grpc.status_code` | the response's `grpc-status` (headers of a trailers-only response, else trailers) |
//!
//! The task fails on the codes that mean the server failed (`UNKNOWN`, `DEADLINE_EXCEEDED`,
//! `UNIMPLEMENTED`, `INTERNAL`, `UNAVAILABLE`, `DATA_LOSS`), with the code's name and the
//! decoded `grpc-message` as its failure; the other codes are the caller's and do not fail it.
//! A malformed `grpc-status` counts as `UNKNOWN`, as does a body that ends without one. A
//! panicking gRPC handler answers `200` with `grpc-status: 13` (a trailers-only response), as
//! gRPC clients expect, instead of an HTTP `500`.

mod body;
mod fail;
mod future;
mod grpc;
mod layer;
mod service;
mod task;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use http::request::Parts;
use http::HeaderName;
use taskwire_core::http::ServerConfig;

pub use body::TaskBody;
pub use future::ResponseFuture;
pub use layer::TaskLayer;
pub use service::TaskService;
pub use taskwire_core::http::{ClientAddress, TRACERESPONSE, X_REQUEST_ID};

/// A function naming a request's route from its head: `Some("/users/{id}")`, or `None` to fall
/// back to axum's `MatchedPath` (feature `axum`), and then to no route (the task is named after
/// the method alone).
pub(crate) type RouteFn = Arc<dyn for<'a> Fn(&'a Parts) -> Option<Cow<'a, str>> + Send + Sync>;

/// The options of a [`TaskLayer`], shared by its services: taskwire-core's [`ServerConfig`],
/// and what only tower has.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) server: ServerConfig,
    pub(crate) route: Option<RouteFn>,
    /// `server.request_id_header_name()`, parsed once.
    pub(crate) request_id_name: HeaderName,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            server: ServerConfig::default(),
            route: None,
            request_id_name: HeaderName::from_static(X_REQUEST_ID),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("server", &self.server)
            .field("route", &self.route.as_ref().map(|_| "fn"))
            .finish()
    }
}

/// [`TRACERESPONSE`] as a header name, made at compile time.
pub(crate) const TRACERESPONSE_NAME: HeaderName = HeaderName::from_static(TRACERESPONSE);
