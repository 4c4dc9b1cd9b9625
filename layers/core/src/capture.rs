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

use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::Subscriber;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::ids::{SpanId, TraceId};
use crate::propagation::{Extracted, TraceParent};
use crate::redact::Redactor;
use crate::value::{ErrorValue, FieldValue};

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
#[derive(Debug)]
pub struct Capture {
    owner: u64,
    redactor: Redactor,
}

impl Clone for Capture {
    fn clone(&self) -> Self {
        Capture::new(self.redactor.clone())
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
        }
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

    /// Captures a new span unless another taskwire layer already did.
    ///
    /// A layer behind a per-layer filter may not see the span's real parent (the filter hid
    /// it). Such a layer still captures, so that its own output has the span's fields, but
    /// marks the capture as a partial view; the next layer that does see the parent redoes the
    /// span's lineage (trace id, parent, sampling) and takes the capture over.
    pub fn on_new_span<S>(&self, attrs: &Attributes<'_>, id: &Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(span) = ctx.span(id) else { return };
        // The real parent, as the registry knows it, whatever this layer's filter hides.
        let real_parent = if attrs.is_root() {
            None
        } else if let Some(p) = attrs.parent() {
            Some(p.clone())
        } else {
            ctx.current_span().id().cloned()
        };
        let sees_parent = real_parent.as_ref().is_none_or(|p| ctx.span(p).is_some());
        let existing = span.extensions().get::<SpanData>().map(|d| d.partial_view);
        match existing {
            Some(false) => return,
            Some(true) if !sees_parent => return,
            _ => {}
        }
        // Nearest captured ancestor: its trace id is ours, its span id our parent.
        let parent = span.scope().skip(1).find_map(|p| {
            p.extensions()
                .get::<SpanData>()
                .map(|d| (d.trace_id, d.span_id, d.sampled, d.tracestate.clone()))
        });
        let (trace_id, parent_span_id, sampled, tracestate) = match parent {
            Some((t, s, sampled, ts)) => (t, Some(s), sampled, ts),
            None => (TraceId::random(), None, true, None),
        };
        let mut ext = span.extensions_mut();
        if let Some(d) = ext.get_mut::<SpanData>() {
            // A partial view captured first: keep its fields, redo the lineage.
            d.trace_id = trace_id;
            d.parent_span_id = parent_span_id;
            d.sampled = sampled;
            d.tracestate = tracestate;
            d.partial_view = false;
            d.owner = self.owner;
            return;
        }
        let mut fields = SpanFields::default();
        attrs.record(&mut FieldCollector {
            fields: &mut fields,
            redactor: &self.redactor,
            replace: false,
        });
        fields.render();
        ext.insert(SpanData {
            trace_id,
            span_id: SpanId::random(),
            parent_span_id,
            sampled,
            remote_parent: false,
            tracestate,
            errors: 0,
            failed_children: 0,
            failure: None,
            fields,
            owner: self.owner,
            partial_view: !sees_parent,
        });
    }

    /// Makes the span current on this thread (for [`current`]), if this handle owns it.
    pub fn on_enter<S>(&self, id: &Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(span) = ctx.span(id) else { return };
        let ext = span.extensions();
        let Some(d) = ext.get::<SpanData>() else {
            return;
        };
        if d.owner != self.owner {
            return;
        }
        let entry = Current {
            id: id.into_u64(),
            parent: TraceParent {
                trace_id: d.trace_id,
                span_id: d.span_id,
                sampled: d.sampled,
            },
            tracestate: d.tracestate.clone(),
        };
        drop(ext);
        let _ = CURRENT.try_with(|c| {
            if let Ok(mut c) = c.try_borrow_mut() {
                c.push(entry);
            }
        });
    }

    /// Undoes [`Capture::on_enter`], if this handle owns the span.
    pub fn on_exit<S>(&self, id: &Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(span) = ctx.span(id) else { return };
        if span.extensions().get::<SpanData>().map(|d| d.owner) != Some(self.owner) {
            return;
        }
        let raw = id.into_u64();
        let _ = CURRENT.try_with(|c| {
            if let Ok(mut c) = c.try_borrow_mut() {
                // Usually the top; futures may exit out of order.
                if let Some(pos) = c.iter().rposition(|e| e.id == raw) {
                    c.remove(pos);
                }
            }
        });
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
        values.record(&mut FieldCollector {
            fields: &mut data.fields,
            redactor: &self.redactor,
            replace: true,
        });
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
}

impl SpanData {
    /// Whether the task failed: an ERROR event inside it, a failure marked by the code, or a
    /// recorded field `outcome = "failed"`. A failed child does not fail its parent.
    pub fn failed(&self) -> bool {
        self.errors > 0
            || self.failure.is_some()
            || self.fields.get("outcome").and_then(FieldValue::as_str) == Some("failed")
    }

    /// This span's context as a `traceparent`.
    pub fn traceparent(&self) -> TraceParent {
        TraceParent {
            trace_id: self.trace_id,
            span_id: self.span_id,
            sampled: self.sampled,
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

/// One entry of the thread's stack of entered spans.
struct Current {
    id: u64,
    parent: TraceParent,
    tracestate: Option<Arc<str>>,
}

thread_local! {
    static CURRENT: RefCell<Vec<Current>> = const { RefCell::new(Vec::new()) };
}

/// The context of the span entered last on this thread: a thread-local read, no span handle,
/// no lock. `None` outside spans, or when no taskwire layer is installed.
///
/// ```
/// assert!(taskwire_core::capture::current().is_none());
/// ```
pub fn current() -> Option<TraceParent> {
    CURRENT
        .try_with(|c| c.try_borrow().ok().and_then(|c| c.last().map(|e| e.parent)))
        .ok()
        .flatten()
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

/// Runs `f` on the [`SpanData`] of `span`, when the current subscriber is built on
/// tracing-subscriber's `Registry` and a taskwire layer captured the span. Returns `None`
/// otherwise (no taskwire layer, a disabled span, another registry).
pub fn with_span_data<R>(
    dispatch: &tracing_core::dispatcher::Dispatch,
    id: &Id,
    f: impl FnOnce(&mut SpanData) -> R,
) -> Option<R> {
    let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
    let data = registry.span(id)?;
    let mut ext = data.extensions_mut();
    ext.get_mut::<SpanData>().map(f)
}

/// Re-parents a span that was just created (before it is entered or has children) under the
/// remote task described by `remote`: the span joins the remote trace, its parent is the
/// remote span, and it takes the remote sampled flag and `tracestate`. Returns whether the
/// span was re-parented. An `Extracted` without a parent leaves the span a new root.
pub fn set_remote_parent(
    dispatch: &tracing_core::dispatcher::Dispatch,
    id: &Id,
    remote: &Extracted,
) -> bool {
    let Some(parent) = remote.parent else {
        return false;
    };
    with_span_data(dispatch, id, |d| {
        d.trace_id = parent.trace_id;
        d.parent_span_id = Some(parent.span_id);
        d.sampled = parent.sampled;
        if !parent.sampled {
            note_unsampled();
        }
        d.remote_parent = true;
        d.tracestate = (!remote.state.is_empty()).then(|| Arc::from(remote.state.as_str()));
    })
    .is_some()
}

/// A span's fields, typed and pre-rendered as JSON values.
#[derive(Debug, Default)]
pub struct SpanFields {
    entries: Vec<Entry>,
    json: Vec<u8>,
}

#[derive(Debug)]
struct Entry {
    name: &'static str,
    value: FieldValue,
    start: u32,
    end: u32,
}

impl SpanFields {
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

    /// Fields with their values already rendered as JSON (redacted, escaped, typed).
    pub fn rendered(&self) -> impl Iterator<Item = (&'static str, &[u8])> + '_ {
        self.entries
            .iter()
            .map(|e| (e.name, &self.json[e.start as usize..e.end as usize]))
    }

    /// Sets a field. An earlier value under the same name is replaced when `replace` (a
    /// `Span::record`), kept otherwise (a name repeated at creation: the first wins, as for
    /// events). Call [`Self::render`] afterwards.
    fn set(&mut self, name: &'static str, value: FieldValue, replace: bool) {
        match self.entries.iter_mut().find(|e| e.name == name) {
            Some(e) => {
                if replace {
                    e.value = value;
                }
            }
            None => self.entries.push(Entry {
                name,
                value,
                start: 0,
                end: 0,
            }),
        }
    }

    /// Re-renders every value's JSON.
    fn render(&mut self) {
        self.json.clear();
        for e in &mut self.entries {
            e.start = u32::try_from(self.json.len()).unwrap_or(u32::MAX);
            crate::json::write_value(&mut self.json, &e.value);
            e.end = u32::try_from(self.json.len()).unwrap_or(u32::MAX);
        }
    }
}

/// Records span fields into [`SpanFields`], redacting sensitive keys.
struct FieldCollector<'a> {
    fields: &'a mut SpanFields,
    redactor: &'a Redactor,
    replace: bool,
}

impl FieldCollector<'_> {
    fn put(&mut self, field: &Field, value: FieldValue) {
        let name = field.name();
        let value = if self.redactor.is_sensitive(name) {
            FieldValue::Redacted
        } else {
            value
        };
        self.fields.set(name, value, self.replace);
    }
}

impl Visit for FieldCollector<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, FieldValue::F64(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, FieldValue::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, FieldValue::U64(value));
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.put(field, FieldValue::I128(value));
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.put(field, FieldValue::U128(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, FieldValue::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, FieldValue::Str(value.into()));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        self.put(
            field,
            FieldValue::Error(Box::new(ErrorValue::from_error(value))),
        );
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // Not `format!`: it panics when a `Debug` impl returns an error. What was written
        // before the error is kept.
        let mut s = String::new();
        let _ = fmt::Write::write_fmt(&mut s, format_args!("{value:?}"));
        self.put(field, FieldValue::Str(s.into_boxed_str()));
    }
}
