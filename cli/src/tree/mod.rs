//! `taskwire tree`: rebuilds task trees from the JSON logs of several processes.
//!
//! The engine (`taskwire_explore`) turns arguments into sources (rotated sets, gzip, standard
//! input) and lines, and parses the query; `read` turns lines into task records and error
//! events (skipping and counting malformed lines, once per record however often it is read, and
//! noting the traces the query matches), `build` joins them into one forest of traces whatever file each record came from,
//! and `render` prints it. The usage and the output are documented in `docs/cli.md`.

mod build;
mod raw;
mod read;
mod render;

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use taskwire_explore::query::{Query, Term};
use taskwire_explore::source::{self, Source};

use crate::args::{now_us, parse_query, parse_trace_id, plural, query_and_files, ColorArgs};
use crate::config::ConfigArgs;
use build::{build, Keep};
use read::Reader;
use render::Style;

/// Arguments of `taskwire tree`.
#[derive(Args, Debug)]
#[command(after_help = "\
Examples:
  taskwire tree front.log back.log            every trace, nested across both services
  taskwire tree logs/                         every *.jsonl, *.log, *.gz there, rotations too
  taskwire tree 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 logs/*.jsonl
  taskwire tree request_id=abc logs/          the request whose x-request-id was abc
  taskwire tree 'service=back failed' logs/   traces with a failed task in back
  taskwire tree --failed logs/*.jsonl         only traces with a failed task
  cat app.log | taskwire tree --json          one JSON object per trace

Leading arguments that are not files form the QUERY (see docs/cli.md): a trace id, a pasted \
traceparent, a span id, a request id, field=value, field~text, service=, task=, failed, \
duration>250ms, level>=warn, since=1h, until=TIME. A file brings its rotations (app.jsonl.1, \
app.jsonl.2.gz); gzip is read by content. Malformed lines are skipped and counted on stderr; a \
record read twice counts once. Exit status: 0 on success, 1 when an input could not be read or \
a query matched nothing, 2 on a usage error.")]
pub struct TreeArgs {
    /// A query (its terms first), then JSON lines log files, folders or patterns, in any
    /// order; `-` (or no file at all) reads standard input.
    #[arg(value_name = "QUERY|FILE")]
    args: Vec<String>,

    /// The query, when it could be mistaken for a file name.
    #[arg(short, long, value_name = "QUERY", value_parser = parse_query)]
    query: Option<Query>,

    /// Show only this trace (32 hex digits, or a pasted traceparent).
    #[arg(long, value_name = "TRACE_ID", value_parser = parse_trace_id)]
    trace: Option<u128>,

    /// Show only traces with at least one failed task.
    #[arg(long)]
    failed: bool,

    /// Machine output: one JSON object per trace and line, children nested.
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    color: ColorArgs,

    /// The tickets store, to show the ticket of each error (`[ticket #3]`): a SQLite file or a
    /// MongoDB connection string (default: taskwire.toml's).
    #[arg(long, env = "TASKWIRE_DB", value_name = "PATH|URI")]
    db: Option<PathBuf>,

    #[command(flatten)]
    config: ConfigArgs,
}

/// What `taskwire tree` shows, however it was asked for (`tree`, `tickets show --trace`).
pub(crate) struct Show {
    pub(crate) query: Query,
    pub(crate) files: Vec<PathBuf>,
    pub(crate) failed: bool,
    pub(crate) json: bool,
    pub(crate) color: bool,
    /// The tickets store and its table prefix, to look the errors' tickets up in.
    pub(crate) store: Option<(PathBuf, String)>,
}

/// Prints the task trees found in `files` as text, the way `taskwire tree FILE...` does
/// (without color), and returns how many malformed lines were skipped. For programs that want
/// to show their own task tree, like the demo.
///
/// ```no_run
/// let skipped = taskwire_cli::tree::print_trees(&["target/demo/logs.jsonl".into()], &mut std::io::stdout())?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn print_trees(files: &[PathBuf], out: &mut dyn Write) -> io::Result<u64> {
    let mut reader = Reader::new(None);
    let mut skipped = 0;
    let (sources, errors) = source::expand(files);
    if let Some(e) = errors.into_iter().next() {
        return Err(io::Error::other(e));
    }
    for src in &sources {
        skipped += reader.read_lines(src.open()?)?.malformed;
    }
    let forest = build(reader.finish(), Keep { failed_only: false });
    let mut out = out;
    render::text(&mut out, &forest, Style { color: false })?;
    Ok(skipped)
}

/// Runs `taskwire tree`.
pub fn run(args: TreeArgs) -> ExitCode {
    let (mut query, files) = match query_and_files(&args.args, args.query.as_ref()) {
        Ok(q) => q,
        Err(status) => return status,
    };
    let mut terms = query.terms().to_vec();
    if let Some(t) = args.trace {
        terms.push(Term::TraceId(t));
    }
    query = Query::new(terms);
    let config = match args.config.load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("taskwire: {e}");
            return ExitCode::from(2);
        }
    };
    let files = if files.is_empty() {
        crate::config::default_logs(config.as_ref())
    } else {
        files.iter().map(PathBuf::from).collect()
    };
    let store = crate::config::store(args.db, config.as_ref(), None);
    show(Show {
        query,
        files,
        failed: args.failed,
        json: args.json,
        color: !args.json && args.color.enabled(),
        store,
    })
}

/// Prints the trees `show` asks for.
pub(crate) fn show(show: Show) -> ExitCode {
    let Show {
        query,
        files,
        failed,
        json,
        color,
        store,
    } = show;
    let mut reader = Reader::with_query(&query, now_us());

    let (sources, errors) = source::expand(&files);
    let mut failed_inputs = !errors.is_empty();
    for e in &errors {
        eprintln!("taskwire: {e}");
    }
    let mut malformed: Vec<(String, u64)> = Vec::new();
    for src in &sources {
        let name = src.to_string();
        if *src == Source::Stdin && io::stdin().is_terminal() {
            eprintln!("taskwire: reading logs from standard input (end with Ctrl-D)");
        }
        match src.open().and_then(|input| reader.read_lines(input)) {
            Ok(counts) => {
                malformed.push((name.clone(), counts.malformed));
                if counts.cut_last_line {
                    eprintln!(
                        "taskwire: {name}: the last line ends without a newline and is not a \
                         whole record (cut while being written?): skipped"
                    );
                }
            }
            Err(e) => {
                eprintln!("taskwire: {name}: {e}");
                failed_inputs = true;
            }
        }
    }
    let collected = reader.finish();
    let no_tasks = collected.tasks.is_empty();
    let repeats = collected.repeats;
    let mut forest = build(
        collected,
        Keep {
            failed_only: failed,
        },
    );
    if let Some((db, prefix)) = &store {
        link_tickets(&mut forest, db, prefix);
    }

    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = if json {
        render::json(&mut out, &forest)
    } else {
        render::text(&mut out, &forest, Style { color })
    }
    .and_then(|()| out.flush());
    match written {
        Ok(()) => {}
        // `taskwire tree … | head`: the reader has all it wants
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        Err(e) => {
            eprintln!("taskwire: writing the output: {e}");
            return ExitCode::FAILURE;
        }
    }

    report_skipped(&malformed);
    if repeats > 0 {
        eprintln!(
            "taskwire: read {repeats} record{} twice (the same line in two files or places), counted once",
            plural(repeats)
        );
    }
    if forest.duplicates > 0 {
        eprintln!(
            "taskwire: ignored {} duplicate task record{} (same trace and span id)",
            forest.duplicates,
            plural(forest.duplicates)
        );
    }
    let queried = !query.is_empty();
    if no_tasks && !failed_inputs {
        if query.is_trace_only() {
            eprintln!("taskwire: no task.end records for this trace");
        } else if queried {
            eprintln!("taskwire: no trace matches the query `{query}`");
        } else {
            eprintln!("taskwire: no task.end records (is the taskwire-tasks layer installed?)");
        }
    }
    if failed_inputs || (queried && no_tasks) {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Fills in the ticket id of each error whose line carries a ticket fingerprint, from the
/// store; a store that cannot be read is reported and the tree shown without ids.
fn link_tickets(forest: &mut build::Forest, db: &std::path::Path, prefix: &str) {
    let mut fingerprints: Vec<u64> = forest.errors.iter().filter_map(|e| e.fingerprint).collect();
    if fingerprints.is_empty() {
        return;
    }
    fingerprints.sort_unstable();
    fingerprints.dedup();
    match crate::store::ticket_ids(db, prefix, &fingerprints) {
        Ok(ids) => {
            for e in &mut forest.errors {
                e.ticket = e.fingerprint.and_then(|fp| ids.get(&fp).copied());
            }
        }
        Err(e) => eprintln!("taskwire: the tickets of the errors are not shown: {e}"),
    }
}

fn report_skipped(malformed: &[(String, u64)]) {
    let total: u64 = malformed.iter().map(|(_, n)| n).sum();
    if total == 0 {
        return;
    }
    let mut msg = format!("taskwire: skipped {total} malformed line{}", plural(total));
    if malformed.len() > 1 {
        let per_file: Vec<String> = malformed
            .iter()
            .filter(|(_, n)| *n > 0)
            .map(|(name, n)| format!("{name}: {n}"))
            .collect();
        msg.push_str(&format!(" ({})", per_file.join(", ")));
    }
    eprintln!("{msg}");
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::build::{build, Keep};
    use super::read::{Line, Reader};

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Whatever bytes arrive, the reader neither panics nor invents tasks.
        #[test]
        fn the_line_parser_never_panics(lines in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..300), 0..20)) {
            let mut r = Reader::new(None);
            for l in &lines {
                let _ = r.line(l);
            }
            let mut joined = Vec::new();
            for l in &lines {
                joined.extend_from_slice(l);
                joined.push(b'\n');
            }
            let _ = r.read_from(&joined[..]);
            let _ = build(r.finish(), Keep::default());
        }

        /// JSON-looking garbage around the keys we read is handled too.
        #[test]
        fn json_like_lines_never_panic(s in r#"\{("(task\.end|ERROR|taskwire::tasks|msg|target|level|trace_id|span_id|ts|error|message|task\.[a-z_]+)"|[:,\[\]{}0-9a-f"\\ ]|true|null){0,40}\}"#) {
            let mut r = Reader::new(None);
            let _ = r.line(s.as_bytes());
            let _ = build(r.finish(), Keep::default());
        }

        /// Every well-formed task record comes back in the tree, exactly once, wherever its
        /// parent is (present, absent, remote) and whatever its strings hold.
        #[test]
        fn well_formed_task_records_come_back(
            tasks in prop::collection::vec(
                (
                    0u8..3,                      // trace
                    any::<u64>(),                // span
                    prop::option::of(0usize..40),// parent: index of another task, or none
                    any::<bool>(),               // remote parent
                    any::<bool>(),               // failed
                    ".{0,20}",                   // name
                    prop::option::of(".{0,10}"), // service
                    0u64..10_000_000_000,        // duration
                    0i64..2_000_000_000_000_000, // end, µs since the epoch
                    prop::option::of(".{0,20}"), // failure
                ),
                1..40,
            ),
            noise in prop::collection::vec(".{0,40}", 0..10),
        ) {
            let mut spans: Vec<u64> = tasks.iter().map(|t| t.1).collect();
            spans.sort_unstable();
            spans.dedup();
            prop_assume!(spans.len() == tasks.len());
            let mut text = String::new();
            for (i, (trace, span, parent, remote, failed, name, service, dur, end, failure)) in tasks.iter().enumerate() {
                let mut rec = serde_json::json!({
                    "ts": taskwire_core::time::Rfc3339(*end).to_string(),
                    "level": "INFO",
                    "target": "taskwire::tasks",
                    "msg": "task.end",
                    "task.name": name,
                    "task.target": "t",
                    "task.outcome": if *failed { "failed" } else { "succeeded" },
                    "task.duration_us": dur,
                    "task.busy_us": dur / 2,
                    "task.errors": 0,
                    "task.failed_children": 0,
                    "task.remote_parent": remote,
                    "some_field": {"nested": [1, 2, {"msg": "task.end"}]},
                    "trace_id": format!("{:032x}", u128::from(*trace) + 1),
                    "span_id": format!("{span:016x}"),
                });
                if let Some(p) = parent {
                    let p = tasks.get(*p).map_or(0xdead, |t| t.1);
                    rec["parent_span_id"] = format!("{p:016x}").into();
                }
                if let Some(s) = service {
                    rec["service"] = s.as_str().into();
                }
                if let Some(f) = failure {
                    rec["task.failure"] = f.as_str().into();
                }
                text.push_str(&rec.to_string());
                text.push('\n');
                if let Some(n) = noise.get(i) {
                    text.push_str(n);
                    text.push('\n');
                }
            }
            let mut r = Reader::new(None);
            r.read_from(text.as_bytes()).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let f = build(r.finish(), Keep::default());
            let mut shown: Vec<(u128, u64, &str)> = f
                .traces
                .iter()
                .flat_map(|t| t.nodes.iter().map(|n| &f.tasks[n.task]))
                .map(|t| (t.trace, t.span, f.str(t.name)))
                .collect();
            shown.sort_unstable();
            let mut want: Vec<(u128, u64, &str)> = tasks
                .iter()
                .map(|t| (u128::from(t.0) + 1, t.1, t.5.as_str()))
                .collect();
            want.sort_unstable();
            prop_assert_eq!(shown, want);
            // every trace's walk is a valid pre-order: depth grows by at most one
            for t in &f.traces {
                prop_assert_eq!(t.nodes.first().map(|n| n.depth), Some(0));
                for w in t.nodes.windows(2) {
                    prop_assert!(w[1].depth <= w[0].depth + 1);
                }
            }
        }
    }

    #[test]
    fn a_well_formed_line_is_recognized() {
        let mut r = Reader::new(None);
        let line = br#"{"ts":"2026-01-01T00:00:00Z","target":"taskwire::tasks","msg":"task.end","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}"#;
        assert_eq!(r.line(line), Line::Task);
        assert_eq!(r.line(b"{}"), Line::Other);
        assert_eq!(r.line(b"{"), Line::Malformed);
    }
}
