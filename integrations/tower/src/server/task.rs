//! [`Task`]: a request task on its way from the request to the end of the response body, and
//! how its outcome is recorded (by taskwire-core's [`classify`](taskwire_core::http::classify)
//! rules).

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use http::header::HeaderValue;
use http::{Response, StatusCode};
use taskwire_core::http::{classify_response, panic_message, PANIC_ERROR_TYPE, PANIC_STATUS};
use taskwire_core::propagation::TraceParent;
use tracing::Span;

use super::{grpc, Config, TaskBody, TRACERESPONSE_NAME};

/// A request task on its way from the request to the end of the response body.
pub(crate) struct Task {
    pub(crate) span: Span,
    /// The task's own context, for `traceresponse` (`None` without a taskwire layer).
    pub(crate) ids: Option<TraceParent>,
    pub(crate) request_id: Option<HeaderValue>,
    pub(crate) config: Arc<Config>,
    /// Whether the request is a gRPC call (its outcome is its `grpc-status`).
    pub(crate) grpc: bool,
}

impl Task {
    /// Records the status, fails the task on a 5xx (with an ERROR event unless the handler
    /// reported one, see `taskwire_core::http::server_error`), sets the response headers, and
    /// moves the task into the body.
    pub(crate) fn respond<B>(self, mut res: Response<B>) -> Response<TaskBody<B>> {
        let status = res.status().as_u16();
        self.span.record("http.response.status_code", status);
        if let Some(failure) = classify_response(status, None) {
            self.span.record("error.type", failure.error_type());
            let report = self.config.server.server_error_tickets();
            taskwire_core::fail_response!(&self.span, &failure, report);
        }
        // A gRPC call's status is in the headers of a trailers-only response, else it will be
        // in the trailers at the end of the body.
        let grpc_pending = self.grpc && !grpc::record_from(&self.span, res.headers());
        self.set_headers(&mut res);
        res.map(|body| TaskBody::new(body, self.span, grpc_pending))
    }

    /// The inner service failed: no response will be sent. An ERROR event inside the task
    /// reports it (nobody else will: the server only closes the connection) and fails the task,
    /// which ends here.
    pub(crate) fn service_error(self, error: &dyn fmt::Display) {
        self.span.record("error.type", "service");
        tracing::error!(parent: &self.span, "request failed in the service: {error}");
    }

    /// The handler panicked: an ERROR event with the panic message fails the task, and the
    /// client gets an empty `500`.
    /// A gRPC call gets what gRPC servers answer for an internal error instead: `200` with
    /// `grpc-status: 13` (`INTERNAL`) and no body (a trailers-only response).
    pub(crate) fn panicked<B>(self, payload: &(dyn Any + Send)) -> Response<TaskBody<B>> {
        let message = panic_message(payload);
        let status = if self.grpc {
            StatusCode::OK
        } else {
            StatusCode::from_u16(PANIC_STATUS).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
        };
        self.span
            .record("http.response.status_code", status.as_u16());
        self.span.record("error.type", PANIC_ERROR_TYPE);
        // The panic hook, when installed, reported it already, inside this task.
        if !taskwire_core::panic::take_reported() {
            tracing::error!(parent: &self.span, "request handler panicked: {message}");
        }
        let mut res = Response::new(());
        *res.status_mut() = status;
        let headers = res.headers_mut();
        headers.insert(http::header::CONTENT_LENGTH, HeaderValue::from_static("0"));
        if self.grpc {
            headers.insert(
                http::header::CONTENT_TYPE,
                HeaderValue::from_static("application/grpc"),
            );
            headers.insert(grpc::GRPC_STATUS, HeaderValue::from_static("13"));
            headers.insert(
                "grpc-message",
                HeaderValue::from_static("request%20handler%20panicked"),
            );
            self.span.record("rpc.grpc.status_code", 13_u16);
        }
        self.set_headers(&mut res);
        res.map(|()| TaskBody::empty(self.span))
    }

    /// Adds `traceresponse` and the request id header, each when it is on and the handler did
    /// not set it.
    fn set_headers<B>(&self, res: &mut Response<B>) {
        let headers = res.headers_mut();
        if self.config.server.traceresponse() {
            if let Some(ids) = self.ids {
                if let Ok(value) = HeaderValue::from_bytes(&ids.to_bytes()) {
                    headers.entry(TRACERESPONSE_NAME).or_insert(value);
                }
            }
        }
        if self.config.server.request_id_header() {
            if let Some(id) = &self.request_id {
                headers
                    .entry(self.config.request_id_name.clone())
                    .or_insert_with(|| id.clone());
            }
        }
    }
}
