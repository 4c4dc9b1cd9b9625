//! Filters, orders and pages of the query side.

use super::{Status, Timestamp};

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
/// ```
/// use taskwire_tickets::store::{ListQuery, Sort, Status};
/// let q = ListQuery::default().with_status(Status::Open).with_sort(Sort::Count).with_limit(10);
/// assert_eq!(q.limit, 10);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ListQuery {
    /// Only tickets with this status.
    pub status: Option<Status>,
    /// Only tickets seen at or after this time.
    pub since: Option<Timestamp>,
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

    /// Sorted by `sort`.
    #[must_use]
    pub fn with_sort(mut self, sort: Sort) -> Self {
        self.sort = sort;
        self
    }
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
