//! Filters, orders and pages of the query side.

use super::{Level, Status, TicketId, Timestamp};

/// The page setters of a query with `limit` and `offset` fields.
macro_rules! paged {
    ($query:ident) => {
        impl $query {
            /// At most `limit` results.
            #[must_use]
            pub fn with_limit(mut self, limit: u32) -> Self {
                self.limit = limit;
                self
            }

            /// Skipping the first `offset` results.
            #[must_use]
            pub fn with_offset(mut self, offset: u64) -> Self {
                self.offset = offset;
                self
            }
        }
    };
}

paged!(ListQuery);
paged!(OccurrenceQuery);

/// The order of [`TicketReader::list`](super::TicketReader::list).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sort {
    /// Newest last occurrence first.
    #[default]
    LastSeen,
    /// Highest count first.
    Count,
    /// Newest first occurrence first.
    FirstSeen,
}

/// Filters, order and page of [`TicketReader::list`](super::TicketReader::list).
///
/// Every filter that is set must match (they combine with AND).
///
/// ```
/// use taskwire_tickets::store::{Level, ListQuery, Sort, Status};
/// let q = ListQuery::default()
///     .with_status(Status::Open)
///     .with_level(Level::ERROR)
///     .with_service("checkout")
///     .with_search("timeout")
///     .with_sort(Sort::Count)
///     .with_limit(10);
/// assert_eq!(q.limit, 10);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListQuery {
    /// Only tickets with this status.
    pub status: Option<Status>,
    /// Only tickets last seen at or after this time.
    pub since: Option<Timestamp>,
    /// Only tickets first seen at or before this time (with `since`: tickets seen in the
    /// range).
    pub until: Option<Timestamp>,
    /// Only tickets of this level.
    pub level: Option<Level>,
    /// Only tickets of this service.
    pub service: Option<String>,
    /// Only tickets with an occurrence from this release (their `release` tag has the value).
    pub release: Option<String>,
    /// Only tickets whose title contains this text, ignoring the case of ASCII letters.
    pub search: Option<String>,
    /// The order.
    pub sort: Sort,
    /// At most this many (default 50).
    pub limit: u32,
    /// Skip this many first.
    pub offset: u64,
}

impl Default for ListQuery {
    fn default() -> Self {
        ListQuery {
            status: None,
            since: None,
            until: None,
            level: None,
            service: None,
            release: None,
            search: None,
            sort: Sort::LastSeen,
            limit: 50,
            offset: 0,
        }
    }
}

impl ListQuery {
    /// Only tickets with `status`.
    #[must_use]
    pub fn with_status(mut self, status: Status) -> Self {
        self.status = Some(status);
        self
    }

    /// Only tickets last seen at or after `since`.
    #[must_use]
    pub fn with_since(mut self, since: Timestamp) -> Self {
        self.since = Some(since);
        self
    }

    /// Only tickets first seen at or before `until`.
    #[must_use]
    pub fn with_until(mut self, until: Timestamp) -> Self {
        self.until = Some(until);
        self
    }

    /// Only tickets of `level`.
    #[must_use]
    pub fn with_level(mut self, level: Level) -> Self {
        self.level = Some(level);
        self
    }

    /// Only tickets of `service`.
    #[must_use]
    pub fn with_service(mut self, service: impl Into<String>) -> Self {
        self.service = Some(service.into());
        self
    }

    /// Only tickets with an occurrence from `release`.
    #[must_use]
    pub fn with_release(mut self, release: impl Into<String>) -> Self {
        self.release = Some(release.into());
        self
    }

    /// Only tickets whose title contains `text` (ASCII letters in any case).
    #[must_use]
    pub fn with_search(mut self, text: impl Into<String>) -> Self {
        self.search = Some(text.into());
        self
    }

    /// Sorted by `sort`.
    #[must_use]
    pub fn with_sort(mut self, sort: Sort) -> Self {
        self.sort = sort;
        self
    }
}

/// Occurrences of one ticket in one hour, as
/// [`TicketReader::hourly`](super::TicketReader::hourly) returns them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HourCount {
    /// The ticket.
    pub ticket: TicketId,
    /// The hour: whole hours since the Unix epoch (UTC), see [`hour_of`].
    pub hour: i64,
    /// How many occurrences were counted in it.
    pub count: u64,
}

/// The hour (whole hours since the Unix epoch, UTC) that `t` falls in.
///
/// ```
/// use taskwire_tickets::store::{hour_of, Timestamp};
/// assert_eq!(hour_of(Timestamp::from_micros(3_600_000_000 * 5 + 1)), 5);
/// assert_eq!(hour_of(Timestamp::from_micros(-1)), -1);
/// ```
pub fn hour_of(t: Timestamp) -> i64 {
    t.as_micros().div_euclid(3_600_000_000)
}

/// The order of [`TicketReader::occurrences`](super::TicketReader::occurrences), by time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum OccurrenceOrder {
    /// The newest sample first.
    #[default]
    NewestFirst,
    /// The oldest sample (the ticket's first) first.
    OldestFirst,
}

/// Which end of a ticket's samples
/// [`TicketReader::occurrences`](super::TicketReader::occurrences) starts from, and the page.
///
/// ```
/// use taskwire_tickets::store::{OccurrenceOrder, OccurrenceQuery};
/// let q = OccurrenceQuery::oldest().with_limit(5);
/// assert_eq!(q.order, OccurrenceOrder::OldestFirst);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OccurrenceQuery {
    /// Newest first (default) or oldest first.
    pub order: OccurrenceOrder,
    /// At most this many (default 20).
    pub limit: u32,
    /// Skip this many first.
    pub offset: u64,
}

impl Default for OccurrenceQuery {
    fn default() -> Self {
        OccurrenceQuery {
            order: OccurrenceOrder::NewestFirst,
            limit: 20,
            offset: 0,
        }
    }
}

impl OccurrenceQuery {
    /// The newest first.
    pub fn newest() -> Self {
        OccurrenceQuery::default()
    }

    /// The oldest first.
    pub fn oldest() -> Self {
        OccurrenceQuery::default().with_order(OccurrenceOrder::OldestFirst)
    }

    /// In `order`.
    #[must_use]
    pub fn with_order(mut self, order: OccurrenceOrder) -> Self {
        self.order = order;
        self
    }
}
