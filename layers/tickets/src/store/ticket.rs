//! A [`Ticket`] as the stores return it: its id, status and mute.

use std::fmt;

use super::{TicketSeed, Timestamp};

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
    /// What it was created with: the first occurrence's level, service (if configured),
    /// target, module path and source location.
    pub seed: TicketSeed,
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
    pub fn new(id: TicketId, fingerprint: impl Into<String>, seed: TicketSeed) -> Ticket {
        Ticket {
            id,
            fingerprint: fingerprint.into(),
            seed,
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
