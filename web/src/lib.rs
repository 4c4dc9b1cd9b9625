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
//! | Traces | `/traces?trace=ID` | the trace id and the `taskwire tree --trace` command (the waterfall is not built yet) |
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

#![forbid(unsafe_code)]

mod assets;
mod pages;
pub mod security;
mod server;

pub use assets::ASSET_BYTES;
pub use security::{check_bind, safe_href, BindError};
pub use server::{options, router, serve, Options, RouterError, TicketStore};
