//! The per-thread state of the capture: the stack of entered spans and the "just created" slot.
//!
//! The stack answers [`current`] (the context of the span entered last on this thread) with a
//! thread-local read, and lets the capture find a new span's parent context without reading
//! the parent's extensions when the parent is the top of the stack (the usual shape). The
//! just-created slot holds what entering a span needs, filled when the span is captured, so
//! that the usual `info_span!(..).entered()` and `#[instrument]` shapes enter without a
//! registry lookup.
//!
//! Entries are tagged with the capture that pushed them (its id), so two subscribers used on
//! one thread, whose registries hand out the same span ids, never read each other's entries.

use std::cell::{Cell, RefCell};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tracing_core::span::Id;

use crate::ids::{SpanId, TraceId};
use crate::propagation::TraceParent;
use crate::schema::task_record::children::{self, Children};

use super::data::SpanData;

/// One entry of the thread's stack of entered spans.
struct Entered {
    id: u64,
    /// The span's own context.
    context: TraceParent,
    tracestate: Option<Arc<str>>,
    /// The capture that pushed the entry (and pops it).
    capture: u64,
    /// Whether the span was already entered below on this stack: a re-entry is not the
    /// current span (the registry's rule).
    reentry: bool,
    /// Whether the span's busy time runs (its exit must then update the span's data).
    timed: bool,
    /// When this entry's busy interval started, in [`clock`](crate::clock) nanoseconds
    /// ([`NOT_COUNTED`]: a re-entry, counted by the outer entry, or an untimed span).
    entered_at: u64,
    /// Children summarised while the span was entered here ([`summarise_in_entered`]), which
    /// go to the span's data when this entry is popped.
    children: Option<Box<Children>>,
}

/// What [`pop`] removed: when its counted busy interval started, and the children summarised
/// in the entry, which the span's data must take.
pub(crate) struct Popped {
    pub(crate) entered_at: Option<u64>,
    pub(crate) children: Option<Box<Children>>,
}

/// [`Entered::entered_at`] of an entry whose interval is not counted here.
pub(crate) const NOT_COUNTED: u64 = u64::MAX;

/// What entering a span needs, left by its capture for the span created last on this thread.
#[derive(Clone, Copy)]
pub(crate) struct JustCreated {
    /// The span's own context.
    pub(crate) context: TraceParent,
    pub(crate) capture: u64,
    pub(crate) timed: bool,
    /// [`LINEAGE_EDITS`] when the slot was filled.
    edits: u64,
}

impl JustCreated {
    const NONE: JustCreated = JustCreated {
        context: TraceParent {
            trace_id: TraceId::INVALID,
            span_id: SpanId::INVALID,
            sampled: false,
            random: false,
        },
        capture: 0,
        timed: false,
        edits: 0,
    };
}

/// How many times any thread re-parented a span after its creation. A just-created slot
/// filled before the latest such edit is not trusted: the edit may have been made on another
/// thread, to a span this thread created and has not entered yet.
static LINEAGE_EDITS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static STACK: RefCell<Vec<Entered>> = const { RefCell::new(Vec::new()) };
    /// The context of the top of `STACK`, so reading it is a copy.
    static TOP_CONTEXT: Cell<Option<TraceParent>> = const { Cell::new(None) };
    /// The registry id of the top of `STACK` (0: none).
    static TOP_ID: Cell<u64> = const { Cell::new(0) };
    /// The span created last on this thread, until it is entered.
    static JUST_CREATED: Cell<JustCreated> = const { Cell::new(JustCreated::NONE) };
    /// The registry id of the span `JUST_CREATED` describes (0: none).
    static JUST_CREATED_ID: Cell<u64> = const { Cell::new(0) };
}

/// The context of the span entered last on this thread: a thread-local read, no span handle,
/// no lock. `None` outside spans, or when no taskwire layer is installed.
///
/// ```
/// assert!(taskwire_core::span::current().is_none());
/// ```
#[inline]
pub fn current() -> Option<TraceParent> {
    TOP_CONTEXT.try_with(Cell::get).ok().flatten()
}

/// The `tracestate` of the span entered last on this thread.
pub fn current_tracestate() -> Option<Arc<str>> {
    STACK
        .try_with(|s| {
            s.try_borrow()
                .ok()
                .and_then(|s| s.last().and_then(|e| e.tracestate.clone()))
        })
        .ok()
        .flatten()
}

/// The context and `tracestate` of span `raw` when `capture` pushed it on top of this
/// thread's stack.
#[inline]
pub(crate) fn top_context_if(raw: u64, capture: u64) -> Option<(TraceParent, Option<Arc<str>>)> {
    if raw == 0 || TOP_ID.try_with(Cell::get).ok()? != raw {
        return None;
    }
    STACK
        .try_with(|s| {
            s.try_borrow().ok().and_then(|s| {
                s.last()
                    .filter(|e| e.capture == capture)
                    .map(|e| (e.context, e.tracestate.clone()))
            })
        })
        .ok()
        .flatten()
}

/// The innermost span capture `capture` entered on this thread that is not a re-entry: the
/// span the registry calls current, among those the capture saw.
#[inline]
pub(crate) fn current_span(capture: u64) -> Option<Id> {
    STACK
        .try_with(|s| {
            let s = s.try_borrow().ok()?;
            s.iter()
                .rev()
                .find(|e| e.capture == capture && !e.reentry)
                .map(|e| Id::from_u64(e.id))
        })
        .ok()
        .flatten()
}

/// Pushes span `raw`, entered, with what entering it needs; returns when its busy interval
/// started ([`NOT_COUNTED`] when it is not counted here).
#[inline]
pub(crate) fn push(
    raw: u64,
    capture: u64,
    context: TraceParent,
    tracestate: Option<Arc<str>>,
    timed: bool,
) {
    let _ = STACK.try_with(|s| {
        let Ok(mut s) = s.try_borrow_mut() else {
            return;
        };
        let reentry = s.iter().any(|e| e.id == raw && e.capture == capture);
        // Busy time runs from the outermost enter on this thread to its exit.
        let entered_at = if timed && !reentry {
            crate::clock::now()
        } else {
            NOT_COUNTED
        };
        s.push(Entered {
            id: raw,
            context,
            tracestate,
            capture,
            reentry,
            timed,
            entered_at,
            children: None,
        });
        let _ = TOP_CONTEXT.try_with(|t| t.set(Some(context)));
        let _ = TOP_ID.try_with(|t| t.set(raw));
    });
}

/// Removes the entry of span `raw` pushed by `capture` (usually the top; futures may exit out
/// of order) and returns when its counted busy interval started, if it is timed and counted,
/// and the children summarised in it; `None` when neither needs the span's data.
#[inline(always)]
pub(crate) fn pop(raw: u64, capture: u64) -> Option<Popped> {
    STACK
        .try_with(|s| {
            let mut s = s.try_borrow_mut().ok()?;
            let entry = if s
                .last()
                .is_some_and(|e| e.id == raw && e.capture == capture)
            {
                s.pop()?
            } else {
                let pos = s
                    .iter()
                    .rposition(|e| e.id == raw && e.capture == capture)?;
                s.remove(pos)
            };
            let top = s.last().map(|e| (e.context, e.id));
            let _ = TOP_CONTEXT.try_with(|t| t.set(top.map(|t| t.0)));
            let _ = TOP_ID.try_with(|t| t.set(top.map_or(0, |t| t.1)));
            let entered_at =
                (entry.timed && entry.entered_at != NOT_COUNTED).then_some(entry.entered_at);
            (entered_at.is_some() || entry.children.is_some()).then_some(Popped {
                entered_at,
                children: entry.children,
            })
        })
        .ok()
        .flatten()
}

/// Summarises a child named `name` that took `duration_us` (with the descendants it
/// summarised itself, `grandchildren`) in the outermost entry of its parent, the span whose
/// own id is `parent`, when `capture` entered that span on this thread: the summary goes to
/// the parent's data when the entry is popped, so the child's close needs no look at the
/// parent. The outermost entry (not a re-entry above it) keeps the children of this thread
/// in the order they closed. Returns `false`, doing nothing, when the parent is not entered
/// here.
pub(crate) fn summarise_in_entered(
    capture: u64,
    parent: SpanId,
    name: &'static str,
    duration_us: u64,
    grandchildren: Option<&Children>,
) -> bool {
    STACK
        .try_with(|s| {
            let Ok(mut s) = s.try_borrow_mut() else {
                return false;
            };
            let Some(e) = s
                .iter_mut()
                .find(|e| e.context.span_id == parent && e.capture == capture)
            else {
                return false;
            };
            let c = e.children.get_or_insert_with(children::boxed);
            c.note(name, duration_us);
            if let Some(g) = grandchildren {
                c.merge(g);
            }
            true
        })
        .unwrap_or(false)
}

/// Fills the just-created slot from a span's data just captured. A span that carries a
/// `tracestate` is left to the lookup (the slot holds only what copies freely).
#[inline]
pub(crate) fn remember_just_created(id: &Id, capture: u64, d: &SpanData) {
    let context = d.tracestate().is_none().then(|| d.traceparent());
    fill_just_created(id, capture, context, d.is_timed());
}

/// Fills the just-created slot for span `id`, whose data (own id `span_id`, `lineage`,
/// timed when `timed`) `capture` is about to store: [`remember_just_created`] before the data
/// exists.
#[inline]
pub(crate) fn remember_just_created_lineage(
    id: &Id,
    capture: u64,
    span_id: SpanId,
    lineage: &super::data::Lineage,
    timed: bool,
) {
    let context = lineage.tracestate.is_none().then_some(TraceParent {
        trace_id: lineage.trace_id,
        span_id,
        sampled: lineage.sampled,
        random: lineage.random,
    });
    fill_just_created(id, capture, context, timed);
}

/// Fills the just-created slot for span `id` with its `context`; `None` (a span with a
/// `tracestate`) empties it instead.
#[inline]
fn fill_just_created(id: &Id, capture: u64, context: Option<TraceParent>, timed: bool) {
    let Some(context) = context else {
        forget_just_created(id);
        return;
    };
    let slot = JustCreated {
        context,
        capture,
        timed,
        edits: LINEAGE_EDITS.load(Ordering::Relaxed),
    };
    let _ = JUST_CREATED.try_with(|c| c.set(slot));
    let _ = JUST_CREATED_ID.try_with(|c| c.set(id.into_u64()));
}

/// Takes what entering span `raw` needs from the just-created slot, when it describes that
/// span, was filled by `capture`, and no lineage edit happened since.
#[inline]
pub(crate) fn take_just_created(raw: u64, capture: u64) -> Option<JustCreated> {
    if JUST_CREATED_ID.try_with(Cell::get).ok()? != raw {
        return None;
    }
    let slot = JUST_CREATED.try_with(Cell::get).ok()?;
    if slot.capture != capture || slot.edits != LINEAGE_EDITS.load(Ordering::Relaxed) {
        return None;
    }
    let _ = JUST_CREATED_ID.try_with(|c| c.set(0));
    Some(slot)
}

/// Fills the just-created slot again for span `id`, which is in it, after its lineage changed.
#[inline]
pub(crate) fn refill_just_created(id: &Id, d: &SpanData) {
    let capture = JUST_CREATED.try_with(|c| c.get().capture).unwrap_or(0);
    remember_just_created(id, capture, d);
}

/// Empties the just-created slot if it describes span `id` (whose data changed).
#[inline]
pub(crate) fn forget_just_created(id: &Id) {
    let raw = id.into_u64();
    let _ = JUST_CREATED_ID.try_with(|c| {
        if c.get() == raw {
            c.set(0);
        }
    });
}

/// Whether span `id` is the one in this thread's just-created slot.
#[inline]
pub(crate) fn is_just_created(id: &Id) -> bool {
    JUST_CREATED_ID
        .try_with(|c| c.get() == id.into_u64())
        .unwrap_or(false)
}

/// Notes a lineage edit (a re-parented span), which invalidates every thread's slot.
#[inline]
pub(crate) fn note_lineage_edit() {
    LINEAGE_EDITS.fetch_add(1, Ordering::Relaxed);
}
