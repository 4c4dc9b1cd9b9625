//! Opening a SQLite database: the three ways ([`Access`]), waiting for other connections'
//! locks, and the errors that name the file.
//!
//! One attempt opens the connection, sets the pragmas and checks the schema (see
//! [`super::schema`]). An attempt that meets another connection's lock waits in SQLite's busy
//! handler for what is left of the open timeout; a lock SQLite reports without waiting (a WAL
//! recovery, a journal mode change) makes the whole attempt start again after a backoff
//! (10 ms doubling to 500 ms), until the open timeout has passed.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};

use super::schema::{self, Found, SchemaError, Version, SCHEMA_VERSION};
use super::{kind_of, Sql, Sqlite, SqliteBuilder};
use crate::store::{ErrorKind, OpenError, TablePrefix};

/// How an open treats the file and the tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Access {
    /// Read and write; create the folder, the file and the tables when missing; migrate.
    Create,
    /// Read and write an existing taskwire database; create nothing.
    Existing,
    /// Read only; create, migrate and change nothing.
    ReadOnly,
}

pub(super) fn open(b: SqliteBuilder, access: Access) -> Result<Sqlite, OpenError> {
    let prefix = TablePrefix::new(&b.prefix)?;
    let where_ = b
        .path
        .as_ref()
        .map_or_else(|| ":memory:".to_owned(), |p| p.display().to_string());
    if access == Access::Create {
        if let Some(dir) = b.path.as_deref().and_then(Path::parent) {
            if !dir.as_os_str().is_empty() && !dir.is_dir() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    OpenError::new(
                        ErrorKind::Unavailable,
                        format!("{where_}: cannot create the folder {}", dir.display()),
                    )
                    .with_source(e)
                })?;
            }
        }
    }
    // `None`: a timeout too long to be a point in time, so no deadline.
    let deadline = Instant::now().checked_add(b.open_timeout);
    let mut backoff = Duration::from_millis(10);
    loop {
        match attempt(&b, access, prefix.as_str(), &where_, deadline) {
            Err(e) if e.kind() == ErrorKind::Busy => {
                if left(deadline) <= backoff {
                    return Err(OpenError::new(
                        ErrorKind::Busy,
                        format!(
                            "{where_}: another connection held a lock for longer than the open \
                             timeout ({:?})",
                            b.open_timeout
                        ),
                    )
                    .with_source(e));
                }
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_millis(500));
            }
            other => return other,
        }
    }
}

fn attempt(
    b: &SqliteBuilder,
    access: Access,
    prefix: &str,
    where_: &str,
    deadline: Option<Instant>,
) -> Result<Sqlite, OpenError> {
    let fail = |e: rusqlite::Error, what: &str| failure(e, what, where_, access);
    let conn = connect(b, access, false).map_err(|e| fail(e, "cannot open the file"))?;
    busy_timeout(&conn, left(deadline)).map_err(|e| fail(e, "cannot set the busy timeout"))?;
    conn.set_prepared_statement_cache_capacity(64);
    // Read what is there first, without a write lock and before changing anything.
    let found = schema::inspect(&conn, prefix);
    if access == Access::ReadOnly {
        return match found {
            // A WAL database whose `-shm` file cannot be created (a read-only folder): read it
            // as immutable, which needs no shared memory. Without a `-shm` file no connection
            // has the database open in WAL mode, so nothing changes under the reader.
            Err(SchemaError::Sqlite(e, _))
                if b.path.is_some() && kind_of(&e) == ErrorKind::Unavailable =>
            {
                drop(conn);
                let conn = connect(b, access, true).map_err(|e| fail(e, "cannot open the file"))?;
                let found = schema::inspect(&conn, prefix)
                    .map_err(|e| schema_failure(e, prefix, where_, access, &conn))?;
                read_only(b, conn, &found, prefix, where_)
            }
            Err(e) => Err(schema_failure(e, prefix, where_, access, &conn)),
            Ok(found) => read_only(b, conn, &found, prefix, where_),
        };
    }
    let found = match found {
        Ok(Found::Nothing) if access == Access::Existing => {
            return Err(schema_failure(
                SchemaError::NotTaskwire,
                prefix,
                where_,
                access,
                &conn,
            ))
        }
        Ok(found) => found,
        Err(e) => return Err(schema_failure(e, prefix, where_, access, &conn)),
    };
    if conn.is_readonly(rusqlite::MAIN_DB).unwrap_or(false) {
        return Err(OpenError::new(
            ErrorKind::Unavailable,
            format!("{where_}: the database is read-only"),
        ));
    }
    if b.path.is_some() {
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .map_err(|e| fail(e, "cannot read the journal mode"))?;
        if !mode.eq_ignore_ascii_case("wal") {
            let mode: String = conn
                .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                .map_err(|e| fail(e, "cannot switch to WAL mode"))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(OpenError::new(
                    ErrorKind::Unavailable,
                    format!("{where_}: the database stays in `{mode}` journal mode, not WAL"),
                ));
            }
        }
    }
    let sync = if b.durable { "FULL" } else { "NORMAL" };
    conn.execute_batch(&format!("PRAGMA synchronous = {sync}"))
        .map_err(|e| fail(e, "cannot set synchronous"))?;
    if let Some(bytes) = b.max_size {
        let page: i64 = conn
            .query_row("PRAGMA page_size", [], |r| r.get(0))
            .map_err(|e| fail(e, "cannot read the page size"))?;
        let pages = (bytes / page.max(512).unsigned_abs()).max(1);
        let _: i64 = conn
            .query_row(&format!("PRAGMA max_page_count = {pages}"), [], |r| {
                r.get(0)
            })
            .map_err(|e| fail(e, "cannot set the size limit"))?;
    }
    // The common case, a current schema, takes no write lock; otherwise `ensure` looks again
    // under the lock.
    let mut conn = conn;
    if !schema::is_ready(&found) {
        schema::ensure(&mut conn, prefix, access == Access::Create)
            .map_err(|e| schema_failure(e, prefix, where_, access, &conn))?;
    }
    busy_timeout(&conn, b.busy_timeout).map_err(|e| fail(e, "cannot set the busy timeout"))?;
    Ok(Sqlite {
        conn,
        sql: Sql::new(prefix),
        path: b.path.clone(),
    })
}

fn read_only(
    b: &SqliteBuilder,
    conn: Connection,
    found: &Found,
    prefix: &str,
    where_: &str,
) -> Result<Sqlite, OpenError> {
    match found {
        Found::Schema {
            version: Version::Current,
            complete: true,
        } => {}
        Found::Schema {
            version: Version::Current,
            complete: false,
        } => {
            return Err(OpenError::new(
                ErrorKind::Corrupt,
                format!(
                    "{where_}: the taskwire tables with prefix `{prefix}` are incomplete (one of \
                     {prefix}tickets, {prefix}occurrences, {prefix}tags, {prefix}hours is missing)"
                ),
            ))
        }
        Found::Schema {
            version: Version::Older(v),
            complete,
        } if *v >= schema::READABLE_FROM && *complete => {}
        Found::Schema {
            version: Version::Older(v),
            ..
        } => {
            return Err(OpenError::new(
                ErrorKind::InvalidConfig,
                format!(
                    "{where_}: the tickets schema is version {v}, older than this taskwire's \
                     ({SCHEMA_VERSION}); open it for writing once (the application, or any \
                     `taskwire tickets` triage command) to migrate it"
                ),
            ))
        }
        Found::Nothing => {
            return Err(schema_failure(
                SchemaError::NotTaskwire,
                prefix,
                where_,
                Access::ReadOnly,
                &conn,
            ))
        }
        Found::Schema { version, .. } => {
            return Err(version_failure(version, prefix, where_));
        }
    }
    busy_timeout(&conn, b.busy_timeout)
        .map_err(|e| failure(e, "cannot set the busy timeout", where_, Access::ReadOnly))?;
    Ok(Sqlite {
        conn,
        sql: Sql::new(prefix),
        path: b.path.clone(),
    })
}

/// What is left until `deadline` (all the time there is without one).
fn left(deadline: Option<Instant>) -> Duration {
    deadline.map_or(Duration::MAX, |d| {
        d.saturating_duration_since(Instant::now())
    })
}

/// Sets SQLite's busy timeout, capped at the longest it takes (`i32::MAX` ms, about 24 days).
fn busy_timeout(conn: &Connection, timeout: Duration) -> rusqlite::Result<()> {
    conn.busy_timeout(timeout.min(Duration::from_millis(i32::MAX.unsigned_abs().into())))
}

/// Opens the connection; `immutable` reads the file without locks or shared memory.
fn connect(b: &SqliteBuilder, access: Access, immutable: bool) -> rusqlite::Result<Connection> {
    let flags = match access {
        Access::Create => OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE,
        Access::Existing => OpenFlags::SQLITE_OPEN_READ_WRITE,
        Access::ReadOnly => OpenFlags::SQLITE_OPEN_READ_ONLY,
    } | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    match &b.path {
        None => Connection::open_in_memory_with_flags(flags),
        Some(p) if immutable => {
            let mut uri = String::from("file:");
            for c in p.to_string_lossy().chars() {
                match c {
                    '%' => uri.push_str("%25"),
                    '?' => uri.push_str("%3f"),
                    '#' => uri.push_str("%23"),
                    c => uri.push(c),
                }
            }
            uri.push_str("?immutable=1");
            Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
        }
        Some(p) => Connection::open_with_flags(p, flags),
    }
}

/// A SQLite failure while doing `what`, with a hint for the common causes.
fn failure(e: rusqlite::Error, what: &str, where_: &str, access: Access) -> OpenError {
    let kind = kind_of(&e);
    let hint = match kind {
        ErrorKind::Corrupt => " (the file is not a SQLite database, or it is damaged)",
        ErrorKind::Unavailable if access == Access::ReadOnly => {
            " (check that the file exists and is readable)"
        }
        ErrorKind::Unavailable => " (check that the folder exists and is writable)",
        ErrorKind::Busy => " (another process holds a lock on it)",
        _ => "",
    };
    OpenError::new(kind, format!("{where_}: {what}{hint}")).with_source(e)
}

fn schema_failure(
    e: SchemaError,
    prefix: &str,
    where_: &str,
    access: Access,
    conn: &Connection,
) -> OpenError {
    match e {
        SchemaError::Sqlite(e, what) => failure(e, what, where_, access),
        SchemaError::Version(v) => version_failure(&v, prefix, where_),
        SchemaError::NotTaskwire => {
            let others = schema::other_prefixes(conn, prefix);
            let hint = if others.is_empty() {
                String::new()
            } else {
                format!(
                    "; it has taskwire tables with prefix {}",
                    others
                        .iter()
                        .map(|p| format!("`{p}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            OpenError::new(
                ErrorKind::NotTaskwire,
                format!(
                    "{where_}: not a taskwire tickets database (no {prefix}meta table with \
                     prefix `{prefix}`{hint})"
                ),
            )
        }
        SchemaError::ForeignMeta(e) => OpenError::new(
            ErrorKind::Corrupt,
            format!(
                "{where_}: the table {prefix}meta is not taskwire's (it lacks the key and value \
                 columns)"
            ),
        )
        .with_source(e),
    }
}

fn version_failure(v: &Version, prefix: &str, where_: &str) -> OpenError {
    let (kind, text) = match v {
        Version::Newer(v) => (
            ErrorKind::InvalidConfig,
            format!(
                "the tickets schema is version {v}, newer than this taskwire knows \
                 ({SCHEMA_VERSION}); use a newer taskwire"
            ),
        ),
        Version::Missing => (
            ErrorKind::Corrupt,
            format!(
                "{prefix}meta has no schema_version; the tables were changed by hand or by \
                 another program"
            ),
        ),
        Version::Invalid(raw) => {
            let mut shown: String = raw.chars().take(40).collect();
            if shown.len() < raw.len() {
                shown.push('…');
            }
            (
                ErrorKind::Corrupt,
                format!(
                    "{prefix}meta has schema_version {shown:?}, which is not a version taskwire \
                     writes (1 to {SCHEMA_VERSION}); the tables were changed by hand or by \
                     another program"
                ),
            )
        }
        // Callers handle these before; kept total for safety.
        Version::Current | Version::Older(_) => (
            ErrorKind::Other,
            "unexpected schema version state".to_owned(),
        ),
    };
    OpenError::new(kind, format!("{where_}: {text}"))
}
