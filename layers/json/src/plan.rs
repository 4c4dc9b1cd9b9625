//! What is decided once per call site (and layer configuration) about its fields, kept per
//! thread in a [`SiteCache`]: the keys as written, collisions, redaction, duplicates.

use taskwire_core::cache::{SiteCache, SiteKey};
use taskwire_core::schema::{self, task_record};
use taskwire_core::{json, Redactor};
use tracing_core::Metadata;

use crate::format::{write_head, write_tail, Format};
use crate::keys::{name_signature, signature, KeyNames, COLLISION_PREFIX};

/// A user key as written: its field name, and whether the collision prefix was added.
#[derive(Clone, Copy)]
pub(crate) struct OutKey {
    pub(crate) name: &'static str,
    pub(crate) prefixed: bool,
}

impl OutKey {
    pub(crate) fn same_as(self, other: OutKey) -> bool {
        match (self.prefixed, other.prefixed) {
            (a, b) if a == b => self.name == other.name,
            (true, false) => other.name.strip_prefix(COLLISION_PREFIX) == Some(self.name),
            _ => self.name.strip_prefix(COLLISION_PREFIX) == Some(other.name),
        }
    }

    /// The [`signature`] of the key as written.
    #[inline]
    pub(crate) fn sig(self) -> u64 {
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

    pub(crate) fn matches_str(self, s: &str) -> bool {
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
pub(crate) struct Plan {
    /// The fields' keys as written (`"name":` or `"fields.name":`), one after the other.
    pub(crate) keys: Box<[u8]>,
    /// By field index.
    pub(crate) fields: Box<[FieldPlan]>,
    /// Whether the callsite has a field named `message`.
    pub(crate) has_message: bool,
    /// Whether the callsite is a task record's: its own fields keep the reserved task keys,
    /// and its location is the task span's.
    pub(crate) task_record: bool,
    /// What follows the timestamp up to `msg` (`",` closing it, `"level":…,"target":…,`), and
    /// everything from `file` up to the static fields (`"file":…,"line":…,"module":…,`,
    /// `"thread":…,`, pid, host, service, release), joined once: they are fixed for a callsite
    /// on a thread (plans are per thread). Not used for bridged `log` records, whose metadata
    /// changes from record to record.
    pub(crate) head: Box<[u8]>,
    pub(crate) tail: Box<[u8]>,
}

pub(crate) struct FieldPlan {
    pub(crate) out: OutKey,
    pub(crate) sig: u64,
    pub(crate) key_start: u32,
    pub(crate) key_end: u32,
    /// Bit `j`: field `j` of the callsite is written under the same key; whichever is recorded
    /// first wins.
    pub(crate) dups: u64,
    pub(crate) sensitive: bool,
    /// Named `log.*`: the `log` bridge's metadata, skipped in bridged records.
    pub(crate) log_meta: bool,
    pub(crate) is_message: bool,
}

/// Callsites with more fields than this are rendered without a plan.
pub(crate) const PLAN_MAX_FIELDS: usize = 64;

impl Plan {
    pub(crate) fn new(
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
                is_message: name == schema::MESSAGE,
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

/// Plans by (layer configuration id, callsite), per thread.
pub(crate) type Plans<P = Plan> = SiteCache<SiteKey, P>;

/// The keys of a span callsite's fields as written in flattened mode (`"name":` or
/// `"fields.name":`), decided once per span callsite and layer configuration.
pub(crate) struct SpanPlan {
    pub(crate) keys: Box<[u8]>,
    pub(crate) fields: Box<[SpanFieldPlan]>,
}

pub(crate) struct SpanFieldPlan {
    /// The field's name, matched by address: captured span fields carry the `&'static str`
    /// of their callsite's field set.
    pub(crate) name: &'static str,
    pub(crate) out: OutKey,
    pub(crate) sig: u64,
    pub(crate) key_start: u32,
    pub(crate) key_end: u32,
}

impl SpanPlan {
    pub(crate) fn new(keys_in_use: &KeyNames, meta: &'static Metadata<'static>) -> SpanPlan {
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

    /// The plan of the field named by this very `&'static str`, looked for at `hint` (where
    /// it is when the span's fields are in call-site order) first.
    #[inline]
    pub(crate) fn find(&self, name: &str, hint: usize) -> Option<&SpanFieldPlan> {
        let is = |f: &&SpanFieldPlan| {
            std::ptr::eq(f.name.as_ptr(), name.as_ptr()) && f.name.len() == name.len()
        };
        self.fields
            .get(hint)
            .filter(is)
            .or_else(|| self.fields.iter().find(is))
    }
}

/// The flattened-mode key plan for spans of `meta` under `fmt`, built on first use.
#[inline]
pub(crate) fn span_plan_for<'p>(
    plans: &'p mut Plans<SpanPlan>,
    fmt: &Format,
    meta: &'static Metadata<'static>,
) -> &'p SpanPlan {
    plans.get_or_insert_with(SiteKey::new(fmt.id, meta), || {
        SpanPlan::new(&fmt.keys, meta)
    })
}

/// The plan for events of `meta` under `fmt`, built on first use.
#[inline]
pub(crate) fn plan_for<'p>(
    plans: &'p mut Plans,
    fmt: &Format,
    redactor: &Redactor,
    meta: &'static Metadata<'static>,
    thread: &[u8],
) -> Option<&'p Plan> {
    if meta.fields().len() > PLAN_MAX_FIELDS {
        return None;
    }
    Some(plans.get_or_insert_with(SiteKey::new(fmt.id, meta), || {
        Plan::new(fmt, redactor, meta, thread)
    }))
}

#[inline]
pub(crate) fn write_key(line: &mut Vec<u8>, k: OutKey) {
    line.push(b'"');
    if k.prefixed {
        line.extend_from_slice(COLLISION_PREFIX.as_bytes());
    }
    json::write_str_contents(line, k.name);
    line.extend_from_slice(b"\":");
}
