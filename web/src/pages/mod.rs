//! The pages: the shared layout and navigation, error pages, and one module per section.
//!
//! | section | module | routes |
//! |---|---|---|
//! | Tickets | [`tickets`] | `/tickets`, `/tickets/{id}`, `POST /tickets/{id}/{action}`, `/api/tickets…` |
//! | Traces | [`traces`] | `/traces?trace=ID`: the trace id and the command that shows it (the waterfall comes with the explorer's trace model) |
//! | Live tail, Metrics | (none yet) | listed in the navigation, not linked |
//!
//! Every value from the store reaches HTML through maud's `(value)` splices, which escape it.

pub(crate) mod charts;
pub(crate) mod tickets;
pub(crate) mod traces;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};
use taskwire_tickets::store::Timestamp;

/// The sections in the navigation: label, path (`None`: not built yet), key.
const NAV: [(&str, Option<&str>, &str); 4] = [
    ("Tickets", Some("/tickets"), "tickets"),
    ("Traces", Some("/traces"), "traces"),
    ("Live tail", None, "live"),
    ("Metrics", None, "metrics"),
];

/// A whole page: head with the embedded stylesheet and script, the navigation with `current`
/// marked, and `body`.
pub(crate) fn layout(title: &str, current: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · taskwire" }
                link rel="stylesheet" href=(crate::assets::STYLE_PATH);
                script src=(crate::assets::SCRIPT_PATH) defer {}
            }
            body {
                header.top {
                    a.brand href="/tickets" { "taskwire" }
                    nav {
                        @for (label, path, key) in NAV {
                            @match path {
                                Some(p) => a href=(p) aria-current=[(key == current).then_some("page")] { (label) },
                                None => span.soon title="not built yet" { (label) },
                            }
                        }
                    }
                }
                main { (body) }
            }
        }
    }
}

/// A minimal page with a heading and a sentence (errors, the login prompt).
pub(crate) fn bare(title: &str, text: &str) -> Markup {
    layout(title, "", html! { h1 { (title) } p { (text) } })
}

/// A failed page: its status and a sentence for the reader.
#[derive(Debug)]
pub(crate) struct PageError {
    status: StatusCode,
    message: String,
}

impl PageError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn internal(message: impl Into<String>) -> PageError {
        PageError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> PageError {
        PageError::new(StatusCode::NOT_FOUND, message)
    }

    /// A store error, with its sources.
    pub(crate) fn store(e: &dyn std::error::Error) -> PageError {
        let mut m = e.to_string();
        let mut cur = e.source();
        while let Some(c) = cur {
            m.push_str(": ");
            m.push_str(&c.to_string());
            cur = c.source();
        }
        PageError::internal(format!("the tickets store failed: {m}"))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let title = if self.status == StatusCode::NOT_FOUND {
            "Not found"
        } else if self.status.is_client_error() {
            "Refused"
        } else {
            "Error"
        };
        (self.status, bare(title, &self.message)).into_response()
    }
}

/// The 404 page of unknown paths.
pub(crate) async fn not_found() -> PageError {
    PageError::not_found("There is no page at this address.")
}

/// `t` as `2025-01-02 03:04:05 UTC`.
pub(crate) fn when(t: Timestamp) -> String {
    let s = t.to_string();
    match (s.get(..10), s.get(11..19)) {
        (Some(d), Some(h)) => format!("{d} {h} UTC"),
        _ => s,
    }
}

/// How long before `now` `t` was: `12s ago`, `5m ago`, `3h ago`, `4d ago`.
pub(crate) fn ago(t: Timestamp, now: Timestamp) -> String {
    let s = (now.as_micros() - t.as_micros()).max(0) / 1_000_000;
    match s {
        0..=59 => format!("{s}s ago"),
        60..=3599 => format!("{}m ago", s / 60),
        3600..=86_399 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86_400),
    }
}

/// A duration written `90s`, `15m`, `2h`, `7d` (one unit), in microseconds.
pub(crate) fn parse_span(s: &str) -> Option<i64> {
    let s = s.trim();
    let unit = s.chars().last()?;
    let n: i64 = s[..s.len() - unit.len_utf8()].parse().ok()?;
    let per = match unit {
        's' => 1_000_000,
        'm' => 60_000_000,
        'h' => 3_600_000_000,
        'd' => 86_400_000_000,
        _ => return None,
    };
    (n > 0).then(|| n.saturating_mul(per))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_have_one_unit_and_are_positive() {
        assert_eq!(parse_span("2h"), Some(7_200_000_000));
        assert_eq!(parse_span("7d"), Some(7 * 86_400_000_000));
        assert_eq!(parse_span("0h"), None);
        assert_eq!(parse_span("h"), None);
        assert_eq!(parse_span("5y"), None);
        assert_eq!(parse_span("-1h"), None);
    }
}
