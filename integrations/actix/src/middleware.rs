//! [`RequestTasks`] (the `Transform`), [`RequestTasksService`] and [`ResponseFuture`].

use std::any::Any;
use std::fmt;
use std::future::{ready, Future, Ready};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError};
use futures_util::future::{CatchUnwind, FutureExt};
use pin_project_lite::pin_project;
use taskwire_core::capture;
use taskwire_core::ids::TraceId;
use taskwire_core::propagation::extract;
use tracing::field::Empty;
use tracing::instrument::{Instrument, Instrumented};
use tracing::Span;

use crate::body::TaskBody;
use crate::headers::{method_name, traceresponse, valid_request_id, HeaderExtractor};
use crate::request_id::RequestId;

/// The `traceresponse` header name (W3C Trace Context Level 2).
pub const TRACERESPONSE: &str = "traceresponse";

/// The default request id header.
pub const X_REQUEST_ID: &str = "x-request-id";

/// The actix-web middleware that turns each request into a task. Built with
/// [`middleware()`](crate::middleware) and configured with the `with_*` setters; pass it to
/// `App::wrap`. Cheap to clone (the configuration is shared).
///
/// For each request whose path is not skipped it:
///
/// 1. reads `traceparent` and `tracestate` ([`HeaderExtractor`]); a valid `traceparent` makes
///    the request task a child of the caller's task, anything else (missing, malformed, two
///    `traceparent` headers) starts a new root, and is counted in
///    [`taskwire_core::propagation::stats`];
/// 2. opens the request task, span `http.server.request`, named `"{METHOD} {route}"` after
///    the matched route template (`"GET /users/{id}"`; just `"{METHOD}"` when no route
///    matched), with `http.request.method`, `http.route`, `url.path`, `http.request_id`,
///    `http.response.status_code` and, opt-in, `client.address`;
/// 3. runs the rest of the app inside the task, catching panics;
/// 4. records the status; fails the task on a 5xx response (a handler's `Err` that maps to a
///    5xx included, with the error's message as the reason) and on a panic, which is answered
///    with a 500 and logged as an ERROR event with the panic message inside the task;
/// 5. sets the `traceresponse` and `x-request-id` response headers (on the 500 of a panic
///    too);
/// 6. ends the task when the response body has been sent (or dropped).
///
/// A 4xx is the client's fault: the task records the status (and the error's message in
/// `error.message`) but succeeds, as OpenTelemetry's HTTP server conventions say.
///
/// A panic is answered through an `actix_web::Error` (a 500 with an empty body), so
/// middleware wrapped around this one sees an `Err`. An `Err` from middleware wrapped inside
/// this one (handlers' errors are responses by then) is recorded, fails the task when it is a
/// 5xx, and is passed on unchanged; actix answers it without the two headers.
///
/// Wrap it last (outermost) so the task covers the other middleware:
/// `App::new().wrap(other).wrap(taskwire_actix::middleware())`.
#[derive(Clone, Debug, Default)]
pub struct RequestTasks {
    config: Arc<Config>,
}

#[derive(Clone, Debug)]
struct Config {
    traceresponse: bool,
    request_id: Option<HeaderName>,
    client_address: bool,
    skip: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            traceresponse: true,
            request_id: Some(HeaderName::from_static(X_REQUEST_ID)),
            client_address: false,
            skip: Vec::new(),
        }
    }
}

impl RequestTasks {
    fn config_mut(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// Whether to send the `traceresponse` header (`00-{trace_id}-{span_id}-{flags}`, the
    /// request task's own ids) so a caller can find the server's task. Default: on.
    #[must_use]
    pub fn with_traceresponse(mut self, enabled: bool) -> Self {
        self.config_mut().traceresponse = enabled;
        self
    }

    /// Whether to handle request ids: reuse the caller's valid id (1 to 128 bytes of visible
    /// ASCII) or generate one, record it as `http.request_id`, put it in the request
    /// extensions ([`RequestId`]) and send it back. Default: on.
    #[must_use]
    pub fn with_request_id(mut self, enabled: bool) -> Self {
        let header = self.request_id_header();
        self.config_mut().request_id = enabled.then_some(header);
        self
    }

    /// The header request ids are read from and written to. Default: `x-request-id`.
    /// Setting it turns request ids on.
    #[must_use]
    pub fn with_request_id_header(mut self, header: HeaderName) -> Self {
        self.config_mut().request_id = Some(header);
        self
    }

    /// Whether to record the peer's IP address (the socket's, never a `Forwarded` header a
    /// client can forge) as `client.address`. Default: off, since it is personal data in many
    /// jurisdictions.
    #[must_use]
    pub fn with_client_address(mut self, enabled: bool) -> Self {
        self.config_mut().client_address = enabled;
        self
    }

    /// Passes requests for exactly this path (`"/health"`) through untouched: no task, no
    /// headers. Call it once per path.
    #[must_use]
    pub fn with_skip_path(mut self, path: impl Into<String>) -> Self {
        self.config_mut().skip.push(path.into());
        self
    }

    fn request_id_header(&self) -> HeaderName {
        self.config
            .request_id
            .clone()
            .unwrap_or_else(|| HeaderName::from_static(X_REQUEST_ID))
    }
}

impl<S, B> Transform<S, ServiceRequest> for RequestTasks
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<TaskBody<B>>;
    type Error = Error;
    type Transform = RequestTasksService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RequestTasksService {
            service,
            config: Arc::clone(&self.config),
        }))
    }
}

/// The service [`RequestTasks`] wraps around an app (or a scope, or a resource).
pub struct RequestTasksService<S> {
    service: S,
    config: Arc<Config>,
}

impl<S> fmt::Debug for RequestTasksService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RequestTasksService")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// What the future needs to finish a request that has a task.
struct Task {
    span: Span,
    traceresponse: Option<HeaderValue>,
    request_id: Option<(HeaderName, HeaderValue)>,
}

impl<S, B> Service<ServiceRequest> for RequestTasksService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    S::Future: 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<TaskBody<B>>;
    type Error = Error;
    type Future = ResponseFuture<S::Future>;

    actix_web::dev::forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if self.config.skip.iter().any(|p| p == req.path()) {
            return ResponseFuture::new(&self.service, req, None);
        }
        let task = self.open_task(&req);
        ResponseFuture::new(&self.service, req, Some(task))
    }
}

impl<S> RequestTasksService<S> {
    fn open_task(&self, req: &ServiceRequest) -> Task {
        let config = &*self.config;
        let method = method_name(req.method());
        let route = req.match_pattern();
        let name = match &route {
            Some(route) => format!("{method} {route}"),
            None => method.to_owned(),
        };
        let span = tracing::info_span!(
            "http.server.request",
            task.name = name.as_str(),
            http.request.method = method,
            http.route = route.as_deref(),
            url.path = req.path(),
            http.response.status_code = Empty,
            client.address = Empty,
            http.request_id = Empty,
            error.message = Empty,
        );

        let remote = extract(&HeaderExtractor::new(req.headers()));
        let ids = span
            .with_subscriber(|(id, dispatch)| {
                capture::set_remote_parent(dispatch, id, &remote);
                capture::with_span_data(dispatch, id, |d| d.traceparent())
            })
            .flatten();
        let traceresponse = if config.traceresponse {
            ids.as_ref().and_then(traceresponse)
        } else {
            None
        };

        let request_id = config.request_id.as_ref().map(|header| {
            let value = req
                .headers()
                .get(header)
                .filter(|v| valid_request_id(v))
                .cloned()
                .unwrap_or_else(generate_request_id);
            // Valid ids and generated ones are visible ASCII.
            let id = value.to_str().unwrap_or_default();
            span.record("http.request_id", id);
            req.extensions_mut().insert(RequestId::new(id));
            (header.clone(), value)
        });

        if config.client_address {
            if let Some(addr) = req.peer_addr() {
                span.record("client.address", tracing::field::display(addr.ip()));
            }
        }

        Task {
            span,
            traceresponse,
            request_id,
        }
    }
}

/// 32 lowercase hex digits from the per-thread id generator.
fn generate_request_id() -> HeaderValue {
    HeaderValue::from_bytes(&TraceId::random().to_hex())
        .unwrap_or_else(|_| HeaderValue::from_static("0"))
}

pin_project! {
    /// The future of [`RequestTasksService`]: runs the inner service inside the request task,
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
    fn new<S>(service: &S, req: ServiceRequest, task: Option<Task>) -> Self
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
                Err(_) => Err(HandlerPanicked::default().into()),
            });
        };

        match outcome {
            Ok(Ok(mut res)) => {
                let status = res.status();
                let error = res.response().error().map(ToString::to_string);
                task.finish(status, error);
                let headers = res.headers_mut();
                for (name, value) in task.response_headers() {
                    headers.insert(name, value);
                }
                let span = task.span;
                Poll::Ready(Ok(res.map_body(|_, body| TaskBody::new(body, Some(span)))))
            }
            // Not a handler's error (actix turns those into responses, seen above) but an inner
            // middleware's: passed on unchanged, for actix (or an outer middleware) to answer.
            Ok(Err(err)) => {
                let status = err.as_response_error().status_code();
                task.finish(status, Some(err.to_string()));
                Poll::Ready(Err(err))
            }
            Err(panic) => {
                let message = panic_message(&*panic);
                tracing::error!(
                    parent: &task.span,
                    panic = true,
                    "request handler panicked: {message}"
                );
                task.finish(StatusCode::INTERNAL_SERVER_ERROR, None);
                Poll::Ready(Err(HandlerPanicked {
                    headers: task.response_headers().collect(),
                }
                .into()))
            }
        }
    }
}

impl Task {
    /// Records the status (and error message) and fails the task on a 5xx.
    fn finish(&self, status: StatusCode, error: Option<String>) {
        self.span
            .record("http.response.status_code", status.as_u16());
        if let Some(message) = &error {
            self.span.record("error.message", message.as_str());
        }
        if status.is_server_error() {
            match error {
                Some(message) => fail(&self.span, message),
                None => fail(&self.span, format_args!("HTTP {status}")),
            }
        }
    }

    fn response_headers(&self) -> impl Iterator<Item = (HeaderName, HeaderValue)> + '_ {
        let traceresponse = self
            .traceresponse
            .clone()
            .map(|v| (HeaderName::from_static(TRACERESPONSE), v));
        traceresponse.into_iter().chain(self.request_id.clone())
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

/// Marks the task of `span` failed with `reason` (the first reason wins). Without a taskwire
/// layer, or for a disabled span, it does nothing.
pub(crate) fn fail(span: &Span, reason: impl fmt::Display) {
    span.with_subscriber(|(id, dispatch)| {
        capture::with_span_data(dispatch, id, |d| {
            if d.failure.is_none() {
                d.failure = Some(reason.to_string().into_boxed_str());
            }
        })
    });
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    if let Some(s) = panic.downcast_ref::<&'static str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else {
        "non-string panic payload"
    }
}
