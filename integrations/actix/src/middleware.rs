//! [`RequestTasks`]: the middleware (an actix `Transform`) and its options.

use std::future::{ready, Ready};
use std::sync::Arc;

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform};
use actix_web::http::header::HeaderName;
use actix_web::Error;
use taskwire_core::http::ServerConfig;

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
    fn server_config(&mut self) -> &mut ServerConfig {
        &mut Arc::make_mut(&mut self.config).server
    }

    taskwire_core::server_option_setters!("taskwire_actix::middleware()");

    /// The header request ids are read from and written to. Default: `x-request-id`. See
    /// [`ServerConfig::with_request_id_header_name`].
    #[must_use]
    pub fn with_request_id_header_name(mut self, name: HeaderName) -> Self {
        Arc::make_mut(&mut self.config).request_id_name = name.clone();
        self.server(|s| s.with_request_id_header_name(name.as_str().to_owned()))
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
