//! Read-only views of a [`Forest`]: a trace, a task in its tree, an event.

use taskwire_core::task_record::children;
use tracing_core::Level;

use super::build::{Forest, Node, Orphan, Trace};
use super::records::{Event, Task};
use super::skew::Skew;

impl Forest {
    /// The traces, in the order of [`Forest::search`] (by default, by start).
    pub fn traces(&self) -> impl ExactSizeIterator<Item = TraceRef<'_>> + DoubleEndedIterator {
        self.traces.iter().map(move |trace| TraceRef {
            forest: self,
            trace,
        })
    }

    /// The trace with this id, if it was kept.
    pub fn trace(&self, id: u128) -> Option<TraceRef<'_>> {
        self.traces().find(|t| t.id() == id)
    }

    /// The ticket fingerprints the error lines of every kept trace carry (`ticket.fingerprint`,
    /// written when a tickets layer counted the error), sorted and each once: what a front end
    /// looks up in the tickets store to show each error's ticket.
    pub fn ticket_fingerprints(&self) -> Vec<u64> {
        let mut fingerprints: Vec<u64> = self
            .traces()
            .flat_map(|t| {
                let unattached = t.unattached();
                t.nodes().flat_map(|n| n.errors()).chain(unattached)
            })
            .filter_map(|e| e.ticket_fingerprint())
            .collect();
        fingerprints.sort_unstable();
        fingerprints.dedup();
        fingerprints
    }

    /// Whether no trace is kept.
    pub fn is_empty(&self) -> bool {
        self.traces.is_empty()
    }
}

/// One trace of a [`Forest`].
#[derive(Clone, Copy, Debug)]
pub struct TraceRef<'f> {
    forest: &'f Forest,
    trace: &'f Trace,
}

impl<'f> TraceRef<'f> {
    /// The trace id.
    pub fn id(&self) -> u128 {
        self.trace.id
    }

    /// The earliest task start, on the trace's clock (µs since the epoch).
    pub fn start_us(&self) -> i64 {
        self.trace.start_us
    }

    /// The latest task end, on the trace's clock.
    pub fn end_us(&self) -> i64 {
        self.trace.end_us
    }

    /// From the first start to the last end.
    pub fn duration_us(&self) -> u64 {
        u64::try_from(self.trace.end_us.saturating_sub(self.trace.start_us)).unwrap_or(0)
    }

    /// How many tasks.
    pub fn task_count(&self) -> usize {
        self.trace.len as usize
    }

    /// How many failed tasks.
    pub fn failed(&self) -> usize {
        self.trace.failed
    }

    /// The distinct services, sorted.
    pub fn services(&self) -> impl ExactSizeIterator<Item = &'f str> + 'f {
        let f = self.forest;
        let set = f.service_sets.get(self.trace.services as usize);
        set.map_or(&[][..], |s| &s[..])
            .iter()
            .map(move |&s| f.str(s))
    }

    /// The name of the first root task.
    pub fn root_name(&self) -> Option<&'f str> {
        let f = self.forest;
        f.tasks.get(self.trace.root as usize).map(|t| f.str(t.name))
    }

    /// The tasks as a pre-order walk of the tree (depth first, children in start order). The
    /// tree is walked on each call (the forest keeps each trace's summary, not its tree).
    pub fn nodes(&self) -> impl ExactSizeIterator<Item = NodeRef<'f>> + 'f {
        let f = self.forest;
        f.nodes_of(self.trace).into_iter().map(move |node| NodeRef {
            forest: f,
            node,
            task: &f.tasks[node.task()],
        })
    }

    /// Events of this trace whose span has no task record.
    pub fn unattached(&self) -> impl Iterator<Item = EventRef<'f>> + 'f {
        let f = self.forest;
        self.trace.unattached.iter().map(move |&e| EventRef {
            forest: f,
            event: &f.events[e],
            shift: 0,
        })
    }

    /// The clock offsets found between services and applied to this trace's times.
    pub fn skews(&self) -> &'f [Skew] {
        &self.trace.skews
    }
}

/// One task of a trace, at its place in the tree.
#[derive(Clone, Copy, Debug)]
pub struct NodeRef<'f> {
    forest: &'f Forest,
    node: Node,
    task: &'f Task,
}

impl<'f> NodeRef<'f> {
    /// 0 for a root.
    pub fn depth(&self) -> usize {
        self.node.depth()
    }

    /// Whether no later sibling follows.
    pub fn is_last(&self) -> bool {
        self.node.last
    }

    /// Whether the next node is its first child.
    pub fn has_children(&self) -> bool {
        self.node.has_children
    }

    /// Why it is a root although it has a parent.
    pub fn orphan(&self) -> Option<Orphan> {
        self.node.orphan(self.task)
    }

    /// Its span id.
    pub fn span_id(&self) -> u64 {
        self.task.span
    }

    /// Its parent's span id.
    pub fn parent_span_id(&self) -> Option<u64> {
        self.task.parent()
    }

    /// Whether it was continued from another process.
    pub fn remote_parent(&self) -> bool {
        self.task.remote_parent
    }

    /// Whether it failed.
    pub fn failed(&self) -> bool {
        self.task.failed
    }

    /// `task.name`.
    pub fn name(&self) -> &'f str {
        self.forest.str(self.task.name)
    }

    /// `task.target`.
    pub fn target(&self) -> Option<&'f str> {
        self.task.target.map(|s| self.forest.str(s))
    }

    /// The service that wrote it.
    pub fn service(&self) -> Option<&'f str> {
        self.task.service.map(|s| self.forest.str(s))
    }

    /// `task.failure`: why it failed.
    pub fn failure(&self) -> Option<&'f str> {
        self.task.failure.map(|s| self.forest.str(s))
    }

    /// Start on the trace's clock (µs since the epoch): adjusted for clock skew, never before
    /// its parent's start in the same service.
    pub fn start_us(&self) -> i64 {
        self.node.start_us
    }

    /// End on the trace's clock.
    pub fn end_us(&self) -> i64 {
        self.node.end_us
    }

    /// End as written in its record (`ts`).
    pub fn recorded_end_us(&self) -> i64 {
        self.task.end_us
    }

    /// Whether its start was clamped to its parent's (same service).
    pub fn start_clamped(&self) -> bool {
        self.node.clamped
    }

    /// `task.duration_us`.
    pub fn duration_us(&self) -> u64 {
        self.task.duration_us
    }

    /// `task.busy_us`.
    pub fn busy_us(&self) -> u64 {
        self.task.busy_us
    }

    /// `task.errors`: ERROR events recorded inside it.
    pub fn error_count(&self) -> u64 {
        u64::from(self.task.errors)
    }

    /// `task.failed_children`.
    pub fn failed_children(&self) -> u64 {
        u64::from(self.task.failed_children)
    }

    /// `task.children`: how many descendants wrote no record of their own and are summarised
    /// in this one (the tasks layer's default record policy).
    pub fn summarised_children(&self) -> u64 {
        u64::from(self.task.children)
    }

    /// Those descendants by span name (`task.children_summary`): count, total and longest
    /// duration, in the order the record gives them.
    pub fn children_summary(&self) -> impl Iterator<Item = children::Group<'f>> + 'f {
        children::parse(
            self.task
                .children_summary
                .map_or("", |s| self.forest.str(s)),
        )
    }

    /// An outgoing call (`otel.kind` client or producer, or an HTTP client task) that no task
    /// of another service answers in the logs read: the callee's log was not given.
    pub fn calls_unread_service(&self) -> bool {
        self.node.calls_unread
    }

    /// The record's own fields (route, status, order …) as a JSON object, when the reader kept
    /// them ([`Reader::with_events`](super::Reader::with_events)).
    pub fn attributes(&self) -> Option<&'f str> {
        let (a, key) = (&self.forest.attributes, (self.task.trace, self.task.span));
        let i = a.partition_point(|a| (a.trace, a.span) < key);
        a.get(i)
            .filter(|a| (a.trace, a.span) == key)
            .map(|a| &*a.fields)
    }

    /// Its events, in time order: ERROR events, and every event when the reader kept them.
    pub fn events(&self) -> impl ExactSizeIterator<Item = EventRef<'f>> + 'f {
        let f = self.forest;
        let shift = self.node.end_us - self.task.end_us;
        let key = (self.task.trace, self.task.span);
        let lo = f.events.partition_point(|e| (e.trace, e.span) < key);
        let hi = lo + f.events[lo..].partition_point(|e| (e.trace, e.span) == key);
        f.events[lo..hi].iter().map(move |event| EventRef {
            forest: f,
            event,
            shift,
        })
    }

    /// Its ERROR events, in time order.
    pub fn errors(&self) -> impl Iterator<Item = EventRef<'f>> + 'f {
        self.events().filter(|e| e.level() == Level::ERROR)
    }
}

/// One event inside a span.
#[derive(Clone, Copy, Debug)]
pub struct EventRef<'f> {
    forest: &'f Forest,
    event: &'f Event,
    /// Its service's clock offset in this trace.
    shift: i64,
}

impl<'f> EventRef<'f> {
    /// When it was written, by its service's clock (µs since the epoch).
    pub fn ts_us(&self) -> i64 {
        self.event.ts_us
    }

    /// When it was written, on the trace's clock (adjusted like its task).
    pub fn at_us(&self) -> i64 {
        self.event.ts_us + self.shift
    }

    /// Its level.
    pub fn level(&self) -> Level {
        self.event.level
    }

    /// Its message (`msg`, or the `error` field's message when `msg` is empty).
    pub fn msg(&self) -> &'f str {
        self.forest.str(self.event.msg)
    }

    /// The span it happened in.
    pub fn span_id(&self) -> u64 {
        self.event.span
    }

    /// The fingerprint of the ticket it was counted in, from its `ticket.fingerprint` field
    /// (16 hex digits), which the tickets layer writes on an error's JSON line.
    pub fn ticket_fingerprint(&self) -> Option<u64> {
        self.event.fingerprint
    }

    /// Its own fields as a JSON object, when the reader kept them.
    pub fn fields(&self) -> Option<&'f str> {
        self.event.fields.as_deref()
    }
}
