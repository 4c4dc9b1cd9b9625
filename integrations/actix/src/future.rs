//! [`ResponseFuture`]: runs the inner service inside the request task, catches its panics,
//! records the outcome, and hands the task on to the response body.

use std::any::Any;
use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::task::{Context, Poll};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{Error, HttpResponse, ResponseError};
use futures_util::future::{CatchUnwind, FutureExt};
use pin_project_lite::pin_project;
use taskwire_core::http::{panic_message, PANIC_ERROR_TYPE};
use tracing::instrument::{Instrument, Instrumented};
use tracing::Span;

use crate::body::TaskBody;
use crate::task::Task;

pin_project! {
    /// The future of [`RequestTasksService`](crate::RequestTasksService): runs the inner service inside the request task,
    /// catches its panics, and wraps the response body in a [`TaskBody`].
    pub struct ResponseFuture<F> {
        #[pin]
        inner: Option<CatchUnwind<AssertUnwindSafe<Instrumented<F>>>>,
        // A panic raised by the inner service's `call` itself, before any future existed.
        early_panic: Option<Box<dyn Any + Send>>,
        task: Option<Task>,
    }
}

impl<F> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F: Future> ResponseFuture<F> {
    pub(crate) fn new<S>(service: &S, req: ServiceRequest, task: Option<Task>) -> Self
    where
        S: Service<ServiceRequest, Future = F>,
    {
        let span = task.as_ref().map_or_else(Span::none, |t| t.span.clone());
        let called = {
            let _entered = span.enter();
            catch_unwind(AssertUnwindSafe(|| service.call(req)))
        };
        let (inner, early_panic) = match called {
            Ok(fut) => (
                Some(AssertUnwindSafe(fut.instrument(span)).catch_unwind()),
                None,
            ),
            Err(panic) => (None, Some(panic)),
        };
        ResponseFuture {
            inner,
            early_panic,
            task,
        }
    }
}

impl<F, B> Future for ResponseFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
    B: MessageBody,
{
    type Output = Result<ServiceResponse<TaskBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let outcome = match this.inner.as_pin_mut() {
            Some(inner) => match inner.poll(cx) {
                Poll::Ready(outcome) => outcome,
                Poll::Pending => return Poll::Pending,
            },
            None => match this.early_panic.take() {
                Some(panic) => Err(panic),
                None => {
                    return Poll::Ready(Err(actix_web::error::ErrorInternalServerError(
                        "response future polled after completion",
                    )))
                }
            },
        };
        let task = this.task.take();
        let Some(task) = task else {
            // A skipped path: only panics are handled.
            return Poll::Ready(match outcome {
                Ok(Ok(res)) => Ok(res.map_body(|_, body| TaskBody::new(body, None))),
                Ok(Err(err)) => Err(err),
                Err(panic) => {
                    if !taskwire_core::panic::take_reported() {
                        let message = panic_message(&*panic);
                        tracing::error!(panic = true, "request handler panicked: {message}");
                    }
                    Err(HandlerPanicked::default().into())
                }
            });
        };

        match outcome {
            Ok(Ok(mut res)) => {
                let status = res.status();
                let error = res.response().error().map(ToString::to_string);
                task.finish(status, error.as_deref());
                let headers = res.headers_mut();
                for (name, value) in task.response_headers() {
                    // What the handler set wins.
                    if !headers.contains_key(&name) {
                        headers.insert(name, value);
                    }
                }
                let span = task.span;
                Poll::Ready(Ok(res.map_body(|_, body| TaskBody::new(body, Some(span)))))
            }
            // Not a handler's error (actix turns those into responses, seen above) but an inner
            // middleware's: passed on unchanged, for actix (or an outer middleware) to answer.
            Ok(Err(err)) => {
                let status = err.as_response_error().status_code();
                task.finish(status, Some(&err.to_string()));
                Poll::Ready(Err(err))
            }
            Err(panic) => {
                // The panic hook, when installed, reported it already, inside this task.
                if !taskwire_core::panic::take_reported() {
                    let message = panic_message(&*panic);
                    tracing::error!(
                        parent: &task.span,
                        panic = true,
                        "request handler panicked: {message}"
                    );
                }
                task.finish(StatusCode::INTERNAL_SERVER_ERROR, None);
                task.span.record("error.type", PANIC_ERROR_TYPE);
                Poll::Ready(Err(HandlerPanicked {
                    headers: task.response_headers().collect(),
                }
                .into()))
            }
        }
    }
}

/// What a caught panic becomes: a 500 with the request's `traceresponse` and request id
/// headers, and an empty body (the panic message stays in the logs).
#[derive(Debug, Default)]
struct HandlerPanicked {
    headers: Vec<(HeaderName, HeaderValue)>,
}

impl fmt::Display for HandlerPanicked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("request handler panicked")
    }
}

impl ResponseError for HandlerPanicked {
    fn status_code(&self) -> StatusCode {
        StatusCode::INTERNAL_SERVER_ERROR
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::InternalServerError();
        for header in &self.headers {
            res.insert_header(header.clone());
        }
        res.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::dev::Transform;
    use actix_web::{test as actix_test, web, App};
    use std::future::Ready;
    use taskwire_core::http::{TRACERESPONSE, X_REQUEST_ID};

    /// No subscriber at all: requests are still served, with a (random) request id, no
    /// `traceresponse`, and panics still answered with a 500.
    #[test]
    fn works_without_a_taskwire_layer() {
        actix_web::rt::System::new().block_on(async {
            let app = actix_test::init_service(
                App::new()
                    .wrap(crate::middleware())
                    .route("/ok", web::get().to(|| async { "ok" }))
                    .route(
                        "/panic",
                        web::get().to(|| async {
                            if true {
                                panic!("no layer, still caught");
                            }
                            "unreachable"
                        }),
                    ),
            )
            .await;
            let req = actix_test::TestRequest::get()
                .uri("/ok")
                .insert_header(("traceparent", "garbage"))
                .to_request();
            let res = actix_test::call_service(&app, req).await;
            assert_eq!(res.status(), 200);
            assert!(res.headers().get(TRACERESPONSE).is_none());
            let id = res
                .headers()
                .get(X_REQUEST_ID)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            assert_eq!(id.len(), 16);
            assert_eq!(actix_test::read_body(res).await, "ok");

            let req = actix_test::TestRequest::get().uri("/panic").to_request();
            let Err(err) = app.call(req).await else {
                panic!("a panic becomes an error");
            };
            let res = err.error_response();
            assert_eq!(res.status(), 500);
            assert!(res.headers().get(X_REQUEST_ID).is_some());
        });
    }

    /// A service whose `call` itself panics, before any future exists.
    #[test]
    fn panic_in_call_is_caught() {
        actix_web::rt::System::new().block_on(async {
            for middleware in [
                crate::middleware(),
                crate::middleware().with_skip_paths(["/x"]),
            ] {
                let inner = actix_web::dev::fn_service(
                    |_: ServiceRequest| -> Ready<Result<ServiceResponse, Error>> {
                        panic!("in call")
                    },
                );
                let svc = middleware.new_transform(inner).await.unwrap();
                let req = actix_test::TestRequest::get().uri("/x").to_srv_request();
                let Err(err) = svc.call(req).await else {
                    panic!("a panic becomes an error");
                };
                assert_eq!(err.error_response().status(), 500);
            }
        });
    }
}
