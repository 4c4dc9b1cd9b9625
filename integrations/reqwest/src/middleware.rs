//! [`ClientTasks`], the `reqwest_middleware::Middleware`, and the [`NoTrace`] opt-out.

use std::error::Error as _;
use std::fmt;
use std::time::Instant;

use http::Extensions;
use reqwest::header::HeaderMap;
use reqwest::{Request, Response};
use reqwest_middleware::{Error, Middleware, Next, Result};
use taskwire_core::propagation::{Injector, TRACEPARENT, TRACESTATE};
use taskwire_core::span;
use taskwire_core::Redactor;
use tracing::field::Empty;
use tracing::{Instrument, Span};

use crate::headers::HeaderInjector;
use crate::route::{task_name, UrlTemplate};
use crate::url::sanitized;

/// Put in a request's extensions to send it untraced: no client task, no `traceparent`, no
/// `tracestate`. For calls that must not join the trace (a telemetry endpoint, a third party
/// that should not learn your trace ids).
///
/// ```
/// # async fn run(client: reqwest_middleware::ClientWithMiddleware) -> reqwest_middleware::Result<()> {
/// client
///     .get("http://127.0.0.1:4318/v1/traces")
///     .with_extension(taskwire_reqwest::NoTrace)
///     .send()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoTrace;

/// The `reqwest_middleware::Middleware` that makes every outgoing request a client task and
/// propagates it. Built with [`middleware()`](crate::middleware).
///
/// For each request (without [`NoTrace`]) it opens the span `http.client.request` as a child
/// of the current span, named after the method (`HTTP` for a non-standard one) and the host,
/// and the route template when the request carries a [`UrlTemplate`]
/// (`GET api.example.com/orders/{id}`; never the raw path, whose ids would make a name per
/// request), with
/// `http.request.method` (`_OTHER` and `http.request.method_original` for a non-standard
/// method), `server.address`,
/// `server.port` and `url.full` (without user name, password or fragment, and with sensitive
/// query values replaced by `REDACTED`); sends the client task's own `traceparent` (and the
/// trace's `tracestate`), so the server's task is a child of the client task; then records
/// `http.response.status_code` and `http.client.latency_us` (time until the response headers
/// arrived). A 4xx or 5xx response (OpenTelemetry's rule for client spans) or a transport
/// error (connection refused, timeout, …) fails the task, with the reason in its `task.end`
/// record and the status code or the error's kind in `error.type`; the caller still gets the
/// response or the error unchanged. The task ends when the response headers
/// arrive: reading the body is not part of it.
///
/// Without a taskwire layer the request is still sent, with the current task's context when
/// there is one.
#[derive(Clone, Debug)]
pub struct ClientTasks {
    redactor: Redactor,
    propagate: bool,
}

impl Default for ClientTasks {
    fn default() -> Self {
        ClientTasks {
            redactor: Redactor::default(),
            propagate: true,
        }
    }
}

impl ClientTasks {
    /// Which query parameters have their value replaced in `url.full`. Default: taskwire's
    /// default redactor (token, api_key, password, secret, auth, session, …); signature keys of
    /// pre-signed URLs (`Signature`, `sig`, `X-Goog-Signature`, `AWSAccessKeyId`) are always
    /// redacted.
    #[must_use]
    pub fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.redactor = redactor;
        self
    }

    /// Whether to send `traceparent` and `tracestate`. Default: on. Off records client tasks
    /// without telling servers about them (for example towards third parties).
    #[must_use]
    pub fn with_propagation(mut self, enabled: bool) -> Self {
        self.propagate = enabled;
        self
    }
}

#[async_trait::async_trait]
impl Middleware for ClientTasks {
    async fn handle(
        &self,
        mut req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Result<Response> {
        if extensions.get::<NoTrace>().is_some() {
            return next.run(req, extensions).await;
        }
        let (method, original) = match known_method(req.method()) {
            Some(m) => (m, None),
            None => ("_OTHER", Some(req.method().as_str())),
        };
        let url = req.url();
        let template = extensions.get::<UrlTemplate>();
        // OpenTelemetry names a span with an unknown method `HTTP`.
        let name = task_name(
            if original.is_some() { "HTTP" } else { method },
            url.host_str(),
            template,
        );
        let span = tracing::info_span!(
            "http.client.request",
            task.name = name.as_str(),
            http.request.method = method,
            http.request.method_original = original,
            server.address = url.host_str(),
            server.port = url.port_or_known_default(),
            url.full = sanitized(url, &self.redactor).as_str(),
            url.template = template.map(UrlTemplate::as_str),
            http.response.status_code = Empty,
            http.client.latency_us = Empty,
            error.type = Empty,
        );
        if self.propagate {
            inject(&span, req.headers_mut());
        }

        let start = Instant::now();
        let result = next.run(req, extensions).instrument(span.clone()).await;
        span.record(
            "http.client.latency_us",
            u64::try_from(start.elapsed().as_micros()).unwrap_or(u64::MAX),
        );
        match &result {
            Ok(res) => {
                let status = res.status();
                span.record("http.response.status_code", status.as_u16());
                // OpenTelemetry's client rule: a 4xx is an error too (the call did not get
                // what it asked for), unlike on the server, where it is the caller's mistake.
                if status.is_client_error() || status.is_server_error() {
                    span.record("error.type", status.as_str());
                    fail(&span, format_args!("HTTP {status}"));
                }
            }
            Err(e) => {
                let kind = error_type(e);
                span.record("error.type", kind);
                fail(&span, Reason { kind, error: e });
            }
        }
        result
    }
}

/// Sends the client task's context: its own span id as the parent, so the server's task is its
/// child. When the span has no task (no taskwire layer, a filtered-out span), the current
/// task's context is sent instead, so the trace still continues.
fn inject(span: &Span, headers: &mut HeaderMap) {
    // The task is marked exported: it crosses a process boundary, so the tasks layer writes
    // its record whatever its policy summarises.
    let context = span
        .with_subscriber(|(id, dispatch)| {
            span::with_span_data(dispatch, id, |d| {
                d.note_exported();
                (d.traceparent(), d.tracestate().cloned())
            })
        })
        .flatten()
        .or_else(|| {
            let current = span::current().map(|tp| (tp, span::current_tracestate()));
            if current.is_some() {
                span::note_current_exported();
            }
            current
        });
    let Some((parent, tracestate)) = context else {
        return;
    };
    // A `tracestate` left by the caller belongs to some other parent.
    headers.remove(TRACESTATE);
    let mut injector = HeaderInjector::new(headers);
    parent.with_str(|s| injector.set(TRACEPARENT, s));
    if let Some(ts) = tracestate.filter(|ts| !ts.is_empty()) {
        injector.set(TRACESTATE, &ts);
    }
}

/// Marks the task of `span` failed with `reason` (the first reason wins). Without a taskwire
/// layer, or for a disabled span, it does nothing.
fn fail(span: &Span, reason: impl fmt::Display) {
    span.with_subscriber(|(id, dispatch)| span::with_span_data(dispatch, id, |d| d.fail(reason)));
}

/// A short, low-cardinality kind for `error.type`.
fn error_type(e: &Error) -> &'static str {
    match e {
        Error::Middleware(_) => "middleware",
        Error::Reqwest(e) if e.is_timeout() => "timeout",
        Error::Reqwest(e) if e.is_connect() => "connect",
        Error::Reqwest(e) if e.is_redirect() => "redirect",
        Error::Reqwest(e) if e.is_body() => "body",
        Error::Reqwest(e) if e.is_builder() => "builder",
        Error::Reqwest(e) if e.is_request() => "request",
        Error::Reqwest(_) => "reqwest",
    }
}

/// The failure reason of a transport error: its kind and the chain of causes. reqwest's own
/// message is left out, since it repeats the URL with its query (and any secret in it).
struct Reason<'a> {
    kind: &'static str,
    error: &'a Error,
}

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} error", self.kind)?;
        match self.error {
            Error::Middleware(e) => {
                for cause in e.chain() {
                    write!(f, ": {cause}")?;
                }
            }
            Error::Reqwest(e) => {
                let mut cause = e.source();
                while let Some(c) = cause {
                    write!(f, ": {c}")?;
                    cause = c.source();
                }
            }
        }
        Ok(())
    }
}

/// The method's name when it is one of the nine standard ones ([`taskwire_core::http::known_method`]).
fn known_method(method: &reqwest::Method) -> Option<&'static str> {
    taskwire_core::http::known_method(method.as_str())
}
