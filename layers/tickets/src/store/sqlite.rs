//! [`Sqlite`]: the default store, a SQLite file (through rusqlite, with SQLite compiled in).
//!
//! The tables live next to any others in the file, named with a validated prefix (default
//! `taskwire_`): `{prefix}tickets`, `{prefix}occurrences`, `{prefix}tags`, `{prefix}hours` and `{prefix}meta`.
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

mod history;
mod open;
mod queries;
mod rows;
mod schema;
mod write;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode};

use super::{ErrorKind, OpenError};
use rows::{OCCURRENCE_COLUMNS, TICKET_COLUMNS};

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
    /// use taskwire_tickets::{store::ListQuery, Sqlite, TicketReader};
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
    add_hour: String,
    delete_hours: String,
    prune_hours: String,
    add_history: String,
    history: String,
    delete_history: String,
}

impl Sql {
    fn new(p: &str) -> Sql {
        let t = format!("\"{p}tickets\"");
        let o = format!("\"{p}occurrences\"");
        let g = format!("\"{p}tags\"");
        let h = format!("\"{p}hours\"");
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
            add_hour: format!(
                "INSERT INTO {h} (ticket_id, hour, count) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (ticket_id, hour) DO UPDATE SET count = count + excluded.count"
            ),
            delete_hours: format!("DELETE FROM {h} WHERE ticket_id = ?1"),
            add_history: format!(
                "INSERT INTO \"{p}history\" (ticket_id, at, change, release, mute_until, mute_count) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)"
            ),
            history: format!(
                "SELECT at, change, release, mute_until, mute_count FROM \"{p}history\" \
                 WHERE ticket_id = ?1 ORDER BY id"
            ),
            delete_history: format!("DELETE FROM \"{p}history\" WHERE ticket_id = ?1"),
            // Walks `{p}hours_hour` from the oldest hour: a bounded cost whatever the table holds.
            prune_hours: format!(
                "DELETE FROM {h} WHERE (ticket_id, hour) IN (SELECT ticket_id, hour FROM {h} \
                 WHERE hour < ?1 ORDER BY hour LIMIT ?2)"
            ),
        }
    }
}
