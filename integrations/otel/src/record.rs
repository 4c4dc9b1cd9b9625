//! What the layer hands to the export thread: finished tasks, span events and log records,
//! copied out of the span with bounded sizes. No OpenTelemetry type appears here; the export
//! thread converts them (`convert.rs`), so the application's threads never build OTLP data.

use std::error::Error;
use std::fmt;
use std::time::{Duration, Instant};

use taskwire_core::{ErrorValue, FieldValue, Redactor, SpanId, TraceId};
use tracing_core::field::{Field, Visit};
use tracing_core::Metadata;

/// Size limits applied before anything is queued, so a hostile value (a megabyte string, a
/// span with thousands of fields or events) costs a bounded amount of memory and export time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest string value kept, in bytes; longer ones are cut at a character boundary
    /// and end with `…`. Default 4096 (OpenTelemetry leaves it unlimited; collectors and back
    /// ends do not).
    pub max_value_len: usize,
    /// Attributes kept per span, event or log record; the rest are counted as dropped.
    /// Default 128 (OpenTelemetry's default).
    pub max_attributes: usize,
    /// Events kept per span; the rest are counted as dropped. Default 128.
    pub max_events: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_value_len: 4096,
            max_attributes: 128,
            max_events: 128,
        }
    }
}

/// A span's name: static (the call site's) or recorded at run time (`task.name`).
#[derive(Debug)]
pub(crate) enum Name {
    Static(&'static str),
    Owned(Box<str>),
}

/// A finished task, as queued for export.
#[derive(Debug)]
pub(crate) struct FinishedSpan {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) parent_span_id: Option<SpanId>,
    pub(crate) remote_parent: bool,
    pub(crate) tracestate: Option<std::sync::Arc<str>>,
    pub(crate) metadata: &'static Metadata<'static>,
    pub(crate) name: Name,
    pub(crate) start: Instant,
    pub(crate) end: Instant,
    pub(crate) busy: Duration,
    pub(crate) failed: bool,
    pub(crate) failure: Option<Box<str>>,
    pub(crate) errors: u32,
    pub(crate) failed_children: u32,
    pub(crate) fields: Vec<(&'static str, FieldValue)>,
    pub(crate) dropped_fields: u32,
    pub(crate) events: Vec<SpanEvent>,
    pub(crate) dropped_events: u32,
}

/// An event that occurred inside a span.
#[derive(Debug)]
pub(crate) struct SpanEvent {
    pub(crate) metadata: &'static Metadata<'static>,
    pub(crate) at: Instant,
    pub(crate) fields: Fields,
}

/// A record (an event) for the logs signal, with the ids of the task it occurred in.
#[derive(Debug)]
pub(crate) struct LogItem {
    pub(crate) metadata: &'static Metadata<'static>,
    pub(crate) at: Instant,
    pub(crate) ids: Option<(TraceId, SpanId, bool)>,
    pub(crate) fields: Fields,
    /// Fields of the enclosing tasks, innermost first, after the event's own.
    pub(crate) span_fields: Vec<(&'static str, FieldValue)>,
}

/// An event's fields, bounded and redacted.
#[derive(Debug, Default)]
pub(crate) struct Fields {
    pub(crate) message: Option<Box<str>>,
    pub(crate) values: Vec<(&'static str, FieldValue)>,
    pub(crate) dropped: u32,
}

/// Copies a value, cutting long strings to `max` bytes.
pub(crate) fn bounded(value: &FieldValue, max: usize) -> FieldValue {
    match value {
        FieldValue::Str(s) if s.len() > max => FieldValue::Str(truncate(s, max).into()),
        FieldValue::Error(e) if e.message.len() > max || e.sources.len() > 8 => {
            FieldValue::Error(Box::new(ErrorValue {
                message: truncate(&e.message, max),
                sources: e.sources.iter().take(8).map(|s| truncate(s, max)).collect(),
            }))
        }
        v => v.clone(),
    }
}

/// `s` cut to at most `max` bytes at a character boundary, marked with `…` when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let keep = max.saturating_sub('…'.len_utf8());
    let mut end = keep.min(s.len());
    while end > 0 && !s.is_char_boundary(end) {
        end -= 1;
    }
    let mut out = String::with_capacity(end + 3);
    out.push_str(&s[..end]);
    out.push('…');
    out
}

/// Records an event's fields, redacted and bounded.
pub(crate) struct FieldVisitor<'a> {
    pub(crate) fields: &'a mut Fields,
    pub(crate) redactor: &'a Redactor,
    pub(crate) limits: &'a Limits,
}

impl FieldVisitor<'_> {
    fn put(&mut self, field: &Field, value: FieldValue) {
        let name = field.name();
        if name == "message" {
            if let FieldValue::Str(s) = value {
                self.fields.message = Some(if s.len() > self.limits.max_value_len {
                    truncate(&s, self.limits.max_value_len).into_boxed_str()
                } else {
                    s
                });
            }
            return;
        }
        // Fields `log` adds when a `log` record is converted; the metadata carries them.
        if name.starts_with("log.") {
            return;
        }
        if self.fields.values.len() >= self.limits.max_attributes {
            self.fields.dropped = self.fields.dropped.saturating_add(1);
            return;
        }
        let value = if self.redactor.is_sensitive_field(name) {
            FieldValue::Redacted
        } else {
            value
        };
        self.fields.values.push((name, value));
    }

    fn put_str(&mut self, field: &Field, value: &str) {
        let v = if value.len() > self.limits.max_value_len {
            truncate(value, self.limits.max_value_len)
        } else {
            value.to_owned()
        };
        self.put(field, FieldValue::Str(v.into_boxed_str()));
    }
}

impl Visit for FieldVisitor<'_> {
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
        self.put_str(field, value);
    }
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        let e = ErrorValue::from_error(value);
        self.put(
            field,
            bounded(&FieldValue::Error(Box::new(e)), self.limits.max_value_len),
        );
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // Not `format!`, which panics on a failing `Debug` impl; what was written is kept.
        let mut s = String::new();
        let _ = fmt::Write::write_fmt(&mut s, format_args!("{value:?}"));
        self.put_str(field, &s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncation_keeps_char_boundaries_and_marks_the_cut() {
        let s = "é".repeat(100);
        let t = truncate(&s, 11);
        assert!(t.len() <= 11, "{}", t.len());
        assert!(t.ends_with('…'));
        assert_eq!(truncate("short", 11), "short");
        assert_eq!(truncate("abc", 0), "…");
    }

    #[test]
    fn bounded_cuts_strings_and_error_chains() {
        let big = FieldValue::Str("x".repeat(10_000).into());
        match bounded(&big, 100) {
            FieldValue::Str(s) => assert!(s.len() <= 100),
            v => panic!("{v:?}"),
        }
        let e = FieldValue::Error(Box::new(ErrorValue {
            message: "m".repeat(500),
            sources: vec!["s".into(); 40],
        }));
        match bounded(&e, 50) {
            FieldValue::Error(e) => {
                assert!(e.message.len() <= 50);
                assert_eq!(e.sources.len(), 8);
            }
            v => panic!("{v:?}"),
        }
    }
}
