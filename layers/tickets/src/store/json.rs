//! Tickets and samples as JSON values, one form for every tool that prints or serves them.

use serde_json::{json, Value};

use super::{Mute, Occurrence, Status, Ticket, Timestamp};

fn opt_ts(t: Option<Timestamp>) -> Value {
    t.map_or(Value::Null, |t| Value::String(t.to_string()))
}

/// A ticket as JSON: every field, times as RFC 3339 text, `regressed` for an open ticket that
/// came back, the mute as `{"forever": true}`, `{"until": TIME}` or `{"remaining": N}`. What
/// `taskwire tickets --json` prints and the web UI's API answers.
///
/// ```
/// use taskwire_tickets::store::{ticket_to_json, Level, Ticket, TicketId, TicketSeed};
/// let seed = TicketSeed::new(Level::ERROR, "app::pay");
/// let v = ticket_to_json(&Ticket::new(TicketId(7), "f00d", seed));
/// assert_eq!((v["id"].as_i64(), v["status"].as_str()), (Some(7), Some("open")));
/// ```
pub fn ticket_to_json(t: &Ticket) -> Value {
    json!({
        "id": t.id.0,
        "fingerprint": t.fingerprint,
        "status": t.status.as_str(),
        "regressed": t.status == Status::Open && t.regressed_at.is_some(),
        "level": t.seed.level.as_str(),
        "service": t.seed.service,
        "target": t.seed.target,
        "module": t.seed.module,
        "file": t.seed.file,
        "line": t.seed.line,
        "title": t.title,
        "count": t.count,
        "first_seen": t.first_seen.to_string(),
        "last_seen": t.last_seen.to_string(),
        "resolved_at": opt_ts(t.resolved_at),
        "resolved_in_release": t.resolved_in_release,
        "regressed_at": opt_ts(t.regressed_at),
        "mute": t.mute.map(|m| match m {
            Mute::Forever => json!({"forever": true}),
            Mute::Until(u) => json!({"until": u.to_string()}),
            Mute::Count(n) => json!({"remaining": n}),
        }),
    })
}

/// A stored sample as JSON, its JSON columns (`fields`, `spans`, `errors`) nested as values.
///
/// ```
/// use taskwire_tickets::store::{occurrence_to_json, Occurrence, Sample, TicketId, Timestamp};
/// let o = Occurrence::new(1, TicketId(7), true, Sample::new(Timestamp::from_micros(0)));
/// assert_eq!(occurrence_to_json(&o)["fields"], serde_json::json!({}));
/// ```
pub fn occurrence_to_json(o: &Occurrence) -> Value {
    let s = &o.sample;
    let nested = |text: &str| serde_json::from_str::<Value>(text).unwrap_or(Value::Null);
    json!({
        "id": o.id,
        "first": o.first,
        "time": s.time.to_string(),
        "level": s.level.map(|l| l.as_str()),
        "message": s.message,
        "fields": nested(s.fields.as_str()),
        "spans": nested(s.spans.as_str()),
        "errors": nested(s.errors.as_str()),
        "trace_id": s.trace_id,
        "span_id": s.span_id,
        "service": s.service,
        "host": s.host,
        "pid": s.pid,
        "thread": s.thread,
        "release": s.release,
    })
}
