//! The spool file format: every field of a [`Batch`], length-prefixed, with a checksum.
//!
//! ```text
//! "taskwire-spool 1\n"
//! u32 entries, then per entry: u64 key, batch
//! batch:  u64 samples_per_ticket, u64 max_tag_values, u32 groups, group…
//! group:  str fingerprint, seed, opt str title, u64 count, i64 first_seen, i64 last_seen,
//!         opt str release, u32 tags (str key, str value, u64 count)…, u32 samples, sample…
//! seed:   u8 level, opt str service, str target, opt str module, opt str file, opt u32 line
//! sample: i64 time, opt u8 level, str message, str fields, str spans, opt str trace_id,
//!         opt str span_id, opt str service, str host, u32 pid, str thread, opt str release,
//!         str errors
//! u64 FNV-1a of everything before it
//! ```
//!
//! Integers are little-endian, strings a `u32` byte length and UTF-8, options a `0`/`1` byte
//! and the value. Decoding checks every length against what is left, so a damaged file is an
//! error, never a panic or a huge allocation.

use std::fmt;

use crate::store::{Batch, GroupUpdate, JsonText, Level, Sample, TagCount, TicketSeed, Timestamp};

use super::Entry;

const MAGIC: &[u8] = b"taskwire-spool 1\n";

const LEVELS: [Level; 5] = [
    Level::TRACE,
    Level::DEBUG,
    Level::INFO,
    Level::WARN,
    Level::ERROR,
];

fn level_code(l: Level) -> u8 {
    LEVELS.iter().position(|x| *x == l).map_or(4, |i| i as u8)
}

/// Why bytes are not a spool file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DecodeError(&'static str);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not a complete taskwire spool file: {}", self.0)
    }
}

impl std::error::Error for DecodeError {}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The bytes of a spool file holding `entries`.
pub(crate) fn encode(entries: &[Entry]) -> Vec<u8> {
    let mut w = Writer(Vec::with_capacity(4096));
    w.0.extend_from_slice(MAGIC);
    w.len(entries.len());
    for (key, b) in entries {
        w.u64(*key);
        w.u64(b.samples_per_ticket as u64);
        w.u64(b.max_tag_values as u64);
        w.len(b.groups.len());
        for g in &b.groups {
            w.str(&g.fingerprint);
            let s = &g.seed;
            w.0.push(level_code(s.level));
            w.opt_str(s.service.as_deref());
            w.str(&s.target);
            w.opt_str(s.module.as_deref());
            w.opt_str(s.file.as_deref());
            match s.line {
                Some(l) => {
                    w.0.push(1);
                    w.u32(l);
                }
                None => w.0.push(0),
            }
            w.opt_str(g.title.as_deref());
            w.u64(g.count);
            w.i64(g.first_seen.as_micros());
            w.i64(g.last_seen.as_micros());
            w.opt_str(g.release.as_deref());
            w.len(g.tags.len());
            for t in &g.tags {
                w.str(&t.key);
                w.str(&t.value);
                w.u64(t.count);
            }
            w.len(g.samples.len());
            for s in &g.samples {
                w.i64(s.time.as_micros());
                match s.level {
                    Some(l) => {
                        w.0.push(1);
                        w.0.push(level_code(l));
                    }
                    None => w.0.push(0),
                }
                w.str(&s.message);
                w.str(s.fields.as_str());
                w.str(s.spans.as_str());
                w.opt_str(s.trace_id.as_deref());
                w.opt_str(s.span_id.as_deref());
                w.opt_str(s.service.as_deref());
                w.str(&s.host);
                w.u32(s.pid);
                w.str(&s.thread);
                w.opt_str(s.release.as_deref());
                w.str(s.errors.as_str());
            }
        }
    }
    let sum = fnv1a(&w.0);
    w.u64(sum);
    w.0
}

/// The entries of a spool file's bytes.
pub(crate) fn decode(bytes: &[u8]) -> Result<Vec<Entry>, DecodeError> {
    let body_len = bytes.len().checked_sub(8).ok_or(DecodeError("too short"))?;
    let (body, sum) = bytes.split_at(body_len);
    let sum = u64::from_le_bytes(sum.try_into().map_err(|_| DecodeError("too short"))?);
    let body = body
        .strip_prefix(MAGIC)
        .ok_or(DecodeError("unknown header"))?;
    if fnv1a(&bytes[..body_len]) != sum {
        return Err(DecodeError("checksum mismatch"));
    }
    let mut r = Reader(body);
    let n = r.len(8)?;
    let mut entries = Vec::with_capacity(n);
    for _ in 0..n {
        let key = r.u64()?;
        let samples_per_ticket = r.usize()?;
        let max_tag_values = r.usize()?;
        let ng = r.len(20)?;
        let mut groups = Vec::with_capacity(ng);
        for _ in 0..ng {
            let fingerprint = r.string()?;
            let level = r.level()?;
            let service = r.opt_string()?;
            let target = r.string()?;
            let mut seed = TicketSeed::new(level, target);
            seed.service = service;
            seed.module = r.opt_string()?;
            seed.file = r.opt_string()?;
            seed.line = if r.flag()? { Some(r.u32()?) } else { None };
            let title = r.opt_string()?;
            let count = r.u64()?;
            let first_seen = Timestamp::from_micros(r.i64()?);
            let last_seen = Timestamp::from_micros(r.i64()?);
            let mut g = GroupUpdate::new(fingerprint, seed, count, first_seen, last_seen);
            g.title = title;
            g.release = r.opt_string()?;
            let nt = r.len(16)?;
            g.tags.reserve(nt);
            for _ in 0..nt {
                g.tags.push(TagCount {
                    key: r.string()?,
                    value: r.string()?,
                    count: r.u64()?,
                });
            }
            let ns = r.len(40)?;
            g.samples.reserve(ns);
            for _ in 0..ns {
                let mut s = Sample::new(Timestamp::from_micros(r.i64()?));
                s.level = if r.flag()? { Some(r.level()?) } else { None };
                s.message = r.string()?;
                s.fields = JsonText::from_stored(r.string()?);
                s.spans = JsonText::from_stored(r.string()?);
                s.trace_id = r.opt_string()?;
                s.span_id = r.opt_string()?;
                s.service = r.opt_string()?;
                s.host = r.string()?;
                s.pid = r.u32()?;
                s.thread = r.string()?;
                s.release = r.opt_string()?;
                s.errors = JsonText::from_stored(r.string()?);
                g.samples.push(s);
            }
            groups.push(g);
        }
        let mut batch = Batch::new(groups);
        batch.samples_per_ticket = samples_per_ticket;
        batch.max_tag_values = max_tag_values;
        entries.push((key, batch));
    }
    if !r.0.is_empty() {
        return Err(DecodeError("trailing bytes"));
    }
    Ok(entries)
}

struct Writer(Vec<u8>);

impl Writer {
    fn u32(&mut self, v: u32) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn i64(&mut self, v: i64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
    fn str(&mut self, s: &str) {
        // Strings longer than 4 GiB cannot occur (fields are truncated); cut rather than panic.
        let n = s.len().min(u32::MAX as usize);
        let mut cut = n;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        self.len(cut);
        self.0.extend_from_slice(&s.as_bytes()[..cut]);
    }
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => {
                self.0.push(1);
                self.str(s);
            }
            None => self.0.push(0),
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        if self.0.len() < n {
            return Err(DecodeError("truncated"));
        }
        let (a, b) = self.0.split_at(n);
        self.0 = b;
        Ok(a)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        self.take(N)?
            .try_into()
            .map_err(|_| DecodeError("truncated"))
    }
    fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(self.array::<1>()?[0])
    }
    fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn i64(&mut self) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.array()?))
    }
    fn usize(&mut self) -> Result<usize, DecodeError> {
        usize::try_from(self.u64()?).map_err(|_| DecodeError("number too large"))
    }
    /// A count of items of at least `min_size` bytes each, checked against what is left.
    fn len(&mut self, min_size: usize) -> Result<usize, DecodeError> {
        let n = self.u32()? as usize;
        if n.saturating_mul(min_size) > self.0.len() {
            return Err(DecodeError("count beyond the end"));
        }
        Ok(n)
    }
    fn flag(&mut self) -> Result<bool, DecodeError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError("invalid option tag")),
        }
    }
    fn level(&mut self) -> Result<Level, DecodeError> {
        LEVELS
            .get(self.u8()? as usize)
            .copied()
            .ok_or(DecodeError("invalid level"))
    }
    fn string(&mut self) -> Result<String, DecodeError> {
        let n = self.u32()? as usize;
        let b = self.take(n)?;
        std::str::from_utf8(b)
            .map(str::to_owned)
            .map_err(|_| DecodeError("invalid UTF-8"))
    }
    fn opt_string(&mut self) -> Result<Option<String>, DecodeError> {
        Ok(if self.flag()? {
            Some(self.string()?)
        } else {
            None
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn level() -> impl Strategy<Value = Level> {
        (0usize..5).prop_map(|i| LEVELS[i])
    }

    fn sample() -> impl Strategy<Value = Sample> {
        (
            any::<i64>(),
            proptest::option::of(level()),
            ".*",
            ".*",
            proptest::option::of("[0-9a-f]{0,32}"),
            proptest::option::of(".*"),
            ".*",
            any::<u32>(),
            ".*",
        )
            .prop_map(|(t, l, m, f, tr, rel, host, pid, thread)| {
                let mut s = Sample::new(Timestamp::from_micros(t));
                s.level = l;
                s.message = m;
                s.fields = JsonText::from_stored(f);
                s.trace_id = tr.clone();
                s.span_id = tr.map(|t| t.chars().take(16).collect());
                s.service = rel.clone();
                s.release = rel;
                s.host = host;
                s.pid = pid;
                s.thread = thread;
                s
            })
    }

    fn group() -> impl Strategy<Value = GroupUpdate> {
        (
            ".*",
            level(),
            proptest::option::of(".*"),
            ".*",
            proptest::option::of(any::<u32>()),
            proptest::option::of(".*"),
            any::<u64>(),
            (any::<i64>(), any::<i64>()),
            proptest::collection::vec((".*", ".*", any::<u64>()), 0..4),
            proptest::collection::vec(sample(), 0..3),
        )
            .prop_map(
                |(fp, l, service, target, line, title, count, (a, b), tags, samples)| {
                    let mut seed = TicketSeed::new(l, target);
                    seed.service = service.clone();
                    seed.module = service;
                    seed.line = line;
                    let mut g = GroupUpdate::new(
                        fp,
                        seed,
                        count,
                        Timestamp::from_micros(a),
                        Timestamp::from_micros(b),
                    );
                    g.title = title.clone();
                    g.release = title;
                    g.tags = tags
                        .into_iter()
                        .map(|(key, value, count)| TagCount { key, value, count })
                        .collect();
                    g.samples = samples;
                    g
                },
            )
    }

    fn entries() -> impl Strategy<Value = Vec<Entry>> {
        proptest::collection::vec(
            (
                any::<u64>(),
                proptest::collection::vec(group(), 0..4),
                0usize..1000,
                0usize..1000,
            )
                .prop_map(|(k, groups, n, m)| {
                    let mut b = Batch::new(groups);
                    b.samples_per_ticket = n;
                    b.max_tag_values = m;
                    (k, b)
                }),
            0..3,
        )
    }

    proptest! {
        #[test]
        fn every_batch_round_trips(e in entries()) {
            prop_assert_eq!(decode(&encode(&e)).unwrap(), e);
        }

        #[test]
        fn a_cut_or_flipped_file_is_an_error_never_a_panic(
            e in entries(),
            cut in any::<prop::sample::Index>(),
            flip in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let bytes = encode(&e);
            let n = cut.index(bytes.len());
            prop_assert!(decode(&bytes[..n]).is_err());
            let mut flipped = bytes.clone();
            let i = flip.index(flipped.len());
            flipped[i] ^= 1 << bit;
            prop_assert!(decode(&flipped).is_err());
        }

        #[test]
        fn any_bytes_decode_without_panicking(b in proptest::collection::vec(any::<u8>(), 0..512)) {
            // With a valid header and checksum, so the parser itself meets the bytes.
            let mut framed = MAGIC.to_vec();
            framed.extend_from_slice(&b);
            let sum = fnv1a(&framed);
            framed.extend_from_slice(&sum.to_le_bytes());
            let _ = decode(&b);
            let _ = decode(&framed);
        }
    }
}
