//! `/tickets`: the stream, filtered, sorted and paged, a sparkline of the last 24 hours per
//! ticket.

use axum::extract::{Query, State};
use maud::{html, Markup};
use taskwire_tickets::store::{Ticket, Timestamp};

use super::{clip, hourly, Filters, LIST_HOURS};
use crate::pages::charts::sparkline;
use crate::pages::{ago, layout, when, PageError};
use crate::server::AppState;

/// The longest title shown in the list, in bytes (the ticket's page shows more).
const TITLE_BYTES: usize = 300;

/// What the list shows: one page of tickets, the total, the hourly counts.
pub(crate) struct Listing {
    pub(crate) tickets: Vec<Ticket>,
    pub(crate) total: u64,
    pub(crate) hours: Option<Vec<Vec<u64>>>,
    pub(crate) now: Timestamp,
}

/// Reads the page `filters` ask for.
pub(crate) async fn load(state: &AppState, filters: &Filters) -> Result<Listing, PageError> {
    let now = Timestamp::now();
    let q = filters.query(now);
    state
        .store
        .with(move |s| {
            let tickets = s.list(&q).map_err(|e| PageError::store(&e))?;
            let total = s.count(&q).map_err(|e| PageError::store(&e))?;
            let hours = hourly(&*s, &tickets, LIST_HOURS, now);
            Ok(Listing {
                tickets,
                total,
                hours,
                now,
            })
        })
        .await?
}

pub(crate) async fn page(
    State(state): State<AppState>,
    Query(filters): Query<Filters>,
) -> Result<Markup, PageError> {
    let l = load(&state, &filters).await?;
    Ok(layout("Tickets", "tickets", render(&filters, &l)))
}

fn selected(a: &str, b: &str) -> bool {
    a.eq_ignore_ascii_case(b)
}

fn render(f: &Filters, l: &Listing) -> Markup {
    let page = f.page();
    let first = (page - 1) * u64::from(f.limit()) + 1;
    let last = first + l.tickets.len() as u64 - 1;
    html! {
        h1 { "Tickets" }
        form.filters method="get" action=(crate::pages::href("/tickets")) {
            label { "Status "
                select name="status" {
                    @for s in ["open", "resolved", "muted", "all"] {
                        option value=(s) selected[f.status() == s] { (s) }
                    }
                }
            }
            label { "Level "
                select name="level" {
                    option value="" { "any" }
                    @for lv in ["ERROR", "WARN", "INFO", "DEBUG", "TRACE"] {
                        option value=(lv) selected[f.level().is_some_and(|l| selected(l.as_str(), lv))] { (lv) }
                    }
                }
            }
            label { "Service " input name="service" value=[f.service.as_deref()] size="12"; }
            label { "Release " input name="release" value=[f.release.as_deref()] size="10"; }
            label { "Seen in "
                select name="period" {
                    option value="" { "any time" }
                    @for (v, text) in [("1h", "last hour"), ("24h", "last 24 hours"), ("7d", "last 7 days"), ("14d", "last 14 days"), ("30d", "last 30 days")] {
                        option value=(v) selected[f.period() == Some(v)] { (text) }
                    }
                }
            }
            label { "From " input type="date" name="from" value=[Filters::day(&f.from)]; }
            label { "to " input type="date" name="to" value=[Filters::day(&f.to)]; }
            label { "Sort "
                select name="sort" {
                    @for (v, text) in [("last_seen", "last seen"), ("first_seen", "first seen"), ("count", "count")] {
                        option value=(v) selected[f.sort_key() == v] { (text) }
                    }
                }
            }
            input type="search" name="q" value=[f.q.as_deref()] placeholder="Search titles" aria-label="Search titles";
            button type="submit" { "Filter" }
        }
        p.summary {
            @if l.total == 0 { "No tickets match." }
            @else { "Tickets " (first) "–" (last) " of " (l.total) }
        }
        @if !l.tickets.is_empty() {
            table.tickets {
                thead { tr {
                    th { "Ticket" } th.num { "24h" } th.num { "Events" } th { "First seen" } th { "Last seen" } th { "Status" }
                } }
                tbody {
                    @for (i, t) in l.tickets.iter().enumerate() {
                        @let (title, cut) = clip(&t.title, TITLE_BYTES);
                        tr {
                            td.title {
                                span class={"level " (t.seed.level.as_str().to_ascii_lowercase())} { (t.seed.level.as_str()) }
                                " "
                                a href={(crate::pages::base()) "/tickets/" (t.id)} {
                                    @if title.is_empty() { "(no title)" } @else { (title) }
                                    @if cut > 0 { "…" }
                                }
                                div.meta {
                                    @if let Some(s) = &t.seed.service { span { (s) } " · " }
                                    span { (t.seed.target) }
                                    @if let Some(file) = &t.seed.file { " · " span { (file) @if let Some(n) = t.seed.line { ":" (n) } } }
                                }
                            }
                            td.num {
                                @if let Some(h) = l.hours.as_ref().and_then(|h| h.get(i)) {
                                    (sparkline(h, 96, 22, "events in the last 24 hours"))
                                }
                            }
                            td.num { (t.count) }
                            td title=(when(t.first_seen)) { (ago(t.first_seen, l.now)) }
                            td title=(when(t.last_seen)) { (ago(t.last_seen, l.now)) }
                            td { span class={"status " (t.status.as_str())} { (t.status.as_str()) }
                                @if t.regressed_at.is_some() && t.status.as_str() == "open" { " " span.regressed { "regressed" } } }
                        }
                    }
                }
            }
            nav.pages {
                @if page > 1 { a rel="prev" href=(f.href(page - 1)) { "← Previous" } }
                @if last < l.total { a rel="next" href=(f.href(page + 1)) { "Next →" } }
            }
        }
    }
}
