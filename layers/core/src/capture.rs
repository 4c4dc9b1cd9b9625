//! Capture span fields once, for every taskwire layer in the stack.
//!
//! Each taskwire layer holds a [`Capture`] and calls [`Capture::on_new_span`] and
//! [`Capture::on_record`] from its own `Layer` methods. The first layer that sees a new span
//! stores a [`SpanData`] in the span's registry extensions and becomes its owner: only the
//! owner applies later `Span::record` calls, so stacking four taskwire layers captures and
//! renders each field once, not four times. The others read the same [`SpanData`].
//!
//! [`SpanData`] holds the span's W3C ids (a trace id inherited from the nearest captured
//! ancestor or freshly drawn for a root, and the span's own span id) and its fields, both typed
//! (for layers that compute with them) and pre-rendered as JSON values (for layers that write
//! them), redacted by the capturing layer's [`Redactor`]. Rendering happens when a field is
//! recorded, never when an event is written.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::clock;

use tracing_core::field::Field;
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::Subscriber;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::ids::{SpanId, TraceId};
use crate::propagation::{Extracted, TraceParent, FLAG_RANDOM, FLAG_SAMPLED};
use crate::redact::Redactor;
use crate::value::{FieldSink, FieldValue, Typed};

/// Per-layer handle on the shared capture.
///
/// Each handle has its own owner token; a clone gets a new one (with the same redactor), so
/// two layers built from clones of one handle still apply each `Span::record` once.
///
/// ```
/// use tracing_subscriber::{layer::Context, registry::LookupSpan, Layer};
/// use tracing_core::{span, Subscriber};
/// use taskwire_core::Capture;
///
/// /// A layer that reads the shared capture.
/// struct MyLayer { capture: Capture }
///
/// impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for MyLayer {
///     fn on_new_span(&self, attrs: &span::Attributes<'_>, id: &span::Id, ctx: Context<'_, S>) {
///         self.capture.on_new_span(attrs, id, &ctx);
///     }
///     fn on_record(&self, id: &span::Id, values: &span::Record<'_>, ctx: Context<'_, S>) {
///         self.capture.on_record(id, values, &ctx);
///     }
/// }
/// ```
pub struct Capture {
    owner: u64,
    redactor: Redactor,
    fields: bool,
    timing: Timing,
    root_sampler: Option<Arc<dyn Fn(TraceId) -> bool + Send + Sync>>,
}

/// Which spans get wall and busy time measured (two clock reads per enter/exit pair, one at
/// creation and one at close). Layers that need timing ask for it; spans nobody times cost
/// no clock read at all.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Timing {
    /// No timing from this layer.
    #[default]
    Off,
    /// Spans of sampled traces (what task records need).
    Sampled,
    /// Every span (what metrics need).
    Always,
}

impl fmt::Debug for Capture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Capture")
            .field("owner", &self.owner)
            .field("redactor", &self.redactor)
            .field("fields", &self.fields)
            .field("timing", &self.timing)
            .field("root_sampler", &self.root_sampler.is_some())
            .finish()
    }
}

impl Clone for Capture {
    fn clone(&self) -> Self {
        Capture {
            fields: self.fields,
            timing: self.timing,
            root_sampler: self.root_sampler.clone(),
            ..Capture::new(self.redactor.clone())
        }
    }
}

impl Default for Capture {
    fn default() -> Self {
        Capture::new(Redactor::default())
    }
}

impl Capture {
    /// A capture handle that redacts with `redactor` the spans it is first to see.
    pub fn new(redactor: Redactor) -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        Capture {
            owner: NEXT.fetch_add(1, Ordering::Relaxed),
            redactor,
            fields: true,
            timing: Timing::Off,
            root_sampler: None,
        }
    }

    /// Whether this handle's layer reads span fields (default: yes). A layer that does not
    /// (the tasks layer alone) spares spans the copy; when a layer that does comes later in
    /// the stack, it captures the fields itself.
    #[must_use]
    pub fn with_fields(mut self, fields: bool) -> Self {
        self.fields = fields;
        self
    }

    /// Measures wall and busy time of the spans this handle captures or sees, per `timing`.
    #[must_use]
    pub fn with_timing(mut self, timing: Timing) -> Self {
        self.timing = timing;
        self
    }

    /// Decides, for each root span this handle captures, whether its trace is sampled.
    #[must_use]
    pub fn with_root_sampler(
        mut self,
        sampler: impl Fn(TraceId) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.root_sampler = Some(Arc::new(sampler));
        self
    }

    /// The redactor this handle applies.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// This handle with another redactor.
    #[must_use]
    pub fn with_redactor(self, redactor: Redactor) -> Self {
        Capture { redactor, ..self }
    }

    /// Captures a new span unless another taskwire layer already did. Returns whether this
    /// handle made (or took over) the capture, so it also made the sampling decision.
    ///
    /// A layer behind a per-layer filter may not see the span's real parent (the filter hid
    /// it). Such a layer still captures, so that its own output has the span's fields, but
    /// marks the capture as a partial view; the next layer that does see the parent redoes the
    /// span's lineage (trace id, parent, sampling) and takes the capture over.
    pub fn on_new_span<S>(&self, attrs: &Attributes<'_>, id: &Id, ctx: &Context<'_, S>) -> bool
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(span) = ctx.span(id) else {
            return false;
        };
        // One lock for the whole decision. Only this span's lock is held while its ancestors'
        // extensions are read below; a span that is being created has no descendants, so no
        // other thread can wait on it while holding an ancestor.
        let mut ext = span.extensions_mut();
        if let Some(d) = ext.get_mut::<SpanData>() {
            // Captured by a layer that saw the span's whole lineage: the usual case for every
            // taskwire layer after the first, which needs no look at the parent.
            if !d.partial_view {
                self.top_up(id, attrs, d);
                return false;
            }
        }
        // The nearest parent this layer's filter lets it see.
        let visible_parent = span.parent();
        let sees_parent = self.sees_parent(attrs, visible_parent.as_ref(), ctx);
        if let Some(d) = ext.get_mut::<SpanData>() {
            if !sees_parent {
                // A partial view, and this layer cannot see more of the lineage than the one
                // that captured it.
                self.top_up(id, attrs, d);
                return false;
            }
        }
        // Nearest captured ancestor: its trace id is ours, its span id our parent. When the
        // parent is the span taskwire made current on this thread, the thread's copy of its
        // context answers without reading its extensions.
        let mut lineage = None;
        let top = TOP_ID.try_with(Cell::get).unwrap_or(0);
        let mut cur = visible_parent;
        if let Some(p) = &cur {
            if top != 0 && p.id().into_u64() == top {
                if let Some((tp, state)) = top_context() {
                    lineage = Some((tp.trace_id, tp.span_id, tp.flags(), state));
                    cur = None;
                }
            }
        }
        while let Some(p) = cur {
            if let Some(d) = p.extensions().get::<SpanData>() {
                lineage = Some((d.trace_id, d.span_id, d.flags(), d.tracestate.clone()));
                break;
            }
            cur = p.parent();
        }
        let (trace_id, parent_span_id, sampled, random, tracestate) = match lineage {
            Some((t, s, flags, ts)) => (
                t,
                Some(s),
                flags & FLAG_SAMPLED != 0,
                flags & FLAG_RANDOM != 0,
                ts,
            ),
            None => {
                // Every bit of a generated trace id is random: W3C Level 2's random flag holds.
                let t = TraceId::random();
                let sampled = self.root_sampler.as_ref().is_none_or(|f| f(t));
                if !sampled {
                    note_unsampled();
                }
                (t, None, sampled, true, None)
            }
        };
        let timed = match self.timing {
            Timing::Always => Some(SpanTimes::start()),
            Timing::Sampled if sampled => Some(SpanTimes::start()),
            _ => None,
        };
        let d = if let Some(d) = ext.get_mut::<SpanData>() {
            // A partial view captured first: keep its fields, redo the lineage.
            d.trace_id = trace_id;
            d.parent_span_id = parent_span_id;
            d.sampled = sampled;
            d.random = random;
            d.tracestate = tracestate;
            d.partial_view = false;
            d.owner = self.owner;
            if d.timed.is_none() {
                d.timed = timed;
            }
            if !d.fields_captured && self.fields {
                self.collect(attrs, d);
            }
            &*d
        } else {
            let mut fields =
                SpanFields::with_capacity(if self.fields { attrs.fields().len() } else { 0 });
            if self.fields || has_control_fields(attrs.metadata()) {
                attrs.record(&mut Typed(FieldCollector {
                    fields: &mut fields,
                    redactor: &self.redactor,
                    replace: false,
                    only_control: !self.fields,
                    kept: Vec::new(),
                }));
            }
            ext.insert(SpanData {
                trace_id,
                span_id: SpanId::random(),
                parent_span_id,
                sampled,
                random,
                remote_parent: false,
                tracestate,
                errors: 0,
                failed_children: 0,
                failure: None,
                fields,
                owner: self.owner,
                partial_view: !sees_parent,
                timed,
                fields_captured: self.fields,
            });
            match ext.get_mut::<SpanData>() {
                Some(d) => &*d,
                None => return true,
            }
        };
        remember_fresh(id, d);
        true
    }

    /// Whether this layer sees the span's real parent (its filter may hide it): the explicit
    /// parent, or for a contextual span the registry's current span.
    fn sees_parent<S>(
        &self,
        attrs: &Attributes<'_>,
        visible_parent: Option<&tracing_subscriber::registry::SpanRef<'_, S>>,
        ctx: &Context<'_, S>,
    ) -> bool
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if attrs.is_root() {
            return true;
        }
        if let Some(real) = attrs.parent() {
            return visible_parent.is_some_and(|v| v.id() == *real);
        }
        // The contextual parent is the registry's current span. When the visible parent is
        // the span taskwire last made current on this thread, it is that span: the check
        // needs no registry lookup.
        let top = TOP_ID.try_with(Cell::get).unwrap_or(0);
        match visible_parent {
            Some(v) if top != 0 && v.id().into_u64() == top => true,
            // No span taskwire made current here and none visible: a root, or a child
            // of spans no taskwire layer captured, whose lineage nobody can know.
            None if top == 0 => true,
            _ => match ctx.current_span().id() {
                None => true,
                Some(real) => visible_parent.is_some_and(|v| v.id() == *real),
            },
        }
    }

    /// Adds to span `id`, which another layer captured, what this handle needs and that one
    /// did not ask for: timing (of every span, or of sampled ones), the fields; and leaves the
    /// result in the thread's fresh-span slot.
    fn top_up(&self, id: &Id, attrs: &Attributes<'_>, d: &mut SpanData) {
        let want_timing = match self.timing {
            Timing::Always => true,
            Timing::Sampled => d.sampled,
            Timing::Off => false,
        };
        if d.timed.is_none() && want_timing {
            d.timed = Some(SpanTimes::start());
        }
        if !d.fields_captured && self.fields {
            self.collect(attrs, d);
        }
        remember_fresh(id, d);
    }

    fn collect(&self, attrs: &Attributes<'_>, d: &mut SpanData) {
        // The control fields a capture without fields kept are moved over, not rendered again.
        let kept = std::mem::replace(
            &mut d.fields,
            SpanFields::with_capacity(attrs.fields().len()),
        )
        .entries;
        attrs.record(&mut Typed(FieldCollector {
            fields: &mut d.fields,
            redactor: &self.redactor,
            replace: false,
            only_control: false,
            kept,
        }));
        d.fields_captured = true;
    }

    /// Makes the span current on this thread (for [`current`]) and starts its busy time, if
    /// this handle owns it.
    pub fn on_enter<S>(&self, id: &Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let raw = id.into_u64();
        // A span entered right after it was created on this thread (the usual `#[instrument]`
        // and `info_span!(..).entered()` shape) needs no registry lookup: its capture left
        // what entering needs in the thread's fresh-span slot.
        let fresh = FRESH_ID.try_with(|c| c.get() == raw).unwrap_or(false);
        let entry = if fresh {
            let f = FRESH.try_with(Cell::get).unwrap_or(Fresh::NONE);
            if f.owner != self.owner {
                return;
            }
            if f.edits == LINEAGE_EDITS.load(Ordering::Relaxed) {
                let _ = FRESH_ID.try_with(|c| c.set(0));
                Some((f.parent, None, f.timed))
            } else {
                self.entry_from_data(id, ctx)
            }
        } else {
            self.entry_from_data(id, ctx)
        };
        let Some((parent, tracestate, timed)) = entry else {
            return;
        };
        let _ = CURRENT.try_with(|c| {
            if let Ok(mut c) = c.try_borrow_mut() {
                // Busy time runs from the outermost enter on this thread to its exit.
                let entered_at = if timed && !c.iter().any(|e| e.id == raw) {
                    clock::now()
                } else {
                    NOT_ENTERED
                };
                c.push(Current {
                    id: raw,
                    parent,
                    tracestate,
                    owner: self.owner,
                    timed,
                    entered_at,
                });
                let _ = TOP.try_with(|t| t.set(Some(parent)));
                let _ = TOP_ID.try_with(|t| t.set(raw));
            }
        });
    }

    /// What entering span `id` needs, read from its data, if this handle owns it.
    #[inline(never)]
    fn entry_from_data<S>(
        &self,
        id: &Id,
        ctx: &Context<'_, S>,
    ) -> Option<(TraceParent, Option<Arc<str>>, bool)>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let span = ctx.span(id)?;
        let ext = span.extensions();
        let d = ext.get::<SpanData>()?;
        (d.owner == self.owner).then(|| (d.traceparent(), d.tracestate.clone(), d.timed.is_some()))
    }

    /// Undoes [`Capture::on_enter`], if this handle owns the span, and adds the time it was
    /// entered to its busy time.
    pub fn on_exit<S>(&self, id: &Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(entry) = pop_current(id.into_u64(), self.owner) else {
            return;
        };
        if !entry.timed || entry.entered_at == NOT_ENTERED {
            return;
        }
        let now = clock::now();
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(t) = ext.get_mut::<SpanData>().and_then(|d| d.timed.as_mut()) {
            t.busy += now.saturating_sub(entry.entered_at);
        }
    }

    /// Applies a `Span::record` call, if this handle owns the span's capture.
    pub fn on_record<S>(&self, id: &Id, values: &Record<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        let Some(data) = ext.get_mut::<SpanData>() else {
            return;
        };
        if data.owner != self.owner {
            return;
        }
        let only_control = !data.fields_captured;
        values.record(&mut Typed(FieldCollector {
            fields: &mut data.fields,
            redactor: &self.redactor,
            replace: true,
            only_control,
            kept: Vec::new(),
        }));
        data.fields.render();
    }
}

/// What taskwire keeps about a span, in its registry extensions.
#[derive(Debug)]
pub struct SpanData {
    /// The trace this span belongs to.
    pub trace_id: TraceId,
    /// This span's own id.
    pub span_id: SpanId,
    /// The parent span's id, if any (local or remote).
    pub parent_span_id: Option<SpanId>,
    /// The W3C sampled flag.
    pub sampled: bool,
    /// The W3C Level 2 random-trace-id flag: set for trace ids taskwire generated (all random),
    /// and as it arrived for a trace imported from another process. It belongs to the trace id:
    /// whatever changes `sampled` leaves it alone.
    pub random: bool,
    /// Whether the parent is a task of another process (imported from a `traceparent`).
    pub remote_parent: bool,
    /// The W3C `tracestate` carried along the trace, if any.
    pub tracestate: Option<Arc<str>>,
    /// ERROR events that occurred directly inside this span (maintained by the tasks layer).
    pub errors: u32,
    /// Children whose outcome was failed (maintained by the tasks layer).
    pub failed_children: u32,
    /// Why the code marked this task failed, if it did (`taskwire::tasks::fail`).
    pub failure: Option<Box<str>>,
    /// The span's fields.
    pub fields: SpanFields,
    owner: u64,
    /// Captured by a layer whose filter hid the span's parent; see [`Capture::on_new_span`].
    partial_view: bool,
    timed: Option<SpanTimes>,
    /// Whether `fields` holds the span's fields (some layer in the stack reads them).
    fields_captured: bool,
}

/// Wall and busy time of a span, kept by the layer that owns its capture, in [`clock`]
/// nanoseconds.
#[derive(Debug, Clone, Copy)]
struct SpanTimes {
    created: u64,
    /// The entered time of the intervals that ended so far; an interval is added when the
    /// span is exited.
    busy: u64,
}

/// [`Current::entered_at`] of an entry whose interval is counted by an outer entry of the
/// same span (or that is untimed).
const NOT_ENTERED: u64 = u64::MAX;

impl SpanTimes {
    #[inline]
    fn start() -> Self {
        SpanTimes {
            created: clock::now(),
            busy: 0,
        }
    }
}

impl SpanData {
    /// Whether the task failed: an ERROR event inside it, a failure marked by the code, or a
    /// recorded field `outcome = "failed"`. A failed child does not fail its parent.
    pub fn failed(&self) -> bool {
        self.errors > 0
            || self.failure.is_some()
            || (self.fields.control & CONTROL_OUTCOME != 0
                && self.fields.get("outcome").and_then(FieldValue::as_str) == Some("failed"))
    }

    /// The task's display name when the code gave it one: its `task.name` field, else its
    /// `otel.name` field (span names are static; a request task is named after its route at
    /// run time).
    pub fn task_name(&self) -> Option<&str> {
        if self.fields.control & CONTROL_NAMES == 0 {
            return None;
        }
        ["task.name", "otel.name"]
            .iter()
            .find_map(|k| self.fields.get(k).and_then(FieldValue::as_str))
    }

    /// Wall time since creation and busy (entered) time so far, when some layer asked for
    /// timing of this span ([`Capture::with_timing`]). Busy time counts the intervals that
    /// ended (the span was exited); intervals on several threads at once add up, as CPU time
    /// does.
    pub fn elapsed(&self) -> Option<(Duration, Duration)> {
        self.timed.map(|t| {
            let now = clock::now();
            (
                Duration::from_nanos(now.saturating_sub(t.created)),
                Duration::from_nanos(t.busy),
            )
        })
    }

    /// Starts timing this span now if nobody asked for it at creation (a layer that captured
    /// later, or a sampling decision that changed).
    pub fn ensure_timed(&mut self) {
        if self.timed.is_none() {
            self.timed = Some(SpanTimes::start());
        }
    }

    /// When the span was created, when it is timed.
    pub fn created(&self) -> Option<Instant> {
        self.timed.map(|t| clock::to_instant(t.created))
    }

    /// This span's context as a `traceparent`.
    pub fn traceparent(&self) -> TraceParent {
        TraceParent {
            trace_id: self.trace_id,
            span_id: self.span_id,
            sampled: self.sampled,
            random: self.random,
        }
    }

    /// This span's W3C trace-flags byte (sampled and random bits).
    pub fn flags(&self) -> u8 {
        self.traceparent().flags()
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

/// Removes the entry of span `raw` pushed by capture handle `owner` from this thread's stack
/// of entered spans (usually the top; futures may exit out of order), updates the copies of
/// the top, and returns the entry.
#[inline]
fn pop_current(raw: u64, owner: u64) -> Option<Current> {
    CURRENT
        .try_with(|c| {
            let mut c = c.try_borrow_mut().ok()?;
            let entry = if c.last().is_some_and(|e| e.id == raw && e.owner == owner) {
                c.pop()?
            } else {
                let pos = c.iter().rposition(|e| e.id == raw && e.owner == owner)?;
                c.remove(pos)
            };
            let top = c.last().map(|e| (e.parent, e.id));
            let _ = TOP.try_with(|t| t.set(top.map(|t| t.0)));
            let _ = TOP_ID.try_with(|t| t.set(top.map_or(0, |t| t.1)));
            Some(entry)
        })
        .ok()
        .flatten()
}

/// The context and `tracestate` of the top of this thread's stack of entered spans.
#[inline]
fn top_context() -> Option<(TraceParent, Option<Arc<str>>)> {
    CURRENT
        .try_with(|c| {
            c.try_borrow()
                .ok()
                .and_then(|c| c.last().map(|e| (e.parent, e.tracestate.clone())))
        })
        .ok()
        .flatten()
}

/// What entering a span needs, left by its capture for the span created last on this thread.
#[derive(Clone, Copy)]
struct Fresh {
    parent: TraceParent,
    owner: u64,
    timed: bool,
    /// [`LINEAGE_EDITS`] when the slot was filled.
    edits: u64,
}

impl Fresh {
    const NONE: Fresh = Fresh {
        parent: TraceParent {
            trace_id: TraceId::INVALID,
            span_id: SpanId::INVALID,
            sampled: false,
            random: false,
        },
        owner: 0,
        timed: false,
        edits: 0,
    };
}

/// How many times any thread re-parented a span after its creation ([`set_remote_parent`]).
/// A fresh-span slot filled before the latest such edit is not trusted: the edit may have been
/// made on another thread, to a span this thread created and has not entered yet.
static LINEAGE_EDITS: AtomicU64 = AtomicU64::new(0);

/// Fills the thread's fresh-span slot from a span's data just captured. A span that carries a
/// `tracestate` is left to the lookup (the slot holds only what copies freely).
#[inline]
fn remember_fresh(id: &Id, d: &SpanData) {
    if d.tracestate.is_some() {
        let _ = FRESH_ID.try_with(|c| c.set(0));
        return;
    }
    let fresh = Fresh {
        parent: d.traceparent(),
        owner: d.owner,
        timed: d.timed.is_some(),
        edits: LINEAGE_EDITS.load(Ordering::Relaxed),
    };
    let _ = FRESH.try_with(|c| c.set(fresh));
    let _ = FRESH_ID.try_with(|c| c.set(id.into_u64()));
}

/// Tells the capture that the [`SpanData`] of span `id` changed (its lineage, sampling or
/// timing) after the span was created, through a way other than [`with_span_data`], so that
/// entering it on this thread reads the change. Layers that edit a captured span's data in
/// their own `on_new_span` call this. (To re-parent a span, use [`set_remote_parent`], which
/// also covers a span created on another thread.)
///
/// ```
/// use tracing_core::span::Id;
/// // After editing the `SpanData` of span `id` through its registry extensions:
/// taskwire_core::capture::changed(&Id::from_u64(1));
/// ```
pub fn changed(id: &Id) {
    let raw = id.into_u64();
    let _ = FRESH_ID.try_with(|c| {
        if c.get() == raw {
            c.set(0);
        }
    });
}

/// One entry of the thread's stack of entered spans.
struct Current {
    id: u64,
    parent: TraceParent,
    tracestate: Option<Arc<str>>,
    /// The capture handle that owns the span (the only one that pushes and pops it).
    owner: u64,
    /// Whether the span's busy time runs (its exit must then update the span's data).
    timed: bool,
    /// When this entry's busy interval started, in [`clock`] nanoseconds ([`NOT_ENTERED`]:
    /// an outer entry of the same span counts it, or the span is untimed).
    entered_at: u64,
}

thread_local! {
    static CURRENT: RefCell<Vec<Current>> = const { RefCell::new(Vec::new()) };
    /// The top of `CURRENT`, so reading it is a copy.
    static TOP: Cell<Option<TraceParent>> = const { Cell::new(None) };
    /// The registry id of the top of `CURRENT` (0: none).
    static TOP_ID: Cell<u64> = const { Cell::new(0) };
    /// The span created last on this thread, until it is entered.
    static FRESH: Cell<Fresh> = const { Cell::new(Fresh::NONE) };
    /// The registry id of the span `FRESH` describes (0: none).
    static FRESH_ID: Cell<u64> = const { Cell::new(0) };
}

/// The context of the span entered last on this thread: a thread-local read, no span handle,
/// no lock. `None` outside spans, or when no taskwire layer is installed.
///
/// ```
/// assert!(taskwire_core::capture::current().is_none());
/// ```
#[inline]
pub fn current() -> Option<TraceParent> {
    TOP.try_with(Cell::get).ok().flatten()
}

/// The `tracestate` of the span entered last on this thread.
pub fn current_tracestate() -> Option<Arc<str>> {
    CURRENT
        .try_with(|c| {
            c.try_borrow()
                .ok()
                .and_then(|c| c.last().and_then(|e| e.tracestate.clone()))
        })
        .ok()
        .flatten()
}

/// Reads the [`SpanData`] of `span` with `f`, when the subscriber is built on
/// tracing-subscriber's `Registry` and a taskwire layer captured the span. Returns `None`
/// otherwise (no taskwire layer, a disabled span, another registry). Unlike
/// [`with_span_data`], it takes the span's lock for reading only.
pub fn read_span_data<R>(
    dispatch: &tracing_core::dispatcher::Dispatch,
    id: &Id,
    f: impl FnOnce(&SpanData) -> R,
) -> Option<R> {
    let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
    let data = registry.span(id)?;
    let ext = data.extensions();
    ext.get::<SpanData>().map(f)
}

/// Runs `f` on the [`SpanData`] of `span`, when the current subscriber is built on
/// tracing-subscriber's `Registry` and a taskwire layer captured the span. Returns `None`
/// otherwise (no taskwire layer, a disabled span, another registry). To only read it, use
/// [`read_span_data`].
pub fn with_span_data<R>(
    dispatch: &tracing_core::dispatcher::Dispatch,
    id: &Id,
    f: impl FnOnce(&mut SpanData) -> R,
) -> Option<R> {
    let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
    let data = registry.span(id)?;
    changed(id);
    let mut ext = data.extensions_mut();
    ext.get_mut::<SpanData>().map(f)
}

/// Re-parents a span that was just created (before it is entered or has children) under the
/// remote task described by `remote`: the span joins the remote trace, its parent is the
/// remote span, and it takes the remote sampled and random flags and `tracestate`. Returns whether the
/// span was re-parented. An `Extracted` without a parent leaves the span a new root.
pub fn set_remote_parent(
    dispatch: &tracing_core::dispatcher::Dispatch,
    id: &Id,
    remote: &Extracted,
) -> bool {
    let Some(parent) = remote.parent else {
        return false;
    };
    // Whichever thread created the span sees this before it next enters a fresh span (handing
    // the span over to it orders the two).
    LINEAGE_EDITS.fetch_add(1, Ordering::Relaxed);
    // Imported right after its creation on this thread (the usual request span): the span
    // stays fresh, with its new lineage.
    let raw = id.into_u64();
    let fresh_here = FRESH_ID.try_with(|c| c.get() == raw).unwrap_or(false);
    with_span_data(dispatch, id, |d| {
        d.trace_id = parent.trace_id;
        d.parent_span_id = Some(parent.span_id);
        d.sampled = parent.sampled;
        d.random = parent.random;
        if !parent.sampled {
            note_unsampled();
        }
        d.remote_parent = true;
        d.tracestate = (!remote.state.is_empty()).then(|| Arc::from(remote.state.as_str()));
        if parent.sampled && d.timed.is_none() {
            // Unsampled at creation, so untimed; the imported trace is sampled.
            d.timed = Some(SpanTimes::start());
        }
        if fresh_here {
            remember_fresh(id, d);
        }
    })
    .is_some()
}

/// A span's fields, typed, and rendered as JSON values once (when first needed after being
/// recorded), never per event.
#[derive(Debug, Default)]
pub struct SpanFields {
    entries: Vec<Entry>,
    rendered: OnceLock<Rendered>,
    /// Which of [`CONTROL_FIELDS`] are recorded (bit `i`: `CONTROL_FIELDS[i]`), so the
    /// questions every close asks (the task's name, a recorded outcome) skip the search when
    /// the answer is no.
    control: u8,
}

#[derive(Debug)]
struct Entry {
    name: &'static str,
    value: FieldValue,
}

/// The JSON rendering of every value, back to back, and where each one lies.
#[derive(Debug, Default)]
struct Rendered {
    json: Vec<u8>,
    ranges: Vec<(u32, u32)>,
}

impl SpanFields {
    #[inline]
    fn with_capacity(n: usize) -> Self {
        SpanFields {
            entries: if n == 0 {
                Vec::new()
            } else {
                Vec::with_capacity(n)
            },
            rendered: OnceLock::new(),
            control: 0,
        }
    }

    /// The number of recorded fields.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no field is recorded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value recorded under `name`.
    pub fn get(&self, name: &str) -> Option<&FieldValue> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| &e.value)
    }

    /// Fields in the order they were first recorded, with typed values.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &FieldValue)> + '_ {
        self.entries.iter().map(|e| (e.name, &e.value))
    }

    /// Fields with their values rendered as JSON (redacted, escaped, typed). The rendering is
    /// made on the first call after the fields were recorded and reused until they change.
    pub fn rendered(&self) -> impl Iterator<Item = (&'static str, &[u8])> + '_ {
        let r = self.rendered.get_or_init(|| {
            let mut r = Rendered {
                json: Vec::with_capacity(self.entries.len() * 12),
                ranges: Vec::with_capacity(self.entries.len()),
            };
            for e in &self.entries {
                let start = u32::try_from(r.json.len()).unwrap_or(u32::MAX);
                crate::json::write_value(&mut r.json, &e.value);
                let end = u32::try_from(r.json.len()).unwrap_or(u32::MAX);
                r.ranges.push((start, end));
            }
            r
        });
        self.entries
            .iter()
            .zip(&r.ranges)
            .map(|(e, &(start, end))| {
                (
                    e.name,
                    r.json.get(start as usize..end as usize).unwrap_or_default(),
                )
            })
    }

    /// Sets a field. An earlier value under the same name is replaced when `replace` (a
    /// `Span::record`), kept otherwise (a name repeated at creation: the first wins, as for
    /// events). Call [`Self::render`] afterwards.
    fn set(&mut self, name: &'static str, value: FieldValue, replace: bool) {
        if let Some(i) = CONTROL_FIELDS.iter().position(|c| *c == name) {
            self.control |= 1 << i;
        }
        match self.entries.iter_mut().find(|e| e.name == name) {
            Some(e) => {
                if replace {
                    e.value = value;
                }
            }
            None => self.entries.push(Entry { name, value }),
        }
    }

    /// Forgets the rendering after the fields changed; the next reader renders them again.
    fn render(&mut self) {
        self.rendered = OnceLock::new();
    }
}

/// Records span fields into [`SpanFields`], redacting sensitive keys.
struct FieldCollector<'a> {
    fields: &'a mut SpanFields,
    redactor: &'a Redactor,
    replace: bool,
    /// Keep only the fields taskwire itself acts on ([`CONTROL_FIELDS`]).
    only_control: bool,
    /// Values captured earlier for some of these fields, taken instead of rendering again.
    kept: Vec<Entry>,
}

/// Fields that steer taskwire (a task's name, a recorded outcome), kept even when no layer
/// reads span fields.
pub const CONTROL_FIELDS: [&str; 3] = ["task.name", "otel.name", "outcome"];

/// [`SpanFields::control`] bits of `task.name` and `otel.name`.
const CONTROL_NAMES: u8 = 0b011;
/// [`SpanFields::control`] bit of `outcome`.
const CONTROL_OUTCOME: u8 = 0b100;

/// Whether a span call site declares any of [`CONTROL_FIELDS`], remembered per thread in a
/// small direct-mapped cache keyed by the call site's metadata address (a collision only
/// recomputes).
#[inline]
fn has_control_fields(meta: &'static tracing_core::Metadata<'static>) -> bool {
    const SLOTS: usize = 64;
    thread_local! {
        /// (metadata address, answer); address 0: empty.
        static KNOWN: [Cell<(usize, bool)>; SLOTS] =
            const { [const { Cell::new((0, false)) }; SLOTS] };
    }
    let key = std::ptr::from_ref(meta) as usize;
    let compute = || {
        meta.fields()
            .iter()
            .any(|f| CONTROL_FIELDS.contains(&f.name()))
    };
    KNOWN
        .try_with(|known| {
            let Some(cell) = known.get((key ^ (key >> 9)) / 8 % SLOTS) else {
                return compute();
            };
            match cell.get() {
                (k, v) if k == key => v,
                _ => {
                    let v = compute();
                    cell.set((key, v));
                    v
                }
            }
        })
        .unwrap_or_else(|_| compute())
}

impl FieldSink for FieldCollector<'_> {
    #[inline]
    fn wants(&mut self, field: &Field) -> bool {
        if !self.only_control && self.kept.is_empty() {
            return true;
        }
        let name = field.name();
        if self.only_control && !CONTROL_FIELDS.contains(&name) {
            return false;
        }
        if let Some(i) = self.kept.iter().position(|e| e.name == name) {
            let e = self.kept.swap_remove(i);
            // Kept under another layer's redactor: this one may be stricter.
            let value = if self.redactor.is_sensitive_field(name) {
                FieldValue::Redacted
            } else {
                e.value
            };
            self.fields.set(e.name, value, self.replace);
            return false;
        }
        true
    }

    fn put(&mut self, field: &Field, value: FieldValue) {
        let name = field.name();
        if self.only_control && !CONTROL_FIELDS.contains(&name) {
            return;
        }
        let value = if self.redactor.is_sensitive_field(name) {
            FieldValue::Redacted
        } else {
            value
        };
        self.fields.set(name, value, self.replace);
    }
}
