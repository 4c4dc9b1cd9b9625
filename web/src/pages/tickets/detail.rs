//! `/tickets/{id}`: a ticket's aggregate details, status history, triage forms, hourly chart,
//! tag breakdowns and samples (structured context as a collapsible tree, errors with their
//! sources, backtrace, span chain, trace id).

use axum::extract::{Path, State};
use maud::{html, Markup};
use serde_json::Value;
use taskwire_tickets::store::{
    Mute, Occurrence, OccurrenceQuery, Status, StatusChange, StatusEvent, TagCount, Ticket,
    Timestamp,
};

use super::{clip, hourly};
use crate::pages::charts::{bar, sparkline};
use crate::pages::{layout, traces, when, PageError};
use crate::security::safe_href;
use crate::server::AppState;
use crate::trace_link::TraceLink;

/// Hours in the ticket page's chart.
pub(crate) const DETAIL_HOURS: i64 = 48;
/// Samples shown.
const SAMPLES: u32 = 10;
/// The longest string value shown in full, in bytes (the JSON API has all of it).
const VALUE_BYTES: usize = 10_000;
/// Nesting shown in the context tree.
const MAX_DEPTH: usize = 24;

/// What a ticket's page shows.
pub(crate) struct Detail {
    pub(crate) ticket: Ticket,
    pub(crate) tags: Vec<TagCount>,
    pub(crate) samples: Vec<Occurrence>,
    pub(crate) first: Option<Occurrence>,
    pub(crate) hours: Option<Vec<u64>>,
    /// The stored status changes, oldest first (`None`: the store keeps none).
    pub(crate) history: Option<Vec<StatusEvent>>,
}

/// Reads ticket `id` with its tags, samples and hourly counts.
pub(crate) async fn load(state: &AppState, id: i64) -> Result<Detail, PageError> {
    let now = Timestamp::now();
    state
        .store
        .with(move |s| {
            let id = taskwire_tickets::store::TicketId(id);
            let ticket = s
                .get(id)
                .map_err(|e| PageError::store(&e))?
                .ok_or_else(|| PageError::not_found(format!("There is no ticket {id}.")))?;
            let tags = s.tags(id).map_err(|e| PageError::store(&e))?;
            let samples = s
                .occurrences(id, &OccurrenceQuery::newest().with_limit(SAMPLES))
                .map_err(|e| PageError::store(&e))?;
            let first = if samples.iter().any(|o| o.first) {
                None
            } else {
                s.occurrences(id, &OccurrenceQuery::oldest().with_limit(1))
                    .map_err(|e| PageError::store(&e))?
                    .into_iter()
                    .find(|o| o.first)
            };
            let hours = hourly(&*s, std::slice::from_ref(&ticket), DETAIL_HOURS, now)
                .and_then(|mut h| h.pop());
            // A store of one's own may keep no history: the page then derives it.
            let history = s.history(id).ok();
            Ok(Detail {
                ticket,
                tags,
                samples,
                first,
                hours,
                history,
            })
        })
        .await?
}

pub(crate) async fn page(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Markup, PageError> {
    let id: i64 = id
        .parse()
        .map_err(|_| PageError::not_found("A ticket id is a number."))?;
    let d = load(&state, id).await?;
    let (title, _) = clip(&d.ticket.title, 200);
    let trace_link = state.trace_link.as_deref();
    Ok(layout(
        title,
        "tickets",
        render(&d, state.secrets.csrf(), trace_link),
    ))
}

/// The tags of `key`, highest count first (as the store orders them).
fn values<'a>(tags: &'a [TagCount], key: &'a str) -> impl Iterator<Item = &'a TagCount> {
    tags.iter().filter(move |t| t.key == key)
}

fn render(d: &Detail, csrf: &str, trace_link: Option<&TraceLink>) -> Markup {
    let t = &d.ticket;
    let (title, cut) = clip(&t.title, VALUE_BYTES);
    let releases: Vec<&str> = values(&d.tags, "release")
        .map(|t| t.value.as_str())
        .collect();
    let mut keys: Vec<&str> = d.tags.iter().map(|t| t.key.as_str()).collect();
    keys.dedup();
    html! {
        p.crumbs { a href=(crate::pages::href("/tickets")) { "Tickets" } " / " (t.id) }
        h1.ticket-title {
            span class={"level " (t.seed.level.as_str().to_ascii_lowercase())} { (t.seed.level.as_str()) } " "
            @if title.is_empty() { "(no title)" } @else { (title) }
            @if cut > 0 { span.cut { " …" (cut) " more bytes" } }
        }
        p.meta {
            span class={"status " (t.status.as_str())} { (t.status.as_str()) }
            @if let Some(s) = &t.seed.service { " · " (s) }
            " · " (t.seed.target)
            @if let Some(f) = &t.seed.file { " · " (f) @if let Some(n) = t.seed.line { ":" (n) } }
            @if let Some(m) = t.seed.module.as_ref().filter(|m| **m != t.seed.target) { " · " (m) }
        }
        (actions(t, csrf))
        section.overview {
            dl.facts {
                dt { "Events" } dd.count { (t.count) }
                dt { "First seen" } dd { (when(t.first_seen)) }
                dt { "Last seen" } dd { (when(t.last_seen)) }
                dt { "Releases" } dd {
                    @if releases.is_empty() { "none recorded" }
                    @for (i, r) in releases.iter().enumerate() { @if i > 0 { ", " } code { (r) } }
                }
                dt { "Fingerprint" } dd { code { (t.fingerprint) } }
            }
            div.chart {
                h2 { "Events per hour, last 48 hours" }
                @match &d.hours {
                    Some(h) => (sparkline(h, 480, 60, "events in the last 48 hours")),
                    None => p { "This store keeps no hourly counts." },
                }
            }
        }
        section {
            h2 { "Status history" }
            (history(t, d.history.as_deref()))
        }
        @if !keys.is_empty() {
            section.tags {
                h2 { "Tags" }
                @for key in &keys {
                    @let vals: Vec<&TagCount> = values(&d.tags, key).collect();
                    @let total: u64 = vals.iter().map(|v| v.count).sum();
                    div.tag {
                        h3 { (key) }
                        table.bars {
                            @for v in vals.iter().take(10) {
                                tr {
                                    td.value { @let (s, c) = clip(&v.value, 200); (s) @if c > 0 { "…" } }
                                    td { (bar(v.count, total, 160)) }
                                    td.num { (v.count) }
                                    td.num { (pct(v.count, total)) "%" }
                                }
                            }
                        }
                        @if vals.len() > 10 { p.more { (vals.len() - 10) " more values" } }
                    }
                }
            }
        }
        section.samples {
            h2 { "Samples" }
            @if d.samples.is_empty() && d.first.is_none() { p { "No samples stored." } }
            @for (i, o) in d.samples.iter().chain(d.first.iter()).enumerate() {
                (sample(o, i == 0, trace_link))
            }
        }
    }
}

fn pct(part: u64, whole: u64) -> String {
    if whole == 0 {
        return "0".into();
    }
    format!("{:.0}", part as f64 * 100.0 / whole as f64)
}

/// A stored status change as the history shows it: what, and who made it.
fn change_text(c: &StatusChange) -> String {
    let what = match c {
        StatusChange::Resolved { release: Some(r) } => format!("resolved in release {r}"),
        StatusChange::Resolved { release: None } => "resolved".to_owned(),
        StatusChange::Muted(Mute::Forever) => "muted until reopened by hand".to_owned(),
        StatusChange::Muted(Mute::Until(u)) => format!("muted until {}", when(*u)),
        StatusChange::Muted(Mute::Count(n)) => format!("muted for {n} more events"),
        StatusChange::Reopened => "reopened".to_owned(),
        StatusChange::Regressed => "regressed: reopened by a new event".to_owned(),
        StatusChange::Unmuted => "unmuted: its mute ended with a new event".to_owned(),
        _ => c.kind().to_owned(),
    };
    let by = if c.by_triage() {
        "by triage"
    } else {
        "by an event"
    };
    format!("{what} ({by})")
}

/// The ticket's status changes: its first event, then the stored history in the order the
/// changes were made when the store keeps one, else what the ticket itself records (latest
/// resolution and regression, by time).
fn history(t: &Ticket, stored: Option<&[StatusEvent]>) -> Markup {
    let mut rows: Vec<(Timestamp, String)> = vec![(t.first_seen, "opened (first event)".into())];
    if let Some(events) = stored {
        rows.extend(events.iter().map(|e| (e.at, change_text(&e.change))));
    } else if let Some(at) = t.resolved_at {
        let what = match &t.resolved_in_release {
            Some(r) => format!("resolved in release {r}"),
            None => "resolved".into(),
        };
        rows.push((at, what));
    }
    if let (None, Some(at)) = (stored, t.regressed_at) {
        rows.push((at, "regressed: reopened by a new event".into()));
    }
    if stored.is_none() {
        rows.sort_by_key(|r| r.0);
    }
    let now = match (t.status, t.mute) {
        (Status::Muted, Some(Mute::Forever) | None) => "muted until reopened by hand".to_owned(),
        (Status::Muted, Some(Mute::Until(u))) => format!("muted until {}", when(u)),
        (Status::Muted, Some(Mute::Count(n))) => format!("muted for {n} more events"),
        (s, _) => s.as_str().to_owned(),
    };
    html! {
        ol.history {
            @for (at, what) in &rows { li { time { (when(*at)) } " " (what) } }
            li.now { "now: " (now) }
        }
    }
}

/// The triage forms: each a POST with the CSRF token.
fn actions(t: &Ticket, csrf: &str) -> Markup {
    let url = |a: &str| crate::pages::href(&format!("/tickets/{}/{a}", t.id));
    html! {
        div.actions {
            @if t.status != Status::Resolved {
                form method="post" action=(url("resolve")) {
                    input type="hidden" name="csrf" value=(csrf);
                    input name="release" placeholder="in release (optional)" size="16" aria-label="Resolved in release";
                    button type="submit" name="do" value="resolve" { "Resolve" }
                }
            }
            @if t.status != Status::Muted {
                form method="post" action=(url("mute")) {
                    input type="hidden" name="csrf" value=(csrf);
                    select name="for" aria-label="Mute for" {
                        option value="" { "until reopened" }
                        option value="1h" { "for 1 hour" }
                        option value="24h" { "for 24 hours" }
                        option value="7d" { "for 7 days" }
                    }
                    input name="count" type="number" min="1" placeholder="or N more events" aria-label="Mute for N more events";
                    button type="submit" { "Mute" }
                }
            }
            @if t.status != Status::Open {
                form method="post" action=(url("reopen")) {
                    input type="hidden" name="csrf" value=(csrf);
                    button type="submit" { "Reopen" }
                }
            }
            form.delete method="post" action=(url("delete")) data-confirm="Delete this ticket with its samples and tags?" {
                input type="hidden" name="csrf" value=(csrf);
                button.danger type="submit" { "Delete" }
            }
        }
    }
}

/// One sample: a `<details>` with its message, where it ran, its trace, errors, spans and
/// fields.
fn sample(o: &Occurrence, open: bool, trace_link: Option<&TraceLink>) -> Markup {
    let s = &o.sample;
    let fields = parse(s.fields.as_str());
    let spans = parse(s.spans.as_str());
    let errors = parse(s.errors.as_str());
    let backtrace = fields
        .as_object()
        .and_then(|f| f.get("backtrace").or_else(|| f.get("error.backtrace")))
        .and_then(Value::as_str);
    let (message, cut) = clip(&s.message, VALUE_BYTES);
    html! {
        details.sample open[open] {
            summary {
                time { (when(s.time)) } " "
                @if o.first { span.first { "first" } " " }
                span.msg { (message) @if cut > 0 { "…" } }
            }
            dl.where {
                @if let Some(l) = &s.level { dt { "Level" } dd { (l.as_str()) } }
                @if let Some(v) = &s.service { dt { "Service" } dd { (v) } }
                dt { "Host" } dd { (s.host) " · pid " (s.pid) " · thread " (s.thread) }
                @if let Some(r) = &s.release { dt { "Release" } dd { (r) } }
                @if let Some(tr) = &s.trace_id {
                    dt { "Trace" }
                    dd.trace {
                        code { (tr) }
                        @if let Some(out) = trace_link.and_then(|l| l.url(tr)) {
                            " " a.trace-out href=(out) rel="noopener noreferrer" { "view trace" }
                        }
                        @if let Some(link) = traces::link(tr) {
                            " " a.trace-logs href=(link) {
                                @if trace_link.is_some() { "waterfall from the logs" } @else { "view trace" }
                            }
                            div.cmd { "Show it: " code { "taskwire tree --trace " (tr) " LOGS…" } }
                        }
                    }
                }
                @if let Some(sp) = &s.span_id { dt { "Span id" } dd { code { (sp) } } }
            }
            @if let Some(list) = errors.as_array().filter(|l| !l.is_empty()) {
                h3 { "Errors" }
                @for e in list {
                    div.error {
                        strong { (text(e.get("field"))) } ": " (text(e.get("message")))
                        @if let Some(src) = e.get("source").and_then(Value::as_array).filter(|s| !s.is_empty()) {
                            ol.sources { @for c in src { li { "caused by: " (text(Some(c))) } } }
                        }
                    }
                }
            }
            @if let Some(bt) = backtrace {
                h3 { "Backtrace" }
                @let (b, c) = clip(bt, VALUE_BYTES);
                pre.backtrace { (b) @if c > 0 { "\n… " (c) " more bytes" } }
            }
            @if let Some(list) = spans.as_array().filter(|l| !l.is_empty()) {
                h3 { "Span chain" }
                ol.spans {
                    @for sp in list {
                        li {
                            code { (text(sp.get("name"))) }
                            @if let Some(f) = sp.get("fields").filter(|f| f.as_object().is_some_and(|o| !o.is_empty())) {
                                " " (tree(f, 1))
                            }
                        }
                    }
                }
            }
            h3 { "Fields" }
            (tree(&fields, 0))
        }
    }
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// A JSON string's text, or any other value as JSON.
fn text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => clip(s, VALUE_BYTES).0.to_owned(),
        Some(v) => {
            let s = v.to_string();
            clip(&s, VALUE_BYTES).0.to_owned()
        }
        None => String::new(),
    }
}

/// A JSON value as a tree: objects and arrays as `<details>` (open near the top), leaves as
/// text; an `http(s)` URL string as a link.
fn tree(v: &Value, depth: usize) -> Markup {
    if depth > MAX_DEPTH {
        return html! { span.deep { "… deeper levels not shown" } };
    }
    match v {
        Value::Object(map) if map.is_empty() => html! { span.empty { "{}" } },
        Value::Array(list) if list.is_empty() => html! { span.empty { "[]" } },
        Value::Object(map) => html! {
            dl.tree {
                @for (k, v) in map {
                    @if branch(v) {
                        dt.branch { (k) }
                        dd { details open[depth < 2] { summary { (summary(v)) } (tree(v, depth + 1)) } }
                    } @else {
                        dt { (k) } dd { (leaf(v)) }
                    }
                }
            }
        },
        Value::Array(list) => html! {
            ol.tree start="0" {
                @for v in list {
                    li {
                        @if branch(v) {
                            details open[depth < 2] { summary { (summary(v)) } (tree(v, depth + 1)) }
                        } @else { (leaf(v)) }
                    }
                }
            }
        },
        v => leaf(v),
    }
}

/// A non-empty object or array: shown as a subtree (an empty one is a leaf, `{}` or `[]`).
fn branch(v: &Value) -> bool {
    match v {
        Value::Object(m) => !m.is_empty(),
        Value::Array(l) => !l.is_empty(),
        _ => false,
    }
}

fn summary(v: &Value) -> String {
    match v {
        Value::Object(m) => format!("{{…}} {} keys", m.len()),
        Value::Array(l) => format!("[…] {} items", l.len()),
        _ => String::new(),
    }
}

fn leaf(v: &Value) -> Markup {
    match v {
        Value::String(s) => {
            let (shown, cut) = clip(s, VALUE_BYTES);
            html! {
                @match safe_href(s) {
                    Some(href) => a.ext href=(href) rel="noopener noreferrer nofollow" target="_blank" { (shown) },
                    None => span.str { (shown) },
                }
                @if cut > 0 { span.cut { " … " (cut) " more bytes" } }
            }
        }
        Value::Null => html! { span.null { "null" } },
        Value::Object(_) => html! { span.empty { "{}" } },
        Value::Array(_) => html! { span.empty { "[]" } },
        v => html! { span.lit { (v.to_string()) } },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_context_tree_escapes_keys_and_values_and_links_only_http() {
        let v: Value = serde_json::from_str(
            r#"{"<b>k</b>": "<script>x()</script>", "u": "javascript:x()", "w": "https://a.example/?q=<i>",
                "e": [], "o": {}, "n": {"deep": [1, null, true]}}"#,
        )
        .unwrap();
        let html = tree(&v, 0).into_string();
        assert!(html.contains("&lt;b&gt;k&lt;/b&gt;"), "{html}");
        assert!(html.contains("&lt;script&gt;x()&lt;/script&gt;"), "{html}");
        assert!(!html.contains("<script") && !html.contains("<b>"), "{html}");
        assert!(!html.contains("href=\"javascript"), "{html}");
        assert!(
            html.contains("href=\"https://a.example/?q=&lt;i&gt;\""),
            "{html}"
        );
        assert_eq!(
            html.matches("<details").count(),
            2,
            "n and its array: {html}"
        );
    }

    #[test]
    fn a_long_value_is_cut_for_display_with_the_rest_counted() {
        let long = "é".repeat(VALUE_BYTES);
        let html = leaf(&Value::String(long)).into_string();
        assert!(
            html.contains(&format!("{} more bytes", VALUE_BYTES)),
            "{}",
            &html[html.len() - 100..]
        );
    }
}
