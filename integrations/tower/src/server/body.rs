//! [`TaskBody`]: a response body that keeps the request task open until it ends.

use std::fmt;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use tracing::Span;

use super::grpc;
use taskwire_core::http::panic_message;

pin_project! {
    /// The response body of [`TaskService`](super::TaskService): the inner body, polled inside
    /// the request task, which ends when the body ends (its last frame was polled), fails, or
    /// is dropped (the client went away, or the server stopped reading it after
    /// [`Body::is_end_stream`]). A `task.end` record's duration therefore covers sending the
    /// body: streaming responses are timed in full.
    ///
    /// A body error fails the task with an ERROR event, and so does a panic while the body is
    /// polled, which then continues to unwind into the server (the response is already on its
    /// way: there is nothing else to answer). For a gRPC call whose status was
    /// not in the response headers, the `grpc-status` of the trailers decides the outcome.
    pub struct TaskBody<B> {
        #[pin]
        kind: Kind<B>,
        span: Option<Span>,
        grpc_pending: bool,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<B> {
        Inner { #[pin] body: B },
        // The empty body of the 500 answered for a panic.
        Empty,
    }
}

impl<B> TaskBody<B> {
    pub(crate) fn new(body: B, span: Span, grpc_pending: bool) -> Self {
        TaskBody {
            kind: Kind::Inner { body },
            span: Some(span),
            grpc_pending,
        }
    }

    /// A body outside any task (a skipped path).
    pub(crate) fn untracked(body: B) -> Self {
        TaskBody {
            kind: Kind::Inner { body },
            span: None,
            grpc_pending: false,
        }
    }

    pub(crate) fn empty(span: Span) -> Self {
        TaskBody {
            kind: Kind::Empty,
            span: Some(span),
            grpc_pending: false,
        }
    }
}

impl<B> fmt::Debug for TaskBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TaskBody")
            .field("empty", &matches!(self.kind, Kind::Empty))
            .field("span", &self.span)
            .finish()
    }
}

impl<B> Body for TaskBody<B>
where
    B: Body,
    B::Error: fmt::Display,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let body = match this.kind.project() {
            KindProj::Inner { body } => body,
            KindProj::Empty => {
                drop(this.span.take());
                return Poll::Ready(None);
            }
        };
        let polled = match this.span.as_ref() {
            Some(span) => {
                let polled = {
                    let _entered = span.enter();
                    catch_unwind(AssertUnwindSafe(|| body.poll_frame(cx)))
                };
                match polled {
                    Ok(polled) => polled,
                    Err(payload) => {
                        span.record("error.type", "panic");
                        let message = panic_message(&*payload);
                        tracing::error!(parent: span, "response body panicked: {message}");
                        drop(this.span.take());
                        resume_unwind(payload)
                    }
                }
            }
            None => body.poll_frame(cx),
        };
        match &polled {
            Poll::Ready(Some(Ok(frame))) if *this.grpc_pending => {
                if let (Some(trailers), Some(span)) = (frame.trailers_ref(), this.span.as_ref()) {
                    *this.grpc_pending = !grpc::record_from(span, trailers);
                }
            }
            Poll::Ready(None) => {
                if let Some(span) = this.span.take() {
                    if *this.grpc_pending {
                        grpc::record_missing(&span);
                    }
                }
            }
            Poll::Ready(Some(Err(error))) => {
                if let Some(span) = this.span.take() {
                    span.record("error.type", "body");
                    tracing::error!(parent: &span, "response body failed: {error}");
                }
            }
            Poll::Ready(Some(Ok(_))) | Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            Kind::Inner { body } => body.is_end_stream(),
            Kind::Empty => true,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            Kind::Inner { body } => body.size_hint(),
            Kind::Empty => SizeHint::with_exact(0),
        }
    }
}
