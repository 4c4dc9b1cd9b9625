//! Tickets and occurrences read from rows.

use crate::store::transition::State;
use crate::store::{
    JsonText, Level, Occurrence, Sample, Status, Ticket, TicketId, TicketSeed, Timestamp,
};

pub(super) const TICKET_COLUMNS: &str =
    "id, fingerprint, level, service, target, module, file, line, title, \
    first_seen, last_seen, count, status, resolved_at, resolved_in_release, regressed_at, \
    mute_until, mute_until_count";

pub(super) fn ticket_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Ticket> {
    let state = state_at(r, 12, 11, 13)?;
    let mut t = Ticket::new(TicketId(r.get(0)?), r.get::<_, String>(1)?, seed_at(r, 2)?);
    t.title = r.get(8)?;
    t.first_seen = Timestamp::from_micros(r.get(9)?);
    t.last_seen = Timestamp::from_micros(r.get(10)?);
    state.fill(&mut t);
    Ok(t)
}

/// A ticket's seed from a row: `level`, `service`, `target`, `module`, `file` and `line`, in
/// the columns from `level` on.
fn seed_at(r: &rusqlite::Row<'_>, level: usize) -> rusqlite::Result<TicketSeed> {
    Ok(TicketSeed {
        level: r.get::<_, String>(level)?.parse().unwrap_or(Level::ERROR),
        service: r.get(level + 1)?,
        target: r.get(level + 2)?,
        module: r.get(level + 3)?,
        file: r.get(level + 4)?,
        line: r.get(level + 5)?,
    })
}

pub(super) const OCCURRENCE_COLUMNS: &str =
    "id, ticket_id, is_first, time, level, message, fields, spans, \
    trace_id, span_id, service, host, pid, thread, release, errors";

pub(super) fn occurrence_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Occurrence> {
    let mut s = Sample::new(Timestamp::from_micros(r.get(3)?));
    s.level = r
        .get::<_, Option<String>>(4)?
        .and_then(|l| l.parse::<Level>().ok());
    s.message = r.get(5)?;
    s.fields = JsonText::from_stored(r.get(6)?);
    s.spans = JsonText::from_stored(r.get(7)?);
    s.trace_id = r.get(8)?;
    s.span_id = r.get(9)?;
    s.service = r.get(10)?;
    s.host = r.get(11)?;
    s.pid = r.get(12)?;
    s.thread = r.get(13)?;
    s.release = r.get(14)?;
    s.errors = JsonText::from_stored(r.get(15)?);
    Ok(Occurrence::new(
        r.get(0)?,
        TicketId(r.get(1)?),
        r.get(2)?,
        s,
    ))
}

/// A ticket's status fields from a row: `status` and `count` at their columns, then
/// `resolved_at`, `resolved_in_release`, `regressed_at`, `mute_until` and `mute_until_count`
/// from column `resolved` on.
pub(super) fn state_at(
    r: &rusqlite::Row<'_>,
    status: usize,
    count: usize,
    resolved: usize,
) -> rusqlite::Result<State> {
    let time = |i: usize| -> rusqlite::Result<Option<Timestamp>> {
        Ok(r.get::<_, Option<i64>>(i)?.map(Timestamp::from_micros))
    };
    Ok(State {
        status: Status::parse(&r.get::<_, String>(status)?).unwrap_or(Status::Open),
        count: r.get::<_, i64>(count)?.max(0) as u64,
        resolved_at: time(resolved)?,
        resolved_in_release: r.get(resolved + 1)?,
        regressed_at: time(resolved + 2)?,
        mute_until: time(resolved + 3)?,
        mute_until_count: r
            .get::<_, Option<i64>>(resolved + 4)?
            .map(|c| c.max(0) as u64),
    })
}
