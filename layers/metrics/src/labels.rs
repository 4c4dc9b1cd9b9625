//! Label sets and the cardinality cap: a [`Family`] maps label sets to series, up to a hard
//! limit; past it every new label set shares one overflow series (`overflow="true"`) and is
//! counted in `taskwire_metrics_dropped_label_sets_total`.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use taskwire_core::FieldValue;

use crate::export::{self, names};
use crate::series::Meter;

/// Label values longer than this many bytes are cut (at a character boundary).
pub const MAX_LABEL_VALUE_LEN: usize = 128;

/// The default cap on label sets per metric.
pub const DEFAULT_MAX_LABEL_SETS: usize = 500;

/// How many refused label sets are remembered, so that each is counted once.
const REFUSED_SLOTS: usize = 4096;

/// A series' labels, in order: names and values.
pub(crate) type Labels = Vec<(Cow<'static, str>, Box<str>)>;

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
    map: RwLock<HashMap<Box<str>, Arc<Entry<T>>>>,
    overflow: OnceLock<Arc<Entry<T>>>,
    /// Hashes of label sets refused lately (direct-mapped; 0 = empty).
    refused: Box<[AtomicU64]>,
    dropped: OnceLock<Arc<Entry<Counted>>>,
}

/// A counter: a facade handle and the in-app meter.
pub(crate) struct Counted {
    pub(crate) handle: metrics::Counter,
    pub(crate) meter: Meter,
}

impl Counted {
    pub(crate) fn new(metric: &'static str, labels: &Labels, now: u64) -> Self {
        Counted {
            handle: export::counter(metric, labels),
            meter: Meter::new(now),
        }
    }

    #[inline]
    pub(crate) fn add(&self, n: u64, now: u64) {
        self.handle.increment(n);
        self.meter.mark(n, now);
    }
}

impl<T> Family<T> {
    pub(crate) fn new(metric: &'static str, cap: usize) -> Self {
        Family {
            metric,
            cap: AtomicUsize::new(cap),
            map: RwLock::new(HashMap::new()),
            overflow: OnceLock::new(),
            refused: (0..REFUSED_SLOTS).map(|_| AtomicU64::new(0)).collect(),
            dropped: OnceLock::new(),
        }
    }

    pub(crate) fn set_cap(&self, cap: usize) {
        self.cap.store(cap, Ordering::Relaxed);
    }

    /// The series for the label set whose key is `key`, created with `labels()` and `make` if
    /// new and under the cap; the overflow series otherwise.
    pub(crate) fn get_or_create(
        &self,
        key: &str,
        now: u64,
        labels: impl FnOnce() -> Labels,
        make: impl Fn(&Labels) -> T,
    ) -> Arc<Entry<T>> {
        {
            let map = self.map.read().unwrap_or_else(|e| e.into_inner());
            if let Some(e) = map.get(key) {
                return e.clone();
            }
            if map.len() >= self.cap.load(Ordering::Relaxed) {
                drop(map);
                return self.refuse_and_overflow(key, now, make);
            }
        }
        // Made outside the lock: registering with the recorder may take a while (or log).
        let labels = labels();
        let value = make(&labels);
        let mut map = self.map.write().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = map.get(key) {
            // Another thread made it first; the recorder hands out the same handles again.
            return e.clone();
        }
        if map.len() < self.cap.load(Ordering::Relaxed) {
            let e = Arc::new(Entry {
                labels,
                overflow: false,
                value,
            });
            map.insert(key.into(), e.clone());
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
        self.map.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Every series, the overflow one last.
    pub(crate) fn entries(&self) -> Vec<Arc<Entry<T>>> {
        let mut v: Vec<_> = self
            .map
            .read()
            .unwrap_or_else(|e| e.into_inner())
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

/// Appends one label to a label-set key: unambiguous whatever the value holds.
pub(crate) fn push_key(key: &mut String, name: &str, value: &str) {
    key.push_str(name);
    key.push('=');
    // The length in decimal, without `fmt`: this runs per span for value-dependent labels.
    let mut digits = [0u8; 20];
    let mut n = value.len();
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for d in &digits[i..] {
        key.push(char::from(*d));
    }
    key.push(':');
    key.push_str(value);
}

/// Appends `value` as label text to `out`, cut to [`MAX_LABEL_VALUE_LEN`] bytes.
pub(crate) fn push_value(out: &mut String, value: Option<&FieldValue>) {
    let start = out.len();
    match value {
        Some(FieldValue::Str(s)) => out.push_str(s),
        Some(v) => {
            let _ = write!(out, "{v}");
        }
        None => {}
    }
    if out.len() - start > MAX_LABEL_VALUE_LEN {
        let mut end = start + MAX_LABEL_VALUE_LEN;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
}

/// A field name as a Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`, other characters
/// replaced by `_` (`http.route` becomes `http_route`).
pub(crate) fn label_name(field: &str) -> String {
    let mut out: String = field
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn keys_are_unambiguous() {
        let mut a = String::new();
        push_key(&mut a, "x", "1y=1:2");
        let mut b = String::new();
        push_key(&mut b, "x", "1");
        push_key(&mut b, "y", "2");
        assert_ne!(a, b);
        let mut c = String::new();
        push_key(&mut c, "n", &"x".repeat(1234));
        assert!(c.starts_with("n=1234:x"));
    }

    #[test]
    fn values_are_cut_at_a_char_boundary() {
        let mut s = String::new();
        let long = "é".repeat(100);
        push_value(&mut s, Some(&FieldValue::from(long.as_str())));
        assert!(s.len() <= MAX_LABEL_VALUE_LEN);
        assert!(s.chars().all(|c| c == 'é'));
        s.clear();
        push_value(&mut s, Some(&FieldValue::from(42_u64)));
        assert_eq!(s, "42");
    }

    #[test]
    fn label_names_follow_prometheus() {
        assert_eq!(label_name("http.route"), "http_route");
        assert_eq!(label_name("9lives"), "_9lives");
        assert_eq!(label_name(""), "_");
    }
}
