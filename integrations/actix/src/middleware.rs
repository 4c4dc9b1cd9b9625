//! [`RequestTasks`]: the middleware (an actix `Transform`) and its options.

use std::future::{ready, Ready};
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::HeaderName;
use actix_web::Error;
use taskwire_core::http::{ClientAddress, ServerConfig};
use taskwire_core::Redactor;

use crate::body::TaskBody;
use crate::config::Config;
use crate::service::RequestTasksService;

/// The actix-web middleware that turns each request into a task. Built with
/// [`middleware()`](crate::middleware) and configured with the `with_*` setters; pass it to
/// `App::wrap`. Cheap to clone (the configuration is shared).
///
/// For each request whose path is not skipped it:
///
/// 1. reads `traceparent` and `tracestate` ([`HeaderExtractor`](crate::HeaderExtractor)); a valid `traceparent` makes
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
/// The options, their defaults and their names are those of every taskwire server middleware
/// (taskwire-tower's `TaskLayer` has the same setters): see the
/// [table in taskwire-core](taskwire_core::http#options).
///
/// Wrap it last (outermost) so the task covers the other middleware:
/// `App::new().wrap(other).wrap(taskwire_actix::middleware())`.
#[derive(Clone, Debug, Default)]
pub struct RequestTasks {
    config: Arc<Config>,
}

impl RequestTasks {
    fn config_mut(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    /// Applies `set` to the shared server options.
    fn server(mut self, set: impl FnOnce(ServerConfig) -> ServerConfig) -> Self {
        let config = self.config_mut();
        config.server = set(std::mem::take(&mut config.server));
        self
    }

    /// Whether responses carry `traceresponse` (`00-{trace_id}-{span_id}-{flags}`, the
    /// request task's own ids, so a caller can find the server's task), unless the handler
    /// set one. Default: on.
    #[must_use]
    pub fn with_traceresponse(self, enabled: bool) -> Self {
        self.server(|s| s.with_traceresponse(enabled))
    }

    /// Whether responses carry the request id, unless the handler set one. Default: on.
    ///
    /// The request id itself is always chosen: the request's own `x-request-id` when it has
    /// exactly one of 1 to 128 visible ASCII characters, else the task's span id in hex
    /// (written into the request's headers, so handlers see it too). It is recorded as
    /// `http.request_id` and put in the request extensions ([`RequestId`](crate::RequestId)).
    #[must_use]
    pub fn with_request_id_header(self, enabled: bool) -> Self {
        self.server(|s| s.with_request_id_header(enabled))
    }

    /// The header request ids are read from and written to. Default: `x-request-id`.
    #[must_use]
    pub fn with_request_id_header_name(mut self, name: HeaderName) -> Self {
        self.config_mut().request_id_name = name.clone();
        self.server(|s| s.with_request_id_header_name(name.as_str().to_owned()))
    }

    /// Where `client.address` (and `client.port`) come from, if anywhere. Default:
    /// [`ClientAddress::Off`].
    #[must_use]
    pub fn with_client_address(self, source: ClientAddress) -> Self {
        self.server(|s| s.with_client_address(source))
    }

    /// Passes requests for exactly these paths (`["/health"]`) through untouched: no task, no
    /// headers (panics are still caught). Adds to the paths given before.
    #[must_use]
    pub fn with_skip_paths<I, P>(self, paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.server(|s| s.with_skip_paths(paths))
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
    pub fn with_redactor(self, redactor: Redactor) -> Self {
        self.server(|s| s.with_redactor(redactor))
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
        ready(Ok(RequestTasksService::new(
            service,
            Arc::clone(&self.config),
        )))
    }
}
