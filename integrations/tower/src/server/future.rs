//! [`ResponseFuture`]: runs the inner service's future inside the request task, catches its
//! panics, and hands the task on to the response body.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use http::header::HeaderValue;
use http::{Response, StatusCode};
use pin_project_lite::pin_project;
use taskwire_core::propagation::TraceParent;
use taskwire_core::span;
use tracing::Span;

use super::{grpc, TaskBody, TRACERESPONSE_NAME, X_REQUEST_ID_NAME};

pin_project! {
    /// The response future of [`TaskService`](super::TaskService).
    ///
    /// Each poll of the inner future runs inside the request task, under
    /// [`catch_unwind`](std::panic::catch_unwind): a panic becomes a `500` response and a failed
    /// task. When the response head is ready, its status code is recorded and the task moves
    /// into the [`TaskBody`], which ends it when the body ends.
    pub struct ResponseFuture<F> {
        #[pin]
        state: State<F>,
    }
}

pin_project! {
    #[project = StateProj]
    #[project_replace = StateReplace]
    enum State<F> {
        // A skipped path: no task, no catching.
        Untracked { #[pin] future: F },
        Running { #[pin] future: F, task: Task },
        // The inner service's `call` panicked.
        Panicked { task: Task, payload: Box<dyn Any + Send> },
        Done,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn untracked(future: F) -> Self {
        ResponseFuture {
            state: State::Untracked { future },
        }
    }

    pub(crate) fn running(future: F, task: Task) -> Self {
        ResponseFuture {
            state: State::Running { future, task },
        }
    }

    pub(crate) fn panicked(task: Task, payload: Box<dyn Any + Send>) -> Self {
        ResponseFuture {
            state: State::Panicked { task, payload },
        }
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.state {
            State::Untracked { .. } => "untracked",
            State::Running { .. } => "running",
            State::Panicked { .. } => "panicked",
            State::Done => "done",
        };
        f.debug_struct("ResponseFuture")
            .field("state", &state)
            .finish()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    E: fmt::Display,
{
    type Output = Result<Response<TaskBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        // What the inner future gave, for the two states that carry a task.
        let caught = match state.as_mut().project() {
            StateProj::Untracked { future } => {
                let result = ready!(future.poll(cx));
                state.project_replace(State::Done);
                return Poll::Ready(result.map(|res| res.map(TaskBody::untracked)));
            }
            StateProj::Running { future, task } => {
                let polled = {
                    let _entered = task.span.enter();
                    catch_unwind(AssertUnwindSafe(|| future.poll(cx)))
                };
                match polled {
                    Ok(Poll::Pending) => return Poll::Pending,
                    Ok(Poll::Ready(result)) => Some(Ok(result)),
                    Err(payload) => Some(Err(payload)),
                }
            }
            StateProj::Panicked { .. } => None,
            StateProj::Done => panic!("ResponseFuture polled after completion"),
        };
        let output = match (state.project_replace(State::Done), caught) {
            (StateReplace::Running { task, .. }, Some(Ok(Ok(res)))) => Ok(task.respond(res)),
            (StateReplace::Running { task, .. }, Some(Ok(Err(error)))) => {
                task.service_error(&error);
                Err(error)
            }
            (StateReplace::Running { task, .. }, Some(Err(payload)))
            | (StateReplace::Panicked { task, payload }, None) => Ok(task.panicked(&*payload)),
            // `caught` is `Some` exactly when the state was `Running`.
            _ => unreachable!("ResponseFuture state changed while polled"),
        };
        Poll::Ready(output)
    }
}

/// A request task on its way from the request to the end of the response body.
pub(crate) struct Task {
    pub(crate) span: Span,
    /// The task's own context, for `traceresponse` (`None` without a taskwire layer).
    pub(crate) ids: Option<TraceParent>,
    pub(crate) request_id: Option<HeaderValue>,
    pub(crate) traceresponse: bool,
    pub(crate) request_id_header: bool,
    /// Whether the request is a gRPC call (its outcome is its `grpc-status`).
    pub(crate) grpc: bool,
}

impl Task {
    /// Records the status, marks a 5xx failed, sets the response headers, and moves the task
    /// into the body.
    fn respond<B>(self, mut res: Response<B>) -> Response<TaskBody<B>> {
        let status = res.status();
        self.span
            .record("http.response.status_code", status.as_u16());
        if status.is_server_error() {
            self.span.record("error.type", status.as_str());
            mark_failed(&self.span, || format!("HTTP {status}"));
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
    fn service_error(self, error: &dyn fmt::Display) {
        self.span.record("error.type", "service");
        tracing::error!(parent: &self.span, "request failed in the service: {error}");
    }

    /// The handler panicked: an ERROR event with the panic message fails the task, and the
    /// client gets an empty `500`.
    /// A gRPC call gets what gRPC servers answer for an internal error instead: `200` with
    /// `grpc-status: 13` (`INTERNAL`) and no body (a trailers-only response).
    fn panicked<B>(self, payload: &(dyn Any + Send)) -> Response<TaskBody<B>> {
        let message = panic_message(payload);
        let status = if self.grpc {
            StatusCode::OK
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        self.span
            .record("http.response.status_code", status.as_u16());
        self.span.record("error.type", "panic");
        tracing::error!(parent: &self.span, "request handler panicked: {message}");
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

    fn set_headers<B>(&self, res: &mut Response<B>) {
        let headers = res.headers_mut();
        if self.traceresponse {
            if let Some(ids) = self.ids {
                if let Ok(value) = HeaderValue::from_bytes(&ids.to_bytes()) {
                    headers.entry(TRACERESPONSE_NAME).or_insert(value);
                }
            }
        }
        if self.request_id_header {
            if let Some(id) = &self.request_id {
                headers
                    .entry(X_REQUEST_ID_NAME)
                    .or_insert_with(|| id.clone());
            }
        }
    }
}

/// The message of a panic, when its payload is a string (as `panic!` makes it).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> &str {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("panic payload is not a string")
}

/// Marks the task failed with `reason` (a 5xx status, a gRPC error status), without an ERROR
/// event: the response is the handler's answer, not a new error, and whatever caused it was
/// the handler's to log.
pub(crate) fn mark_failed(span: &Span, reason: impl FnOnce() -> String) {
    span.with_subscriber(|(id, dispatch)| span::with_span_data(dispatch, id, |d| d.fail(reason())));
}
