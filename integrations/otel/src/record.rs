//! What the layer hands to the export thread: finished tasks, span events and log records,
//! copied out of the span with bounded sizes. No OpenTelemetry type appears here; the export
//! thread converts them (`convert.rs`), so the application's threads never build OTLP data.

use std::fmt;
use std::time::{Duration, Instant, SystemTime};

use taskwire_core::value::FieldSink;
use taskwire_core::{ErrorValue, FieldRef, FieldValue, Redactor, SpanId, TraceId};
use tracing_core::field::Field;
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

/// A finished task, as queued for export. Its fields lie in the queue's shared field list
/// and their strings in its shared byte buffer (see [`Arena`]): queuing a task allocates
/// nothing.
#[derive(Debug)]
pub(crate) struct FinishedSpan {
    pub(crate) trace_id: TraceId,
    pub(crate) span_id: SpanId,
    pub(crate) parent_span_id: Option<SpanId>,
    pub(crate) remote_parent: bool,
    /// The W3C trace flags (sampled, random-trace-id), exported as the span's trace flags.
    pub(crate) flags: u8,
    pub(crate) failed: bool,
    pub(crate) errors: u32,
    pub(crate) failed_children: u32,
    pub(crate) dropped_fields: u32,
    /// The span's fields: `fields.start..fields.start + fields.len` in the arena's list.
    pub(crate) fields: (u32, u32),
    pub(crate) tracestate: Option<std::sync::Arc<str>>,
    pub(crate) metadata: &'static Metadata<'static>,
    pub(crate) start: Instant,
    /// Wall time: the span ended at `start + wall`.
    pub(crate) wall: Duration,
    pub(crate) busy: Duration,
    pub(crate) failure: Option<Box<str>>,
    pub(crate) events: Option<Box<(Vec<SpanEvent>, u32)>>,
}

/// A field value in the arena: strings (and integers beyond `i64`, as decimal strings) are
/// ranges of the arena's bytes.
#[derive(Debug)]
pub(crate) enum Val {
    I64(i64),
    F64(f64),
    Bool(bool),
    Str(u32, u32),
    Redacted,
    Error(Box<ErrorValue>),
}

/// The fields and strings of the queued spans, in two growing buffers that the export thread
/// swaps out whole and hands back empty (with their capacity).
#[derive(Debug, Default)]
pub(crate) struct Arena {
    pub(crate) fields: Vec<(&'static str, Val)>,
    pub(crate) bytes: Vec<u8>,
}

impl Arena {
    fn push_str(&mut self, s: &str, max: usize) -> Val {
        let start = self.bytes.len();
        if s.len() > max {
            self.bytes.extend_from_slice(truncate(s, max).as_bytes());
        } else {
            self.bytes.extend_from_slice(s.as_bytes());
        }
        let len = self.bytes.len() - start;
        Val::Str(
            u32::try_from(start).unwrap_or(u32::MAX),
            u32::try_from(len).unwrap_or(0),
        )
    }

    fn push_display(&mut self, v: impl fmt::Display) -> Val {
        let start = self.bytes.len();
        let _ = std::io::Write::write_fmt(&mut self.bytes, format_args!("{v}"));
        let len = self.bytes.len() - start;
        Val::Str(
            u32::try_from(start).unwrap_or(u32::MAX),
            u32::try_from(len).unwrap_or(0),
        )
    }

    /// Appends a span's fields (at most `max_fields`, strings cut to `max_len`); returns
    /// their range and how many were left out.
    pub(crate) fn push_fields<'a>(
        &mut self,
        fields: impl Iterator<Item = (&'static str, FieldRef<'a>)>,
        total: usize,
        limits: &Limits,
    ) -> ((u32, u32), u32) {
        let start = self.fields.len();
        for (k, v) in fields.take(limits.max_attributes) {
            let val = match v {
                FieldRef::I64(i) => Val::I64(i),
                FieldRef::U64(u) => match i64::try_from(u) {
                    Ok(i) => Val::I64(i),
                    Err(_) => self.push_display(u),
                },
                FieldRef::I128(i) => match i64::try_from(i) {
                    Ok(i) => Val::I64(i),
                    Err(_) => self.push_display(i),
                },
                FieldRef::U128(u) => match i64::try_from(u) {
                    Ok(i) => Val::I64(i),
                    Err(_) => self.push_display(u),
                },
                FieldRef::F64(f) => Val::F64(f),
                FieldRef::Bool(b) => Val::Bool(b),
                FieldRef::Str(s) => self.push_str(s, limits.max_value_len),
                FieldRef::Redacted => Val::Redacted,
                FieldRef::Error(_) => match bounded(v, limits.max_value_len) {
                    FieldValue::Error(e) => Val::Error(e),
                    _ => Val::Redacted,
                },
                // A kind of value added to taskwire-core later: its display form.
                other => self.push_display(other),
            };
            self.fields.push((k, val));
        }
        let n = self.fields.len() - start;
        (
            (
                u32::try_from(start).unwrap_or(u32::MAX),
                u32::try_from(n).unwrap_or(0),
            ),
            u32::try_from(total.saturating_sub(n)).unwrap_or(u32::MAX),
        )
    }

    pub(crate) fn str(&self, start: u32, len: u32) -> &str {
        let (start, len) = (start as usize, len as usize);
        self.bytes
            .get(start..start + len)
            .and_then(|b| std::str::from_utf8(b).ok())
            .unwrap_or_default()
    }

    pub(crate) fn fields(&self, (start, len): (u32, u32)) -> &[(&'static str, Val)] {
        let (start, len) = (start as usize, len as usize);
        self.fields.get(start..start + len).unwrap_or_default()
    }

    pub(crate) fn clear(&mut self) {
        self.fields.clear();
        self.bytes.clear();
    }
}

/// An event that occurred inside a span.
#[derive(Debug)]
pub(crate) struct SpanEvent {
    pub(crate) metadata: &'static Metadata<'static>,
    /// The event's time, the same in every taskwire output.
    pub(crate) at: SystemTime,
    pub(crate) fields: Fields,
}

/// A record (an event) for the logs signal, with the ids of the task it occurred in.
#[derive(Debug)]
pub(crate) struct LogItem {
    pub(crate) metadata: &'static Metadata<'static>,
    /// The event's time, the same in every taskwire output.
    pub(crate) at: SystemTime,
    /// Where it happened: the event's call site, or for a task record its task's.
    pub(crate) site: &'static Metadata<'static>,
    /// Trace id, span id and W3C trace flags.
    pub(crate) ids: Option<(TraceId, SpanId, u8)>,
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
pub(crate) fn bounded(value: FieldRef<'_>, max: usize) -> FieldValue {
    match value {
        FieldRef::Str(s) if s.len() > max => FieldValue::Str(truncate(s, max).into()),
        FieldRef::Error(e) if e.message.len() > max || e.sources.len() > 8 => {
            FieldValue::Error(Box::new(ErrorValue {
                message: truncate(&e.message, max),
                sources: e.sources.iter().take(8).map(|s| truncate(s, max)).collect(),
            }))
        }
        v => v.to_value(),
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

impl FieldSink for FieldVisitor<'_> {
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

    fn put_string(&mut self, field: &Field, value: String) {
        let v = if value.len() > self.limits.max_value_len {
            truncate(&value, self.limits.max_value_len)
        } else {
            value
        };
        self.put(field, FieldValue::Str(v.into_boxed_str()));
    }

    fn put_error(&mut self, field: &Field, value: ErrorValue) {
        let bounded = bounded(FieldRef::Error(&value), self.limits.max_value_len);
        self.put(field, bounded);
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
        match bounded(big.view(), 100) {
            FieldValue::Str(s) => assert!(s.len() <= 100),
            v => panic!("{v:?}"),
        }
        let e = FieldValue::Error(Box::new(ErrorValue {
            message: "m".repeat(500),
            sources: vec!["s".into(); 40],
        }));
        match bounded(e.view(), 50) {
            FieldValue::Error(e) => {
                assert!(e.message.len() <= 50);
                assert_eq!(e.sources.len(), 8);
            }
            v => panic!("{v:?}"),
        }
    }
}
