//! The current task, exporting it, importing a remote one, and marking failure.

use std::fmt;
use std::sync::Arc;

use taskwire_core::propagation::{self, Extracted, Extractor, Injector, TraceParent, TraceState};
use taskwire_core::span;
use taskwire_core::{SpanId, TraceId};
use tracing::Span;

/// A task's identity as it crosses a process boundary: trace id, span id, the sampled and
/// random-trace-id flags, and the trace's `tracestate`.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry().with(taskwire_tasks::layer());
/// tracing::subscriber::with_default(subscriber, || {
///     let _task = tracing::info_span!("checkout").entered();
///     let ctx = taskwire_tasks::current().expect("inside a task");
///     let header = ctx.traceparent(); // "00-<trace id>-<span id>-03"
///     assert_eq!(header.len(), 55);
///     // A trace taskwire started: sampled, and its trace id is random.
///     assert!(ctx.sampled() && ctx.random());
///     assert!(header.ends_with("-03"));
/// });
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskContext {
    parent: TraceParent,
    tracestate: Option<Arc<str>>,
}

impl TaskContext {
    /// The trace id shared by the whole tree.
    pub fn trace_id(&self) -> TraceId {
        self.parent.trace_id
    }

    /// This task's span id.
    pub fn span_id(&self) -> SpanId {
        self.parent.span_id
    }

    /// Whether the trace is sampled.
    pub fn sampled(&self) -> bool {
        self.parent.sampled
    }

    /// Whether the trace id carries W3C Trace Context Level 2's random-trace-id flag: set for
    /// traces taskwire started, and as received for a trace imported from another process.
    pub fn random(&self) -> bool {
        self.parent.random
    }

    /// The `traceparent` header value that continues this task elsewhere.
    pub fn traceparent(&self) -> String {
        self.parent.to_string()
    }

    /// The parsed `traceparent` (no allocation).
    pub fn to_traceparent(&self) -> TraceParent {
        self.parent
    }

    /// The `tracestate` header value, when the trace carries one.
    pub fn tracestate(&self) -> Option<&str> {
        self.tracestate.as_deref()
    }

    /// Writes `traceparent` (and `tracestate`) into a carrier.
    pub fn inject(&self, carrier: &mut (impl Injector + ?Sized)) {
        self.parent
            .with_str(|s| carrier.set(propagation::TRACEPARENT, s));
        if let Some(ts) = &self.tracestate {
            carrier.set(propagation::TRACESTATE, ts);
        }
    }
}

impl fmt::Display for TaskContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.parent, f)
    }
}

/// The task entered last on this thread, or `None` outside tasks. A thread-local read: no span
/// handle is cloned and no lock is taken.
pub fn current() -> Option<TaskContext> {
    span::current().map(|parent| TaskContext {
        parent,
        tracestate: span::current_tracestate(),
    })
}

/// The ids of the current task, the cheapest read there is.
///
/// ```
/// assert!(taskwire_tasks::current_ids().is_none());
/// ```
#[inline]
pub fn current_ids() -> Option<(TraceId, SpanId)> {
    span::current().map(|p| (p.trace_id, p.span_id))
}

/// Makes `span` (just created, not yet entered) a child of the remote task `traceparent`.
/// A missing, malformed or hostile header leaves `span` a new root task and is counted
/// ([`taskwire_core::propagation::stats`]).
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry().with(taskwire_tasks::layer());
/// tracing::subscriber::with_default(subscriber, || {
///     let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
///     let span = taskwire_tasks::import(header, tracing::info_span!("handle"));
///     let _entered = span.enter();
///     let ctx = taskwire_tasks::current().unwrap();
///     assert_eq!(ctx.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// });
/// ```
pub fn import(traceparent: &str, span: Span) -> Span {
    let extracted = Extracted {
        parent: TraceParent::parse(traceparent),
        state: TraceState::default(),
    };
    span.set_remote_parent(&extracted);
    span
}

/// Like [`import`], reading `traceparent` and `tracestate` from a carrier (HTTP headers,
/// message metadata). Duplicate `traceparent` entries are refused.
pub fn import_from(carrier: &(impl Extractor + ?Sized), span: Span) -> Span {
    let extracted = propagation::extract(carrier);
    span.set_remote_parent(&extracted);
    span
}

/// Writes the current task into `carrier`. Returns `false` (and writes nothing) outside tasks.
/// The task then crosses a process boundary: the default record policy
/// ([`TaskRecords::Significant`](crate::TaskRecords::Significant)) writes its record.
pub fn inject_current(carrier: &mut (impl Injector + ?Sized)) -> bool {
    match current() {
        Some(ctx) => {
            span::note_current_exported();
            ctx.inject(carrier);
            true
        }
        None => false,
    }
}

/// Marks the current task failed, with a reason written into its `task.end` record.
/// Outside tasks, or without a taskwire layer, it does nothing.
pub fn fail(reason: impl fmt::Display) {
    Span::current().fail(reason);
}

/// Task operations on a [`tracing::Span`]. Without a taskwire layer (or for a disabled span)
/// they do nothing and never panic.
pub trait SpanExt {
    /// Re-parents this span, just created, under a remote task. Returns whether it was
    /// re-parented (`false` when `remote` has no valid parent: the span stays a root).
    fn set_remote_parent(&self, remote: &Extracted) -> bool;

    /// This span's task context.
    fn task_context(&self) -> Option<TaskContext>;

    /// Marks this task failed with a reason.
    fn fail(&self, reason: impl fmt::Display);
}

impl SpanExt for Span {
    fn set_remote_parent(&self, remote: &Extracted) -> bool {
        self.with_subscriber(|(id, dispatch)| span::set_remote_parent(dispatch, id, remote))
            .unwrap_or(false)
    }

    fn task_context(&self) -> Option<TaskContext> {
        self.with_subscriber(|(id, dispatch)| {
            span::read_span_data(dispatch, id, |d| TaskContext {
                parent: d.traceparent(),
                tracestate: d.tracestate().cloned(),
            })
        })
        .flatten()
    }

    fn fail(&self, reason: impl fmt::Display) {
        self.with_subscriber(|(id, dispatch)| {
            span::with_span_data(dispatch, id, |d| d.fail(reason))
        });
    }
}
