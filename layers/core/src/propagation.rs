//! W3C Trace Context (Level 2) on the wire: the `traceparent` and `tracestate` codec, and the
//! carrier traits that move them through any transport.
//!
//! Free of HTTP types: HTTP integrations, message queues and anything else only move `(&str,
//! &str)` pairs between their own header type and [`Injector`] / [`Extractor`].
//!
//! Parsing is strict, as the spec and its official test suite require: lowercase hex only, exact
//! lengths, all-zero ids and version `ff` refused, future versions parsed by the rules for them,
//! duplicate `traceparent` headers refused, optional surrounding whitespace tolerated. Of the
//! trace flags, the two Level 2 defines are kept (`sampled`, `0x01`, and `random-trace-id`,
//! `0x02`) and the reserved bits are dropped. A header that fails is counted ([`stats`]) and
//! the receiver starts a new root; nothing here panics or allocates for a valid `traceparent`.
//!
//! ```
//! use taskwire_core::propagation::TraceParent;
//!
//! let tp = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03").unwrap();
//! assert!(tp.sampled && tp.random);
//! assert_eq!(tp.to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03");
//! assert!(TraceParent::parse("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01").is_none());
//! ```

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::ids::{hex_val, SpanId, TraceId};

/// The `traceparent` header name.
pub const TRACEPARENT: &str = "traceparent";
/// The `tracestate` header name.
pub const TRACESTATE: &str = "tracestate";

/// Longest `traceparent` value looked at: anything longer is refused unread. Version 00 is 55
/// characters; future versions may append fields, and 512 leaves them room.
const MAX_TRACEPARENT: usize = 512;
/// Longest combined `tracestate` looked at (32 members of at most 256 + 256 + separators).
const MAX_TRACESTATE: usize = 32 * 520;

/// A parsed `traceparent`: the remote task's trace id, its span id (our parent) and its two
/// trace flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TraceParent {
    /// The trace the remote task belongs to.
    pub trace_id: TraceId,
    /// The remote task's span id: the parent of the task that imports it.
    pub span_id: SpanId,
    /// The sampled flag (bit 0 of trace-flags, [`FLAG_SAMPLED`]).
    pub sampled: bool,
    /// The random-trace-id flag (bit 1 of trace-flags, [`FLAG_RANDOM`], W3C Trace Context
    /// Level 2): at least the right-most 7 bytes of the trace id are random. It belongs to the
    /// trace id, so every `traceparent` sent with the same trace id carries it unchanged.
    pub random: bool,
}

/// The `sampled` bit of trace-flags.
pub const FLAG_SAMPLED: u8 = 0x01;
/// The `random-trace-id` bit of trace-flags (W3C Trace Context Level 2).
pub const FLAG_RANDOM: u8 = 0x02;

impl TraceParent {
    /// Parses one `traceparent` value. Leading and trailing spaces and tabs are ignored.
    /// Returns `None` for anything the spec says to refuse, and counts it in [`stats`].
    pub fn parse(value: &str) -> Option<TraceParent> {
        let r = parse_traceparent(value);
        if r.is_none() {
            STATS.malformed_traceparent.fetch_add(1, Ordering::Relaxed);
        }
        r
    }

    /// The trace-flags byte: [`FLAG_SAMPLED`] and [`FLAG_RANDOM`] as set; reserved bits zero.
    ///
    /// ```
    /// use taskwire_core::propagation::TraceParent;
    /// let tp = TraceParent::parse("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-ff").unwrap();
    /// assert_eq!(tp.flags(), 0x03);
    /// ```
    pub const fn flags(&self) -> u8 {
        (if self.sampled { FLAG_SAMPLED } else { 0 }) | (if self.random { FLAG_RANDOM } else { 0 })
    }

    /// The version-00 rendering: 55 ASCII bytes, without allocating.
    pub fn to_bytes(&self) -> [u8; 55] {
        let mut out = [b'-'; 55];
        out[0] = b'0';
        out[1] = b'0';
        out[3..35].copy_from_slice(&self.trace_id.to_hex());
        out[36..52].copy_from_slice(&self.span_id.to_hex());
        out[53] = b'0';
        // Flags are at most 0x03: one hex digit.
        out[54] = b'0' + self.flags();
        out
    }

    /// Calls `f` with the rendering as a `&str`, without allocating.
    pub fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        let bytes = self.to_bytes();
        // Hex digits and '-' are ASCII.
        f(std::str::from_utf8(&bytes).unwrap_or_default())
    }
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.with_str(|s| f.write_str(s))
    }
}

fn trim_ows(s: &str) -> &str {
    s.trim_matches(|c| c == ' ' || c == '\t')
}

fn parse_traceparent(value: &str) -> Option<TraceParent> {
    if value.len() > MAX_TRACEPARENT + 64 {
        return None;
    }
    let v = trim_ows(value).as_bytes();
    if v.len() < 55 || v.len() > MAX_TRACEPARENT {
        return None;
    }
    let version = (hex_val(v[0])? << 4) | hex_val(v[1])?;
    if version == 0xff {
        return None;
    }
    if version == 0 && v.len() != 55 {
        return None;
    }
    // A future version may append fields after a '-'; only the version-00 prefix is read.
    if v.len() > 55 && v[55] != b'-' {
        return None;
    }
    if v[2] != b'-' || v[35] != b'-' || v[52] != b'-' {
        return None;
    }
    let mut trace: u128 = 0;
    for &c in &v[3..35] {
        trace = (trace << 4) | u128::from(hex_val(c)?);
    }
    let mut span: u64 = 0;
    for &c in &v[36..52] {
        span = (span << 4) | u64::from(hex_val(c)?);
    }
    let flags = (hex_val(v[53])? << 4) | hex_val(v[54])?;
    if trace == 0 || span == 0 {
        return None;
    }
    Some(TraceParent {
        trace_id: TraceId::from_u128(trace),
        span_id: SpanId::from_u64(span),
        sampled: flags & FLAG_SAMPLED != 0,
        random: flags & FLAG_RANDOM != 0,
    })
}

/// A validated `tracestate`: at most 32 `key=value` members, each key once, in order.
///
/// Keys follow W3C Trace Context Level 2: a lowercase letter or digit, then up to 255 of
/// `a`-`z`, `0`-`9`, `_`, `-`, `*`, `/` and `@`. A key that arrives twice is kept once, with
/// its first (left-most) value, as the spec allows.
///
/// ```
/// use taskwire_core::propagation::TraceState;
/// let ts = TraceState::parse_headers(["rojo=00f067aa0ba902b7", " congo=t61rcWkgMzE "]).unwrap();
/// assert_eq!(ts.as_str(), "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
/// let ts = TraceState::parse_headers(["a=1,b@=2", "a=3"]).unwrap();
/// assert_eq!(ts.as_str(), "a=1,b@=2"); // the later duplicate of `a` is discarded
/// assert!(TraceState::parse_headers(["@a=1,b=2"]).is_none()); // invalid key: all dropped
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TraceState(String);

impl TraceState {
    /// Combines the values of every `tracestate` header (in order) and validates them. `None`
    /// when the result is invalid (a bad key or value, more than 32 members): the whole
    /// `tracestate` is then dropped, as the spec's test suite expects, and counted. A key that
    /// repeats keeps its first value; the later members with that key are discarded (counted
    /// in [`PropagationStats::duplicate_tracestate_keys`]). Empty members are skipped; an empty
    /// result is `Some` of an empty state.
    pub fn parse_headers<'a, I>(values: I) -> Option<TraceState>
    where
        I: IntoIterator<Item = &'a str>,
    {
        let r = parse_tracestate(values);
        if r.is_none() {
            STATS.malformed_tracestate.fetch_add(1, Ordering::Relaxed);
        }
        r
    }

    /// The normalized header value (members joined by `,`).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether there are no members.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The value of member `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .split(',')
            .filter_map(|m| m.split_once('='))
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v)
    }
}

fn parse_tracestate<'a, I>(values: I) -> Option<TraceState>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut out = String::new();
    let mut members = 0usize;
    let mut duplicates = 0u64;
    let mut total = 0usize;
    for header in values {
        total += header.len();
        if total > MAX_TRACESTATE {
            return None;
        }
        for member in header.split(',') {
            let m = trim_ows(member);
            if m.is_empty() {
                continue;
            }
            let (key, value) = m.split_once('=')?;
            if !valid_key(key) || !valid_value(value) {
                return None;
            }
            // The limit is on the list as received, duplicates included.
            members += 1;
            if members > 32 {
                return None;
            }
            if out
                .split(',')
                .any(|existing| existing.split_once('=').map(|(k, _)| k) == Some(key))
            {
                duplicates += 1;
                continue;
            }
            if !out.is_empty() {
                out.push(',');
            }
            out.push_str(key);
            out.push('=');
            out.push_str(value);
        }
    }
    if duplicates > 0 {
        STATS
            .duplicate_tracestate_keys
            .fetch_add(duplicates, Ordering::Relaxed);
    }
    Some(TraceState(out))
}

/// W3C Trace Context Level 2: `key = (lcalpha / DIGIT) 0*255(keychar)`, `keychar = lcalpha /
/// DIGIT / "_" / "-" / "*" / "/" / "@"`. (Level 1's `tenant@system` split is gone: `@` is a
/// key character like the others, except first.)
fn valid_key(key: &str) -> bool {
    let k = key.as_bytes();
    let key_char = |c: &u8| {
        c.is_ascii_lowercase()
            || c.is_ascii_digit()
            || matches!(c, b'_' | b'-' | b'*' | b'/' | b'@')
    };
    match k.split_first() {
        Some((first, rest)) => {
            k.len() <= 256
                && (first.is_ascii_lowercase() || first.is_ascii_digit())
                && rest.iter().all(key_char)
        }
        None => false,
    }
}

fn valid_value(value: &str) -> bool {
    let v = value.as_bytes();
    let nblk = |c: u8| matches!(c, 0x21..=0x2b | 0x2d..=0x3c | 0x3e..=0x7e);
    !v.is_empty()
        && v.len() <= 256
        && v.iter().all(|&c| c == 0x20 || nblk(c))
        && v.last().is_some_and(|&c| nblk(c))
}

/// Writes propagation fields into a carrier (HTTP headers, message metadata, …).
pub trait Injector {
    /// Sets `key` to `value`, replacing any earlier value.
    fn set(&mut self, key: &str, value: &str);
}

/// Reads propagation fields from a carrier.
pub trait Extractor {
    /// Calls `f` with each value of `key`, in order (HTTP allows a header several times).
    fn for_each(&self, key: &str, f: &mut dyn FnMut(&str));
}

impl Injector for Vec<(String, String)> {
    fn set(&mut self, key: &str, value: &str) {
        self.retain(|(k, _)| !k.eq_ignore_ascii_case(key));
        self.push((key.to_owned(), value.to_owned()));
    }
}

impl Injector for std::collections::HashMap<String, String> {
    fn set(&mut self, key: &str, value: &str) {
        self.insert(key.to_owned(), value.to_owned());
    }
}

impl Extractor for [(&str, &str)] {
    fn for_each(&self, key: &str, f: &mut dyn FnMut(&str)) {
        for (k, v) in self {
            if k.eq_ignore_ascii_case(key) {
                f(v);
            }
        }
    }
}

impl Extractor for Vec<(String, String)> {
    fn for_each(&self, key: &str, f: &mut dyn FnMut(&str)) {
        for (k, v) in self {
            if k.eq_ignore_ascii_case(key) {
                f(v);
            }
        }
    }
}

impl Extractor for std::collections::HashMap<String, String> {
    fn for_each(&self, key: &str, f: &mut dyn FnMut(&str)) {
        if let Some(v) = self.get(key) {
            f(v);
        }
    }
}

/// What an extractor carried: the remote parent, if valid, and the trace state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Extracted {
    /// The remote parent; `None` when absent or refused (the receiver starts a new root).
    pub parent: Option<TraceParent>,
    /// The trace state; empty when absent, refused, or when `parent` is `None`.
    pub state: TraceState,
}

/// Reads `traceparent` and `tracestate` from `carrier`. More than one `traceparent` is refused
/// (counted) and yields no parent; `tracestate` is only kept with a valid parent.
pub fn extract(carrier: &(impl Extractor + ?Sized)) -> Extracted {
    let mut count = 0;
    let mut parent = None;
    carrier.for_each(TRACEPARENT, &mut |v| {
        count += 1;
        if count == 1 {
            parent = TraceParent::parse(v);
        }
    });
    if count > 1 {
        if parent.is_some() {
            STATS.malformed_traceparent.fetch_add(1, Ordering::Relaxed);
        }
        parent = None;
    }
    let state = if parent.is_some() {
        let mut values: Vec<String> = Vec::new();
        carrier.for_each(TRACESTATE, &mut |v| values.push(v.to_owned()));
        if values.is_empty() {
            TraceState::default()
        } else {
            TraceState::parse_headers(values.iter().map(String::as_str)).unwrap_or_default()
        }
    } else {
        TraceState::default()
    };
    Extracted { parent, state }
}

/// Writes `traceparent` (and `tracestate` when not empty) into `carrier`.
pub fn inject(carrier: &mut (impl Injector + ?Sized), parent: &TraceParent, state: &TraceState) {
    parent.with_str(|s| carrier.set(TRACEPARENT, s));
    if !state.is_empty() {
        carrier.set(TRACESTATE, state.as_str());
    }
}

/// Counts of refused propagation headers since the process started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PropagationStats {
    /// `traceparent` values refused (malformed, hostile, duplicated).
    pub malformed_traceparent: u64,
    /// `tracestate` values dropped as invalid.
    pub malformed_tracestate: u64,
    /// `tracestate` members discarded because their key came earlier in the same list (the
    /// rest of that `tracestate` is kept).
    pub duplicate_tracestate_keys: u64,
}

struct Stats {
    malformed_traceparent: AtomicU64,
    malformed_tracestate: AtomicU64,
    duplicate_tracestate_keys: AtomicU64,
}

static STATS: Stats = Stats {
    malformed_traceparent: AtomicU64::new(0),
    malformed_tracestate: AtomicU64::new(0),
    duplicate_tracestate_keys: AtomicU64::new(0),
};

/// The process-wide counts of refused headers.
pub fn stats() -> PropagationStats {
    PropagationStats {
        malformed_traceparent: STATS.malformed_traceparent.load(Ordering::Relaxed),
        malformed_tracestate: STATS.malformed_tracestate.load(Ordering::Relaxed),
        duplicate_tracestate_keys: STATS.duplicate_tracestate_keys.load(Ordering::Relaxed),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

    #[test]
    fn valid_traceparent_round_trips() {
        let tp = TraceParent::parse(VALID).unwrap();
        assert_eq!(
            tp.trace_id,
            TraceId::from_u128(0x0af7651916cd43dd8448eb211c80319c)
        );
        assert_eq!(tp.span_id, SpanId::from_u64(0xb7ad6b7169203331));
        assert!(tp.sampled);
        assert_eq!(tp.to_string(), VALID);
        assert_eq!(TraceParent::parse(&format!(" \t{VALID}\t ")), Some(tp));
    }

    #[test]
    fn refuses_what_the_spec_refuses() {
        let bad = [
            "",
            "00",
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0",
            "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g",
            "0g-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\r\nx: y",
            "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01x",
        ];
        for b in bad {
            assert_eq!(TraceParent::parse(b), None, "{b:?}");
        }
        assert_eq!(TraceParent::parse(&"0".repeat(5_000_000)), None);
    }

    #[test]
    fn future_versions_are_read_by_their_rules() {
        let tp = TraceParent::parse(
            "cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-09-what-the-future",
        )
        .unwrap();
        assert!(tp.sampled);
        assert_eq!(tp.to_string(), VALID); // re-emitted as version 00, flags masked
        assert!(
            TraceParent::parse("cc-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").is_some()
        );
    }

    #[test]
    fn tracestate_rules() {
        let ok = TraceState::parse_headers(["foo=1,bar@baz=2", "", "  ,x=y z"]).unwrap();
        assert_eq!(ok.as_str(), "foo=1,bar@baz=2,x=y z");
        assert_eq!(ok.get("bar@baz"), Some("2"));
        for bad in [
            "Foo=1",
            "foo=",
            "@foo=x",
            "_foo=x",
            "foo.bar=x",
            "foo=b\tr",
            "foo=a=b",
            "foo",
            "=1",
            "t@SYS=1",
        ] {
            assert!(TraceState::parse_headers([bad]).is_none(), "{bad:?}");
        }
        for good in ["1foo=x", "foo@=x", "foo@@bar=x", "a@b@c=x", "0=x", "9@=x"] {
            let ts = TraceState::parse_headers([good]).unwrap();
            assert_eq!(ts.as_str(), good);
        }
        assert!(TraceState::parse_headers([format!("{}=1", "k".repeat(256)).as_str()]).is_some());
        assert!(TraceState::parse_headers([format!("{}=1", "k".repeat(257)).as_str()]).is_none());
        let m32: Vec<String> = (0..32).map(|i| format!("k{i}=v")).collect();
        assert!(TraceState::parse_headers([m32.join(",").as_str()]).is_some());
        let m33: Vec<String> = (0..33).map(|i| format!("k{i}=v")).collect();
        assert!(TraceState::parse_headers([m33.join(",").as_str()]).is_none());
    }

    #[test]
    fn duplicate_tracestate_keys_keep_the_first_member() {
        let before = stats().duplicate_tracestate_keys;
        let ts = TraceState::parse_headers(["foo=1,bar=2,foo=3", "bar=4,baz=5"]).unwrap();
        assert_eq!(ts.as_str(), "foo=1,bar=2,baz=5");
        assert!(stats().duplicate_tracestate_keys >= before + 2);
        let ts = TraceState::parse_headers(["foo=1,foo=1"]).unwrap();
        assert_eq!(ts.as_str(), "foo=1");
    }

    #[test]
    fn random_flag_round_trips_and_reserved_bits_drop() {
        for (flags, sampled, random, out) in [
            ("00", false, false, "00"),
            ("01", true, false, "01"),
            ("02", false, true, "02"),
            ("03", true, true, "03"),
            ("04", false, false, "00"),
            ("fe", false, true, "02"),
            ("ff", true, true, "03"),
        ] {
            let tp = TraceParent::parse(&format!("{}{flags}", &VALID[..53])).unwrap();
            assert_eq!((tp.sampled, tp.random), (sampled, random), "{flags}");
            assert_eq!(tp.to_string(), format!("{}{out}", &VALID[..53]));
        }
    }

    #[test]
    fn duplicate_traceparent_headers_restart() {
        let pairs = [
            (TRACEPARENT, VALID),
            (TRACEPARENT, VALID),
            (TRACESTATE, "a=b"),
        ];
        let e = extract(&pairs[..]);
        assert_eq!(e, Extracted::default());
        let pairs = [
            ("TraceParent", VALID),
            (TRACESTATE, "a=b"),
            (TRACESTATE, "c=d"),
        ];
        let e = extract(&pairs[..]);
        assert!(e.parent.is_some());
        assert_eq!(e.state.as_str(), "a=b,c=d");
    }

    #[test]
    fn inject_then_extract() {
        let tp = TraceParent::parse(VALID).unwrap();
        let ts = TraceState::parse_headers(["k=v"]).unwrap();
        let mut carrier: Vec<(String, String)> = Vec::new();
        inject(&mut carrier, &tp, &ts);
        let e = extract(&carrier);
        assert_eq!(e.parent, Some(tp));
        assert_eq!(e.state, ts);
    }
}
