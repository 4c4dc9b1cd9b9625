//! The `task.start` and `task.end` records: events with static call sites, dispatched straight
//! to the tasks layer's own subscriber (no lookup of the thread's default subscriber, no second
//! dispatch through `tracing`'s macros).
//!
//! The call sites have no file, line or module of their own: a record describes its task, and
//! the layers that write a location (JSON, OTLP logs) take the task span's call site instead
//! (see `taskwire_core::task_record`). A subscriber that does not know task records writes no
//! location for them rather than this file's.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Once;

use tracing_core::callsite::{Callsite, Identifier};
use tracing_core::field::{FieldSet, Value};
use tracing_core::metadata::{Kind, LevelFilter};
use tracing_core::span::Id;
use tracing_core::subscriber::Interest;
use tracing_core::{Dispatch, Event, Level, Metadata};

use taskwire_core::task_record;

use taskwire_core::task_record::TARGET;

/// A record's call site: its metadata and the interest subscribers registered for it.
pub(crate) struct RecordCallsite {
    meta: &'static Metadata<'static>,
    interest: AtomicU8,
    registration: Once,
}

const UNKNOWN: u8 = 0;
const NEVER: u8 = 1;
const SOMETIMES: u8 = 2;
const ALWAYS: u8 = 3;

impl Callsite for RecordCallsite {
    fn set_interest(&self, interest: Interest) {
        let v = if interest.is_never() {
            NEVER
        } else if interest.is_always() {
            ALWAYS
        } else {
            SOMETIMES
        };
        self.interest.store(v, Ordering::Relaxed);
    }

    fn metadata(&self) -> &Metadata<'_> {
        self.meta
    }
}

/// The fields of a `task.end` record, in the order [`emit`] takes their values.
/// After `message` and `task.name`, the keys reserved for task records.
pub(crate) const END_FIELDS: [&str; 12] = [
    "message",
    "task.name",
    task_record::RESERVED_KEYS[0],
    task_record::RESERVED_KEYS[1],
    task_record::RESERVED_KEYS[2],
    task_record::RESERVED_KEYS[3],
    task_record::RESERVED_KEYS[4],
    task_record::RESERVED_KEYS[5],
    task_record::RESERVED_KEYS[6],
    task_record::RESERVED_KEYS[7],
    task_record::RESERVED_KEYS[8],
    task_record::RESERVED_KEYS[9],
];

/// The fields of a `task.start` record.
pub(crate) const START_FIELDS: [&str; 3] = ["message", "task.name", task_record::RESERVED_KEYS[0]];

pub(crate) static END: RecordCallsite = RecordCallsite {
    meta: &END_META,
    interest: AtomicU8::new(UNKNOWN),
    registration: Once::new(),
};

static END_META: Metadata<'static> = Metadata::new(
    task_record::END,
    TARGET,
    Level::INFO,
    None,
    None,
    None,
    FieldSet::new(&END_FIELDS, Identifier(&END)),
    Kind::EVENT,
);

pub(crate) static START: RecordCallsite = RecordCallsite {
    meta: &START_META,
    interest: AtomicU8::new(UNKNOWN),
    registration: Once::new(),
};

static START_META: Metadata<'static> = Metadata::new(
    task_record::START,
    TARGET,
    Level::INFO,
    None,
    None,
    None,
    FieldSet::new(&START_FIELDS, Identifier(&START)),
    Kind::EVENT,
);

/// Registers `callsite` on first use and returns its interest, or `None` when no subscriber
/// wants it (interest never, or above the maximum level). Call it outside `get_default`:
/// registration asks the default subscriber, and a nested `get_default` answers with none.
pub(crate) fn interest(callsite: &'static RecordCallsite) -> Option<u8> {
    callsite
        .registration
        .call_once(|| tracing_core::callsite::register(callsite));
    let interest = callsite.interest.load(Ordering::Relaxed);
    if interest == NEVER || *callsite.meta.level() > LevelFilter::current() {
        return None;
    }
    Some(interest)
}

/// Sends one record of `callsite` to `dispatch` as a child of the span `parent`, with `values`
/// in the order of the call site's fields, if `dispatch` enables it (as `tracing`'s macros do);
/// `interest` comes from [`interest`].
pub(crate) fn send(
    callsite: &'static RecordCallsite,
    interest: u8,
    dispatch: &Dispatch,
    parent: &Id,
    values: &[Option<&dyn Value>],
) {
    let meta = callsite.meta;
    if interest == ALWAYS || dispatch.enabled(meta) {
        dispatch.event(&Event::new_child_of(
            parent.clone(),
            meta,
            &meta.fields().value_set_all(values),
        ));
    }
}
