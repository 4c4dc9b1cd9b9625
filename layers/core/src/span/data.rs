//! [`SpanData`]: what taskwire keeps about one span, and the rules that keep it consistent.

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::clock;
use crate::ids::{SpanId, TraceId};
use crate::propagation::TraceParent;
use crate::schema;
use crate::schema::task_record::children::{self, Children};
use crate::value::FieldRef;

use super::fields::SpanFields;

/// Which spans get wall and busy time measured (two clock reads per enter/exit pair, one at
/// creation and one at close). Spans nobody times cost no clock read at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Timing {
    /// No timing.
    #[default]
    Off,
    /// Spans of sampled traces (what task records and exported spans need).
    Sampled,
    /// Every span.
    Always,
}

impl Timing {
    /// Whether a span of a trace whose sampled flag is `sampled` is timed.
    #[inline]
    pub(crate) fn times(self, sampled: bool) -> bool {
        match self {
            Timing::Off => false,
            Timing::Sampled => sampled,
            Timing::Always => true,
        }
    }
}

/// Per-span timing kept by a layer that reads a clock of its own (the metrics layer, whose
/// clock a test may move by hand). It lives in the span's [`SpanData`]
/// ([`SpanData::set_layer_timing`]) so that a span needs one extension, not one per layer.
///
/// ```
/// use taskwire_core::span::LayerTiming;
///
/// let mut t = LayerTiming::new(1, 0, 100);
/// t.enter(110);
/// t.enter(115); // a re-entry: the outer interval counts
/// t.exit(120);
/// t.exit(130);
/// assert_eq!(t.busy_at(200), 20);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LayerTiming {
    /// The id of the layer that keeps it: a second such layer finds the first one's.
    pub owner: u64,
    /// A number the owner attaches (the metrics layer: the span's call site).
    pub tag: u32,
    /// When the span was created, in the owner's clock.
    pub start: u64,
    /// The entered time of the intervals that ended.
    pub busy: u64,
    /// When the current outermost enter started.
    pub entered_at: u64,
    /// Enters not yet exited.
    pub depth: u32,
}

impl LayerTiming {
    /// The tag of a timing the capture started ([`Needs::with_layer_timing`](super::Needs::with_layer_timing)):
    /// the owner finds what it would have attached from the span itself.
    pub const UNTAGGED: u32 = u32::MAX;

    /// The timing of a span created at `start`, kept by layer `owner`.
    pub fn new(owner: u64, tag: u32, start: u64) -> Self {
        LayerTiming {
            owner,
            tag,
            start,
            ..LayerTiming::default()
        }
    }

    /// The span was entered at `now`.
    #[inline]
    pub fn enter(&mut self, now: u64) {
        if self.depth == 0 {
            self.entered_at = now;
        }
        self.depth += 1;
    }

    /// The span was exited at `now`.
    #[inline]
    pub fn exit(&mut self, now: u64) {
        self.depth = self.depth.saturating_sub(1);
        if self.depth == 0 {
            self.busy += now.saturating_sub(self.entered_at);
        }
    }

    /// The busy time at `now`, the interval still running included.
    #[inline]
    pub fn busy_at(&self, now: u64) -> u64 {
        if self.depth > 0 {
            self.busy + now.saturating_sub(self.entered_at)
        } else {
            self.busy
        }
    }
}

/// Where a span sits in its trace: decided when the span is captured, changed only by
/// [`set_remote_parent`](super::set_remote_parent).
#[derive(Clone, Debug)]
pub(crate) struct Lineage {
    pub(crate) trace_id: TraceId,
    pub(crate) parent_span_id: Option<SpanId>,
    pub(crate) sampled: bool,
    pub(crate) random: bool,
    pub(crate) remote_parent: bool,
    pub(crate) tracestate: Option<Arc<str>>,
}

/// What taskwire keeps about a span, in its registry extensions: written by the capture (ids,
/// lineage, fields, timing) and by the tasks layer through the methods below (errors, failure,
/// failed children); read by every taskwire layer.
///
/// ```
/// use taskwire_core::SpanData;
///
/// let mut data = SpanData::detached();
/// assert!(!data.failed());
/// data.fail("card declined");
/// data.fail("timeout"); // the first reason wins
/// assert_eq!(data.failure(), Some("card declined"));
/// assert!(data.failed());
/// ```
pub struct SpanData {
    span_id: SpanId,
    lineage: Lineage,
    fields: SpanFields,
    /// Whether `fields` holds every field of the span, not only the [control
    /// fields](super::CONTROL_FIELDS) (some layer in the stack reads them).
    all_fields: bool,
    timed: Option<SpanTimes>,
    errors: u32,
    failed_children: u32,
    failure: Option<Box<str>>,
    /// The timing a reader layer keeps with its own clock.
    layer_timing: Option<LayerTiming>,
    /// Whether its context was sent to another process (a client task that propagated it).
    exported: bool,
    /// Descendants that wrote a task record of their own.
    written_children: u32,
    /// Descendants that wrote none, summarised in this task's record.
    children: Option<Box<Children>>,
}

impl fmt::Debug for SpanData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpanData")
            .field("traceparent", &self.traceparent().to_string())
            .field("parent_span_id", &self.lineage.parent_span_id)
            .field("remote_parent", &self.lineage.remote_parent)
            .field("fields", &self.fields)
            .field("errors", &self.errors)
            .field("failed_children", &self.failed_children)
            .field("failure", &self.failure)
            .finish_non_exhaustive()
    }
}

/// Wall and busy time of a span, in [`clock`] nanoseconds.
#[derive(Debug, Clone, Copy)]
struct SpanTimes {
    created: u64,
    /// The entered time of the intervals that ended so far; an interval is added when the
    /// span is exited.
    busy: u64,
}

impl SpanData {
    /// The data of span `span_id`, timed from `created` when that is given.
    #[inline]
    pub(crate) fn with_parts(
        span_id: SpanId,
        lineage: Lineage,
        fields: SpanFields,
        all_fields: bool,
        created: Option<u64>,
        layer_timing: Option<LayerTiming>,
    ) -> Self {
        SpanData {
            span_id,
            lineage,
            fields,
            all_fields,
            timed: created.map(|created| SpanTimes { created, busy: 0 }),
            errors: 0,
            failed_children: 0,
            failure: None,
            layer_timing,
            exported: false,
            written_children: 0,
            children: None,
        }
    }

    /// The data of a sampled root span that belongs to no subscriber: for tests and examples
    /// of the methods below.
    pub fn detached() -> Self {
        let lineage = Lineage {
            trace_id: TraceId::random(),
            parent_span_id: None,
            sampled: true,
            random: true,
            remote_parent: false,
            tracestate: None,
        };
        SpanData::with_parts(
            SpanId::random(),
            lineage,
            SpanFields::default(),
            true,
            None,
            None,
        )
    }

    /// The trace this span belongs to.
    #[inline]
    pub fn trace_id(&self) -> TraceId {
        self.lineage.trace_id
    }

    /// This span's own id.
    #[inline]
    pub fn span_id(&self) -> SpanId {
        self.span_id
    }

    /// The parent span's id, if any (local or remote).
    #[inline]
    pub fn parent_span_id(&self) -> Option<SpanId> {
        self.lineage.parent_span_id
    }

    /// Whether the trace is sampled (the W3C sampled flag).
    #[inline]
    pub fn sampled(&self) -> bool {
        self.lineage.sampled
    }

    /// The W3C Level 2 random-trace-id flag: set for trace ids taskwire generated (all random),
    /// and as it arrived for a trace imported from another process.
    #[inline]
    pub fn random(&self) -> bool {
        self.lineage.random
    }

    /// Whether the parent is a task of another process (imported from a `traceparent`).
    #[inline]
    pub fn remote_parent(&self) -> bool {
        self.lineage.remote_parent
    }

    /// Whether the span has no local parent: a root, or a task imported from another process.
    #[inline]
    pub fn is_local_root(&self) -> bool {
        self.lineage.parent_span_id.is_none() || self.lineage.remote_parent
    }

    /// The W3C `tracestate` carried along the trace, if any.
    #[inline]
    pub fn tracestate(&self) -> Option<&Arc<str>> {
        self.lineage.tracestate.as_ref()
    }

    /// This span's own context as a `traceparent`.
    #[inline]
    pub fn traceparent(&self) -> TraceParent {
        TraceParent {
            trace_id: self.lineage.trace_id,
            span_id: self.span_id,
            sampled: self.lineage.sampled,
            random: self.lineage.random,
        }
    }

    /// This span's W3C trace-flags byte (sampled and random bits).
    #[inline]
    pub fn flags(&self) -> u8 {
        self.traceparent().flags()
    }

    /// The span's fields. Without a layer that reads span fields in the stack, only the
    /// [control fields](super::CONTROL_FIELDS).
    #[inline]
    pub fn fields(&self) -> &SpanFields {
        &self.fields
    }

    /// ERROR events that occurred directly inside this span.
    #[inline]
    pub fn errors(&self) -> u32 {
        self.errors
    }

    /// Children whose outcome was failed.
    #[inline]
    pub fn failed_children(&self) -> u32 {
        self.failed_children
    }

    /// Why the task failed, if a reason was given: the first one ([`SpanData::fail`], or the
    /// message of the first ERROR event).
    #[inline]
    pub fn failure(&self) -> Option<&str> {
        self.failure.as_deref()
    }

    /// Whether the task failed: an ERROR event inside it, a failure reason, or a recorded
    /// field `outcome = "failed"`. A failed child does not fail its parent.
    #[inline]
    pub fn failed(&self) -> bool {
        self.errors > 0
            || self.failure.is_some()
            || (self.fields.has_outcome()
                && self.fields.get(schema::OUTCOME).and_then(FieldRef::as_str) == Some("failed"))
    }

    /// Marks the task failed with `reason`. The first reason wins: later ones are ignored
    /// (and not even formatted). Returns whether this reason was kept.
    pub fn fail(&mut self, reason: impl fmt::Display) -> bool {
        if self.failure.is_some() {
            return false;
        }
        let mut s = String::new();
        // Not `to_string`, which panics on a failing `Display` impl.
        let _ = fmt::Write::write_fmt(&mut s, format_args!("{reason}"));
        self.failure = Some(s.into_boxed_str());
        true
    }

    /// Counts an ERROR event directly inside this span. `reason` (the event's message) is
    /// asked for only when the task has no failure reason yet, and becomes it.
    pub fn record_error(&mut self, reason: impl FnOnce() -> Option<String>) {
        self.errors = self.errors.saturating_add(1);
        if self.failure.is_none() {
            self.failure = reason().map(String::into_boxed_str);
        }
    }

    /// Whether an error was reported inside this task: an ERROR event directly inside it
    /// ([`SpanData::record_error`]) or a failed task under it ([`SpanData::note_failed_child`]).
    /// A reason given by [`SpanData::fail`] alone is not a report: it is what a middleware
    /// sets from the response, and such a failure is still unreported.
    ///
    /// ```
    /// use taskwire_core::span::SpanData;
    /// let mut request = SpanData::detached();
    /// request.fail("HTTP 500 Internal Server Error");
    /// assert!(!request.has_reported_error());
    /// request.note_failed_child();
    /// assert!(request.has_reported_error());
    /// ```
    #[inline]
    pub fn has_reported_error(&self) -> bool {
        self.errors > 0 || self.failed_children > 0
    }

    /// Counts a child span whose outcome was failed.
    pub fn note_failed_child(&mut self) {
        self.failed_children = self.failed_children.saturating_add(1);
    }

    /// Records that this task's context was sent to another process (written into an outgoing
    /// request's headers): the task crosses a process boundary, and the tasks layer writes
    /// its record by default.
    #[inline]
    pub fn note_exported(&mut self) {
        self.exported = true;
    }

    /// Whether this task's context was sent to another process ([`SpanData::note_exported`]).
    #[inline]
    pub fn exported(&self) -> bool {
        self.exported
    }

    /// Counts a descendant that wrote a task record of its own (the tasks layer writes the
    /// record of a task with such a descendant, so every record's parent has one).
    #[inline]
    pub fn note_written_child(&mut self) {
        self.written_children = self.written_children.saturating_add(1);
    }

    /// Descendants that wrote a task record of their own.
    #[inline]
    pub fn written_children(&self) -> u32 {
        self.written_children
    }

    /// Summarises in this task a child named `name` that took `duration_us` and writes no
    /// record, with the descendants the child summarised itself (`grandchildren`).
    ///
    /// ```
    /// use taskwire_core::SpanData;
    ///
    /// let mut parent = SpanData::detached();
    /// let mut child = SpanData::detached();
    /// child.summarise_child("db.query", 300, None);
    /// let grandchildren = child.take_children();
    /// parent.summarise_child("load", 900, grandchildren.as_deref());
    /// assert_eq!(parent.children().map(ToString::to_string).as_deref(), Some("load:1:900:900;db.query:1:300:300"));
    /// ```
    pub fn summarise_child(
        &mut self,
        name: &'static str,
        duration_us: u64,
        grandchildren: Option<&Children>,
    ) {
        let c = self.children.get_or_insert_with(children::boxed);
        c.note(name, duration_us);
        if let Some(g) = grandchildren {
            c.merge(g);
        }
    }

    /// Adds the summary `c`, gathered while the span was entered, to this task's.
    #[inline(never)]
    pub(crate) fn take_summary(&mut self, c: Box<Children>) {
        match self.children.as_deref_mut() {
            None => self.children = Some(c),
            Some(mine) => {
                mine.merge(&c);
                children::recycle(c);
            }
        }
    }

    /// The descendants summarised in this task, if any.
    #[inline]
    pub fn children(&self) -> Option<&Children> {
        self.children.as_deref()
    }

    /// Takes the summary out (give it back with [`children::recycle`] when done).
    #[inline]
    pub fn take_children(&mut self) -> Option<Box<Children>> {
        self.children.take()
    }

    /// The task's display name when the code gave it one: its `task.name` field, else its
    /// `otel.name` field (span names are static; a request task is named after its route at
    /// run time).
    pub fn task_name(&self) -> Option<&str> {
        if !self.fields.has_name() {
            return None;
        }
        schema::NAME_KEYS
            .iter()
            .find_map(|k| self.fields.get(k).and_then(FieldRef::as_str))
    }

    /// Wall time since creation and busy (entered) time so far, when the span is timed (see
    /// [`Timing`]). Busy time counts the intervals that ended (the span was exited);
    /// intervals on several threads at once add up, as CPU time does.
    pub fn elapsed(&self) -> Option<(Duration, Duration)> {
        self.elapsed_nanos()
            .map(|(wall, busy)| (Duration::from_nanos(wall), Duration::from_nanos(busy)))
    }

    /// [`SpanData::elapsed`] in [`clock`] nanoseconds: wall time since creation and busy time
    /// so far, when the span is timed; for a layer that works in whole units at close.
    #[inline]
    pub fn elapsed_nanos(&self) -> Option<(u64, u64)> {
        self.timed
            .map(|t| (clock::now().saturating_sub(t.created), t.busy))
    }

    /// When the span was created, when it is timed.
    pub fn created(&self) -> Option<Instant> {
        self.timed.map(|t| clock::to_instant(t.created))
    }

    /// The timing a reader layer keeps with its own clock, if one set it.
    #[inline]
    pub fn layer_timing(&self) -> Option<&LayerTiming> {
        self.layer_timing.as_ref()
    }

    /// The same, to update on enter and exit.
    #[inline]
    pub fn layer_timing_mut(&mut self) -> Option<&mut LayerTiming> {
        self.layer_timing.as_mut()
    }

    /// Keeps `timing` unless a layer already set one (the first layer keeps it); returns
    /// whether it was kept.
    #[inline]
    pub fn set_layer_timing(&mut self, timing: LayerTiming) -> bool {
        if self.layer_timing.is_some() {
            return false;
        }
        self.layer_timing = Some(timing);
        true
    }

    /// Whether the span is timed.
    #[inline]
    pub(crate) fn is_timed(&self) -> bool {
        self.timed.is_some()
    }

    /// Adds an entered interval that ended (an exit) to the busy time.
    #[inline]
    pub(crate) fn add_busy(&mut self, nanos: u64) {
        if let Some(t) = self.timed.as_mut() {
            t.busy += nanos;
        }
    }

    /// Whether every field is captured (not only the control fields).
    #[inline]
    pub(crate) fn has_all_fields(&self) -> bool {
        self.all_fields
    }

    /// The fields, for the capture to record into.
    #[inline]
    pub(crate) fn fields_mut(&mut self) -> &mut SpanFields {
        &mut self.fields
    }

    /// Re-parents the span under a remote task: its trace, sampling and `tracestate`. A
    /// span that becomes sampled starts being timed now when `timing` asks for it.
    pub(crate) fn set_remote_parent(&mut self, parent: TraceParent, state: Option<Arc<str>>) {
        self.lineage = Lineage {
            trace_id: parent.trace_id,
            parent_span_id: Some(parent.span_id),
            sampled: parent.sampled,
            random: parent.random,
            remote_parent: true,
            tracestate: state,
        };
        if parent.sampled && self.timed.is_none() {
            // Unsampled at creation, so untimed; the imported trace is sampled.
            self.timed = Some(SpanTimes {
                created: clock::now(),
                busy: 0,
            });
        }
    }
}

static UNSAMPLED: AtomicBool = AtomicBool::new(false);

/// Records that some span in this process is unsampled, so layers start checking the
/// sampled flag (until then they skip the lookup).
pub fn note_unsampled() {
    UNSAMPLED.store(true, Ordering::Relaxed);
}

/// Whether any span of this process has been unsampled so far.
#[inline]
pub fn any_unsampled() -> bool {
    UNSAMPLED.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_failure_reason_wins() {
        let mut d = SpanData::detached();
        assert!(d.fail("first"));
        assert!(!d.fail("second"));
        d.record_error(|| Some("an error".into()));
        assert_eq!(d.failure(), Some("first"));
        assert_eq!(d.errors(), 1);
    }

    #[test]
    fn an_error_gives_the_reason_when_none_was_given() {
        let mut d = SpanData::detached();
        d.record_error(|| Some("disk full".into()));
        let mut asked = false;
        d.record_error(|| {
            asked = true;
            Some("later".into())
        });
        assert!(!asked, "a second reason is not even computed");
        assert!(!d.fail("too late"));
        assert_eq!(d.failure(), Some("disk full"));
        assert_eq!(d.errors(), 2);
        assert!(d.failed());
    }

    #[test]
    fn a_later_reason_is_not_formatted() {
        struct Panics;
        impl fmt::Display for Panics {
            fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
                panic!("formatted a reason that loses anyway")
            }
        }
        let mut d = SpanData::detached();
        d.fail("first");
        d.fail(Panics);
        assert_eq!(d.failure(), Some("first"));
    }

    #[test]
    fn a_failure_reason_alone_is_not_a_reported_error() {
        let mut d = SpanData::detached();
        d.fail("HTTP 502 Bad Gateway");
        assert!(d.failed());
        assert!(!d.has_reported_error());
        d.record_error(|| None);
        assert!(d.has_reported_error());
        assert_eq!(d.failure(), Some("HTTP 502 Bad Gateway"));
    }

    #[test]
    fn failed_children_do_not_fail_the_parent() {
        let mut d = SpanData::detached();
        d.note_failed_child();
        assert_eq!(d.failed_children(), 1);
        assert!(!d.failed());
    }
}
