//! [`Task`]: what the future needs to finish a request that has a task, and how its outcome is
//! recorded (by taskwire-core's [`classify`](taskwire_core::http::classify) rules).

use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use taskwire_core::http::{classify_response, TRACERESPONSE};
use tracing::Span;

/// A request task on its way from the request to the end of the response body.
pub(crate) struct Task {
    pub(crate) span: Span,
    /// `Some` when it is to be sent.
    pub(crate) traceresponse: Option<HeaderValue>,
    /// `Some` when it is to be sent.
    pub(crate) request_id: Option<(HeaderName, HeaderValue)>,
    /// Whether a 5xx nothing reported becomes an ERROR event (`with_server_error_tickets`).
    pub(crate) server_error_tickets: bool,
}

impl Task {
    /// Records the status (and the handler's error message) and fails the task on a 5xx, with
    /// the error's message as the reason when there is one, and with an ERROR event unless one
    /// was reported inside the request (see `taskwire_core::http::server_error`).
    pub(crate) fn finish(&self, status: StatusCode, error: Option<&str>) {
        self.span
            .record("http.response.status_code", status.as_u16());
        if let Some(message) = error {
            self.span.record("error.message", message);
        }
        if let Some(failure) = classify_response(status.as_u16(), error) {
            self.span.record("error.type", failure.error_type());
            taskwire_core::fail_response!(&self.span, &failure, self.server_error_tickets);
        }
    }

    /// The response headers to add (unless the handler set them).
    pub(crate) fn response_headers(&self) -> impl Iterator<Item = (HeaderName, HeaderValue)> + '_ {
        let traceresponse = self
            .traceresponse
            .clone()
            .map(|v| (HeaderName::from_static(TRACERESPONSE), v));
        traceresponse.into_iter().chain(self.request_id.clone())
    }
}
