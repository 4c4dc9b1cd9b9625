//! Following a file as it grows (`tail -f`), across rotations and truncations.
//!
//! A [`Follow`] keeps the file open and, on each [`Follow::poll`], hands over the complete
//! lines appended since the last poll. It notices the two ways logs are rotated:
//!
//! - **renamed and recreated** (`app.jsonl` → `app.jsonl.1`, a new `app.jsonl`): the name now
//!   points to another file (another device and inode; on Unix). The old file is read to its end first
//!   (a writer may have written its last lines after the rename), then the new file from its
//!   start. While the name points to nothing (renamed, not yet recreated) the old file is
//!   still read.
//! - **truncated in place** (`copytruncate`): the file is shorter than what was read; reading
//!   starts again at its beginning.
//!
//! A line without its newline is held back until the newline arrives, so a record being
//! written is never handed over in two pieces; at a rotation the old file's unterminated last
//! line is handed over as it is.
//!
//! Polling is the caller's loop (`taskwire tail -f` polls every 100 ms when nothing came):
//! no inotify, so it works the same on every platform and on network file systems.
//!
//! ```
//! use std::io::Write;
//! use taskwire_explore::follow::{Follow, Start};
//!
//! let dir = std::env::temp_dir().join(format!("taskwire-follow-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("app.jsonl");
//! std::fs::write(&path, "old\n")?;
//! let mut f = Follow::open(&path, Start::End)?;
//! let mut seen = Vec::new();
//! std::fs::OpenOptions::new().append(true).open(&path)?.write_all(b"new\nhalf")?;
//! f.poll(|line| seen.push(String::from_utf8_lossy(line).into_owned()))?;
//! assert_eq!(seen, ["new"]); // `half` waits for its newline
//! std::fs::rename(&path, dir.join("app.jsonl.1"))?;
//! std::fs::write(&path, "fresh\n")?;
//! f.poll(|line| seen.push(String::from_utf8_lossy(line).into_owned()))?;
//! assert_eq!(seen, ["new", "half", "fresh"]);
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

/// Read size per call.
const CHUNK: usize = 1 << 16;

/// A held-back partial line longer than this is handed over as it is (a writer that never
/// ends its line must not grow memory without bound).
const MAX_PARTIAL: usize = crate::source::MAX_LINE;

/// Where following starts in the file as it is when opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// At its beginning: every line already there is handed over first.
    Beginning,
    /// At its end: only what is appended from now on.
    End,
    /// At the beginning of its last `n` lines (looked for in its last MiB).
    LastLines(usize),
}

/// What one [`Follow::poll`] found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Polled {
    /// Bytes read.
    pub bytes: u64,
    /// The file was rotated (renamed and recreated) and the new one is now followed.
    pub rotated: bool,
    /// The file was truncated and is read again from its beginning.
    pub truncated: bool,
}

/// A file followed by name. See the [module docs](self).
#[derive(Debug)]
pub struct Follow {
    path: PathBuf,
    file: File,
    id: Option<FileId>,
    pos: u64,
    partial: Vec<u8>,
    buf: Vec<u8>,
}

/// What tells two files apart when one replaced the other under the same name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct FileId {
    dev: u64,
    ino: u64,
}

#[cfg(unix)]
fn file_id(m: &fs::Metadata) -> Option<FileId> {
    use std::os::unix::fs::MetadataExt;
    Some(FileId {
        dev: m.dev(),
        ino: m.ino(),
    })
}

#[cfg(not(unix))]
fn file_id(_m: &fs::Metadata) -> Option<FileId> {
    None
}

impl Follow {
    /// Opens `path` for following, starting as `start` says.
    pub fn open(path: impl AsRef<Path>, start: Start) -> io::Result<Follow> {
        let path = path.as_ref().to_path_buf();
        let mut file = File::open(&path)?;
        let meta = file.metadata()?;
        let len = meta.len();
        let pos = match start {
            Start::Beginning => 0,
            Start::End => len,
            Start::LastLines(n) => last_lines_start(&mut file, len, n)?,
        };
        file.seek(SeekFrom::Start(pos))?;
        Ok(Follow {
            path,
            file,
            id: file_id(&meta),
            pos,
            partial: Vec::new(),
            buf: vec![0; CHUNK],
        })
    }

    /// The followed name.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Hands each complete line appended since the last poll to `line` (without its newline;
    /// a `\r` before it is kept), following a rotation or truncation if one happened.
    pub fn poll(&mut self, mut line: impl FnMut(&[u8])) -> io::Result<Polled> {
        let mut polled = Polled::default();
        // a file truncated in place: start again (what was read is gone)
        let len = self.file.metadata()?.len();
        if len < self.pos {
            self.file.seek(SeekFrom::Start(0))?;
            self.pos = 0;
            self.partial.clear();
            polled.truncated = true;
        }
        polled.bytes += self.drain(&mut line)?;
        // renamed and recreated: the old file is read to its end above, then the new one
        if let Ok(meta) = fs::metadata(&self.path) {
            let id = file_id(&meta);
            if id.is_some() && id != self.id {
                if let Ok(file) = File::open(&self.path) {
                    if !self.partial.is_empty() {
                        line(&self.partial);
                        self.partial.clear();
                    }
                    self.file = file;
                    self.id = id;
                    self.pos = 0;
                    polled.rotated = true;
                    polled.bytes += self.drain(&mut line)?;
                }
            }
        }
        Ok(polled)
    }

    /// Reads to the current end, handing over complete lines.
    fn drain(&mut self, line: &mut impl FnMut(&[u8])) -> io::Result<u64> {
        let mut total = 0u64;
        loop {
            let n = match self.file.read(&mut self.buf) {
                Ok(0) => return Ok(total),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            total += n as u64;
            self.pos += n as u64;
            let mut chunk = &self.buf[..n];
            while let Some(i) = memchr::memchr(b'\n', chunk) {
                if self.partial.is_empty() {
                    line(&chunk[..i]);
                } else {
                    self.partial.extend_from_slice(&chunk[..i]);
                    line(&self.partial);
                    self.partial.clear();
                }
                chunk = &chunk[i + 1..];
            }
            self.partial.extend_from_slice(chunk);
            if self.partial.len() > MAX_PARTIAL {
                line(&self.partial);
                self.partial.clear();
            }
        }
    }
}

/// The offset where the last `n` lines of the file (of length `len`) begin, looked for in its
/// last MiB; a final line without a newline counts as one.
fn last_lines_start(file: &mut File, len: u64, n: usize) -> io::Result<u64> {
    if n == 0 {
        return Ok(len);
    }
    let from = len.saturating_sub(1 << 20);
    file.seek(SeekFrom::Start(from))?;
    let mut tail = Vec::new();
    file.take(len - from).read_to_end(&mut tail)?;
    // skip the last byte: a newline ending the last line does not start a line
    let body = tail.strip_suffix(b"\n").unwrap_or(&tail);
    let mut seen = 0;
    for i in memchr::memrchr_iter(b'\n', body) {
        seen += 1;
        if seen == n {
            return Ok(from + i as u64 + 1);
        }
    }
    // fewer lines than asked for: all of them (from a whole line when the window cut one)
    if from == 0 {
        Ok(0)
    } else {
        Ok(from + memchr::memchr(b'\n', &tail).map_or(0, |i| i as u64 + 1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn collect(f: &mut Follow) -> (Vec<String>, Polled) {
        let mut v = Vec::new();
        let p = f
            .poll(|l| v.push(String::from_utf8_lossy(l).into_owned()))
            .unwrap();
        (v, p)
    }

    fn append(path: &Path, s: &str) {
        fs::OpenOptions::new()
            .append(true)
            .open(path)
            .unwrap()
            .write_all(s.as_bytes())
            .unwrap();
    }

    #[test]
    fn a_truncated_file_is_read_again_from_its_start() {
        let dir = taskwire_test_support::temp::TempDir::new("follow-truncate");
        let path = dir.path().join("app.jsonl");
        fs::write(&path, "a\nb\n").unwrap();
        let mut f = Follow::open(&path, Start::Beginning).unwrap();
        assert_eq!(collect(&mut f).0, ["a", "b"]);
        fs::write(&path, "c\n").unwrap(); // truncated, then one shorter line
        let (lines, p) = collect(&mut f);
        assert_eq!(lines, ["c"]);
        assert!(p.truncated && !p.rotated);
    }

    #[test]
    fn the_last_lines_are_where_following_starts() {
        let dir = taskwire_test_support::temp::TempDir::new("follow-last");
        let path = dir.path().join("app.jsonl");
        fs::write(&path, "1\n2\n3\n4\n").unwrap();
        let mut f = Follow::open(&path, Start::LastLines(2)).unwrap();
        assert_eq!(collect(&mut f).0, ["3", "4"]);
        let mut g = Follow::open(&path, Start::LastLines(9)).unwrap();
        assert_eq!(collect(&mut g).0, ["1", "2", "3", "4"]);
        let mut h = Follow::open(&path, Start::End).unwrap();
        append(&path, "5\n");
        assert_eq!(collect(&mut h).0, ["5"]);
    }

    #[test]
    fn a_renamed_file_is_read_to_its_end_before_the_new_one() {
        let dir = taskwire_test_support::temp::TempDir::new("follow-rename");
        let path = dir.path().join("app.jsonl");
        fs::write(&path, "").unwrap();
        let mut f = Follow::open(&path, Start::End).unwrap();
        append(&path, "1\n");
        fs::rename(&path, dir.path().join("app.jsonl.1")).unwrap();
        append(&dir.path().join("app.jsonl.1"), "2\n"); // written after the rename
        assert_eq!(collect(&mut f).0, ["1", "2"]); // not yet recreated
        fs::write(&path, "3\n").unwrap();
        let (lines, p) = collect(&mut f);
        assert_eq!(lines, ["3"]);
        assert!(p.rotated);
    }
}
