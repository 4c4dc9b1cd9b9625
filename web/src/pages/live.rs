//! `/live`: the live tail. New lines of the log sources as they are written, streamed as
//! server-sent events (`/live/stream`), filtered by the explorer's query language, shown by
//! the embedded script with `textContent` (never as markup).
//!
//! One stream per open page: a thread follows the live files
//! ([`taskwire_explore::follow`]: rotations and truncations included) from their last
//! [`BACKLOG`] lines, every [`POLL`], and sends what it found as one event: `{"sent": lines
//! sent so far, "lines": [[level, text], …]}`, the text as `taskwire tail` prints it
//! ([`taskwire_explore::pretty`], no colors). The channel to the connection is bounded: a
//! slow connection makes the thread wait, lines wait in the files, none is lost on the
//! server. The page keeps at most its cap of rows (the oldest go first, counted as dropped),
//! so a fast stream cannot freeze it.
//!
//! Follower threads are capped ([`Followers`], `Options::with_max_live_streams`): a stream
//! beyond the cap is answered `503 Service Unavailable` with a sentence saying so, and a slot
//! is free again as soon as its follower sees the connection gone (at its next poll, or at
//! once when it was waiting to send).

use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query as Params, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::stream;
use maud::html;
use serde::Deserialize;
use taskwire_core::schema::header;
use taskwire_explore::follow::{Follow, Start};
use taskwire_explore::pretty::{Pretty, Record};
use taskwire_explore::query::{Matcher, Query};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::pages::{base, layout, now_us, PageError};
use crate::server::AppState;

/// How long the follower waits when nothing new came.
const POLL: Duration = Duration::from_millis(50);
/// Lines of each file shown when the page opens.
pub(crate) const BACKLOG: usize = 20;
/// Lines in one event at most.
const BATCH: usize = 4096;
/// Characters of a line's text shown at most (the rest is counted).
const MAX_TEXT: usize = 2_000;
/// Rows a page keeps by default, and at most.
const DEFAULT_CAP: usize = 1000;
const MAX_CAP: usize = 20_000;

/// The follower slots of the live tail: one per open stream, at most the configured number.
#[derive(Clone, Debug)]
pub(crate) struct Followers {
    slots: Arc<Semaphore>,
    max: usize,
}

impl Followers {
    pub(crate) fn new(max: usize) -> Followers {
        Followers {
            slots: Arc::new(Semaphore::new(max.min(Semaphore::MAX_PERMITS))),
            max,
        }
    }

    /// A slot, held by a follower thread until it ends; `None` when all are taken.
    fn take(&self) -> Option<OwnedSemaphorePermit> {
        self.slots.clone().try_acquire_owned().ok()
    }

    /// The refusal of a stream beyond the cap.
    fn full(&self) -> PageError {
        PageError::new(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "The live tail already has its most streams open ({} at once): close another \
                 live tail page, or raise the limit (--max-live-streams, [web] \
                 max_live_streams in taskwire.toml).",
                self.max
            ),
        )
    }
}

/// The page's query string.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct LiveParams {
    /// A query of the explorer's language.
    q: Option<String>,
    /// Rows kept on the page.
    cap: Option<String>,
}

impl LiveParams {
    fn query(&self) -> Result<Query, PageError> {
        let q = self.q.as_deref().unwrap_or("").trim();
        q.parse::<Query>().map_err(|e| {
            PageError::new(
                axum::http::StatusCode::BAD_REQUEST,
                format!("That query cannot be read: {e}"),
            )
        })
    }

    fn cap(&self) -> usize {
        self.cap
            .as_deref()
            .and_then(|c| c.trim().parse().ok())
            .filter(|&c| c > 0)
            .map_or(DEFAULT_CAP, |c: usize| c.min(MAX_CAP))
    }
}

/// `GET /live`: the page; the script opens the stream.
pub(crate) async fn page(State(state): State<AppState>, Params(p): Params<LiveParams>) -> Response {
    let base = base();
    let query_error = p.query().err();
    let (files, errors) = state.logs.live_files();
    let q = p.q.as_deref().unwrap_or("");
    let body = html! {
        h1 { "Live tail" }
        form.filters method="get" action={(base) "/live"} {
            input type="search" name="q" value=(q) placeholder="Query: level>=warn service=front failed …" aria-label="Query";
            label { "Keep " input type="number" name="cap" value=(p.cap()) min="1" max=(MAX_CAP) size="6"; " rows" }
            button type="submit" { "Filter" }
        }
        @if let Some(e) = &query_error {
            p.problem { (e.message()) }
        }
        @for e in &errors { p.problem { (e) } }
        @if state.logs.is_empty() {
            p.soon { "No log sources: start taskwire serve with --logs FILE… or name them in taskwire.toml." }
        } @else if files.is_empty() {
            p.soon { "None of the log sources names a file to follow." }
        }
        @if query_error.is_none() && !files.is_empty() {
            div #live data-stream={(base) "/live/stream"} data-cap=(p.cap()) {
                div.live-bar {
                    button #live-pause type="button" { "Pause" }
                    span #live-state { "connecting" }
                    span { "following " (files.len()) " file" @if files.len() != 1 { "s" } }
                    span { "on page " strong #live-shown { "0" } }
                    span { "dropped " strong #live-dropped { "0" } }
                    span { "held " strong #live-held { "0" } }
                    span { "sent " strong #live-sent { "0" } }
                }
                div #live-rows role="log" aria-live="off" {}
            }
        }
    };
    layout("Live tail", "live", body).into_response()
}

/// `GET /live/stream`: the server-sent events of the page.
pub(crate) async fn events(
    State(state): State<AppState>,
    Params(p): Params<LiveParams>,
) -> Result<Response, PageError> {
    let query = p.query()?;
    let matcher = (!query.is_empty()).then(|| Matcher::new(&query, now_us()));
    let slot = state
        .followers
        .take()
        .ok_or_else(|| state.followers.full())?;
    let (files, _) = state.logs.live_files();
    let (tx, rx) = tokio::sync::mpsc::channel::<String>(8);
    std::thread::Builder::new()
        .name("taskwire-live".into())
        .spawn(move || {
            follow(files, matcher, tx);
            drop(slot);
        })
        .map_err(|e| PageError::internal(format!("cannot start following the logs: {e}")))?;
    let events = stream::unfold(rx, |mut rx| async move {
        let data = rx.recv().await?;
        Some((Ok::<_, Infallible>(Event::default().data(data)), rx))
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response())
}

/// The follower thread of one stream: until the connection is gone, polls the files and
/// sends what matched. The first event (maybe empty) says the files are open.
fn follow(files: Vec<PathBuf>, matcher: Option<Matcher>, tx: tokio::sync::mpsc::Sender<String>) {
    let mut followed: Vec<Follow> = files
        .iter()
        .filter_map(|f| Follow::open(f, Start::LastLines(BACKLOG)).ok())
        .collect();
    let pretty = Pretty::new();
    let mut sent: u64 = 0;
    let mut batch: Vec<(String, String)> = Vec::new();
    let mut first = true;
    let mut buf = Vec::new();
    loop {
        for f in &mut followed {
            // A file that cannot be read now may be back at the next poll.
            let _ = f.poll(|line| {
                if let Some(row) = row(line, matcher.as_ref(), &pretty, &mut buf) {
                    batch.push(row);
                }
            });
        }
        if batch.is_empty() && !first {
            if tx.is_closed() {
                return;
            }
            std::thread::sleep(POLL);
            continue;
        }
        first = false;
        let mut rest = batch.as_slice();
        loop {
            let (now, later) = rest.split_at(rest.len().min(BATCH));
            sent += now.len() as u64;
            let data = serde_json::json!({ "sent": sent, "lines": now }).to_string();
            if tx.blocking_send(data).is_err() {
                return;
            }
            rest = later;
            if rest.is_empty() {
                break;
            }
        }
        batch.clear();
    }
}

/// The row of `line`: its level and its text as `taskwire tail` shows it; `None` when the
/// query does not match it.
fn row(
    line: &[u8],
    matcher: Option<&Matcher>,
    pretty: &Pretty,
    buf: &mut Vec<u8>,
) -> Option<(String, String)> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if let Some(m) = matcher {
        m.match_line(line)?;
    }
    buf.clear();
    let level = match Record::parse(line) {
        Some(r) => {
            pretty.record(&r, buf);
            r.str(header::LEVEL).unwrap_or("").to_owned()
        }
        None => {
            buf.extend_from_slice(line);
            String::new()
        }
    };
    let text = String::from_utf8_lossy(buf);
    let text = text.trim_end_matches('\n');
    Some((level, cut(text)))
}

/// `text`, at most [`MAX_TEXT`] characters and a note of how many bytes were left out.
fn cut(text: &str) -> String {
    match text.char_indices().nth(MAX_TEXT) {
        Some((at, _)) => format!("{}… ({} more bytes)", &text[..at], text.len() - at),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_row_is_the_tail_line_with_its_level_and_a_query_filters() {
        let line = br#"{"ts":"2026-11-21T10:00:00Z","level":"ERROR","service":"front","msg":"<b>declined</b>"}"#;
        let (level, text) = row(line, None, &Pretty::new(), &mut Vec::new()).unwrap();
        assert_eq!(level, "ERROR");
        assert!(text.contains("<b>declined</b>"), "{text}");
        let q: Query = "service=back".parse().unwrap();
        let m = Matcher::new(&q, 0);
        assert!(row(line, Some(&m), &Pretty::new(), &mut Vec::new()).is_none());
        let (level, text) = row(b"plain text", None, &Pretty::new(), &mut Vec::new()).unwrap();
        assert_eq!((level.as_str(), text.as_str()), ("", "plain text"));
    }

    #[test]
    fn long_lines_are_cut_on_a_character_boundary() {
        let long = "é".repeat(MAX_TEXT + 5);
        let c = cut(&long);
        assert!(c.ends_with("… (10 more bytes)"), "{}", &c[c.len() - 30..]);
        assert_eq!(
            c.chars().count(),
            MAX_TEXT + "… (10 more bytes)".chars().count()
        );
        assert_eq!(cut("short"), "short");
    }

    #[test]
    fn the_cap_is_bounded() {
        let p = |c: &str| {
            LiveParams {
                q: None,
                cap: Some(c.into()),
            }
            .cap()
        };
        assert_eq!(p("50"), 50);
        assert_eq!(p("0"), DEFAULT_CAP);
        assert_eq!(p("x"), DEFAULT_CAP);
        assert_eq!(p("99999999"), MAX_CAP);
    }
}
