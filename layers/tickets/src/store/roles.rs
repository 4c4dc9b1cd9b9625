//! The store's three sides, one trait each: [`TicketWriter`] (what the layer's writer thread
//! needs), [`TicketReader`] (queries) and [`TicketTriage`] (status changes), and [`Store`], a
//! backend that has all three.
//!
//! Each trait is object safe and `Send`; `Box<T>` and `&mut T` implement every side `T` does, so `Box<dyn TicketReader>` and `&mut dyn TicketTriage` work like
//! the store behind them.

use std::path::PathBuf;

use super::{
    Batch, ErrorKind, HourCount, ListQuery, Mute, Occurrence, OccurrenceQuery, QueryError,
    StatusEvent, TagCount, Ticket, TicketId, Timestamp, UpdateError, WriteError, Written,
};

/// The write side: what the layer's writer thread does with a store.
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// use taskwire_tickets::store::{Batch, GroupUpdate, Level, TicketReader, TicketSeed, TicketWriter, Timestamp};
///
/// let mut store = taskwire_tickets::Sqlite::open_in_memory()?;
/// let t = Timestamp::now();
/// let update = GroupUpdate::new("f00d", TicketSeed::new(Level::ERROR, "app"), 3, t, t);
/// store.write(&Batch::new(vec![update]))?;
/// assert_eq!(store.find("f00d")?.map(|t| t.count), Some(3));
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait TicketWriter: Send {
    /// Applies one batch in one transaction: all of it or nothing.
    ///
    /// A store without multi-document transactions (MongoDB) may have applied part of a batch
    /// when it reports an error; writing the identical batch again then completes it exactly
    /// once. The layer's writer always retries a failed batch unchanged.
    ///
    /// On success it says what happened to each group's ticket ([`Written`]): created,
    /// regressed, unmuted, its status. The layer raises its alerts from that; a store that
    /// returns [`Written::unknown`] raises none.
    fn write(&mut self, batch: &Batch) -> Result<Written, WriteError>;

    /// Where the layer's writer spools what a final flush could not write: the path every
    /// spool file of this store starts with (each file adds `-` and 16 hex digits). The next
    /// writer on this store, in any process, replays them with [`TicketWriter::write_once`].
    ///
    /// `None` (the default) means no spool: counts a final flush cannot write are lost, and
    /// the writer says so on stderr. [`Sqlite`](super::sqlite::Sqlite) spools beside its file;
    /// `MongoDb` in a folder of its own (see `docs/tickets.md`).
    fn spool_path(&self) -> Option<PathBuf> {
        None
    }

    /// The key `batch` was last attempted with, when a failed [`TicketWriter::write`] may have
    /// applied part of it (a store without transactions): spooled with that key, its replay
    /// completes it instead of applying the written part again. `None` (the default) for
    /// stores whose failed writes apply nothing.
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
    /// that returns a [`TicketWriter::spool_path`] implements it.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")] {
    /// use taskwire_tickets::store::{Batch, GroupUpdate, Level, TicketReader, TicketSeed, TicketWriter, Timestamp};
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
}

/// The query side: tickets, their samples and their tags, for `taskwire tickets` and programs
/// that show tickets.
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// use taskwire_tickets::store::{ListQuery, TicketReader};
/// fn open_count(store: &dyn TicketReader) -> Result<u64, taskwire_tickets::store::QueryError> {
///     store.count(&ListQuery::default())
/// }
/// assert_eq!(open_count(&taskwire_tickets::Sqlite::open_in_memory()?)?, 0);
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait TicketReader: Send {
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

    /// Occurrences per hour of the tickets `ids`, for the hours `from..=to` (see
    /// [`hour_of`](super::hour_of)): only hours with occurrences, by ticket then hour. Each
    /// write adds its count to the hour of its newest occurrence. Ids with no such ticket
    /// have none.
    ///
    /// The default refuses ([`ErrorKind::InvalidConfig`]): a store that keeps no hourly counts
    /// says so rather than showing none.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")] {
    /// use taskwire_tickets::store::{hour_of, Batch, GroupUpdate, Level, TicketReader, TicketSeed, TicketWriter, Timestamp};
    /// let mut store = taskwire_tickets::Sqlite::open_in_memory()?;
    /// let t = Timestamp::now();
    /// store.write(&Batch::new(vec![GroupUpdate::new("f00d", TicketSeed::new(Level::ERROR, "app"), 3, t, t)]))?;
    /// let id = store.find("f00d")?.map(|t| t.id).unwrap();
    /// let hours = store.hourly(&[id], hour_of(t) - 23, hour_of(t))?;
    /// assert_eq!((hours[0].hour, hours[0].count), (hour_of(t), 3));
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn hourly(&self, ids: &[TicketId], from: i64, to: i64) -> Result<Vec<HourCount>, QueryError> {
        let _ = (ids, from, to);
        Err(QueryError::new(
            ErrorKind::InvalidConfig,
            "this store keeps no hourly counts",
        ))
    }

    /// Ticket `id`'s status changes in the order they were made (empty for a ticket that never changed, or
    /// no such ticket). The default is an error saying the store keeps none.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")] {
    /// use taskwire_tickets::store::{Batch, GroupUpdate, Level, StatusChange, TicketReader, TicketSeed, TicketTriage, TicketWriter, Timestamp};
    /// let mut store = taskwire_tickets::Sqlite::open_in_memory()?;
    /// let t = Timestamp::now();
    /// store.write(&Batch::new(vec![GroupUpdate::new("f00d", TicketSeed::new(Level::ERROR, "app"), 1, t, t)]))?;
    /// let id = store.find("f00d")?.map(|t| t.id).unwrap();
    /// store.resolve(id, Some("1.2.0"), t)?;
    /// let history = store.history(id)?;
    /// assert_eq!(history[0].change, StatusChange::Resolved { release: Some("1.2.0".into()) });
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    fn history(&self, id: TicketId) -> Result<Vec<StatusEvent>, QueryError> {
        let _ = id;
        Err(QueryError::new(
            ErrorKind::InvalidConfig,
            "this store keeps no status history",
        ))
    }
}

/// The triage side: status changes by hand (`taskwire tickets resolve/mute/reopen/delete`).
pub trait TicketTriage: Send {
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

/// Where tickets are kept: a backend with all three sides, [`TicketWriter`], [`TicketReader`]
/// and [`TicketTriage`]. Implemented for every type that has them.
///
/// Implementations: [`sqlite::Sqlite`](super::sqlite::Sqlite) (feature `sqlite`, default) and
/// `mongodb::MongoDb` (feature `mongodb`). A new backend should pass
/// [`crate::conformance::run_all`].
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// use taskwire_tickets::store::{Batch, GroupUpdate, ListQuery, Level, Store, TicketSeed, Timestamp};
///
/// let mut store: Box<dyn Store> = Box::new(taskwire_tickets::Sqlite::open_in_memory()?);
/// let t = Timestamp::now();
/// let update = GroupUpdate::new("f00d", TicketSeed::new(Level::ERROR, "app"), 3, t, t);
/// store.write(&Batch::new(vec![update]))?;
/// let tickets = store.list(&ListQuery::default())?;
/// assert_eq!(tickets[0].count, 3);
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Store: TicketWriter + TicketReader + TicketTriage {}

impl<T: TicketWriter + TicketReader + TicketTriage + ?Sized> Store for T {}

/// Implements a side for pointers to a type that has it (`Box<T>`, `&mut T`), forwarding each
/// method (default methods included): first those taking `&self`, then those taking
/// `&mut self`.
macro_rules! forward {
    ($side:ident for $($ptr:ty),+; &self $shared:tt &mut self $exclusive:tt) => {
        $( forward!(@impl $side, $ptr, $shared, $exclusive); )+
    };
    (@impl $side:ident, $ptr:ty,
        { $( fn $r:ident($($ra:ident: $rt:ty),*) -> $rr:ty; )* },
        { $( fn $m:ident($($ma:ident: $mt:ty),*) -> $mr:ty; )* }
    ) => {
        impl<T: $side + ?Sized> $side for $ptr {
            $( fn $r(&self, $($ra: $rt),*) -> $rr { (**self).$r($($ra),*) } )*
            $( fn $m(&mut self, $($ma: $mt),*) -> $mr { (**self).$m($($ma),*) } )*
        }
    };
}

forward!(TicketWriter for Box<T>, &mut T;
    &self {
        fn spool_path() -> Option<PathBuf>;
        fn pending_key(batch: &Batch) -> Option<u64>;
    }
    &mut self {
        fn write(batch: &Batch) -> Result<Written, WriteError>;
        fn write_once(batch: &Batch, key: u64) -> Result<bool, WriteError>;
    }
);

forward!(TicketReader for Box<T>, &mut T;
    &self {
        fn list(query: &ListQuery) -> Result<Vec<Ticket>, QueryError>;
        fn count(query: &ListQuery) -> Result<u64, QueryError>;
        fn get(id: TicketId) -> Result<Option<Ticket>, QueryError>;
        fn find(fingerprint: &str) -> Result<Option<Ticket>, QueryError>;
        fn occurrences(id: TicketId, query: &OccurrenceQuery) -> Result<Vec<Occurrence>, QueryError>;
        fn tags(id: TicketId) -> Result<Vec<TagCount>, QueryError>;
        fn hourly(ids: &[TicketId], from: i64, to: i64) -> Result<Vec<HourCount>, QueryError>;
        fn history(id: TicketId) -> Result<Vec<StatusEvent>, QueryError>;
    }
    &mut self {}
);

forward!(TicketTriage for Box<T>, &mut T;
    &self {}
    &mut self {
        fn resolve(id: TicketId, release: Option<&str>, at: Timestamp) -> Result<bool, UpdateError>;
        fn mute(id: TicketId, mute: Mute) -> Result<bool, UpdateError>;
        fn reopen(id: TicketId) -> Result<bool, UpdateError>;
        fn delete(id: TicketId) -> Result<bool, UpdateError>;
    }
);
