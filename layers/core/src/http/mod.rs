//! The HTTP server policy of every taskwire server middleware (taskwire-tower,
//! taskwire-actix), and the URL conventions the HTTP client integration (taskwire-reqwest)
//! shares with them. Free of any HTTP crate's types: everything here takes names, bytes and
//! status codes, and the middlewares only move values between their request and response
//! types and these rules, as the propagation codec ([`crate::propagation`]) does for
//! `traceparent`.
//!
//! | concern | rule | module |
//! |---|---|---|
//! | task name | `"{method} {route}"`, the method alone without a route; `http.request.method` | [`ServerTaskName`], [`request_method`], [`protocol_version`] |
//! | outcome | 5xx fails the task, 4xx does not, a panic fails it and answers 500 | [`classify_response`], [`panic_message`] |
//! | tickets | a `5xx` the handler did not report is reported by one ERROR event, grouped by route and status | [`fail_response`], [`server_error`] |
//! | trace | the task continues the caller's `traceparent` | [`continue_trace`] |
//! | gRPC outcome | the `grpc-status` decides: server-side codes fail the task | [`grpc`] |
//! | request id | keep one valid incoming id, else mint one from the task's span id | [`incoming_request_id`], [`minted_request_id`] |
//! | client address | opt-in: peer, or a trusted proxy's `X-Forwarded-For` | [`ClientAddress`], [`forwarded_for`] |
//! | URL | sensitive query values redacted; host and port the request was sent to | [`redact_query`], [`host_and_port`] |
//! | header names | `x-request-id`, `traceresponse`, `x-forwarded-for` | [`X_REQUEST_ID`], [`TRACERESPONSE`], [`X_FORWARDED_FOR`] |
//!
//! # Options
//!
//! Both server middlewares take these options, as consuming `with_*` setters of the same names
//! and defaults ([`ServerConfig`] holds them):
//!
//! | setter | default | what it does |
//! |---|---|---|
//! | `with_traceresponse(bool)` | on | responses carry `traceresponse` (W3C Trace Context Level 2: `00-{trace id}-{span id of the request task}-{flags}`), unless the handler set one |
//! | `with_request_id_header(bool)` | on | responses carry the request id, unless the handler set one; either way the id is recorded as `http.request_id`, and a request without a valid one is given one before the handler sees it |
//! | `with_request_id_header_name(name)` | `x-request-id` | the header request ids are read from and written to (the framework's `HeaderName`) |
//! | `with_client_address(ClientAddress)` | [`ClientAddress::Off`] | where `client.address` and `client.port` come from |
//! | `with_skip_paths(paths)` | none | requests for exactly these paths (`/health`) pass through untouched: no task, no headers; adds to the paths given before |
//! | `with_server_error_tickets(bool)` | on | a `5xx` response nothing inside the request reported becomes an ERROR event (so a ticket), grouped by route and status ([`server_error`]) |
//! | `with_redactor(Redactor)` | taskwire's default [`Redactor`](crate::Redactor) | which query parameters have their value replaced with `REDACTED` in `url.query` (the signature keys of pre-signed URLs always are) |
//!
//! The middlewares write the setters that take no framework type with
//! [`server_option_setters!`](crate::server_option_setters).
//!
//! taskwire-tower adds `with_route` (the route template from the request head, for hyper and
//! tonic, which have no router that names it).
//!
//! # The request id
//!
//! The request keeps its own request id when it has exactly one of 1 to 128 visible ASCII
//! characters ([`valid_request_id`]); otherwise it is given the task's span id in hex, written
//! into the request's headers so the handler sees it too. Nothing a client sends as a request
//! id reaches a log line or a response unchecked.
//!
//! # Outcome
//!
//! See [`classify`] for the table of which responses fail a request task, and
//! with what reason.

pub mod classify;
mod client;
mod config;
pub mod grpc;
mod headers;
mod naming;
mod remote;
mod request_id;
pub mod server_error;
mod setters;
mod url;

pub use classify::{
    classify_response, fails_task, panic_message, Failure, PANIC_ERROR_TYPE, PANIC_STATUS,
};
pub use client::{forwarded_for, ClientAddress};
pub use config::{ServerConfig, SkipPaths};
pub use headers::{TRACERESPONSE, X_FORWARDED_FOR, X_REQUEST_ID};
pub use naming::{known_method, protocol_version, request_method, ServerTaskName};
pub use remote::continue_trace;
pub use request_id::{incoming_request_id, minted_request_id, valid_request_id, MAX_REQUEST_ID};
pub use server_error::{fail_response, ServerError, SERVER_ERROR_TARGET};
pub use url::{host_and_port, percent_decode, redact_query, REDACTED_QUERY_VALUE, SIGNATURE_KEYS};
