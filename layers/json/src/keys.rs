//! The built-in keys of a JSON record, their names, and the rule for user fields that collide
//! with them.

use taskwire_core::json;
use taskwire_core::schema::{header, task_record};

/// A user field whose key equals a built-in key in use is written under this prefix:
/// a field `level` becomes `fields.level`.
pub const COLLISION_PREFIX: &str = "fields.";

/// A built-in key of the record. Each can be renamed or omitted.
///
/// ```
/// use taskwire_json::Key;
/// assert_eq!(Key::Message.default_name(), "msg");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Key {
    /// `ts`: RFC 3339 UTC timestamp with microseconds.
    Timestamp,
    /// `level`: `TRACE`, `DEBUG`, `INFO`, `WARN` or `ERROR`.
    Level,
    /// `target`: the event's target (for `log` records, the logger's target).
    Target,
    /// `msg`: the event's message (empty string when it has none).
    Message,
    /// `trace_id`: 32 lowercase hex digits, when inside a span.
    TraceId,
    /// `span_id`: 16 lowercase hex digits of the innermost span, when inside a span.
    SpanId,
    /// `parent_span_id`: the innermost span's parent, when it has one.
    ParentSpanId,
    /// `spans`: the list of enclosing spans, in span-list mode only.
    Spans,
    /// `file`: source file of the call site.
    File,
    /// `line`: source line of the call site.
    Line,
    /// `module`: module path of the call site.
    Module,
    /// `thread`: the thread's name, or `ThreadId(N)`.
    Thread,
    /// `pid`: the process id.
    Pid,
    /// `host`: the host name.
    Host,
    /// `service`: the service name, when configured.
    Service,
    /// `release`: the release (version), when configured.
    Release,
}

impl Key {
    /// Every key, in record order.
    pub const ALL: [Key; 16] = [
        Key::Timestamp,
        Key::Level,
        Key::Target,
        Key::Message,
        Key::TraceId,
        Key::SpanId,
        Key::ParentSpanId,
        Key::Spans,
        Key::File,
        Key::Line,
        Key::Module,
        Key::Thread,
        Key::Pid,
        Key::Host,
        Key::Service,
        Key::Release,
    ];

    /// The key's name unless renamed.
    pub const fn default_name(self) -> &'static str {
        match self {
            Key::Timestamp => header::TIMESTAMP,
            Key::Level => header::LEVEL,
            Key::Target => header::TARGET,
            Key::Message => header::MESSAGE,
            Key::TraceId => header::TRACE_ID,
            Key::SpanId => header::SPAN_ID,
            Key::ParentSpanId => header::PARENT_SPAN_ID,
            Key::Spans => header::SPANS,
            Key::File => header::FILE,
            Key::Line => header::LINE,
            Key::Module => header::MODULE,
            Key::Thread => header::THREAD,
            Key::Pid => header::PID,
            Key::Host => header::HOST,
            Key::Service => header::SERVICE,
            Key::Release => header::RELEASE,
        }
    }

    fn index(self) -> usize {
        // ALL is in declaration order.
        self as usize
    }
}

pub(crate) use taskwire_core::cache::{name_signature, signature};

/// The names in use for the built-in keys, pre-rendered as `"name":`.
#[derive(Clone, Debug)]
pub(crate) struct KeyNames {
    names: [Option<Box<str>>; 16],
    rendered: [Box<[u8]>; 16],
    /// The OR of the [`signature`]s of the keys in use, without `spans` (flattened mode) and
    /// with it (span-list mode): most user fields are cleared of colliding by these alone.
    sig_flat: u64,
    sig_nested: u64,
}

impl Default for KeyNames {
    fn default() -> Self {
        let mut k = KeyNames {
            names: Key::ALL.map(|k| Some(Box::from(k.default_name()))),
            rendered: Key::ALL.map(|_| Box::from(&b""[..])),
            sig_flat: 0,
            sig_nested: 0,
        };
        k.refresh();
        k
    }
}

impl KeyNames {
    pub(crate) fn rename(&mut self, key: Key, name: &str) {
        // A built-in already using the name gives it up (it is omitted): keys never repeat.
        for n in self.names.iter_mut() {
            if n.as_deref() == Some(name) {
                *n = None;
            }
        }
        self.names[key.index()] = Some(name.into());
        self.refresh();
    }

    pub(crate) fn omit(&mut self, key: Key) {
        self.names[key.index()] = None;
        self.refresh();
    }

    fn refresh(&mut self) {
        // The keys of task records are reserved in every record (they are not renamed or
        // omitted with the built-in keys: they belong to the tasks layer's records).
        let reserved = task_record::RESERVED_KEYS
            .iter()
            .fold(0, |sig, k| sig | name_signature(k));
        self.sig_flat = reserved;
        self.sig_nested = reserved;
        for (i, n) in self.names.iter().enumerate() {
            let mut r = Vec::new();
            if let Some(n) = n {
                json::write_str(&mut r, n);
                r.push(b':');
                let sig = name_signature(n);
                self.sig_nested |= sig;
                if i != Key::Spans.index() {
                    self.sig_flat |= sig;
                }
            }
            self.rendered[i] = r.into_boxed_slice();
        }
    }

    /// `"name":`, or `None` when the key is omitted.
    #[inline]
    pub(crate) fn get(&self, key: Key) -> Option<&[u8]> {
        let r = &self.rendered[key.index()];
        (!r.is_empty()).then_some(&**r)
    }

    /// Whether a user field named `name` collides with a built-in key in use, or with a key
    /// reserved for task records (`task.outcome`, …).
    #[inline]
    pub(crate) fn collides(&self, name: &str, spans_nested: bool) -> bool {
        let sigs = if spans_nested {
            self.sig_nested
        } else {
            self.sig_flat
        };
        if sigs & name_signature(name) == 0 {
            return false;
        }
        task_record::is_reserved_key(name)
            || self.names.iter().enumerate().any(|(i, n)| {
                // `spans` is a key only in span-list mode.
                (spans_nested || i != Key::Spans.index()) && n.as_deref() == Some(name)
            })
    }
}
