//! Picking lines before parsing them, the way `grep` does: a substring search (`memmem`) runs
//! over whole 256 KiB blocks of the input, not line by line, and only the lines around its hits are
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

/// The size of the blocks read and searched (a longer line grows the buffer to hold it): small
/// enough that a block the kernel has just copied in is still in the core's cache when it is
/// searched. Measured over 1 GB by the `explorer` bench's floor: 0.28 s of CPU time with 256 KiB
/// blocks, 0.38 s with 4 MiB.
const BLOCK: usize = 256 << 10;

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
            let id = super::raw::hex_u128(hex);
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

/// Plain files longer than this are searched in parts of this size, so that every core has
/// work until the end however the bytes are spread over the inputs.
const PART: u64 = 32 << 20;

/// One piece of work: a whole source, or the lines that start in `start..end` of a plain file.
#[derive(Clone, Copy)]
struct Work {
    source: usize,
    part: Option<(u64, u64)>,
}

/// The pieces of work `sources` make: a plain (not gzipped) file longer than `part` is cut
/// into parts; anything else is one piece.
fn split(sources: &[Source], part: u64) -> Vec<Work> {
    let mut work = Vec::new();
    for (i, source) in sources.iter().enumerate() {
        let len = match source {
            Source::File(path) => plain_len(path).unwrap_or(0),
            Source::Stdin => 0,
        };
        if len <= part.max(1) {
            work.push(Work {
                source: i,
                part: None,
            });
            continue;
        }
        let mut start = 0;
        while start < len {
            let end = (start + part.max(1)).min(len);
            // the last part reads on to the end, however long the file has grown since
            let end = if end == len { u64::MAX } else { end };
            work.push(Work {
                source: i,
                part: Some((start, end)),
            });
            start = end;
        }
    }
    work
}

/// The length of the file at `path` when it is plain text (not gzip), else `None`.
fn plain_len(path: &std::path::Path) -> Option<u64> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic).ok()?;
    if n == 2 && magic == crate::source::GZIP_MAGIC {
        return None;
    }
    file.metadata().ok().map(|m| m.len())
}

/// The lines of the file at `path` that start in `start..end`: the line cut by `start` belongs
/// to the part before, the line cut by `end` to this one.
fn part_reader(path: &std::path::Path, start: u64, end: u64) -> io::Result<impl Read> {
    use std::io::{BufRead as _, Seek as _};
    let mut file = io::BufReader::with_capacity(1 << 16, std::fs::File::open(path)?);
    let mut at = 0;
    if start > 0 {
        // from the byte before `start`: a newline there means a line starts at `start`
        file.seek(io::SeekFrom::Start(start - 1))?;
        at = start - 1 + file.skip_until(b'\n')? as u64;
    }
    Ok(UntilLineEnd {
        inner: file,
        left: end.saturating_sub(at),
        ended: at >= end,
    })
}

/// `left` bytes of `inner`, then on to the end of the line they cut.
struct UntilLineEnd<R> {
    inner: R,
    left: u64,
    ended: bool,
}

impl<R: Read> Read for UntilLineEnd<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.ended || buf.is_empty() {
            return Ok(0);
        }
        if self.left > 0 {
            let want = usize::try_from(self.left).map_or(buf.len(), |l| l.min(buf.len()));
            let n = self.inner.read(&mut buf[..want])?;
            self.left -= n as u64;
            if n == 0 {
                self.ended = true;
            } else if self.left == 0 && buf[n - 1] == b'\n' {
                // the part ends with a whole line
                self.ended = true;
            }
            return Ok(n);
        }
        let n = self.inner.read(buf)?;
        match memchr::memchr(b'\n', &buf[..n]) {
            Some(i) => {
                self.ended = true;
                Ok(i + 1)
            }
            None => {
                self.ended = n == 0;
                Ok(n)
            }
        }
    }
}

impl Picked {
    /// Appends the lines of the next part of the same input.
    fn append(&mut self, next: Picked) {
        let base = self.bytes.len();
        self.bytes.extend_from_slice(&next.bytes);
        self.ends.extend(next.ends.iter().map(|e| e + base));
        if next.len() > 0 {
            self.last_incomplete = next.last_incomplete;
        }
        self.too_long += next.too_long;
    }
}

/// Greps every source, several pieces at a time (one thread per core; long plain files in
/// parts, see [`PART`]), and returns what each gave, in the sources' order.
pub(crate) fn grep_all(
    sources: &[Source],
    max_line: usize,
    pick: &impl Pick,
) -> Vec<io::Result<Picked>> {
    grep_all_in_parts(sources, max_line, pick, PART)
}

/// [`grep_all`], with files longer than `part` bytes searched in parts of that size.
fn grep_all_in_parts(
    sources: &[Source],
    max_line: usize,
    pick: &impl Pick,
    part: u64,
) -> Vec<io::Result<Picked>> {
    let work = split(sources, part);
    let run = |w: Work| -> io::Result<Picked> {
        match (w.part, &sources[w.source]) {
            (Some((start, end)), Source::File(path)) => {
                grep(part_reader(path, start, end)?, max_line, pick)
            }
            (_, source) => grep(source.open()?, max_line, pick),
        }
    };
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(work.len());
    let mut done: Vec<(usize, io::Result<Picked>)> = if threads <= 1 {
        work.iter().map(|&w| run(w)).enumerate().collect()
    } else {
        let next = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            let workers: Vec<_> = (0..threads)
                .map(|_| {
                    scope.spawn(|| {
                        let mut done = Vec::new();
                        loop {
                            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            let Some(&w) = work.get(i) else {
                                return done;
                            };
                            done.push((i, run(w)));
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
        })
    };
    done.sort_by_key(|(i, _)| *i);
    // the parts of one source, in order, make its result; the first error is its result
    let mut results: Vec<io::Result<Picked>> = Vec::with_capacity(sources.len());
    let mut last_source = None;
    for ((_, picked), w) in done.into_iter().zip(&work) {
        if last_source == Some(w.source) {
            if let Some(last) = results.last_mut() {
                if let Ok(so_far) = last {
                    match picked {
                        Ok(p) => so_far.append(p),
                        Err(e) => *last = Err(e),
                    }
                }
            }
        } else {
            results.push(picked);
            last_source = Some(w.source);
        }
    }
    results
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

    /// Lines of every length around the part boundaries, some longer than the line limit, and
    /// a last line without its newline: searched in parts of any size, a file gives the lines
    /// it gives searched whole, in the same order.
    #[test]
    fn a_file_searched_in_parts_gives_what_it_gives_whole() {
        let dir = std::env::temp_dir().join(format!("taskwire-scan-parts-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temporary folder");
        let path = dir.join("app.jsonl");
        let mut text = String::new();
        for i in 0..400 {
            let len = (i * 37) % 90;
            let mark = if i % 3 == 0 { "x" } else { "y" };
            text.push_str(&format!("{mark}{}{i}\n", "a".repeat(len)));
        }
        text.push_str("x last");
        std::fs::write(&path, &text).expect("the file is written");
        let sources = [Source::File(path)];
        let finder = Finder::new(b"x");
        let max_line = 60;
        let whole = grep_all_in_parts(&sources, max_line, &Containing(&finder), u64::MAX);
        let whole = whole.into_iter().next().expect("one result").expect("read");
        assert!(whole.len() > 50 && whole.too_long > 0 && whole.last_incomplete);
        for part in [1, 2, 7, 64, 100, 1000, 4096] {
            let parts = grep_all_in_parts(&sources, max_line, &Containing(&finder), part);
            let p = parts.into_iter().next().expect("one result").expect("read");
            assert_eq!(lines(&p), lines(&whole), "parts of {part} bytes");
            assert_eq!((p.too_long, p.last_incomplete), (whole.too_long, true));
        }
        std::fs::remove_dir_all(&dir).expect("the folder is removed");
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
