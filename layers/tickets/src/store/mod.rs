//! The store's traits, the records they read and write, and their error types.
//!
//! A store has three sides, one trait each:
//!
//! | side | trait | used by | methods |
//! |---|---|---|---|
//! | write | [`TicketWriter`] | the layer's writer thread | [`write`](TicketWriter::write) (one [`Batch`] of coalesced counts, tag counts and samples per transaction), the spool's [`write_once`](TicketWriter::write_once) |
//! | query | [`TicketReader`] | `taskwire tickets`, programs that show tickets | [`list`](TicketReader::list), [`count`](TicketReader::count), [`get`](TicketReader::get), [`find`](TicketReader::find), [`occurrences`](TicketReader::occurrences), [`tags`](TicketReader::tags), [`hourly`](TicketReader::hourly), [`history`](TicketReader::history) |
//! | triage | [`TicketTriage`] | `taskwire tickets resolve/mute/…` | [`resolve`](TicketTriage::resolve), [`mute`](TicketTriage::mute), [`reopen`](TicketTriage::reopen), [`delete`](TicketTriage::delete) |
//!
//! [`Store`] is a backend with all three (what [`crate::layer()`] takes, and what
//! [`crate::conformance`] checks). The traits are synchronous and object safe: the layer moves
//! its store to its writer thread, so a store backed by an async client (MongoDB) owns its
//! runtime and blocks on it.
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
//! - each update's count is also added to the ticket's count of the hour of its newest
//!   occurrence ([`TicketReader::hourly`]);
//! - every status change is kept in the ticket's history ([`TicketReader::history`]): resolve,
//!   mute and reopen by triage, a regression and the end of a mute by occurrences; deleting
//!   the ticket deletes it;
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

mod batch;
mod history;
mod json;
mod json_text;
mod occurrence;
mod prefix;
mod query;
mod roles;
mod ticket;
mod timestamp;
mod written;

pub use batch::{Batch, GroupUpdate, TagCount, TicketSeed};
pub use error::{ErrorKind, OpenError, QueryError, UpdateError, WriteError};
pub use history::{StatusChange, StatusEvent};
pub use json::{occurrence_to_json, ticket_to_json};
pub use json_text::{InvalidJson, JsonText};
pub use occurrence::{Occurrence, Sample};
pub use prefix::{TablePrefix, DEFAULT_PREFIX};
pub use query::{hour_of, HourCount, ListQuery, OccurrenceOrder, OccurrenceQuery, Sort};
pub use roles::{Store, TicketReader, TicketTriage, TicketWriter};
pub use ticket::{Mute, Status, Ticket, TicketId};
pub use timestamp::Timestamp;
pub use tracing_core::Level;
pub use written::{Change, Written, WrittenTicket};

/// The tag value under which values beyond a key's cap are counted.
pub const OTHER_TAG_VALUE: &str = "(other)";
