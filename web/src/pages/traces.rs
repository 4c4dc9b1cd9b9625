//! `/traces`: Jaeger's search and trace view over the log sources, on the explorer's trace
//! model ([`taskwire_explore::trace`]); in the in-app dashboard with a ring of recent tasks
//! (`Options::with_recent`), over the ring instead, rendered as the `task.end` records the
//! JSON layer writes and read by the same reader, and `/traces` alone lists its newest traces. The search box takes the explorer's query language
//! (a trace id, a pasted `traceparent`, a span id, a request id, fields, `service=`, `task=`,
//! `failed`, durations, time ranges); a query that names only a trace opens its waterfall,
//! any other lists the traces it finds. The waterfall shows every task of the trace across
//! services on one clock (skew adjustments listed), services coloured, failed tasks with their
//! reason, events as markers; a row opens (click) to its events with their fields, and each
//! error links to its ticket. [`link`] is the one place that builds a trace link.

use std::collections::HashMap;

use axum::extract::{Query as Params, State};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup};
use serde::Deserialize;
use taskwire_core::task_record::children;
use taskwire_explore::query::Query;
use taskwire_explore::source::Source;
use taskwire_explore::trace::{
    build, EventRef, Forest, Keep, Reader, Sort, TraceRef, TraceSummary,
};
use tracing_core::Level;

use crate::pages::charts::seconds;
use crate::pages::{base, href, layout, now_us, PageError};
use crate::server::AppState;

/// Traces listed at most.
const LIMIT: usize = 50;
/// Colours of services (CSS classes `s0`…).
const COLOURS: usize = 8;

#[derive(Debug, Default, Deserialize)]
pub(crate) struct TraceQuery {
    /// A trace id (the links of tickets and results).
    trace: Option<String>,
    /// A query of the explorer's language.
    q: Option<String>,
    /// `start` (default) or `duration`.
    sort: Option<String>,
}

/// Whether `id` is a W3C trace id: 32 lowercase hex digits, not all zero.
pub(crate) fn is_trace_id(id: &str) -> bool {
    id.len() == 32
        && id
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && id.bytes().any(|b| b != b'0')
}

/// The link to trace `id`, or `None` when it is not a trace id (nothing from the data becomes
/// part of a URL unchecked).
pub(crate) fn link(id: &str) -> Option<String> {
    is_trace_id(id).then(|| href(&format!("/traces?trace={id}")))
}

/// What was asked.
enum Ask {
    Nothing,
    Trace(u128),
    Search(Query),
}

/// What the logs answered.
struct Found {
    forest: Forest,
    problems: Vec<String>,
}

/// Reads the traces `reader` keeps: from the process's ring of recent tasks when the app has
/// one (the in-app dashboard), else from the log sources.
fn read(state: &AppState, reader: Reader) -> Found {
    let mut reader = reader.with_events(true);
    let mut problems = Vec::new();
    if let Some(recent) = &state.recent {
        let mut records = Vec::new();
        recent.write_records(&mut records);
        if let Err(e) = reader.read_lines(records.as_slice()) {
            problems.push(format!("recent tasks: {e}"));
        }
    } else {
        let (files, errors) = state.logs.files();
        problems = errors;
        // all at once: a trace's or a query's lines are picked by substring search over
        // blocks, the files scanned in parallel (`Reader::read_sources`)
        let sources: Vec<Source> = files.into_iter().map(Source::File).collect();
        for (source, read) in sources.iter().zip(reader.read_sources(&sources)) {
            if let Err(e) = read {
                problems.push(format!("{source}: {e}"));
            }
        }
    }
    Found {
        forest: build(reader.finish(), Keep::default()),
        problems,
    }
}

pub(crate) async fn page(
    State(state): State<AppState>,
    Params(p): Params<TraceQuery>,
) -> Result<Response, PageError> {
    let q = p.q.as_deref().map(str::trim).unwrap_or("");
    let sort = match p.sort.as_deref() {
        Some("duration") => Sort::Duration,
        _ => Sort::Start,
    };
    let mut problem = None;
    let ask = if let Some(id) = p.trace.as_deref().filter(|t| is_trace_id(t)) {
        Ask::Trace(u128::from_str_radix(id, 16).unwrap_or_default())
    } else if p.trace.is_some() {
        problem = Some("That is not a trace id (32 hex digits).".to_owned());
        Ask::Nothing
    } else if q.is_empty() {
        Ask::Nothing
    } else {
        match q.parse::<Query>() {
            Ok(query) => match query.trace_id() {
                Some(t) if query.is_trace_only() => Ask::Trace(t),
                _ => Ask::Search(query),
            },
            Err(e) => {
                problem = Some(format!("That query cannot be read: {e}"));
                Ask::Nothing
            }
        }
    };
    let form = html! {
        form.filters method="get" action={(base()) "/traces"} {
            input type="search" name="q" value=(q) placeholder="trace id, trace=4bf92f35, traceparent, request id, service=back failed, duration>100ms …" aria-label="Search traces";
            label { "Sort "
                select name="sort" {
                    option value="start" selected[sort == Sort::Start] { "start" }
                    option value="duration" selected[sort == Sort::Duration] { "duration" }
                }
            }
            button type="submit" { "Search" }
        }
    };
    let no_logs = state.logs.is_empty() && state.recent.is_none();
    let body = match ask {
        Ask::Nothing if problem.is_none() && state.recent.is_some() => {
            let st = state.clone();
            let mut found = tokio::task::spawn_blocking(move || read(&st, Reader::new()))
                .await
                .map_err(|_| PageError::internal("reading the recent tasks stopped"))?;
            let results = found.forest.search(Sort::Start, None);
            let newest: Vec<&TraceSummary> = results.traces().iter().rev().take(LIMIT).collect();
            html! {
                h1 { "Recent traces" }
                (form)
                @for p in &found.problems { p.problem { (p) } }
                p.summary { (results.total()) " recent trace" @if results.total() != 1 { "s" }
                    " in this process's ring"
                    @if let Some(r) = &state.recent { " (" (r.len()) " of at most " (r.capacity()) " tasks kept, " (r.dropped()) " dropped)" }
                    @if results.total() > newest.len() { ", the newest " (newest.len()) " shown" } "." }
                (table(newest))
            }
        }
        Ask::Nothing => html! {
            h1 { "Traces" }
            (form)
            @if let Some(p) = &problem { p.problem { (p) } }
            @if no_logs { (no_sources()) }
        },
        Ask::Trace(id) => {
            let st = state.clone();
            let found = tokio::task::spawn_blocking(move || read(&st, Reader::for_trace(id)))
                .await
                .map_err(|_| PageError::internal("reading the logs stopped"))?;
            let tickets = ticket_ids(&state, &found.forest).await;
            let hex = format!("{id:032x}");
            let out = state.trace_link.as_ref().and_then(|l| l.url(&hex));
            html! {
                (form)
                @for p in &found.problems { p.problem { (p) } }
                @if let Some(out) = &out {
                    p.trace-out { a.trace-out href=(out) rel="noopener noreferrer" { "view trace in the trace viewer" } }
                }
                @match found.forest.trace(id) {
                    Some(t) => (waterfall(&t, &tickets)),
                    None => {
                        h1 { "Trace " code { (format!("{id:032x}")) } }
                        @if state.recent.is_some() {
                            p { "No task of this trace is in the process's recent tasks: the ring keeps the last ones only." }
                        } @else {
                            p { "No task of this trace is in the log sources." }
                        }
                        @if no_logs { (no_sources()) }
                        pre.cmd { "taskwire tree --trace " (format!("{id:032x}")) " LOGS…" }
                    }
                }
            }
        }
        Ask::Search(query) => {
            let st = state.clone();
            let now = now_us();
            let mut found =
                tokio::task::spawn_blocking(move || read(&st, Reader::with_query(&query, now)))
                    .await
                    .map_err(|_| PageError::internal("reading the logs stopped"))?;
            let results = found.forest.search(sort, Some(LIMIT));
            html! {
                h1 { "Traces" }
                (form)
                @for p in &found.problems { p.problem { (p) } }
                p.summary { (results.total()) " trace" @if results.total() != 1 { "s" } " found"
                    @if results.total() > results.traces().len() { ", the first " (results.traces().len()) " shown" } "." }
                (table(results.traces().iter()))
            }
        }
    };
    Ok(layout("Traces", "traces", body).into_response())
}

/// The results list: one row per trace, linked to its waterfall.
fn table<'a>(traces: impl IntoIterator<Item = &'a TraceSummary>) -> Markup {
    html! {
        table.traces {
            thead { tr { th { "trace" } th { "services" } th { "started" } th.num { "duration" } th.num { "tasks" } th.num { "failed" } } }
            tbody {
                @for t in traces {
                    @let id = format!("{:032x}", t.trace_id());
                    tr {
                        td { a href=(link(&id).unwrap_or_default()) { (t.root()) } div.meta { code { (id) } } }
                        td { @for s in t.services() { span.svc { (s) } " " } }
                        td { (crate::pages::when(taskwire_tickets::store::Timestamp::from_micros(t.start_us()))) }
                        td.num { (seconds(t.duration_us() as f64 / 1e6)) }
                        td.num { (t.tasks()) }
                        td.num.errors[t.failed() > 0] { (t.failed()) }
                    }
                }
            }
        }
    }
}

fn no_sources() -> Markup {
    html! { p.soon { "No log sources: start taskwire serve with --logs FILE… or name them in taskwire.toml." } }
}

/// The ticket id of each error fingerprint in the forest, from the store.
async fn ticket_ids(state: &AppState, forest: &Forest) -> HashMap<u64, i64> {
    let fps = forest.ticket_fingerprints();
    if fps.is_empty() {
        return HashMap::new();
    }
    state
        .store
        .with(move |s| {
            fps.iter()
                .filter_map(|&fp| {
                    let t = s.find(&format!("{fp:016x}")).ok().flatten()?;
                    Some((fp, t.id.0))
                })
                .collect()
        })
        .await
        .unwrap_or_default()
}

/// The waterfall of one trace.
fn waterfall(t: &TraceRef<'_>, tickets: &HashMap<u64, i64>) -> Markup {
    let services: Vec<&str> = t.services().collect();
    let colour = |s: Option<&str>| {
        let i = s
            .and_then(|s| services.iter().position(|x| *x == s))
            .unwrap_or(0);
        format!("s{}", i % COLOURS)
    };
    let start = t.start_us();
    let total = (t.duration_us() as f64).max(1.0);
    let x = |us: i64| ((us - start) as f64 / total * 1000.0).clamp(0.0, 1000.0);
    let id = format!("{:032x}", t.id());
    html! {
        h1 { "Trace " (t.root_name().unwrap_or("(no root)")) }
        p.summary {
            code { (id) } " · " (seconds(t.duration_us() as f64 / 1e6)) " · " (t.task_count()) " tasks · "
            @for s in &services { span class={"svc " (colour(Some(s)))} { (s) } " " }
            @if t.failed() > 0 { " · " span.errors { (t.failed()) " failed" } }
        }
        @if !t.skews().is_empty() {
            ul.skews {
                @for s in t.skews() {
                    li { "Clock skew: " strong { (s.service()) } "'s times moved by "
                        (if s.offset_us() >= 0 { "+" } else { "-" }) (seconds(s.offset_us().unsigned_abs() as f64 / 1e6))
                        " onto " (s.relative_to()) "'s clock." }
                }
            }
        }
        div.waterfall {
            div.axis { span { "0" } span { (seconds(t.duration_us() as f64 / 1e6)) } }
            @for n in t.nodes() {
                @let c = colour(n.service());
                details class={"span d" (n.depth().min(12)) @if n.failed() { " failed" }} {
                    summary {
                        span.name { (n.name()) }
                        span class={"svc " (c)} { (n.service().unwrap_or("?")) }
                        svg.span width="100%" height="14" viewBox="0 0 1000 14" preserveAspectRatio="none" role="img" aria-label="timing" {
                            rect class={"bar " (c)} x=(format!("{:.1}", x(n.start_us())))
                                width=(format!("{:.1}", (x(n.end_us()) - x(n.start_us())).max(2.0))) y="2" height="10" {}
                            @for e in n.events() {
                                rect class={"ev" @if e.level() == Level::ERROR { " error" }} x=(format!("{:.1}", (x(e.at_us()) - 1.5).max(0.0))) y="0" width="3" height="14" {
                                    title { (e.msg()) }
                                }
                            }
                        }
                        span.dur { "+" (seconds((n.start_us() - start) as f64 / 1e6)) " · " (seconds(n.duration_us() as f64 / 1e6)) }
                    }
                    div.detail {
                        dl.facts {
                            dt { "service" } dd { (n.service().unwrap_or("?")) }
                            @if let Some(target) = n.target() { dt { "target" } dd { (target) } }
                            dt { "span id" } dd { code { (format!("{:016x}", n.span_id())) } }
                            dt { "start" } dd { "+" (seconds((n.start_us() - start) as f64 / 1e6))
                                @if n.start_clamped() { " (moved to its parent's start: clocks disagree)" } }
                            dt { "duration" } dd { (seconds(n.duration_us() as f64 / 1e6)) ", busy " (seconds(n.busy_us() as f64 / 1e6)) }
                            @if n.failed() { dt { "failed" } dd.errors { (n.failure().unwrap_or("(no reason recorded)")) } }
                            @if n.remote_parent() { dt { "parent" } dd { "in another process" } }
                            @if n.calls_unread_service() { dt { "calls" } dd { "a service whose log was not read" } }
                            @if let Some(a) = n.attributes() { dt { "fields" } dd { code { (a) } } }
                            @if n.summarised_children() > 0 { dt { "summarised" } dd.children { (children(n.summarised_children(), n.children_summary())) } }
                        }
                        @if n.events().len() > 0 {
                            ol.events {
                                @for e in n.events() { li { (event(&e, start, tickets)) } }
                            }
                        }
                    }
                }
            }
        }
        @let unattached: Vec<EventRef<'_>> = t.unattached().collect();
        @if !unattached.is_empty() {
            h2 { "Events outside the tasks read" }
            ol.events { @for e in &unattached { li { (event(e, start, tickets)) } } }
        }
    }
}

/// The descendants a task's record summarises (quick tasks the record policy did not write):
/// `+3 children: validate ×2 (1.20ms), db.query ×1 (0.40ms)`, total time per name.
fn children<'f>(n: u64, groups: impl Iterator<Item = children::Group<'f>>) -> Markup {
    html! {
        "+" (n) @if n == 1 { " child" } @else { " children" }
        @for (i, g) in groups.enumerate() {
            @if i == 0 { ": " } @else { ", " }
            @if g.name == children::OTHER { "other" } @else { (g.name) }
            " ×" (g.count) " (" (seconds(g.total_us as f64 / 1e6)) ")"
        }
    }
}

/// One event: its offset, level, message, ticket and fields.
fn event(e: &EventRef<'_>, start: i64, tickets: &HashMap<u64, i64>) -> Markup {
    let ticket = e.ticket_fingerprint().and_then(|fp| tickets.get(&fp));
    html! {
        span.at { "+" (seconds((e.at_us() - start) as f64 / 1e6)) } " "
        span class={"level " (e.level().as_str().to_ascii_lowercase())} { (e.level().as_str()) } " "
        span.msg { (e.msg()) }
        @if let Some(id) = ticket {
            " " a.ticket href=(href(&format!("/tickets/{id}"))) { "ticket #" (id) }
        }
        @if let Some(f) = e.fields() { div.fields { code { (f) } } }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_w3c_trace_ids_become_links() {
        assert!(link("4bf92f3577b34da6a3ce929d0e0e4736").is_some());
        for bad in [
            "",
            "00000000000000000000000000000000",
            "4BF92F3577B34DA6A3CE929D0E0E4736",
            "javascript:alert(1)//aaaaaaaaaaaaa",
            "4bf92f3577b34da6a3ce929d0e0e473",
            "4bf92f3577b34da6a3ce929d0e0e4736&x=1",
        ] {
            assert!(link(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn a_summary_names_each_group_and_escapes_names() {
        let text = "validate:2:1200:800;<b>x</b>:1:400:400;(other):3:90:40";
        let html = children(6, children::parse(text)).into_string();
        assert_eq!(
            html,
            "+6 children: validate ×2 (1.20ms), &lt;b&gt;x&lt;/b&gt; ×1 (400µs), other ×3 (90µs)"
        );
        assert_eq!(
            children(1, children::parse("a:1:5:5")).into_string(),
            "+1 child: a ×1 (5µs)"
        );
    }
}
