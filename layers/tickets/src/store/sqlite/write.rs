//! The write side: one batch per `BEGIN IMMEDIATE` transaction, and the spool's exactly-once
//! replay (a key recorded in `meta` in the same transaction).

use std::path::PathBuf;

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::rows::state_at;
use super::{kind_of, Sqlite};
use crate::store::{
    hour_of, Batch, Change, Level, Status, StatusChange, StatusEvent, TicketId, TicketWriter,
    Timestamp, WriteError, Written, WrittenTicket, OTHER_TAG_VALUE,
};

impl Sqlite {
    /// One batch in one transaction. With `once`, the batch is applied only when its key is
    /// not recorded in `meta` yet, and the key is recorded in the same transaction (the spool's
    /// exactly-once replay); `None` when it was recorded already.
    pub(super) fn write_tx(
        &mut self,
        batch: &Batch,
        once: Option<u64>,
    ) -> rusqlite::Result<Option<Written>> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let sql = &self.sql;
        if let Some(key) = once {
            if !spool_mark(&tx, &sql.prefix, key)? {
                return Ok(None);
            }
        }
        let mut written = Vec::with_capacity(batch.groups.len());
        for g in &batch.groups {
            let existing = tx
                .prepare_cached(&sql.select_state)?
                .query_row([&g.fingerprint], |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        state_at(r, 1, 2, 3)?,
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
                    let id = tx.last_insert_rowid();
                    written.push(WrittenTicket {
                        id: TicketId(id),
                        status: Status::Open,
                        change: Some(Change::Created),
                    });
                    (id, false, 0)
                }
                Some((id, mut state, has_first, stored)) => {
                    let change = state.apply(g);
                    let event = match change {
                        Some(Change::Regressed) => Some(StatusEvent::new(
                            state.regressed_at.unwrap_or(g.last_seen),
                            StatusChange::Regressed,
                        )),
                        Some(Change::Unmuted) => {
                            Some(StatusEvent::new(g.last_seen, StatusChange::Unmuted))
                        }
                        _ => None,
                    };
                    if let Some(e) = &event {
                        super::history::add(&tx, sql, id, e)?;
                    }
                    written.push(WrittenTicket {
                        id: TicketId(id),
                        status: state.status,
                        change,
                    });
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
            tx.prepare_cached(&sql.add_hour)?.execute(params![
                id,
                hour_of(g.last_seen),
                to_i64(g.count)
            ])?;
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
                        s.fields.as_str(),
                        s.spans.as_str(),
                        s.trace_id,
                        s.span_id,
                        s.service,
                        s.host,
                        s.pid,
                        s.thread,
                        s.release,
                        s.errors.as_str(),
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
        if let Some(cutoff) = batch.hourly_cutoff() {
            tx.prepare_cached(&sql.prune_hours)?.execute(params![
                cutoff,
                to_i64(crate::HOURLY_PRUNE_PER_WRITE as u64)
            ])?;
        }
        tx.commit()?;
        Ok(Some(Written::new(written)))
    }
}

/// How long the key of a replayed spool batch is remembered in `meta` (far longer than a
/// spool file can outlive its replay: it is deleted right after).
pub(super) const SPOOL_MARK_DAYS: i64 = 30;

/// Records spool batch `key` as applied in `meta` (key `spool:{16 hex}`, value the time in
/// microseconds), inside `tx`; `false` when it was recorded already. Marks older than
/// [`SPOOL_MARK_DAYS`] are dropped on the way.
pub(super) fn spool_mark(
    tx: &rusqlite::Transaction<'_>,
    prefix: &str,
    key: u64,
) -> rusqlite::Result<bool> {
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

pub(super) fn write_error(e: rusqlite::Error) -> WriteError {
    WriteError::new(kind_of(&e), e.to_string()).with_source(e)
}

pub(super) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl TicketWriter for Sqlite {
    fn write(&mut self, batch: &Batch) -> Result<Written, WriteError> {
        if batch.groups.is_empty() {
            return Ok(Written::default());
        }
        self.write_tx(batch, None)
            .map(Option::unwrap_or_default)
            .map_err(write_error)
    }

    /// `{file}-{prefix}spool`, beside the database file (none in memory).
    fn spool_path(&self) -> Option<PathBuf> {
        let path = self.path.as_ref()?;
        let mut name = path.file_name()?.to_owned();
        name.push(format!("-{}spool", self.sql.prefix));
        Some(path.with_file_name(name))
    }

    fn write_once(&mut self, batch: &Batch, key: u64) -> Result<bool, WriteError> {
        self.write_tx(batch, Some(key))
            .map(|w| w.is_some())
            .map_err(write_error)
    }
}
