//! [`RequestTasks`] (the `Transform`), [`RequestTasksService`] and [`ResponseFuture`].

use std::any::Any;
use std::fmt;
use std::future::{ready, Future, Ready};
use std::net::{IpAddr, SocketAddr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::http::{StatusCode, Version};
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError};
use futures_util::future::{CatchUnwind, FutureExt};
use pin_project_lite::pin_project;
use taskwire_core::http::{host_and_port, redact_query, ServerTaskName, SkipPaths};
use taskwire_core::ids::SpanId;
use taskwire_core::propagation::extract;
use taskwire_core::span;
use taskwire_core::Redactor;
use taskwire_core::SpanData;
use tracing::field::Empty;
use tracing::instrument::{Instrument, Instrumented};
use tracing::Span;

use crate::body::TaskBody;
use crate::headers::{known_method, traceresponse, valid_request_id, HeaderExtractor};
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
///    the matched route template, with the fields listed in the [crate docs](crate);
/// 3. keeps the request's valid `x-request-id` or gives it one (the task's span id);
/// 4. runs the rest of the app inside the task, catching panics;
/// 5. records the status; fails the task on a 5xx response (with the handler's error message
///    as the reason when it returned an `Err`) and on a panic, which is answered with a 500
///    and logged as an ERROR event with the panic message inside the task;
/// 6. adds the `traceresponse` and `x-request-id` response headers unless the handler set
///    them (on the 500 of a panic too);
/// 7. ends the task when the response body has been sent (or dropped).
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
    request_id_header: bool,
    request_id_name: HeaderName,
    client_address: ClientAddress,
    skip_paths: SkipPaths,
    redactor: Redactor,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            traceresponse: true,
            request_id_header: true,
            request_id_name: HeaderName::from_static(X_REQUEST_ID),
            client_address: ClientAddress::Off,
            skip_paths: SkipPaths::default(),
            redactor: Redactor::default(),
        }
    }
}

/// Where the opt-in `client.address` (and `client.port`) of a request task come from.
///
/// ```
/// use taskwire_actix::ClientAddress;
///
/// // Behind a proxy you trust to set X-Forwarded-For:
/// let middleware = taskwire_actix::middleware().with_client_address(ClientAddress::ForwardedFor);
/// # let _ = middleware;
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientAddress {
    /// Not recorded (the default: an address is personal data in many jurisdictions).
    #[default]
    Off,
    /// The peer of the connection (address and port).
    Peer,
    /// The first `X-Forwarded-For` entry that is an IP address, else the peer. Any client can
    /// send this header: choose it only behind a proxy that overwrites it.
    ForwardedFor,
}

impl RequestTasks {
    fn config_mut(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// Whether responses carry `traceresponse` (`00-{trace_id}-{span_id}-{flags}`, the
    /// request task's own ids, so a caller can find the server's task), unless the handler
    /// set one. Default: on.
    #[must_use]
    pub fn with_traceresponse(mut self, enabled: bool) -> Self {
        self.config_mut().traceresponse = enabled;
        self
    }

    /// Whether responses carry the request id, unless the handler set one. Default: on.
    ///
    /// The request id itself is always chosen: the request's own `x-request-id` when it has
    /// exactly one of 1 to 128 visible ASCII characters, else the task's span id in hex
    /// (written into the request's headers, so handlers see it too). It is recorded as
    /// `http.request_id` and put in the request extensions ([`RequestId`]).
    #[must_use]
    pub fn with_request_id_header(mut self, enabled: bool) -> Self {
        self.config_mut().request_id_header = enabled;
        self
    }

    /// The header request ids are read from and written to. Default: `x-request-id`.
    #[must_use]
    pub fn with_request_id_header_name(mut self, name: HeaderName) -> Self {
        self.config_mut().request_id_name = name;
        self
    }

    /// Where `client.address` (and `client.port`) come from, if anywhere. Default:
    /// [`ClientAddress::Off`].
    #[must_use]
    pub fn with_client_address(mut self, source: ClientAddress) -> Self {
        self.config_mut().client_address = source;
        self
    }

    /// Passes requests for exactly these paths (`["/health"]`) through untouched: no task, no
    /// headers (panics are still caught). Adds to the paths given before.
    #[must_use]
    pub fn with_skip_paths<I, P>(mut self, paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.config_mut().skip_paths.add(paths);
        self
    }

    /// Which query parameters have their value replaced with `REDACTED` in `url.query`.
    /// Default: taskwire's default redactor (token, api_key, password, secret, auth, session,
    /// …), the rule of every other taskwire output; the signature keys of pre-signed URLs
    /// (`Signature`, `sig`, `X-Goog-Signature`, `AWSAccessKeyId`) are always redacted.
    ///
    /// ```
    /// use taskwire_core::Redactor;
    /// let middleware = taskwire_actix::middleware().with_redactor(Redactor::default().with_key("ssn"));
    /// # let _ = middleware;
    /// ```
    #[must_use]
    pub fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.config_mut().redactor = redactor;
        self
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
    /// `Some` when it is to be sent.
    traceresponse: Option<HeaderValue>,
    /// `Some` when it is to be sent.
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

    fn call(&self, mut req: ServiceRequest) -> Self::Future {
        if self.config.skip_paths.contains(req.path()) {
            return ResponseFuture::new(&self.service, req, None);
        }
        let task = open_task(&self.config, &mut req);
        ResponseFuture::new(&self.service, req, Some(task))
    }
}

/// Opens the request task: reads the trace context and request id, creates the span,
/// re-parents it under the remote task, and gives the request an id if it had no valid one.
fn open_task(config: &Config, req: &mut ServiceRequest) -> Task {
    let incoming_id = single_valid_request_id(req.headers().get_all(&config.request_id_name));
    let span = {
        let (method, original) = match known_method(req.method()) {
            Some(m) => (m, None),
            None => ("_OTHER", Some(req.method().as_str())),
        };
        let route = req.match_pattern();
        // The method alone when no route matched: a path is not a name (it is `url.path`).
        let name = ServerTaskName::new(req.method().as_str(), route.as_deref());
        let client = client_address(config.client_address, req);
        // The connection's own TLS, not a header any client could send.
        let scheme = if req.app_config().secure() {
            "https"
        } else {
            "http"
        };
        let server = req
            .uri()
            .authority()
            .map(actix_web::http::uri::Authority::as_str)
            .or_else(|| header_str(req, actix_web::http::header::HOST))
            .and_then(|a| host_and_port(a, scheme));
        let query = Some(req.query_string())
            .filter(|q| !q.is_empty())
            .map(|q| redact_query(q, &config.redactor));
        tracing::info_span!(
            "http.server.request",
            task.name = %name,
            http.request.method = method,
            http.request.method_original = original,
            http.route = route.as_deref(),
            url.scheme = scheme,
            url.path = req.path(),
            url.query = query.as_deref(),
            server.address = server.map(|(host, _)| host),
            server.port = server.map(|(_, port)| port),
            user_agent.original = header_str(req, actix_web::http::header::USER_AGENT),
            network.protocol.version = protocol_version(req.version()),
            http.request_id = incoming_id.as_ref().and_then(|v| v.to_str().ok()),
            client.address = client.map(|(ip, _)| display(ip)),
            client.port = client.and_then(|(_, port)| port),
            http.response.status_code = Empty,
            error.type = Empty,
            error.message = Empty,
        )
    };

    let remote = extract(&HeaderExtractor::new(req.headers()));
    let ids = span
        .with_subscriber(|(id, dispatch)| {
            span::set_remote_parent(dispatch, id, &remote);
            span::read_span_data(dispatch, id, SpanData::traceparent)
        })
        .flatten();

    let request_id = match incoming_id {
        Some(id) => id,
        None => {
            // The task's span id names the request: one id to search for in logs and traces.
            let hex = ids.map_or_else(SpanId::random, |t| t.span_id).to_hex();
            let value = HeaderValue::from_bytes(&hex).unwrap_or(HeaderValue::from_static("0"));
            span.record("http.request_id", value.to_str().unwrap_or_default());
            req.headers_mut()
                .insert(config.request_id_name.clone(), value.clone());
            value
        }
    };
    // Valid ids and generated ones are visible ASCII.
    req.extensions_mut()
        .insert(RequestId::new(request_id.to_str().unwrap_or_default()));

    Task {
        span,
        traceresponse: ids
            .filter(|_| config.traceresponse)
            .as_ref()
            .and_then(traceresponse),
        request_id: config
            .request_id_header
            .then(|| (config.request_id_name.clone(), request_id)),
    }
}

/// The value of the request's header `name`, when it has one and it is text.
fn header_str(req: &ServiceRequest, name: HeaderName) -> Option<&str> {
    req.headers().get(name).and_then(|v| v.to_str().ok())
}

/// The request id when the request has exactly one and it is valid.
fn single_valid_request_id<'a>(
    mut values: impl Iterator<Item = &'a HeaderValue>,
) -> Option<HeaderValue> {
    match (values.next(), values.next()) {
        (Some(v), None) if valid_request_id(v) => Some(v.clone()),
        _ => None,
    }
}

fn protocol_version(version: Version) -> Option<&'static str> {
    Some(match version {
        Version::HTTP_09 => "0.9",
        Version::HTTP_10 => "1.0",
        Version::HTTP_11 => "1.1",
        Version::HTTP_2 => "2",
        Version::HTTP_3 => "3",
        _ => return None,
    })
}

fn client_address(source: ClientAddress, req: &ServiceRequest) -> Option<(IpAddr, Option<u16>)> {
    let peer = || req.peer_addr().map(|a| (a.ip(), Some(a.port())));
    match source {
        ClientAddress::Off => None,
        ClientAddress::Peer => peer(),
        ClientAddress::ForwardedFor => forwarded_for(req.headers())
            .map(|ip| (ip, None))
            .or_else(peer),
    }
}

/// The first entry of the first `X-Forwarded-For` header, when it is an IP address (with or
/// without a port). Anything else is ignored: the value is the client's to choose.
fn forwarded_for(headers: &actix_web::http::header::HeaderMap) -> Option<IpAddr> {
    let value = headers.get("x-forwarded-for")?.to_str().ok()?;
    let first = value.split(',').next()?.trim();
    first
        .parse::<IpAddr>()
        .ok()
        .or_else(|| first.parse::<SocketAddr>().ok().map(|a| a.ip()))
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
                Err(panic) => {
                    let message = panic_message(&*panic);
                    tracing::error!(panic = true, "request handler panicked: {message}");
                    Err(HandlerPanicked::default().into())
                }
            });
        };

        match outcome {
            Ok(Ok(mut res)) => {
                let status = res.status();
                let error = res.response().error().map(ToString::to_string);
                task.finish(status, error);
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
                task.span.record("error.type", "panic");
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
            self.span.record("error.type", status.as_str());
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
    span.with_subscriber(|(id, dispatch)| span::with_span_data(dispatch, id, |d| d.fail(reason)));
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

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::{test as actix_test, web, App};

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

    #[test]
    fn forwarded_for_takes_only_addresses() {
        let headers = |v: &'static str| {
            let mut h = actix_web::http::header::HeaderMap::new();
            h.insert(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_static(v),
            );
            h
        };
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        assert_eq!(
            forwarded_for(&headers("203.0.113.7, 10.0.0.1")),
            ip("203.0.113.7")
        );
        assert_eq!(
            forwarded_for(&headers("[2001:db8::1]:443")),
            ip("2001:db8::1")
        );
        assert_eq!(forwarded_for(&headers("10.0.0.1:8080")), ip("10.0.0.1"));
        assert_eq!(forwarded_for(&headers("<script>")), None);
        assert_eq!(forwarded_for(&headers("")), None);
    }
}
