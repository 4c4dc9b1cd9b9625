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
//! A task record is the exception: there is one per span, so its trace id, span id, end time and
//! duration identify it ([`LineKey::of_task`]) without hashing the line, which the trace reader
//! parses anyway. Two lines with the same four values are the same task's record.
//!
//! Memory: 16 bytes per distinct line offered to [`Seen::first`]. Readers offer only the lines
//! they keep, so the set grows with the output, not the input; the trace reader offers only
//! events, and finds repeated task records by sorting them, which needs no set.
//!
//! ```
//! use taskwire_explore::dedup::Seen;
//! let mut seen = Seen::default();
//! assert!(seen.first(br#"{"msg":"a"}"#));
//! assert!(!seen.first(b"  {\"msg\":\"a\"}\r"));
//! assert!(seen.first(br#"{"msg":"b"}"#));
//! ```

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hasher};

use taskwire_core::cache::{FastBuild, FastHasher};

/// The de-duplication key of a line: a 128-bit hash of its trimmed bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LineKey(u128);

impl LineKey {
    /// The key of `line` (leading and trailing ASCII white space ignored).
    pub fn of(line: &[u8]) -> LineKey {
        let line = line.trim_ascii();
        // two independent 64-bit hashes of one line: SipHash-1-3 (keyed, fixed keys) and
        // FxHash; deterministic across runs, so keys can be compared between processes
        let mut sip = DefaultHasher::new();
        sip.write(line);
        let mut fx = FastHasher::default();
        fx.write(line);
        LineKey((u128::from(sip.finish()) << 64) | u128::from(fx.finish()))
    }
}

impl LineKey {
    /// The key of a task record: its trace id, span id, end time and duration (µs).
    pub fn of_task(trace: u128, span: u64, end_us: i64, duration_us: u64) -> LineKey {
        let mut a = FastHasher::default();
        a.write_u128(trace);
        a.write_u64(span);
        a.write_i64(end_us);
        a.write_u64(duration_us);
        let low = a.finish();
        let mut b = FastHasher::default();
        b.write_u64(low);
        b.write_u64(span.rotate_left(32));
        b.write_u128(trace.rotate_left(64));
        LineKey((u128::from(b.finish()) << 64) | u128::from(low))
    }
}

/// The set of lines seen so far.
#[derive(Default, Debug)]
pub struct Seen {
    keys: HashSet<LineKey, FastBuild>,
}

impl Seen {
    /// Whether `line` is seen here for the first time (and remembers it).
    pub fn first(&mut self, line: &[u8]) -> bool {
        self.keys.insert(LineKey::of(line))
    }

    /// Whether `key` is seen here for the first time (and remembers it).
    pub fn first_key(&mut self, key: LineKey) -> bool {
        self.keys.insert(key)
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
