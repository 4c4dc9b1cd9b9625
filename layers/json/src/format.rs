//! Rendering one event as one JSON line, into a reused per-thread buffer.

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error;
use std::fmt;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use taskwire_core::{json, process, task_record, time, Redactor, SpanData};
use tracing_core::field::{Field, Visit};
use tracing_core::{Event, Level, Metadata, Subscriber};

use tracing_subscriber::registry::{LookupSpan, Scope};

use crate::keys::{name_signature, signature, Key, KeyNames, COLLISION_PREFIX};

/// Everything about the output that is fixed when the layer is built.
#[derive(Clone, Debug)]
pub(crate) struct Format {
    /// Identifies this configuration (and the redactor next to it) in the per-thread cache of
    /// callsite plans; renewed by every setting.
    pub(crate) id: u64,
    pub(crate) keys: KeyNames,
    pub(crate) span_list: bool,
    /// `"service":"…",` and friends, rendered once.
    pub(crate) service: Option<String>,
    pub(crate) release: Option<String>,
    pub(crate) statics: Vec<(String, taskwire_core::FieldValue)>,
    /// Redacts static fields (the layer's capture redacts event and span fields alike).
    pub(crate) redactor: Redactor,
    /// Per-level `"level":"INFO",` and the fixed `"pid":…,"host":…,"service":…,"release":…,`
    /// tail, rebuilt by [`Format::prepare`].
    level_entries: [Vec<u8>; 5],
    fixed_tail: Vec<u8>,
    /// `{"ts":"` (or `{` without a timestamp), and whether the timestamp is written.
    open: Vec<u8>,
    timestamp: bool,
    /// `"trace_id":"`, `"span_id":"`, `"parent_span_id":"`, each empty when omitted.
    id_opens: [Vec<u8>; 3],
    statics_rendered: Vec<(String, Vec<u8>)>,
}

impl Default for Format {
    fn default() -> Self {
        let mut f = Format {
            id: 0,
            keys: KeyNames::default(),
            span_list: false,
            service: None,
            release: None,
            statics: Vec::new(),
            redactor: Redactor::default(),
            level_entries: Default::default(),
            fixed_tail: Vec::new(),
            open: Vec::new(),
            timestamp: false,
            id_opens: Default::default(),
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
    /// Gives the configuration a new id, so that plans cached for the old one are not used.
    pub(crate) fn touch(&mut self) {
        static NEXT: AtomicU64 = AtomicU64::new(1);
        self.id = NEXT.fetch_add(1, Ordering::Relaxed);
    }

    /// Re-renders the fixed parts after a setting changed.
    pub(crate) fn prepare(&mut self) {
        self.touch();
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
        self.open = b"{".to_vec();
        self.timestamp = false;
        if let Some(k) = self.keys.get(Key::Timestamp) {
            self.open.extend_from_slice(k);
            self.open.push(b'"');
            self.timestamp = true;
        }
        for (open, key) in
            self.id_opens
                .iter_mut()
                .zip([Key::TraceId, Key::SpanId, Key::ParentSpanId])
        {
            open.clear();
            if let Some(k) = self.keys.get(key) {
                open.extend_from_slice(k);
                open.push(b'"');
            }
        }
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
            if self.redactor.is_sensitive(name) {
                json::write_str(&mut entry, taskwire_core::redact::REDACTED);
            } else {
                json::write_value(&mut entry, value);
            }
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

    /// The [`signature`] of the key as written.
    #[inline]
    fn sig(self) -> u64 {
        if self.prefixed {
            let p = COLLISION_PREFIX.as_bytes();
            let b = self.name.as_bytes();
            signature(
                p.len() + b.len(),
                p[0],
                b.last().copied().unwrap_or(p[p.len() - 1]),
            )
        } else {
            name_signature(self.name)
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

/// What is decided once per event callsite (and layer configuration) about each of its fields,
/// instead of once per event: the key as written, whether it collides with a built-in key,
/// whether it is redacted, and which other fields of the callsite share its key.
struct Plan {
    /// The fields' keys as written (`"name":` or `"fields.name":`), one after the other.
    keys: Box<[u8]>,
    /// By field index.
    fields: Box<[FieldPlan]>,
    /// Whether the callsite has a field named `message`.
    has_message: bool,
    /// Whether the callsite is a task record's: its own fields keep the reserved task keys,
    /// and its location is the task span's.
    task_record: bool,
    /// What follows the timestamp up to `msg` (`",` closing it, `"level":…,"target":…,`), and
    /// everything from `file` up to the static fields (`"file":…,"line":…,"module":…,`,
    /// `"thread":…,`, pid, host, service, release), joined once: they are fixed for a callsite
    /// on a thread (plans are per thread). Not used for bridged `log` records, whose metadata
    /// changes from record to record.
    head: Box<[u8]>,
    tail: Box<[u8]>,
}

struct FieldPlan {
    out: OutKey,
    sig: u64,
    key_start: u32,
    key_end: u32,
    /// Bit `j`: field `j` of the callsite is written under the same key; whichever is recorded
    /// first wins.
    dups: u64,
    sensitive: bool,
    /// Named `log.*`: the `log` bridge's metadata, skipped in bridged records.
    log_meta: bool,
    is_message: bool,
}

/// Callsites with more fields than this are rendered without a plan.
const PLAN_MAX_FIELDS: usize = 64;
/// A thread's plan cache is emptied when it reaches this size (callsites are static, so this
/// takes thousands of callsites or of layers built and dropped at run time).
const PLAN_MAX_ENTRIES: usize = 4096;

impl Plan {
    fn new(
        fmt: &Format,
        redactor: &Redactor,
        meta: &'static Metadata<'static>,
        thread: &[u8],
    ) -> Plan {
        let fieldset = meta.fields();
        let task_record = task_record::is_record(meta);
        let mut keys = Vec::new();
        let mut fields: Vec<FieldPlan> = Vec::with_capacity(fieldset.len());
        for field in fieldset.iter() {
            let name = field.name();
            let own_task_key = task_record && task_record::is_reserved_key(name);
            let out = OutKey {
                name,
                prefixed: !own_task_key && fmt.keys.collides(name, fmt.span_list),
            };
            let key_start = u32::try_from(keys.len()).unwrap_or(u32::MAX);
            write_key(&mut keys, out);
            let key_end = u32::try_from(keys.len()).unwrap_or(u32::MAX);
            fields.push(FieldPlan {
                out,
                sig: out.sig(),
                key_start,
                key_end,
                dups: 0,
                sensitive: redactor.is_sensitive(name),
                log_meta: name.starts_with("log."),
                is_message: name == "message",
            });
        }
        for i in 0..fields.len() {
            for j in 0..fields.len() {
                if i != j && fields[i].out.same_as(fields[j].out) {
                    fields[i].dups |= 1 << j;
                }
            }
        }
        let mut head = Vec::new();
        write_head(&mut head, fmt, meta);
        let mut tail = Vec::new();
        write_tail(&mut tail, fmt, meta, thread);
        Plan {
            keys: keys.into_boxed_slice(),
            has_message: fields.iter().any(|f| f.is_message),
            task_record,
            fields: fields.into_boxed_slice(),
            head: head.into_boxed_slice(),
            tail: tail.into_boxed_slice(),
        }
    }
}

/// FxHash: the plan cache is keyed by two integers, so a one-multiply hash is plenty.
#[derive(Default)]
struct FxHasher(u64);

impl Hasher for FxHasher {
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.write_u64(u64::from(b));
        }
    }
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0.rotate_left(5) ^ v).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.write_u64(v as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// Plans by (layer configuration id, address of the callsite's static metadata).
type Plans<P = Plan> = HashMap<(u64, usize), P, BuildHasherDefault<FxHasher>>;

/// The keys of a span callsite's fields as written in flattened mode (`"name":` or
/// `"fields.name":`), decided once per span callsite and layer configuration.
struct SpanPlan {
    keys: Box<[u8]>,
    fields: Box<[SpanFieldPlan]>,
}

struct SpanFieldPlan {
    /// The field's name, matched by address: captured span fields carry the `&'static str`
    /// of their callsite's field set.
    name: &'static str,
    out: OutKey,
    sig: u64,
    key_start: u32,
    key_end: u32,
}

impl SpanPlan {
    fn new(keys_in_use: &KeyNames, meta: &'static Metadata<'static>) -> SpanPlan {
        let mut keys = Vec::new();
        let fields = meta
            .fields()
            .iter()
            .map(|field| {
                let name = field.name();
                let out = OutKey {
                    name,
                    prefixed: keys_in_use.collides(name, false),
                };
                let key_start = u32::try_from(keys.len()).unwrap_or(u32::MAX);
                write_key(&mut keys, out);
                let key_end = u32::try_from(keys.len()).unwrap_or(u32::MAX);
                SpanFieldPlan {
                    name,
                    out,
                    sig: out.sig(),
                    key_start,
                    key_end,
                }
            })
            .collect();
        SpanPlan {
            keys: keys.into_boxed_slice(),
            fields,
        }
    }

    /// The plan of the field named by this very `&'static str`.
    #[inline]
    fn find(&self, name: &str) -> Option<&SpanFieldPlan> {
        self.fields
            .iter()
            .find(|f| std::ptr::eq(f.name.as_ptr(), name.as_ptr()) && f.name.len() == name.len())
    }
}

/// The flattened-mode key plan for spans of `meta` under `fmt`, built on first use.
#[inline]
fn span_plan_for<'p>(
    plans: &'p mut Plans<SpanPlan>,
    fmt: &Format,
    meta: &'static Metadata<'static>,
) -> &'p SpanPlan {
    let key = (fmt.id, std::ptr::from_ref(meta) as usize);
    if plans.len() >= PLAN_MAX_ENTRIES && !plans.contains_key(&key) {
        plans.clear();
    }
    plans
        .entry(key)
        .or_insert_with(|| SpanPlan::new(&fmt.keys, meta))
}

/// The plan for events of `meta` under `fmt`, built on first use.
#[inline]
fn plan_for<'p>(
    plans: &'p mut Plans,
    fmt: &Format,
    redactor: &Redactor,
    meta: &'static Metadata<'static>,
    thread: &[u8],
) -> Option<&'p Plan> {
    if meta.fields().len() > PLAN_MAX_FIELDS {
        return None;
    }
    let key = (fmt.id, std::ptr::from_ref(meta) as usize);
    if plans.len() >= PLAN_MAX_ENTRIES && !plans.contains_key(&key) {
        plans.clear();
    }
    Some(
        plans
            .entry(key)
            .or_insert_with(|| Plan::new(fmt, redactor, meta, thread)),
    )
}

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

/// The event to render and what is known about it.
pub(crate) struct Occurrence<'a, 'b> {
    pub(crate) event: &'a Event<'b>,
    /// Its metadata (for a bridged `log` record, the record's own).
    pub(crate) meta: &'a Metadata<'a>,
    pub(crate) is_log: bool,
    /// Its time, the same for every taskwire layer.
    pub(crate) at: SystemTime,
}

/// Renders an event as one line (with its newline) into `s.line`.
pub(crate) fn render_event<S>(
    fmt: &Format,
    redactor: &Redactor,
    occurrence: &Occurrence<'_, '_>,
    scope: Option<Scope<'_, S>>,
    s: &mut Scratch,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Occurrence {
        event,
        meta,
        is_log,
        at,
    } = *occurrence;
    let Scratch {
        line,
        fields,
        seen,
        thread,
        plans,
        span_plans,
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
    let (has_message, mut seen_sig) = (v.has_message, v.seen_sig);
    if !has_message {
        write_empty_message(line, keys);
    }
    line.extend_from_slice(fields);

    // Spans: flattened (innermost wins, never over an event field) or as a list.
    let mut ids = None;
    // The innermost span's call site: a task record's location.
    let mut site: Option<&'static Metadata<'static>> = None;
    if let Some(scope) = scope {
        if fmt.span_list {
            // `seen` keeps the event's keys; each span object dedups its own keys after them.
            let base = seen.len();
            let mut wrote_any = false;
            for span in scope.from_root() {
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
            for span in scope {
                if site.is_none() {
                    site = Some(span.metadata());
                }
                let ext = span.extensions();
                let Some(d) = ext.get::<SpanData>() else {
                    continue;
                };
                if ids.is_none() {
                    ids = Some((d.trace_id(), d.span_id(), d.parent_span_id()));
                }
                let plan = span_plan_for(span_plans, fmt, span.metadata());
                for (name, value) in d.fields().rendered() {
                    // The signature clears most keys without comparing strings.
                    if let Some(p) = plan.find(name) {
                        if seen_sig & p.sig != 0 && seen.iter().any(|s| s.same_as(p.out)) {
                            continue;
                        }
                        seen.push(p.out);
                        seen_sig |= p.sig;
                        line.extend_from_slice(
                            &plan.keys[p.key_start as usize..p.key_end as usize],
                        );
                    } else {
                        let out = OutKey {
                            name,
                            prefixed: keys.collides(name, false),
                        };
                        let sig = out.sig();
                        if seen_sig & sig != 0 && seen.iter().any(|s| s.same_as(out)) {
                            continue;
                        }
                        seen.push(out);
                        seen_sig |= sig;
                        write_key(line, out);
                    }
                    line.extend_from_slice(value);
                    line.push(b',');
                }
            }
        }
    }
    if let Some((trace_id, span_id, parent)) = ids {
        let [trace_open, span_open, parent_open] = &fmt.id_opens;
        if !trace_open.is_empty() {
            line.extend_from_slice(trace_open);
            write_hex::<16, 34>(line, &trace_id.to_bytes());
        }
        if !span_open.is_empty() {
            line.extend_from_slice(span_open);
            write_hex::<8, 18>(line, &span_id.to_bytes());
        }
        if let (false, Some(p)) = (parent_open.is_empty(), parent) {
            line.extend_from_slice(parent_open);
            write_hex::<8, 18>(line, &p.to_bytes());
        }
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

/// What follows the timestamp's digits up to `msg`: `",` (when the timestamp is written),
/// `"level":"…",` and `"target":"…",`.
fn write_head(line: &mut Vec<u8>, fmt: &Format, meta: &Metadata<'_>) {
    if fmt.timestamp {
        line.extend_from_slice(b"\",");
    }
    line.extend_from_slice(&fmt.level_entries[level_index(meta.level())]);
    if let Some(k) = fmt.keys.get(Key::Target) {
        line.extend_from_slice(k);
        json::write_str(line, meta.target());
        line.push(b',');
    }
}

/// From `file` up to the static fields: the callsite's file, line and module, the thread
/// (`thread` is its name as a JSON string), then pid, host, service and release.
fn write_tail(line: &mut Vec<u8>, fmt: &Format, meta: &Metadata<'_>, thread: &[u8]) {
    write_site(line, &fmt.keys, meta);
    if let Some(k) = fmt.keys.get(Key::Thread) {
        line.extend_from_slice(k);
        line.extend_from_slice(thread);
        line.push(b',');
    }
    line.extend_from_slice(&fmt.fixed_tail);
}

/// `"file":"…","line":…,"module":"…",` (each when known and in use).
fn write_site(line: &mut Vec<u8>, keys: &KeyNames, meta: &Metadata<'_>) {
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
}

/// Two lowercase hex digits for each byte value.
static HEX_PAIRS: [[u8; 2]; 256] = {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [HEX[i >> 4], HEX[i & 0xf]];
        i += 1;
    }
    t
};

/// Appends `bytes` as lowercase hex (an id's wire form) followed by `",`, in one fixed-size
/// copy; `M` is `2 * N + 2`.
#[inline]
fn write_hex<const N: usize, const M: usize>(line: &mut Vec<u8>, bytes: &[u8; N]) {
    let mut buf = [0u8; M];
    for (pair, &b) in buf.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(b)]);
    }
    buf[M - 2] = b'"';
    buf[M - 1] = b',';
    line.extend_from_slice(&buf);
}

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
    #[inline]
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
            None => field.name() == "message",
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
