//! Label sets and the cardinality cap: a [`Family`] maps label sets to series, up to a hard
//! limit; past it every new label set shares one overflow series (`overflow="true"`) and is
//! counted in `taskwire_metrics_dropped_label_sets_total`.
//!
//! The cap must not let the values of one label starve the others: a span name with a
//! high-cardinality field label (a user id, a raw path someone made a label) could otherwise
//! take every slot, and a route first seen afterwards would only ever be `(overflow)`. So the
//! first label set of each value of the leading label of the span family (a span series'
//! `name`) is admitted past the cap, from a reserve as large as the cap: a new task name gets its own series while new
//! values of the other labels of a name already present go to overflow. At most twice the cap
//! is ever held.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use crate::export::names;
use crate::labels::{leading_value, Labels};
use crate::series::Counted;

/// The default cap on label sets per metric.
pub const DEFAULT_MAX_LABEL_SETS: usize = 500;

/// How many refused label sets are remembered, so that each is counted once.
const REFUSED_SLOTS: usize = 4096;

/// A family member: its labels and its series.
pub(crate) struct Entry<T> {
    pub(crate) labels: Labels,
    pub(crate) overflow: bool,
    pub(crate) value: T,
}

/// The series of one metric, by label set, with the cap.
pub(crate) struct Family<T> {
    pub(crate) metric: &'static str,
    cap: AtomicUsize,
    /// Whether a new leading value is admitted past the cap, from the reserve.
    reserve: bool,
    map: RwLock<Members<T>>,
    overflow: OnceLock<Arc<Entry<T>>>,
    /// Hashes of label sets refused lately (direct-mapped; 0 = empty).
    refused: Box<[AtomicU64]>,
    dropped: OnceLock<Arc<Entry<Counted>>>,
}

/// The label sets of a family, and the values of their leading label.
struct Members<T> {
    by_key: HashMap<Box<str>, Arc<Entry<T>>>,
    /// The leading label's values that have a series.
    leading: HashSet<Box<str>>,
}

impl<T> Members<T> {
    /// Whether a new label set whose key is `key` gets its own series: under the cap, or
    /// (with `reserve`) the first of its leading value within the reserve.
    fn admits(&self, key: &str, cap: usize, reserve: bool) -> bool {
        let n = self.by_key.len();
        n < cap
            || (reserve && n < cap.saturating_mul(2) && !self.leading.contains(leading_value(key)))
    }

    fn insert(&mut self, key: &str, e: Arc<Entry<T>>) {
        let leading = leading_value(key);
        if !self.leading.contains(leading) {
            self.leading.insert(leading.into());
        }
        self.by_key.insert(key.into(), e);
    }
}

impl<T> Family<T> {
    /// A family whose cap is `cap`, without reserve.
    pub(crate) fn new(metric: &'static str, cap: usize) -> Self {
        Family::make(metric, cap, false)
    }

    /// A family whose leading label is a name: the first label set of each name is admitted
    /// past the cap, up to twice the cap in all.
    pub(crate) fn with_name_reserve(metric: &'static str, cap: usize) -> Self {
        Family::make(metric, cap, true)
    }

    fn make(metric: &'static str, cap: usize, reserve: bool) -> Self {
        Family {
            metric,
            cap: AtomicUsize::new(cap),
            reserve,
            map: RwLock::new(Members {
                by_key: HashMap::new(),
                leading: HashSet::new(),
            }),
            overflow: OnceLock::new(),
            refused: (0..REFUSED_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            dropped: OnceLock::new(),
        }
    }

    pub(crate) fn set_cap(&self, cap: usize) {
        self.cap.store(cap, Ordering::Relaxed);
    }

    /// The series for the label set whose key is `key`, created with `labels()` and `make` if
    /// new and admitted (under the cap, or the first of its leading label's value within the
    /// reserve); the overflow series otherwise.
    pub(crate) fn get_or_create(
        &self,
        key: &str,
        now: u64,
        labels: impl FnOnce() -> Labels,
        make: impl Fn(&Labels) -> T,
    ) -> Arc<Entry<T>> {
        {
            let map = self.map.read().unwrap_or_else(|e| e.into_inner());
            if let Some(e) = map.by_key.get(key) {
                return e.clone();
            }
            if !map.admits(key, self.cap.load(Ordering::Relaxed), self.reserve) {
                drop(map);
                return self.refuse_and_overflow(key, now, make);
            }
        }
        // Made outside the lock: registering with the recorder may take a while (or log).
        let labels = labels();
        let value = make(&labels);
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = map.by_key.get(key) {
            // Another thread made it first; the recorder hands out the same handles again.
            return e.clone();
        }
        if map.admits(key, self.cap.load(Ordering::Relaxed), self.reserve) {
            let e = Arc::new(Entry {
                labels,
                overflow: false,
                value,
            });
            map.insert(key, e.clone());
            return e;
        }
        drop(map);
        self.refuse_and_overflow(key, now, make)
    }

    fn refuse_and_overflow(
        &self,
        key: &str,
        now: u64,
        make: impl Fn(&Labels) -> T,
    ) -> Arc<Entry<T>> {
        self.refuse(key, now);
        if let Some(e) = self.overflow() {
            return e;
        }
        self.overflow
            .get_or_init(|| {
                let labels: Labels = vec![(Cow::Borrowed("overflow"), "true".into())];
                let value = make(&labels);
                Arc::new(Entry {
                    labels,
                    overflow: true,
                    value,
                })
            })
            .clone()
    }

    fn overflow(&self) -> Option<Arc<Entry<T>>> {
        self.overflow.get().cloned()
    }

    /// Counts a refused label set, once while it is remembered.
    fn refuse(&self, key: &str, now: u64) {
        let h = hash(key) | 1;
        let slot = &self.refused[(h as usize) % REFUSED_SLOTS];
        if slot.swap(h, Ordering::Relaxed) == h {
            return;
        }
        let dropped = self.dropped.get_or_init(|| {
            let labels: Labels = vec![(Cow::Borrowed("metric"), self.metric.into())];
            let value = Counted::new(names::DROPPED_LABEL_SETS, &labels, now);
            Arc::new(Entry {
                labels,
                overflow: false,
                value,
            })
        });
        dropped.value.add(1, now);
    }

    /// The number of label sets (without the overflow series).
    pub(crate) fn len(&self) -> usize {
        self.map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .by_key
            .len()
    }

    /// Every series, the overflow one last.
    pub(crate) fn entries(&self) -> Vec<Arc<Entry<T>>> {
        let mut v: Vec<_> = self
            .map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .by_key
            .values()
            .cloned()
            .collect();
        v.sort_by(|a, b| a.labels.cmp(&b.labels));
        v.extend(self.overflow());
        v
    }

    /// The counter of refused label sets, if any was refused.
    pub(crate) fn dropped(&self) -> Option<&Arc<Entry<Counted>>> {
        self.dropped.get()
    }
}

fn hash(key: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::labels::tests::key;

    fn labels(v: &str) -> Labels {
        vec![(Cow::Borrowed("k"), v.into())]
    }

    #[test]
    fn cap_routes_to_overflow_and_counts_each_refused_set_once() {
        let f: Family<u32> = Family::new("m", 2);
        let a = f.get_or_create("a", 0, || labels("a"), |_| 1);
        let a2 = f.get_or_create("a", 0, || labels("a"), |_| 1);
        assert!(Arc::ptr_eq(&a, &a2));
        f.get_or_create("b", 0, || labels("b"), |_| 2);
        let c = f.get_or_create("c", 0, || labels("c"), |_| 3);
        assert!(c.overflow);
        assert_eq!(&*c.labels[0].1, "true");
        f.get_or_create("c", 0, || labels("c"), |_| 3);
        f.get_or_create("d", 0, || labels("d"), |_| 3);
        assert_eq!(f.len(), 2);
        assert_eq!(f.dropped().map(|d| d.value.meter.count()), Some(2));
        assert_eq!(f.entries().len(), 3);
    }

    #[test]
    fn a_new_leading_value_is_admitted_past_the_cap_from_the_reserve() {
        let f: Family<u32> = Family::with_name_reserve("m", 3);
        for user in 0..10 {
            let k = key("login", &user.to_string());
            f.get_or_create(&k, 0, || labels("x"), |_| 0);
        }
        assert_eq!(f.len(), 3, "one name's users fill the cap, no more");
        let route = f.get_or_create(&key("GET /a=1:b", "1"), 0, || labels("r"), |_| 1);
        assert!(
            !route.overflow,
            "a name first seen past the cap has its own series"
        );
        let again = f.get_or_create(&key("GET /a=1:b", "2"), 0, || labels("r"), |_| 1);
        assert!(again.overflow, "its further label sets are capped");
        for n in 0..10 {
            f.get_or_create(&key(&format!("n{n}"), ""), 0, || labels("n"), |_| 2);
        }
        assert_eq!(f.len(), 6, "the reserve is as large as the cap");
        let plain: Family<u32> = Family::new("m", 1);
        plain.get_or_create(&key("a", ""), 0, || labels("a"), |_| 0);
        let b = plain.get_or_create(&key("b", ""), 0, || labels("b"), |_| 0);
        assert!(b.overflow, "no reserve unless asked for");
    }
}
