//! The layer's output configuration ([`Format`]) and the parts of a record it fixes: the
//! level and target entries before the message, the call site, thread and process entries
//! after the fields.

use taskwire_core::schema::{level_index, LEVELS};
use taskwire_core::{ids, json, process, Redactor, SpanId, TraceId};
use tracing_core::Metadata;

use crate::keys::{Key, KeyNames, COLLISION_PREFIX};

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
    pub(crate) open: Vec<u8>,
    pub(crate) timestamp: bool,
    /// `"trace_id":"`, `"span_id":"`, `"parent_span_id":"`, each empty when omitted.
    pub(crate) id_opens: [Vec<u8>; 3],
    pub(crate) statics_rendered: Vec<(String, Vec<u8>)>,
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

impl Format {
    /// Gives the configuration a new id, so that plans cached for the old one are not used.
    pub(crate) fn touch(&mut self) {
        self.id = ids::next_id().get();
    }

    /// Re-renders the fixed parts after a setting changed.
    pub(crate) fn prepare(&mut self) {
        self.touch();
        for (i, level) in LEVELS.iter().enumerate() {
            let mut v = Vec::new();
            if let Some(k) = self.keys.get(Key::Level) {
                v.extend_from_slice(k);
                json::write_str(&mut v, level.as_str());
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

/// What follows the timestamp's digits up to `msg`: `",` (when the timestamp is written),
/// `"level":"…",` and `"target":"…",`.
pub(crate) fn write_head(line: &mut Vec<u8>, fmt: &Format, meta: &Metadata<'_>) {
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
pub(crate) fn write_tail(line: &mut Vec<u8>, fmt: &Format, meta: &Metadata<'_>, thread: &[u8]) {
    write_site(line, &fmt.keys, meta);
    if let Some(k) = fmt.keys.get(Key::Thread) {
        line.extend_from_slice(k);
        line.extend_from_slice(thread);
        line.push(b',');
    }
    line.extend_from_slice(&fmt.fixed_tail);
}

/// `"file":"…","line":…,"module":"…",` (each when known and in use).
pub(crate) fn write_site(line: &mut Vec<u8>, keys: &KeyNames, meta: &Metadata<'_>) {
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

/// Appends the `trace_id`, `span_id` and `parent_span_id` entries (those not omitted) of
/// `ids` (trace id, span id, parent span id).
pub(crate) fn write_ids(line: &mut Vec<u8>, fmt: &Format, ids: (TraceId, SpanId, Option<SpanId>)) {
    let (trace_id, span_id, parent) = ids;
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
pub(crate) fn write_hex<const N: usize, const M: usize>(line: &mut Vec<u8>, bytes: &[u8; N]) {
    let mut buf = [0u8; M];
    for (pair, &b) in buf.chunks_exact_mut(2).zip(bytes) {
        pair.copy_from_slice(&HEX_PAIRS[usize::from(b)]);
    }
    buf[M - 2] = b'"';
    buf[M - 1] = b',';
    line.extend_from_slice(&buf);
}
