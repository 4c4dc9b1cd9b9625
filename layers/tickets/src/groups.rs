//! The hot path's memory: one [`Group`] per fingerprint, holding striped atomic counters that
//! the writer thread collects as deltas.
//!
//! An event bumps a counter in the stripe of its thread (each stripe on its own cache line, so
//! threads hitting one call site do not fight over a line), sets the group's dirty flag, and
//! goes on. The writer swaps every dirty group's counters to zero and writes the sums, so no
//! count is ever lost, whatever happens to samples.
//!
//! Groups of call sites whose fingerprint is fixed are also cached per thread, keyed by layer
//! and call site: such an event takes no lock at all. Other groups are found in a sharded map
//! under a read lock. Groups of the map that nothing else references and that stayed idle for a
//! while are evicted by the writer (under the shard's write lock, so no bump can race it).

use std::cell::RefCell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use taskwire_core::cache::{self, FastMap, SiteCache, SiteKey};
use taskwire_core::ids::Sequence;
use tracing_core::Metadata;

use crate::store::TicketSeed;
use crate::tags::TagCounts;

/// Stripes per group: enough for the cores of a typical service box.
const STRIPES: usize = 8;

/// Per-level counters are indexed by `taskwire_core::schema::level_index`.
#[derive(Default)]
#[repr(align(64))]
struct Stripe {
    by_level: [AtomicU64; 5],
    last_seen: AtomicI64,
}

/// Counts collected from a group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Deltas {
    pub(crate) by_level: [u64; 5],
    pub(crate) last_seen: i64,
}

impl Deltas {
    pub(crate) fn total(&self) -> u64 {
        self.by_level.iter().sum()
    }
}

/// One fingerprint's live counters.
pub(crate) struct Group {
    pub(crate) hash: u64,
    pub(crate) fingerprint: Box<str>,
    pub(crate) seed: TicketSeed,
    /// When the group was created (its first occurrence in this process), µs.
    pub(crate) created: i64,
    stripes: [Stripe; STRIPES],
    dirty: AtomicBool,
    /// Samples sent in the writer's current period (reset by it).
    pub(crate) sampled: AtomicU32,
    /// Configured tag fields' values, when any are configured.
    pub(crate) tags: Option<Mutex<TagCounts>>,
    /// Writer periods without activity (writer only).
    pub(crate) idle: AtomicU32,
    /// Cached per call site (never evicted) or found in the map.
    pub(crate) cached: bool,
    /// A title that does not come from the first message (the overflow group's).
    pub(crate) fixed_title: Option<Box<str>>,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

thread_local! {
    static STRIPE: usize = {
        // Threads take the stripes in turn.
        static THREADS: Sequence = Sequence::new();
        ((THREADS.next().get() - 1) % STRIPES as u64) as usize
    };
}

impl Group {
    pub(crate) fn new(
        hash: u64,
        seed: TicketSeed,
        now: i64,
        with_tags: Option<usize>,
        cached: bool,
    ) -> Group {
        Group {
            hash,
            fingerprint: crate::fingerprint::to_hex(hash).into_boxed_str(),
            seed,
            created: now,
            stripes: Default::default(),
            dirty: AtomicBool::new(false),
            sampled: AtomicU32::new(0),
            tags: with_tags.map(|cap| Mutex::new(TagCounts::new(cap))),
            idle: AtomicU32::new(0),
            cached,
            fixed_title: None,
        }
    }

    /// Counts one occurrence.
    #[inline]
    pub(crate) fn bump(&self, level: usize, now: i64) {
        let s = &self.stripes[STRIPE.try_with(|s| *s).unwrap_or(0)];
        s.by_level[level].fetch_add(1, Ordering::SeqCst);
        s.last_seen.store(now, Ordering::Relaxed);
        if !self.dirty.load(Ordering::SeqCst) {
            self.dirty.store(true, Ordering::SeqCst);
        }
    }

    /// Whether this occurrence may send a sample: at most `budget` per writer period.
    #[inline]
    pub(crate) fn take_sample_slot(&self, budget: u32) -> bool {
        self.sampled.load(Ordering::Relaxed) < budget
            && self.sampled.fetch_add(1, Ordering::Relaxed) < budget
    }

    /// Takes the counts since the last call (writer only). `None` when nothing happened.
    pub(crate) fn collect(&self) -> Option<Deltas> {
        if !self.dirty.swap(false, Ordering::SeqCst) {
            return None;
        }
        let mut d = Deltas::default();
        for s in &self.stripes {
            for (i, c) in s.by_level.iter().enumerate() {
                d.by_level[i] += c.swap(0, Ordering::SeqCst);
            }
            d.last_seen = d.last_seen.max(s.last_seen.load(Ordering::Relaxed));
        }
        Some(d)
    }

    fn is_dirty(&self) -> bool {
        self.dirty.load(Ordering::SeqCst)
    }
}

const SHARDS: usize = 16;

/// Every live group of one layer, by fingerprint hash.
pub(crate) struct Registry {
    shards: [RwLock<FastMap<u64, Arc<Group>>>; SHARDS],
    len: AtomicUsize,
    max: AtomicUsize,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("len", &self.len.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Registry {
    pub(crate) fn new(max: usize) -> Registry {
        Registry {
            shards: Default::default(),
            len: AtomicUsize::new(0),
            max: AtomicUsize::new(max),
        }
    }

    fn shard(&self, hash: u64) -> &RwLock<FastMap<u64, Arc<Group>>> {
        &self.shards[(hash >> 59) as usize % SHARDS]
    }

    /// Whether the map is full (new fingerprints then go to the overflow group).
    pub(crate) fn is_full(&self) -> bool {
        self.len.load(Ordering::Relaxed) >= self.max.load(Ordering::Relaxed)
    }

    /// Runs `f` on the group of `hash`, creating it with `make` when missing. A bump inside
    /// `f` happens under the shard's read lock, which is what makes eviction safe. `None`
    /// (and `f` not run) when the group is missing and the registry is full.
    pub(crate) fn with_group<R>(
        &self,
        hash: u64,
        make: impl FnOnce() -> Group,
        f: impl FnOnce(&Arc<Group>) -> R,
    ) -> Option<R> {
        let shard = self.shard(hash);
        {
            let map = shard.read().unwrap_or_else(|e| e.into_inner());
            if let Some(g) = map.get(&hash) {
                return Some(f(g));
            }
        }
        if self.is_full() {
            return None;
        }
        Some(self.insert(hash, make, f))
    }

    /// Like [`Registry::with_group`], but creates the group even when the registry is full.
    pub(crate) fn insert<R>(
        &self,
        hash: u64,
        make: impl FnOnce() -> Group,
        f: impl FnOnce(&Arc<Group>) -> R,
    ) -> R {
        let mut map = self.shard(hash).write().unwrap_or_else(|e| e.into_inner());
        let g = map.entry(hash).or_insert_with(|| {
            self.len.fetch_add(1, Ordering::Relaxed);
            Arc::new(make())
        });
        f(g)
    }

    /// Every group (writer only).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Arc<Group>)) {
        for shard in &self.shards {
            let map = shard.read().unwrap_or_else(|e| e.into_inner());
            for g in map.values() {
                f(g);
            }
        }
    }

    /// Removes groups that only the map holds and that were idle for `periods` writer periods.
    pub(crate) fn evict_idle(&self, periods: u32) {
        for shard in &self.shards {
            let mut map = shard.write().unwrap_or_else(|e| e.into_inner());
            let before = map.len();
            map.retain(|_, g| {
                g.cached
                    || g.is_dirty()
                    || g.idle.load(Ordering::Relaxed) < periods
                    || Arc::strong_count(g) > 1
            });
            let removed = before - map.len();
            if removed > 0 {
                self.len.fetch_sub(removed, Ordering::Relaxed);
            }
        }
    }
}

/// What a thread knows about a call site for one layer.
#[derive(Clone)]
pub(crate) enum Site {
    /// The fingerprint is fixed: this is its group.
    Static(Arc<Group>),
    /// The fingerprint depends on fields or spans.
    Dynamic,
}

/// Call sites remembered per thread; beyond this many the thread's cache starts over (the
/// groups of static call sites stay in the [`Registry`], so nothing is lost).
const MAX_SITES: usize = 4096;

thread_local! {
    static SITES: RefCell<SiteCache<SiteKey, Site>> = const { RefCell::new(SiteCache::new(MAX_SITES)) };
}

/// Runs `f` with the thread's cached knowledge of `meta`'s call site for layer `layer`,
/// computed by `make` the first time.
#[inline]
pub(crate) fn with_site<R>(
    layer: u64,
    meta: &'static Metadata<'static>,
    make: impl FnOnce() -> Site,
    f: impl FnOnce(&Site) -> R,
) -> R {
    cache::with_entry(&SITES, SiteKey::new(layer, meta), make, f)
}
