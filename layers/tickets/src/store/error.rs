//! Per-operation error types of stores: each holds what went wrong ([`ErrorKind`]), a
//! message, and the backend's error as its `source()`.

use std::error::Error;
use std::fmt;

/// What kind of failure a store reported; decides whether the writer retries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Another connection or process holds a lock (retried with backoff).
    Busy,
    /// The disk or the configured size limit is full (counts stay in memory; retried).
    Full,
    /// The file is not a database, or is damaged (also: ticket tables whose `schema_version`
    /// no taskwire writes, such as `0`, `abc` or none at all).
    Corrupt,
    /// The database cannot be opened or written (path, permissions, read-only).
    Unavailable,
    /// A setting is invalid (a table prefix, a newer schema version).
    InvalidConfig,
    /// The database has no taskwire tables with the configured prefix, and the open was one
    /// that creates nothing (a read-only open, or an open of an existing database for triage).
    NotTaskwire,
    /// Anything else.
    Other,
}

impl ErrorKind {
    /// Whether retrying the same operation later may succeed.
    pub fn is_transient(self) -> bool {
        matches!(self, ErrorKind::Busy | ErrorKind::Full)
    }
}

type Source = Box<dyn Error + Send + Sync + 'static>;

macro_rules! store_error {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug)]
        pub struct $name {
            kind: ErrorKind,
            message: String,
            source: Option<Source>,
        }

        impl $name {
            /// An error of `kind` described by `message`.
            pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
                $name { kind, message: message.into(), source: None }
            }

            /// The same error, caused by `source`.
            #[must_use]
            pub fn with_source(mut self, source: impl Into<Source>) -> Self {
                self.source = Some(source.into());
                self
            }

            /// What kind of failure this is.
            pub fn kind(&self) -> ErrorKind {
                self.kind
            }

            /// The message, without the source.
            pub fn message(&self) -> &str {
                &self.message
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($what, ": {}"), self.message)
            }
        }

        impl Error for $name {
            fn source(&self) -> Option<&(dyn Error + 'static)> {
                self.source.as_deref().map(|e| e as &(dyn Error + 'static))
            }
        }
    };
}

store_error!(
    /// Opening a store failed: an unwritable path, a corrupt file, an invalid prefix, a schema
    /// newer than this version knows, a database that is not a taskwire one.
    ///
    /// ```
    /// # #[cfg(feature = "sqlite")] {
    /// use taskwire_tickets::{store::ErrorKind, Sqlite};
    /// // `/dev/null` is a file, so no folder can be created under it.
    /// let err = Sqlite::open("/dev/null/tickets.db").unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Unavailable);
    /// assert!(std::error::Error::source(&err).is_some());
    /// # }
    /// ```
    OpenError,
    "cannot open the ticket store"
);
store_error!(
    /// Writing a batch failed; nothing of it was applied.
    WriteError,
    "cannot write tickets"
);
store_error!(
    /// Reading tickets failed.
    QueryError,
    "cannot read tickets"
);
store_error!(
    /// Changing a ticket (resolve, mute, reopen, delete) failed.
    UpdateError,
    "cannot update the ticket"
);
