//! Rendering one event as console text, into a reused per-thread buffer.
//!
//! The order of work: the call site's plan ([`crate::plan`]); the event's fields (its message
//! apart), each key noted; then the enclosing spans (task path, depth, trace id, and the span
//! fields whose keys are not written yet); then the line is assembled, indented by the depth.
//! Every buffer is per thread and reused, so an event in steady state allocates nothing
//! (`tests/console_event_allocates_nothing.rs`).

use std::error::Error;
use std::fmt;

use taskwire_core::cache::name_signature;
use taskwire_core::line::EventLine;
use taskwire_core::schema::{self, task_record};
use taskwire_core::{redact, time, FieldRef, Redactor, SpanData};
use tracing_core::field::{Field, Visit};
use tracing_core::Subscriber;
use tracing_subscriber::registry::{LookupSpan, Scope};

use crate::color::{self, Paint};
use crate::plan::{
    plan_for, span_plan_for, write_head, write_key, FieldPlan, Plan, Plans, Role, SpanPlan,
};
use crate::settings::{Settings, Style};
use crate::text::{put, put_duration, put_f64, put_fmt, put_int, put_str_value};

/// How many task names the path shows, innermost last; deeper paths start with `…`.
pub(crate) const PATH_SEGMENTS: usize = 3;
/// Between two task names of a path.
const PATH_SEPARATOR: &str = " › ";
/// Indentation stops growing at this depth.
const MAX_INDENT_DEPTH: usize = 24;

/// Per-thread buffers and plans, reused so that a line in steady state allocates nothing.
#[derive(Default)]
pub(crate) struct Scratch {
    pub(crate) line: Vec<u8>,
    msg: Vec<u8>,
    fields: Vec<u8>,
    spans: Vec<u8>,
    path: Vec<u8>,
    /// Where each task name is in `path`, innermost first.
    starts: Vec<(usize, usize)>,
    failure: Vec<u8>,
    /// What goes before a field: a space, or a newline and the indentation (pretty).
    sep: Vec<u8>,
    ts: Vec<u8>,
    /// The keys written so far (event fields, then span fields), to write each key once.
    seen: Vec<&'static str>,
    plans: Plans<Plan>,
    span_plans: Plans<SpanPlan>,
}

impl taskwire_core::scratch::Scratch for Scratch {
    fn trim(&mut self) {
        for b in [
            &mut self.line,
            &mut self.msg,
            &mut self.fields,
            &mut self.spans,
            &mut self.failure,
        ] {
            taskwire_core::scratch::trim_buffer(b);
        }
    }
}

taskwire_core::thread_scratch!(
    /// Runs `f` with this thread's scratch buffers (see [`taskwire_core::scratch`]).
    pub(crate) fn with_scratch() -> Scratch
);

/// What a task record says about its task.
#[derive(Default)]
struct Task {
    end: bool,
    failed: bool,
    duration_us: Option<u64>,
}

/// Renders an event as console text (ending in a newline) into `s.line`.
pub(crate) fn render_event<S>(
    set: &Settings,
    redactor: &Redactor,
    e: &EventLine<'_, '_>,
    scope: Option<Scope<'_, S>>,
    s: &mut Scratch,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let (event, meta, is_log) = (e.event, e.meta, e.is_log);
    let p = Paint(set.ansi);
    let pretty = matches!(set.style, Style::Pretty);
    let Scratch {
        line,
        msg,
        fields,
        spans,
        path,
        starts,
        failure,
        sep,
        ts,
        seen,
        plans,
        span_plans,
    } = s;
    for b in [
        &mut *line,
        &mut *msg,
        &mut *fields,
        &mut *spans,
        &mut *path,
        &mut *failure,
        &mut *sep,
    ] {
        b.clear();
    }
    starts.clear();
    seen.clear();

    // Keys, redaction and the level and target are decided once per call site.
    let plan = plan_for(plans, set, redactor, event.metadata());
    let mut task = (!is_log && plan.task_record).then(|| Task {
        end: event.metadata().name() == task_record::END,
        ..Task::default()
    });

    // The event's fields first: a key is written once, and the event's own value wins.
    let mut v = Visitor {
        msg,
        fields,
        failure,
        seen,
        seen_sig: 0,
        plan,
        set,
        redactor,
        is_log,
        task: task.as_mut(),
    };
    event.record(&mut v);
    let mut seen_sig = v.seen_sig;

    // The enclosing spans, innermost first (the registry's order, which needs no buffer):
    // task names, trace id, depth, span fields (innermost first, as the JSON layer flattens
    // them: a key already written, by the event or an inner span, is not written again).
    let mut trace = None;
    if let Some(scope) = scope {
        for span in scope {
            let ext = span.extensions();
            let data = ext.get::<SpanData>();
            let span_plan = span_plan_for(span_plans, set, span.metadata());
            let start = path.len();
            match data.and_then(SpanData::task_name) {
                Some(name) => put(path, name),
                None => path.extend_from_slice(&span_plan.name),
            }
            starts.push((start, path.len()));
            if let Some(d) = data {
                if trace.is_none() {
                    trace = Some(d.trace_id());
                }
                if set.span_fields && task.is_none() {
                    for (name, value) in d.fields().iter() {
                        let (key, sig) = match span_plan.key(name) {
                            Some(Some((key, sig))) => (Some(key), sig),
                            Some(None) => continue,
                            None if schema::NAME_KEYS.contains(&name) => continue,
                            None => (None, name_signature(name)),
                        };
                        // The signature clears most keys without comparing strings.
                        if seen_sig & sig != 0 && seen.contains(&name) {
                            continue;
                        }
                        seen.push(name);
                        seen_sig |= sig;
                        match key {
                            Some(key) => spans.extend_from_slice(key),
                            None => write_key(spans, set, name),
                        }
                        put_field_ref(spans, value);
                    }
                }
            }
        }
    }
    let depth = starts.len();
    let indent = if set.indent {
        // a task record sits at its task's parent's depth, like tracing-tree's close line
        let d = if task.is_some() {
            depth.saturating_sub(1)
        } else {
            depth
        };
        2 * d.min(MAX_INDENT_DEPTH)
    } else {
        0
    };
    if pretty {
        sep.push(b'\n');
        sep.resize(1 + indent + 4, b' ');
    }

    // indentation, time
    line.resize(indent, b' ');
    if set.time {
        ts.clear();
        time::write_rfc3339(ts, e.at);
        line.extend_from_slice(p.on(color::DIM));
        // `HH:MM:SS.mmm` of `YYYY-MM-DDTHH:MM:SS.uuuuuuZ`
        line.extend_from_slice(ts.get(11..23).unwrap_or(ts));
        line.extend_from_slice(p.reset());
        line.push(b' ');
    }
    match task {
        Some(t) => {
            let (mark, code) = match (t.end, t.failed) {
                (false, _) => ("→", color::CYAN),
                (true, true) => ("✗", color::RED),
                (true, false) => ("✓", color::GREEN),
            };
            line.extend_from_slice(p.on(code));
            line.extend_from_slice(mark.as_bytes());
            line.extend_from_slice(p.reset());
            line.extend_from_slice(b"     ");
            line.extend_from_slice(p.on(color::BOLD));
            write_path(line, path, starts);
            line.extend_from_slice(p.reset());
            if let Some(us) = t.duration_us {
                line.push(b' ');
                put_duration(line, us);
            }
            if !failure.is_empty() {
                line.push(b' ');
                line.extend_from_slice(p.on(color::RED));
                line.extend_from_slice(failure);
                line.extend_from_slice(p.reset());
            }
            put_fields(line, fields, pretty, sep);
            if let (true, Some(t)) = (set.trace_id, trace) {
                line.push(b' ');
                line.extend_from_slice(p.on(color::DIM));
                line.push(b'[');
                line.extend_from_slice(&t.to_hex()[..set.trace_id_format.digits()]);
                line.push(b']');
                line.extend_from_slice(p.reset());
            }
        }
        None => {
            // A bridged `log` record's level and target are its own, not the call site's.
            if is_log {
                write_head(line, set, meta);
            } else {
                line.extend_from_slice(&plan.head);
            }
            if !msg.is_empty() {
                line.push(b' ');
                line.extend_from_slice(msg);
            }
            put_fields(line, fields, pretty, sep);
            put_fields(line, spans, pretty, sep);
            let show_trace = set.trace_id && trace.is_some();
            if depth > 0 || show_trace {
                if pretty {
                    line.extend_from_slice(sep);
                    line.extend_from_slice(p.on(color::DIM));
                    line.extend_from_slice(b"in ");
                    line.extend_from_slice(p.reset());
                    write_path(line, path, starts);
                    if let (true, Some(t)) = (show_trace, trace) {
                        line.extend_from_slice(p.on(color::DIM));
                        line.extend_from_slice(" · trace ".as_bytes());
                        line.extend_from_slice(&t.to_hex()[..set.trace_id_format.digits()]);
                        line.extend_from_slice(p.reset());
                    }
                } else {
                    line.push(b' ');
                    line.extend_from_slice(p.on(color::DIM));
                    line.push(b'[');
                    write_path(line, path, starts);
                    if let (true, Some(t)) = (show_trace, trace) {
                        if depth > 0 {
                            line.push(b' ');
                        }
                        line.extend_from_slice(&t.to_hex()[..set.trace_id_format.digits()]);
                    }
                    line.push(b']');
                    line.extend_from_slice(p.reset());
                }
            }
        }
    }
    line.push(b'\n');
}

/// Appends fields written after `\n` separators: as they are (compact), or each newline
/// replaced by `sep`, a newline and the field lines' indentation (pretty).
#[inline]
fn put_fields(line: &mut Vec<u8>, fields: &[u8], pretty: bool, sep: &[u8]) {
    if !pretty {
        line.extend_from_slice(fields);
        return;
    }
    for (i, part) in fields.split(|&b| b == b'\n').enumerate() {
        if i > 0 {
            line.extend_from_slice(sep);
        }
        line.extend_from_slice(part);
    }
}

/// Appends the task path, outermost first: the last [`PATH_SEGMENTS`] task names, after
/// `… › ` when deeper. `names` holds each name's range in `path`, innermost first.
#[inline]
fn write_path(line: &mut Vec<u8>, path: &[u8], names: &[(usize, usize)]) {
    if names.len() > PATH_SEGMENTS {
        line.extend_from_slice("…".as_bytes());
        line.extend_from_slice(PATH_SEPARATOR.as_bytes());
    }
    let shown = &names[..names.len().min(PATH_SEGMENTS)];
    for (i, &(start, end)) in shown.iter().rev().enumerate() {
        if i > 0 {
            line.extend_from_slice(PATH_SEPARATOR.as_bytes());
        }
        line.extend_from_slice(path.get(start..end).unwrap_or_default());
    }
}

/// Appends a captured span field's value.
#[inline]
fn put_field_ref(out: &mut Vec<u8>, value: FieldRef<'_>) {
    match value {
        FieldRef::Str(s) => put_str_value(out, s),
        FieldRef::I64(v) => put_int(out, v),
        FieldRef::U64(v) => put_int(out, v),
        FieldRef::Error(e) => {
            put(out, &e.message);
            for source in &e.sources {
                out.extend_from_slice(b": ");
                put(out, source);
            }
        }
        other => put_fmt(out, format_args!("{other}")),
    }
}

/// Writes an event's fields: the message apart, the rest as `key=value` (or `key: value`);
/// on a task record, its reserved keys are read, not written.
struct Visitor<'a> {
    msg: &'a mut Vec<u8>,
    fields: &'a mut Vec<u8>,
    failure: &'a mut Vec<u8>,
    /// The keys written, and the OR of their signatures.
    seen: &'a mut Vec<&'static str>,
    seen_sig: u64,
    plan: &'a Plan,
    set: &'a Settings,
    redactor: &'a Redactor,
    is_log: bool,
    task: Option<&'a mut Task>,
}

impl<'a> Visitor<'a> {
    /// The plan of `field`: the call site's, or decided now for a field it does not declare.
    #[inline]
    fn plan(&self, field: &Field) -> (FieldPlan, Option<&'a [u8]>) {
        let plan: &'a Plan = self.plan;
        match plan.field(field.index()) {
            Some((f, key)) => (f, Some(key)),
            None => (
                FieldPlan::decide(field.name(), self.plan.task_record, self.redactor),
                None,
            ),
        }
    }

    /// Writes a field whose value `write` appends, unless redacted or left out.
    #[inline]
    fn value(
        &mut self,
        field: &Field,
        f: FieldPlan,
        key: Option<&[u8]>,
        write: impl FnOnce(&mut Vec<u8>),
    ) {
        if f.skipped(self.is_log) {
            return;
        }
        self.seen.push(field.name());
        self.seen_sig |= f.sig;
        match key {
            Some(k) => self.fields.extend_from_slice(k),
            None => write_key(self.fields, self.set, field.name()),
        }
        if f.sensitive {
            put(self.fields, redact::REDACTED);
        } else {
            write(self.fields);
        }
    }

    /// Writes a field that plays no role but its own.
    #[inline]
    fn field(&mut self, field: &Field, write: impl FnOnce(&mut Vec<u8>)) {
        let (f, key) = self.plan(field);
        self.value(field, f, key, write);
    }
}

impl Visit for Visitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.field(field, |o| put_f64(o, value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.field(field, |o| put_int(o, value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        let (f, key) = self.plan(field);
        if let (Role::Duration, Some(t)) = (f.role, self.task.as_deref_mut()) {
            t.duration_us = Some(value);
            return;
        }
        self.value(field, f, key, |o| put_int(o, value));
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.field(field, |o| put_int(o, value));
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.field(field, |o| put_int(o, value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.field(field, |o| {
            o.extend_from_slice(if value { b"true" } else { b"false" })
        });
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let (f, key) = self.plan(field);
        match (f.role, self.task.as_deref_mut()) {
            (Role::Message, None) => return put(self.msg, value),
            (Role::Message, Some(_)) => return,
            (Role::Outcome, Some(t)) => t.failed = value == "failed",
            (Role::Failure, Some(_)) => put(self.failure, value),
            _ => {}
        }
        self.value(field, f, key, |o| put_str_value(o, value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        self.field(field, |o| {
            put_fmt(o, format_args!("{value}"));
            let mut source = value.source();
            let mut links = 0;
            while let Some(e) = source {
                if links == taskwire_core::value::MAX_ERROR_SOURCES {
                    break;
                }
                o.extend_from_slice(b": ");
                put_fmt(o, format_args!("{e}"));
                source = e.source();
                links += 1;
            }
        });
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let (f, key) = self.plan(field);
        if f.role == Role::Message {
            if self.task.is_none() {
                put_fmt(self.msg, format_args!("{value:?}"));
            }
            return;
        }
        self.value(field, f, key, |o| put_fmt(o, format_args!("{value:?}")));
    }
}
