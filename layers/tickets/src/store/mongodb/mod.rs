//! [`MongoDb`]: the ticket store in a MongoDB deployment (feature `mongodb`), through the official
//! driver on a single-threaded tokio runtime the store owns, so a synchronous program works too.
//!
//! Collections, named with a validated prefix (default `taskwire_`): `{prefix}tickets` (one
//! document per fingerprint), `{prefix}occurrences` (the kept samples), `{prefix}tags` (one
//! document per ticket and tag key, at most `max_tag_values` values) and `{prefix}meta` (the
//! schema version and the id counters). All are bounded by the same rules as the SQLite tables.
//! The document shapes and indexes are in `docs/tickets.md`.
//!
//! # Connecting
//!
//! [`MongoDb::open`] takes a connection string (`mongodb://…` or `mongodb+srv://…`, every option
//! the driver knows: `replicaSet`, `tls`, `authSource`, `w`, `appName`, …). The database is the
//! one named in its path (`mongodb://host/errors`), else [`DEFAULT_DATABASE`]. A malformed string
//! fails at once; an unreachable server does not: `open` does no I/O, so an application starts
//! while MongoDB is down, and the writer retries (counts wait in memory). Unless the string sets
//! them, server selection and connecting time out after 2 s (the driver's default, 30 s, would
//! hold the writer that long on every attempt).
//!
//! # Writing without transactions
//!
//! A batch is a few bulk `update`/`insert` commands, not a transaction (standalone servers have
//! none), and every operation is safe to repeat:
//!
//! - **tickets**: one upsert per fingerprint, `$inc` count, `$min`/`$max` first/last seen,
//!   `$setOnInsert` the rest, filtered on `status: "open"`. A ticket that is resolved or muted
//!   (or was created by another process a moment before) does not match: its insert attempt
//!   fails on the unique index, and that operation is redone as a read, the shared status rules,
//!   and an update conditional on the ticket's `rev` (bumped by every status change), retried
//!   until no other writer got in between. Ids come from a counter (`findOneAndUpdate $inc`).
//! - **exactly once**: every batch carries a random token; each ticket and tag document keeps
//!   the last 32 tokens applied to it (`ops`), and no operation applies to a document that has
//!   its token. The writer retries a failed batch unchanged, this store recognises it and reuses
//!   its token and ids, so a batch cut off by a lost connection is completed, never counted twice.
//! - **samples**: the first sample of a ticket has the id `-ticket_id` (so only one writer can
//!   insert it); others get ids from a counter; after inserting, the oldest beyond N are deleted.
//! - **tags**: the values of one key live in one document; adding a value is conditional on the
//!   number of values read (`n`), so the cap holds with any number of writers.
//!
//! # Spool
//!
//! What a final flush cannot write before the process exits is spooled to local files (see
//! [`MongoDbBuilder::with_spool_dir`]) and replayed by the next writer on the same deployment,
//! database and prefix. A replayed batch uses its spool key as its token, so a replay cut short
//! is completed by the next one, and a batch that was half applied when the process gave up is
//! completed rather than repeated; a `spool:…` record in `{prefix}meta` marks a batch done.

mod bson_json;
mod builder;
mod cache;
mod documents;
mod errors;
mod queries;
mod reply;
mod samples;
mod schema;
mod tags;
mod token;
mod write;

use std::fmt;
use std::path::PathBuf;

use mongodb::bson::Document;
use mongodb::{Collection, Database};

pub use builder::MongoDbBuilder;

use crate::store::{Batch, OpenError};
use cache::Cache;
use schema::Names;
use token::Plan;

/// Test hook, not part of the API: where [`MongoDb::inject_failure_after`] cuts the next write
/// short.
#[doc(hidden)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FailAfter {
    /// After the batch's tickets were written.
    Tickets,
    /// After its samples were written.
    Samples,
    /// After its tag counts were written.
    Tags,
}

/// The database used when the connection string names none.
pub const DEFAULT_DATABASE: &str = "taskwire";

/// The schema version this code writes (recorded in `{prefix}meta`).
pub const SCHEMA_VERSION: i64 = 1;

/// Write tokens remembered per document (see the module docs).
const TOKENS_KEPT: i32 = 32;
/// Conditional-update rounds per document before a batch reports [`ErrorKind::Busy`].
const CAS_ATTEMPTS: usize = 64;
/// Fingerprints and tag documents remembered between batches (ids, known status); cleared when
/// full.
const CACHE_LIMIT: usize = 100_000;
/// Operations per bulk command.
const OPS_PER_COMMAND: usize = 1000;
/// Approximate bytes per bulk command (the server takes up to 16 MiB per document, 48 MiB per
/// message).
const BYTES_PER_COMMAND: usize = 4 << 20;
/// The duplicate key error.
const DUPLICATE_KEY: i32 = 11000;

/// A ticket store in a MongoDB database.
///
/// ```no_run
/// use taskwire_tickets::MongoDb;
/// let store = MongoDb::open("mongodb://127.0.0.1:27017/errors")?;
/// let store = MongoDb::builder("mongodb://db1,db2/app?replicaSet=rs0&w=majority")
///     .with_prefix("errors_")
///     .open()?;
/// let layer = taskwire_tickets::layer(store);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct MongoDb {
    inner: Option<Inner>,
    rt: tokio::runtime::Runtime,
    /// A batch that failed and the token and ids it was given, reused when the same batch is
    /// written again.
    retry: Option<(Batch, Plan)>,
    /// See [`TicketWriter::spool_path`].
    spool: Option<PathBuf>,
}

impl fmt::Debug for MongoDb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("MongoDb");
        if let Some(i) = &self.inner {
            d.field("target", &i.target)
                .field("prefix", &i.names.prefix);
        }
        d.finish_non_exhaustive()
    }
}

impl Drop for MongoDb {
    fn drop(&mut self) {
        // The driver's client spawns its cleanup on the runtime it was made in.
        let _enter = self.rt.enter();
        drop(self.inner.take());
    }
}

impl MongoDb {
    /// A store in the database of `uri` with the default settings (see [`MongoDbBuilder::open`]).
    pub fn open(uri: impl AsRef<str>) -> Result<MongoDb, OpenError> {
        MongoDb::builder(uri).open()
    }

    /// Options for the deployment at `uri`.
    pub fn builder(uri: impl AsRef<str>) -> MongoDbBuilder {
        MongoDbBuilder::new(uri.as_ref())
    }

    /// Test hook, not part of the API: the next write fails after `stage` was written, as a
    /// lost connection may leave a batch.
    #[doc(hidden)]
    pub fn inject_failure_after(&mut self, stage: FailAfter) {
        if let Some(i) = self.inner.as_mut() {
            i.fail_after = Some(stage);
        }
    }

    /// The connection string (password hidden) and database, for messages.
    fn target(&self) -> &str {
        self.inner.as_ref().map_or("", |i| i.target.as_str())
    }

    /// The database's name.
    pub fn database(&self) -> &str {
        self.inner.as_ref().map_or("", |i| i.db.name())
    }

    /// Creates the collections' indexes when missing and checks the schema version. The writer
    /// does this before its first batch; call it to fail early when the server must be there.
    pub fn ensure_schema(&mut self) -> Result<(), OpenError> {
        let Some(inner) = self.inner.as_mut() else {
            return Ok(());
        };
        self.rt
            .block_on(inner.ensure_schema())
            .map_err(|(kind, message, e)| match e {
                Some(e) => OpenError::new(kind, message).with_source(e),
                None => OpenError::new(kind, message),
            })
    }

    fn run<T>(
        &self,
        f: impl AsyncFnOnce(&Inner) -> mongodb::error::Result<T>,
    ) -> mongodb::error::Result<T> {
        match &self.inner {
            Some(i) => self.rt.block_on(f(i)),
            None => Err(mongodb::error::Error::custom("the store is closed")),
        }
    }
}

struct Inner {
    db: Database,
    tickets: Collection<Document>,
    occurrences: Collection<Document>,
    tags: Collection<Document>,
    meta: Collection<Document>,
    write_concern: Option<Document>,
    names: Names,
    target: String,
    schema_ready: bool,
    cache: Cache,
    fail_after: Option<FailAfter>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_server_is_not_an_open_error() {
        let store = MongoDb::open("mongodb://127.0.0.1:1/errors").unwrap();
        assert_eq!(store.database(), "errors");
        let store = MongoDb::open("mongodb://127.0.0.1:1").unwrap();
        assert_eq!(store.database(), DEFAULT_DATABASE);
    }
}
