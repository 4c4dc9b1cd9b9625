//! `taskwire tree -f`: each trace printed as its root task ends.
//!
//! A root is a task record without a parent. Lines are read as they are appended: standard
//! input until its end; files from their start, then polled for appends every 100 ms when all
//! are idle (a file that shrank was truncated: it is read again from its start). When a root
//! ends, the records of its trace read so far are built into a tree, printed, flushed and
//! forgotten, so memory holds only the traces still running. A trace whose root is in no log
//! read (an orphan) is never printed while following.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Seek, SeekFrom, Write};
use std::thread;
use std::time::Duration;

use taskwire_explore::source::{Lines, Source};
use taskwire_explore::trace::{build, Keep, Reader};

use super::json;
use super::render::{self, Style};

/// How long to wait when no file has new lines.
const POLL: Duration = Duration::from_millis(100);

/// Follows `sources` until the end of standard input (or forever, for files).
pub(crate) fn follow(
    sources: &[Source],
    mut reader: Reader,
    keep: Keep,
    style: Style,
    json: bool,
) -> io::Result<()> {
    let mut printer = Printer {
        keep,
        style,
        json,
        printed: 0,
    };
    if sources.contains(&Source::Stdin) {
        if sources.len() > 1 {
            eprintln!("taskwire: following standard input only (files are followed without `-`)");
        }
        let stdin = io::stdin();
        let mut lines = Lines::new(stdin.lock());
        while let Some(line) = lines.next_line()? {
            reader.line(line.bytes);
            printer.after_line(&mut reader)?;
        }
        return Ok(());
    }
    let mut files = Vec::new();
    for src in sources {
        if let Source::File(path) = src {
            match File::open(path) {
                Ok(f) => files.push(Followed {
                    input: BufReader::with_capacity(1 << 16, f),
                    partial: Vec::new(),
                    pos: 0,
                }),
                Err(e) => eprintln!("taskwire: {}: {e}", path.display()),
            }
        }
    }
    if files.is_empty() {
        return Err(io::Error::other("no file to follow"));
    }
    loop {
        let mut any = false;
        for f in &mut files {
            while let Some(line) = f.next_line()? {
                any = true;
                reader.line(line);
                printer.after_line(&mut reader)?;
            }
        }
        if !any {
            for f in &mut files {
                f.rewind_if_truncated()?;
            }
            thread::sleep(POLL);
        }
    }
}

/// Prints a trace when its root ends.
struct Printer {
    keep: Keep,
    style: Style,
    json: bool,
    printed: u64,
}

impl Printer {
    fn after_line(&mut self, reader: &mut Reader) -> io::Result<()> {
        let Some(trace) = reader.ended_root() else {
            return Ok(());
        };
        let Some(collected) = reader.take_trace(trace) else {
            return Ok(());
        };
        let forest = build(collected, self.keep);
        let stdout = io::stdout();
        let mut out = stdout.lock();
        for t in forest.traces() {
            if self.json {
                json::trace_json(&mut out, &t, self.style.events)?;
            } else {
                if self.printed > 0 {
                    writeln!(out)?;
                }
                render::trace_text(&mut out, &t, self.style)?;
            }
            self.printed += 1;
        }
        out.flush()
    }
}

/// A file being followed: whole lines as they are appended, a cut last line kept until its
/// newline arrives.
struct Followed {
    input: BufReader<File>,
    partial: Vec<u8>,
    /// Bytes consumed so far.
    pos: u64,
}

impl Followed {
    /// The next whole line, or `None` when the file has nothing more for now.
    fn next_line(&mut self) -> io::Result<Option<&[u8]>> {
        if self.partial.last() == Some(&b'\n') {
            self.partial.clear();
        }
        let n = self.input.read_until(b'\n', &mut self.partial)?;
        self.pos += n as u64;
        if self.partial.last() == Some(&b'\n') {
            let len = self.partial.len() - 1;
            Ok(Some(&self.partial[..len]))
        } else {
            Ok(None)
        }
    }

    /// Reads the file again from its start when it became shorter than what was read.
    fn rewind_if_truncated(&mut self) -> io::Result<()> {
        let len = self.input.get_ref().metadata()?.len();
        if len < self.pos {
            self.input.seek(SeekFrom::Start(0))?;
            self.pos = 0;
            self.partial.clear();
        }
        Ok(())
    }
}
