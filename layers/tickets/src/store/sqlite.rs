//! [`Sqlite`]: the default store, a SQLite file (through rusqlite, with SQLite compiled in).
//!
//! The tables live next to any others in the file, named with a validated prefix (default
//! `taskwire_`): `{prefix}tickets`, `{prefix}occurrences`, `{prefix}tags` and `{prefix}meta`.
//! [`SqliteBuilder::open`] creates them when missing; `{prefix}meta` records the schema version
//! and the migrations applied. [`SqliteBuilder::open_existing`] and
//! [`SqliteBuilder::open_read_only`] (for tools that read or triage) create nothing. The schema,
//! its indexes and the queries that use them are in `docs/tickets.md`; opening is in
//! [`open`](self::open), the schema in [`schema`](self::schema).
//!
//! The file is opened in WAL mode with a busy timeout, so several processes can share it: each
//! batch is one `BEGIN IMMEDIATE` transaction, and a busy database is reported as
//! [`ErrorKind::Busy`] for the writer to retry with backoff. Commits are durable
//! (`synchronous = FULL`) unless [`SqliteBuilder::with_durable_commits`] turns that down.

mod open;
mod schema;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, ErrorCode, OptionalExtension, TransactionBehavior};

use super::transition::State;
use super::{
    Batch, ErrorKind, Level, ListQuery, Mute, Occurrence, OccurrenceOrder, OccurrenceQuery,
    OpenError, QueryError, Sample, Sort, Status, TagCount, Ticket, TicketId, TicketReader,
    TicketTriage, TicketWriter, Timestamp, UpdateError, WriteError, OTHER_TAG_VALUE,
};

pub use schema::SCHEMA_VERSION;

use open::Access;

/// A ticket store in a SQLite database file.
///
/// ```
/// use taskwire_tickets::Sqlite;
/// # let dir = std::env::temp_dir().join(format!("tw-doc-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// let store = Sqlite::open(dir.join("tickets.db"))?;
/// let store = Sqlite::builder(dir.join("app.db")).with_prefix("errors_").open()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Sqlite {
    conn: Connection,
    sql: Sql,
    path: Option<PathBuf>,
}

/// Options of a [`Sqlite`] store. Created by [`Sqlite::builder`].
#[derive(Clone, Debug)]
#[must_use = "a SqliteBuilder does nothing until `open()` is called"]
pub struct SqliteBuilder {
    path: Option<PathBuf>,
    prefix: String,
    busy_timeout: Duration,
    open_timeout: Duration,
    durable: bool,
    max_size: Option<u64>,
}

impl SqliteBuilder {
    /// Names the tables `{prefix}tickets` and so on. Default `taskwire_`. Only ASCII letters,
    /// digits and `_`, at most 32 characters; anything else fails [`SqliteBuilder::open`].
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long one statement waits for another connection's lock before reporting
    /// [`ErrorKind::Busy`]. Default 1 s (the writer then retries with backoff). SQLite waits
    /// at most `i32::MAX` milliseconds (about 24 days); longer is taken as that.
    pub fn with_busy_timeout(mut self, timeout: Duration) -> Self {
        self.busy_timeout = timeout;
        self
    }

    /// How long opening waits, in all, for other connections' locks before failing with
    /// [`ErrorKind::Busy`]. Default 5 s, the time the writer retries a busy batch. Opening a
    /// database whose schema is current takes no write lock, so it waits only for a process
    /// that holds the whole file (a journal mode change, a rollback-mode writer).
    pub fn with_open_timeout(mut self, timeout: Duration) -> Self {
        self.open_timeout = timeout;
        self
    }

    /// Whether each commit waits for the disk (`synchronous = FULL`, default) or only for the
    /// operating system (`NORMAL`: a power cut may lose the last commits, a crash does not).
    pub fn with_durable_commits(mut self, durable: bool) -> Self {
        self.durable = durable;
        self
    }

    /// Caps the database file at about `bytes` (SQLite's `max_page_count`). A write beyond it
    /// fails with [`ErrorKind::Full`], like a full disk.
    pub fn with_max_size(mut self, bytes: u64) -> Self {
        self.max_size = Some(bytes);
        self
    }

    /// Opens the database for writing, creating what is missing: the parent folders, the file,
    /// and the tables (next to any others the file holds). An older schema is migrated.
    ///
    /// Every path taskwire opens to write gets its missing folders created (as
    /// `taskwire::builder().json_file(..)` does); a read-only open creates nothing.
    ///
    /// Fails with a clear [`OpenError`] when the folder cannot be created or the file cannot
    /// be opened for writing ([`ErrorKind::Unavailable`]), the file is not a database or is
    /// damaged, including a `schema_version` no taskwire writes ([`ErrorKind::Corrupt`]), the
    /// prefix is invalid or the schema is newer than this code ([`ErrorKind::InvalidConfig`]),
    /// or another connection holds a lock past the open timeout ([`ErrorKind::Busy`]).
    ///
    /// ```
    /// use taskwire_tickets::Sqlite;
    /// # let dir = std::env::temp_dir().join(format!("tw-doc-open-{}", std::process::id()));
    /// let store = Sqlite::builder(dir.join("data").join("tickets.db")).open()?;
    /// assert!(dir.join("data").is_dir());
    /// # drop(store);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open(self) -> Result<Sqlite, OpenError> {
        open::open(self, Access::Create)
    }

    /// Opens an existing taskwire tickets database for writing (to resolve, mute, reopen or
    /// delete tickets), creating nothing: a missing file fails with
    /// [`ErrorKind::Unavailable`], a file without the `{prefix}meta` table with
    /// [`ErrorKind::NotTaskwire`], before anything in it is changed. An older schema is
    /// migrated.
    ///
    /// ```
    /// use taskwire_tickets::{store::ErrorKind, Sqlite};
    /// # let dir = std::env::temp_dir().join(format!("tw-doc-existing-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("app.db");
    /// rusqlite::Connection::open(&path)?.execute_batch("CREATE TABLE users (id INTEGER)")?;
    /// let err = Sqlite::builder(&path).open_existing().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::NotTaskwire);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_existing(self) -> Result<Sqlite, OpenError> {
        open::open(self, Access::Existing)
    }

    /// Opens an existing taskwire tickets database read-only, for queries: nothing is created,
    /// migrated or changed (not even the journal mode), and a read-only file or folder is
    /// fine. A file without the `{prefix}meta` table fails with [`ErrorKind::NotTaskwire`]
    /// ("not a taskwire tickets database"); an older schema with [`ErrorKind::InvalidConfig`]
    /// (open it for writing once to migrate). Writes and status changes through the store
    /// fail with [`ErrorKind::Unavailable`].
    ///
    /// ```
    /// use taskwire_tickets::{store::ListQuery, Sqlite, Store};
    /// # let dir = std::env::temp_dir().join(format!("tw-doc-ro-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir)?;
    /// # let path = dir.join("tickets.db");
    /// # drop(Sqlite::open(&path)?);
    /// let store = Sqlite::builder(&path).open_read_only()?;
    /// assert_eq!(store.count(&ListQuery::default())?, 0);
    /// # std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_read_only(self) -> Result<Sqlite, OpenError> {
        open::open(self, Access::ReadOnly)
    }
}

impl Sqlite {
    /// Opens (or creates, with its folder) the database at `path` with the default settings:
    /// [`SqliteBuilder::open`].
    pub fn open(path: impl AsRef<Path>) -> Result<Sqlite, OpenError> {
        Sqlite::builder(path).open()
    }

    /// Opens the taskwire tickets database at `path` read-only, with the default prefix:
    /// [`SqliteBuilder::open_read_only`].
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Sqlite, OpenError> {
        Sqlite::builder(path).open_read_only()
    }

    /// A private in-memory database (for tests and examples).
    pub fn open_in_memory() -> Result<Sqlite, OpenError> {
        SqliteBuilder {
            path: None,
            ..Sqlite::builder("")
        }
        .open()
    }

    /// Options for the database at `path`.
    pub fn builder(path: impl AsRef<Path>) -> SqliteBuilder {
        SqliteBuilder {
            path: Some(path.as_ref().to_owned()),
            prefix: super::DEFAULT_PREFIX.to_owned(),
            busy_timeout: Duration::from_secs(1),
            open_timeout: Duration::from_secs(5),
            durable: true,
            max_size: None,
        }
    }

    /// The file, or `None` for an in-memory database.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// One batch in one transaction. With `once`, the batch is applied only when its key is
    /// not recorded in `meta` yet, and the key is recorded in the same transaction (the spool's
    /// exactly-once replay); `false` when it was recorded already.
    fn write_tx(&mut self, batch: &Batch, once: Option<u64>) -> rusqlite::Result<bool> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sql = &self.sql;
        if let Some(key) = once {
            if !spool_mark(&tx, &sql.prefix, key)? {
                return Ok(false);
            }
        }
        for g in &batch.groups {
            let existing = tx
                .prepare_cached(&sql.select_state)?
                .query_row([&g.fingerprint], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        State {
                            status: Status::parse(&r.get::<_, String>(1)?).unwrap_or(Status::Open),
                            count: r.get::<_, i64>(2)?.max(0) as u64,
                            resolved_at: r.get::<_, Option<i64>>(3)?.map(Timestamp::from_micros),
                            resolved_in_release: r.get(4)?,
                            regressed_at: r.get::<_, Option<i64>>(5)?.map(Timestamp::from_micros),
                            mute_until: r.get::<_, Option<i64>>(6)?.map(Timestamp::from_micros),
                            mute_until_count: r.get::<_, Option<i64>>(7)?.map(|c| c.max(0) as u64),
                        },
                        r.get::<_, bool>(8)?,
                        r.get::<_, i64>(9)?.max(0),
                    ))
                })
                .optional()?;
            let (id, has_first, stored) = match existing {
                None => {
                    let s = &g.seed;
                    tx.prepare_cached(&sql.insert_ticket)?.execute(params![
                        g.fingerprint,
                        s.level.as_str(),
                        s.service,
                        s.target,
                        s.module,
                        s.file,
                        s.line,
                        g.title.as_deref().unwrap_or(""),
                        g.first_seen.as_micros(),
                        g.last_seen.as_micros(),
                        to_i64(g.count),
                    ])?;
                    (tx.last_insert_rowid(), false, 0)
                }
                Some((id, mut state, has_first, stored)) => {
                    state.apply(g);
                    tx.prepare_cached(&sql.update_ticket)?.execute(params![
                        id,
                        to_i64(state.count),
                        g.first_seen.as_micros(),
                        g.last_seen.as_micros(),
                        g.title,
                        state.status.as_str(),
                        state.regressed_at.map(Timestamp::as_micros),
                        state.mute_until.map(Timestamp::as_micros),
                        state.mute_until_count.map(to_i64),
                    ])?;
                    (id, has_first, stored)
                }
            };
            for t in &g.tags {
                let updated = tx.prepare_cached(&sql.bump_tag)?.execute(params![
                    id,
                    t.key,
                    t.value,
                    to_i64(t.count)
                ])?;
                if updated == 0 {
                    let distinct: i64 = tx
                        .prepare_cached(&sql.count_tag_values)?
                        .query_row(params![id, t.key, OTHER_TAG_VALUE], |r| r.get(0))?;
                    let value = if t.value == OTHER_TAG_VALUE
                        || (distinct as usize) < batch.max_tag_values
                    {
                        t.value.as_str()
                    } else {
                        OTHER_TAG_VALUE
                    };
                    tx.prepare_cached(&sql.upsert_tag)?.execute(params![
                        id,
                        t.key,
                        value,
                        to_i64(t.count)
                    ])?;
                }
            }
            if !g.samples.is_empty() {
                // The first sample (when the ticket has none) and the newest N of this batch;
                // older ones would be pruned right away.
                let keep = batch.samples_per_ticket;
                let n = g.samples.len();
                let mut ins = tx.prepare_cached(&sql.insert_occurrence)?;
                let mut first_id = None;
                let mut added: i64 = 0;
                for (i, s) in g.samples.iter().enumerate() {
                    let first = !has_first && i == 0;
                    if !first && i + keep < n {
                        continue;
                    }
                    ins.execute(params![
                        id,
                        s.time.as_micros(),
                        first,
                        s.level.as_ref().map(Level::as_str),
                        s.message,
                        s.fields,
                        s.spans,
                        s.trace_id,
                        s.span_id,
                        s.service,
                        s.host,
                        s.pid,
                        s.thread,
                        s.release,
                        s.errors,
                    ])?;
                    if first {
                        first_id = Some(tx.last_insert_rowid());
                    } else {
                        added += 1;
                    }
                }
                // Prune the oldest beyond N (never the first): only the excess rows are read.
                // Saturating: `samples` comes from the file, which may hold anything.
                let mut samples = stored.saturating_add(added);
                let excess = samples.saturating_sub(to_i64(keep as u64));
                if excess > 0 {
                    let deleted = tx
                        .prepare_cached(&sql.prune)?
                        .execute(params![id, excess])?;
                    samples = samples.saturating_sub(to_i64(deleted as u64));
                }
                tx.prepare_cached(&sql.set_samples)?
                    .execute(params![id, first_id, samples])?;
            }
        }
        tx.commit()?;
        Ok(true)
    }
}

/// How long the key of a replayed spool batch is remembered in `meta` (far longer than a
/// spool file can outlive its replay: it is deleted right after).
const SPOOL_MARK_DAYS: i64 = 30;

/// Records spool batch `key` as applied in `meta` (key `spool:{16 hex}`, value the time in
/// microseconds), inside `tx`; `false` when it was recorded already. Marks older than
/// [`SPOOL_MARK_DAYS`] are dropped on the way.
fn spool_mark(tx: &rusqlite::Transaction<'_>, prefix: &str, key: u64) -> rusqlite::Result<bool> {
    let now = Timestamp::now().as_micros();
    let cutoff = now.saturating_sub(SPOOL_MARK_DAYS * 86_400 * 1_000_000);
    tx.prepare_cached(&format!(
        "DELETE FROM \"{prefix}meta\" WHERE key LIKE 'spool:%' AND CAST(value AS INTEGER) < ?1"
    ))?
    .execute([cutoff])?;
    let added = tx
        .prepare_cached(&format!(
            "INSERT INTO \"{prefix}meta\" (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO NOTHING"
        ))?
        .execute(params![format!("spool:{key:016x}"), now.to_string()])?;
    Ok(added == 1)
}

fn write_error(e: rusqlite::Error) -> WriteError {
    WriteError::new(kind_of(&e), e.to_string()).with_source(e)
}

fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Maps a SQLite failure to what the writer does about it.
fn kind_of(e: &rusqlite::Error) -> ErrorKind {
    match e {
        rusqlite::Error::SqliteFailure(f, _) => match f.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => ErrorKind::Busy,
            ErrorCode::DiskFull => ErrorKind::Full,
            ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => ErrorKind::Corrupt,
            ErrorCode::CannotOpen
            | ErrorCode::ReadOnly
            | ErrorCode::PermissionDenied
            | ErrorCode::SystemIoFailure
            | ErrorCode::NoLargeFileSupport => ErrorKind::Unavailable,
            _ => ErrorKind::Other,
        },
        _ => ErrorKind::Other,
    }
}

const TICKET_COLUMNS: &str = "id, fingerprint, level, service, target, module, file, line, title, \
    first_seen, last_seen, count, status, resolved_at, resolved_in_release, regressed_at, \
    mute_until, mute_until_count";

fn ticket_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Ticket> {
    let level: String = r.get(2)?;
    let state = State {
        status: Status::parse(&r.get::<_, String>(12)?).unwrap_or(Status::Open),
        count: r.get::<_, i64>(11)?.max(0) as u64,
        resolved_at: r.get::<_, Option<i64>>(13)?.map(Timestamp::from_micros),
        resolved_in_release: r.get(14)?,
        regressed_at: r.get::<_, Option<i64>>(15)?.map(Timestamp::from_micros),
        mute_until: r.get::<_, Option<i64>>(16)?.map(Timestamp::from_micros),
        mute_until_count: r.get::<_, Option<i64>>(17)?.map(|c| c.max(0) as u64),
    };
    let mut t = Ticket::new(
        TicketId(r.get(0)?),
        r.get::<_, String>(1)?,
        level.parse().unwrap_or(Level::ERROR),
    );
    t.service = r.get(3)?;
    t.target = r.get(4)?;
    t.module = r.get(5)?;
    t.file = r.get(6)?;
    t.line = r.get(7)?;
    t.title = r.get(8)?;
    t.first_seen = Timestamp::from_micros(r.get(9)?);
    t.last_seen = Timestamp::from_micros(r.get(10)?);
    t.mute = state.mute();
    t.count = state.count;
    t.status = state.status;
    t.resolved_at = state.resolved_at;
    t.resolved_in_release = state.resolved_in_release;
    t.regressed_at = state.regressed_at;
    Ok(t)
}

const OCCURRENCE_COLUMNS: &str = "id, ticket_id, is_first, time, level, message, fields, spans, \
    trace_id, span_id, service, host, pid, thread, release, errors";

fn occurrence_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Occurrence> {
    let mut s = Sample::new(Timestamp::from_micros(r.get(3)?));
    s.level = r
        .get::<_, Option<String>>(4)?
        .and_then(|l| l.parse::<Level>().ok());
    s.message = r.get(5)?;
    s.fields = r.get(6)?;
    s.spans = r.get(7)?;
    s.trace_id = r.get(8)?;
    s.span_id = r.get(9)?;
    s.service = r.get(10)?;
    s.host = r.get(11)?;
    s.pid = r.get(12)?;
    s.thread = r.get(13)?;
    s.release = r.get(14)?;
    s.errors = r.get(15)?;
    Ok(Occurrence::new(
        r.get(0)?,
        TicketId(r.get(1)?),
        r.get(2)?,
        s,
    ))
}

fn query_err(e: rusqlite::Error) -> QueryError {
    QueryError::new(kind_of(&e), e.to_string()).with_source(e)
}

fn update_err(e: rusqlite::Error) -> UpdateError {
    UpdateError::new(kind_of(&e), e.to_string()).with_source(e)
}

impl Sqlite {
    fn where_clause(query: &ListQuery) -> (String, Vec<rusqlite::types::Value>) {
        let mut clauses = Vec::new();
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(s) = query.status {
            args.push(s.as_str().to_owned().into());
            clauses.push(format!("status = ?{}", args.len()));
        }
        if let Some(t) = query.since {
            args.push(t.as_micros().into());
            clauses.push(format!("last_seen >= ?{}", args.len()));
        }
        let w = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        (w, args)
    }
}

impl TicketWriter for Sqlite {
    fn write(&mut self, batch: &Batch) -> Result<(), WriteError> {
        if batch.groups.is_empty() {
            return Ok(());
        }
        self.write_tx(batch, None).map(drop).map_err(write_error)
    }

    /// `{file}-{prefix}spool`, beside the database file (none in memory).
    fn spool_path(&self) -> Option<PathBuf> {
        let path = self.path.as_ref()?;
        let mut name = path.file_name()?.to_owned();
        name.push(format!("-{}spool", self.sql.prefix));
        Some(path.with_file_name(name))
    }

    fn write_once(&mut self, batch: &Batch, key: u64) -> Result<bool, WriteError> {
        self.write_tx(batch, Some(key)).map_err(write_error)
    }
}

impl TicketReader for Sqlite {
    fn list(&self, query: &ListQuery) -> Result<Vec<Ticket>, QueryError> {
        let (w, mut args) = Sqlite::where_clause(query);
        let order = match query.sort {
            Sort::LastSeen => "last_seen DESC, id DESC",
            Sort::Count => "count DESC, id DESC",
            Sort::FirstSeen => "first_seen DESC, id DESC",
        };
        args.push(i64::from(query.limit).into());
        args.push(to_i64(query.offset).into());
        let n = args.len();
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM \"{}tickets\"{w} ORDER BY {order} LIMIT ?{} OFFSET ?{n}",
            self.sql.prefix,
            n - 1
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(query_err)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), ticket_from_row)
            .map_err(query_err)?;
        rows.collect::<Result<_, _>>().map_err(query_err)
    }

    fn count(&self, query: &ListQuery) -> Result<u64, QueryError> {
        let (w, args) = Sqlite::where_clause(query);
        let sql = format!("SELECT COUNT(*) FROM \"{}tickets\"{w}", self.sql.prefix);
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row(rusqlite::params_from_iter(args), |r| r.get::<_, i64>(0)))
            .map(|n| n.max(0) as u64)
            .map_err(query_err)
    }

    fn get(&self, id: TicketId) -> Result<Option<Ticket>, QueryError> {
        self.conn
            .prepare_cached(&self.sql.get_ticket)
            .and_then(|mut s| s.query_row([id.0], ticket_from_row).optional())
            .map_err(query_err)
    }

    fn find(&self, fingerprint: &str) -> Result<Option<Ticket>, QueryError> {
        self.conn
            .prepare_cached(&self.sql.find_ticket)
            .and_then(|mut s| s.query_row([fingerprint], ticket_from_row).optional())
            .map_err(query_err)
    }

    fn occurrences(
        &self,
        id: TicketId,
        query: &OccurrenceQuery,
    ) -> Result<Vec<Occurrence>, QueryError> {
        let sql = if query.order == OccurrenceOrder::NewestFirst {
            &self.sql.occurrences_newest
        } else {
            &self.sql.occurrences_oldest
        };
        let mut stmt = self.conn.prepare_cached(sql).map_err(query_err)?;
        let rows = stmt
            .query_map(
                params![id.0, i64::from(query.limit), to_i64(query.offset)],
                occurrence_from_row,
            )
            .map_err(query_err)?;
        rows.collect::<Result<_, _>>().map_err(query_err)
    }

    fn tags(&self, id: TicketId) -> Result<Vec<TagCount>, QueryError> {
        let mut stmt = self
            .conn
            .prepare_cached(&self.sql.tags)
            .map_err(query_err)?;
        let rows = stmt
            .query_map([id.0], |r| {
                Ok(TagCount {
                    key: r.get(0)?,
                    value: r.get(1)?,
                    count: r.get::<_, i64>(2)?.max(0) as u64,
                })
            })
            .map_err(query_err)?;
        rows.collect::<Result<_, _>>().map_err(query_err)
    }
}

impl TicketTriage for Sqlite {
    fn resolve(
        &mut self,
        id: TicketId,
        release: Option<&str>,
        at: Timestamp,
    ) -> Result<bool, UpdateError> {
        self.conn
            .prepare_cached(&self.sql.resolve)
            .and_then(|mut s| s.execute(params![id.0, at.as_micros(), release]))
            .map(|n| n > 0)
            .map_err(update_err)
    }

    fn mute(&mut self, id: TicketId, mute: Mute) -> Result<bool, UpdateError> {
        let (until, more): (Option<i64>, Option<i64>) = match mute {
            Mute::Forever => (None, None),
            Mute::Until(t) => (Some(t.as_micros()), None),
            Mute::Count(n) => (None, Some(to_i64(n))),
        };
        self.conn
            .prepare_cached(&self.sql.mute)
            .and_then(|mut s| s.execute(params![id.0, until, more]))
            .map(|n| n > 0)
            .map_err(update_err)
    }

    fn reopen(&mut self, id: TicketId) -> Result<bool, UpdateError> {
        self.conn
            .prepare_cached(&self.sql.reopen)
            .and_then(|mut s| s.execute([id.0]))
            .map(|n| n > 0)
            .map_err(update_err)
    }

    fn delete(&mut self, id: TicketId) -> Result<bool, UpdateError> {
        let sql = &self.sql;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(update_err)?;
        let n = tx
            .execute(&sql.delete_occurrences, [id.0])
            .and_then(|_| tx.execute(&sql.delete_tags, [id.0]))
            .and_then(|_| tx.execute(&sql.delete_ticket, [id.0]))
            .map_err(update_err)?;
        tx.commit().map_err(update_err)?;
        Ok(n > 0)
    }
}

/// The SQL text, with the validated prefix in place.
#[derive(Debug)]
struct Sql {
    prefix: String,
    select_state: String,
    insert_ticket: String,
    update_ticket: String,
    set_samples: String,
    bump_tag: String,
    count_tag_values: String,
    upsert_tag: String,
    insert_occurrence: String,
    prune: String,
    get_ticket: String,
    find_ticket: String,
    occurrences_newest: String,
    occurrences_oldest: String,
    tags: String,
    resolve: String,
    mute: String,
    reopen: String,
    delete_occurrences: String,
    delete_tags: String,
    delete_ticket: String,
}

impl Sql {
    fn new(p: &str) -> Sql {
        let t = format!("\"{p}tickets\"");
        let o = format!("\"{p}occurrences\"");
        let g = format!("\"{p}tags\"");
        Sql {
            prefix: p.to_owned(),
            select_state: format!(
                "SELECT id, status, count, resolved_at, resolved_in_release, regressed_at, \
                 mute_until, mute_until_count, first_sample IS NOT NULL, samples \
                 FROM {t} WHERE fingerprint = ?1"
            ),
            insert_ticket: format!(
                "INSERT INTO {t} (fingerprint, level, service, target, module, file, line, title, \
                 first_seen, last_seen, count, status) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, 'open')"
            ),
            update_ticket: format!(
                "UPDATE {t} SET count = ?2, first_seen = MIN(first_seen, ?3), \
                 last_seen = MAX(last_seen, ?4), \
                 title = CASE WHEN title = '' AND ?5 IS NOT NULL THEN ?5 ELSE title END, \
                 status = ?6, regressed_at = ?7, mute_until = ?8, mute_until_count = ?9 \
                 WHERE id = ?1"
            ),
            set_samples: format!(
                "UPDATE {t} SET first_sample = COALESCE(first_sample, ?2), samples = ?3 \
                 WHERE id = ?1"
            ),
            bump_tag: format!(
                "UPDATE {g} SET count = count + ?4 WHERE ticket_id = ?1 AND key = ?2 AND value = ?3"
            ),
            count_tag_values: format!(
                "SELECT COUNT(*) FROM {g} WHERE ticket_id = ?1 AND key = ?2 AND value <> ?3"
            ),
            upsert_tag: format!(
                "INSERT INTO {g} (ticket_id, key, value, count) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (ticket_id, key, value) DO UPDATE SET count = count + excluded.count"
            ),
            insert_occurrence: format!(
                "INSERT INTO {o} (ticket_id, time, is_first, level, message, fields, spans, \
                 trace_id, span_id, service, host, pid, thread, release, errors) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)"
            ),
            prune: format!(
                "DELETE FROM {o} WHERE id IN (SELECT id FROM {o} WHERE ticket_id = ?1 \
                 AND is_first = 0 ORDER BY time ASC, id ASC LIMIT ?2)"
            ),
            get_ticket: format!("SELECT {TICKET_COLUMNS} FROM {t} WHERE id = ?1"),
            find_ticket: format!("SELECT {TICKET_COLUMNS} FROM {t} WHERE fingerprint = ?1"),
            occurrences_newest: format!(
                "SELECT {OCCURRENCE_COLUMNS} FROM {o} WHERE ticket_id = ?1 \
                 ORDER BY time DESC, id DESC LIMIT ?2 OFFSET ?3"
            ),
            occurrences_oldest: format!(
                "SELECT {OCCURRENCE_COLUMNS} FROM {o} WHERE ticket_id = ?1 \
                 ORDER BY time ASC, id ASC LIMIT ?2 OFFSET ?3"
            ),
            tags: format!(
                "SELECT key, value, count FROM {g} WHERE ticket_id = ?1 \
                 ORDER BY key, count DESC, value"
            ),
            resolve: format!(
                "UPDATE {t} SET status = 'resolved', resolved_at = ?2, resolved_in_release = ?3, \
                 mute_until = NULL, mute_until_count = NULL WHERE id = ?1"
            ),
            mute: format!(
                "UPDATE {t} SET status = 'muted', mute_until = ?2, \
                 mute_until_count = CASE WHEN ?3 IS NULL THEN NULL ELSE count + ?3 END \
                 WHERE id = ?1"
            ),
            reopen: format!(
                "UPDATE {t} SET status = 'open', resolved_at = NULL, resolved_in_release = NULL, \
                 mute_until = NULL, mute_until_count = NULL WHERE id = ?1"
            ),
            delete_occurrences: format!("DELETE FROM {o} WHERE ticket_id = ?1"),
            delete_tags: format!("DELETE FROM {g} WHERE ticket_id = ?1"),
            delete_ticket: format!("DELETE FROM {t} WHERE id = ?1"),
        }
    }
}
