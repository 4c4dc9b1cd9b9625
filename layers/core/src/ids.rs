//! W3C Trace Context identifiers: a 16-byte trace id shared by a whole tree of spans and an
//! 8-byte span id per span, both rendered as lowercase hex.
//!
//! Ids are generated from a per-thread random generator seeded from the operating system's
//! hash seed, the thread and the clock, so generating one never takes a lock or allocates.
//! An all-zero id is invalid in W3C Trace Context and is never generated.
//!
//! Besides those, [`next_id`] hands out process-unique ids for taskwire's own bookkeeping (a
//! layer's or a configuration's identity in per-thread caches), and [`Sequence`] counts for
//! whoever needs a dense sequence of their own.

use std::cell::Cell;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::num::NonZeroU64;
use std::sync::atomic::{AtomicU64, Ordering};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// A 16-byte W3C trace id, shared by every span of one trace (one tree of tasks).
///
/// ```
/// use taskwire_core::TraceId;
/// let id = TraceId::from_u128(0x4bf92f3577b34da6a3ce929d0e0e4736);
/// assert_eq!(id.to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert!(id.is_valid());
/// assert!(!TraceId::INVALID.is_valid());
/// ```
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct TraceId(u128);

/// An 8-byte W3C span id, unique per span (task).
///
/// ```
/// use taskwire_core::SpanId;
/// let id = SpanId::from_u64(0x00f067aa0ba902b7);
/// assert_eq!(id.to_string(), "00f067aa0ba902b7");
/// ```
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct SpanId(u64);

impl TraceId {
    /// The all-zero id, which W3C Trace Context defines as invalid.
    pub const INVALID: TraceId = TraceId(0);

    /// Builds an id from its big-endian integer value.
    pub const fn from_u128(v: u128) -> Self {
        TraceId(v)
    }

    /// The id as a big-endian integer.
    pub const fn to_u128(self) -> u128 {
        self.0
    }

    /// Builds an id from its 16 bytes, most significant first (the wire order).
    pub const fn from_bytes(b: [u8; 16]) -> Self {
        TraceId(u128::from_be_bytes(b))
    }

    /// The id's 16 bytes in wire order.
    pub const fn to_bytes(self) -> [u8; 16] {
        self.0.to_be_bytes()
    }

    /// Whether the id is valid (not all zeros).
    pub const fn is_valid(self) -> bool {
        self.0 != 0
    }

    /// A new random, valid trace id.
    ///
    /// All 128 bits come from the generator, so the id meets W3C Trace Context Level 2's
    /// random-trace-id rule (at least the right-most 7 bytes uniformly random): traces
    /// taskwire starts carry the random flag (`-02`/`-03` in `traceparent`).
    pub fn random() -> Self {
        loop {
            let v = (u128::from(next_u64()) << 64) | u128::from(next_u64());
            if v != 0 {
                return TraceId(v);
            }
        }
    }

    /// The id as 32 lowercase hex characters, without allocating.
    pub fn to_hex(self) -> [u8; 32] {
        hex_of(self.to_bytes())
    }

    /// Parses exactly 32 lowercase hex characters. Uppercase, other lengths and the all-zero id
    /// are refused, as W3C Trace Context requires.
    pub fn from_hex(s: &str) -> Option<Self> {
        parse_hex(s, 32).filter(|v| *v != 0).map(TraceId)
    }
}

impl SpanId {
    /// The all-zero id, which W3C Trace Context defines as invalid.
    pub const INVALID: SpanId = SpanId(0);

    /// Builds an id from its big-endian integer value.
    pub const fn from_u64(v: u64) -> Self {
        SpanId(v)
    }

    /// The id as a big-endian integer.
    pub const fn to_u64(self) -> u64 {
        self.0
    }

    /// Builds an id from its 8 bytes, most significant first (the wire order).
    pub const fn from_bytes(b: [u8; 8]) -> Self {
        SpanId(u64::from_be_bytes(b))
    }

    /// The id's 8 bytes in wire order.
    pub const fn to_bytes(self) -> [u8; 8] {
        self.0.to_be_bytes()
    }

    /// Whether the id is valid (not all zeros).
    pub const fn is_valid(self) -> bool {
        self.0 != 0
    }

    /// A new random, valid span id.
    pub fn random() -> Self {
        loop {
            let v = next_u64();
            if v != 0 {
                return SpanId(v);
            }
        }
    }

    /// The id as 16 lowercase hex characters, without allocating.
    pub fn to_hex(self) -> [u8; 16] {
        hex_of(self.to_bytes())
    }

    /// Parses exactly 16 lowercase hex characters; refuses the all-zero id.
    pub fn from_hex(s: &str) -> Option<Self> {
        parse_hex(s, 16)
            .and_then(|v| u64::try_from(v).ok())
            .filter(|v| *v != 0)
            .map(SpanId)
    }
}

/// `bytes` as lowercase hex (`M` is `2 * N`).
fn hex_of<const N: usize, const M: usize>(bytes: [u8; N]) -> [u8; M] {
    let mut out = [0u8; M];
    for (pair, b) in out.chunks_exact_mut(2).zip(bytes) {
        pair[0] = HEX[usize::from(b >> 4)];
        pair[1] = HEX[usize::from(b & 0xf)];
    }
    out
}

/// The value of exactly `len` (at most 32) lowercase hex digits.
fn parse_hex(s: &str, len: usize) -> Option<u128> {
    let b = s.as_bytes();
    if b.len() != len {
        return None;
    }
    b.iter()
        .try_fold(0u128, |v, &c| Some((v << 4) | u128::from(hex_val(c)?)))
}

/// The value of one lowercase hex digit; uppercase is refused (W3C Trace Context).
pub(crate) const fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

macro_rules! hex_fmt {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let hex = self.to_hex();
                // Hex digits are ASCII, so this never fails.
                f.write_str(std::str::from_utf8(&hex).map_err(|_| fmt::Error)?)
            }
        }
        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($t), "({})"), self)
            }
        }
    };
}
hex_fmt!(TraceId);
hex_fmt!(SpanId);

/// A counter that hands out 1, 2, 3, … to whoever asks, on any thread.
///
/// [`next_id`] is the process-wide one; a `static Sequence` of its own suits a user that
/// wants its values dense (one bit per value, one stripe per thread).
///
/// ```
/// use taskwire_core::ids::Sequence;
/// static SEQ: Sequence = Sequence::new();
/// assert_eq!(SEQ.next().get(), 1);
/// assert_eq!(SEQ.next().get(), 2);
/// ```
#[derive(Debug, Default)]
pub struct Sequence(AtomicU64);

impl Sequence {
    /// A sequence whose first value is 1.
    pub const fn new() -> Self {
        Sequence(AtomicU64::new(1))
    }

    /// The next value (never 0; a sequence does not wrap in a process's lifetime).
    #[inline]
    pub fn next(&self) -> NonZeroU64 {
        let v = self.0.fetch_add(1, Ordering::Relaxed);
        NonZeroU64::new(v).unwrap_or(NonZeroU64::MAX)
    }
}

/// A process-unique id, never 0: the identity of a layer or of one of its configurations,
/// as the `owner` of a [`SiteKey`](crate::cache::SiteKey).
///
/// ```
/// let (a, b) = (taskwire_core::ids::next_id(), taskwire_core::ids::next_id());
/// assert_ne!(a, b);
/// ```
#[inline]
pub fn next_id() -> NonZeroU64 {
    static IDS: Sequence = Sequence::new();
    IDS.next()
}

thread_local! {
    static RNG: Cell<u64> = Cell::new(seed());
}

fn seed() -> u64 {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    std::hash::Hash::hash(&std::thread::current().id(), &mut h);
    h.write_u32(std::process::id());
    h.finish()
}

/// wyrand: a fast, well-distributed 64-bit generator; one per thread.
fn next_u64() -> u64 {
    RNG.with(|s| {
        let v = s.get().wrapping_add(0xa076_1d64_78bd_642f);
        s.set(v);
        let t = u128::from(v) * u128::from(v ^ 0xe703_7ed1_a0b4_28db);
        ((t >> 64) as u64) ^ (t as u64)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_bad_input() {
        let t = TraceId::from_u128(0x0af7651916cd43dd8448eb211c80319c);
        let hex = t.to_hex();
        let s = std::str::from_utf8(&hex).unwrap();
        assert_eq!(s, "0af7651916cd43dd8448eb211c80319c");
        assert_eq!(TraceId::from_hex(s), Some(t));
        assert_eq!(TraceId::from_hex(&s.to_uppercase()), None);
        assert_eq!(TraceId::from_hex(&"0".repeat(32)), None);
        assert_eq!(TraceId::from_hex(&s[1..]), None);
        let sp = SpanId::from_u64(0xb7ad6b7169203331);
        assert_eq!(SpanId::from_hex("b7ad6b7169203331"), Some(sp));
        assert_eq!(SpanId::from_hex("0000000000000000"), None);
    }

    #[test]
    fn random_ids_are_valid_and_distinct() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let id = SpanId::random();
            assert!(id.is_valid());
            assert!(seen.insert(id));
            assert!(TraceId::random().is_valid());
        }
    }

    #[test]
    fn next_id_is_unique_across_threads() {
        let ids: Vec<u64> = (0..4)
            .map(|_| std::thread::spawn(|| (0..1000).map(|_| next_id().get()).collect::<Vec<_>>()))
            .flat_map(|h| h.join().unwrap())
            .collect();
        let unique: std::collections::HashSet<u64> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len());
    }

    #[test]
    fn threads_get_different_streams() {
        let a = std::thread::spawn(SpanId::random).join().unwrap();
        let b = std::thread::spawn(SpanId::random).join().unwrap();
        assert_ne!(a, b);
    }
}
