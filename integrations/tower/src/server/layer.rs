//! [`TaskLayer`]: the server middleware's options.

use std::borrow::Cow;
use std::sync::Arc;

use http::request::Parts;
use http::HeaderName;
use taskwire_core::http::ServerConfig;
use taskwire_core::Redactor;
use tower_layer::Layer;

use super::{ClientAddress, Config, TaskService};

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

    /// Applies `set` to the shared server options.
    fn server(mut self, set: impl FnOnce(ServerConfig) -> ServerConfig) -> Self {
        let config = self.config();
        config.server = set(std::mem::take(&mut config.server));
        self
    }

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

    /// Whether responses carry a `traceresponse` header naming the request task, unless the
    /// handler set one. Default: on. See [`ServerConfig::with_traceresponse`].
    #[must_use]
    pub fn with_traceresponse(self, enabled: bool) -> Self {
        self.server(|s| s.with_traceresponse(enabled))
    }

    /// Whether responses carry the request id, unless the handler set one. Default: on. See
    /// [`ServerConfig::with_request_id_header`].
    #[must_use]
    pub fn with_request_id_header(self, enabled: bool) -> Self {
        self.server(|s| s.with_request_id_header(enabled))
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

    /// Paths (exact matches, like `/health`) passed through untouched: no task, no headers.
    /// Adds to the paths given before. See [`ServerConfig::with_skip_paths`].
    #[must_use]
    pub fn with_skip_paths<I, P>(self, paths: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<String>,
    {
        self.server(|s| s.with_skip_paths(paths))
    }

    /// Where `client.address` (and `client.port`) come from, if anywhere. Default:
    /// [`ClientAddress::Off`]. See [`ServerConfig::with_client_address`].
    #[must_use]
    pub fn with_client_address(self, source: ClientAddress) -> Self {
        self.server(|s| s.with_client_address(source))
    }

    /// Which query parameters have their value replaced with `REDACTED` in `url.query`.
    /// Default: taskwire's default redactor. See [`ServerConfig::with_redactor`].
    ///
    /// ```
    /// use taskwire_core::Redactor;
    /// let layer = taskwire_tower::layer().with_redactor(Redactor::default().with_key("ssn"));
    /// # let _ = layer;
    /// ```
    #[must_use]
    pub fn with_redactor(self, redactor: Redactor) -> Self {
        self.server(|s| s.with_redactor(redactor))
    }
}

impl<S> Layer<S> for TaskLayer {
    type Service = TaskService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        TaskService::new(inner, Arc::clone(&self.config))
    }
}
