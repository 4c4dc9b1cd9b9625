//! The [`Store`] trait, the records it reads and writes, and its error types.
//!
//! A store has a write side, used by the layer's writer thread ([`Store::write`]: one
//! [`Batch`] of coalesced counts, tag counts and samples per transaction), and a query side,
//! used by `taskwire tickets` and by programs that show their tickets ([`Store::list`],
//! [`Store::get`], [`Store::occurrences`], [`Store::tags`], and the status changes
//! [`Store::resolve`], [`Store::mute`], [`Store::reopen`], [`Store::delete`]).
//!
//! The trait is synchronous and object safe: the layer moves a `Box<dyn Store>` to its writer
//! thread, so a store backed by an async client (MongoDB) owns its runtime and blocks on it.
//! Errors are this crate's own types; a backend's error is kept as their `source()`.
//!
//! Every store implements the same rules, which [`crate::conformance`] checks:
//!
//! - a [`GroupUpdate`] creates the ticket of its fingerprint or adds its count to it (counts
//!   are exact sums), widens first/last seen, fills an empty title;
//! - a resolved ticket that receives an occurrence newer than its resolution reopens and is
//!   marked regressed, unless it was resolved in a release and the occurrence comes from that
//!   same release;
//! - a muted ticket keeps counting; it reopens (without being a regression) once its condition
//!   ends: the first occurrence at or after [`Mute::Until`], or the occurrence that exceeds
//!   [`Mute::Count`] more;
//! - per ticket the first sample and the newest [`Batch::samples_per_ticket`] are kept;
//! - per ticket and tag key at most [`Batch::max_tag_values`] distinct values are kept; further
//!   values are counted under [`OTHER_TAG_VALUE`].

#[cfg(feature = "mongodb")]
pub mod mongodb;
#[cfg(feature = "sqlite")]
pub mod sqlite;

mod error;
// The status rules the built-in stores share. A build with neither (for a store of one's own,
// which implements the rules itself and checks them with `conformance`) has no use for it.
#[cfg(any(feature = "sqlite", feature = "mongodb", test))]
pub(crate) mod transition;

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

pub use error::{ErrorKind, OpenError, QueryError, UpdateError, WriteError};
pub use tracing_core::Level;

/// The tag value under which values beyond a key's cap are counted.
pub const OTHER_TAG_VALUE: &str = "(other)";

/// A point in time: microseconds since the Unix epoch, UTC.
///
/// ```
/// use taskwire_tickets::store::Timestamp;
/// let t = Timestamp::from_micros(1_700_000_000_123_456);
/// assert_eq!(t.to_string(), "2023-11-14T22:13:20.123456Z");
/// assert!(Timestamp::now() > t);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The time `micros` microseconds after the Unix epoch.
    pub const fn from_micros(micros: i64) -> Self {
        Timestamp(micros)
    }

    /// Microseconds since the Unix epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// The current time.
    pub fn now() -> Self {
        Timestamp::from(SystemTime::now())
    }

    /// This time as a `SystemTime`.
    pub fn to_system_time(self) -> SystemTime {
        if self.0 >= 0 {
            UNIX_EPOCH + Duration::from_micros(self.0.unsigned_abs())
        } else {
            UNIX_EPOCH - Duration::from_micros(self.0.unsigned_abs())
        }
    }

    /// This time plus `d` (saturating).
    #[must_use]
    pub fn saturating_add(self, d: Duration) -> Self {
        let us = i64::try_from(d.as_micros()).unwrap_or(i64::MAX);
        Timestamp(self.0.saturating_add(us))
    }
}

impl From<SystemTime> for Timestamp {
    fn from(t: SystemTime) -> Self {
        match t.duration_since(UNIX_EPOCH) {
            Ok(d) => Timestamp(i64::try_from(d.as_micros()).unwrap_or(i64::MAX)),
            Err(e) => Timestamp(-i64::try_from(e.duration().as_micros()).unwrap_or(i64::MAX)),
        }
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339, UTC, microseconds.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::with_capacity(27);
        taskwire_core::time::write_rfc3339(&mut out, self.to_system_time());
        f.write_str(&String::from_utf8_lossy(&out))
    }
}

/// A ticket's id in its store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TicketId(pub i64);

impl fmt::Display for TicketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A ticket's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    /// Needs attention.
    Open,
    /// Marked fixed; a new occurrence reopens it as a regression.
    Resolved,
    /// Counted but silenced until its [`Mute`] condition ends.
    Muted,
}

impl Status {
    /// `open`, `resolved` or `muted`: the stored and printed form.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Open => "open",
            Status::Resolved => "resolved",
            Status::Muted => "muted",
        }
    }

    /// Parses [`Status::as_str`]'s form.
    ///
    /// ```
    /// use taskwire_tickets::store::Status;
    /// assert_eq!(Status::parse("muted"), Some(Status::Muted));
    /// assert_eq!(Status::parse("gone"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "open" => Some(Status::Open),
            "resolved" => Some(Status::Resolved),
            "muted" => Some(Status::Muted),
            _ => None,
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long a muted ticket stays muted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mute {
    /// Until the status is changed by hand.
    Forever,
    /// Until an occurrence at or after this time.
    Until(Timestamp),
    /// For this many more occurrences: the one after them reopens the ticket. On a [`Ticket`],
    /// the number still to come.
    Count(u64),
}

/// A ticket: every occurrence of one fingerprint.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Ticket {
    /// The id in its store.
    pub id: TicketId,
    /// The grouping key's hash (unique per store).
    pub fingerprint: String,
    /// The level of the first occurrence.
    pub level: Level,
    /// The service that first raised it, if configured.
    pub service: Option<String>,
    /// The event's target.
    pub target: String,
    /// The event's module path.
    pub module: Option<String>,
    /// The event's source file.
    pub file: Option<String>,
    /// The event's source line.
    pub line: Option<u32>,
    /// The first message, with variable parts replaced by placeholders (see [`crate::title`]).
    pub title: String,
    /// The first occurrence's time.
    pub first_seen: Timestamp,
    /// The newest occurrence's time.
    pub last_seen: Timestamp,
    /// The exact number of occurrences.
    pub count: u64,
    /// The status.
    pub status: Status,
    /// When it was last resolved.
    pub resolved_at: Option<Timestamp>,
    /// The release it was last resolved in.
    pub resolved_in_release: Option<String>,
    /// When it last regressed (reopened by an occurrence after being resolved).
    pub regressed_at: Option<Timestamp>,
    /// The mute condition of a muted ticket.
    pub mute: Option<Mute>,
}

impl Ticket {
    /// An open ticket with no occurrence, for stores that build tickets field by field.
    pub fn new(id: TicketId, fingerprint: impl Into<String>, level: Level) -> Ticket {
        Ticket {
            id,
            fingerprint: fingerprint.into(),
            level,
            service: None,
            target: String::new(),
            module: None,
            file: None,
            line: None,
            title: String::new(),
            first_seen: Timestamp::default(),
            last_seen: Timestamp::default(),
            count: 0,
            status: Status::Open,
            resolved_at: None,
            resolved_in_release: None,
            regressed_at: None,
            mute: None,
        }
    }
}

/// One stored occurrence: the full data of one event.
///
/// The JSON columns hold valid JSON: `fields` an object of the event's fields, `spans` an
/// array of `{"name": …, "fields": {…}}` from the outermost enclosing span to the innermost,
/// `errors` an array of `{"field": …, "message": …, "source": […]}` for every error value among
/// the event's fields.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct Sample {
    /// When the event happened.
    pub time: Timestamp,
    /// The event's level.
    pub level: Option<Level>,
    /// The event's message (the `message` field), truncated like any field.
    pub message: String,
    /// The event's other fields as a JSON object (redacted, truncated).
    pub fields: String,
    /// The enclosing spans as a JSON array, outermost first.
    pub spans: String,
    /// The W3C trace id (32 hex digits) of the enclosing task.
    pub trace_id: Option<String>,
    /// The W3C span id (16 hex digits) of the enclosing task.
    pub span_id: Option<String>,
    /// The service, if configured.
    pub service: Option<String>,
    /// The host name.
    pub host: String,
    /// The process id.
    pub pid: u32,
    /// The thread's name.
    pub thread: String,
    /// The release, if configured.
    pub release: Option<String>,
    /// The error values among the fields, with their source chains, as a JSON array.
    pub errors: String,
}

impl Sample {
    /// An empty sample at `time` (JSON columns `{}`, `[]`, `[]`).
    pub fn new(time: Timestamp) -> Sample {
        Sample {
            time,
            fields: "{}".to_owned(),
            spans: "[]".to_owned(),
            errors: "[]".to_owned(),
            ..Sample::default()
        }
    }
}

/// A stored sample and where it belongs.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Occurrence {
    /// The occurrence's id in its store.
    pub id: i64,
    /// Its ticket.
    pub ticket: TicketId,
    /// Whether this is the ticket's first sample (kept forever).
    pub first: bool,
    /// The data.
    pub sample: Sample,
}

impl Occurrence {
    /// An occurrence record, for stores that read them back.
    pub fn new(id: i64, ticket: TicketId, first: bool, sample: Sample) -> Occurrence {
        Occurrence {
            id,
            ticket,
            first,
            sample,
        }
    }
}

/// What a ticket is created with when its fingerprint is new.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct TicketSeed {
    /// The level.
    pub level: Level,
    /// The service.
    pub service: Option<String>,
    /// The target.
    pub target: String,
    /// The module path.
    pub module: Option<String>,
    /// The source file.
    pub file: Option<String>,
    /// The source line.
    pub line: Option<u32>,
}

impl TicketSeed {
    /// A seed with a level and target, the rest unknown.
    pub fn new(level: Level, target: impl Into<String>) -> TicketSeed {
        TicketSeed {
            level,
            service: None,
            target: target.into(),
            module: None,
            file: None,
            line: None,
        }
    }
}

/// A count for one tag value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TagCount {
    /// The tag key (`level`, `service`, `host`, `release` or a configured field).
    pub key: String,
    /// The value.
    pub value: String,
    /// How many occurrences had it.
    pub count: u64,
}

/// New occurrences of one fingerprint since the last batch.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct GroupUpdate {
    /// The grouping key's hash.
    pub fingerprint: String,
    /// What a new ticket is made of.
    pub seed: TicketSeed,
    /// The title, when a message was seen (an existing non-empty title is kept).
    pub title: Option<String>,
    /// How many occurrences (exact).
    pub count: u64,
    /// The earliest of them.
    pub first_seen: Timestamp,
    /// The newest of them.
    pub last_seen: Timestamp,
    /// The release they come from (for regressions of tickets resolved in a release).
    pub release: Option<String>,
    /// Tag counts to add (they need not sum to `count`).
    pub tags: Vec<TagCount>,
    /// Samples, oldest first. The store keeps the ticket's first and its newest ones.
    pub samples: Vec<Sample>,
}

impl GroupUpdate {
    /// `count` occurrences of `fingerprint` between `first_seen` and `last_seen`.
    pub fn new(
        fingerprint: impl Into<String>,
        seed: TicketSeed,
        count: u64,
        first_seen: Timestamp,
        last_seen: Timestamp,
    ) -> GroupUpdate {
        GroupUpdate {
            fingerprint: fingerprint.into(),
            seed,
            title: None,
            count,
            first_seen,
            last_seen,
            release: None,
            tags: Vec::new(),
            samples: Vec::new(),
        }
    }
}

/// One transaction's worth of updates.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Batch {
    /// Per fingerprint, at most one update.
    pub groups: Vec<GroupUpdate>,
    /// Samples kept per ticket besides its first one.
    pub samples_per_ticket: usize,
    /// Distinct values kept per ticket and tag key.
    pub max_tag_values: usize,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            groups: Vec::new(),
            samples_per_ticket: crate::DEFAULT_SAMPLES_PER_TICKET,
            max_tag_values: crate::DEFAULT_MAX_TAG_VALUES,
        }
    }
}

impl Batch {
    /// A batch of `groups` with the default retention.
    pub fn new(groups: Vec<GroupUpdate>) -> Batch {
        Batch {
            groups,
            ..Batch::default()
        }
    }
}

/// The order of [`Store::list`].
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

/// Filters, order and page of [`Store::list`].
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

    /// At most `limit` tickets.
    #[must_use]
    pub fn with_limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    /// Skipping the first `offset`.
    #[must_use]
    pub fn with_offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }
}

/// Which end of a ticket's samples [`Store::occurrences`] starts from, and the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct OccurrenceQuery {
    /// Newest first (default) or oldest first.
    pub newest_first: bool,
    /// At most this many (default 20).
    pub limit: u32,
    /// Skip this many first.
    pub offset: u64,
}

impl Default for OccurrenceQuery {
    fn default() -> Self {
        OccurrenceQuery {
            newest_first: true,
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
        OccurrenceQuery {
            newest_first: false,
            ..OccurrenceQuery::default()
        }
    }

    /// At most `limit`.
    #[must_use]
    pub fn with_limit(mut self, limit: u32) -> Self {
        self.limit = limit;
        self
    }

    /// Skipping the first `offset`.
    #[must_use]
    pub fn with_offset(mut self, offset: u64) -> Self {
        self.offset = offset;
        self
    }
}

/// Where tickets are kept: Logbook's backend base class, for this crate's layer and CLI.
///
/// Implementations: [`sqlite::Sqlite`] (feature `sqlite`, default) and `mongodb::MongoDb`
/// (feature `mongodb`). A new backend should pass [`crate::conformance::run_all`].
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// use taskwire_tickets::store::{Batch, GroupUpdate, ListQuery, Level, Store, TicketSeed, Timestamp};
/// use taskwire_tickets::Sqlite;
///
/// let mut store = Sqlite::open_in_memory()?;
/// let t = Timestamp::now();
/// let update = GroupUpdate::new("f00d", TicketSeed::new(Level::ERROR, "app"), 3, t, t);
/// store.write(&Batch::new(vec![update]))?;
/// let tickets = store.list(&ListQuery::default())?;
/// assert_eq!(tickets[0].count, 3);
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Store: Send {
    /// Applies one batch in one transaction: all of it or nothing.
    ///
    /// A store without multi-document transactions (MongoDB) may have applied part of a batch
    /// when it reports an error; writing the identical batch again then completes it exactly
    /// once. The layer's writer always retries a failed batch unchanged.
    fn write(&mut self, batch: &Batch) -> Result<(), WriteError>;

    /// Where the layer's writer spools what a final flush could not write: the path every
    /// spool file of this store starts with (each file adds `-` and 16 hex digits). The next
    /// writer on this store, in any process, replays them with [`Store::write_once`].
    ///
    /// `None` (the default) means no spool: counts a final flush cannot write are lost, and
    /// the writer says so on stderr. [`sqlite::Sqlite`] spools beside its file; `MongoDb`
    /// in a folder of its own (see `docs/tickets.md`).
    fn spool_path(&self) -> Option<std::path::PathBuf> {
        None
    }

    /// The key `batch` was last attempted with, when a failed [`Store::write`] may have applied
    /// part of it (a store without transactions): spooled with that key, its replay completes
    /// it instead of applying the written part again. `None` (the default) for stores whose
    /// failed writes apply nothing.
    fn pending_key(&self, batch: &Batch) -> Option<u64> {
        let _ = batch;
        None
    }

    /// Applies `batch` unless a batch with `key` was applied before, and records `key` with it
    /// in one step, so writing the same `(key, batch)` any number of times, from any number
    /// of processes, even after a crash in the middle, counts it once. `Ok(true)` when this
    /// call applied or completed it, `Ok(false)` when it was recorded as applied already.
    ///
    /// The spool's replay uses it. The default refuses ([`ErrorKind::InvalidConfig`]); a store
    /// that returns a [`Store::spool_path`] implements it.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")] {
    /// use taskwire_tickets::store::{Batch, GroupUpdate, Level, Store, TicketSeed, Timestamp};
    /// let mut store = taskwire_tickets::Sqlite::open_in_memory()?;
    /// let t = Timestamp::now();
    /// let batch = Batch::new(vec![GroupUpdate::new("f00d", TicketSeed::new(Level::ERROR, "app"), 3, t, t)]);
    /// assert!(store.write_once(&batch, 42)?);
    /// assert!(!store.write_once(&batch, 42)?);
    /// assert_eq!(store.find("f00d")?.map(|t| t.count), Some(3));
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn write_once(&mut self, batch: &Batch, key: u64) -> Result<bool, WriteError> {
        let _ = (batch, key);
        Err(WriteError::new(
            ErrorKind::InvalidConfig,
            "this store cannot apply a batch exactly once (it keeps no spool)",
        ))
    }

    /// Tickets matching `query`, in its order.
    fn list(&self, query: &ListQuery) -> Result<Vec<Ticket>, QueryError>;

    /// How many tickets match `query`'s filters (its order and page ignored).
    fn count(&self, query: &ListQuery) -> Result<u64, QueryError>;

    /// One ticket.
    fn get(&self, id: TicketId) -> Result<Option<Ticket>, QueryError>;

    /// One ticket by fingerprint.
    fn find(&self, fingerprint: &str) -> Result<Option<Ticket>, QueryError>;

    /// A page of a ticket's stored samples, by time.
    fn occurrences(
        &self,
        id: TicketId,
        query: &OccurrenceQuery,
    ) -> Result<Vec<Occurrence>, QueryError>;

    /// A ticket's tag distributions: by key, then by count, highest first.
    fn tags(&self, id: TicketId) -> Result<Vec<TagCount>, QueryError>;

    /// Marks a ticket resolved at `at`, optionally in `release`. `false` when there is no
    /// such ticket.
    fn resolve(
        &mut self,
        id: TicketId,
        release: Option<&str>,
        at: Timestamp,
    ) -> Result<bool, UpdateError>;

    /// Mutes a ticket until `mute` ends. `false` when there is no such ticket.
    fn mute(&mut self, id: TicketId, mute: Mute) -> Result<bool, UpdateError>;

    /// Opens a resolved or muted ticket (clearing its resolution and mute). `false` when there
    /// is no such ticket.
    fn reopen(&mut self, id: TicketId) -> Result<bool, UpdateError>;

    /// Deletes a ticket with its samples and tags. `false` when there is no such ticket.
    fn delete(&mut self, id: TicketId) -> Result<bool, UpdateError>;
}

impl<T: Store + ?Sized> Store for Box<T> {
    fn write(&mut self, batch: &Batch) -> Result<(), WriteError> {
        (**self).write(batch)
    }
    fn spool_path(&self) -> Option<std::path::PathBuf> {
        (**self).spool_path()
    }
    fn pending_key(&self, batch: &Batch) -> Option<u64> {
        (**self).pending_key(batch)
    }
    fn write_once(&mut self, batch: &Batch, key: u64) -> Result<bool, WriteError> {
        (**self).write_once(batch, key)
    }
    fn list(&self, query: &ListQuery) -> Result<Vec<Ticket>, QueryError> {
        (**self).list(query)
    }
    fn count(&self, query: &ListQuery) -> Result<u64, QueryError> {
        (**self).count(query)
    }
    fn get(&self, id: TicketId) -> Result<Option<Ticket>, QueryError> {
        (**self).get(id)
    }
    fn find(&self, fingerprint: &str) -> Result<Option<Ticket>, QueryError> {
        (**self).find(fingerprint)
    }
    fn occurrences(
        &self,
        id: TicketId,
        query: &OccurrenceQuery,
    ) -> Result<Vec<Occurrence>, QueryError> {
        (**self).occurrences(id, query)
    }
    fn tags(&self, id: TicketId) -> Result<Vec<TagCount>, QueryError> {
        (**self).tags(id)
    }
    fn resolve(
        &mut self,
        id: TicketId,
        release: Option<&str>,
        at: Timestamp,
    ) -> Result<bool, UpdateError> {
        (**self).resolve(id, release, at)
    }
    fn mute(&mut self, id: TicketId, mute: Mute) -> Result<bool, UpdateError> {
        (**self).mute(id, mute)
    }
    fn reopen(&mut self, id: TicketId) -> Result<bool, UpdateError> {
        (**self).reopen(id)
    }
    fn delete(&mut self, id: TicketId) -> Result<bool, UpdateError> {
        (**self).delete(id)
    }
}

/// A validated table (or collection) name prefix: ASCII letters, digits and `_`, at most 32
/// characters, so a prefix never reaches SQL unchecked.
///
/// ```
/// use taskwire_tickets::store::TablePrefix;
/// assert_eq!(TablePrefix::new("app_").unwrap().as_str(), "app_");
/// assert!(TablePrefix::new("x; DROP TABLE users; --").is_err());
/// assert_eq!(TablePrefix::default().as_str(), "taskwire_");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TablePrefix(String);

/// The default table prefix.
pub const DEFAULT_PREFIX: &str = "taskwire_";

impl Default for TablePrefix {
    fn default() -> Self {
        TablePrefix(DEFAULT_PREFIX.to_owned())
    }
}

impl TablePrefix {
    /// Validates `prefix`.
    pub fn new(prefix: &str) -> Result<TablePrefix, OpenError> {
        if prefix.len() > 32 {
            return Err(OpenError::new(
                ErrorKind::InvalidConfig,
                format!("table prefix `{prefix}` is longer than 32 characters"),
            ));
        }
        if let Some(c) = prefix
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
        {
            return Err(OpenError::new(
                ErrorKind::InvalidConfig,
                format!(
                    "table prefix {prefix:?} contains {c:?}; only ASCII letters, digits and `_` are allowed"
                ),
            ));
        }
        Ok(TablePrefix(prefix.to_owned()))
    }

    /// The prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
