//! [`TaskBody`]: the response body that ends the request task when it ends.

use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use pin_project_lite::pin_project;
use tracing::Span;

use crate::fail::mark_failed;

pin_project! {
    /// A response body that holds the request task open until the body is fully sent (or
    /// dropped, when the client goes away or the body is empty). A body that fails while being
    /// sent fails the task.
    pub struct TaskBody<B> {
        #[pin]
        inner: B,
        span: Option<Span>,
    }
}

impl<B> TaskBody<B> {
    pub(crate) fn new(inner: B, span: Option<Span>) -> Self {
        TaskBody { inner, span }
    }
}

impl<B: MessageBody> MessageBody for TaskBody<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.project();
        let polled = {
            // A streaming body's own events belong to the request task.
            let _entered = this.span.as_ref().map(Span::enter);
            this.inner.poll_next(cx)
        };
        match &polled {
            Poll::Ready(None) => drop(this.span.take()),
            Poll::Ready(Some(Err(_))) => {
                if let Some(span) = this.span.take() {
                    mark_failed(&span, "response body failed");
                }
            }
            _ => {}
        }
        polled
    }
}
