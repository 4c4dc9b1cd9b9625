//! Samples: the full data of one occurrence, built on the caller's thread only when the group
//! may still send one (see [`crate::layer`]), and field lookups for grouping and tags.
//!
//! A sample holds the message, the event's fields and the fields of every enclosing span as
//! JSON, the task's trace and span ids, service, host, pid, thread, release and the source
//! chain of every error value. Keys the [`Redactor`] finds sensitive are stored as
//! `"[redacted]"` (span fields are already redacted by the shared capture). String values longer
//! than the layer's field size limit ([`DEFAULT_MAX_FIELD_LEN`] bytes by default) are cut at a
//! character boundary and end with the marker `…[truncated N bytes]`.

use std::error::Error;
use std::fmt::{self, Write as _};
use std::sync::Arc;

use taskwire_core::{json, process, ErrorValue, FieldRef, Redactor, SpanData};
use tracing_core::field::{Field, Visit};
use tracing_core::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::store::{JsonText, Sample, Timestamp};

/// The default size limit of one field value (and of the message), in bytes.
pub const DEFAULT_MAX_FIELD_LEN: usize = 4096;

/// The sample field that holds a backtrace: the event's own field of that name, or the
/// backtrace the layer captured (see [`TicketsBuilder::with_backtrace_level`](crate::TicketsBuilder::with_backtrace_level)).
pub const BACKTRACE_FIELD: &str = "backtrace";

/// The size limit of a backtrace the layer captured, in bytes.
pub(crate) const MAX_BACKTRACE_LEN: usize = 64 * 1024;

/// Adds `backtrace`, resolved now, to the sample's fields as [`BACKTRACE_FIELD`] (on the
/// writer thread: resolving symbols is the slow part of a backtrace).
pub(crate) fn add_backtrace(sample: &mut Sample, backtrace: &std::backtrace::Backtrace) {
    let text = backtrace.to_string();
    let fields = sample.fields.as_str();
    let Some(open) = fields.strip_suffix('}') else {
        return;
    };
    let mut out = Vec::with_capacity(open.len() + text.len() + 16);
    out.extend_from_slice(open.as_bytes());
    if open.trim_end() != "{" {
        out.push(b',');
    }
    json::write_str(&mut out, BACKTRACE_FIELD);
    out.push(b':');
    json::write_str(&mut out, &truncate(&text, MAX_BACKTRACE_LEN));
    out.push(b'}');
    sample.fields = JsonText::rendered(into_string(out));
}

/// A `fmt::Write` that keeps the first `max` bytes and counts the rest.
struct Bounded {
    s: String,
    max: usize,
    dropped: usize,
}

impl Bounded {
    fn new(max: usize) -> Self {
        Bounded {
            s: String::new(),
            max,
            dropped: 0,
        }
    }

    fn finish(mut self) -> String {
        if self.dropped > 0 {
            let _ = write!(self.s, "…[truncated {} bytes]", self.dropped);
        }
        self.s
    }
}

impl fmt::Write for Bounded {
    fn write_str(&mut self, part: &str) -> fmt::Result {
        let room = self.max.saturating_sub(self.s.len());
        if part.len() <= room && self.dropped == 0 {
            self.s.push_str(part);
        } else {
            let keep = crate::tags::cut(part, if self.dropped == 0 { room } else { 0 });
            self.s.push_str(keep);
            self.dropped += part.len() - keep.len();
        }
        Ok(())
    }
}

/// `s` within `max` bytes, with the truncation marker when cut.
pub(crate) fn truncate(s: &str, max: usize) -> std::borrow::Cow<'_, str> {
    if s.len() <= max {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut b = Bounded::new(max);
    let _ = b.write_str(s);
    std::borrow::Cow::Owned(b.finish())
}

fn debug_string(v: &dyn fmt::Debug, max: usize) -> String {
    let mut b = Bounded::new(max);
    let _ = write!(b, "{v:?}");
    b.finish()
}

/// Writes a typed value with strings truncated.
fn write_value(out: &mut Vec<u8>, v: FieldRef<'_>, max: usize) {
    match v {
        FieldRef::Str(s) => json::write_str(out, &truncate(s, max)),
        FieldRef::Error(e) => {
            let e = ErrorValue {
                message: truncate(&e.message, max).into_owned(),
                sources: e
                    .sources
                    .iter()
                    .map(|s| truncate(s, max).into_owned())
                    .collect(),
            };
            json::write_error_value(out, &e);
        }
        other => json::write_field(out, other),
    }
}

/// Renders the event's fields, message and errors.
struct EventRender<'a> {
    redactor: &'a Redactor,
    max: usize,
    skip_log_fields: bool,
    message: Option<String>,
    /// The text of an `error` field: the message of an event that has none (the event
    /// `#[instrument(err)]` emits is `error = %e` alone).
    error_text: Option<String>,
    fields: Vec<u8>,
    errors: Vec<u8>,
    /// The event has a field named [`BACKTRACE_FIELD`].
    backtrace_field: bool,
}

impl EventRender<'_> {
    fn key(&mut self, field: &Field) -> bool {
        let name = field.name();
        if self.skip_log_fields && name.starts_with("log.") {
            return false;
        }
        if name == BACKTRACE_FIELD {
            self.backtrace_field = true;
        }
        if self.fields.len() > 1 {
            self.fields.push(b',');
        }
        json::write_str(&mut self.fields, name);
        self.fields.push(b':');
        if self.redactor.is_sensitive(name) {
            json::write_str(&mut self.fields, taskwire_core::redact::REDACTED);
            return false;
        }
        true
    }
}

impl Visit for EventRender<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        if self.key(field) {
            json::write_f64(&mut self.fields, value);
        }
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.key(field) {
            json::write_i64(&mut self.fields, value);
        }
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.key(field) {
            json::write_u64(&mut self.fields, value);
        }
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        if self.key(field) {
            json::write_i128(&mut self.fields, value);
        }
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        if self.key(field) {
            json::write_u128(&mut self.fields, value);
        }
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.key(field) {
            json::write_bool(&mut self.fields, value);
        }
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" && self.message.is_none() {
            self.message = Some(truncate(value, self.max).into_owned());
            return;
        }
        if self.key(field) {
            json::write_str(&mut self.fields, &truncate(value, self.max));
            if field.name() == "error" && self.error_text.is_none() {
                self.error_text = Some(truncate(value, self.max).into_owned());
            }
        }
    }
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        if !self.key(field) {
            return;
        }
        let e = ErrorValue::from_error(value);
        if field.name() == "error" && self.error_text.is_none() {
            self.error_text = Some(truncate(&e.message, self.max).into_owned());
        }
        let e = ErrorValue {
            message: truncate(&e.message, self.max).into_owned(),
            sources: e
                .sources
                .iter()
                .map(|s| truncate(s, self.max).into_owned())
                .collect(),
        };
        json::write_error_value(&mut self.fields, &e);
        if self.errors.len() > 1 {
            self.errors.push(b',');
        }
        self.errors.extend_from_slice(b"{\"field\":");
        json::write_str(&mut self.errors, field.name());
        self.errors.push(b',');
        // `{"message":…,"source":[…]}` without its opening brace.
        let mut rendered = Vec::new();
        json::write_error_value(&mut rendered, &e);
        self.errors.extend_from_slice(&rendered[1..]);
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" && self.message.is_none() {
            self.message = Some(debug_string(value, self.max));
            return;
        }
        if self.key(field) {
            let text = debug_string(value, self.max);
            if field.name() == "error" && self.error_text.is_none() {
                self.error_text = Some(text.clone());
            }
            json::write_str(&mut self.fields, &text);
        }
    }
}

/// What a layer puts into every sample.
#[derive(Clone, Debug)]
pub(crate) struct SampleContext {
    pub(crate) redactor: Redactor,
    pub(crate) max_field_len: usize,
    pub(crate) service: Option<Arc<str>>,
    pub(crate) release: Option<Arc<str>>,
    /// Events at or above this level get a backtrace captured with their sample.
    pub(crate) backtrace_level: Option<tracing_core::Level>,
}

impl SampleContext {
    /// The backtrace to store with the sample of an event at `level` that `has_field` or not
    /// (a [`BACKTRACE_FIELD`] of its own): the panic's, captured by the panic hook, else one
    /// captured here, unresolved, when the level calls for it.
    pub(crate) fn backtrace(
        &self,
        meta: &Metadata<'_>,
        has_field: bool,
    ) -> Option<Arc<std::backtrace::Backtrace>> {
        if has_field {
            return None;
        }
        if meta.target() == taskwire_core::panic::TARGET {
            if let Some(report) = taskwire_core::panic::current() {
                return Some(report.backtrace().clone());
            }
        }
        // `Level` orders verbosity: ERROR is the smallest.
        let wanted = self.backtrace_level.is_some_and(|l| *meta.level() <= l);
        wanted.then(|| Arc::new(std::backtrace::Backtrace::force_capture()))
    }
}

/// Builds the sample of `event`, and whether the event has a [`BACKTRACE_FIELD`] of its own.
pub(crate) fn build<S>(
    cx: &SampleContext,
    event: &Event<'_>,
    meta: &Metadata<'_>,
    is_log: bool,
    ctx: &Context<'_, S>,
    now: i64,
) -> (Sample, bool)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let mut r = EventRender {
        backtrace_field: false,
        redactor: &cx.redactor,
        max: cx.max_field_len,
        skip_log_fields: is_log,
        message: None,
        error_text: None,
        fields: vec![b'{'],
        errors: vec![b'['],
    };
    event.record(&mut r);
    r.fields.push(b'}');
    r.errors.push(b']');

    let mut spans = vec![b'['];
    let mut ids = None;
    if let Some(scope) = ctx.event_scope(event) {
        // Outermost first.
        for span in scope.from_root() {
            if spans.len() > 1 {
                spans.push(b',');
            }
            spans.extend_from_slice(b"{\"name\":");
            json::write_str(&mut spans, span.name());
            spans.extend_from_slice(b",\"fields\":{");
            let ext = span.extensions();
            if let Some(data) = ext.get::<SpanData>() {
                for (i, (name, value)) in data.fields().iter().enumerate() {
                    if i > 0 {
                        spans.push(b',');
                    }
                    json::write_str(&mut spans, name);
                    spans.push(b':');
                    write_value(&mut spans, value, cx.max_field_len);
                }
                ids = Some((data.trace_id(), data.span_id()));
            }
            spans.extend_from_slice(b"}}");
        }
    }
    spans.push(b']');

    let mut s = Sample::new(Timestamp::from_micros(now));
    s.level = Some(*meta.level());
    s.message = r.message.or(r.error_text).unwrap_or_default();
    s.fields = JsonText::rendered(into_string(r.fields));
    s.spans = JsonText::rendered(into_string(spans));
    s.errors = JsonText::rendered(into_string(r.errors));
    if let Some((t, sp)) = ids {
        s.trace_id = Some(String::from_utf8_lossy(&t.to_hex()).into_owned());
        s.span_id = Some(String::from_utf8_lossy(&sp.to_hex()).into_owned());
    }
    s.service = cx.service.as_deref().map(str::to_owned);
    s.release = cx.release.as_deref().map(str::to_owned);
    s.host = process::hostname().to_owned();
    s.pid = process::pid();
    s.thread = process::with_thread_name(str::to_owned);
    (s, r.backtrace_field)
}

fn into_string(v: Vec<u8>) -> String {
    String::from_utf8(v).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// Finds the values of some named fields in an event, as text (redacted when sensitive).
pub(crate) struct Lookup<'a> {
    pub(crate) names: &'a [Arc<str>],
    pub(crate) values: Vec<Option<String>>,
    redactor: &'a Redactor,
}

impl<'a> Lookup<'a> {
    pub(crate) fn new(names: &'a [Arc<str>], redactor: &'a Redactor) -> Self {
        Lookup {
            names,
            values: vec![None; names.len()],
            redactor,
        }
    }

    fn put(&mut self, field: &Field, value: impl FnOnce() -> String) {
        let name = field.name();
        if let Some(i) = self.names.iter().position(|n| &**n == name) {
            if self.values[i].is_none() {
                self.values[i] = Some(if self.redactor.is_sensitive(name) {
                    taskwire_core::redact::REDACTED.to_owned()
                } else {
                    value()
                });
            }
        }
    }

    /// Fills the values still missing from the event's spans, innermost first.
    pub(crate) fn fill_from_spans<S>(&mut self, event: &Event<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'b> LookupSpan<'b>,
    {
        if self.values.iter().all(Option::is_some) {
            return;
        }
        let Some(scope) = ctx.event_scope(event) else {
            return;
        };
        for span in scope {
            let ext = span.extensions();
            let Some(data) = ext.get::<SpanData>() else {
                continue;
            };
            for (i, name) in self.names.iter().enumerate() {
                if self.values[i].is_none() {
                    if let Some(v) = data.fields().get(name) {
                        self.values[i] = Some(v.to_string());
                    }
                }
            }
            if self.values.iter().all(Option::is_some) {
                return;
            }
        }
    }
}

impl Visit for Lookup<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, || value.to_string());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, || value.to_string());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, || value.to_string());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, || value.to_string());
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, || value.to_owned());
    }
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        self.put(field, || debug_string(&format_args!("{value}"), 1024));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.put(field, || debug_string(value, 1024));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_captured_backtrace_joins_the_sample_fields() {
        let bt = std::backtrace::Backtrace::force_capture();
        let mut s = Sample::new(Timestamp::from_micros(0));
        add_backtrace(&mut s, &bt);
        let v: serde_json::Value = serde_json::from_str(s.fields.as_str()).unwrap();
        assert!(v["backtrace"]
            .as_str()
            .unwrap()
            .contains("a_captured_backtrace"));
        s.fields = JsonText::rendered("{\"order\":7}".to_owned());
        add_backtrace(&mut s, &bt);
        let v: serde_json::Value = serde_json::from_str(s.fields.as_str()).unwrap();
        assert_eq!(v["order"], 7);
        assert!(v["backtrace"].is_string());
    }

    #[test]
    fn long_values_are_cut_with_a_marker() {
        let s = "x".repeat(10);
        assert_eq!(truncate(&s, 4), "xxxx…[truncated 6 bytes]");
        assert_eq!(truncate("é", 1), "…[truncated 2 bytes]");
        assert_eq!(debug_string(&"abcdef", 3), "\"ab…[truncated 5 bytes]");
    }
}
