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

/// The value of the first label of a key made by [`push_key`] (`name=3:abc…` → `abc`); the
/// whole key when it is not one.
fn leading_value(key: &str) -> &str {
    let parsed = key.split_once('=').and_then(|(_, rest)| {
        let (len, rest) = rest.split_once(':')?;
        rest.get(..len.parse::<usize>().ok()?)
    });
    parsed.unwrap_or(key)
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

    fn key(name: &str, user: &str) -> String {
        let mut k = String::new();
        push_key(&mut k, "name", name);
        push_key(&mut k, "user", user);
        k
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

    #[test]
    fn leading_values_are_read_from_keys() {
        assert_eq!(leading_value(&key("GET /a=1:b", "x")), "GET /a=1:b");
        assert_eq!(leading_value(&key("", "x")), "");
        assert_eq!(leading_value("junk"), "junk");
        assert_eq!(leading_value("n=9:ab"), "n=9:ab");
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
