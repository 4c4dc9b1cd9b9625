//! What a write did: per group of the [`Batch`](super::Batch), its ticket's id, its status after
//! the write and the change the write made to it ([`Change`]). The layer's writer raises
//! alerts from it ([`crate::alerts`]): the store is the one place that knows whether a ticket
//! was created or regressed, whichever process wrote before.

use super::{Status, TicketId};

/// A status change a write made to a ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Change {
    /// The write created the ticket: its fingerprint was new to the store.
    Created,
    /// A resolved ticket received an occurrence newer than its resolution and reopened.
    Regressed,
    /// A muted ticket's mute ended (its time passed, or its count was exceeded) and it
    /// reopened; not a regression.
    Unmuted,
}

impl Change {
    /// `created`, `regressed` or `unmuted`.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Created => "created",
            Change::Regressed => "regressed",
            Change::Unmuted => "unmuted",
        }
    }
}

/// One group's ticket after a write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrittenTicket {
    /// The ticket's id.
    pub id: TicketId,
    /// Its status after the write.
    pub status: Status,
    /// What the write changed, if anything.
    pub change: Option<Change>,
}

/// What [`TicketWriter::write`](super::TicketWriter::write) did: one [`WrittenTicket`] per
/// group of the batch, in the batch's order, or none at all when the store does not say
/// ([`Written::unknown`]; no alert is raised from such a write).
///
/// ```
/// # #[cfg(feature = "sqlite")] {
/// use taskwire_tickets::store::{Batch, Change, GroupUpdate, Level, TicketSeed, TicketWriter, Timestamp};
/// let mut store = taskwire_tickets::Sqlite::open_in_memory()?;
/// let t = Timestamp::now();
/// let batch = Batch::new(vec![GroupUpdate::new("f00d", TicketSeed::new(Level::ERROR, "app"), 3, t, t)]);
/// assert_eq!(store.write(&batch)?.tickets()[0].change, Some(Change::Created));
/// assert_eq!(store.write(&batch)?.tickets()[0].change, None);
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Written {
    tickets: Vec<WrittenTicket>,
}

impl Written {
    /// A write whose effect on each ticket the store does not report.
    pub fn unknown() -> Written {
        Written::default()
    }

    /// A write of `tickets`, one per group of the batch in its order.
    pub fn new(tickets: Vec<WrittenTicket>) -> Written {
        Written { tickets }
    }

    /// Per group of the batch, in its order; empty when the store does not report.
    pub fn tickets(&self) -> &[WrittenTicket] {
        &self.tickets
    }
}
