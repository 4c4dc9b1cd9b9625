//! Rendering one event as one JSON line, into a reused per-thread buffer.

use std::error::Error;
use std::fmt;

use taskwire_core::line::EventLine;
use taskwire_core::schema::{self, task_record};
use taskwire_core::{json, process, time, Redactor, SpanData};
use tracing_core::field::{Field, Visit};
use tracing_core::{Metadata, Subscriber};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::flat::{write_spans, FlatSpans};
use crate::format::{write_head, write_hex, write_ids, write_tail, Format};
use crate::keys::{Key, KeyNames};
use crate::plan::{plan_for, write_key, OutKey, Plan, Plans, SpanPlan};

/// Per-thread buffers, reused so that a record in steady state allocates nothing.
#[derive(Default)]
pub(crate) struct Scratch {
    pub(crate) line: Vec<u8>,
    fields: Vec<u8>,
    seen: Vec<OutKey>,
    /// This thread's name as a JSON string, rendered on first use.
    thread: Vec<u8>,
    plans: Plans,
    span_plans: Plans<SpanPlan>,
    flats: FlatSpans,
}

impl taskwire_core::scratch::Scratch for Scratch {
    fn trim(&mut self) {
        taskwire_core::scratch::trim_buffer(&mut self.line);
        taskwire_core::scratch::trim_buffer(&mut self.fields);
        self.flats.trim();
    }
}

taskwire_core::thread_scratch!(
    /// Runs `f` with this thread's scratch buffers (see [`taskwire_core::scratch`]).
    pub(crate) fn with_scratch() -> Scratch
);

/// Renders an event as one line (with its newline) into `s.line`; `span` is the event's span
/// (its innermost), `ticket` the fingerprint of the ticket a tickets layer below counted it in.
pub(crate) fn render_event<S>(
    fmt: &Format,
    redactor: &Redactor,
    e: &EventLine<'_, '_>,
    ticket: Option<u64>,
    span: Option<SpanRef<'_, S>>,
    s: &mut Scratch,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let EventLine {
        event,
        meta,
        is_log,
        at,
        ..
    } = *e;
    let Scratch {
        line,
        fields,
        seen,
        thread,
        plans,
        span_plans,
        flats,
    } = s;
    line.clear();
    fields.clear();
    seen.clear();
    let keys = &fmt.keys;
    if thread.is_empty() {
        process::with_thread_name(|n| json::write_str(thread, n));
    }
    let plan = plan_for(plans, fmt, redactor, event.metadata(), thread);
    // A bridged `log` record's level, target, file, line and module are its own, not the
    // callsite's.
    let fixed = plan.filter(|_| !is_log);
    line.extend_from_slice(&fmt.open);
    if fmt.timestamp {
        time::write_rfc3339(line, at);
    }
    match fixed {
        Some(p) => line.extend_from_slice(&p.head),
        None => write_head(line, fmt, meta),
    }

    // The fields go after `msg`. A callsite without a `message` field gets its empty `msg`
    // now; otherwise fields wait in `fields` until the message is written (with `tracing`'s
    // macros it is the first field, so they rarely wait).
    let mut has_message = false;
    if plan.is_some_and(|p| !p.has_message) {
        write_empty_message(line, keys);
        has_message = true;
    }
    let mut v = EventVisitor {
        line,
        fields,
        seen,
        seen_sig: 0,
        written: 0,
        plan,
        keys,
        span_list: fmt.span_list,
        redactor,
        is_log,
        has_message,
        direct: has_message,
    };
    event.record(&mut v);
    let (has_message, seen_sig) = (v.has_message, v.seen_sig);
    if !has_message {
        write_empty_message(line, keys);
    }
    if !fields.is_empty() {
        line.extend_from_slice(fields);
    }

    // Spans: flattened (innermost wins, never over an event field) or as a list.
    let mut ids = None;
    // The innermost span's call site: a task record's location.
    let mut site: Option<&'static Metadata<'static>> = None;
    if let Some(span) = span {
        if fmt.span_list {
            // `seen` keeps the event's keys; each span object dedups its own keys after them.
            let base = seen.len();
            let mut wrote_any = false;
            for span in span.scope().from_root() {
                site = Some(span.metadata());
                let ext = span.extensions();
                let data = ext.get::<SpanData>();
                if !wrote_any {
                    match keys.get(Key::Spans) {
                        Some(k) => {
                            line.extend_from_slice(k);
                            line.push(b'[');
                        }
                        None => {
                            // Spans omitted: only the ids of the innermost one matter.
                            if let Some(d) = data {
                                ids = Some((d.trace_id(), d.span_id(), d.parent_span_id()));
                            }
                            continue;
                        }
                    }
                    wrote_any = true;
                }
                line.extend_from_slice(b"{\"name\":");
                json::write_str(line, span.name());
                line.push(b',');
                if let Some(d) = data {
                    seen.truncate(base);
                    for (name, value) in d.fields().rendered() {
                        let out = OutKey {
                            name,
                            prefixed: name == "name",
                        };
                        if seen[base..].iter().any(|s| s.same_as(out)) {
                            continue;
                        }
                        seen.push(out);
                        write_key(line, out);
                        line.extend_from_slice(value);
                        line.push(b',');
                    }
                    ids = Some((d.trace_id(), d.span_id(), d.parent_span_id()));
                }
                close_object(line);
                line.push(b',');
            }
            seen.truncate(base);
            if wrote_any {
                close_array(line);
                line.push(b',');
            }
        } else {
            site = Some(write_spans(
                fmt, flats, span_plans, span, line, seen, seen_sig,
            ));
        }
    }
    if let Some(ids) = ids {
        write_ids(line, fmt, ids);
    }
    if let Some(fp) = ticket {
        line.extend_from_slice(TICKET_OPEN);
        write_hex::<8, 18>(line, &fp.to_be_bytes());
    }
    // A task record is located at its task's call site, not at the tasks layer's.
    let task_site = site.filter(|_| match plan {
        Some(p) => p.task_record,
        None => !is_log && task_record::is_record(meta),
    });
    match (task_site, fixed) {
        (Some(task), _) => write_tail(line, fmt, task, thread),
        (None, Some(p)) => line.extend_from_slice(&p.tail),
        (None, None) => write_tail(line, fmt, meta, thread),
    }
    for (name, entry) in &fmt.statics_rendered {
        if !seen.iter().any(|s| s.matches_str(name)) {
            line.extend_from_slice(entry);
        }
    }
    close_object(line);
    line.push(b'\n');
}

/// `"ticket.fingerprint":"` (`taskwire_core::schema::TICKET_FINGERPRINT`).
const TICKET_OPEN: &[u8] = b"\"ticket.fingerprint\":\"";

/// `"msg":"",` for an event without a message.
#[inline]
fn write_empty_message(line: &mut Vec<u8>, keys: &KeyNames) {
    if let Some(k) = keys.get(Key::Message) {
        line.extend_from_slice(k);
        line.extend_from_slice(b"\"\",");
    }
}

/// Replaces a trailing comma with `}` (or appends `}` to an empty object).
#[inline]
fn close_object(line: &mut Vec<u8>) {
    if line.last() == Some(&b',') {
        line.pop();
    }
    line.push(b'}');
}

#[inline]
fn close_array(line: &mut Vec<u8>) {
    if line.last() == Some(&b',') {
        line.pop();
    }
    line.push(b']');
}

struct EventVisitor<'a> {
    line: &'a mut Vec<u8>,
    fields: &'a mut Vec<u8>,
    seen: &'a mut Vec<OutKey>,
    /// The OR of the signatures of `seen`.
    seen_sig: u64,
    /// With a plan: bit `i` is set once field `i` is written.
    written: u64,
    plan: Option<&'a Plan>,
    keys: &'a KeyNames,
    span_list: bool,
    redactor: &'a Redactor,
    is_log: bool,
    has_message: bool,
    /// Fields go straight into `line` (`msg` is written and nothing waits in `fields`).
    direct: bool,
}

impl EventVisitor<'_> {
    /// Writes the key of a user field and returns whether its value must be redacted, or
    /// `None` when the field is skipped (a duplicate, or `log` bridge metadata).
    #[inline(always)]
    fn begin(&mut self, field: &Field) -> Option<bool> {
        if let Some(plan) = self.plan {
            if let Some(p) = plan.fields.get(field.index()) {
                if (self.is_log && p.log_meta) || self.written & p.dups != 0 {
                    return None;
                }
                self.written |= 1 << field.index();
                self.seen.push(p.out);
                self.seen_sig |= p.sig;
                let key = &plan.keys[p.key_start as usize..p.key_end as usize];
                self.out().extend_from_slice(key);
                return Some(p.sensitive);
            }
        }
        let name = field.name();
        if self.is_log && name.starts_with("log.") {
            return None;
        }
        let out = OutKey {
            name,
            prefixed: self.keys.collides(name, self.span_list),
        };
        if self.seen.iter().any(|s| s.same_as(out)) {
            return None;
        }
        self.seen.push(out);
        self.seen_sig |= out.sig();
        write_key(self.out(), out);
        Some(self.redactor.is_sensitive(name))
    }

    /// Where the next user field goes.
    #[inline]
    fn out(&mut self) -> &mut Vec<u8> {
        if self.direct {
            self.line
        } else {
            self.fields
        }
    }

    #[inline]
    fn is_message(&self, field: &Field) -> bool {
        match self.plan.and_then(|p| p.fields.get(field.index())) {
            Some(p) => p.is_message,
            None => field.name() == schema::MESSAGE,
        }
    }

    #[inline]
    fn value(&mut self, field: &Field, write: impl FnOnce(&mut Vec<u8>)) {
        let Some(sensitive) = self.begin(field) else {
            return;
        };
        let out = self.out();
        if sensitive {
            json::write_str(out, taskwire_core::redact::REDACTED);
        } else {
            write(out);
        }
        out.push(b',');
    }

    #[inline]
    fn message(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        if self.has_message {
            return;
        }
        self.has_message = true;
        if let Some(k) = self.keys.get(Key::Message) {
            self.line.extend_from_slice(k);
            write(self.line);
            self.line.push(b',');
        }
        // Fields that come after the message follow it directly, unless some already wait.
        self.direct = self.fields.is_empty();
    }
}

impl Visit for EventVisitor<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.value(field, |o| json::write_f64(o, value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.value(field, |o| json::write_i64(o, value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.value(field, |o| json::write_u64(o, value));
    }
    fn record_i128(&mut self, field: &Field, value: i128) {
        self.value(field, |o| json::write_i128(o, value));
    }
    fn record_u128(&mut self, field: &Field, value: u128) {
        self.value(field, |o| json::write_u128(o, value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.value(field, |o| json::write_bool(o, value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        if self.is_message(field) {
            self.message(|o| json::write_str(o, value));
        } else {
            self.value(field, |o| json::write_str(o, value));
        }
    }
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        self.value(field, |o| json::write_error(o, value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.is_message(field) {
            self.message(|o| json::write_debug(o, value));
        } else {
            self.value(field, |o| json::write_debug(o, value));
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_ticket_key_is_the_schema_s() {
        let want = format!("\"{}\":\"", taskwire_core::schema::TICKET_FINGERPRINT);
        assert_eq!(super::TICKET_OPEN, want.as_bytes());
    }
}
