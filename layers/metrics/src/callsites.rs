//! What the layer resolves once per call site: the span's name and target, which allow-listed
//! fields it declares (and so which labels its series have), whether it needs its field values
//! at all, and the series it records into when its labels are fixed.
//!
//! Call sites live in an append-only table indexed by a `u32` that each span keeps in its
//! extensions; a span finds its call site's index through taskwire-core's per-thread
//! [`SiteCache`], keyed by the table's id and its `Metadata` address, and falls back to a
//! locked map on a miss.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use taskwire_core::cache::{self, SiteCache, SiteKey};
use taskwire_core::{ids, schema};
use tracing_core::Metadata;

use crate::family::Entry;
use crate::series::{Counted, SpanSeries};

/// One call site, resolved.
pub(crate) struct Callsite {
    pub(crate) name: &'static str,
    pub(crate) target: &'static str,
    /// Allow-listed fields the call site declares: label name, field name.
    pub(crate) fields: Box<[(Cow<'static, str>, &'static str)]>,
    /// A name field the call site declares, if any.
    pub(crate) name_field: Option<&'static str>,
    /// Whether the call site declares `outcome`.
    pub(crate) outcome_field: bool,
    /// The span series by outcome (succeeded, failed) when labels do not depend on values.
    pub(crate) fixed: [OnceLock<Arc<Entry<SpanSeries>>>; 2],
    /// The events counter of this call site's level and target.
    pub(crate) events: OnceLock<Arc<Entry<Counted>>>,
    /// The errors counter of this call site's target.
    pub(crate) errors: OnceLock<Arc<Entry<Counted>>>,
}

impl Callsite {
    pub(crate) fn new(meta: &'static Metadata<'static>, allowed: &[(String, String)]) -> Self {
        let declared = |name: &str| meta.fields().field(name).map(|f| f.name());
        let mut fields: Vec<(Cow<'static, str>, &'static str)> = Vec::new();
        for (field, label) in allowed {
            if let Some(name) = declared(field) {
                if !fields.iter().any(|(l, _)| l == label) {
                    fields.push((Cow::Owned(label.clone()), name));
                }
            }
        }
        Callsite {
            name: meta.name(),
            target: meta.target(),
            fields: fields.into_boxed_slice(),
            name_field: schema::NAME_KEYS.iter().find_map(|n| declared(n)),
            outcome_field: declared(schema::OUTCOME).is_some(),
            fixed: [OnceLock::new(), OnceLock::new()],
            events: OnceLock::new(),
            errors: OnceLock::new(),
        }
    }

    /// Whether the series depends on field values (labels, task name).
    pub(crate) fn dynamic(&self) -> bool {
        !self.fields.is_empty() || self.name_field.is_some()
    }

    /// Whether the layer needs the span data of this call site's spans (field values, a
    /// recorded outcome) when it is the only taskwire layer.
    pub(crate) fn needs_capture(&self) -> bool {
        self.dynamic() || self.outcome_field
    }
}

const SEGMENTS: usize = 26;
const FIRST: usize = 32;

/// The call sites of one layer: append-only, read without locks.
pub(crate) struct Callsites {
    segments: [OnceLock<Box<[OnceLock<Callsite>]>>; SEGMENTS],
    by_meta: Mutex<HashMap<usize, u32>>,
    len: AtomicU32,
    /// This table's id in the per-thread cache.
    uid: u64,
}

/// Segment `k` holds indices `FIRST * (2^k - 1) .. FIRST * (2^(k+1) - 1)`.
fn locate(i: u32) -> (usize, usize) {
    let i = i as usize;
    let k = (i / FIRST + 1).ilog2() as usize;
    (k, i - FIRST * ((1 << k) - 1))
}

impl Default for Callsites {
    fn default() -> Self {
        Callsites {
            segments: std::array::from_fn(|_| OnceLock::new()),
            by_meta: Mutex::new(HashMap::new()),
            len: AtomicU32::new(0),
            uid: ids::next_id().get(),
        }
    }
}

thread_local! {
    /// Call-site indices by table and metadata address (`None`: the table is full).
    static RECENT: RefCell<SiteCache<SiteKey, Option<u32>>> =
        const { RefCell::new(SiteCache::new(1024)) };
    /// The last answer per call site ([`SiteSlots`](taskwire_core::cache::SiteSlots)).
    static LAST: taskwire_core::cache::SiteSlots<Option<u32>, LAST_SITES> =
        const { taskwire_core::cache::SiteSlots::new() };
}

/// Slots of the per-thread table [`Callsites::index`] answers from first.
const LAST_SITES: usize = 64;

impl Callsites {
    /// The index of `meta`'s call site, resolving it on first sight: answered from a small
    /// per-thread table of the last answers ([`cache::with_slot`]), else from the
    /// [`SiteCache`], else by [`Callsites::resolve`].
    #[inline]
    pub(crate) fn index(
        &self,
        meta: &'static Metadata<'static>,
        allowed: &[(String, String)],
    ) -> Option<u32> {
        cache::with_slot(&LAST, self.uid, meta, || {
            cache::with_entry(
                &RECENT,
                SiteKey::new(self.uid, meta),
                || self.resolve(meta, allowed),
                |i| *i,
            )
        })
    }

    #[cold]
    fn resolve(
        &self,
        meta: &'static Metadata<'static>,
        allowed: &[(String, String)],
    ) -> Option<u32> {
        let addr = std::ptr::from_ref(meta) as usize;
        let mut by_meta = self.by_meta.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = by_meta.get(&addr) {
            return Some(*i);
        }
        let i = self.len.load(Ordering::Relaxed);
        let (k, off) = locate(i);
        let seg = self.segments.get(k)?.get_or_init(|| {
            (0..FIRST << k)
                .map(|_| OnceLock::new())
                .collect::<Vec<_>>()
                .into_boxed_slice()
        });
        let _ = seg[off].set(Callsite::new(meta, allowed));
        self.len.store(i + 1, Ordering::Release);
        by_meta.insert(addr, i);
        Some(i)
    }

    /// This table's id, unique in the process.
    pub(crate) fn uid(&self) -> u64 {
        self.uid
    }

    /// The call site at `i`.
    #[inline]
    pub(crate) fn get(&self, i: u32) -> Option<&Callsite> {
        let (k, off) = locate(i);
        self.segments.get(k)?.get()?.get(off)?.get()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_tile_the_indices() {
        assert_eq!(locate(0), (0, 0));
        assert_eq!(locate(31), (0, 31));
        assert_eq!(locate(32), (1, 0));
        assert_eq!(locate(95), (1, 63));
        assert_eq!(locate(96), (2, 0));
    }
}
