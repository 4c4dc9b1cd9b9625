//! The taskwire web UI: Sentry's issue stream over the tickets store, served by
//! `taskwire serve` or mounted into an application's axum router.
//!
//! ```
//! use taskwire_tickets::Sqlite;
//!
//! let store = Sqlite::open_in_memory()?;
//! let app: axum::Router = taskwire_web::router(Box::new(store), taskwire_web::options())?;
//! // axum::serve(tokio::net::TcpListener::bind("127.0.0.1:7878").await?, app).await?;
//! # let _ = app;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Pages
//!
//! | page | path | shows |
//! |---|---|---|
//! | Tickets | `/tickets` | the stream: status, level, service, release, period filters, title search, sort by last seen, first seen or count, paging, a 24-hour sparkline per ticket |
//! | Ticket | `/tickets/{id}` | first/last seen, count, releases, status history, 48-hour chart, tag breakdowns, samples (context tree, errors, backtrace, span chain, trace id); resolve, mute, reopen, delete |
//! | Live tail | `/live` | new lines of the log sources as they are written (server-sent events from `/live/stream`), the explorer's query as filter, pause/resume, a cap on kept rows |
//! | Metrics | `/metrics` | per task name count, errors, m1/m5/m15 rates, p50…p99.9 and max, latency histogram and rate plots, from the logs' `task.end` records or the app's metrics layer; `/api/metrics` as JSON |
//! | Traces | `/traces`, `/traces?q=QUERY`, `/traces?trace=ID` | the explorer's trace search over the log sources (or the app's recent tasks, [`Dashboard::with_recent`]), and a trace's waterfall across services (skew adjusted, failures, events with fields, errors linked to tickets) |
//! | JSON | `/api/tickets`, `/api/tickets/{id}` | the data of the two tickets pages |
//!
//! Pages are HTML rendered on the server ([`maud`] escapes every value), with one embedded
//! stylesheet and one small script ([`ASSET_BYTES`] bytes together). The security model is in
//! [`mod@security`] and `docs/web.md`.
//!
//! # Features
//!
//! | feature | default | enables |
//! |---|---|---|
//! | `mongodb` | no | the MongoDB tickets store of `taskwire-tickets` (for `taskwire serve --db mongodb://…`) |
//! | `actix` | no | [`actix_scope`]: the pages (the in-app [`dashboard`]) mounted in an actix-web app |

#![forbid(unsafe_code)]

mod assets;
pub mod dashboard;
mod logs;
mod metrics;
mod pages;
pub mod security;
mod server;
mod trace_link;

pub use assets::ASSET_BYTES;
#[cfg(feature = "actix")]
pub use dashboard::actix_scope;
pub use dashboard::{dashboard, Dashboard};
pub use security::{check_bind, safe_href, BindError};
pub use server::{
    options, router, serve, Options, RouterError, TicketStore, DEFAULT_MAX_LIVE_STREAMS,
};
pub use trace_link::{TraceLink, TraceLinkError};
