//! The SQLite schema: its DDL, its version, and what `open` finds in a database.
//!
//! Opening reads the schema first without a write lock ([`inspect`]); only when the tables are
//! missing, incomplete or older does it take the write lock ([`ensure`]) and look again under it,
//! so any number of processes can open a current database while another one writes, and several
//! can create a fresh one at once (the first creates, the others find it done).
//!
//! Every `schema_version` value has one outcome: the current version opens, an older one is
//! migrated (by a writable open), a newer one is refused as newer, and anything else (`0`, `-1`,
//! `abc`, empty, a missing row) is refused as damaged. None of them is overwritten.

use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

use crate::store::Timestamp;

/// The schema version this code writes.
pub const SCHEMA_VERSION: u32 = 4;

/// The hourly counts table (added in version 2).
const HOURS_DDL: &str = r#"
CREATE TABLE IF NOT EXISTS "{p}hours" (
    ticket_id INTEGER NOT NULL,
    hour      INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, hour)
) WITHOUT ROWID;
"#;

/// The index by hour alone that pruning old hourly counts walks (added in version 3).
const HOURS_BY_HOUR_DDL: &str = r#"
CREATE INDEX IF NOT EXISTS "{p}hours_hour" ON "{p}hours" (hour);
"#;

/// The status history (added in version 4): one row per status change, `change` one of
/// `resolved`, `muted`, `reopened`, `regressed`, `unmuted`; `release` of a resolution,
/// `mute_until` (microseconds) or `mute_count` of a mute.
const HISTORY_DDL: &str = r#"
CREATE TABLE IF NOT EXISTS "{p}history" (
    id         INTEGER PRIMARY KEY,
    ticket_id  INTEGER NOT NULL,
    at         INTEGER NOT NULL,
    change     TEXT NOT NULL,
    release    TEXT,
    mute_until INTEGER,
    mute_count INTEGER
);
CREATE INDEX IF NOT EXISTS "{p}history_ticket" ON "{p}history" (ticket_id, id);
"#;

/// Migrations from version `i + 1` to `i + 2`, in order: 1 → 2 adds `{p}hours` (hours before
/// the migration have no counts), 2 → 3 indexes it by hour (for pruning), 3 → 4 adds
/// `{p}history` (changes before the migration are not in it).
const MIGRATIONS: &[&str] = &[HOURS_DDL, HOURS_BY_HOUR_DDL, HISTORY_DDL];

/// The oldest version a read-only open reads as it is (without migrating it): every table and
/// column the queries read is there; what later versions add is for writing.
pub(super) const READABLE_FROM: u32 = 2;

/// The tables besides `{prefix}meta`, all of which a complete schema has.
const TABLES: [&str; 4] = ["tickets", "occurrences", "tags", "hours"];

/// The schema (with [`HOURS_DDL`], [`HOURS_BY_HOUR_DDL`] and [`HISTORY_DDL`], the current
/// version). `{p}` is the prefix. Times are microseconds
/// since the Unix epoch; hours are whole hours since it.
pub(super) const DDL: &str = r#"
CREATE TABLE IF NOT EXISTS "{p}meta" (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS "{p}tickets" (
    id                  INTEGER PRIMARY KEY,
    fingerprint         TEXT NOT NULL UNIQUE,
    level               TEXT NOT NULL,
    service             TEXT,
    target              TEXT NOT NULL,
    module              TEXT,
    file                TEXT,
    line                INTEGER,
    title               TEXT NOT NULL,
    first_seen          INTEGER NOT NULL,
    last_seen           INTEGER NOT NULL,
    count               INTEGER NOT NULL,
    status              TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'muted')),
    resolved_at         INTEGER,
    resolved_in_release TEXT,
    regressed_at        INTEGER,
    mute_until          INTEGER,
    mute_until_count    INTEGER,
    first_sample        INTEGER,
    samples             INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS "{p}tickets_last_seen" ON "{p}tickets" (last_seen);
CREATE INDEX IF NOT EXISTS "{p}tickets_count" ON "{p}tickets" (count);
CREATE INDEX IF NOT EXISTS "{p}tickets_first_seen" ON "{p}tickets" (first_seen);
CREATE INDEX IF NOT EXISTS "{p}tickets_status_last_seen" ON "{p}tickets" (status, last_seen);
CREATE INDEX IF NOT EXISTS "{p}tickets_status_count" ON "{p}tickets" (status, count);
CREATE INDEX IF NOT EXISTS "{p}tickets_status_first_seen" ON "{p}tickets" (status, first_seen);
CREATE TABLE IF NOT EXISTS "{p}occurrences" (
    id        INTEGER PRIMARY KEY,
    ticket_id INTEGER NOT NULL,
    time      INTEGER NOT NULL,
    is_first  INTEGER NOT NULL DEFAULT 0,
    level     TEXT,
    message   TEXT NOT NULL,
    fields    TEXT NOT NULL,
    spans     TEXT NOT NULL,
    trace_id  TEXT,
    span_id   TEXT,
    service   TEXT,
    host      TEXT NOT NULL,
    pid       INTEGER NOT NULL,
    thread    TEXT NOT NULL,
    release   TEXT,
    errors    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS "{p}occurrences_ticket_time" ON "{p}occurrences" (ticket_id, time);
CREATE TABLE IF NOT EXISTS "{p}tags" (
    ticket_id INTEGER NOT NULL,
    key       TEXT NOT NULL,
    value     TEXT NOT NULL,
    count     INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, key, value)
) WITHOUT ROWID;
"#;

/// What a database holds under a prefix.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Found {
    /// No `{prefix}meta` table: not a taskwire tickets database (yet).
    Nothing,
    /// A `{prefix}meta` table with this version; `complete` when every other table exists too.
    Schema { version: Version, complete: bool },
}

/// The `schema_version` recorded in `{prefix}meta`, classified.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Version {
    /// [`SCHEMA_VERSION`].
    Current,
    /// An older version this code migrates.
    Older(u32),
    /// A version newer than this code knows.
    Newer(u32),
    /// No `schema_version` row.
    Missing,
    /// A value no taskwire writes (`0`, `-1`, `abc`, empty, a blob), as text.
    Invalid(String),
}

impl Version {
    fn classify(value: Option<Value>) -> Version {
        let text = match value {
            None | Some(Value::Null) => return Version::Missing,
            Some(Value::Text(s)) => s,
            Some(Value::Integer(i)) => i.to_string(),
            Some(Value::Real(f)) => f.to_string(),
            Some(Value::Blob(b)) => format!("a {}-byte blob", b.len()),
        };
        match text.parse::<u32>() {
            // Only the canonical form: `+1` or `01` were not written by taskwire.
            Ok(v) if v.to_string() == text => match v {
                0 => Version::Invalid(text),
                v if v == SCHEMA_VERSION => Version::Current,
                v if v < SCHEMA_VERSION => Version::Older(v),
                v => Version::Newer(v),
            },
            _ => Version::Invalid(text),
        }
    }
}

/// Why the schema cannot be used; turned into an `OpenError` by the caller.
#[derive(Debug)]
pub(super) enum SchemaError {
    /// SQLite failed doing `what`.
    Sqlite(rusqlite::Error, &'static str),
    /// The schema is not one this code can use (see [`Version`]).
    Version(Version),
    /// No `{prefix}meta` table and the open does not create one.
    NotTaskwire,
    /// `{prefix}meta` exists but its columns are not taskwire's.
    ForeignMeta(rusqlite::Error),
}

/// Reads what the database holds under `prefix`, taking no write lock.
pub(super) fn inspect(conn: &Connection, prefix: &str) -> Result<Found, SchemaError> {
    let exists = |name: &str| -> Result<bool, SchemaError> {
        conn.query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [format!("{prefix}{name}")],
            |_| Ok(()),
        )
        .optional()
        .map(|r| r.is_some())
        .map_err(|e| SchemaError::Sqlite(e, "cannot read the list of tables"))
    };
    if !exists("meta")? {
        return Ok(Found::Nothing);
    }
    let value = conn
        .query_row(
            &format!("SELECT value FROM \"{prefix}meta\" WHERE key = 'schema_version'"),
            [],
            |r| r.get::<_, Value>(0),
        )
        .optional()
        .map_err(|e| match e {
            rusqlite::Error::SqliteFailure(ref f, _) if f.code == rusqlite::ErrorCode::Unknown => {
                // A `{prefix}meta` without `key`/`value` columns ("no such column").
                SchemaError::ForeignMeta(e)
            }
            e => SchemaError::Sqlite(e, "cannot read the schema version"),
        })?;
    let mut complete = true;
    for t in TABLES {
        complete &= exists(t)?;
    }
    Ok(Found::Schema {
        version: Version::classify(value),
        complete,
    })
}

/// Whether the database holds `{prefix}history` (a read-only open of a version before 4 has
/// none: its history reads as empty).
pub(super) fn has_history(conn: &Connection, prefix: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [format!("{prefix}history")],
        |_| Ok(()),
    )
    .optional()
    .map(|r| r.is_some())
}

/// Whether a writable open can use what it found without taking the write lock.
pub(super) fn is_ready(found: &Found) -> bool {
    matches!(
        found,
        Found::Schema {
            version: Version::Current,
            complete: true
        }
    )
}

/// Creates or migrates the schema inside one `BEGIN IMMEDIATE` transaction, after reading it
/// again under the lock (another process may have done it meanwhile). With `create` false, a
/// database without `{prefix}meta` is refused rather than given the tables.
pub(super) fn ensure(conn: &mut Connection, prefix: &str, create: bool) -> Result<(), SchemaError> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| SchemaError::Sqlite(e, "cannot start the schema transaction"))?;
    let found = inspect(&tx, prefix)?;
    let meta = format!(
        "INSERT INTO \"{prefix}meta\" (key, value) VALUES (?1, ?2) \
         ON CONFLICT(key) DO UPDATE SET value = excluded.value"
    );
    let ddl = |tx: &rusqlite::Transaction<'_>| {
        tx.execute_batch(
            &[DDL, HOURS_DDL, HOURS_BY_HOUR_DDL, HISTORY_DDL]
                .concat()
                .replace("{p}", prefix),
        )
        .map_err(|e| SchemaError::Sqlite(e, "cannot create the tables"))
    };
    match found {
        Found::Nothing if !create => return Err(SchemaError::NotTaskwire),
        Found::Nothing => {
            ddl(&tx)?;
            tx.execute(&meta, params!["schema_version", SCHEMA_VERSION.to_string()])
                .and_then(|_| {
                    tx.execute(&meta, params!["created_at", Timestamp::now().to_string()])
                })
                .map_err(|e| SchemaError::Sqlite(e, "cannot record the schema version"))?;
        }
        Found::Schema {
            version: Version::Current,
            ..
        } => ddl(&tx)?,
        Found::Schema {
            version: Version::Older(v),
            ..
        } => {
            ddl(&tx)?;
            let from = usize::try_from(v.saturating_sub(1)).unwrap_or(usize::MAX);
            for (i, m) in MIGRATIONS.iter().enumerate().skip(from) {
                let to = i + 2;
                tx.execute_batch(&m.replace("{p}", prefix))
                    .and_then(|()| {
                        tx.execute(
                            &meta,
                            params![format!("migration_{to}"), Timestamp::now().to_string()],
                        )
                    })
                    .map_err(|e| SchemaError::Sqlite(e, "a migration failed"))?;
            }
            tx.execute(&meta, params!["schema_version", SCHEMA_VERSION.to_string()])
                .map_err(|e| SchemaError::Sqlite(e, "cannot record the schema version"))?;
        }
        Found::Schema { version, .. } => return Err(SchemaError::Version(version)),
    }
    tx.commit()
        .map_err(|e| SchemaError::Sqlite(e, "cannot commit the schema"))
}

/// Other prefixes under which the database has taskwire tables (`{p}meta` and `{p}tickets`),
/// for the message of a mistyped prefix.
pub(super) fn other_prefixes(conn: &Connection, prefix: &str) -> Vec<String> {
    let found = conn
        .prepare(
            "SELECT substr(m.name, 1, length(m.name) - 4) FROM sqlite_master m \
             JOIN sqlite_master t ON t.type = 'table' \
              AND t.name = substr(m.name, 1, length(m.name) - 4) || 'tickets' \
             WHERE m.type = 'table' AND m.name LIKE '%meta' ORDER BY 1",
        )
        .and_then(|mut s| {
            s.query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<String>>>()
        })
        .unwrap_or_default();
    found
        .into_iter()
        .filter(|p| p != prefix && crate::store::TablePrefix::new(p).is_ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> Option<Value> {
        Some(Value::Text(s.to_owned()))
    }

    #[test]
    fn the_current_version_is_current() {
        assert_eq!(Version::classify(text("4")), Version::Current);
        assert_eq!(Version::classify(Some(Value::Integer(4))), Version::Current);
    }

    #[test]
    fn versions_one_to_three_are_older() {
        assert_eq!(Version::classify(text("1")), Version::Older(1));
        assert_eq!(Version::classify(text("2")), Version::Older(2));
        assert_eq!(Version::classify(text("3")), Version::Older(3));
    }

    #[test]
    fn a_larger_version_is_newer() {
        assert_eq!(Version::classify(text("99")), Version::Newer(99));
        assert_eq!(
            Version::classify(text("4294967295")),
            Version::Newer(u32::MAX)
        );
    }

    #[test]
    fn zero_negative_and_non_numbers_are_invalid() {
        for v in [
            "0",
            "-1",
            "abc",
            "",
            " 1",
            "1 ",
            "+1",
            "01",
            "1.0",
            "4294967296",
        ] {
            assert_eq!(
                Version::classify(text(v)),
                Version::Invalid(v.to_owned()),
                "{v:?}"
            );
        }
        assert!(matches!(
            Version::classify(Some(Value::Blob(vec![1]))),
            Version::Invalid(_)
        ));
    }

    #[test]
    fn no_row_or_null_is_missing() {
        assert_eq!(Version::classify(None), Version::Missing);
        assert_eq!(Version::classify(Some(Value::Null)), Version::Missing);
    }
}
