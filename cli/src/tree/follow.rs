//! `taskwire tree -f`: each trace printed as its root task ends.
//!
//! A root is a task record without a parent. Lines are read as they are appended: standard
//! input until its end; files from their start, then polled for appends every 100 ms when all
//! are idle, across rotations and truncations (`taskwire_explore::follow`). When a root
//! ends, the records of its trace read so far are built into a tree, printed, flushed and
//! forgotten, so memory holds only the traces still running. A trace whose root is in no log
//! read (an orphan) is never printed while following.

use std::io::{self, Write};
use std::thread;
use std::time::Duration;

use taskwire_explore::follow::{Follow, Start};
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
    style: Style<'_>,
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
            match Follow::open(path, Start::Beginning) {
                Ok(f) => files.push(f),
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
            let mut printed = Ok(());
            let polled = f.poll(|line| {
                reader.line(line);
                if printed.is_ok() {
                    printed = printer.after_line(&mut reader);
                }
            })?;
            printed?;
            any |= polled.bytes > 0;
        }
        if !any {
            thread::sleep(POLL);
        }
    }
}

/// Prints a trace when its root ends.
struct Printer<'a> {
    keep: Keep,
    style: Style<'a>,
    json: bool,
    printed: u64,
}

impl Printer<'_> {
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
                json::trace_json(&mut out, &t, self.style)?;
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
