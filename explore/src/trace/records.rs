//! The records the reader keeps: task records, events, task attributes, and what reading met.

use tracing_core::Level;

use super::strings::Sym;

/// One `task.end` record: 96 bytes (at 1 GB of logs there are ~800,000). Counters are `u32`,
/// saturating (four billion errors in one task are not told apart from more), and the parent
/// id is stored beside a flag rather than as an `Option`, which would pad the record by 16
/// bytes.
#[derive(Clone, Debug)]
pub(crate) struct Task {
    pub(crate) trace: u128,
    pub(crate) span: u64,
    pub(super) parent_id: u64,
    pub(super) has_parent: bool,
    pub(crate) remote_parent: bool,
    pub(crate) failed: bool,
    /// An outgoing call: `otel.kind` is `client` or `producer`, or the record has `url.full`.
    pub(crate) client: bool,
    /// A message sent (`otel.kind` is `producer`): its consumers may run after it ends.
    pub(crate) producer: bool,
    pub(crate) name: Sym,
    pub(crate) target: Option<Sym>,
    pub(crate) service: Option<Sym>,
    pub(crate) failure: Option<Sym>,
    /// End time, µs since the epoch (the record's `ts`).
    pub(crate) end_us: i64,
    pub(crate) duration_us: u64,
    pub(crate) busy_us: u64,
    pub(crate) errors: u32,
    pub(crate) failed_children: u32,
    /// `task.children`: descendants without a record, summarised in this one.
    pub(crate) children: u32,
    /// `task.children_summary`: the same by span name.
    pub(crate) children_summary: Option<Sym>,
}

impl Task {
    /// Its parent's span id.
    pub(crate) fn parent(&self) -> Option<u64> {
        self.has_parent.then_some(self.parent_id)
    }

    /// Sets its parent's span id.
    pub(crate) fn set_parent(&mut self, parent: Option<u64>) {
        (self.parent_id, self.has_parent) = (parent.unwrap_or(0), parent.is_some());
    }

    /// Start time, µs since the epoch: end minus duration.
    pub(crate) fn start_us(&self) -> i64 {
        self.end_us
            .saturating_sub(i64::try_from(self.duration_us).unwrap_or(i64::MAX))
    }
}

/// One log event that happened inside a span: every ERROR event, and every other event when
/// they are kept.
#[derive(Clone, Debug)]
pub(crate) struct Event {
    pub(crate) trace: u128,
    /// The span it happened in; after [`build`](super::build), the nearest one with a task
    /// record when its own has none and the way there is known.
    pub(crate) span: u64,
    /// The parent of its span (`parent_span_id`).
    pub(crate) parent: Option<u64>,
    pub(crate) ts_us: i64,
    pub(crate) level: Level,
    pub(crate) msg: Sym,
    /// The event's own fields as a JSON object, when events are kept.
    pub(crate) fields: Option<Box<str>>,
    /// The fingerprint of the ticket it was counted in (`ticket.fingerprint`).
    pub(crate) fingerprint: Option<u64>,
}

/// A task record's own fields (the span's: route, status, order …) as a JSON object, kept when
/// events are: beside the tasks, so a task costs nothing for them otherwise.
#[derive(Clone, Debug)]
pub(crate) struct Attributes {
    pub(crate) trace: u128,
    pub(crate) span: u64,
    pub(crate) fields: Box<str>,
}

/// What [`Reader::line`](super::Reader::line) made of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineKind {
    /// Not a JSON object, or a record we had to parse that did not parse.
    Malformed,
    /// A well-formed line that is not kept (or filtered out).
    Other,
    /// A `task.end` record.
    Task,
    /// An event inside a span (ERROR events always, the others with
    /// [`Reader::with_events`](super::Reader::with_events)).
    Event,
    /// An event already read (the same line, from another file or twice), or a task record
    /// of a trace already taken out ([`Reader::take_trace`](super::Reader::take_trace)); other
    /// task records read twice are found, and counted, when the reading ends.
    Repeat,
}

/// What reading one input met besides records.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Lines that are not JSON records, or records we need that did not parse.
    pub malformed: u64,
    /// The last line ended without a newline and is not a record: cut while being written.
    pub cut_last_line: bool,
}

/// Everything read from all inputs: the task records and events of the traces kept, ready for
/// [`build`](super::build).
#[derive(Debug, Default)]
pub struct Collected {
    pub(crate) tasks: Vec<Task>,
    pub(crate) events: Vec<Event>,
    pub(crate) attributes: Vec<Attributes>,
    pub(crate) strings: Vec<Box<str>>,
    /// Task records and events read more than once, ignored after the first.
    pub(crate) repeats: u64,
}

impl Collected {
    /// The text of an interned string.
    #[cfg(test)]
    pub(crate) fn str(&self, s: Sym) -> &str {
        self.strings.get(s.index()).map_or("", |b| b)
    }

    /// How many task records were kept.
    pub fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// How many task records and events were read more than once (counted once).
    pub fn repeats(&self) -> u64 {
        self.repeats
    }
}

/// A counter of a record as stored: `u32`, saturating.
pub(crate) fn counter(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Sorts `tasks` as [`build`](super::build) does and drops the records read more than once
/// (same trace id, span id, end and duration: equal sort keys, so neighbours); returns how
/// many were dropped.
pub(super) fn dedup_tasks(tasks: &mut Vec<Task>) -> u64 {
    super::build::sort_tasks(tasks);
    let before = tasks.len();
    tasks.dedup_by(|a, b| {
        (a.trace, a.span, a.end_us, a.duration_us) == (b.trace, b.span, b.end_us, b.duration_us)
    });
    (before - tasks.len()) as u64
}

#[cfg(test)]
mod tests {
    #[test]
    fn records_and_nodes_stay_small() {
        assert_eq!(std::mem::size_of::<super::Task>(), 96);
        assert_eq!(std::mem::size_of::<crate::trace::build::Node>(), 40);
    }
}
