//! Picking lines before parsing them, the way `grep` does: a substring search (`memmem`) runs
//! over whole 4 MiB blocks of the input, not line by line, and only the lines around its hits are
//! looked at. A query that names a trace, or values a record must contain, reads 1 GB of logs
//! at the speed of that search (the inputs are scanned on every core, one input per thread), and
//! parses only the few lines it picked.
//!
//! The invariant (tested in `super::tests::prefilter`): every line the reader would keep is
//! picked. The searches are for strings that any line it keeps must contain as written (a trace
//! id's hex digits, a value without characters JSON escapes, the `"trace_id"` key), so picking
//! changes what is read, never what is found.

use std::collections::HashSet;
use std::io::{self, Read};

use memchr::memmem::Finder;

use super::strings::FxBuild;
use crate::source::Source;

/// The size of the blocks read and searched (a longer line grows the buffer to hold it).
const BLOCK: usize = 4 << 20;

/// The lines of one input that were picked, in their order.
#[derive(Debug, Default)]
pub(crate) struct Picked {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    /// The last line picked ended the input without a newline.
    pub(crate) last_incomplete: bool,
    /// Lines longer than the limit, skipped unread.
    pub(crate) too_long: u64,
}

impl Picked {
    fn push(&mut self, line: &[u8]) {
        self.bytes.extend_from_slice(line);
        self.ends.push(self.bytes.len());
    }

    /// The lines picked, without their newlines.
    pub(crate) fn lines(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(s, &e)| &self.bytes[s..e])
    }

    /// How many lines were picked.
    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }
}

/// Which lines to pick: `hit` finds a place in a block where a line worth looking at may be
/// (a substring search), `keep` decides on the whole line around it.
pub(crate) trait Pick: Sync {
    /// The offset of the next place in `block` worth looking at.
    fn hit(&self, block: &[u8]) -> Option<usize>;
    /// Whether the line around a hit is picked.
    fn keep(&self, line: &[u8]) -> bool;
}

/// The lines that contain one string.
pub(crate) struct Containing<'a>(pub(crate) &'a Finder<'a>);

impl Pick for Containing<'_> {
    fn hit(&self, block: &[u8]) -> Option<usize> {
        self.0.find(block)
    }
    fn keep(&self, _: &[u8]) -> bool {
        true
    }
}

/// The lines that may match a query: they contain its longest literal (found over the block),
/// and all the others.
pub(crate) struct Matching<'a>(pub(crate) &'a crate::query::Matcher);

impl Pick for Matching<'_> {
    fn hit(&self, block: &[u8]) -> Option<usize> {
        self.0.longest_needle().and_then(|n| n.find(block))
    }
    fn keep(&self, line: &[u8]) -> bool {
        self.0.may_match(line)
    }
}

/// The lines with a `"trace_id"` whose value is one of a set of traces.
pub(crate) struct OfTraces<'a> {
    key: Finder<'static>,
    traces: &'a HashSet<u128, FxBuild>,
}

impl<'a> OfTraces<'a> {
    pub(crate) fn new(traces: &'a HashSet<u128, FxBuild>) -> Self {
        OfTraces {
            key: Finder::new(b"\"trace_id\"").into_owned(),
            traces,
        }
    }
}

impl Pick for OfTraces<'_> {
    fn hit(&self, block: &[u8]) -> Option<usize> {
        self.key.find(block)
    }

    /// Any `"trace_id"` key in the line (an inner object's too: the parser decides) whose
    /// value is 32 lowercase hex digits of a trace in the set.
    fn keep(&self, line: &[u8]) -> bool {
        let mut rest = line;
        while let Some(at) = self.key.find(rest) {
            rest = &rest[at + self.key.needle().len()..];
            let value = rest.trim_ascii_start();
            let Some(value) = value.strip_prefix(b":") else {
                continue;
            };
            let Some(value) = value.trim_ascii_start().strip_prefix(b"\"") else {
                continue;
            };
            let Some(hex) = value.get(..32) else {
                continue;
            };
            let id = std::str::from_utf8(hex)
                .ok()
                .and_then(super::raw::parse_hex_u128);
            if id.is_some_and(|id| self.traces.contains(&id)) {
                return true;
            }
        }
        false
    }
}

/// Reads `input` to its end in blocks and returns the lines `pick` picks; lines longer than
/// `max_line` are counted and skipped.
pub(crate) fn grep(mut input: impl Read, max_line: usize, pick: &impl Pick) -> io::Result<Picked> {
    let mut buf = vec![0u8; BLOCK.min(max_line.max(1))];
    let mut picked = Picked::default();
    // bytes in `buf`: the start of a line not yet ended, then what was just read
    let mut len = 0;
    // inside a line over the limit: everything up to its newline is dropped
    let mut skipping = false;
    loop {
        if len == buf.len() {
            if len >= max_line {
                picked.too_long += 1;
                skipping = true;
                len = 0;
            } else {
                buf.resize((2 * len).min(max_line), 0);
            }
        }
        let n = match input.read(&mut buf[len..]) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let mut start = 0;
        if skipping {
            match memchr::memchr(b'\n', &buf[len..len + n]) {
                Some(i) => {
                    start = len + i + 1;
                    skipping = false;
                }
                None => continue,
            }
        }
        len += n;
        match memchr::memrchr(b'\n', &buf[start..len]) {
            Some(i) => {
                let end = start + i + 1;
                scan(&buf[start..end], max_line, pick, &mut picked);
                buf.copy_within(end..len, 0);
                len -= end;
            }
            None => {
                buf.copy_within(start..len, 0);
                len -= start;
            }
        }
    }
    if len > 0 && !skipping {
        let line = &buf[..len];
        if pick.hit(line).is_some() && pick.keep(line) {
            picked.push(line);
            picked.last_incomplete = true;
        }
    }
    Ok(picked)
}

/// Picks from `block`, whole lines each ending with a newline.
fn scan(block: &[u8], max_line: usize, pick: &impl Pick, picked: &mut Picked) {
    let mut at = 0;
    while at < block.len() {
        let Some(hit) = pick.hit(&block[at..]).map(|i| at + i) else {
            return;
        };
        let start = memchr::memrchr(b'\n', &block[at..hit]).map_or(at, |i| at + i + 1);
        let end = memchr::memchr(b'\n', &block[hit..]).map_or(block.len(), |i| hit + i);
        let line = &block[start..end];
        if line.len() > max_line {
            picked.too_long += 1;
        } else if pick.keep(line) {
            picked.push(line);
        }
        at = end + 1;
    }
}

/// Greps every source, several at a time (one thread per core), and returns what each gave,
/// in the sources' order.
pub(crate) fn grep_all(
    sources: &[Source],
    max_line: usize,
    pick: &impl Pick,
) -> Vec<io::Result<Picked>> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(sources.len());
    if threads <= 1 {
        return sources
            .iter()
            .map(|s| grep(s.open()?, max_line, pick))
            .collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, io::Result<Picked>)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(source) = sources.get(i) else {
                            return done;
                        };
                        done.push((i, source.open().and_then(|r| grep(r, max_line, pick))));
                    }
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| {
                w.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, r)| r).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(p: &Picked) -> Vec<String> {
        p.lines()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect()
    }

    #[test]
    fn picks_the_lines_around_each_hit_across_blocks() {
        let finder = Finder::new(b"x");
        let mut text = String::new();
        let mut want = Vec::new();
        for i in 0..300_000 {
            let line = if i % 7 == 0 {
                format!("x{i}x")
            } else {
                format!("{i}")
            };
            if i % 7 == 0 {
                want.push(line.clone());
            }
            text.push_str(&line);
            text.push('\n');
        }
        text.push_str("last x");
        want.push("last x".to_owned());
        let p = grep(text.as_bytes(), 1 << 20, &Containing(&finder)).expect("in memory");
        assert_eq!(lines(&p), want);
        assert!(p.last_incomplete);
    }

    #[test]
    fn lines_over_the_limit_are_counted_and_skipped() {
        let finder = Finder::new(b"x");
        let long = "x".repeat(3 << 20);
        let text = format!("ax\n{long}\nbx\n{long}");
        let p = grep(text.as_bytes(), 1 << 20, &Containing(&finder)).expect("in memory");
        assert_eq!((lines(&p), p.too_long), (vec!["ax".into(), "bx".into()], 2));
    }

    #[test]
    fn trace_ids_are_found_with_or_without_spaces() {
        let traces: HashSet<u128, FxBuild> =
            [0x4bf92f3577b34da6a3ce929d0e0e4736].into_iter().collect();
        let pick = OfTraces::new(&traces);
        assert!(pick.keep(br#"{"trace_id" : "4bf92f3577b34da6a3ce929d0e0e4736"}"#));
        assert!(
            pick.keep(br#"{"a":{"trace_id":"x"},"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}"#)
        );
        assert!(!pick.keep(br#"{"trace_id":"0af7651916cd43dd8448eb211c80319c"}"#));
        assert!(!pick.keep(br#"{"trace_id":"4BF92F3577B34DA6A3CE929D0E0E4736"}"#));
    }
}
