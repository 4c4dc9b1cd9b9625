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

use std::error::Error;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use tracing_core::field::{Field, Visit};
use tracing_core::span::{Attributes, Id, Record};
use tracing_core::Subscriber;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::ids::{SpanId, TraceId};
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
    pub fn on_new_span<S>(&self, attrs: &Attributes<'_>, id: &Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(span) = ctx.span(id) else { return };
        if span.extensions().get::<SpanData>().is_some() {
            return;
        }
        // Nearest captured ancestor: its trace id is ours, its span id our parent.
        let parent = span.scope().skip(1).find_map(|p| {
            p.extensions()
                .get::<SpanData>()
                .map(|d| (d.trace_id, d.span_id, d.sampled))
        });
        let (trace_id, parent_span_id, sampled) = match parent {
            Some((t, s, sampled)) => (t, Some(s), sampled),
            None => (TraceId::random(), None, true),
        };
        let mut fields = SpanFields::default();
        attrs.record(&mut FieldCollector {
            fields: &mut fields,
            redactor: &self.redactor,
        });
        fields.render();
        span.extensions_mut().insert(SpanData {
            trace_id,
            span_id: SpanId::random(),
            parent_span_id,
            sampled,
            fields,
            owner: self.owner,
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
    /// The span's fields.
    pub fields: SpanFields,
    owner: u64,
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

    /// Sets a field, replacing an earlier value under the same name. Call [`Self::render`]
    /// afterwards.
    fn set(&mut self, name: &'static str, value: FieldValue) {
        match self.entries.iter_mut().find(|e| e.name == name) {
            Some(e) => e.value = value,
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
}

impl FieldCollector<'_> {
    fn put(&mut self, field: &Field, value: FieldValue) {
        let name = field.name();
        if self.redactor.is_sensitive(name) {
            self.fields.set(name, FieldValue::Redacted);
        } else {
            self.fields.set(name, value);
        }
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
        self.put(
            field,
            FieldValue::Str(format!("{value:?}").into_boxed_str()),
        );
    }
}
