//! De-duplication: a record read twice is counted once.
//!
//! Logs meet the same record twice when a file is copied then truncated for rotation
//! (`copytruncate`: the last lines before the copy may also be in the new file), when the same
//! content is kept under two names, or when a file is named twice. The key is a 128-bit hash of
//! the line's bytes, spaces and the `\r` of CRLF trimmed at both ends: a record is one line
//! written once by one layer, so its copies are byte-identical, while two different records
//! nearly always differ somewhere (the timestamp has microseconds; fields differ). A key made
//! of a few fields (`ts`, `span_id`, `msg`) would merge two distinct events of one span in the
//! same microsecond with the same message, and would need a parse of every line.
//!
//! Memory: 16 bytes per distinct line offered to [`Seen::first`]. Readers offer only the lines
//! they keep (task records, error events), so the set grows with the output, not the input.
//!
//! ```
//! use taskwire_explore::dedup::Seen;
//! let mut seen = Seen::default();
//! assert!(seen.first(br#"{"msg":"a"}"#));
//! assert!(!seen.first(b"  {\"msg\":\"a\"}\r"));
//! assert!(seen.first(br#"{"msg":"b"}"#));
//! ```

use std::collections::HashSet;
use std::hash::{BuildHasherDefault, DefaultHasher, Hash, Hasher};

/// The de-duplication key of a line: a 128-bit hash of its trimmed bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LineKey(u128);

impl LineKey {
    /// The key of `line` (leading and trailing ASCII white space ignored).
    pub fn of(line: &[u8]) -> LineKey {
        let line = line.trim_ascii();
        // two SipHash-1-3 runs with fixed keys, told apart by a first byte: deterministic
        // across runs, so keys can be compared between processes
        let half = |seed: u8| {
            let mut h = DefaultHasher::new();
            h.write_u8(seed);
            line.hash(&mut h);
            h.finish()
        };
        LineKey((u128::from(half(0)) << 64) | u128::from(half(1)))
    }
}

/// The set of lines seen so far.
#[derive(Default, Debug)]
pub struct Seen {
    keys: HashSet<LineKey, BuildHasherDefault<FoldHasher>>,
}

impl Seen {
    /// Whether `line` is seen here for the first time (and remembers it).
    pub fn first(&mut self, line: &[u8]) -> bool {
        self.keys.insert(LineKey::of(line))
    }

    /// How many distinct lines were offered.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no line was offered yet.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

/// Keys are already uniform hashes: fold them instead of hashing again.
#[derive(Default)]
struct FoldHasher(u64);

impl Hasher for FoldHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_u128(&mut self, i: u128) {
        self.0 ^= (i as u64) ^ ((i >> 64) as u64);
    }
    fn finish(&self) -> u64 {
        self.0
    }
}
