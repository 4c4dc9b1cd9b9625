//! What is decided once per call site (and layer configuration), kept per thread in a
//! [`SiteCache`]: each field's key as written (separator, colour, escaped name), whether its
//! value is redacted, what role it plays (message, a task record's own keys), and the level and
//! target that follow the time. The JSON layer keeps the same kind of plan
//! (`layers/json/src/plan.rs`); the two differ in what they decide, not in how they cache it.
//!
//! Measured with callgrind on the console benchmark's event: deciding a key per event (escaping
//! the name, asking the redactor's per-thread cache) cost about 300 instructions a field; a
//! planned key is one copy.

use taskwire_core::cache::{name_signature, SiteCache, SiteKey};
use taskwire_core::schema::{self, task_record};
use taskwire_core::Redactor;
use tracing_core::Metadata;

use crate::color::{self, Paint};
use crate::settings::{Settings, Style};
use crate::text::put;

/// Plans by (layer configuration id, call site), per thread.
pub(crate) type Plans<P> = SiteCache<SiteKey, P>;

/// What a field of an event's call site is to the line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Role {
    /// Written as `key=value`.
    Field,
    /// `message`: the line's message when it is a string or `Debug` value, else a field.
    Message,
    /// A task record's duration, read from a `u64`.
    Duration,
    /// A task record's outcome, read from a string.
    Outcome,
    /// A task record's failure reason, read from a string.
    Failure,
    /// A task record's other reserved keys and the task name keys: not written.
    Skip,
}

/// One field of an event call site.
#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldPlan {
    pub(crate) role: Role,
    pub(crate) sensitive: bool,
    /// Named `log.*`: the `log` bridge's metadata, not written in bridged records.
    pub(crate) log_meta: bool,
    /// The name's [`name_signature`].
    pub(crate) sig: u64,
}

impl FieldPlan {
    /// The decisions for field `name` of a call site (a task record's, or not).
    pub(crate) fn decide(name: &'static str, task: bool, redactor: &Redactor) -> FieldPlan {
        let role = if name == schema::MESSAGE {
            Role::Message
        } else if !task {
            Role::Field
        } else {
            match name {
                task_record::keys::DURATION_US => Role::Duration,
                task_record::keys::OUTCOME => Role::Outcome,
                task_record::keys::FAILURE => Role::Failure,
                n if task_record::is_reserved_key(n) || schema::NAME_KEYS.contains(&n) => {
                    Role::Skip
                }
                _ => Role::Field,
            }
        };
        FieldPlan {
            role,
            sensitive: redactor.is_sensitive_field(name),
            log_meta: name.starts_with("log."),
            sig: name_signature(name),
        }
    }

    /// Whether the field is left out of the line's fields (it may still be read).
    #[inline]
    pub(crate) fn skipped(self, is_log: bool) -> bool {
        matches!(
            self.role,
            Role::Duration | Role::Outcome | Role::Failure | Role::Skip
        ) || (is_log && self.log_meta)
    }
}

/// The separator before a field and between its key and value, by style.
#[inline]
pub(crate) fn separators(style: Style) -> (&'static [u8], &'static [u8]) {
    match style {
        // In pretty lines every field starts with a newline, which becomes the field line's
        // indentation when the line is assembled (escaped values hold no newline of their own).
        Style::Pretty => (b"\n", b": "),
        Style::Compact => (b" ", b"="),
    }
}

/// Appends `sep`, then the key (dimmed) and `kv`.
#[inline]
pub(crate) fn write_key(out: &mut Vec<u8>, set: &Settings, name: &str) {
    let (sep, kv) = separators(set.style);
    let p = Paint(set.ansi);
    out.extend_from_slice(sep);
    out.extend_from_slice(p.on(color::DIM));
    put(out, name);
    out.extend_from_slice(kv);
    out.extend_from_slice(p.reset());
}

/// Appends the level (coloured, five columns) and, when shown, the target: what follows the
/// time on an event's line.
pub(crate) fn write_head(out: &mut Vec<u8>, set: &Settings, meta: &Metadata<'_>) {
    let p = Paint(set.ansi);
    let level = meta.level();
    out.extend_from_slice(p.on(level_color(level)));
    out.extend_from_slice(level_text(level));
    out.extend_from_slice(p.reset());
    if set.target {
        out.push(b' ');
        out.extend_from_slice(p.on(color::DIM));
        put(out, meta.target());
        out.push(b':');
        out.extend_from_slice(p.reset());
    }
}

/// The level, padded to five columns as `taskwire tail` writes it.
#[inline]
fn level_text(level: &tracing_core::Level) -> &'static [u8] {
    use tracing_core::Level;
    match *level {
        Level::ERROR => b"ERROR",
        Level::WARN => b"WARN ",
        Level::INFO => b"INFO ",
        Level::DEBUG => b"DEBUG",
        _ => b"TRACE",
    }
}

#[inline]
fn level_color(level: &tracing_core::Level) -> &'static [u8] {
    use tracing_core::Level;
    match *level {
        Level::ERROR => color::BOLD_RED,
        Level::WARN => color::YELLOW,
        Level::INFO => color::GREEN,
        Level::DEBUG => color::BLUE,
        _ => color::MAGENTA,
    }
}

/// The keys of a call site's fields as written ([`write_key`]), back to back, by field index.
struct Keys {
    bytes: Box<[u8]>,
    ends: Box<[u32]>,
}

impl Keys {
    fn of(set: &Settings, meta: &'static Metadata<'static>) -> Keys {
        let mut bytes = Vec::new();
        let ends = meta
            .fields()
            .iter()
            .map(|field| {
                write_key(&mut bytes, set, field.name());
                u32::try_from(bytes.len()).unwrap_or(u32::MAX)
            })
            .collect();
        Keys {
            bytes: bytes.into_boxed_slice(),
            ends,
        }
    }

    /// The key of field `index`.
    #[inline]
    fn get(&self, index: usize) -> &[u8] {
        let start = match index.checked_sub(1) {
            Some(i) => self.ends.get(i).copied().unwrap_or(0),
            None => 0,
        };
        let end = self.ends.get(index).copied().unwrap_or(start);
        self.bytes
            .get(start as usize..end as usize)
            .unwrap_or_default()
    }
}

/// The plan of an event call site.
pub(crate) struct Plan {
    keys: Keys,
    /// By field index.
    fields: Box<[FieldPlan]>,
    /// The level and target ([`write_head`]); not used for bridged `log` records, whose
    /// metadata changes from record to record.
    pub(crate) head: Box<[u8]>,
    /// Whether the call site is a task record's.
    pub(crate) task_record: bool,
}

impl Plan {
    fn new(set: &Settings, redactor: &Redactor, meta: &'static Metadata<'static>) -> Plan {
        let task = task_record::is_record(meta);
        let fields = meta
            .fields()
            .iter()
            .map(|field| FieldPlan::decide(field.name(), task, redactor))
            .collect();
        let mut head = Vec::new();
        write_head(&mut head, set, meta);
        Plan {
            keys: Keys::of(set, meta),
            fields,
            head: head.into_boxed_slice(),
            task_record: task,
        }
    }

    /// The plan of the field at `index`.
    #[inline]
    pub(crate) fn field(&self, index: usize) -> Option<(FieldPlan, &[u8])> {
        let f = *self.fields.get(index)?;
        Some((f, self.keys.get(index)))
    }
}

/// The plan of a span call site: its name (escaped) and its fields' keys as written, found by
/// the address of the field's name (captured span fields carry the `&'static str` of their
/// call site's field set).
pub(crate) struct SpanPlan {
    pub(crate) name: Box<[u8]>,
    keys: Keys,
    /// The fields by index.
    fields: Box<[SpanField]>,
}

struct SpanField {
    name: &'static str,
    /// `task.name` and `otel.name` are shown in the path instead.
    shown: bool,
    sig: u64,
}

impl SpanPlan {
    fn new(set: &Settings, meta: &'static Metadata<'static>) -> SpanPlan {
        let mut name = Vec::new();
        put(&mut name, meta.name());
        SpanPlan {
            name: name.into_boxed_slice(),
            keys: Keys::of(set, meta),
            fields: meta
                .fields()
                .iter()
                .map(|f| SpanField {
                    name: f.name(),
                    shown: !schema::NAME_KEYS.contains(&f.name()),
                    sig: name_signature(f.name()),
                })
                .collect(),
        }
    }

    /// The key as written of the field named by this very `&'static str`, and the name's
    /// [`name_signature`]: `Some(None)` when the field is not written, `None` when the call
    /// site does not declare it.
    #[inline]
    pub(crate) fn key(&self, name: &str) -> Option<Option<(&[u8], u64)>> {
        let index = self.fields.iter().position(|f| {
            std::ptr::eq(f.name.as_ptr(), name.as_ptr()) && f.name.len() == name.len()
        })?;
        let f = self.fields.get(index)?;
        Some(f.shown.then(|| (self.keys.get(index), f.sig)))
    }
}

/// The plan for events of `meta` under `set`, built on first use.
#[inline]
pub(crate) fn plan_for<'p>(
    plans: &'p mut Plans<Plan>,
    set: &Settings,
    redactor: &Redactor,
    meta: &'static Metadata<'static>,
) -> &'p Plan {
    plans.get_or_insert_with(SiteKey::new(set.id, meta), || {
        Plan::new(set, redactor, meta)
    })
}

/// The plan for spans of `meta` under `set`, built on first use.
#[inline]
pub(crate) fn span_plan_for<'p>(
    plans: &'p mut Plans<SpanPlan>,
    set: &Settings,
    meta: &'static Metadata<'static>,
) -> &'p SpanPlan {
    plans.get_or_insert_with(SiteKey::new(set.id, meta), || SpanPlan::new(set, meta))
}
