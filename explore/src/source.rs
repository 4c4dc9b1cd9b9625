//! Sources: what the user names on the command line, turned into the files to read, and each
//! file read as lines.
//!
//! - [`expand`] turns arguments into [`Source`]s: `-` is standard input; a directory gives its
//!   `*.jsonl`, `*.log` and `*.gz` files and their rotations; a pattern with `*`, `?` or `[…]` in
//!   its last component is matched against that folder; a file brings its rotated siblings
//!   (`app.jsonl.1`, `app.jsonl.2.gz`, …), oldest (highest number) first, the live file last. A
//!   file reached twice (same canonical path) is read once.
//! - [`Source::open`] reads gzip transparently: a file (or standard input) whose first bytes are
//!   the gzip magic is decompressed, whatever its name; every member of a multi-member file is read.
//! - [`Lines`] streams one line at a time, lent from the input's buffer when it lies whole in
//!   it and gathered in one reused buffer otherwise, so memory stays bounded by the longest
//!   line kept ([`MAX_LINE`]); longer lines are skipped without being held. A last
//!   line without its newline is returned with [`Line::complete`] `false`, so the reader can tell
//!   a line cut by a writer that was still writing from a malformed one.

use std::collections::HashSet;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use flate2::bufread::MultiGzDecoder;

/// A line longer than this is skipped (and counted as malformed) without being held in memory.
pub const MAX_LINE: usize = 64 << 20;

/// Read buffer size for files.
const BUF: usize = 1 << 16;

/// The two first bytes of every gzip member.
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// One input to read.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Source {
    /// Standard input (`-`).
    Stdin,
    /// A file.
    File(PathBuf),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Stdin => f.write_str("-"),
            Source::File(p) => write!(f, "{}", p.display()),
        }
    }
}

impl Source {
    /// Opens the source for reading, decompressing gzip (detected by its magic bytes).
    pub fn open(&self) -> io::Result<Box<dyn BufRead + Send>> {
        match self {
            Source::Stdin => maybe_gzip(BufReader::with_capacity(BUF, io::stdin())),
            Source::File(p) => maybe_gzip(BufReader::with_capacity(BUF, File::open(p)?)),
        }
    }
}

/// `input` itself, or its decompression when it starts with the gzip magic.
pub fn maybe_gzip<'a, R: BufRead + Send + 'a>(
    mut input: R,
) -> io::Result<Box<dyn BufRead + Send + 'a>> {
    let head = loop {
        match input.fill_buf() {
            Ok(b) => break b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    };
    if head.starts_with(&GZIP_MAGIC) {
        Ok(Box::new(BufReader::with_capacity(
            BUF,
            MultiGzDecoder::new(input),
        )))
    } else {
        Ok(Box::new(input))
    }
}

/// An argument that named nothing readable.
#[derive(Debug)]
pub struct SourceError {
    arg: String,
    kind: SourceErrorKind,
}

#[derive(Debug)]
enum SourceErrorKind {
    Io(io::Error),
    NoMatch,
    WildcardFolder,
}

impl SourceError {
    /// The argument as given.
    pub fn arg(&self) -> &str {
        &self.arg
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            SourceErrorKind::Io(e) => write!(f, "{}: {e}", self.arg),
            SourceErrorKind::NoMatch => write!(f, "{}: no file matches this pattern", self.arg),
            SourceErrorKind::WildcardFolder => write!(
                f,
                "{}: wildcards are read in the last path component only",
                self.arg
            ),
        }
    }
}

impl std::error::Error for SourceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            SourceErrorKind::Io(e) => Some(e),
            _ => None,
        }
    }
}

/// The sources named by `args` (no argument at all means standard input), in reading order, each
/// file once; and the arguments that named nothing readable.
pub fn expand<P: AsRef<Path>>(args: &[P]) -> (Vec<Source>, Vec<SourceError>) {
    let mut out = Expansion::default();
    if args.is_empty() {
        out.push_stdin();
    }
    for arg in args {
        let path = arg.as_ref();
        let name = path.display().to_string();
        let err = |kind| SourceError {
            arg: name.clone(),
            kind,
        };
        if name == "-" {
            out.push_stdin();
        } else if path.is_dir() {
            match files_of_dir(path) {
                Ok(files) => out.push_files(files),
                Err(e) => out.errors.push(err(SourceErrorKind::Io(e))),
            }
        } else if path.exists() {
            match with_rotations(path) {
                Ok(files) => out.push_files(files),
                Err(e) => out.errors.push(err(SourceErrorKind::Io(e))),
            }
        } else if is_pattern(&name) {
            match glob(path) {
                Ok(files) if files.is_empty() => out.errors.push(err(SourceErrorKind::NoMatch)),
                Ok(files) => {
                    for f in files {
                        match with_rotations(&f) {
                            Ok(set) => out.push_files(set),
                            Err(e) => out.errors.push(err(SourceErrorKind::Io(e))),
                        }
                    }
                }
                Err(kind) => out.errors.push(err(kind)),
            }
        } else {
            // let the open report it ("No such file or directory")
            match File::open(path) {
                Err(e) => out.errors.push(err(SourceErrorKind::Io(e))),
                Ok(_) => out.push_files(vec![path.to_path_buf()]),
            }
        }
    }
    (out.sources, out.errors)
}

#[derive(Default)]
struct Expansion {
    sources: Vec<Source>,
    errors: Vec<SourceError>,
    seen: HashSet<PathBuf>,
    stdin: bool,
}

impl Expansion {
    fn push_stdin(&mut self) {
        if !self.stdin {
            self.stdin = true;
            self.sources.push(Source::Stdin);
        }
    }

    fn push_files(&mut self, files: Vec<PathBuf>) {
        for f in files {
            let key = fs::canonicalize(&f).unwrap_or_else(|_| f.clone());
            if self.seen.insert(key) {
                self.sources.push(Source::File(f));
            }
        }
    }
}

fn is_pattern(s: &str) -> bool {
    s.contains(['*', '?', '['])
}

/// The files of `dir` that hold logs (`*.jsonl`, `*.log`, `*.gz`, and rotations `*.jsonl.N`,
/// `*.log.N`), grouped by set, each set oldest first.
fn files_of_dir(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let (base, _) = rotation(name);
        let is_log = name.ends_with(".gz") || base.ends_with(".jsonl") || base.ends_with(".log");
        if is_log && entry.path().is_file() {
            files.push(entry.path());
        }
    }
    sort_sets(&mut files);
    Ok(files)
}

/// `file` and its rotated siblings (`file.N`, `file.N.gz`), oldest first.
fn with_rotations(file: &Path) -> io::Result<Vec<PathBuf>> {
    let mut set = vec![file.to_path_buf()];
    let (Some(name), Some(dir)) = (file.file_name().and_then(|n| n.to_str()), file.parent()) else {
        return Ok(set);
    };
    if rotation(name).1.is_some() {
        return Ok(set); // a rotation named by itself
    }
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        let sibling = entry.file_name();
        let Some(sibling) = sibling.to_str() else {
            continue;
        };
        if let (base, Some(_)) = rotation(sibling) {
            if base == name && entry.path().is_file() {
                set.push(dir.join(sibling));
            }
        }
    }
    sort_sets(&mut set);
    Ok(set)
}

/// Sorts files by set (base name), each set from its highest rotation number to the live file.
fn sort_sets(files: &mut [PathBuf]) {
    files.sort_by_cached_key(|p| {
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let (base, n) = rotation(name);
        (
            p.parent().map(Path::to_path_buf),
            base.to_owned(),
            std::cmp::Reverse(n),
            name.to_owned(),
        )
    });
}

/// A file name split into its set's base name and rotation number: `app.jsonl.2.gz` →
/// (`app.jsonl`, 2); `app.jsonl` → (`app.jsonl`, none); `app.jsonl.gz` → (`app.jsonl`, none).
pub fn rotation(name: &str) -> (&str, Option<u32>) {
    let plain = name.strip_suffix(".gz").unwrap_or(name);
    if let Some((base, n)) = plain.rsplit_once('.') {
        if !base.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) {
            if let Ok(n) = n.parse() {
                return (base, Some(n));
            }
        }
    }
    (plain, None)
}

/// The files matching a pattern whose wildcards are in the last component, sorted by set.
fn glob(pattern: &Path) -> Result<Vec<PathBuf>, SourceErrorKind> {
    let (dir, last) = match (
        pattern.parent(),
        pattern.file_name().and_then(|n| n.to_str()),
    ) {
        (Some(d), Some(l)) => (d, l),
        _ => return Err(SourceErrorKind::NoMatch),
    };
    if is_pattern(&dir.display().to_string()) {
        return Err(SourceErrorKind::WildcardFolder);
    }
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let mut files = Vec::new();
    for entry in fs::read_dir(dir).map_err(SourceErrorKind::Io)? {
        let entry = entry.map_err(SourceErrorKind::Io)?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if wildcard_match(last.as_bytes(), name.as_bytes()) && entry.path().is_file() {
            files.push(
                if pattern.parent().is_some_and(|d| d.as_os_str().is_empty()) {
                    PathBuf::from(name)
                } else {
                    dir.join(name)
                },
            );
        }
    }
    sort_sets(&mut files);
    Ok(files)
}

/// Shell wildcards: `*` any run, `?` one byte, `[abc]`/`[a-z]`/`[!x]` one byte of a class.
/// A name starting with `.` is matched only by a pattern starting with `.`, as in a shell.
pub fn wildcard_match(pattern: &[u8], name: &[u8]) -> bool {
    if name.first() == Some(&b'.') && pattern.first() != Some(&b'.') {
        return false;
    }
    let (mut p, mut n) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                star = Some((p, n));
                p += 1;
                continue;
            }
            Some(b'?') => {
                p += 1;
                n += 1;
                continue;
            }
            Some(b'[') => {
                if let Some((matched, len)) = class(&pattern[p..], name[n]) {
                    if matched {
                        p += len;
                        n += 1;
                        continue;
                    }
                } else if name[n] == b'[' {
                    p += 1;
                    n += 1;
                    continue;
                }
            }
            Some(&c) if c == name[n] => {
                p += 1;
                n += 1;
                continue;
            }
            _ => {}
        }
        match star {
            Some((sp, sn)) => {
                p = sp + 1;
                n = sn + 1;
                star = Some((sp, sn + 1));
            }
            None => return false,
        }
    }
    pattern[p.min(pattern.len())..].iter().all(|&c| c == b'*')
}

/// Whether `c` is in the class at the start of `pat` (`[…]`), and the class's length; `None`
/// when the bracket is not closed (then it is a plain `[`).
fn class(pat: &[u8], c: u8) -> Option<(bool, usize)> {
    let mut i = 1;
    let negate = matches!(pat.get(i), Some(b'!' | b'^'));
    if negate {
        i += 1;
    }
    let mut matched = false;
    let mut first = true;
    loop {
        let &lo = pat.get(i)?;
        if lo == b']' && !first {
            return Some((matched != negate, i + 1));
        }
        first = false;
        if pat.get(i + 1) == Some(&b'-') && pat.get(i + 2).is_some_and(|&h| h != b']') {
            let hi = pat[i + 2];
            matched |= (lo..=hi).contains(&c);
            i += 3;
        } else {
            matched |= lo == c;
            i += 1;
        }
    }
}

/// One line of input, without its `\n`.
#[derive(Clone, Copy, Debug)]
pub struct Line<'a> {
    /// The line's bytes (a `\r` before the newline is kept; trim as needed).
    pub bytes: &'a [u8],
    /// `false` for a last line that ended without a newline (perhaps cut while being written).
    pub complete: bool,
    /// The line was longer than the limit: `bytes` is empty and the line was skipped.
    pub too_long: bool,
}

/// Streams the lines of one input. A line that lies whole in the input's buffer is lent from
/// it, uncopied (nearly every line: a 64 KiB buffer holds hundreds); only a line that spans two
/// fills is gathered in a buffer of its own, reused from line to line.
pub struct Lines<R> {
    input: R,
    buf: Vec<u8>,
    max_line: usize,
    /// Bytes of the input's buffer lent out as the last line, consumed on the next call.
    lent: usize,
}

impl<R: BufRead> Lines<R> {
    /// Lines of `input`, each up to [`MAX_LINE`] bytes.
    pub fn new(input: R) -> Self {
        Lines::with_max_line(input, MAX_LINE)
    }

    /// Lines of `input`, each up to `max_line` bytes; longer lines are skipped.
    pub fn with_max_line(input: R, max_line: usize) -> Self {
        Lines {
            input,
            buf: Vec::new(),
            max_line,
            lent: 0,
        }
    }

    /// The next line, or `None` at the end of the input.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.input.consume(std::mem::take(&mut self.lent));
        self.buf.clear();
        // the fast path: the whole line is in the input's buffer
        let whole = loop {
            match self.input.fill_buf() {
                Ok(avail) => break memchr::memchr(b'\n', avail),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        };
        if let Some(i) = whole.filter(|&i| i <= self.max_line) {
            self.lent = i + 1;
            let avail = self.input.fill_buf()?;
            return Ok(Some(Line {
                bytes: &avail[..i],
                complete: true,
                too_long: false,
            }));
        }
        let mut too_long = false;
        loop {
            let avail = match self.input.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                if self.buf.is_empty() && !too_long {
                    return Ok(None);
                }
                return Ok(Some(self.line(false, too_long)));
            }
            let (take, done) = match memchr::memchr(b'\n', avail) {
                Some(i) => (i, true),
                None => (avail.len(), false),
            };
            if !too_long && self.buf.len() + take > self.max_line {
                too_long = true;
                self.buf.clear();
            }
            if !too_long {
                self.buf.extend_from_slice(&avail[..take]);
            }
            let used = if done { take + 1 } else { take };
            self.input.consume(used);
            if done {
                return Ok(Some(self.line(true, too_long)));
            }
        }
    }

    fn line(&self, complete: bool, too_long: bool) -> Line<'_> {
        Line {
            bytes: if too_long { &[] } else { &self.buf },
            complete,
            too_long,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &[u8], max: usize) -> Vec<(String, bool, bool)> {
        let mut l = Lines::with_max_line(BufReader::with_capacity(4, text), max);
        let mut out = Vec::new();
        while let Ok(Some(line)) = l.next_line() {
            out.push((
                String::from_utf8_lossy(line.bytes).into_owned(),
                line.complete,
                line.too_long,
            ));
        }
        out
    }

    #[test]
    fn lines_split_on_newlines_across_buffer_refills() {
        assert_eq!(
            lines(b"abcdefgh\n\nxy\n", 100),
            [
                ("abcdefgh".into(), true, false),
                (String::new(), true, false),
                ("xy".into(), true, false)
            ]
        );
    }

    #[test]
    fn lines_lent_from_the_buffer_and_gathered_across_fills_read_alike() {
        let text = b"{\"a\":1}\n\nlonger line here\r\nx\n0123456789abcdef\ntail";
        for cap in [1, 3, 7, 16, 1 << 16] {
            let mut l = Lines::with_max_line(BufReader::with_capacity(cap, &text[..]), 12);
            let mut got = Vec::new();
            while let Ok(Some(line)) = l.next_line() {
                got.push((line.bytes.to_vec(), line.complete, line.too_long));
            }
            let want: Vec<(Vec<u8>, bool, bool)> = vec![
                (b"{\"a\":1}".to_vec(), true, false),
                (Vec::new(), true, false),
                (Vec::new(), true, true),
                (b"x".to_vec(), true, false),
                (Vec::new(), true, true),
                (b"tail".to_vec(), false, false),
            ];
            assert_eq!(got, want, "buffer of {cap} bytes");
        }
    }

    #[test]
    fn a_last_line_without_newline_is_incomplete() {
        assert_eq!(
            lines(b"a\n{\"x\":", 100),
            [("a".into(), true, false), ("{\"x\":".into(), false, false)]
        );
    }

    #[test]
    fn a_line_over_the_limit_is_skipped_and_flagged() {
        assert_eq!(
            lines(b"short\n0123456789abc\nok", 8),
            [
                ("short".into(), true, false),
                (String::new(), true, true),
                ("ok".into(), false, false)
            ]
        );
    }

    #[test]
    fn rotation_numbers_are_read_from_names() {
        assert_eq!(rotation("app.jsonl"), ("app.jsonl", None));
        assert_eq!(rotation("app.jsonl.1"), ("app.jsonl", Some(1)));
        assert_eq!(rotation("app.jsonl.12.gz"), ("app.jsonl", Some(12)));
        assert_eq!(rotation("app.jsonl.gz"), ("app.jsonl", None));
        assert_eq!(rotation(".7"), (".7", None));
    }

    #[test]
    fn wildcards_match_like_a_shell() {
        for (p, n, want) in [
            ("*.jsonl", "a.jsonl", true),
            ("*.jsonl", "a.jsonl.1", false),
            ("*.jsonl*", "a.jsonl.1", true),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("[ab]*", "b.log", true),
            ("[!ab]*", "b.log", false),
            ("[a-c].log", "c.log", true),
            ("*", ".hidden", false),
            ("[", "[", true),
            ("**x", "yyx", true),
        ] {
            assert_eq!(wildcard_match(p.as_bytes(), n.as_bytes()), want, "{p} {n}");
        }
    }
}
