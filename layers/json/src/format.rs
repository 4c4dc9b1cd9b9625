//! Rendering one event as one JSON line, into a reused per-thread buffer.

use std::cell::RefCell;
use std::error::Error;
use std::fmt;
use std::time::SystemTime;

use taskwire_core::{json, process, time, Redactor, SpanData};
use tracing_core::field::{Field, Visit};
use tracing_core::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

use crate::keys::{Key, KeyNames, COLLISION_PREFIX};

/// Everything about the output that is fixed when the layer is built.
#[derive(Clone, Debug)]
pub(crate) struct Format {
    pub(crate) keys: KeyNames,
    pub(crate) span_list: bool,
    /// `"service":"…",` and friends, rendered once.
    pub(crate) service: Option<String>,
    pub(crate) release: Option<String>,
    pub(crate) statics: Vec<(String, taskwire_core::FieldValue)>,
    /// Per-level `"level":"INFO",` and the fixed `"pid":…,"host":…,"service":…,"release":…,`
    /// tail, rebuilt by [`Format::prepare`].
    level_entries: [Vec<u8>; 5],
    fixed_tail: Vec<u8>,
    statics_rendered: Vec<(String, Vec<u8>)>,
}

impl Default for Format {
    fn default() -> Self {
        let mut f = Format {
            keys: KeyNames::default(),
            span_list: false,
            service: None,
            release: None,
            statics: Vec::new(),
            level_entries: Default::default(),
            fixed_tail: Vec::new(),
            statics_rendered: Vec::new(),
        };
        f.prepare();
        f
    }
}

const LEVELS: [(Level, &str); 5] = [
    (Level::TRACE, "TRACE"),
    (Level::DEBUG, "DEBUG"),
    (Level::INFO, "INFO"),
    (Level::WARN, "WARN"),
    (Level::ERROR, "ERROR"),
];

fn level_index(l: &Level) -> usize {
    match *l {
        Level::TRACE => 0,
        Level::DEBUG => 1,
        Level::INFO => 2,
        Level::WARN => 3,
        _ => 4,
    }
}

impl Format {
    /// Re-renders the fixed parts after a setting changed.
    pub(crate) fn prepare(&mut self) {
        for (i, (_, name)) in LEVELS.iter().enumerate() {
            let mut v = Vec::new();
            if let Some(k) = self.keys.get(Key::Level) {
                v.extend_from_slice(k);
                json::write_str(&mut v, name);
                v.push(b',');
            }
            self.level_entries[i] = v;
        }
        let mut t = Vec::new();
        if let Some(k) = self.keys.get(Key::Pid) {
            t.extend_from_slice(k);
            json::write_u64(&mut t, u64::from(process::pid()));
            t.push(b',');
        }
        if let Some(k) = self.keys.get(Key::Host) {
            t.extend_from_slice(k);
            json::write_str(&mut t, process::hostname());
            t.push(b',');
        }
        for (key, val) in [(Key::Service, &self.service), (Key::Release, &self.release)] {
            if let (Some(k), Some(v)) = (self.keys.get(key), val) {
                t.extend_from_slice(k);
                json::write_str(&mut t, v);
                t.push(b',');
            }
        }
        self.fixed_tail = t;
        // Static fields: later settings of one name win; a name that collides with a built-in
        // key takes the collision prefix like any user field.
        let mut rendered: Vec<(String, Vec<u8>)> = Vec::new();
        for (name, value) in &self.statics {
            let out_name = if self.keys.collides(name, self.span_list) {
                format!("{COLLISION_PREFIX}{name}")
            } else {
                name.clone()
            };
            let mut entry = Vec::new();
            json::write_str(&mut entry, &out_name);
            entry.push(b':');
            json::write_value(&mut entry, value);
            entry.push(b',');
            rendered.retain(|(n, _)| *n != out_name);
            rendered.push((out_name, entry));
        }
        self.statics_rendered = rendered;
    }
}

/// A user key as written: its field name, and whether the collision prefix was added.
#[derive(Clone, Copy)]
struct OutKey {
    name: &'static str,
    prefixed: bool,
}

impl OutKey {
    fn same_as(self, other: OutKey) -> bool {
        match (self.prefixed, other.prefixed) {
            (a, b) if a == b => self.name == other.name,
            (true, false) => other.name.strip_prefix(COLLISION_PREFIX) == Some(self.name),
            _ => self.name.strip_prefix(COLLISION_PREFIX) == Some(other.name),
        }
    }

    fn matches_str(self, s: &str) -> bool {
        if self.prefixed {
            s.strip_prefix(COLLISION_PREFIX) == Some(self.name)
        } else {
            s == self.name
        }
    }
}

/// Per-thread buffers, reused so that a record in steady state allocates nothing.
#[derive(Default)]
pub(crate) struct Scratch {
    pub(crate) line: Vec<u8>,
    fields: Vec<u8>,
    seen: Vec<OutKey>,
}

/// Buffers that grew past this after a huge record are given back.
const KEEP_CAPACITY: usize = 64 * 1024;

impl Scratch {
    fn trim(&mut self) {
        if self.line.capacity() > KEEP_CAPACITY {
            self.line = Vec::with_capacity(1024);
        }
        if self.fields.capacity() > KEEP_CAPACITY {
            self.fields = Vec::with_capacity(1024);
        }
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// Runs `f` with this thread's scratch buffers, or fresh ones when they are in use (an event
/// raised while writing one) or gone (an event from a thread-local destructor).
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    let mut f = Some(f);
    let done = SCRATCH
        .try_with(|cell| {
            let mut guard = cell.try_borrow_mut().ok()?;
            let f = f.take()?;
            let r = f(&mut guard);
            guard.trim();
            Some(r)
        })
        .ok()
        .flatten();
    match (done, f) {
        (Some(r), _) => r,
        (None, Some(f)) => f(&mut Scratch::default()),
        // `f` is taken only right before it runs to completion, which yields `Some`.
        (None, None) => unreachable!("scratch closure ran without a result"),
    }
}

/// Renders `event` as one line (with its newline) into `s.line`.
pub(crate) fn render_event<S>(
    fmt: &Format,
    redactor: &Redactor,
    event: &Event<'_>,
    meta: &Metadata<'_>,
    is_log: bool,
    ctx: &Context<'_, S>,
    s: &mut Scratch,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Scratch { line, fields, seen } = s;
    line.clear();
    fields.clear();
    seen.clear();
    let keys = &fmt.keys;
    line.push(b'{');
    if let Some(k) = keys.get(Key::Timestamp) {
        line.extend_from_slice(k);
        line.push(b'"');
        time::write_rfc3339(line, SystemTime::now());
        line.extend_from_slice(b"\",");
    }
    line.extend_from_slice(&fmt.level_entries[level_index(meta.level())]);
    if let Some(k) = keys.get(Key::Target) {
        line.extend_from_slice(k);
        json::write_str(line, meta.target());
        line.push(b',');
    }

    let mut v = EventVisitor {
        line,
        fields,
        seen,
        keys,
        span_list: fmt.span_list,
        redactor,
        is_log,
        has_message: false,
    };
    event.record(&mut v);
    let has_message = v.has_message;
    if !has_message {
        if let Some(k) = keys.get(Key::Message) {
            line.extend_from_slice(k);
            line.extend_from_slice(b"\"\",");
        }
    }
    line.extend_from_slice(fields);

    // Spans: flattened (innermost wins, never over an event field) or as a list.
    let mut ids = None;
    if let Some(scope) = ctx.event_scope(event) {
        if fmt.span_list {
            // `seen` keeps the event's keys; each span object dedups its own keys after them.
            let base = seen.len();
            let mut wrote_any = false;
            for span in scope.from_root() {
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
                                ids = Some((d.trace_id, d.span_id, d.parent_span_id));
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
                    for (name, value) in d.fields.rendered() {
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
                    ids = Some((d.trace_id, d.span_id, d.parent_span_id));
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
            for span in scope {
                let ext = span.extensions();
                let Some(d) = ext.get::<SpanData>() else {
                    continue;
                };
                if ids.is_none() {
                    ids = Some((d.trace_id, d.span_id, d.parent_span_id));
                }
                for (name, value) in d.fields.rendered() {
                    let out = OutKey {
                        name,
                        prefixed: keys.collides(name, false),
                    };
                    if seen.iter().any(|s| s.same_as(out)) {
                        continue;
                    }
                    seen.push(out);
                    write_key(line, out);
                    line.extend_from_slice(value);
                    line.push(b',');
                }
            }
        }
    }
    if let Some((trace_id, span_id, parent)) = ids {
        if let Some(k) = keys.get(Key::TraceId) {
            line.extend_from_slice(k);
            line.push(b'"');
            line.extend_from_slice(&trace_id.to_hex());
            line.extend_from_slice(b"\",");
        }
        if let Some(k) = keys.get(Key::SpanId) {
            line.extend_from_slice(k);
            line.push(b'"');
            line.extend_from_slice(&span_id.to_hex());
            line.extend_from_slice(b"\",");
        }
        if let (Some(k), Some(p)) = (keys.get(Key::ParentSpanId), parent) {
            line.extend_from_slice(k);
            line.push(b'"');
            line.extend_from_slice(&p.to_hex());
            line.extend_from_slice(b"\",");
        }
    }
    if let (Some(k), Some(file)) = (keys.get(Key::File), meta.file()) {
        line.extend_from_slice(k);
        json::write_str(line, file);
        line.push(b',');
    }
    if let (Some(k), Some(l)) = (keys.get(Key::Line), meta.line()) {
        line.extend_from_slice(k);
        json::write_u64(line, u64::from(l));
        line.push(b',');
    }
    if let (Some(k), Some(m)) = (keys.get(Key::Module), meta.module_path()) {
        line.extend_from_slice(k);
        json::write_str(line, m);
        line.push(b',');
    }
    if let Some(k) = keys.get(Key::Thread) {
        line.extend_from_slice(k);
        process::with_thread_name(|n| json::write_str(line, n));
        line.push(b',');
    }
    line.extend_from_slice(&fmt.fixed_tail);
    for (name, entry) in &fmt.statics_rendered {
        if !seen.iter().any(|s| s.matches_str(name)) {
            line.extend_from_slice(entry);
        }
    }
    close_object(line);
    line.push(b'\n');
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

#[inline]
fn write_key(line: &mut Vec<u8>, k: OutKey) {
    line.push(b'"');
    if k.prefixed {
        line.extend_from_slice(COLLISION_PREFIX.as_bytes());
    }
    json::write_str_contents(line, k.name);
    line.extend_from_slice(b"\":");
}

struct EventVisitor<'a> {
    line: &'a mut Vec<u8>,
    fields: &'a mut Vec<u8>,
    seen: &'a mut Vec<OutKey>,
    keys: &'a KeyNames,
    span_list: bool,
    redactor: &'a Redactor,
    is_log: bool,
    has_message: bool,
}

impl EventVisitor<'_> {
    /// Writes the key of a user field into `fields` and returns the buffer to write its value
    /// into, or `None` when the field is skipped (a duplicate, or `log` bridge metadata).
    /// `Some(true)` in the second slot means the value must be redacted.
    #[inline]
    fn begin(&mut self, field: &Field) -> Option<bool> {
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
        write_key(self.fields, out);
        Some(self.redactor.is_sensitive(name))
    }

    #[inline]
    fn end(&mut self) {
        self.fields.push(b',');
    }

    #[inline]
    fn value(&mut self, field: &Field, write: impl FnOnce(&mut Vec<u8>)) {
        match self.begin(field) {
            None => {}
            Some(true) => {
                json::write_str(self.fields, taskwire_core::redact::REDACTED);
                self.end();
            }
            Some(false) => {
                write(self.fields);
                self.end();
            }
        }
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
        if field.name() == "message" {
            self.message(|o| json::write_str(o, value));
        } else {
            self.value(field, |o| json::write_str(o, value));
        }
    }
    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        self.value(field, |o| json::write_error(o, value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message(|o| json::write_debug(o, value));
        } else {
            self.value(field, |o| json::write_debug(o, value));
        }
    }
}
