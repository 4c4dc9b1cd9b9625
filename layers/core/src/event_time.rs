//! One wall-clock time per event, shared by every taskwire layer that writes the event.
//!
//! `tracing` gives an event no timestamp: each layer that wants one reads the clock itself, so
//! a JSON layer writing to stdout and another writing to a file would give one event two `ts`
//! values a few microseconds apart (and an OTLP log record a third). An [`EventClock`] reads
//! the clock once per event and hands the same [`SystemTime`] to every layer of the stack.
//!
//! How an event is recognised without an id: `tracing` dispatches an event in two passes on
//! one thread. First every layer's `event_enabled` (outermost first), then every layer's
//! `on_event` (innermost first). A layer calls [`EventClock::mark`] from `event_enabled` and
//! [`EventClock::time`] from `on_event`. The first mark of an event reads the clock; the next
//! layers' marks and every layer's `time` find that reading, keyed by the event's address and
//! call site. A mark that comes after the event was delivered, or from a layer that already
//! marked it, starts a new event (the next event of a loop sits at the same address). A layer
//! whose `event_enabled` is not forwarded (a wrapper that drops it) still works: its first
//! `time` for an event it already received starts a new one. An event raised while another is
//! being delivered (a writer that logs) is remembered beside it, so the outer event keeps its
//! time for the layers that see it afterwards.
//!
//! The cost is a thread-local read and write per call; the clock is read once per event
//! instead of once per layer.

use std::cell::Cell;
use std::time::SystemTime;

use tracing_core::Event;

use crate::ids::Sequence;

/// The clock of one layer: call [`mark`](Self::mark) from `Layer::event_enabled` and
/// [`time`](Self::time) from `Layer::on_event`, and every taskwire layer of the stack gets the
/// same time for one event.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::SystemTime;
/// use tracing_subscriber::{layer::Context, prelude::*, Layer};
/// use taskwire_core::event_time::EventClock;
///
/// #[derive(Default)]
/// struct Stamps { clock: EventClock, seen: Arc<Mutex<Vec<SystemTime>>> }
///
/// impl<S: tracing_core::Subscriber> Layer<S> for Stamps {
///     fn event_enabled(&self, event: &tracing::Event<'_>, _: Context<'_, S>) -> bool {
///         self.clock.mark(event);
///         true
///     }
///     fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
///         self.seen.lock().unwrap().push(self.clock.time(event));
///     }
/// }
///
/// let (a, b) = (Stamps::default(), Stamps::default());
/// let (seen_a, seen_b) = (a.seen.clone(), b.seen.clone());
/// let subscriber = tracing_subscriber::registry().with(a).with(b);
/// tracing::subscriber::with_default(subscriber, || {
///     for i in 0..3 {
///         tracing::info!(i, "tick");
///     }
/// });
/// // Both layers saw the same three times.
/// assert_eq!(seen_a.lock().unwrap().len(), 3);
/// assert_eq!(*seen_a.lock().unwrap(), *seen_b.lock().unwrap());
/// ```
#[derive(Debug)]
pub struct EventClock {
    /// This clock's bit in [`Slot::marked`] and [`Slot::delivered`]. Two clocks share a bit
    /// only when more than 64 exist; they then read the clock apart, nothing worse.
    bit: u64,
}

impl Default for EventClock {
    fn default() -> Self {
        // A sequence of its own: bits are dealt out in turn, so 64 clocks get 64 bits.
        static CLOCKS: Sequence = Sequence::new();
        EventClock {
            bit: 1 << ((CLOCKS.next().get() - 1) % 64),
        }
    }
}

impl Clone for EventClock {
    /// A clone is another layer: it gets its own bit.
    fn clone(&self) -> Self {
        EventClock::default()
    }
}

/// One event's time, and which clocks marked it and took it.
#[derive(Clone, Copy)]
struct Slot {
    /// The event's address and its call site's metadata address (0, 0: empty).
    key: (usize, usize),
    at: SystemTime,
    marked: u64,
    delivered: u64,
}

impl Slot {
    const EMPTY: Slot = Slot {
        key: (0, 0),
        at: SystemTime::UNIX_EPOCH,
        marked: 0,
        delivered: 0,
    };
}

/// The event being dispatched on this thread, and the one it interrupted (if any).
#[derive(Clone, Copy)]
struct State {
    current: Slot,
    previous: Slot,
}

thread_local! {
    static STATE: Cell<State> = const {
        Cell::new(State {
            current: Slot::EMPTY,
            previous: Slot::EMPTY,
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

impl State {
    /// Starts a new event, keeping the current one as the previous.
    #[inline]
    fn start(&mut self, key: (usize, usize), marked: u64, delivered: u64) -> SystemTime {
        let at = SystemTime::now();
        self.previous = self.current;
        self.current = Slot {
            key,
            at,
            marked,
            delivered,
        };
        at
    }
}

impl EventClock {
    /// Notes that `event` is being enabled: call it from `Layer::event_enabled`. The first
    /// layer to do so for an event reads the clock.
    #[inline]
    pub fn mark(&self, event: &Event<'_>) {
        let k = key(event);
        let _ = STATE.try_with(|s| {
            let mut st = s.get();
            let c = &mut st.current;
            if c.key == k && c.delivered == 0 && c.marked & self.bit == 0 {
                c.marked |= self.bit;
            } else {
                st.start(k, self.bit, 0);
            }
            s.set(st);
        });
    }

    /// The time of `event`: call it from `Layer::on_event`. Every layer of the stack that
    /// asks during one dispatch of an event gets the same time.
    #[inline]
    pub fn time(&self, event: &Event<'_>) -> SystemTime {
        let k = key(event);
        STATE
            .try_with(|s| {
                let mut st = s.get();
                let at = if st.current.key == k && st.current.delivered & self.bit == 0 {
                    st.current.delivered |= self.bit;
                    st.current.at
                } else if st.previous.key == k && st.previous.delivered & self.bit == 0 {
                    st.previous.delivered |= self.bit;
                    st.previous.at
                } else {
                    st.start(k, 0, self.bit)
                };
                s.set(st);
                at
            })
            .unwrap_or_else(|_| SystemTime::now())
    }
}
