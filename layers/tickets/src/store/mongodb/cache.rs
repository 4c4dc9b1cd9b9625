//! What the store remembers between batches about tickets and tag documents: never needed for
//! correctness (every operation is conditional), it saves lookups.

use std::collections::HashMap;

use super::CACHE_LIMIT;

/// What this store knows about a ticket from earlier batches (never needed for correctness:
/// every operation is conditional; it saves lookups).
#[derive(Clone, Copy, Debug)]
pub(super) struct Known {
    pub(super) id: i64,
    pub(super) open: bool,
    pub(super) titled: bool,
    pub(super) has_first: bool,
}

/// The values of one tag document, by position.
#[derive(Clone, Debug, Default)]
pub(super) struct TagDoc {
    pub(super) index: HashMap<String, usize>,
}

/// A tag document's key: the ticket id and the tag key.
pub(super) type TagKey = (i64, String);

#[derive(Debug, Default)]
pub(super) struct Cache {
    pub(super) tickets: HashMap<String, Known>,
    pub(super) tags: HashMap<(i64, String), TagDoc>,
}

impl Cache {
    pub(super) fn put_ticket(&mut self, fp: &str, k: Known) {
        if self.tickets.len() >= CACHE_LIMIT && !self.tickets.contains_key(fp) {
            self.tickets.clear();
        }
        self.tickets.insert(fp.to_owned(), k);
    }

    pub(super) fn put_tags(&mut self, key: (i64, String), d: TagDoc) {
        if self.tags.len() >= CACHE_LIMIT && !self.tags.contains_key(&key) {
            self.tags.clear();
        }
        self.tags.insert(key, d);
    }
}
