//! The app: its options, its shared state (the store and the secrets), its routes, and
//! serving it on a listener.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use axum::routing::{get, post};
use axum::Router;
use taskwire_tickets::{TicketReader, TicketTriage};

use crate::logs::Logs;
use crate::security::{self, Secrets};
use crate::trace_link::TraceLink;
use crate::{assets, metrics, pages};

/// What the UI reads and changes: a tickets store's query and triage sides (SQLite, MongoDB,
/// or a store of one's own). Implemented for every type that has both.
pub trait TicketStore: TicketReader + TicketTriage {}

impl<T: TicketReader + TicketTriage + ?Sized> TicketStore for T {}

/// Options of the UI. Created by [`options`].
#[derive(Clone, Debug, Default)]
#[must_use = "Options do nothing until passed to `router`"]
pub struct Options {
    token: Option<String>,
    logs: Vec<PathBuf>,
    metrics: Option<taskwire_metrics::MetricsHandle>,
    base: String,
    max_live_streams: Option<usize>,
    trace_link: Option<TraceLink>,
    recent: Option<taskwire_tasks::RecentTasks>,
}

/// Live-tail streams open at once by default (see [`Options::with_max_live_streams`]).
pub const DEFAULT_MAX_LIVE_STREAMS: usize = 16;

/// The default options: no access token (for a loopback address).
///
/// ```
/// let opts = taskwire_web::options().with_token(Some("s3cret".into()));
/// # let _ = opts;
/// ```
pub fn options() -> Options {
    Options::default()
}

impl Options {
    /// Requires this access token on every request (`None` or empty: none). Needed to serve
    /// on an address other hosts can reach ([`crate::check_bind`]).
    pub fn with_token(mut self, token: Option<String>) -> Self {
        self.token = token.filter(|t| !t.is_empty());
        self
    }

    /// Whether a token is set.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// The log sources (files, folders, patterns, as `taskwire tail` takes them) the live tail
    /// follows and, without [`Options::with_metrics`], the metrics page reads `task.end`
    /// records from.
    ///
    /// ```
    /// let opts = taskwire_web::options().with_logs(["var/log/front.jsonl", "var/log/back/"]);
    /// # let _ = opts;
    /// ```
    pub fn with_logs<I, P>(mut self, logs: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: Into<PathBuf>,
    {
        self.logs = logs.into_iter().map(Into::into).collect();
        self
    }

    /// Sends "view trace" to a trace viewer (Jaeger, Tempo, …) through `link`: a ticket's
    /// samples and the traces page link each trace id there, beside the waterfall the logs
    /// give.
    ///
    /// ```
    /// let link = "http://jaeger:16686/trace/{trace_id}".parse()?;
    /// let opts = taskwire_web::options().with_trace_link(link);
    /// # let _ = opts;
    /// # Ok::<(), taskwire_web::TraceLinkError>(())
    /// ```
    pub fn with_trace_link(mut self, link: TraceLink) -> Self {
        self.trace_link = Some(link);
        self
    }

    /// Shows this process's recent tasks on the traces page (the in-app dashboard): the
    /// traces of the ring the tasks layer keeps ([`taskwire_tasks::TasksLayer::with_recent`])
    /// are listed, searched and drawn as waterfalls instead of those of the log sources.
    ///
    /// ```
    /// let recent = taskwire_tasks::RecentTasks::new(1000);
    /// let _layer = taskwire_tasks::layer().with_recent(recent.clone());
    /// let opts = taskwire_web::options().with_recent(recent);
    /// # let _ = opts;
    /// ```
    pub fn with_recent(mut self, recent: taskwire_tasks::RecentTasks) -> Self {
        self.recent = Some(recent);
        self
    }

    /// How many log sources are named.
    pub fn log_count(&self) -> usize {
        self.logs.len()
    }

    /// Shows this process's metrics layer on the metrics page (the in-app dashboard) instead
    /// of the log sources' `task.end` records.
    ///
    /// ```
    /// let layer = taskwire_metrics::layer();
    /// let opts = taskwire_web::options().with_metrics(layer.handle());
    /// # let _ = opts;
    /// ```
    pub fn with_metrics(mut self, handle: taskwire_metrics::MetricsHandle) -> Self {
        self.metrics = Some(handle);
        self
    }

    /// The path the router is mounted under, which every link and redirect of the pages
    /// starts with. `""` or `"/"` (the default): the path axum's `Router::nest` or the actix
    /// scope mounted it at, else the root. Needed only behind a proxy that strips a prefix.
    ///
    /// ```
    /// let opts = taskwire_web::options().with_base_path("/_taskwire/");
    /// assert_eq!(opts.base_path(), "/_taskwire");
    /// ```
    pub fn with_base_path(mut self, base: impl Into<String>) -> Self {
        let base = base.into();
        let trimmed = base.trim().trim_end_matches('/');
        self.base = if trimmed.is_empty() || trimmed.starts_with('/') {
            trimmed.to_owned()
        } else {
            format!("/{trimmed}")
        };
        self
    }

    /// The most live-tail streams open at once (each follows the logs on a thread of its
    /// own); one more is answered `503 Service Unavailable` until one closes. Default
    /// [`DEFAULT_MAX_LIVE_STREAMS`]; 0 turns the live tail's stream off.
    ///
    /// ```
    /// let opts = taskwire_web::options().with_max_live_streams(4);
    /// assert_eq!(opts.max_live_streams(), 4);
    /// ```
    pub fn with_max_live_streams(mut self, max: usize) -> Self {
        self.max_live_streams = Some(max);
        self
    }

    /// The most live-tail streams open at once.
    pub fn max_live_streams(&self) -> usize {
        self.max_live_streams.unwrap_or(DEFAULT_MAX_LIVE_STREAMS)
    }

    /// The mount path links start with (`""` at the root).
    pub fn base_path(&self) -> &str {
        &self.base
    }
}

/// Why the app could not be built.
#[derive(Debug)]
pub struct RouterError(getrandom::Error);

impl std::fmt::Display for RouterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("cannot draw the random CSRF and session secrets")
    }
}

impl std::error::Error for RouterError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

/// The store behind a lock, used on blocking threads (a store may block: SQLite on its file,
/// MongoDB on its own runtime).
#[derive(Clone)]
pub(crate) struct Shared(Arc<Mutex<Box<dyn TicketStore + Send>>>);

impl Shared {
    /// Runs `f` with the store on a blocking thread.
    pub(crate) async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut dyn TicketStore) -> T + Send + 'static,
    ) -> Result<T, pages::PageError> {
        let store = self.0.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = store.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut **guard)
        })
        .await
        .map_err(|_| pages::PageError::internal("the store query stopped"))
    }
}

/// What every handler sees.
#[derive(Clone)]
pub(crate) struct AppState {
    pub(crate) store: Shared,
    pub(crate) secrets: Arc<Secrets>,
    /// The mount path (see [`Options::with_base_path`]).
    pub(crate) base: Arc<str>,
    /// The log sources of the live tail.
    pub(crate) logs: Arc<Logs>,
    /// Where the metrics page's numbers come from.
    pub(crate) metrics: Arc<dyn metrics::Source>,
    /// The live tail's free follower slots.
    pub(crate) followers: pages::live::Followers,
    /// Where "view trace" goes besides the waterfall, if anywhere.
    pub(crate) trace_link: Option<Arc<TraceLink>>,
    /// The process's recent tasks, read by the traces page instead of the log sources.
    pub(crate) recent: Option<taskwire_tasks::RecentTasks>,
}

/// The UI's routes over `store`: the pages, their JSON API and the embedded assets, behind
/// the security middleware (headers, access token). Serve it with [`serve`] or
/// `axum::serve`, or nest it into an application's router.
///
/// ```
/// let store = taskwire_tickets::Sqlite::open_in_memory()?;
/// let app = taskwire_web::router(Box::new(store), taskwire_web::options())?;
/// # let _: axum::Router = app;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn router(store: Box<dyn TicketStore + Send>, options: Options) -> Result<Router, RouterError> {
    let followers = pages::live::Followers::new(options.max_live_streams());
    let logs = Logs::new(options.logs);
    let metrics: Arc<dyn metrics::Source> = match options.metrics {
        Some(handle) => metrics::FromApp::new(handle),
        None => Arc::new(metrics::FromLogs::new(logs.clone())),
    };
    let state = AppState {
        store: Shared(Arc::new(Mutex::new(store))),
        secrets: Arc::new(Secrets::new(options.token).map_err(RouterError)?),
        base: Arc::from(options.base),
        logs: Arc::new(logs),
        metrics,
        followers,
        trace_link: options.trace_link.map(Arc::new),
        recent: options.recent,
    };
    Ok(Router::new()
        .route("/", get(pages::tickets::root))
        .route("/tickets", get(pages::tickets::list::page))
        .route("/tickets/{id}", get(pages::tickets::detail::page))
        .route(
            "/tickets/{id}/{action}",
            post(pages::tickets::actions::post),
        )
        .route("/traces", get(pages::traces::page))
        .route("/live", get(pages::live::page))
        .route("/live/stream", get(pages::live::events))
        .route("/metrics", get(pages::metrics::page))
        .route("/api/metrics", get(pages::metrics::api))
        .route("/api/tickets", get(pages::tickets::api::list))
        .route("/api/tickets/{id}", get(pages::tickets::api::detail))
        .route("/assets/{name}", get(assets::serve))
        .fallback(pages::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::guard,
        ))
        .with_state(state))
}

/// Serves `app` on `listener` until the process ends.
///
/// ```no_run
/// # async fn run() -> std::io::Result<()> {
/// let store = taskwire_tickets::Sqlite::open("tickets.db").map_err(std::io::Error::other)?;
/// let app = taskwire_web::router(Box::new(store), taskwire_web::options()).map_err(std::io::Error::other)?;
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:7878").await?;
/// taskwire_web::serve(listener, app).await
/// # }
/// ```
pub async fn serve(listener: tokio::net::TcpListener, app: Router) -> std::io::Result<()> {
    axum::serve(listener, app).await
}

/// The path a mounting framework says the app is under, when the options name none: axum's
/// `Router::nest` ([`axum::extract::NestedPath`]) or the actix scope ([`MountPath`]).
#[derive(Clone, Debug)]
pub(crate) struct MountPath(pub(crate) Arc<str>);

/// The mount path of `req`: the option if set, else what the framework that mounted the app
/// says, else the root.
pub(crate) fn mount_path(state: &AppState, req: &axum::extract::Request) -> Arc<str> {
    if !state.base.is_empty() {
        return state.base.clone();
    }
    let ext = req.extensions();
    let found = ext.get::<MountPath>().map(|m| m.0.to_string()).or_else(|| {
        ext.get::<axum::extract::NestedPath>()
            .map(|n| n.as_str().to_owned())
    });
    match found {
        Some(p) => Arc::from(p.trim_end_matches('/')),
        None => state.base.clone(),
    }
}
