//! [`TaskLayer`]: the server middleware's options.

use std::borrow::Cow;
use std::sync::Arc;

use http::request::Parts;
use http::HeaderName;
use taskwire_core::http::ServerConfig;
use tower_layer::Layer;

use super::{Config, TaskService};

/// Opens a task for each request a service handles; see the [crate docs](crate) for what it
/// records and how it ends. Cheap to clone: the options are shared.
///
/// The options, their defaults and their names are those of every taskwire server middleware
/// (taskwire-actix's `RequestTasks` has the same setters): see the
/// [table in taskwire-core](taskwire_core::http#options).
///
/// ```
/// use taskwire_tower::TaskLayer;
///
/// let layer = TaskLayer::new()
///     .with_skip_paths(["/health", "/ready"])
///     .with_traceresponse(false);
/// # let _ = layer;
/// ```
#[derive(Clone, Debug, Default)]
pub struct TaskLayer {
    config: Arc<Config>,
}

impl TaskLayer {
    /// A layer with the defaults: route from axum's `MatchedPath` (feature `axum`), else none;
    /// `traceresponse` and `x-request-id` response headers on, no skipped paths, no
    /// `client.address`.
    pub fn new() -> Self {
        TaskLayer::default()
    }

    fn config(&mut self) -> &mut Config {
        Arc::make_mut(&mut self.config)
    }

    fn server_config(&mut self) -> &mut ServerConfig {
        &mut self.config().server
    }

    taskwire_core::server_option_setters!("taskwire_tower::layer()");

    /// Names routes with `route`, which sees the request head and returns the route template
    /// (low cardinality: `/users/{id}`, not `/users/42`), or `None` to fall back to axum's
    /// `MatchedPath` (feature `axum`); a request with no route is named after its method alone
    /// (`GET`). Useful for hyper and tonic, which have no `MatchedPath`.
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use taskwire_tower::TaskLayer;
    ///
    /// let layer = TaskLayer::new().with_route(|head| {
    ///     head.uri.path().starts_with("/users/").then_some(Cow::Borrowed("/users/{id}"))
    /// });
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn with_route<F>(mut self, route: F) -> Self
    where
        F: for<'a> Fn(&'a Parts) -> Option<Cow<'a, str>> + Send + Sync + 'static,
    {
        self.config().route = Some(Arc::new(route));
        self
    }

    /// The header request ids are read from and written to. Default: `x-request-id`. See
    /// [`ServerConfig::with_request_id_header_name`].
    ///
    /// ```
    /// use http::HeaderName;
    /// let layer = taskwire_tower::layer()
    ///     .with_request_id_header_name(HeaderName::from_static("x-correlation-id"));
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn with_request_id_header_name(mut self, name: HeaderName) -> Self {
        self.config().request_id_name = name.clone();
        self.server(|s| s.with_request_id_header_name(name.as_str().to_owned()))
    }
}

impl<S> Layer<S> for TaskLayer {
    type Service = TaskService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TaskService::new(inner, Arc::clone(&self.config))
    }
}
