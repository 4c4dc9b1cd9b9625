//! [`SpanFields`]: a span's fields, typed, and rendered as JSON once per change.

use std::cell::RefCell;
use std::sync::OnceLock;

use tracing_core::field::Field;
use tracing_core::Metadata;

use crate::cache::{self, SiteCache, SiteKey};
use crate::redact::Redactor;
use crate::schema;
use crate::value::{FieldSink, FieldValue};

/// Fields that steer taskwire (a task's name, a recorded outcome), captured even when no layer
/// in the stack reads span fields.
pub const CONTROL_FIELDS: [&str; 3] = [schema::TASK_NAME, schema::OTEL_NAME, schema::OUTCOME];

/// [`SpanFields::control`] bits of `task.name` and `otel.name`.
const CONTROL_NAMES: u8 = 0b011;
/// [`SpanFields::control`] bit of `outcome`.
const CONTROL_OUTCOME: u8 = 0b100;

/// A span's fields, typed, and rendered as JSON values when first read after a change, never
/// per event.
#[derive(Debug, Default)]
pub struct SpanFields {
    entries: Vec<Entry>,
    /// The JSON rendering of `entries`; emptied by every change.
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
    pub(crate) fn with_capacity(n: usize) -> Self {
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
    /// made on the first call after the fields changed and reused until they change again.
    pub fn rendered(&self) -> impl Iterator<Item = (&'static str, &[u8])> + '_ {
        let r = self.rendered.get_or_init(|| self.render());
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

    /// Renders every value as JSON; reads the fields, changes nothing.
    fn render(&self) -> Rendered {
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
    }

    /// Whether a `task.name` or `otel.name` field is recorded.
    #[inline]
    pub(crate) fn has_name(&self) -> bool {
        self.control & CONTROL_NAMES != 0
    }

    /// Whether an `outcome` field is recorded.
    #[inline]
    pub(crate) fn has_outcome(&self) -> bool {
        self.control & CONTROL_OUTCOME != 0
    }

    /// Sets a field. An earlier value under the same name is replaced when `replace` (a
    /// `Span::record`), kept otherwise (a name repeated at creation: the first wins, as for
    /// events). The rendering is dropped, so the next reader renders the new values.
    fn set(&mut self, name: &'static str, value: FieldValue, replace: bool) {
        if let Some(i) = CONTROL_FIELDS.iter().position(|c| *c == name) {
            self.control |= 1 << i;
        }
        match self.entries.iter_mut().find(|e| e.name == name) {
            Some(e) if replace => e.value = value,
            Some(_) => return,
            None => self.entries.push(Entry { name, value }),
        }
        self.rendered.take();
    }
}

/// Records span fields into [`SpanFields`], redacting sensitive keys.
pub(crate) struct FieldCollector<'a> {
    pub(crate) fields: &'a mut SpanFields,
    pub(crate) redactor: &'a Redactor,
    /// A `Span::record` (replaces earlier values) rather than the span's creation.
    pub(crate) replace: bool,
    /// Keep only the fields taskwire itself acts on ([`CONTROL_FIELDS`]).
    pub(crate) only_control: bool,
}

impl FieldSink for FieldCollector<'_> {
    #[inline]
    fn wants(&mut self, field: &Field) -> bool {
        !self.only_control || CONTROL_FIELDS.contains(&field.name())
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

/// Whether a span call site declares any of [`CONTROL_FIELDS`], remembered per thread.
#[inline]
pub(crate) fn has_control_fields(meta: &'static Metadata<'static>) -> bool {
    thread_local! {
        static KNOWN: RefCell<SiteCache<SiteKey, bool>> = const { RefCell::new(SiteCache::new(1024)) };
    }
    // The answer depends on the call site only: one owner for every capture.
    cache::with_entry(
        &KNOWN,
        SiteKey::new(0, meta),
        || {
            meta.fields()
                .iter()
                .any(|f| CONTROL_FIELDS.contains(&f.name()))
        },
        |known| *known,
    )
}
