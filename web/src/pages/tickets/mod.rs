//! The Tickets section, Sentry's issue stream over the tickets store: the list with its
//! filters ([`list`]), a ticket's page ([`detail`]), the triage forms' POST handler
//! ([`actions`]) and the JSON API beside them ([`api`]).

pub(crate) mod actions;
pub(crate) mod api;
pub(crate) mod detail;
pub(crate) mod list;

use axum::response::Redirect;
use serde::Deserialize;
use taskwire_tickets::store::{
    hour_of, Level, ListQuery, Sort, Status, Ticket, TicketId, Timestamp,
};
use taskwire_tickets::TicketReader;

use taskwire_core::time::parse_rfc3339_us;

use super::parse_span;

/// `/`: the open tickets.
pub(crate) async fn root() -> Redirect {
    Redirect::to("/tickets")
}

/// Hours in a list sparkline.
pub(crate) const LIST_HOURS: i64 = 24;

/// The list's query string, as typed (every field text, so a bad value is ignored rather than
/// refused).
#[derive(Clone, Debug, Default, Deserialize)]
pub(crate) struct Filters {
    /// `open` (default), `resolved`, `muted` or `all`.
    pub(crate) status: Option<String>,
    /// A level name, any case.
    pub(crate) level: Option<String>,
    pub(crate) service: Option<String>,
    pub(crate) release: Option<String>,
    /// Seen within this span before now: `1h`, `24h`, `7d`…
    pub(crate) period: Option<String>,
    /// Last seen on or after this day (`YYYY-MM-DD`, UTC) or time (RFC 3339).
    pub(crate) from: Option<String>,
    /// First seen on or before this day (`YYYY-MM-DD`, UTC, the whole day) or time (RFC 3339).
    pub(crate) to: Option<String>,
    /// Title text.
    pub(crate) q: Option<String>,
    /// `last_seen` (default), `first_seen` or `count`.
    pub(crate) sort: Option<String>,
    /// 1-based.
    pub(crate) page: Option<String>,
    /// Tickets per page, 1 to 100 (default 25).
    pub(crate) limit: Option<String>,
}

fn nonempty(s: &Option<String>) -> Option<&str> {
    s.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

impl Filters {
    pub(crate) fn status(&self) -> &str {
        match nonempty(&self.status) {
            Some(s @ ("open" | "resolved" | "muted" | "all")) => s,
            _ => "open",
        }
    }

    pub(crate) fn level(&self) -> Option<Level> {
        nonempty(&self.level).and_then(|l| l.parse().ok())
    }

    pub(crate) fn sort(&self) -> Sort {
        match nonempty(&self.sort) {
            Some("count") => Sort::Count,
            Some("first_seen") => Sort::FirstSeen,
            _ => Sort::LastSeen,
        }
    }

    pub(crate) fn sort_key(&self) -> &'static str {
        match self.sort() {
            Sort::Count => "count",
            Sort::FirstSeen => "first_seen",
            _ => "last_seen",
        }
    }

    pub(crate) fn limit(&self) -> u32 {
        nonempty(&self.limit)
            .and_then(|l| l.parse::<u32>().ok())
            .unwrap_or(25)
            .clamp(1, 100)
    }

    pub(crate) fn page(&self) -> u64 {
        nonempty(&self.page)
            .and_then(|p| p.parse::<u64>().ok())
            .unwrap_or(1)
            .clamp(1, 1_000_000)
    }

    pub(crate) fn period(&self) -> Option<&str> {
        nonempty(&self.period).filter(|p| parse_span(p).is_some())
    }

    /// `from` in microseconds: the start of its day, or its time.
    pub(crate) fn start_us(&self) -> Option<i64> {
        nonempty(&self.from).and_then(|d| day_or_time(d).map(|(t, _)| t))
    }

    /// `to` in microseconds: the last microsecond of its day, or its time.
    pub(crate) fn end_us(&self) -> Option<i64> {
        nonempty(&self.to).and_then(|d| {
            day_or_time(d).map(|(t, day)| if day { t + 86_400_000_000 - 1 } else { t })
        })
    }

    /// `from` or `to` as a date input shows it: a valid `YYYY-MM-DD`, else nothing.
    pub(crate) fn day(value: &Option<String>) -> Option<&str> {
        nonempty(value).filter(|d| matches!(day_or_time(d), Some((_, true))))
    }

    /// The store query of these filters at `now`.
    pub(crate) fn query(&self, now: Timestamp) -> ListQuery {
        let mut q = ListQuery::default()
            .with_sort(self.sort())
            .with_limit(self.limit())
            .with_offset((self.page() - 1) * u64::from(self.limit()));
        if let Some(s) = Status::parse(self.status()) {
            q = q.with_status(s);
        }
        if let Some(l) = self.level() {
            q = q.with_level(l);
        }
        if let Some(s) = nonempty(&self.service) {
            q = q.with_service(s);
        }
        if let Some(r) = nonempty(&self.release) {
            q = q.with_release(r);
        }
        if let Some(t) = nonempty(&self.q) {
            q = q.with_search(t);
        }
        let period = self
            .period()
            .and_then(parse_span)
            .map(|us| now.as_micros().saturating_sub(us));
        if let Some(since) = period.into_iter().chain(self.start_us()).max() {
            q = q.with_since(Timestamp::from_micros(since));
        }
        if let Some(until) = self.end_us() {
            q = q.with_until(Timestamp::from_micros(until));
        }
        q
    }

    /// The query string of these filters with `page` (and nothing empty), for links.
    pub(crate) fn href(&self, page: u64) -> String {
        let mut parts = vec![format!("status={}", self.status())];
        let mut add = |k: &str, v: Option<&str>| {
            if let Some(v) = v {
                parts.push(format!("{k}={}", percent_encode(v)));
            }
        };
        add("level", nonempty(&self.level));
        add("service", nonempty(&self.service));
        add("release", nonempty(&self.release));
        add("period", self.period());
        add(
            "from",
            nonempty(&self.from).filter(|_| self.start_us().is_some()),
        );
        add("to", nonempty(&self.to).filter(|_| self.end_us().is_some()));
        add("q", nonempty(&self.q));
        add("sort", Some(self.sort_key()));
        if page > 1 {
            parts.push(format!("page={page}"));
        }
        if self.limit() != 25 {
            parts.push(format!("limit={}", self.limit()));
        }
        format!("/tickets?{}", parts.join("&"))
    }
}

/// A day (`YYYY-MM-DD`, UTC: its start, `true`) or an RFC 3339 time (`false`), in
/// microseconds since the Unix epoch.
fn day_or_time(s: &str) -> Option<(i64, bool)> {
    if s.len() == 10 {
        parse_rfc3339_us(&format!("{s}T00:00:00Z")).map(|t| (t, true))
    } else {
        parse_rfc3339_us(s).map(|t| (t, false))
    }
}

/// Everything but ASCII letters, digits and `-._~` as `%XX`.
pub(crate) fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Per ticket of `tickets`, its counts of the `hours` hours up to `now`'s (oldest first);
/// `None` when the store keeps no hourly counts.
pub(crate) fn hourly(
    store: &dyn TicketReader,
    tickets: &[Ticket],
    hours: i64,
    now: Timestamp,
) -> Option<Vec<Vec<u64>>> {
    let to = hour_of(now);
    let from = to - hours + 1;
    let ids: Vec<TicketId> = tickets.iter().map(|t| t.id).collect();
    let counts = store.hourly(&ids, from, to).ok()?;
    let mut out = vec![vec![0u64; hours as usize]; tickets.len()];
    for c in counts {
        if let Some(i) = tickets.iter().position(|t| t.id == c.ticket) {
            if let Some(slot) = usize::try_from(c.hour - from)
                .ok()
                .and_then(|h| out[i].get_mut(h))
            {
                *slot += c.count;
            }
        }
    }
    Some(out)
}

/// The first `max` bytes of `s` (at a character boundary), and how many were left out.
pub(crate) fn clip(s: &str, max: usize) -> (&str, usize) {
    if s.len() <= max {
        return (s, 0);
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    (&s[..end], s.len() - end)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(q: &str) -> Filters {
        serde_urlencoded_like(q)
    }

    /// The filters of a query string, as axum's `Query` would parse them.
    fn serde_urlencoded_like(q: &str) -> Filters {
        let uri: axum::http::Uri = format!("/tickets?{q}").parse().unwrap();
        axum::extract::Query::<Filters>::try_from_uri(&uri)
            .unwrap()
            .0
    }

    #[test]
    fn bad_values_fall_back_to_the_defaults() {
        let x = f("status=gone&level=loud&sort=x&page=-1&limit=100000&period=5y");
        assert_eq!(x.status(), "open");
        assert_eq!(x.level(), None);
        assert_eq!(x.sort(), Sort::LastSeen);
        assert_eq!(x.page(), 1);
        assert_eq!(x.limit(), 100);
        assert_eq!(x.period(), None);
    }

    #[test]
    fn links_keep_the_filters_encoded() {
        let x = f("status=all&q=a%26b%3D%22c&service=checkout&sort=count");
        assert_eq!(
            x.href(3),
            "/tickets?status=all&service=checkout&q=a%26b%3D%22c&sort=count&page=3"
        );
        let q = x.query(Timestamp::from_micros(0));
        assert_eq!(q.search.as_deref(), Some("a&b=\"c"));
        assert_eq!(q.status, None);
        assert_eq!(q.offset, 0);
    }

    #[test]
    fn a_day_range_covers_whole_days_and_a_period_narrows_it() {
        let x = f("from=2026-01-02&to=2026-01-03");
        let q = x.query(Timestamp::from_micros(0));
        let day = 86_400_000_000_i64;
        let jan2 = taskwire_core::time::days_from_civil(2026, 1, 2) * day;
        assert_eq!(q.since, Some(Timestamp::from_micros(jan2)));
        assert_eq!(q.until, Some(Timestamp::from_micros(jan2 + 2 * day - 1)));
        assert_eq!(
            x.href(1),
            "/tickets?status=open&from=2026-01-02&to=2026-01-03&sort=last_seen"
        );
        let now = Timestamp::from_micros(jan2 + 10 * day);
        let q = f("from=2026-01-02&period=1h").query(now);
        assert_eq!(
            q.since,
            Some(Timestamp::from_micros(now.as_micros() - 3_600_000_000))
        );
        let q = f("from=2026-13-02&to=yesterday").query(now);
        assert_eq!((q.since, q.until), (None, None));
        let q = f("to=2026-01-02T10:00:00Z").query(now);
        assert_eq!(
            q.until,
            Some(Timestamp::from_micros(jan2 + 10 * 3_600_000_000))
        );
        assert_eq!(Filters::day(&Some("2026-01-02".into())), Some("2026-01-02"));
        assert_eq!(Filters::day(&Some("2026-02-30".into())), None);
    }

    #[test]
    fn clipping_keeps_whole_characters() {
        assert_eq!(clip("héllo", 2), ("h", 5));
        assert_eq!(clip("abc", 5), ("abc", 0));
    }
}
