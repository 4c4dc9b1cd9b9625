//! The ticket an event was counted in, handed from the tickets layer to the JSON layer, so an
//! error's JSON line carries its ticket's fingerprint (`"ticket.fingerprint":"…"`) and a log
//! reader links the line to its ticket without recomputing the grouping rule (which depends on
//! the tickets layer's settings: grouping fields, `without_line`, an explicit `fingerprint`).
//!
//! How it travels: `tracing` delivers one event to every layer's `on_event` in turn, innermost
//! layer first, on one thread. The tickets layer, which computes the fingerprint anyway to
//! count the event, calls [`set`] for every event at or above its level (`None` when it does
//! not count it, such as a repeat); a layer added after it (outer) reads it with [`get`] during
//! the same dispatch. The slot is keyed by the event's address and call site, like
//! [`event_time`](crate::event_time), so an event the tickets layer did not look at finds
//! nothing. Two events of one call site in a loop share both, so the tickets layer also empties
//! the slot from `event_enabled` (which every layer sees before any `on_event`): an event never
//! finds the fingerprint of the one before it.
//!
//! Order: the tickets layer must be added before the JSON layer
//! (`registry().with(tickets).with(json)`). `taskwire::builder()` composes them so; in the other
//! order the lines simply carry no fingerprint.
//!
//! Cost: a thread-local write per counted event, and a thread-local read and a comparison per
//! event for a reader.
//!
//! ```
//! use std::sync::{Arc, Mutex};
//! use tracing_subscriber::{layer::Context, prelude::*, Layer};
//! use taskwire_core::event_ticket;
//!
//! struct Counts; // stands for the tickets layer
//! impl<S: tracing_core::Subscriber> Layer<S> for Counts {
//!     fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
//!         if *event.metadata().level() == tracing::Level::ERROR {
//!             event_ticket::set(event, Some(0x2a));
//!         }
//!     }
//! }
//! #[derive(Default)]
//! struct Lines(Arc<Mutex<Vec<Option<u64>>>>); // stands for the JSON layer
//! impl<S: tracing_core::Subscriber> Layer<S> for Lines {
//!     fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
//!         self.0.lock().unwrap().push(event_ticket::get(event));
//!     }
//! }
//! let lines = Lines::default();
//! let seen = lines.0.clone();
//! let subscriber = tracing_subscriber::registry().with(Counts).with(lines);
//! tracing::subscriber::with_default(subscriber, || {
//!     tracing::error!("card declined");
//!     tracing::info!("paid");
//! });
//! assert_eq!(*seen.lock().unwrap(), [Some(0x2a), None]);
//! ```

use std::cell::Cell;

use tracing_core::Event;

/// The event's address and its call site's metadata address, and its fingerprint.
#[derive(Clone, Copy)]
struct Slot {
    key: (usize, usize),
    fingerprint: Option<u64>,
}

thread_local! {
    static SLOT: Cell<Slot> = const {
        Cell::new(Slot {
            key: (0, 0),
            fingerprint: None,
        })
    };
}

#[inline]
fn key(event: &Event<'_>) -> (usize, usize) {
    (
        std::ptr::from_ref(event) as usize,
        std::ptr::from_ref(event.metadata()) as usize,
    )
}

/// Records the fingerprint of the ticket `event` is counted in (`None`: in no ticket). Called
/// by the tickets layer from `on_event`.
#[inline]
pub fn set(event: &Event<'_>, fingerprint: Option<u64>) {
    let _ = SLOT.try_with(|s| {
        s.set(Slot {
            key: key(event),
            fingerprint,
        })
    });
}

/// The fingerprint of the ticket `event` was counted in, when a tickets layer below the caller
/// counted it during this dispatch.
#[inline]
pub fn get(event: &Event<'_>) -> Option<u64> {
    SLOT.try_with(|s| {
        let slot = s.get();
        if slot.key == key(event) {
            slot.fingerprint
        } else {
            None
        }
    })
    .ok()
    .flatten()
}
