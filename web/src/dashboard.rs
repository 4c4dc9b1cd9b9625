//! The in-app dashboard: the same pages, mounted by the application itself, over its own
//! tickets store, its own metrics layer's live snapshot and, with [`Dashboard::with_recent`],
//! its recent traces from the tasks layer's ring ([`taskwire_tasks::RecentTasks`]). One line to mount in axum
//! ([`dashboard`], nested anywhere) and, with the feature `actix`, in actix-web
//! ([`actix_scope`]). Links follow the mount path by themselves; the access token and CSRF
//! rules are those of `taskwire serve` ([`crate::Options::with_token`]).
//!
//! ```
//! use axum::{routing::get, Router};
//! use tracing_subscriber::prelude::*;
//!
//! let metrics = taskwire_metrics::layer();
//! let handle = metrics.handle();
//! let _subscriber = tracing_subscriber::registry().with(metrics);
//! let store = taskwire_tickets::Sqlite::open_in_memory()?;
//!
//! let app: Router = Router::new()
//!     .route("/", get(|| async { "my app" }))
//!     .nest("/_taskwire", taskwire_web::dashboard(Box::new(store), handle).build()?);
//! # let _ = app;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use axum::Router;
use taskwire_metrics::MetricsHandle;

use crate::server::{options, router, Options, RouterError, TicketStore};
use crate::trace_link::TraceLink;

/// The dashboard over `store` with `metrics` (the handle of the application's
/// [`taskwire_metrics`] layer) on the metrics page, loopback rules (no token; use [`router`]
/// with [`crate::Options::with_metrics`] and a token for more). Its [`Dashboard::build`] is
/// the router; nest it at any path: its links follow.
pub fn dashboard(store: Box<dyn TicketStore + Send>, metrics: MetricsHandle) -> Dashboard {
    Dashboard {
        store,
        options: options().with_metrics(metrics),
    }
}

/// The in-app dashboard's settings, from [`dashboard`]; [`Dashboard::build`] makes its router.
#[must_use = "a Dashboard does nothing until built into a router"]
pub struct Dashboard {
    store: Box<dyn TicketStore + Send>,
    options: Options,
}

impl std::fmt::Debug for Dashboard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dashboard")
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Dashboard {
    /// Sends "view trace" to a trace viewer ([`crate::Options::with_trace_link`]).
    ///
    /// ```
    /// let store = taskwire_tickets::Sqlite::open_in_memory()?;
    /// let handle = taskwire_metrics::layer().handle();
    /// let app = taskwire_web::dashboard(Box::new(store), handle)
    ///     .with_trace_link("http://jaeger:16686/trace/{trace_id}".parse()?)
    ///     .build()?;
    /// # let _: axum::Router = app;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_trace_link(mut self, link: TraceLink) -> Self {
        self.options = self.options.with_trace_link(link);
        self
    }

    /// Shows the process's recent traces on the traces page: the list of the traces in
    /// `recent` (newest first), the explorer's search over them, and each one's waterfall,
    /// the same pages `taskwire serve` draws from log files
    /// ([`crate::Options::with_recent`]). Give the same ring to the tasks layer
    /// ([`taskwire_tasks::TasksLayer::with_recent`]).
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// let recent = taskwire_tasks::RecentTasks::new(1000).with_service("shop");
    /// let metrics = taskwire_metrics::layer();
    /// let handle = metrics.handle();
    /// let _subscriber = tracing_subscriber::registry()
    ///     .with(taskwire_tasks::layer().with_recent(recent.clone()))
    ///     .with(metrics);
    /// let store = taskwire_tickets::Sqlite::open_in_memory()?;
    /// let dash = taskwire_web::dashboard(Box::new(store), handle)
    ///     .with_recent(recent)
    ///     .build()?;
    /// let _app: axum::Router = axum::Router::new().nest("/_taskwire", dash);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_recent(mut self, recent: taskwire_tasks::RecentTasks) -> Self {
        self.options = self.options.with_recent(recent);
        self
    }

    /// The router of the pages.
    pub fn build(self) -> Result<Router, RouterError> {
        router(self.store, self.options)
    }
}

#[cfg(feature = "actix")]
pub use self::actix::actix_scope;

#[cfg(feature = "actix")]
mod actix {
    use std::sync::Arc;

    use actix_web::web::{self, Bytes};
    use actix_web::{HttpRequest, HttpResponse};
    use futures_util::StreamExt as _;
    use tower_service::Service as _;

    use crate::server::MountPath;

    /// An actix-web scope at `path` that serves `app` (from [`crate::router`] or
    /// [`crate::dashboard`]'s build): each request is handed to the axum router with the scope's path
    /// as its mount path, and the answer streamed back (the live tail's events included).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let store = taskwire_tickets::Sqlite::open_in_memory()?;
    /// let handle = taskwire_metrics::layer().handle();
    /// let dash = taskwire_web::dashboard(Box::new(store), handle).build()?;
    /// let _app = actix_web::App::new().service(taskwire_web::actix_scope("/_taskwire", dash));
    /// # Ok(()) }
    /// ```
    pub fn actix_scope(path: &str, app: axum::Router) -> actix_web::Scope {
        let mount: Arc<str> = Arc::from(path.trim_end_matches('/'));
        web::scope(path).default_service(web::to(move |req: HttpRequest, body: Bytes| {
            let app = app.clone();
            let mount = mount.clone();
            async move { forward(app, mount, req, body).await }
        }))
    }

    /// One request through the axum router.
    async fn forward(
        mut app: axum::Router,
        mount: Arc<str>,
        req: HttpRequest,
        body: Bytes,
    ) -> HttpResponse {
        let rest = req.match_info().unprocessed();
        let mut uri = format!("/{}", rest.trim_start_matches('/'));
        if !req.query_string().is_empty() {
            uri.push('?');
            uri.push_str(req.query_string());
        }
        let mut builder = axum::http::Request::builder()
            .method(req.method().as_str())
            .uri(uri);
        for (k, v) in req.headers() {
            builder = builder.header(k.as_str(), v.as_bytes());
        }
        let Ok(mut inner) = builder.body(axum::body::Body::from(body)) else {
            return HttpResponse::BadRequest().finish();
        };
        inner.extensions_mut().insert(MountPath(mount));
        let Ok(res) = app.call(inner).await;
        let status = actix_web::http::StatusCode::from_u16(res.status().as_u16())
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
        let mut out = HttpResponse::build(status);
        for (k, v) in res.headers() {
            out.append_header((k.as_str(), v.as_bytes()));
        }
        let stream = res
            .into_body()
            .into_data_stream()
            .map(|chunk| chunk.map_err(actix_web::error::ErrorInternalServerError));
        out.streaming(stream)
    }
}
