//! `taskwire tail`: JSON lines as a person reads them, live.
//!
//! Each record becomes one pretty line ([`taskwire_explore::pretty`]); lines that are not JSON
//! objects pass through unchanged (unless a query is given: a query selects records). With
//! `-f` the named files are followed as they grow, across rotations and truncations
//! ([`taskwire_explore::follow`]), and standard input is read as it comes. The usage is
//! documented in `docs/cli.md`.

use std::io::{self, BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Duration;

use clap::Args;
use taskwire_explore::follow::{Follow, Start};
use taskwire_explore::pretty::Pretty;
use taskwire_explore::query::{Matcher, Query, TracePrefix};
use taskwire_explore::source::{self, Lines, Source};

use crate::args::{now_us, parse_query, parse_trace_prefix, query_and_files, ColorArgs};

/// How long `-f` waits when nothing new came, before looking again.
const IDLE: Duration = Duration::from_millis(100);

/// Arguments of `taskwire tail`.
#[derive(Args, Debug)]
#[command(after_help = "\
Examples:
  taskwire tail -f logs/app.jsonl                 follow, pretty and colored
  taskwire tail -f front.log back.log level>=warn warnings and errors of both, as they come
  taskwire tail -f --trace 4bf92f35 logs/         mark the lines of the trace a console line named
  my-service | taskwire tail                      a program's output, live
  taskwire tail --json 'service=back failed' logs/ the matching raw lines (for jq)

Without files, the log sources of taskwire.toml are followed (see docs/cli.md). Leading \
arguments that are not files form the QUERY, the same as `taskwire tree`'s. A record is one line: \
time, level, service, target, message, fields, and the task name or the trace id's first eight \
digits in brackets; a task's end is `✓` or `✗` with its name and duration. Values are shown \
escaped: a log line can never drive the terminal.")]
pub struct TailArgs {
    /// A query (its terms first), then JSON lines log files, folders or patterns; `-` (or no
    /// file and no taskwire.toml) reads standard input.
    #[arg(value_name = "QUERY|FILE")]
    args: Vec<String>,

    /// The query, when it could be mistaken for a file name.
    #[arg(short, long, value_name = "QUERY", value_parser = parse_query)]
    query: Option<Query>,

    /// Follow the files as they grow, across rotations and truncations (until interrupted).
    #[arg(short, long)]
    follow: bool,

    /// With `-f`: start with the last N lines of each file.
    #[arg(short = 'n', long, value_name = "N", default_value_t = 10)]
    lines: usize,

    /// Mark the lines of this trace (32 hex digits, or a pasted traceparent), or of every trace
    /// whose id starts with these 8 to 31 hex digits (the short id the console prints).
    #[arg(long, value_name = "TRACE_ID", value_parser = parse_trace_prefix)]
    trace: Option<TracePrefix>,

    /// Write the matching lines as they are (raw JSON), not pretty.
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    color: ColorArgs,

    #[command(flatten)]
    config: crate::config::ConfigArgs,
}

/// What is done with each line.
struct Sink {
    pretty: Pretty,
    matcher: Option<Matcher>,
    json: bool,
    buf: Vec<u8>,
}

impl Sink {
    /// Appends what `line` shows to the output buffer: a query keeps the records it matches;
    /// `--json` keeps records only, as they are; otherwise a record is shown pretty and any
    /// other line as it is.
    fn line(&mut self, line: &[u8]) {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if let Some(m) = &self.matcher {
            if m.match_line(line).is_none() {
                return;
            }
        }
        if self.json {
            if self.matcher.is_none() && !looks_like_record(line) {
                return;
            }
        } else if self.pretty.line(line, &mut self.buf) {
            return;
        }
        self.buf.extend_from_slice(line);
        self.buf.push(b'\n');
    }

    fn flush(&mut self, out: &mut impl Write) -> io::Result<()> {
        out.write_all(&self.buf)?;
        self.buf.clear();
        out.flush()
    }
}

fn looks_like_record(line: &[u8]) -> bool {
    line.trim_ascii().first() == Some(&b'{')
}

/// Runs `taskwire tail`.
pub fn run(args: TailArgs) -> ExitCode {
    let (query, files) = match query_and_files(&args.args, args.query.as_ref()) {
        Ok(q) => q,
        Err(status) => return status,
    };
    let files: Vec<PathBuf> = if files.is_empty() {
        match args.config.load() {
            Ok(cfg) => crate::config::default_logs(cfg.as_ref()),
            Err(e) => {
                eprintln!("taskwire: {e}");
                return ExitCode::from(2);
            }
        }
    } else {
        files.iter().map(PathBuf::from).collect()
    };
    let mut sink = Sink {
        pretty: Pretty::new()
            .with_color(!args.json && args.color.enabled())
            .with_highlight_prefix(args.trace),
        matcher: (!query.is_empty()).then(|| Matcher::new(&query, now_us())),
        json: args.json,
        buf: Vec::with_capacity(1 << 16),
    };
    let (sources, errors) = source::expand(&files);
    for e in &errors {
        eprintln!("taskwire: {e}");
    }
    if sources.is_empty() {
        return ExitCode::FAILURE;
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let result = if args.follow {
        follow(&sources, Start::LastLines(args.lines), &mut sink, &mut out)
    } else {
        read_all(&sources, &mut sink, &mut out)
    };
    match result {
        Ok(failed) if failed || !errors.is_empty() => ExitCode::FAILURE,
        Ok(_) => ExitCode::SUCCESS,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("taskwire: writing the output: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Reads every source to its end (rotations and gzip included); `true` when one could not be
/// read.
fn read_all(sources: &[Source], sink: &mut Sink, out: &mut impl Write) -> io::Result<bool> {
    let mut failed = false;
    for src in sources {
        if *src == Source::Stdin && io::stdin().is_terminal() {
            eprintln!("taskwire: reading logs from standard input (end with Ctrl-D)");
        }
        let read = src.open().and_then(|input| {
            let mut lines = Lines::new(input);
            while let Some(line) = lines.next_line()? {
                sink.line(line.bytes);
                if sink.buf.len() >= 1 << 16 {
                    out.write_all(&sink.buf)?;
                    sink.buf.clear();
                }
            }
            Ok(())
        });
        if let Err(e) = read {
            if e.kind() == io::ErrorKind::BrokenPipe {
                return Err(e);
            }
            eprintln!("taskwire: {src}: {e}");
            failed = true;
        }
    }
    sink.flush(out)?;
    Ok(failed)
}

/// Follows the live files (rotated and compressed ones are history) and standard input until
/// interrupted.
fn follow(
    sources: &[Source],
    start: Start,
    sink: &mut Sink,
    out: &mut impl Write,
) -> io::Result<bool> {
    let mut followed = Vec::new();
    let mut failed = false;
    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(1024);
    for src in sources {
        match src {
            Source::Stdin => {
                let tx = tx.clone();
                std::thread::spawn(move || stdin_lines(&tx));
            }
            Source::File(path) => {
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if source::rotation(name).1.is_some() || name.ends_with(".gz") {
                    continue;
                }
                match Follow::open(path, start) {
                    Ok(f) => followed.push(f),
                    Err(e) => {
                        eprintln!("taskwire: {}: {e}", path.display());
                        failed = true;
                    }
                }
            }
        }
    }
    drop(tx);
    let stdin = sources.contains(&Source::Stdin);
    if followed.is_empty() && !stdin {
        eprintln!("taskwire: nothing to follow");
        return Ok(true);
    }
    eprintln!(
        "taskwire: following {} file{}{} (Ctrl-C to stop)",
        followed.len(),
        crate::args::plural(followed.len() as u64),
        if stdin { " and standard input" } else { "" }
    );
    let mut stdin_open = stdin;
    loop {
        let mut got = false;
        for f in &mut followed {
            match f.poll(|l| sink.line(l)) {
                Ok(p) => {
                    got |= p.bytes > 0;
                    if p.rotated {
                        eprintln!(
                            "taskwire: {} was rotated: following the new file",
                            f.path().display()
                        );
                    }
                    if p.truncated {
                        eprintln!(
                            "taskwire: {} was truncated: reading it from its start",
                            f.path().display()
                        );
                    }
                }
                Err(e) => eprintln!("taskwire: {}: {e}", f.path().display()),
            }
            if sink.buf.len() >= 1 << 16 {
                out.write_all(&sink.buf)?;
                sink.buf.clear();
            }
        }
        while let Ok(line) = rx.try_recv() {
            sink.line(&line);
            got = true;
        }
        sink.flush(out)?;
        if got {
            continue;
        }
        if stdin_open {
            match rx.recv_timeout(IDLE) {
                Ok(line) => sink.line(&line),
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    stdin_open = false;
                    if followed.is_empty() {
                        sink.flush(out)?;
                        return Ok(failed);
                    }
                }
            }
        } else {
            std::thread::sleep(IDLE);
        }
    }
}

/// Sends the lines of standard input (gzip read by content) until its end.
fn stdin_lines(tx: &mpsc::SyncSender<Vec<u8>>) {
    let Ok(input) = source::maybe_gzip(io::BufReader::new(io::stdin())) else {
        return;
    };
    for line in input.split(b'\n') {
        match line {
            Ok(l) => {
                if tx.send(l).is_err() {
                    return;
                }
            }
            Err(_) => return,
        }
    }
}
