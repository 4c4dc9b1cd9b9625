//! The JSON beside the pages: `GET /api/tickets` (the list with the same query string as
//! `/tickets`) and `GET /api/tickets/{id}` (a ticket with its tags, hourly counts and samples).
//! Values are JSON strings as stored; nothing is clipped.

use axum::extract::{Path, Query, State};
use axum::Json;
use serde_json::{json, Value};
use taskwire_tickets::store::{Mute, Occurrence, Ticket};

use super::{detail, list, Filters};
use crate::pages::PageError;
use crate::server::AppState;

pub(crate) async fn list(
    State(state): State<AppState>,
    Query(filters): Query<Filters>,
) -> Result<Json<Value>, PageError> {
    let l = list::load(&state, &filters).await?;
    let tickets: Vec<Value> = l
        .tickets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let mut v = ticket(t);
            if let Some(h) = l.hours.as_ref().and_then(|h| h.get(i)) {
                v["hourly"] = json!(h);
            }
            v
        })
        .collect();
    Ok(Json(json!({
        "total": l.total,
        "offset": filters.query(l.now).offset,
        "tickets": tickets,
    })))
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, PageError> {
    let id: i64 = id
        .parse()
        .map_err(|_| PageError::not_found("A ticket id is a number."))?;
    let d = detail::load(&state, id).await?;
    let mut v = ticket(&d.ticket);
    v["tags"] = d
        .tags
        .iter()
        .map(|t| json!({"key": t.key, "value": t.value, "count": t.count}))
        .collect();
    v["hourly"] = json!(d.hours);
    v["samples"] = d
        .samples
        .iter()
        .chain(d.first.iter())
        .map(occurrence)
        .collect();
    Ok(Json(v))
}

fn ticket(t: &Ticket) -> Value {
    let mute = match t.mute {
        None => Value::Null,
        Some(Mute::Forever) => json!({"forever": true}),
        Some(Mute::Until(u)) => json!({"until": u.to_string()}),
        Some(Mute::Count(n)) => json!({"more_events": n}),
    };
    json!({
        "id": t.id.0,
        "fingerprint": t.fingerprint,
        "level": t.level.as_str(),
        "service": t.service,
        "target": t.target,
        "module": t.module,
        "file": t.file,
        "line": t.line,
        "title": t.title,
        "first_seen": t.first_seen.to_string(),
        "last_seen": t.last_seen.to_string(),
        "count": t.count,
        "status": t.status.as_str(),
        "resolved_at": t.resolved_at.map(|x| x.to_string()),
        "resolved_in_release": t.resolved_in_release,
        "regressed_at": t.regressed_at.map(|x| x.to_string()),
        "mute": mute,
    })
}

fn occurrence(o: &Occurrence) -> Value {
    let s = &o.sample;
    let raw =
        |t: &str| serde_json::from_str::<Value>(t).unwrap_or_else(|_| Value::String(t.to_owned()));
    json!({
        "id": o.id,
        "first": o.first,
        "time": s.time.to_string(),
        "level": s.level.map(|l| l.as_str()),
        "message": s.message,
        "fields": raw(s.fields.as_str()),
        "spans": raw(s.spans.as_str()),
        "errors": raw(s.errors.as_str()),
        "trace_id": s.trace_id,
        "span_id": s.span_id,
        "service": s.service,
        "host": s.host,
        "pid": s.pid,
        "thread": s.thread,
        "release": s.release,
    })
}
