//! Queued records → OpenTelemetry SDK data, on the export thread.

use std::borrow::Cow;
use std::time::{Duration, Instant, SystemTime};

use opentelemetry::logs::{AnyValue, LogRecord as _, Logger as _, Severity};
use opentelemetry::trace::{
    Event, SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, Key, KeyValue, StringValue, Value};
use opentelemetry_sdk::logs::{SdkLogRecord, SdkLogger};
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanLinks};
use taskwire_core::schema::{self, task_record};
use taskwire_core::FieldValue;
use tracing_core::Level;

use crate::record::{truncate, Arena, FinishedSpan, LogItem, SpanEvent, Val};

/// Maps `Instant`s to wall-clock time, from one pair of clock reads made when a batch is
/// converted (so a long-running process does not drift from a start-time anchor).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Clock {
    instant: Instant,
    system: SystemTime,
}

impl Clock {
    pub(crate) fn now() -> Self {
        Clock {
            instant: Instant::now(),
            system: SystemTime::now(),
        }
    }

    pub(crate) fn to_system(self, at: Instant) -> SystemTime {
        if at <= self.instant {
            self.system
                .checked_sub(self.instant - at)
                .unwrap_or(self.system)
        } else {
            self.system
                .checked_add(at - self.instant)
                .unwrap_or(self.system)
        }
    }
}

/// Fields that steer the span itself rather than become attributes.
const CONTROL: [&str; 5] = [
    schema::TASK_NAME,
    schema::OTEL_NAME,
    schema::OTEL_KIND,
    schema::OTEL_STATUS_CODE,
    schema::OTEL_STATUS_MESSAGE,
];

/// A task's `tracestate` for OpenTelemetry. taskwire accepts W3C Level 2 keys (`foo@`,
/// `a@b@c`, long names before the `@`) that OpenTelemetry's own check refuses; those members
/// are left out rather than losing the whole `tracestate`.
fn trace_state(ts: &str) -> TraceState {
    if let Ok(state) = ts.parse::<TraceState>() {
        return state;
    }
    let members = ts
        .split(',')
        .filter_map(|m| m.split_once('='))
        .filter(|(k, v)| TraceState::from_key_value([(*k, *v)]).is_ok());
    TraceState::from_key_value(members).unwrap_or_default()
}

pub(crate) fn span(
    s: FinishedSpan,
    arena: &Arena,
    clock: Clock,
    scope: &InstrumentationScope,
    max_value_len: usize,
) -> SpanData {
    let trace_state = s.tracestate.as_deref().map(trace_state).unwrap_or_default();
    let span_context = SpanContext::new(
        TraceId::from_bytes(s.trace_id.to_bytes()),
        SpanId::from_bytes(s.span_id.to_bytes()),
        TraceFlags::new(s.flags),
        false,
        trace_state,
    );
    let parent_span_id = s
        .parent_span_id
        .map_or(SpanId::INVALID, |p| SpanId::from_bytes(p.to_bytes()));

    let fields = arena.fields(s.fields);
    let field_str = |name: &str| {
        fields
            .iter()
            .find(|(k, _)| *k == name)
            .and_then(|(_, v)| match v {
                Val::Str(start, len) => Some(arena.str(*start, *len)),
                _ => None,
            })
    };
    let span_kind = match field_str(schema::OTEL_KIND)
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("server") => SpanKind::Server,
        Some("client") => SpanKind::Client,
        Some("producer") => SpanKind::Producer,
        Some("consumer") => SpanKind::Consumer,
        Some("internal") => SpanKind::Internal,
        _ => infer_kind(s.metadata.name(), s.remote_parent),
    };
    let explicit_status = field_str(schema::OTEL_STATUS_CODE).map(str::to_ascii_lowercase);
    let status = if s.failed || explicit_status.as_deref() == Some("error") {
        let description = s
            .failure
            .as_deref()
            .or_else(|| field_str(schema::OTEL_STATUS_MESSAGE))
            .unwrap_or("task failed");
        let status_code = fields
            .iter()
            .find(|(k, _)| *k == "http.response.status_code")
            .and_then(|(_, v)| match v {
                Val::I64(code) => Some(*code),
                _ => None,
            });
        Status::Error {
            description: if implied_by_status(description, status_code) {
                Cow::Borrowed("")
            } else {
                Cow::Owned(truncate(description, max_value_len))
            },
        }
    } else if explicit_status.as_deref() == Some("ok") {
        Status::Ok
    } else {
        Status::Unset
    };

    let mut attributes = Vec::with_capacity(fields.len() + 4);
    for (k, v) in fields {
        if !CONTROL.contains(k) {
            attributes.push(KeyValue::new(user_key(k), val(v, arena)));
        }
    }
    attributes.push(KeyValue::new(
        task_record::keys::OUTCOME,
        if s.failed { "failed" } else { "succeeded" },
    ));
    attributes.push(KeyValue::new(
        task_record::keys::TARGET,
        s.metadata.target(),
    ));
    attributes.push(KeyValue::new(task_record::keys::BUSY_US, micros(s.busy)));
    if s.errors > 0 {
        attributes.push(KeyValue::new(
            task_record::keys::ERRORS,
            i64::from(s.errors),
        ));
    }
    if s.failed_children > 0 {
        attributes.push(KeyValue::new(
            task_record::keys::FAILED_CHILDREN,
            i64::from(s.failed_children),
        ));
    }

    let mut events = SpanEvents::default();
    if let Some(list) = s.events {
        let (list, dropped) = *list;
        events.events = list.into_iter().map(event).collect();
        events.dropped_count = dropped;
    }
    let name: Cow<'static, str> = match schema::NAME_KEYS.into_iter().find_map(field_str) {
        Some(n) => Cow::Owned(n.to_owned()),
        None => Cow::Borrowed(s.metadata.name()),
    };
    SpanData {
        span_context,
        parent_span_id,
        parent_span_is_remote: s.remote_parent,
        span_kind,
        name,
        start_time: clock.to_system(s.start),
        end_time: clock.to_system(s.start + s.wall),
        attributes,
        dropped_attributes_count: s.dropped_fields,
        events,
        links: SpanLinks::default(),
        status,
        instrumentation_scope: scope.clone(),
    }
}

/// Whether a failure reason says only what the span's `http.response.status_code` says
/// (`HTTP 404 Not Found`, the reason taskwire's HTTP middleware give a failing status):
/// OpenTelemetry's HTTP conventions leave the status description out then.
fn implied_by_status(reason: &str, status_code: Option<i64>) -> bool {
    let Some(code) = status_code else {
        return false;
    };
    reason
        .strip_prefix("HTTP ")
        .and_then(|rest| rest.split(' ').next())
        .and_then(|digits| digits.parse::<i64>().ok())
        == Some(code)
}

/// The kind of a span that does not say (`otel.kind`): taskwire's HTTP middleware names its
/// spans `http.server.request` and `http.client.request`; a task continued from another
/// process is the server side of a call.
fn infer_kind(name: &str, remote_parent: bool) -> SpanKind {
    if name.ends_with(".server.request") {
        SpanKind::Server
    } else if name.ends_with(".client.request") {
        SpanKind::Client
    } else if remote_parent {
        SpanKind::Server
    } else {
        SpanKind::Internal
    }
}

fn event(e: SpanEvent) -> Event {
    let name: Cow<'static, str> = match e.fields.message {
        Some(m) => Cow::Owned(m.into_string()),
        None => Cow::Borrowed(e.metadata.name()),
    };
    let mut attributes = Vec::with_capacity(e.fields.values.len() + 2);
    attributes.push(KeyValue::new("level", e.metadata.level().as_str()));
    attributes.push(KeyValue::new("target", e.metadata.target()));
    for (k, v) in &e.fields.values {
        attributes.push(KeyValue::new(user_key(k), value(v)));
    }
    Event::new(name, e.at, attributes, e.fields.dropped)
}

/// A log record for the logs signal.
pub(crate) fn log(item: LogItem, logger: &SdkLogger) -> SdkLogRecord {
    let mut r = logger.create_log_record();
    let at = item.at;
    r.set_timestamp(at);
    r.set_observed_timestamp(at);
    let level = *item.metadata.level();
    r.set_severity_number(severity(level));
    r.set_severity_text(level.as_str());
    r.set_target(item.metadata.target());
    if let Some(m) = item.fields.message {
        r.set_body(AnyValue::String(StringValue::from(m.into_string())));
    }
    if let Some((trace_id, span_id, flags)) = item.ids {
        r.set_trace_context(
            TraceId::from_bytes(trace_id.to_bytes()),
            SpanId::from_bytes(span_id.to_bytes()),
            Some(TraceFlags::new(flags)),
        );
    }
    // A task record's own fields are the task keys; everyone else's take the prefix.
    let task_record = task_record::is_record(item.metadata);
    let own = item.fields.values;
    for (k, v) in &own {
        if task_record {
            r.add_attribute(*k, any_value(v));
        } else {
            r.add_attribute(user_key(k), any_value(v));
        }
    }
    for (k, v) in &item.span_fields {
        let shadowed = own.iter().any(|(o, _)| o == k);
        if !shadowed || (task_record && task_record::is_reserved_key(k)) {
            r.add_attribute(user_key(k), any_value(v));
        }
    }
    if let Some(file) = item.site.file() {
        r.add_attribute("code.file.path", file);
    }
    if let Some(line) = item.site.line() {
        r.add_attribute("code.line.number", i64::from(line));
    }
    r
}

/// The attribute key of a user field: as in taskwire's JSON records, a field named like one of
/// the task keys (`task.outcome`, …) is written as `fields.<name>`, so it never passes for the
/// task's own attribute.
fn user_key(k: &'static str) -> Key {
    if task_record::is_reserved_key(k) {
        Key::from(format!("fields.{k}"))
    } else {
        Key::from_static_str(k)
    }
}

fn severity(level: Level) -> Severity {
    match level {
        Level::TRACE => Severity::Trace,
        Level::DEBUG => Severity::Debug,
        Level::INFO => Severity::Info,
        Level::WARN => Severity::Warn,
        _ => Severity::Error,
    }
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// A field value as an attribute value. Integers that do not fit `i64` become strings, as in
/// OpenTelemetry's own `tracing` bridge; errors become their message with the source chain.
pub(crate) fn value(v: &FieldValue) -> Value {
    match v {
        FieldValue::I64(i) => Value::I64(*i),
        FieldValue::U64(u) => {
            i64::try_from(*u).map_or_else(|_| Value::from(u.to_string()), Value::I64)
        }
        FieldValue::I128(i) => {
            i64::try_from(*i).map_or_else(|_| Value::from(i.to_string()), Value::I64)
        }
        FieldValue::U128(u) => {
            i64::try_from(*u).map_or_else(|_| Value::from(u.to_string()), Value::I64)
        }
        FieldValue::F64(f) => Value::F64(*f),
        FieldValue::Bool(b) => Value::Bool(*b),
        FieldValue::Error(e) => {
            if e.sources.is_empty() {
                Value::from(e.message.clone())
            } else {
                let mut s = e.message.clone();
                for src in &e.sources {
                    s.push_str(": ");
                    s.push_str(src);
                }
                Value::from(s)
            }
        }
        other => Value::from(other.to_string()),
    }
}

/// An arena value as an attribute value.
fn val(v: &Val, arena: &Arena) -> Value {
    match v {
        Val::I64(i) => Value::I64(*i),
        Val::F64(f) => Value::F64(*f),
        Val::Bool(b) => Value::Bool(*b),
        Val::Str(start, len) => Value::from(arena.str(*start, *len).to_owned()),
        Val::Redacted => Value::from(taskwire_core::redact::REDACTED),
        Val::Error(e) => value(&FieldValue::Error(e.clone())),
    }
}

fn any_value(v: &FieldValue) -> AnyValue {
    match value(v) {
        Value::I64(i) => AnyValue::Int(i),
        Value::F64(f) => AnyValue::Double(f),
        Value::Bool(b) => AnyValue::Boolean(b),
        Value::String(s) => AnyValue::String(s),
        other => AnyValue::String(StringValue::from(other.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_that_do_not_fit_become_strings() {
        assert_eq!(
            value(&FieldValue::U64(u64::MAX)),
            Value::from(u64::MAX.to_string())
        );
        assert_eq!(value(&FieldValue::U64(7)), Value::I64(7));
        assert_eq!(value(&FieldValue::I128(-3)), Value::I64(-3));
        assert_eq!(value(&FieldValue::Redacted), Value::from("[redacted]"));
    }

    #[test]
    fn a_reason_is_implied_only_by_its_own_status_code() {
        assert!(implied_by_status("HTTP 404 Not Found", Some(404)));
        assert!(implied_by_status("HTTP 599", Some(599)));
        assert!(!implied_by_status("HTTP 404 Not Found", Some(500)));
        assert!(!implied_by_status("HTTP 404 Not Found", None));
        assert!(!implied_by_status("database is down", Some(503)));
        assert!(!implied_by_status("HTTP 5000", Some(500)));
        assert!(!implied_by_status("HTTP ", Some(0)));
    }

    proptest::proptest! {
        #[test]
        fn any_reason_is_judged_without_panicking(reason in "\\PC{0,40}", code in proptest::option::of(0_i64..1000)) {
            let implied = implied_by_status(&reason, code);
            let prefix = format!("HTTP {}", code.unwrap_or(-1));
            proptest::prop_assert!(!implied || reason.starts_with(&prefix), "{reason:?} {code:?}");
        }
    }

    #[test]
    fn clock_maps_instants_both_ways() {
        let c = Clock::now();
        let later = c.instant + Duration::from_millis(5);
        assert_eq!(
            c.to_system(later).duration_since(c.system).ok(),
            Some(Duration::from_millis(5))
        );
        if let Some(earlier) = c.instant.checked_sub(Duration::from_millis(5)) {
            assert_eq!(
                c.system.duration_since(c.to_system(earlier)).ok(),
                Some(Duration::from_millis(5))
            );
        }
    }
}
