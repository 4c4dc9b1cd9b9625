//! The status history's rows: one per status change, added in the transaction that makes the
//! change (triage, or a write that regresses or unmutes a ticket), read oldest first.

use rusqlite::{params, Connection};

use super::schema;
use super::Sql;
use crate::store::{StatusChange, StatusEvent, Timestamp};

/// Records `event` of ticket `id`.
pub(super) fn add(
    conn: &Connection,
    sql: &Sql,
    id: i64,
    event: &StatusEvent,
) -> rusqlite::Result<()> {
    let (release, until, count) = event.change.parts();
    conn.prepare_cached(&sql.add_history)?.execute(params![
        id,
        event.at.as_micros(),
        event.change.kind(),
        release,
        until,
        // a count past i64::MAX is stored as the largest one SQLite holds
        count.map(|n| i64::try_from(n).unwrap_or(i64::MAX)),
    ])?;
    Ok(())
}

/// The changes of ticket `id` in the order they were made; none in a database without the table (a
/// version before 4, opened read-only). A row of an unknown kind is skipped.
pub(super) fn read(conn: &Connection, sql: &Sql, id: i64) -> rusqlite::Result<Vec<StatusEvent>> {
    if !schema::has_history(conn, &sql.prefix)? {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(&sql.history)?;
    let rows = stmt.query_map([id], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<i64>>(3)?,
            r.get::<_, Option<i64>>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (at, kind, release, until, count) = row?;
        let count = count.map(|c| u64::try_from(c).unwrap_or(0));
        if let Some(change) = StatusChange::from_parts(&kind, release, until, count) {
            out.push(StatusEvent::new(Timestamp::from_micros(at), change));
        }
    }
    Ok(out)
}
