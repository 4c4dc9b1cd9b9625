//! Error events grouped into tickets, Sentry style: counts, first and last seen, status with
//! regressions and mutes, samples with their task ids, and tag distributions, kept in a
//! [`Store`] (SQLite by default).
//!
//! ```
//! use tracing_subscriber::prelude::*;
//! use taskwire_tickets::store::{ListQuery, TicketReader};
//! use taskwire_tickets::Sqlite;
//!
//! # let dir = std::env::temp_dir().join(format!("tw-tickets-doc-{}", std::process::id()));
//! # std::fs::create_dir_all(&dir)?;
//! # let path = dir.join("tickets.db");
//! let (layer, guard) = taskwire_tickets::layer(Sqlite::open(&path)?)
//!     .with_service("checkout")
//!     .build(); // the guard flushes on drop: keep it alive
//! let subscriber = tracing_subscriber::registry().with(layer);
//! tracing::subscriber::with_default(subscriber, || {
//!     for order in 0..3 {
//!         let _span = tracing::info_span!("order", order).entered();
//!         tracing::error!(order, "payment for order {order} declined");
//!     }
//! });
//! drop(guard);
//!
//! let tickets = Sqlite::open(&path)?.list(&ListQuery::default())?;
//! assert_eq!(tickets.len(), 1);
//! assert_eq!(tickets[0].count, 3);
//! assert_eq!(tickets[0].title, "payment for order <num> declined");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What it does
//!
//! Every event at or above a threshold (default `WARN`) is grouped by a fingerprint: by default
//! the service, target, file, line and level, never the message (see [`Grouping`] for grouping
//! by span name, by fields such as `http.route`, and the `fingerprint` field). The first
//! message, with numbers, ids, addresses and times replaced by placeholders, is the ticket's
//! title ([`title`]). Records of the tasks layer (target `taskwire::tasks`) are skipped. An
//! error reported again by an enclosing span (nested `#[instrument(err)]` functions returning
//! one error) is the same occurrence: only the innermost report is counted.
//!
//! On the caller's thread an event only bumps an atomic counter of its group, and builds a
//! sample while the group may still send one in the current period; a writer thread commits
//! counts (exact, whatever happens to samples), samples (the first and the newest 20 per
//! ticket) and tags in batched transactions at least every 100 ms. See [`layer`](mod@layer)
//! for the hot path and `docs/tickets.md` for the schema, the status rules and the choices.
//!
//! Dropping the [`TicketsGuard`] flushes. When the store refuses that final flush for longer
//! than the shutdown timeout ([`TicketsBuilder::with_shutdown_timeout`], 5 s by default: a
//! locked SQLite file, a MongoDB server that is down), what is left is written to a local spool
//! file, which the next writer on the same store, in any process, replays exactly once when it
//! starts (`docs/tickets.md`, "Shutdown").
//!
//! | status | becomes | when |
//! |---|---|---|
//! | open | resolved, muted | `taskwire tickets resolve/mute`, [`TicketTriage::resolve`](store::TicketTriage::resolve), [`TicketTriage::mute`](store::TicketTriage::mute) |
//! | resolved | open, marked regressed | an occurrence newer than the resolution (from another release, when resolved in one) |
//! | muted | open | an occurrence after the mute's time, or beyond its count |
//!
//! # Features
//!
//! | feature | default | enables |
//! |---|---|---|
//! | `sqlite` | yes | [`Sqlite`]: the store in a SQLite file, through rusqlite with SQLite compiled in |
//! | `webhook` | no | [`alerts::Alerts::webhook`]: alerts posted to a webhook (JSON or Slack's form) with reqwest's blocking client |
//! | `mongodb` | no | `MongoDb`: the store in a MongoDB deployment (official driver, its own single-threaded runtime; heavy, so not a default). See `docs/tickets.md`, section MongoDB |
//!
//! # Alerts
//!
//! [`TicketsBuilder::with_alerts`] notifies a webhook (feature `webhook`) and callbacks when a
//! ticket is created, regresses, or crosses a rate, from the writer's thread and a delivery
//! thread of its own (see [`alerts`]).
//!
//! # Composing
//!
//! The layer works alone (it captures spans itself), above the span capture of a stack
//! (`registry().with(taskwire_core::span::capture())`, which it then reads), inside
//! `Option<L>`, boxed, and behind per-layer filters.
#![forbid(unsafe_code)]

pub mod alerts;
mod builder;
pub mod conformance;
mod fingerprint;
mod groups;
pub mod layer;
mod random_key;
mod repeats;
mod sample;
mod spool;
pub mod store;
mod tags;
pub mod title;
mod writer;

pub use builder::TicketsBuilder;
pub use fingerprint::{Grouping, FINGERPRINT_FIELD};
pub use layer::{TicketsLayer, TASKS_TARGET};
pub use sample::{BACKTRACE_FIELD, DEFAULT_MAX_FIELD_LEN};
#[cfg(feature = "mongodb")]
pub use store::mongodb::{MongoDb, MongoDbBuilder};
#[cfg(feature = "sqlite")]
pub use store::sqlite::{Sqlite, SqliteBuilder};
pub use store::{Store, TicketReader, TicketTriage, TicketWriter};
pub use tags::MAX_TAG_VALUE_LEN;
pub use writer::{FlushError, Stats, TicketsGuard};

/// Samples kept per ticket besides its first one, by default.
pub const DEFAULT_SAMPLES_PER_TICKET: usize = 20;

/// Distinct values kept per ticket and tag key, by default.
pub const DEFAULT_MAX_TAG_VALUES: usize = 100;

/// How long hourly counts ([`TicketReader::hourly`]) are kept, by default: 30 days.
pub const DEFAULT_HOURLY_RETENTION: std::time::Duration =
    std::time::Duration::from_secs(30 * 24 * 3600);

/// Hourly counts older than the retention a store deletes at most per write, so pruning
/// costs every write a bounded amount and a backlog (a first write after a long pause, a
/// retention made shorter) is worked off over the next writes.
pub const HOURLY_PRUNE_PER_WRITE: usize = 256;

/// Fingerprints counted in memory at once, by default.
pub const DEFAULT_MAX_GROUPS: usize = 10_000;

/// A tickets layer writing to `store` (any [`TicketWriter`]: the layer needs only the write
/// side): configure it with the builder's `with_*` setters, then
/// [`build`](TicketsBuilder::build) it into the layer and the guard that flushes it.
///
/// ```
/// use tracing_subscriber::prelude::*;
/// let (layer, _guard) = taskwire_tickets::layer(taskwire_tickets::Sqlite::open_in_memory()?)
///     .with_service("checkout")
///     .with_release("1.4.2")
///     .with_min_level(tracing::Level::ERROR)
///     .build();
/// let subscriber = tracing_subscriber::registry().with(layer);
/// # let _ = subscriber;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn layer(store: impl TicketWriter + 'static) -> TicketsBuilder {
    TicketsBuilder::new(Box::new(store))
}

/// Like [`layer()`], for a store already boxed (chosen at run time).
pub fn layer_boxed(store: Box<dyn TicketWriter>) -> TicketsBuilder {
    TicketsBuilder::new(store)
}
