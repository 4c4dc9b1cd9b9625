//! The app: its options, its shared state (the store and the secrets), its routes, and
//! serving it on a listener.

use std::sync::{Arc, Mutex};

use axum::routing::{get, post};
use axum::Router;
use taskwire_tickets::{TicketReader, TicketTriage};

use crate::security::{self, Secrets};
use crate::{assets, pages};

/// What the UI reads and changes: a tickets store's query and triage sides (SQLite, MongoDB,
/// or a store of one's own). Implemented for every type that has both.
pub trait TicketStore: TicketReader + TicketTriage {}

impl<T: TicketReader + TicketTriage + ?Sized> TicketStore for T {}

/// Options of the UI. Created by [`options`].
#[derive(Clone, Debug, Default)]
#[must_use = "Options do nothing until passed to `router`"]
pub struct Options {
    token: Option<String>,
}

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
    let state = AppState {
        store: Shared(Arc::new(Mutex::new(store))),
        secrets: Arc::new(Secrets::new(options.token).map_err(RouterError)?),
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
