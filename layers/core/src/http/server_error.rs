//! A failed response as a ticket: [`fail_response`] marks a request task failed by its `5xx`
//! response and says whether the middleware reports it with an ERROR event, and what that
//! event groups by.
//!
//! | the request | ERROR event |
//! |---|---|
//! | answered `5xx`, nothing inside it reported an error | one, target [`SERVER_ERROR_TARGET`], grouped by route and status ([`ServerError::fingerprint`]) |
//! | answered `5xx`, an ERROR event inside the request task, or a failed task under it | none: the error is counted once, where the handler reported it |
//! | answered `5xx`, the option `with_server_error_tickets(false)` | none |
//! | answered `4xx`, `2xx` | none |
//!
//! The event's fields: `http.response.status_code`, `error.type` (the status as text), and
//! `fingerprint`, `"{task name} {status}"` (the task name is `"{method} {route template}"`,
//! the method alone without a route: never the raw path), which groups tickets by route and
//! status. Its message, `"{task name}: {reason}"`, is the ticket's title. The task's failure
//! reason stays the response's (`HTTP 500 Internal Server Error`, or the handler's error).

use std::fmt;

use tracing_core::span::Id;
use tracing_core::Dispatch;

use super::Failure;
use crate::span::with_span_data;

/// The target of the ERROR event a server middleware emits for a failed response.
pub const SERVER_ERROR_TARGET: &str = "taskwire::http";

/// The ERROR event due for a failed response, from [`fail_response`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerError {
    task: String,
    status: u16,
    reason: String,
}

impl ServerError {
    /// `"{task name} {status}"`: what the event's `fingerprint` field holds.
    pub fn fingerprint(&self) -> String {
        format!("{} {}", self.task, self.status)
    }

    /// The response's status.
    pub fn status(&self) -> u16 {
        self.status
    }
}

impl fmt::Display for ServerError {
    /// The event's message: `"{task name}: {reason}"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.task, self.reason)
    }
}

/// Marks the request task `id` failed with `failure` (the first reason wins), and returns the
/// ERROR event due for it when `report` is on and nothing inside the request reported an
/// error (see the [module docs](self)). `None` also without a taskwire layer.
pub fn fail_response(
    dispatch: &Dispatch,
    id: &Id,
    failure: &Failure<'_>,
    report: bool,
) -> Option<ServerError> {
    with_span_data(dispatch, id, |d| {
        let reported = d.has_reported_error();
        d.fail(failure);
        (report && !reported).then(|| ServerError {
            task: d.task_name().unwrap_or("HTTP").to_owned(),
            status: failure.status(),
            reason: failure.to_string(),
        })
    })
    .flatten()
}

/// Fails the request task `span` (a `tracing::Span`) by its response's
/// [`Failure`](crate::http::Failure) and, when [`fail_response`] says one is due (`report` on,
/// nothing reported inside the request), emits the ERROR event inside it with the fields of the
/// [module docs](crate::http::server_error). Written once here for every server middleware,
/// which depends on `tracing` (this crate does not). Without a taskwire layer it does nothing.
///
/// ```
/// use taskwire_core::http::classify_response;
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry().with(taskwire_core::span::capture());
/// tracing::subscriber::with_default(subscriber, || {
///     let span = tracing::info_span!("request", task.name = "GET /orders/{id}");
///     let failure = classify_response(500, None).unwrap();
///     taskwire_core::fail_response!(&span, &failure, true);
///     let reason = span
///         .with_subscriber(|(id, d)| taskwire_core::span::read_span_data(d, id, |t| {
///             t.failure().map(str::to_owned)
///         }))
///         .flatten()
///         .flatten();
///     assert_eq!(reason.as_deref(), Some("HTTP 500 Internal Server Error"));
/// });
/// ```
#[macro_export]
macro_rules! fail_response {
    ($span:expr, $failure:expr, $report:expr) => {{
        let span: &::tracing::Span = $span;
        let due = span
            .with_subscriber(|(id, dispatch)| {
                $crate::http::fail_response(dispatch, id, $failure, $report)
            })
            .flatten();
        if let Some(error) = due {
            let status = error.status();
            let fingerprint = error.fingerprint();
            ::tracing::event!(
                target: "taskwire::http",
                parent: span,
                ::tracing::Level::ERROR,
                http.response.status_code = status,
                fingerprint = %fingerprint,
                "{}",
                error
            );
        }
    }};
}
