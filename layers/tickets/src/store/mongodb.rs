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

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use mongodb::bson::{doc, Bson, DateTime, Document};
use mongodb::options::{ClientOptions, ConnectionString, IndexOptions, ReturnDocument};
use mongodb::{Client, Collection, Database, IndexModel};

use super::transition::State;
use super::{
    Batch, ErrorKind, GroupUpdate, Level, ListQuery, Mute, Occurrence, OccurrenceOrder,
    OccurrenceQuery, OpenError, QueryError, Sample, Sort, Status, TablePrefix, TagCount, Ticket,
    TicketId, TicketReader, TicketTriage, TicketWriter, Timestamp, UpdateError, WriteError,
    OTHER_TAG_VALUE,
};

/// The driver, for benchmarks that compare this store with raw bulk writes.
#[doc(hidden)]
pub use ::mongodb as driver;

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

/// Options of a [`MongoDb`] store. Created by [`MongoDb::builder`].
#[derive(Clone, Debug)]
#[must_use = "a MongoDbBuilder does nothing until `open()` is called"]
pub struct MongoDbBuilder {
    uri: String,
    database: Option<String>,
    prefix: String,
    server_selection_timeout: Duration,
    connect_timeout: Duration,
    spool_dir: Option<PathBuf>,
}

impl MongoDbBuilder {
    /// Keeps the spool (what a final flush could not write before the process exited, see
    /// `docs/tickets.md`, "Shutdown") in `dir`, created when first needed. Every process
    /// writing to the same deployment, database and prefix should use the same folder, on a
    /// disk that outlives the process (a container's volume), so the next one replays it.
    ///
    /// Default: `$XDG_STATE_HOME/taskwire/spool`, else `$HOME/.local/state/taskwire/spool`,
    /// else `taskwire-spool` in the system's temporary folder.
    ///
    /// ```no_run
    /// let store = taskwire_tickets::MongoDb::builder("mongodb://db1/errors")
    ///     .with_spool_dir("/var/lib/checkout/taskwire-spool")
    ///     .open()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_spool_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spool_dir = Some(dir.into());
        self
    }

    /// Names the collections `{prefix}tickets` and so on. Default `taskwire_`. Only ASCII
    /// letters, digits and `_`, at most 32 characters; anything else fails
    /// [`MongoDbBuilder::open`].
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Uses this database instead of the one named in the connection string.
    pub fn with_database(mut self, name: impl Into<String>) -> Self {
        self.database = Some(name.into());
        self
    }

    /// How long an operation waits for a usable server before failing, unless the connection
    /// string sets `serverSelectionTimeoutMS`. Default 2 s: while the server is down, each
    /// write attempt of the writer thread (and each `taskwire tickets` command) gives up after
    /// this long.
    pub fn with_server_selection_timeout(mut self, timeout: Duration) -> Self {
        self.server_selection_timeout = timeout;
        self
    }

    /// How long opening a connection may take, unless the connection string sets
    /// `connectTimeoutMS`. Default 2 s.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Checks the settings and makes the client, without contacting the server.
    ///
    /// Fails with [`ErrorKind::InvalidConfig`] when the connection string is malformed or has
    /// an invalid option, or the prefix or database name is invalid. A `mongodb+srv://` string
    /// is resolved here (DNS). An unreachable server is not an error: writes and queries report
    /// it ([`ErrorKind::Unavailable`]) and the layer's writer retries.
    pub fn open(self) -> Result<MongoDb, OpenError> {
        let prefix = TablePrefix::new(&self.prefix)?;
        let shown = redact(&self.uri);
        let invalid = |msg: String, e: Option<mongodb::error::Error>| {
            let err = OpenError::new(ErrorKind::InvalidConfig, format!("{shown}: {msg}"));
            match e {
                Some(e) => err.with_source(e),
                None => err,
            }
        };
        let conn = ConnectionString::parse(&self.uri)
            .map_err(|e| invalid("invalid MongoDB connection string".into(), Some(e)))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("taskwire-tickets-mongodb")
            .build()
            .map_err(|e| {
                OpenError::new(
                    ErrorKind::Other,
                    format!("{shown}: cannot start the store's runtime"),
                )
                .with_source(e)
            })?;
        let mut options = rt
            .block_on(async { ClientOptions::parse(conn).await })
            .map_err(|e| invalid("cannot use this connection string".into(), Some(e)))?;
        if options.server_selection_timeout.is_none() {
            options.server_selection_timeout = Some(self.server_selection_timeout);
        }
        if options.connect_timeout.is_none() {
            options.connect_timeout = Some(self.connect_timeout);
        }
        if options.app_name.is_none() {
            options.app_name = Some("taskwire".into());
        }
        let database = self
            .database
            .clone()
            .or_else(|| options.default_database.clone())
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        if database.is_empty()
            || database.len() > 63
            || database
                .chars()
                .any(|c| matches!(c, '/' | '\\' | '.' | ' ' | '"' | '$' | '\0'))
        {
            return Err(invalid(format!("invalid database name {database:?}"), None));
        }
        let spool = {
            let mut hosts: Vec<String> = options.hosts.iter().map(ToString::to_string).collect();
            hosts.sort();
            let id =
                fnv1a(format!("{}/{database}/{}", hosts.join(","), prefix.as_str()).as_bytes());
            let dir = self.spool_dir.clone().unwrap_or_else(default_spool_dir);
            dir.join(format!(
                "mongodb-{id:016x}-{database}-{}spool",
                prefix.as_str()
            ))
        };
        let client = {
            let _enter = rt.enter();
            Client::with_options(options)
                .map_err(|e| invalid("cannot make a client".into(), Some(e)))?
        };
        let db = client.database(&database);
        let names = Names::new(prefix.as_str());
        let inner = Inner {
            tickets: db.collection(&names.tickets),
            occurrences: db.collection(&names.occurrences),
            tags: db.collection(&names.tags),
            meta: db.collection(&names.meta),
            write_concern: db
                .write_concern()
                .and_then(|w| mongodb::bson::to_document(w).ok())
                .filter(|d| !d.is_empty()),
            target: format!("{shown} (database {database})"),
            db,
            names,
            schema_ready: false,
            cache: Cache::default(),
            fail_after: None,
        };
        Ok(MongoDb {
            inner: Some(inner),
            rt,
            retry: None,
            spool: Some(spool),
        })
    }
}

impl MongoDb {
    /// A store in the database of `uri` with the default settings (see [`MongoDbBuilder::open`]).
    pub fn open(uri: impl AsRef<str>) -> Result<MongoDb, OpenError> {
        MongoDb::builder(uri).open()
    }

    /// Options for the deployment at `uri`.
    pub fn builder(uri: impl AsRef<str>) -> MongoDbBuilder {
        MongoDbBuilder {
            uri: uri.as_ref().to_owned(),
            database: None,
            prefix: super::DEFAULT_PREFIX.to_owned(),
            server_selection_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(2),
            spool_dir: None,
        }
    }

    /// Test hook, not part of the API: the next write fails after its tickets (1), samples (2)
    /// or tags (3) were written, as a lost connection may leave a batch.
    #[doc(hidden)]
    pub fn inject_failure_after(&mut self, stage: u8) {
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

/// Collection names.
#[derive(Debug)]
struct Names {
    prefix: String,
    tickets: String,
    occurrences: String,
    tags: String,
    meta: String,
}

impl Names {
    fn new(p: &str) -> Names {
        Names {
            prefix: p.to_owned(),
            tickets: format!("{p}tickets"),
            occurrences: format!("{p}occurrences"),
            tags: format!("{p}tags"),
            meta: format!("{p}meta"),
        }
    }
}

/// What this store knows about a ticket from earlier batches (never needed for correctness:
/// every operation is conditional; it saves lookups).
#[derive(Clone, Copy, Debug)]
struct Known {
    id: i64,
    open: bool,
    titled: bool,
    has_first: bool,
}

/// The values of one tag document, by position.
#[derive(Clone, Debug, Default)]
struct TagDoc {
    index: HashMap<String, usize>,
}

/// A tag document's key: the ticket id and the tag key.
type TagKey = (i64, String);

#[derive(Debug, Default)]
struct Cache {
    tickets: HashMap<String, Known>,
    tags: HashMap<(i64, String), TagDoc>,
}

impl Cache {
    fn put_ticket(&mut self, fp: &str, k: Known) {
        if self.tickets.len() >= CACHE_LIMIT && !self.tickets.contains_key(fp) {
            self.tickets.clear();
        }
        self.tickets.insert(fp.to_owned(), k);
    }

    fn put_tags(&mut self, key: (i64, String), d: TagDoc) {
        if self.tags.len() >= CACHE_LIMIT && !self.tags.contains_key(&key) {
            self.tags.clear();
        }
        self.tags.insert(key, d);
    }
}

/// The token and ids of one batch, kept while it is retried.
#[derive(Clone, Debug)]
struct Plan {
    token: i64,
    /// Per group: its ticket's id, once known.
    ids: Vec<Option<i64>>,
    /// Per group: whether its earliest sample is the ticket's first (`None`: try).
    first: Vec<Option<bool>>,
    /// Per group: ids for its samples (one per sample, allocated once).
    sample_ids: Vec<Vec<i64>>,
}

impl Plan {
    fn new(batch: &Batch) -> Plan {
        let n = batch.groups.len();
        Plan {
            token: random_token(),
            ids: vec![None; n],
            first: vec![None; n],
            sample_ids: vec![Vec::new(); n],
        }
    }
}

/// See [`MongoDbBuilder::with_spool_dir`].
fn default_spool_dir() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("XDG_STATE_HOME")
        .or_else(|| env("HOME").map(|h| h.join(".local").join("state")))
        .map_or_else(
            || std::env::temp_dir().join("taskwire-spool"),
            |d| d.join("taskwire").join("spool"),
        )
}

/// A stable 64-bit hash (FNV-1a), for spool names that are the same in every process.
fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// How long the key of a replayed spool batch is remembered in `meta`.
const SPOOL_MARK_DAYS: i64 = 30;

fn random_token() -> i64 {
    // The same bits as a key, read as signed (BSON has no unsigned 64-bit integer).
    crate::spool::random_key() as i64
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
    fail_after: Option<u8>,
}

type SchemaError = (ErrorKind, String, Option<mongodb::error::Error>);

/// A failed write: what to report.
type Fail = mongodb::error::Error;

fn busy(message: impl Into<String>) -> Fail {
    mongodb::error::Error::custom(Busy(message.into()))
}

/// Marks an error the writer should retry soon (contention between writers).
#[derive(Debug)]
struct Busy(String);

impl Inner {
    async fn ensure_schema(&mut self) -> Result<(), SchemaError> {
        if self.schema_ready {
            return Ok(());
        }
        let fail = |what: &str, e: mongodb::error::Error| {
            (kind_of(&e), format!("{}: {what}", self.target), Some(e))
        };
        let idx = |name: &str, keys: Document, unique: bool| {
            IndexModel::builder()
                .keys(keys)
                .options(
                    IndexOptions::builder()
                        .name(format!("{}{name}", self.names.prefix))
                        .unique(unique.then_some(true))
                        .build(),
                )
                .build()
        };
        let tickets = vec![
            idx("fingerprint", doc! {"fingerprint": 1}, true),
            idx("last_seen", doc! {"last_seen_us": 1, "_id": 1}, false),
            idx("count", doc! {"count": 1, "_id": 1}, false),
            idx("first_seen", doc! {"first_seen_us": 1, "_id": 1}, false),
            idx(
                "status_last_seen",
                doc! {"status": 1, "last_seen_us": 1, "_id": 1},
                false,
            ),
            idx(
                "status_count",
                doc! {"status": 1, "count": 1, "_id": 1},
                false,
            ),
            idx(
                "status_first_seen",
                doc! {"status": 1, "first_seen_us": 1, "_id": 1},
                false,
            ),
        ];
        self.tickets
            .create_indexes(tickets)
            .await
            .map_err(|e| fail("cannot create the tickets' indexes", e))?;
        self.occurrences
            .create_index(idx(
                "occurrences_ticket_time",
                doc! {"ticket": 1, "time_us": 1, "_id": 1},
                false,
            ))
            .await
            .map_err(|e| fail("cannot create the occurrences' index", e))?;
        self.tags
            .create_index(idx("tags_ticket_key", doc! {"ticket": 1, "key": 1}, true))
            .await
            .map_err(|e| fail("cannot create the tags' index", e))?;
        // The schema record and the id counters, created once (several processes may race
        // to: the losers' duplicate key errors are fine).
        for (id, init) in [
            (
                "schema",
                doc! {"version": SCHEMA_VERSION, "created_at": DateTime::now()},
            ),
            ("ticket_id", doc! {"seq": 0_i64}),
            ("occurrence_id", doc! {"seq": 0_i64}),
        ] {
            match self
                .meta
                .update_one(doc! {"_id": id}, doc! {"$setOnInsert": init})
                .upsert(true)
                .await
            {
                Ok(_) => {}
                Err(e) if is_duplicate(&e) => {}
                Err(e) => return Err(fail("cannot create the schema record", e)),
            }
        }
        let meta = self
            .meta
            .find_one(doc! {"_id": "schema"})
            .await
            .map_err(|e| fail("cannot read the schema version", e))?;
        let version = meta.as_ref().and_then(|d| i64_of(d, "version"));
        match version {
            Some(v) if v <= SCHEMA_VERSION => {}
            other => {
                return Err((
                    ErrorKind::InvalidConfig,
                    format!(
                        "{}: ticket schema version {other:?} is not one this version of taskwire \
                         knows (it knows up to {SCHEMA_VERSION})",
                        self.target
                    ),
                    None,
                ))
            }
        }
        self.schema_ready = true;
        Ok(())
    }

    /// `n` new ids from the counter `name`: the last one is returned.
    async fn allocate(&self, name: &str, n: usize) -> mongodb::error::Result<i64> {
        let d = self
            .meta
            .find_one_and_update(doc! {"_id": name}, doc! {"$inc": {"seq": n as i64}})
            .return_document(ReturnDocument::After)
            .await?;
        d.as_ref().and_then(|d| i64_of(d, "seq")).ok_or_else(|| {
            mongodb::error::Error::custom(Busy(format!("counter {name} is missing")))
        })
    }

    /// Sends `ops` as `update` commands of at most [`OPS_PER_COMMAND`]; returns, per op, its
    /// outcome.
    async fn bulk_update(
        &self,
        collection: &str,
        ops: Vec<(Document, usize)>,
    ) -> mongodb::error::Result<Vec<Outcome>> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(ops.len());
        let mut chunk: Vec<Bson> = Vec::new();
        let mut bytes = 0;
        let mut iter = ops.into_iter().peekable();
        while let Some((op, size)) = iter.next() {
            bytes += size;
            chunk.push(Bson::Document(op));
            let full = chunk.len() >= OPS_PER_COMMAND
                || iter
                    .peek()
                    .is_some_and(|(_, s)| bytes + s > BYTES_PER_COMMAND);
            if full || iter.peek().is_none() {
                let ops = std::mem::take(&mut chunk);
                bytes = 0;
                let n = ops.len();
                let mut cmd = doc! {"update": collection, "updates": ops, "ordered": false};
                if let Some(w) = &self.write_concern {
                    cmd.insert("writeConcern", w.clone());
                }
                let reply = self.db.run_command(cmd).await?;
                out.extend(outcomes(&reply, n)?);
            }
        }
        Ok(out)
    }

    async fn write(&mut self, batch: &Batch, plan: &mut Plan) -> mongodb::error::Result<()> {
        self.ensure_schema().await.map_err(|(_, m, e)| match e {
            Some(e) => e,
            None => mongodb::error::Error::custom(Invalid(m)),
        })?;
        self.ticket_ids(batch, plan).await?;
        self.write_tickets(batch, plan).await?;
        self.injected(1)?;
        self.write_samples(batch, plan).await?;
        self.injected(2)?;
        self.write_tags(batch, plan).await?;
        self.injected(3)
    }

    /// The failure a test asked for with [`MongoDb::inject_failure_after`].
    fn injected(&mut self, stage: u8) -> mongodb::error::Result<()> {
        if self.fail_after == Some(stage) {
            self.fail_after = None;
            return Err(mongodb::error::Error::custom(Invalid(format!(
                "failure injected after stage {stage}"
            ))));
        }
        Ok(())
    }

    /// Ids of the batch's tickets: known, looked up, or allocated.
    async fn ticket_ids(&mut self, batch: &Batch, plan: &mut Plan) -> mongodb::error::Result<()> {
        let mut lookup = Vec::new();
        for (i, g) in batch.groups.iter().enumerate() {
            if plan.ids[i].is_some() {
                continue;
            }
            match self.cache.tickets.get(&g.fingerprint) {
                Some(k) => plan.ids[i] = Some(k.id),
                None => lookup.push(g.fingerprint.as_str()),
            }
        }
        if !lookup.is_empty() {
            let mut cursor = self
                .tickets
                .find(doc! {"fingerprint": {"$in": lookup.iter().map(|f| Bson::from(*f)).collect::<Vec<_>>()}})
                .projection(doc! {"_id": 1, "fingerprint": 1, "status": 1, "title": 1})
                .await?;
            while cursor.advance().await? {
                let d: Document = cursor.deserialize_current()?;
                if let (Some(id), Ok(fp)) = (i64_of(&d, "_id"), d.get_str("fingerprint")) {
                    let k = Known {
                        id,
                        open: d.get_str("status") == Ok("open"),
                        titled: d.get_str("title").is_ok_and(|t| !t.is_empty()),
                        has_first: false,
                    };
                    self.cache.put_ticket(fp, k);
                }
            }
            for (i, g) in batch.groups.iter().enumerate() {
                if plan.ids[i].is_none() {
                    plan.ids[i] = self.cache.tickets.get(&g.fingerprint).map(|k| k.id);
                }
            }
        }
        let missing = plan.ids.iter().filter(|i| i.is_none()).count();
        if missing > 0 {
            let last = self.allocate("ticket_id", missing).await?;
            let first = last - missing as i64 + 1;
            let free = plan.ids.iter_mut().filter(|i| i.is_none());
            for (id, next) in free.zip(first..) {
                *id = Some(next);
            }
        }
        Ok(())
    }

    async fn write_tickets(
        &mut self,
        batch: &Batch,
        plan: &mut Plan,
    ) -> mongodb::error::Result<()> {
        let token = plan.token;
        let mut ops = Vec::with_capacity(batch.groups.len());
        let mut owner = Vec::with_capacity(batch.groups.len());
        let mut titles = Vec::new();
        let mut slow = Vec::new();
        let keep = batch.samples_per_ticket;
        for (i, g) in batch.groups.iter().enumerate() {
            let id = plan.ids[i].unwrap_or_default();
            let known = self.cache.tickets.get(&g.fingerprint).copied();
            if plan.first[i].is_none() && known.is_some_and(|k| k.has_first && k.id == id) {
                plan.first[i] = Some(false);
            }
            if known.is_some_and(|k| !k.open && k.id == id) {
                slow.push(i);
                continue;
            }
            let more = normals(g, plan.first[i], keep);
            ops.push((
                fast_ticket_op(g, id, token, more),
                512 + g.fingerprint.len() * 2,
            ));
            owner.push(i);
            if let Some(t) = &g.title {
                if !known.is_some_and(|k| k.titled) {
                    // Fills an empty title (a new ticket gets it on insert).
                    titles.push((
                        doc! {"q": {"_id": id, "title": ""}, "u": {"$set": {"title": t}}},
                        64 + t.len(),
                    ));
                }
            }
        }
        // Only upserts here: each reports its own outcome.
        let outcomes = self.bulk_update(&self.names.tickets, ops).await?;
        self.bulk_update(&self.names.tickets, titles).await?;
        for (o, i) in outcomes.into_iter().zip(owner) {
            let g = &batch.groups[i];
            let id = plan.ids[i].unwrap_or_default();
            match o {
                Outcome::Upserted => self.cache.put_ticket(
                    &g.fingerprint,
                    Known {
                        id,
                        open: true,
                        titled: g.title.is_some(),
                        has_first: false,
                    },
                ),
                Outcome::Done => {
                    let prev = self.cache.tickets.get(&g.fingerprint).copied();
                    self.cache.put_ticket(
                        &g.fingerprint,
                        Known {
                            id,
                            open: true,
                            titled: prev.is_some_and(|k| k.titled) || g.title.is_some(),
                            has_first: prev.is_some_and(|k| k.has_first && k.id == id),
                        },
                    );
                }
                Outcome::Conflict => slow.push(i),
            }
        }
        for i in slow {
            let more = normals(&batch.groups[i], plan.first[i], keep);
            self.slow_ticket(&batch.groups[i], i, plan, more).await?;
        }
        Ok(())
    }

    /// A ticket that is not open (or was made by another writer a moment ago): read it, apply
    /// the status rules, write it back if no one changed its status meanwhile.
    async fn slow_ticket(
        &mut self,
        g: &GroupUpdate,
        i: usize,
        plan: &mut Plan,
        samples: i64,
    ) -> mongodb::error::Result<()> {
        let token = plan.token;
        for _ in 0..CAS_ATTEMPTS {
            let Some(d) = self
                .tickets
                .find_one(doc! {"fingerprint": &g.fingerprint})
                .await?
            else {
                // Deleted meanwhile: create it again.
                let id = plan.ids[i].unwrap_or_default();
                let op = fast_ticket_op(g, id, token, samples);
                let q = op.get_document("q").cloned().unwrap_or_default();
                let u = op.get_document("u").cloned().unwrap_or_default();
                match self.tickets.update_one(q, u).upsert(true).await {
                    Ok(_) => {
                        self.cache.tickets.remove(&g.fingerprint);
                        return Ok(());
                    }
                    Err(e) if is_duplicate(&e) => continue,
                    Err(e) => return Err(e),
                }
            };
            let Some(id) = i64_of(&d, "_id") else {
                return Err(mongodb::error::Error::custom(Invalid(format!(
                    "ticket {} has no integer _id",
                    g.fingerprint
                ))));
            };
            plan.ids[i] = Some(id);
            let titled = d.get_str("title").is_ok_and(|t| !t.is_empty());
            if has_token(&d, token) {
                self.cache.put_ticket(
                    &g.fingerprint,
                    Known {
                        id,
                        open: d.get_str("status") == Ok("open"),
                        titled,
                        has_first: false,
                    },
                );
                return Ok(());
            }
            let rev = i64_of(&d, "rev").unwrap_or(0);
            let mut state = state_of(&d);
            state.apply(g);
            let mut set = doc! {"status": state.status.as_str()};
            let mut unset = Document::new();
            put_time(&mut set, &mut unset, "regressed_at", state.regressed_at);
            put_time(&mut set, &mut unset, "mute_until", state.mute_until);
            match state.mute_until_count {
                Some(c) => set.insert("mute_until_count", to_i64(c)),
                None => unset.insert("mute_until_count", ""),
            };
            if !titled {
                if let Some(t) = &g.title {
                    set.insert("title", t);
                }
            }
            let mut u = doc! {
                "$inc": {"count": to_i64(g.count), "rev": 1_i64, "samples": samples},
                "$min": {"first_seen_us": g.first_seen.as_micros(), "first_seen": date(g.first_seen)},
                "$max": {"last_seen_us": g.last_seen.as_micros(), "last_seen": date(g.last_seen)},
                "$push": {"ops": {"$each": [token], "$slice": -TOKENS_KEPT}},
                "$set": set,
            };
            if !unset.is_empty() {
                u.insert("$unset", unset);
            }
            let r = self
                .tickets
                .update_one(doc! {"_id": id, "rev": rev, "ops": {"$ne": token}}, u)
                .await?;
            if r.matched_count == 1 {
                self.cache.put_ticket(
                    &g.fingerprint,
                    Known {
                        id,
                        open: state.status == Status::Open,
                        titled: titled || g.title.is_some(),
                        has_first: false,
                    },
                );
                return Ok(());
            }
        }
        Err(busy(format!(
            "ticket {} changed under {CAS_ATTEMPTS} attempts to update it",
            g.fingerprint
        )))
    }

    async fn write_samples(
        &mut self,
        batch: &Batch,
        plan: &mut Plan,
    ) -> mongodb::error::Result<()> {
        let keep = batch.samples_per_ticket;
        // Ids for every sample of a group that has none yet (allocated once per batch).
        let need: usize = batch
            .groups
            .iter()
            .enumerate()
            .filter(|(i, g)| plan.sample_ids[*i].is_empty() && !g.samples.is_empty())
            .map(|(_, g)| g.samples.len())
            .sum();
        if need > 0 {
            let last = self.allocate("occurrence_id", need).await?;
            let mut next = last - need as i64 + 1;
            for (i, g) in batch.groups.iter().enumerate() {
                if plan.sample_ids[i].is_empty() && !g.samples.is_empty() {
                    plan.sample_ids[i] = (0..g.samples.len() as i64).map(|k| next + k).collect();
                    next += g.samples.len() as i64;
                }
            }
        }
        let mut docs = Vec::new();
        // Per document: (group, sample index, tried as the first).
        let mut what = Vec::new();
        for (i, g) in batch.groups.iter().enumerate() {
            if g.samples.is_empty() {
                continue;
            }
            let id = plan.ids[i].unwrap_or_default();
            let n = g.samples.len();
            for (j, s) in g.samples.iter().enumerate() {
                let first = j == 0 && plan.first[i] != Some(false);
                if !first && j + keep < n {
                    continue;
                }
                let oid = if first { -id } else { plan.sample_ids[i][j] };
                docs.push(sample_doc(oid, id, first, plan.token, s));
                what.push((i, j, first));
            }
        }
        // Per ticket with new ordinary samples, those its ticket update did not count yet (a
        // sample that lost the race to be the first).
        let mut touched: HashMap<i64, i64> = HashMap::new();
        let mut taken = Vec::new();
        for (dup, (i, j, first)) in self.insert(docs).await?.into_iter().zip(&what) {
            let id = plan.ids[*i].unwrap_or_default();
            if !*first {
                touched.entry(id).or_default();
                continue;
            }
            if !dup {
                plan.first[*i] = Some(true);
            } else {
                // Ours (a replay), or another writer's first sample.
                let ours = self
                    .occurrences
                    .find_one(doc! {"_id": -id})
                    .projection(doc! {"op": 1})
                    .await?
                    .is_some_and(|d| i64_of(&d, "op") == Some(plan.token));
                plan.first[*i] = Some(ours);
                if !ours {
                    taken.push((*i, *j));
                }
            }
            let g = &batch.groups[*i];
            if let Some(k) = self.cache.tickets.get_mut(&g.fingerprint) {
                k.has_first = k.id == id;
            }
        }
        // Samples that lost the race to be first are ordinary ones, if among the newest N.
        let mut docs = Vec::new();
        let mut owners = Vec::new();
        for (i, j) in taken {
            let g = &batch.groups[i];
            if j + keep >= g.samples.len() {
                let id = plan.ids[i].unwrap_or_default();
                docs.push(sample_doc(
                    plan.sample_ids[i][j],
                    id,
                    false,
                    plan.token,
                    &g.samples[j],
                ));
                owners.push(id);
            }
        }
        for (dup, id) in self.insert(docs).await?.into_iter().zip(owners) {
            *touched.entry(id).or_default() += i64::from(!dup);
        }
        if !touched.is_empty() {
            self.count_and_prune(touched, keep).await?;
        }
        Ok(())
    }

    /// Adds the samples the ticket updates did not count to the tickets' `samples` counters,
    /// and prunes the tickets whose counter exceeds `keep`. The counter only decides when to
    /// look: it grows (with the ticket's update) before the samples are inserted and shrinks by
    /// what was deleted, so it never hides an excess (after a failed attempt it may overstate,
    /// costing a look).
    async fn count_and_prune(
        &self,
        touched: HashMap<i64, i64>,
        keep: usize,
    ) -> mongodb::error::Result<()> {
        let incs = touched
            .iter()
            .filter(|(_, k)| **k > 0)
            .map(|(id, k)| (doc! {"q": {"_id": id}, "u": {"$inc": {"samples": k}}}, 64))
            .collect();
        self.bulk_update(&self.names.tickets, incs).await?;
        let ids: Vec<Bson> = touched.keys().map(|i| Bson::Int64(*i)).collect();
        let mut over = Vec::new();
        let mut cursor = self
            .tickets
            .find(doc! {"_id": {"$in": ids}, "samples": {"$gt": keep as i64}})
            .projection(doc! {"_id": 1})
            .await?;
        while cursor.advance().await? {
            if let Some(id) = i64_of(&cursor.deserialize_current()?, "_id") {
                over.push(id);
            }
        }
        if over.is_empty() {
            return Ok(());
        }
        let deleted = self.prune(over, keep).await?;
        let decs = deleted
            .into_iter()
            .filter(|(_, d)| *d > 0)
            .map(|(id, d)| (doc! {"q": {"_id": id}, "u": {"$inc": {"samples": -d}}}, 64))
            .collect();
        self.bulk_update(&self.names.tickets, decs).await?;
        Ok(())
    }

    /// Inserts `docs` (unordered); per document, whether it was there already.
    async fn insert(&self, docs: Vec<Document>) -> mongodb::error::Result<Vec<bool>> {
        let n = docs.len();
        let mut dup = vec![false; n];
        if n == 0 {
            return Ok(dup);
        }
        match self.occurrences.insert_many(docs).ordered(false).await {
            Ok(_) => Ok(dup),
            Err(e) => {
                let mongodb::error::ErrorKind::InsertMany(m) = &*e.kind else {
                    return Err(e);
                };
                if m.write_concern_error.is_some() {
                    return Err(e);
                }
                for w in m.write_errors.iter().flatten() {
                    if w.code != DUPLICATE_KEY || w.index >= n {
                        return Err(e);
                    }
                    dup[w.index] = true;
                }
                Ok(dup)
            }
        }
    }

    /// Deletes the oldest samples beyond `keep` (never the first) of `tickets`; returns how
    /// many each lost.
    async fn prune(
        &self,
        tickets: Vec<i64>,
        keep: usize,
    ) -> mongodb::error::Result<Vec<(i64, i64)>> {
        let mut by_ticket: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
        let ids: Vec<Bson> = tickets.iter().map(|i| Bson::Int64(*i)).collect();
        let mut cursor = self
            .occurrences
            .find(doc! {"ticket": {"$in": ids}, "first": false})
            .projection(doc! {"_id": 1, "ticket": 1, "time_us": 1})
            .await?;
        while cursor.advance().await? {
            let d: Document = cursor.deserialize_current()?;
            if let (Some(id), Some(t), Some(time)) = (
                i64_of(&d, "_id"),
                i64_of(&d, "ticket"),
                i64_of(&d, "time_us"),
            ) {
                by_ticket.entry(t).or_default().push((time, id));
            }
        }
        // One delete per ticket, all at once: each says how many it removed (another writer
        // may have removed some of the same samples first).
        let deletes = by_ticket
            .into_iter()
            .filter(|(_, v)| v.len() > keep)
            .map(|(t, mut v)| {
                v.sort_unstable();
                let n = v.len() - keep;
                let excess: Vec<Bson> = v
                    .into_iter()
                    .take(n)
                    .map(|(_, id)| Bson::Int64(id))
                    .collect();
                async move {
                    let r = self
                        .occurrences
                        .delete_many(doc! {"ticket": t, "_id": {"$in": excess}})
                        .await?;
                    Ok::<_, mongodb::error::Error>((t, r.deleted_count as i64))
                }
            });
        futures_util::future::join_all(deletes)
            .await
            .into_iter()
            .collect()
    }

    async fn write_tags(&mut self, batch: &Batch, plan: &Plan) -> mongodb::error::Result<()> {
        let token = plan.token;
        let max = batch.max_tag_values;
        // Per (ticket, key), the batch's values in order.
        let mut work: Vec<(TagKey, Vec<(String, u64)>)> = Vec::new();
        let mut at: HashMap<(i64, String), usize> = HashMap::new();
        for (i, g) in batch.groups.iter().enumerate() {
            let id = plan.ids[i].unwrap_or_default();
            for t in &g.tags {
                let key = (id, t.key.clone());
                let w = *at.entry(key.clone()).or_insert_with(|| {
                    work.push((key, Vec::new()));
                    work.len() - 1
                });
                let vals = &mut work[w].1;
                match vals.iter_mut().find(|(v, _)| *v == t.value) {
                    Some((_, c)) => *c += t.count,
                    None => vals.push((t.value.clone(), t.count)),
                }
            }
        }
        if work.is_empty() {
            return Ok(());
        }
        let mut ops = Vec::with_capacity(work.len());
        let mut planned = Vec::with_capacity(work.len());
        for (key, vals) in &work {
            let known = self.cache.tags.get(key);
            let (op, after) = tag_op(key, known, vals, max, token, true);
            let size = 256 + vals.iter().map(|(v, _)| v.len() + 32).sum::<usize>();
            ops.push((op, size));
            planned.push(after);
        }
        let outcomes = self.bulk_update(&self.names.tags, ops).await?;
        for ((o, after), (key, vals)) in outcomes.into_iter().zip(planned).zip(&work) {
            match o {
                Outcome::Done | Outcome::Upserted => self.cache.put_tags(key.clone(), after),
                Outcome::Conflict => self.slow_tag(key, vals, max, token).await?,
            }
        }
        Ok(())
    }

    /// A tag document that changed since it was cached (or a replay): read it, then update it
    /// conditionally on its number of values.
    async fn slow_tag(
        &mut self,
        key: &(i64, String),
        vals: &[(String, u64)],
        max: usize,
        token: i64,
    ) -> mongodb::error::Result<()> {
        self.cache.tags.remove(key);
        for _ in 0..CAS_ATTEMPTS {
            let filter = doc! {"ticket": key.0, "key": &key.1};
            let d = self.tags.find_one(filter).await?;
            let known = d.as_ref().map(tag_doc);
            if d.as_ref().is_some_and(|d| has_token(d, token)) {
                if let Some(k) = known {
                    self.cache.put_tags(key.clone(), k);
                }
                return Ok(());
            }
            let (op, after) = tag_op(key, known.as_ref(), vals, max, token, false);
            let q = op.get_document("q").cloned().unwrap_or_default();
            let u = op.get_document("u").cloned().unwrap_or_default();
            match self.tags.update_one(q, u).upsert(known.is_none()).await {
                Ok(r) if r.matched_count == 1 || r.upserted_id.is_some() => {
                    self.cache.put_tags(key.clone(), after);
                    return Ok(());
                }
                Ok(_) => {}
                Err(e) if is_duplicate(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Err(busy(format!(
            "tags {} of ticket {} changed under {CAS_ATTEMPTS} attempts to update them",
            key.1, key.0
        )))
    }
}

/// What happened to one operation of a bulk update.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// Matched (and applied).
    Done,
    /// Inserted.
    Upserted,
    /// Its filter did not match and its insert hit a unique index, or (not upserting) it
    /// matched nothing.
    Conflict,
}

/// Reads an `update` command's reply: per op, what happened.
///
/// Upserting ops report themselves (in `upserted` or as a duplicate key error). Ops that do not
/// upsert only show in the total `n`: when it falls short, all of them are reported as
/// conflicts (and redone conditionally, which is safe since every op carries its token).
fn outcomes(reply: &Document, n: usize) -> mongodb::error::Result<Vec<Outcome>> {
    let mut out = vec![Outcome::Done; n];
    if let Ok(wce) = reply.get_document("writeConcernError") {
        return Err(mongodb::error::Error::custom(Invalid(format!(
            "write concern error: {wce}"
        ))));
    }
    let mut errors = 0;
    if let Ok(errs) = reply.get_array("writeErrors") {
        for e in errs.iter().filter_map(Bson::as_document) {
            let index = i64_of(e, "index").unwrap_or(-1);
            let code = i64_of(e, "code").unwrap_or(0);
            if code != i64::from(DUPLICATE_KEY) || index < 0 || index as usize >= n {
                return Err(mongodb::error::Error::custom(Invalid(format!(
                    "write error: {e}"
                ))));
            }
            out[index as usize] = Outcome::Conflict;
            errors += 1;
        }
    }
    if let Ok(ups) = reply.get_array("upserted") {
        for u in ups.iter().filter_map(Bson::as_document) {
            if let Some(i) = i64_of(u, "index").filter(|i| *i >= 0 && (*i as usize) < n) {
                out[i as usize] = Outcome::Upserted;
            }
        }
    }
    let matched = i64_of(reply, "n").unwrap_or(0);
    if matched < (n - errors) as i64 {
        // Some op that does not upsert matched nothing; which one is not said.
        for o in out.iter_mut().filter(|o| **o == Outcome::Done) {
            *o = Outcome::Conflict;
        }
    }
    Ok(out)
}

/// The upsert of an open (or new) ticket; see the module docs.
/// How many of `g`'s samples are stored as ordinary ones (not the first): the newest `keep`,
/// less the earliest when it is tried as the ticket's first.
fn normals(g: &GroupUpdate, first: Option<bool>, keep: usize) -> i64 {
    let n = g.samples.len();
    let skip_first = usize::from(n > 0 && first != Some(false));
    let newest = n.min(keep);
    // The earliest is among the newest `keep` only when all of them are.
    (newest - usize::from(skip_first == 1 && keep >= n)) as i64
}

fn fast_ticket_op(g: &GroupUpdate, id: i64, token: i64, samples: i64) -> Document {
    let s = &g.seed;
    let mut insert = doc! {
        "level": s.level.as_str(),
        "target": &s.target,
        "title": g.title.as_deref().unwrap_or(""),
        "rev": 0_i64,
    };
    if let Some(v) = &s.service {
        insert.insert("service", v);
    }
    if let Some(v) = &s.module {
        insert.insert("module", v);
    }
    if let Some(v) = &s.file {
        insert.insert("file", v);
    }
    if let Some(v) = s.line {
        insert.insert("line", i64::from(v));
    }
    doc! {
        "q": {"_id": id, "fingerprint": &g.fingerprint, "status": "open", "ops": {"$ne": token}},
        "u": {
            "$inc": {"count": to_i64(g.count), "samples": samples},
            "$min": {"first_seen_us": g.first_seen.as_micros(), "first_seen": date(g.first_seen)},
            "$max": {"last_seen_us": g.last_seen.as_micros(), "last_seen": date(g.last_seen)},
            "$push": {"ops": {"$each": [token], "$slice": -TOKENS_KEPT}},
            "$setOnInsert": insert,
        },
        "upsert": true,
    }
}

/// The update of one tag document and what it holds afterwards. `known` is the document as
/// cached or read (`None`: assumed missing, created by an upsert conditional on `n: 0`).
/// `cached`: indices come from the cache and may be stale, so only value additions are
/// conditional; otherwise (just read) the whole update is conditional on `n`.
fn tag_op(
    key: &(i64, String),
    known: Option<&TagDoc>,
    vals: &[(String, u64)],
    max: usize,
    token: i64,
    cached: bool,
) -> (Document, TagDoc) {
    let mut after = known.cloned().unwrap_or_default();
    let before = after.index.len();
    let mut inc = Document::new();
    let mut push = Vec::new();
    let mut other: u64 = 0;
    for (v, c) in vals {
        if v == OTHER_TAG_VALUE {
            other += c;
        } else if let Some(i) = after.index.get(v) {
            if *i < before {
                let path = format!("vals.{i}.c");
                let prev = i64_of(&inc, &path).unwrap_or(0);
                inc.insert(path, prev + to_i64(*c));
            } else if let Some(Bson::Document(d)) = push.get_mut(*i - before) {
                let prev = i64_of(d, "c").unwrap_or(0);
                d.insert("c", prev + to_i64(*c));
            }
        } else if after.index.len() < max {
            after.index.insert(v.clone(), after.index.len());
            push.push(Bson::Document(doc! {"v": v, "c": to_i64(*c)}));
        } else {
            other += c;
        }
    }
    if other > 0 {
        inc.insert("other", to_i64(other));
    }
    let added = push.len();
    if added > 0 {
        inc.insert("n", added as i64);
    }
    let mut q = doc! {"ticket": key.0, "key": &key.1, "ops": {"$ne": token}};
    if known.is_none() || added > 0 || !cached {
        q.insert("n", before as i64);
    }
    let mut u = doc! {"$push": {"ops": {"$each": [token], "$slice": -TOKENS_KEPT}}};
    if added > 0 {
        if let Ok(p) = u.get_document_mut("$push") {
            p.insert("vals", doc! {"$each": push});
        }
    }
    if known.is_none() {
        u.insert("$setOnInsert", doc! {"other": 0_i64, "vals": []});
        // `vals` is pushed to and `other` may be incremented: keep $setOnInsert off them.
        if let Ok(s) = u.get_document_mut("$setOnInsert") {
            if added > 0 {
                s.remove("vals");
            }
            if other > 0 {
                s.remove("other");
            }
        }
    }
    if !inc.is_empty() {
        u.insert("$inc", inc);
    }
    (doc! {"q": q, "u": u, "upsert": known.is_none()}, after)
}

fn tag_doc(d: &Document) -> TagDoc {
    let mut t = TagDoc::default();
    if let Ok(vals) = d.get_array("vals") {
        for (i, v) in vals.iter().enumerate() {
            if let Some(s) = v.as_document().and_then(|v| v.get_str("v").ok()) {
                t.index.insert(s.to_owned(), i);
            }
        }
    }
    t
}

fn has_token(d: &Document, token: i64) -> bool {
    d.get_array("ops")
        .is_ok_and(|a| a.iter().any(|b| bson_i64(b) == Some(token)))
}

fn is_duplicate(e: &mongodb::error::Error) -> bool {
    match &*e.kind {
        mongodb::error::ErrorKind::Write(mongodb::error::WriteFailure::WriteError(w)) => {
            w.code == DUPLICATE_KEY
        }
        mongodb::error::ErrorKind::Command(c) => c.code == DUPLICATE_KEY,
        _ => false,
    }
}

fn sample_doc(id: i64, ticket: i64, first: bool, token: i64, s: &Sample) -> Document {
    let mut d = doc! {
        "_id": id,
        "ticket": ticket,
        "first": first,
        "time_us": s.time.as_micros(),
        "time": date(s.time),
        "message": &s.message,
        "fields": json_to_bson(&s.fields),
        "spans": json_to_bson(&s.spans),
        "host": &s.host,
        "pid": i64::from(s.pid),
        "thread": &s.thread,
        "errors": json_to_bson(&s.errors),
    };
    if first {
        d.insert("op", token);
    }
    for (k, v) in [
        ("level", s.level.as_ref().map(Level::as_str)),
        ("trace_id", s.trace_id.as_deref()),
        ("span_id", s.span_id.as_deref()),
        ("service", s.service.as_deref()),
        ("release", s.release.as_deref()),
    ] {
        if let Some(v) = v {
            d.insert(k, v);
        }
    }
    d
}

fn occurrence_of(d: &Document) -> Occurrence {
    let mut s = Sample::new(Timestamp::from_micros(i64_of(d, "time_us").unwrap_or(0)));
    s.level = d.get_str("level").ok().and_then(|l| l.parse().ok());
    s.message = str_of(d, "message");
    s.fields = d.get("fields").map_or_else(|| "{}".into(), bson_to_json);
    s.spans = d.get("spans").map_or_else(|| "[]".into(), bson_to_json);
    s.errors = d.get("errors").map_or_else(|| "[]".into(), bson_to_json);
    s.trace_id = opt_str(d, "trace_id");
    s.span_id = opt_str(d, "span_id");
    s.service = opt_str(d, "service");
    s.release = opt_str(d, "release");
    s.host = str_of(d, "host");
    s.pid = i64_of(d, "pid")
        .and_then(|p| u32::try_from(p).ok())
        .unwrap_or(0);
    s.thread = str_of(d, "thread");
    Occurrence::new(
        i64_of(d, "_id").unwrap_or(0),
        TicketId(i64_of(d, "ticket").unwrap_or(0)),
        d.get_bool("first").unwrap_or(false),
        s,
    )
}

fn state_of(d: &Document) -> State {
    let t = |k: &str| i64_of(d, k).map(Timestamp::from_micros);
    State {
        status: d
            .get_str("status")
            .ok()
            .and_then(Status::parse)
            .unwrap_or(Status::Open),
        count: i64_of(d, "count").unwrap_or(0).max(0) as u64,
        resolved_at: t("resolved_at_us"),
        resolved_in_release: opt_str(d, "resolved_in_release"),
        regressed_at: t("regressed_at_us"),
        mute_until: t("mute_until_us"),
        mute_until_count: i64_of(d, "mute_until_count").map(|c| c.max(0) as u64),
    }
}

fn ticket_of(d: &Document) -> Ticket {
    let state = state_of(d);
    let level = d
        .get_str("level")
        .ok()
        .and_then(|l| l.parse().ok())
        .unwrap_or(Level::ERROR);
    let mut t = Ticket::new(
        TicketId(i64_of(d, "_id").unwrap_or(0)),
        str_of(d, "fingerprint"),
        level,
    );
    t.service = opt_str(d, "service");
    t.target = str_of(d, "target");
    t.module = opt_str(d, "module");
    t.file = opt_str(d, "file");
    t.line = i64_of(d, "line").and_then(|l| u32::try_from(l).ok());
    t.title = str_of(d, "title");
    t.first_seen = Timestamp::from_micros(i64_of(d, "first_seen_us").unwrap_or(0));
    t.last_seen = Timestamp::from_micros(i64_of(d, "last_seen_us").unwrap_or(0));
    t.mute = state.mute();
    t.count = state.count;
    t.status = state.status;
    t.resolved_at = state.resolved_at;
    t.resolved_in_release = state.resolved_in_release;
    t.regressed_at = state.regressed_at;
    t
}

fn str_of(d: &Document, k: &str) -> String {
    d.get_str(k).unwrap_or_default().to_owned()
}

fn opt_str(d: &Document, k: &str) -> Option<String> {
    d.get_str(k).ok().map(str::to_owned)
}

fn bson_i64(b: &Bson) -> Option<i64> {
    match b {
        Bson::Int64(v) => Some(*v),
        Bson::Int32(v) => Some(i64::from(*v)),
        Bson::Double(v) if v.fract() == 0.0 => Some(*v as i64),
        _ => None,
    }
}

fn i64_of(d: &Document, k: &str) -> Option<i64> {
    d.get(k).and_then(bson_i64)
}

fn date(t: Timestamp) -> DateTime {
    DateTime::from_millis(t.as_micros().div_euclid(1000))
}

/// Sets `{name}_us` and `{name}` (a date) to `t`, or unsets both.
fn put_time(set: &mut Document, unset: &mut Document, name: &str, t: Option<Timestamp>) {
    match t {
        Some(t) => {
            set.insert(format!("{name}_us"), t.as_micros());
            set.insert(name, date(t));
        }
        None => {
            unset.insert(format!("{name}_us"), "");
            unset.insert(name, "");
        }
    }
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The connection string without its password.
fn redact(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_owned();
    };
    let hosts_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..hosts_end].rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{}", &rest[at + 1..])
        }
        None => uri.to_owned(),
    }
}

/// A failure that is not the driver's.
#[derive(Debug)]
struct Invalid(String);

/// Maps a driver failure to what the writer does about it.
fn kind_of(e: &mongodb::error::Error) -> ErrorKind {
    use mongodb::error::ErrorKind as K;
    match &*e.kind {
        K::ServerSelection { .. }
        | K::Io(_)
        | K::ConnectionPoolCleared { .. }
        | K::DnsResolve { .. }
        | K::Authentication { .. }
        | K::Shutdown => ErrorKind::Unavailable,
        K::InvalidArgument { .. } | K::InvalidTlsConfig { .. } => ErrorKind::InvalidConfig,
        K::Command(c) => match c.code {
            // WriteConflict, LockTimeout, ExceededTimeLimit, MaxTimeMSExpired
            112 | 24 | 262 | 50 => ErrorKind::Busy,
            // ShutdownInProgress, InterruptedAtShutdown, NotWritablePrimary and friends,
            // HostUnreachable, HostNotFound, NetworkTimeout, PrimarySteppedDown
            91 | 11600 | 11602 | 10107 | 13435 | 13436 | 189 | 6 | 7 | 89 | 9001 => {
                ErrorKind::Unavailable
            }
            // Unauthorized, AuthenticationFailed
            13 | 18 => ErrorKind::Unavailable,
            _ => ErrorKind::Other,
        },
        K::Custom(c) if c.is::<Busy>() => ErrorKind::Busy,
        _ if e.contains_label("RetryableWriteError") => ErrorKind::Unavailable,
        _ => ErrorKind::Other,
    }
}

fn write_err(e: mongodb::error::Error, target: &str) -> WriteError {
    WriteError::new(kind_of(&e), format!("{target}: {}", message_of(&e))).with_source(e)
}

fn query_err(e: mongodb::error::Error, target: &str) -> QueryError {
    QueryError::new(kind_of(&e), format!("{target}: {}", message_of(&e))).with_source(e)
}

fn update_err(e: mongodb::error::Error, target: &str) -> UpdateError {
    UpdateError::new(kind_of(&e), format!("{target}: {}", message_of(&e))).with_source(e)
}

fn message_of(e: &mongodb::error::Error) -> String {
    match &*e.kind {
        mongodb::error::ErrorKind::Custom(c) => {
            if let Some(b) = c.downcast_ref::<Busy>() {
                b.0.clone()
            } else if let Some(i) = c.downcast_ref::<Invalid>() {
                i.0.clone()
            } else {
                e.to_string()
            }
        }
        mongodb::error::ErrorKind::ServerSelection { .. } => {
            "no MongoDB server available (server selection timed out)".into()
        }
        mongodb::error::ErrorKind::Io(_)
        | mongodb::error::ErrorKind::ConnectionPoolCleared { .. } => {
            "the connection to MongoDB failed".into()
        }
        mongodb::error::ErrorKind::Authentication { .. } => "MongoDB authentication failed".into(),
        mongodb::error::ErrorKind::Command(c) => {
            format!(
                "MongoDB refused a command: {} (code {})",
                c.code_name, c.code
            )
        }
        _ => "a MongoDB operation failed".into(),
    }
}

impl MongoDb {
    fn filter(query: &ListQuery) -> Document {
        let mut f = Document::new();
        if let Some(s) = query.status {
            f.insert("status", s.as_str());
        }
        if let Some(t) = query.since {
            f.insert("last_seen_us", doc! {"$gte": t.as_micros()});
        }
        f
    }

    /// `set`/`unset` on ticket `id`, bumping its status revision. `false` when there is none.
    fn change(
        &mut self,
        id: TicketId,
        set: Document,
        unset: Document,
    ) -> Result<bool, UpdateError> {
        let mut u = doc! {"$set": set, "$inc": {"rev": 1_i64}};
        if !unset.is_empty() {
            u.insert("$unset", unset);
        }
        let r = self
            .run(async |i| i.tickets.update_one(doc! {"_id": id.0}, u).await)
            .map_err(|e| update_err(e, self.target()))?;
        if let Some(i) = self.inner.as_mut() {
            i.cache.tickets.clear();
        }
        Ok(r.matched_count > 0)
    }
}

impl MongoDb {
    /// Writes `batch` with `plan` (reused from a failed attempt of the same batch and token).
    fn write_planned(&mut self, batch: &Batch, token: Option<i64>) -> Result<(), WriteError> {
        let mut plan = match self.retry.take() {
            Some((b, p)) if b == *batch && token.is_none_or(|t| t == p.token) => p,
            _ => {
                let mut p = Plan::new(batch);
                if let Some(t) = token {
                    p.token = t;
                }
                p
            }
        };
        let result = match &mut self.inner {
            Some(i) => self.rt.block_on(i.write(batch, &mut plan)),
            None => Err(mongodb::error::Error::custom(Invalid(
                "the store is closed".into(),
            ))),
        };
        result.map_err(|e| {
            self.retry = Some((batch.clone(), plan));
            if let Some(i) = self.inner.as_mut() {
                // What is cached may be what failed (a deleted ticket, a stale tag index).
                i.cache = Cache::default();
            }
            write_err(e, self.target())
        })
    }
}

impl TicketWriter for MongoDb {
    fn write(&mut self, batch: &Batch) -> Result<(), WriteError> {
        if batch.groups.is_empty() {
            return Ok(());
        }
        self.write_planned(batch, None)
    }

    /// `{dir}/mongodb-{hash of hosts, database, prefix}-{database}-{prefix}spool`, in the
    /// folder of [`MongoDbBuilder::with_spool_dir`].
    fn spool_path(&self) -> Option<PathBuf> {
        self.spool.clone()
    }

    fn pending_key(&self, batch: &Batch) -> Option<u64> {
        match &self.retry {
            Some((b, p)) if b == batch => Some(p.token as u64),
            _ => None,
        }
    }

    /// The batch is written with `key` as its token, so a repeat skips every document it
    /// already reached; then `{_id: "spool:{key}"}` is recorded in `meta`. `Ok(false)` when
    /// that record exists.
    fn write_once(&mut self, batch: &Batch, key: u64) -> Result<bool, WriteError> {
        let mark = format!("spool:{key:016x}");
        let target = self.target().to_owned();
        let seen = self
            .run(async |i| i.meta.find_one(doc! {"_id": &mark}).await)
            .map_err(|e| write_err(e, &target))?;
        if seen.is_some() {
            return Ok(false);
        }
        if !batch.groups.is_empty() {
            self.write_planned(batch, Some(key as i64))?;
        }
        let now = Timestamp::now();
        let cutoff = now
            .as_micros()
            .saturating_sub(SPOOL_MARK_DAYS * 86_400 * 1_000_000);
        self.run(async |i| {
            let marked = i
                .meta
                .update_one(
                    doc! {"_id": &mark},
                    doc! {"$setOnInsert": {"at_us": now.as_micros(), "at": date(now)}},
                )
                .upsert(true)
                .await;
            match marked {
                // Another writer replaying the same file marked it a moment before.
                Err(e) if !is_duplicate(&e) => return Err(e),
                _ => {}
            }
            i.meta
                .delete_many(doc! {"_id": {"$regex": "^spool:"}, "at_us": {"$lt": cutoff}})
                .await
        })
        .map_err(|e| write_err(e, &target))?;
        Ok(true)
    }
}

impl TicketReader for MongoDb {
    fn list(&self, query: &ListQuery) -> Result<Vec<Ticket>, QueryError> {
        let sort = match query.sort {
            Sort::LastSeen => doc! {"last_seen_us": -1, "_id": -1},
            Sort::Count => doc! {"count": -1, "_id": -1},
            Sort::FirstSeen => doc! {"first_seen_us": -1, "_id": -1},
        };
        let filter = MongoDb::filter(query);
        self.run(async |i| {
            let mut cursor = i
                .tickets
                .find(filter)
                .sort(sort)
                .skip(query.offset)
                .limit(i64::from(query.limit))
                .projection(doc! {"ops": 0})
                .await?;
            let mut out = Vec::new();
            while cursor.advance().await? {
                out.push(ticket_of(&cursor.deserialize_current()?));
            }
            Ok(out)
        })
        .map_err(|e| query_err(e, self.target()))
    }

    fn count(&self, query: &ListQuery) -> Result<u64, QueryError> {
        let filter = MongoDb::filter(query);
        self.run(async |i| i.tickets.count_documents(filter).await)
            .map_err(|e| query_err(e, self.target()))
    }

    fn get(&self, id: TicketId) -> Result<Option<Ticket>, QueryError> {
        self.run(async |i| i.tickets.find_one(doc! {"_id": id.0}).await)
            .map(|d| d.as_ref().map(ticket_of))
            .map_err(|e| query_err(e, self.target()))
    }

    fn find(&self, fingerprint: &str) -> Result<Option<Ticket>, QueryError> {
        self.run(async |i| i.tickets.find_one(doc! {"fingerprint": fingerprint}).await)
            .map(|d| d.as_ref().map(ticket_of))
            .map_err(|e| query_err(e, self.target()))
    }

    fn occurrences(
        &self,
        id: TicketId,
        query: &OccurrenceQuery,
    ) -> Result<Vec<Occurrence>, QueryError> {
        let dir = if query.order == OccurrenceOrder::NewestFirst {
            -1
        } else {
            1
        };
        self.run(async |i| {
            let mut cursor = i
                .occurrences
                .find(doc! {"ticket": id.0})
                .sort(doc! {"time_us": dir, "_id": dir})
                .skip(query.offset)
                .limit(i64::from(query.limit))
                .await?;
            let mut out = Vec::new();
            while cursor.advance().await? {
                out.push(occurrence_of(&cursor.deserialize_current()?));
            }
            Ok(out)
        })
        .map_err(|e| query_err(e, self.target()))
    }

    fn tags(&self, id: TicketId) -> Result<Vec<TagCount>, QueryError> {
        let mut out = self
            .run(async |i| {
                let mut cursor = i.tags.find(doc! {"ticket": id.0}).await?;
                let mut out = Vec::new();
                while cursor.advance().await? {
                    let d: Document = cursor.deserialize_current()?;
                    let key = str_of(&d, "key");
                    for v in d.get_array("vals").into_iter().flatten() {
                        if let Some(v) = v.as_document() {
                            out.push(TagCount {
                                key: key.clone(),
                                value: str_of(v, "v"),
                                count: i64_of(v, "c").unwrap_or(0).max(0) as u64,
                            });
                        }
                    }
                    let other = i64_of(&d, "other").unwrap_or(0);
                    if other > 0 {
                        out.push(TagCount {
                            key,
                            value: OTHER_TAG_VALUE.to_owned(),
                            count: other as u64,
                        });
                    }
                }
                Ok(out)
            })
            .map_err(|e| query_err(e, self.target()))?;
        out.sort_by(|a, b| {
            a.key
                .cmp(&b.key)
                .then(b.count.cmp(&a.count))
                .then(a.value.cmp(&b.value))
        });
        Ok(out)
    }
}

impl TicketTriage for MongoDb {
    fn resolve(
        &mut self,
        id: TicketId,
        release: Option<&str>,
        at: Timestamp,
    ) -> Result<bool, UpdateError> {
        let mut set = doc! {"status": "resolved"};
        let mut unset = doc! {"mute_until_count": ""};
        put_time(&mut set, &mut unset, "resolved_at", Some(at));
        put_time(&mut set, &mut unset, "mute_until", None);
        match release {
            Some(r) => set.insert("resolved_in_release", r),
            None => unset.insert("resolved_in_release", ""),
        };
        self.change(id, set, unset)
    }

    fn mute(&mut self, id: TicketId, mute: Mute) -> Result<bool, UpdateError> {
        let mut set = doc! {"status": "muted"};
        let mut unset = Document::new();
        match mute {
            Mute::Forever => {
                put_time(&mut set, &mut unset, "mute_until", None);
                unset.insert("mute_until_count", "");
            }
            Mute::Until(t) => {
                put_time(&mut set, &mut unset, "mute_until", Some(t));
                unset.insert("mute_until_count", "");
            }
            Mute::Count(n) => {
                // Until `count + n`: conditional on the count read, retried while writers add.
                put_time(&mut set, &mut unset, "mute_until", None);
                let matched = self
                    .run(async |i| {
                        for _ in 0..CAS_ATTEMPTS * 4 {
                            let Some(d) = i.tickets.find_one(doc! {"_id": id.0}).await? else {
                                return Ok(false);
                            };
                            let count = i64_of(&d, "count").unwrap_or(0);
                            let mut set = set.clone();
                            set.insert("mute_until_count", count.saturating_add(to_i64(n)));
                            let mut u = doc! {"$set": set, "$inc": {"rev": 1_i64}};
                            u.insert("$unset", unset.clone());
                            let r = i
                                .tickets
                                .update_one(doc! {"_id": id.0, "count": count}, u)
                                .await?;
                            if r.matched_count > 0 {
                                return Ok(true);
                            }
                        }
                        Err(busy("the ticket's count kept changing"))
                    })
                    .map_err(|e| update_err(e, self.target()))?;
                if let Some(i) = self.inner.as_mut() {
                    i.cache.tickets.clear();
                }
                return Ok(matched);
            }
        }
        self.change(id, set, unset)
    }

    fn reopen(&mut self, id: TicketId) -> Result<bool, UpdateError> {
        let set = doc! {"status": "open"};
        let mut unset = doc! {"resolved_in_release": "", "mute_until_count": ""};
        let mut ignore = Document::new();
        put_time(&mut ignore, &mut unset, "resolved_at", None);
        put_time(&mut ignore, &mut unset, "mute_until", None);
        self.change(id, set, unset)
    }

    fn delete(&mut self, id: TicketId) -> Result<bool, UpdateError> {
        let n = self
            .run(async |i| {
                let r = i.tickets.delete_one(doc! {"_id": id.0}).await?;
                i.occurrences.delete_many(doc! {"ticket": id.0}).await?;
                i.tags.delete_many(doc! {"ticket": id.0}).await?;
                Ok(r.deleted_count)
            })
            .map_err(|e| update_err(e, self.target()))?;
        if let Some(i) = self.inner.as_mut() {
            i.cache.tickets.clear();
            i.cache.tags.retain(|(t, _), _| *t != id.0);
        }
        Ok(n > 0)
    }
}

// --- JSON text <-> BSON, keeping the order of keys -------------------------------------------

/// The JSON text `s` as BSON (objects as documents, in their order); text that is not JSON is
/// kept as a string.
fn json_to_bson(s: &str) -> Bson {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(s);
    match BsonSeed
        .deserialize(&mut de)
        .and_then(|b| de.end().map(|()| b))
    {
        Ok(b) => b,
        Err(_) => Bson::String(s.to_owned()),
    }
}

struct BsonSeed;

impl<'de> serde::de::DeserializeSeed<'de> for BsonSeed {
    type Value = Bson;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Bson, D::Error> {
        d.deserialize_any(BsonVisitor)
    }
}

struct BsonVisitor;

impl<'de> serde::de::Visitor<'de> for BsonVisitor {
    type Value = Bson;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Bson, E> {
        Ok(Bson::Boolean(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Bson, E> {
        Ok(Bson::Int64(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Bson, E> {
        Ok(i64::try_from(v).map_or(Bson::Double(v as f64), Bson::Int64))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Bson, E> {
        Ok(Bson::Double(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Bson, E> {
        Ok(Bson::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Bson, E> {
        Ok(Bson::String(v))
    }
    fn visit_unit<E>(self) -> Result<Bson, E> {
        Ok(Bson::Null)
    }
    fn visit_none<E>(self) -> Result<Bson, E> {
        Ok(Bson::Null)
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Bson, A::Error> {
        let mut v = Vec::new();
        while let Some(b) = seq.next_element_seed(BsonSeed)? {
            v.push(b);
        }
        Ok(Bson::Array(v))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Bson, A::Error> {
        let mut d = Document::new();
        while let Some(k) = map.next_key::<String>()? {
            let v = map.next_value_seed(BsonSeed)?;
            d.insert(k, v);
        }
        Ok(Bson::Document(d))
    }
}

/// BSON as JSON text, keys in their order (a string that holds non-JSON text comes back as it
/// was stored).
fn bson_to_json(b: &Bson) -> String {
    match b {
        Bson::String(s) => s.clone(),
        other => {
            let mut out = String::new();
            write_json(&mut out, other);
            out
        }
    }
}

fn write_json(out: &mut String, b: &Bson) {
    use std::fmt::Write as _;
    match b {
        Bson::Null | Bson::Undefined => out.push_str("null"),
        Bson::Boolean(v) => out.push_str(if *v { "true" } else { "false" }),
        Bson::Int32(v) => {
            let _ = write!(out, "{v}");
        }
        Bson::Int64(v) => {
            let _ = write!(out, "{v}");
        }
        Bson::Double(v) => match serde_json::Number::from_f64(*v) {
            Some(n) => {
                let _ = write!(out, "{n}");
            }
            None => out.push_str("null"),
        },
        Bson::String(s) => out.push_str(&serde_json::to_string(s).unwrap_or_default()),
        Bson::Array(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, v);
            }
            out.push(']');
        }
        Bson::Document(d) => {
            out.push('{');
            for (i, (k, v)) in d.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap_or_default());
                out.push(':');
                write_json(out, v);
            }
            out.push('}');
        }
        other => out.push_str(
            &serde_json::to_string(&other.clone().into_relaxed_extjson()).unwrap_or_default(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trips_in_order() {
        for s in [
            r#"{"z":1,"a":"x","m":[1,2.5,{"q":null,"b":true}],"big":9223372036854775807}"#,
            "[]",
            "{}",
            r#"[{"name":"order","fields":{"order.id":7,"$weird":"v"}}]"#,
        ] {
            let b = json_to_bson(s);
            let back = bson_to_json(&b);
            let want: serde_json::Value = serde_json::from_str(s).unwrap_or_default();
            let got: serde_json::Value = serde_json::from_str(&back).unwrap_or_default();
            assert_eq!(got, want, "{s} -> {back}");
        }
        assert_eq!(
            bson_to_json(&json_to_bson(r#"{"z":1,"a":2}"#)),
            r#"{"z":1,"a":2}"#
        );
        assert_eq!(bson_to_json(&json_to_bson("not json")), "not json");
        // Beyond i64: a double, as in JavaScript.
        assert_eq!(
            json_to_bson("18446744073709551615"),
            Bson::Double(18_446_744_073_709_551_615.0)
        );
    }

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact("mongodb://app:s3cret@db1:27017,db2/errors?tls=true"),
            "mongodb://app:***@db1:27017,db2/errors?tls=true"
        );
        assert_eq!(redact("mongodb://db1/x"), "mongodb://db1/x");
    }

    #[test]
    fn bad_connection_strings_fail_at_open() {
        for uri in [
            "postgres://x",
            "mongodb://",
            "mongodb://h/?serverSelectionTimeoutMS=x",
        ] {
            let err = MongoDb::open(uri).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{uri}: {err}");
        }
        let err = MongoDb::builder("mongodb://127.0.0.1:1/x")
            .with_prefix("a-b")
            .open()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    }

    #[test]
    fn an_unreachable_server_is_not_an_open_error() {
        let store = MongoDb::open("mongodb://127.0.0.1:1/errors").unwrap();
        assert_eq!(store.database(), "errors");
        let store = MongoDb::open("mongodb://127.0.0.1:1").unwrap();
        assert_eq!(store.database(), DEFAULT_DATABASE);
    }

    #[test]
    fn outcomes_of_a_reply() {
        let reply = doc! {
            "n": 2,
            "upserted": [{"index": 0, "_id": 5}],
            "writeErrors": [{"index": 2, "code": 11000, "errmsg": "dup"}],
            "ok": 1.0,
        };
        assert_eq!(
            outcomes(&reply, 3).unwrap(),
            [Outcome::Upserted, Outcome::Done, Outcome::Conflict]
        );
        let short = doc! {"n": 1, "ok": 1.0};
        assert_eq!(
            outcomes(&short, 2).unwrap(),
            [Outcome::Conflict, Outcome::Conflict]
        );
    }
}
