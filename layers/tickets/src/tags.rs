//! Tag distributions: per ticket, how many occurrences had each value of `level`, `service`,
//! `host`, `release` and the configured tag fields.
//!
//! `level` is counted by the group's per-level counters; `service`, `host` and `release` are
//! fixed per layer, so the writer adds them with the counts. Configured fields (for example
//! `http.route` or `customer.plan`, taken from the event or its spans) are counted here, per
//! group, between two writer periods. Each key keeps at most a cap of distinct values (in
//! memory and in the store); further values are counted under
//! [`OTHER_TAG_VALUE`](crate::store::OTHER_TAG_VALUE).

use std::collections::HashMap;
use std::sync::Arc;

use crate::store::{TagCount, OTHER_TAG_VALUE};

/// The longest tag value kept, in bytes (longer ones are cut at a character boundary).
pub const MAX_TAG_VALUE_LEN: usize = 200;

/// Tag counts of one group between two writer periods.
#[derive(Debug)]
pub(crate) struct TagCounts {
    cap: usize,
    by_key: HashMap<Arc<str>, HashMap<Box<str>, u64>>,
}

impl TagCounts {
    pub(crate) fn new(cap: usize) -> TagCounts {
        TagCounts {
            cap: cap.max(1),
            by_key: HashMap::new(),
        }
    }

    /// Counts one occurrence of `value` under `key`.
    pub(crate) fn add(&mut self, key: &Arc<str>, value: &str) {
        let values = match self.by_key.get_mut(&**key) {
            Some(v) => v,
            None => self.by_key.entry(key.clone()).or_default(),
        };
        let value = cut(value, MAX_TAG_VALUE_LEN);
        if let Some(c) = values.get_mut(value) {
            *c += 1;
        } else if values.len() < self.cap {
            values.insert(value.into(), 1);
        } else {
            *values.entry(OTHER_TAG_VALUE.into()).or_default() += 1;
        }
    }

    /// Takes the counts, leaving this empty.
    pub(crate) fn take(&mut self) -> Vec<TagCount> {
        let mut out = Vec::new();
        for (key, values) in self.by_key.drain() {
            for (value, count) in values {
                out.push(TagCount {
                    key: key.to_string(),
                    value: value.into(),
                    count,
                });
            }
        }
        out
    }
}

/// `s` cut to at most `max` bytes at a character boundary.
pub(crate) fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_beyond_the_cap_go_to_other() {
        let mut t = TagCounts::new(2);
        let k: Arc<str> = Arc::from("route");
        for v in ["/a", "/b", "/a", "/c", "/d"] {
            t.add(&k, v);
        }
        let mut got = t.take();
        got.sort_by(|a, b| a.value.cmp(&b.value));
        let got: Vec<_> = got.iter().map(|t| (t.value.as_str(), t.count)).collect();
        assert_eq!(got, vec![("(other)", 2), ("/a", 2), ("/b", 1)]);
        assert!(t.take().is_empty());
    }

    #[test]
    fn cut_respects_char_boundaries() {
        assert_eq!(cut("ééé", 3), "é");
        assert_eq!(cut("abc", 10), "abc");
    }
}
