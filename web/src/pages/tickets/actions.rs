//! `POST /tickets/{id}/{action}`: resolve, mute, reopen, delete. Each needs the form's CSRF
//! token and a same-origin request ([`crate::security`]); the answer is a redirect to the
//! ticket (to the open list after a delete).

use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Redirect;
use axum::Form;
use serde::Deserialize;
use taskwire_tickets::store::{Mute, TicketId, Timestamp};

use crate::pages::{parse_span, PageError};
use crate::server::AppState;

/// The fields of the triage forms.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ActionForm {
    #[serde(default)]
    csrf: String,
    /// `resolve`: the release it is fixed in.
    release: Option<String>,
    /// `mute`: for how long (`1h`, `7d`…).
    #[serde(rename = "for")]
    for_: Option<String>,
    /// `mute`: for this many more events.
    count: Option<String>,
}

enum Action {
    Resolve(Option<String>),
    Mute(Mute),
    Reopen,
    Delete,
}

fn action(name: &str, form: &ActionForm, now: Timestamp) -> Result<Action, PageError> {
    let text = |s: &Option<String>| {
        s.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    Ok(match name {
        "resolve" => Action::Resolve(text(&form.release)),
        "reopen" => Action::Reopen,
        "delete" => Action::Delete,
        "mute" => match (text(&form.count), text(&form.for_)) {
            (Some(n), _) => Action::Mute(Mute::Count(
                n.parse::<u64>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    PageError::new(
                        StatusCode::BAD_REQUEST,
                        "Mute for a number of events: a whole number above 0.",
                    )
                })?,
            )),
            (None, Some(d)) => {
                let us = parse_span(&d).ok_or_else(|| {
                    PageError::new(
                        StatusCode::BAD_REQUEST,
                        "Mute for a span such as 1h, 24h or 7d.",
                    )
                })?;
                Action::Mute(Mute::Until(Timestamp::from_micros(
                    now.as_micros().saturating_add(us),
                )))
            }
            (None, None) => Action::Mute(Mute::Forever),
        },
        _ => return Err(PageError::not_found("There is no such ticket action.")),
    })
}

pub(crate) async fn post(
    State(state): State<AppState>,
    Path((id, name)): Path<(String, String)>,
    headers: HeaderMap,
    form: Result<Form<ActionForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let form = form.map(|f| f.0).unwrap_or_default();
    if !state.secrets.csrf_ok(&headers, &form.csrf) {
        return Err(PageError::new(
            StatusCode::FORBIDDEN,
            "This change was refused: it did not come from a form of this page (its CSRF \
             token is missing or wrong, or the browser says another site sent it). Reload \
             the ticket and try again.",
        ));
    }
    let id: i64 = id
        .parse()
        .map_err(|_| PageError::not_found("A ticket id is a number."))?;
    let act = action(&name, &form, Timestamp::now())?;
    let deleted = matches!(act, Action::Delete);
    let found = state
        .store
        .with(move |s| {
            let id = TicketId(id);
            match act {
                Action::Resolve(r) => s.resolve(id, r.as_deref(), Timestamp::now()),
                Action::Mute(m) => s.mute(id, m),
                Action::Reopen => s.reopen(id),
                Action::Delete => s.delete(id),
            }
            .map_err(|e| PageError::store(&e))
        })
        .await??;
    if !found {
        return Err(PageError::not_found(format!("There is no ticket {id}.")));
    }
    Ok(if deleted {
        Redirect::to("/tickets")
    } else {
        Redirect::to(&format!("/tickets/{id}"))
    })
}
