//! `EventClock`: every layer of a stack gets one time per event, distinct events get their
//! own, also when events sit at one address (a loop), when an event is raised while another
//! is delivered, when a layer's `event_enabled` is not forwarded, and when an inner layer
//! rejects an event after outer layers marked it.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use taskwire_core::event_time::EventClock;
use tracing_core::dispatcher::WeakDispatch;
use tracing_core::field::Value;
use tracing_core::{Dispatch, Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

type Seen = Arc<Mutex<Vec<(String, SystemTime)>>>;

/// Records (message, time) of every event it gets; spins 5 µs per event so that a layer
/// that read the clock itself would read another time.
#[derive(Default)]
struct Stamps {
    clock: EventClock,
    seen: Seen,
    /// Forward `event_enabled` (a wrapper may not).
    unmarked: bool,
    /// Raise an event of its own while handling the event with this message (straight to
    /// the subscriber, as the tasks layer hands its records over).
    nest_on: Option<&'static str>,
    dispatch: OnceLock<WeakDispatch>,
}

struct Msg(String);

impl tracing_core::field::Visit for Msg {
    fn record_debug(&mut self, field: &tracing_core::Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

fn spin() {
    let start = SystemTime::now();
    while SystemTime::now().duration_since(start).unwrap_or_default() < Duration::from_micros(5) {
        std::hint::spin_loop();
    }
}

impl<S: Subscriber> Layer<S> for Stamps {
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(subscriber.downgrade());
    }

    fn event_enabled(&self, event: &Event<'_>, _: Context<'_, S>) -> bool {
        if !self.unmarked {
            self.clock.mark(event);
        }
        true
    }

    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let at = self.clock.time(event);
        let mut m = Msg(String::new());
        event.record(&mut m);
        if self.nest_on == Some(m.0.as_str()) {
            if let Some(d) = self.dispatch.get().and_then(WeakDispatch::upgrade) {
                let meta = event.metadata();
                let fields = meta.fields();
                let message = fields
                    .field("message")
                    .expect("every event has a message field");
                let text = format_args!("nested");
                let values = [(&message, Some(&text as &dyn Value))];
                d.event(&Event::new(meta, &fields.value_set(&values)));
            }
        }
        spin();
        self.seen
            .lock()
            .expect("no test panicked holding the lock")
            .push((m.0, at));
    }
}

/// Rejects events whose message is `rejected`, after the outer layers marked them.
struct Reject;

impl<S: Subscriber> Layer<S> for Reject {
    fn event_enabled(&self, event: &Event<'_>, _: Context<'_, S>) -> bool {
        let mut m = Msg(String::new());
        event.record(&mut m);
        m.0 != "rejected"
    }
}

fn layer(unmarked: bool, nest_on: Option<&'static str>) -> (Stamps, Seen) {
    let s = Stamps {
        unmarked,
        nest_on,
        ..Stamps::default()
    };
    let seen = s.seen.clone();
    (s, seen)
}

fn by_msg(seen: &Seen) -> Vec<(String, SystemTime)> {
    let mut v = seen
        .lock()
        .expect("no test panicked holding the lock")
        .clone();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

#[test]
fn a_loop_of_events_gets_one_time_per_event_in_every_layer() {
    let (a, sa) = layer(false, None);
    let (b, sb) = layer(false, None);
    let (c, sc) = layer(true, None);
    let subscriber = tracing_subscriber::registry().with(a).with(c).with(b);
    tracing::subscriber::with_default(subscriber, || {
        for i in 0..10 {
            tracing::info!("event {i}");
        }
    });
    let (a, b, c) = (by_msg(&sa), by_msg(&sb), by_msg(&sc));
    assert_eq!(a.len(), 10);
    assert_eq!(a, b);
    assert_eq!(a, c);
    let mut times: Vec<SystemTime> = a.iter().map(|x| x.1).collect();
    times.sort();
    times.dedup();
    assert_eq!(times.len(), 10, "distinct events share a time: {a:?}");
}

#[test]
fn an_event_raised_during_delivery_leaves_the_outer_events_time_alone() {
    let (a, sa) = layer(false, Some("outer"));
    let (b, sb) = layer(false, None);
    let subscriber = tracing_subscriber::registry().with(a).with(b);
    tracing::subscriber::with_default(subscriber, || {
        tracing::info!("outer");
    });
    let (a, b) = (by_msg(&sa), by_msg(&sb));
    assert_eq!(a.len(), 2, "{a:?}");
    assert_eq!(a, b);
    assert_ne!(a[0].1, a[1].1);
}

#[test]
fn an_event_rejected_after_marking_does_not_lend_its_time_to_the_next() {
    let (a, sa) = layer(false, None);
    let (b, sb) = layer(false, None);
    let subscriber = tracing_subscriber::registry().with(Reject).with(a).with(b);
    let mut between = None;
    tracing::subscriber::with_default(subscriber, || {
        for m in ["rejected", "kept"] {
            if m == "kept" {
                spin();
                between = Some(SystemTime::now());
            }
            // One call site, one address: the kept event follows the rejected one.
            tracing::info!("{m}");
        }
    });
    let (a, b) = (by_msg(&sa), by_msg(&sb));
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a, b);
    assert!(
        a[0].1 >= between.unwrap(),
        "the kept event got the rejected one's time"
    );
}
