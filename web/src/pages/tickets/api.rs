//! The JSON beside the pages: `GET /api/tickets` (the list with the same query string as
//! `/tickets`) and `GET /api/tickets/{id}` (a ticket with its tags, hourly counts and samples).
//! Tickets and samples in the form `taskwire tickets --json` prints
//! ([`ticket_to_json`](taskwire_tickets::store::ticket_to_json)); nothing is clipped.

use axum::extract::{Path, Query, State};
use axum::Json;
use serde_json::{json, Value};
use taskwire_tickets::store::{
    occurrence_to_json as occurrence, ticket_to_json as ticket, Mute, StatusChange,
};

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
    v["history"] = d.history.as_ref().map_or(Value::Null, |h| {
        h.iter()
            .map(|e| {
                let mut o = json!({
                    "at": e.at.to_string(),
                    "change": e.change.kind(),
                    "by": if e.change.by_triage() { "triage" } else { "event" },
                });
                match &e.change {
                    StatusChange::Resolved { release } => o["release"] = json!(release),
                    StatusChange::Muted(m) => {
                        o["mute"] = match m {
                            Mute::Forever => json!({"forever": true}),
                            Mute::Until(u) => json!({"until": u.to_string()}),
                            Mute::Count(n) => json!({"count": n}),
                        }
                    }
                    _ => {}
                }
                o
            })
            .collect()
    });
    v["samples"] = d
        .samples
        .iter()
        .chain(d.first.iter())
        .map(occurrence)
        .collect();
    Ok(Json(v))
}
