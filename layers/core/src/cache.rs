//! What a layer decides once per call site, remembered per thread: one cache type and one
//! hasher for every taskwire layer.
//!
//! A layer that turns a call site's static metadata into something it reuses (the JSON layer's
//! key plan, the tickets layer's fingerprint group, a redaction decision per field name) keeps
//! the answer in a [`SiteCache`] inside a `thread_local!`, keyed by a [`SiteKey`]: the layer's
//! own id (from [`ids::next_id`](crate::ids::next_id), renewed when its configuration changes)
//! and the address of the call site's `&'static Metadata`. Per thread means no lock and no
//! atomic on a hit; a hit is one hash of two integers and one probe, and never allocates.
//!
//! The size is bounded: when a thread's cache holds `max` entries and a new key arrives, the
//! cache is emptied and refilled on demand. Call sites are static, so reaching the bound takes
//! thousands of them, or layers built and dropped at run time (each with a new id).
//!
//! ```
//! use std::cell::RefCell;
//! use taskwire_core::cache::{self, SiteCache, SiteKey};
//!
//! thread_local! {
//!     static FIELD_COUNTS: RefCell<SiteCache<SiteKey, usize>> =
//!         const { RefCell::new(SiteCache::new(1024)) };
//! }
//!
//! fn field_count(layer: u64, meta: &'static tracing_core::Metadata<'static>) -> usize {
//!     cache::with_entry(&FIELD_COUNTS, SiteKey::new(layer, meta), || meta.fields().len(), |n| *n)
//! }
//! # struct Cs;
//! # impl tracing_core::Callsite for Cs {
//! #     fn set_interest(&self, _: tracing_core::Interest) {}
//! #     fn metadata(&self) -> &tracing_core::Metadata<'_> { &META }
//! # }
//! # static CS: Cs = Cs;
//! # static META: tracing_core::Metadata<'static> = tracing_core::metadata! {
//! #     name: "e", target: "t", level: tracing_core::Level::INFO, fields: &["a", "b"],
//! #     callsite: &CS, kind: tracing_core::metadata::Kind::EVENT,
//! # };
//! assert_eq!(field_count(1, &META), 2);
//! assert_eq!(field_count(1, &META), 2); // from the cache
//! ```

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::thread::LocalKey;

use tracing_core::Metadata;

/// FxHash: one rotate, xor and multiply per word. For keys that are ids, addresses or hashes
/// already (not for keys an attacker chooses: it has no seed).
///
/// ```
/// use std::hash::{BuildHasher, Hash, Hasher};
/// use taskwire_core::cache::FastBuild;
/// let a = FastBuild::default().hash_one((1_u64, 0x1000_usize));
/// let b = FastBuild::default().hash_one((1_u64, 0x1008_usize));
/// assert_ne!(a, b);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct FastHasher(u64);

/// The multiplier of FxHash (rustc's hasher).
const SEED: u64 = 0x517c_c1b7_2722_0a95;

impl FastHasher {
    #[inline]
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(SEED);
    }
}

impl Hasher for FastHasher {
    /// Eight bytes at a time, the tail packed into one last word.
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            self.add(u64::from_le_bytes(w));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut w = [0u8; 8];
            w[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(w));
        }
    }
    #[inline]
    fn write_u8(&mut self, v: u8) {
        self.add(u64::from(v));
    }
    #[inline]
    fn write_u32(&mut self, v: u32) {
        self.add(u64::from(v));
    }
    #[inline]
    fn write_u64(&mut self, v: u64) {
        self.add(v);
    }
    #[inline]
    fn write_u128(&mut self, v: u128) {
        self.add(v as u64);
        self.add((v >> 64) as u64);
    }
    #[inline]
    fn write_usize(&mut self, v: usize) {
        self.add(v as u64);
    }
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
}

/// The `BuildHasher` of [`FastHasher`].
pub type FastBuild = BuildHasherDefault<FastHasher>;

/// A `HashMap` hashed with [`FastHasher`].
pub type FastMap<K, V> = HashMap<K, V, FastBuild>;

/// A one-bit signature of a key, from its length and its first and last bytes: two keys with
/// different signatures differ, so a set of keys summarised as the OR of their signatures
/// clears most other keys without comparing strings. Computed once per call site field, it
/// lets a layer tell per event whether a key was already written.
///
/// ```
/// use taskwire_core::cache::{name_signature, signature};
/// assert_eq!(name_signature("user_id"), signature(7, b'u', b'd'));
/// let seen = name_signature("user_id") | name_signature("ratio");
/// assert_ne!(seen & name_signature("user_id"), 0);
/// ```
#[inline]
pub fn signature(len: usize, first: u8, last: u8) -> u64 {
    let h = (len as u32).wrapping_mul(0x9e37_79b1)
        ^ u32::from(first).wrapping_mul(0x85eb_ca77)
        ^ u32::from(last).wrapping_mul(0xc2b2_ae3d);
    1 << (h >> 26)
}

/// The [`signature`] of `name`.
#[inline]
pub fn name_signature(name: &str) -> u64 {
    let b = name.as_bytes();
    signature(
        b.len(),
        b.first().copied().unwrap_or(0),
        b.last().copied().unwrap_or(0),
    )
}

/// A call site as one layer sees it: the layer's id and the address of the call site's
/// static metadata (one per call site, like `tracing_core::callsite::Identifier`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SiteKey {
    owner: u64,
    site: usize,
}

impl SiteKey {
    /// The key of `meta`'s call site for the layer (or configuration) `owner`.
    #[inline]
    pub fn new(owner: u64, meta: &'static Metadata<'static>) -> SiteKey {
        SiteKey {
            owner,
            site: std::ptr::from_ref(meta) as usize,
        }
    }
}

/// A bounded map of per-call-site answers, meant to live in a `thread_local!` (see the
/// [module docs](self)). A hit never allocates; a miss inserts, after emptying the map when it
/// holds `max` entries.
#[derive(Debug)]
pub struct SiteCache<K, V> {
    map: FastMap<K, V>,
    max: usize,
}

/// What a [`SiteCache`] holds at most by default ([`SiteCache::default`]): thousands of call
/// sites, or of layers built and dropped at run time (each with a new id), reach it.
pub const DEFAULT_MAX_ENTRIES: usize = 4096;

impl<K, V> Default for SiteCache<K, V> {
    /// An empty cache of at most [`DEFAULT_MAX_ENTRIES`] entries.
    ///
    /// ```
    /// use taskwire_core::cache::{SiteCache, SiteKey};
    /// let cache: SiteCache<SiteKey, u32> = SiteCache::default();
    /// assert!(cache.is_empty());
    /// ```
    fn default() -> Self {
        SiteCache::new(DEFAULT_MAX_ENTRIES)
    }
}

impl<K, V> SiteCache<K, V> {
    /// An empty cache that holds at most `max` entries (at least one). Allocates nothing
    /// until the first insert, so it can initialise a `const` thread-local.
    pub const fn new(max: usize) -> Self {
        SiteCache {
            map: HashMap::with_hasher(BuildHasherDefault::new()),
            max: if max == 0 { 1 } else { max },
        }
    }

    /// How many entries it holds.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether it holds nothing.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Forgets every entry (keeps the memory).
    pub fn clear(&mut self) {
        self.map.clear();
    }
}

impl<K: Eq + Hash, V> SiteCache<K, V> {
    /// The entry of `key`, made by `make` on a miss.
    #[inline]
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &V {
        if self.map.len() >= self.max && !self.map.contains_key(&key) {
            self.map.clear();
        }
        self.map.entry(key).or_insert_with(make)
    }

    /// The entry of `key`, if cached.
    #[inline]
    pub fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }
}

/// Runs `f` on the entry of `key` in this thread's `cache`, made by `make` on a miss.
///
/// When the thread's cache cannot be used (`f` or `make` raised an event that came back here,
/// or the thread-local is gone because a destructor is running) the value is made afresh for
/// this one call: the answer is the same, only slower.
#[inline]
pub fn with_entry<K, V, R>(
    cache: &'static LocalKey<RefCell<SiteCache<K, V>>>,
    key: K,
    make: impl FnOnce() -> V,
    f: impl FnOnce(&V) -> R,
) -> R
where
    K: Eq + Hash,
{
    let mut make = Some(make);
    let mut f = Some(f);
    let done = cache
        .try_with(|c| {
            let mut c = c.try_borrow_mut().ok()?;
            // A hit: one probe, nothing moved.
            if let Some(v) = c.map.get(&key) {
                return Some(f.take()?(v));
            }
            let (make, f) = (make.take()?, f.take()?);
            Some(f(c.get_or_insert_with(key, make)))
        })
        .ok()
        .flatten();
    match (done, make, f) {
        (Some(r), _, _) => r,
        (None, Some(make), Some(f)) => f(&make()),
        // `f` is taken only right before it runs to completion.
        (None, _, _) => unreachable!("cache closures ran without a result"),
    }
}

/// The last answer per call site, for a layer that asks on every span or event: a small
/// direct-mapped table, meant to live in a `thread_local!` in front of (or instead of) a
/// [`SiteCache`]. Each of its `N` slots holds one call site (by metadata address) with its
/// owner and answer; a hit is one load and two compares, and a call site that shares a slot
/// with another one is simply answered again.
///
/// ```
/// use taskwire_core::cache::{self, SiteSlots};
///
/// thread_local! {
///     static FIELD_COUNTS: SiteSlots<usize, 64> = const { SiteSlots::new() };
/// }
///
/// fn field_count(layer: u64, meta: &'static tracing_core::Metadata<'static>) -> usize {
///     cache::with_slot(&FIELD_COUNTS, layer, meta, || meta.fields().len())
/// }
/// # struct Cs;
/// # impl tracing_core::Callsite for Cs {
/// #     fn set_interest(&self, _: tracing_core::Interest) {}
/// #     fn metadata(&self) -> &tracing_core::Metadata<'_> { &META }
/// # }
/// # static CS: Cs = Cs;
/// # static META: tracing_core::Metadata<'static> = tracing_core::metadata! {
/// #     name: "e", target: "t", level: tracing_core::Level::INFO, fields: &["a", "b"],
/// #     callsite: &CS, kind: tracing_core::metadata::Kind::EVENT,
/// # };
/// assert_eq!(field_count(1, &META), 2);
/// assert_eq!(field_count(1, &META), 2); // from the slot
/// ```
#[derive(Debug)]
pub struct SiteSlots<V: Copy, const N: usize> {
    slots: [Slot<V>; N],
}

/// One slot of a [`SiteSlots`]: the call site's address, its owner, the answer.
type Slot<V> = std::cell::Cell<Option<(usize, u64, V)>>;

impl<V: Copy, const N: usize> SiteSlots<V, N> {
    /// An empty table, for a `const` thread-local.
    pub const fn new() -> Self {
        SiteSlots {
            slots: [const { std::cell::Cell::new(None) }; N],
        }
    }

    #[inline]
    fn slot(&self, site: usize) -> Option<&Slot<V>> {
        // Metadata is aligned to 8 bytes: the low bits say nothing.
        self.slots.get((site >> 3) % N.max(1))
    }
}

impl<V: Copy, const N: usize> Default for SiteSlots<V, N> {
    fn default() -> Self {
        SiteSlots::new()
    }
}

/// The answer for `meta`'s call site as `owner` sees it, from this thread's `table`, or made
/// by `make` and kept there.
#[inline]
pub fn with_slot<V: Copy, const N: usize>(
    table: &'static LocalKey<SiteSlots<V, N>>,
    owner: u64,
    meta: &'static Metadata<'static>,
    make: impl FnOnce() -> V,
) -> V {
    let site = std::ptr::from_ref(meta) as usize;
    let kept = table
        .try_with(|t| t.slot(site).and_then(std::cell::Cell::get))
        .ok()
        .flatten();
    if let Some((s, o, v)) = kept {
        if s == site && o == owner {
            return v;
        }
    }
    let v = make();
    let _ = table.try_with(|t| {
        if let Some(c) = t.slot(site) {
            c.set(Some((site, owner, v)));
        }
    });
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    thread_local! {
        static SMALL: RefCell<SiteCache<u64, String>> = const { RefCell::new(SiteCache::new(2)) };
        static MADE: Cell<u32> = const { Cell::new(0) };
    }

    fn lookup(k: u64) -> String {
        with_entry(
            &SMALL,
            k,
            || {
                MADE.with(|m| m.set(m.get() + 1));
                format!("v{k}")
            },
            String::clone,
        )
    }

    #[test]
    fn a_hit_does_not_make_again() {
        MADE.with(|m| m.set(0));
        assert_eq!(lookup(1), "v1");
        assert_eq!(lookup(1), "v1");
        assert_eq!(MADE.with(Cell::get), 1);
    }

    #[test]
    fn the_bound_empties_the_cache_and_the_answers_stay_right() {
        MADE.with(|m| m.set(0));
        SMALL.with(|c| c.borrow_mut().clear());
        for k in [1, 2, 3, 1, 2, 3] {
            assert_eq!(lookup(k), format!("v{k}"));
        }
        assert!(SMALL.with(|c| c.borrow().len()) <= 2);
        // 3 evicts {1, 2}; 1 evicts {3}... every key is made again after an emptying.
        assert!(MADE.with(Cell::get) > 3);
    }

    #[test]
    fn a_reentrant_lookup_is_answered_without_the_cache() {
        let outer = with_entry(&SMALL, 7, || lookup(8), |v| format!("{v}+"));
        assert_eq!(outer, "v8+");
    }

    #[test]
    fn fast_hasher_spreads_neighbouring_addresses() {
        use std::hash::BuildHasher;
        let hashes: std::collections::HashSet<u64> = (0..1000usize)
            .map(|i| FastBuild::default().hash_one((1_u64, 0x5000 + i * 8)))
            .collect();
        assert_eq!(hashes.len(), 1000);
    }
}
