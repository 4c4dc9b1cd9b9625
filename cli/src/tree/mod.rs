//! `taskwire tree`: the story of each request, from the JSON logs of several processes.
//!
//! A thin front end on the engine (`taskwire_explore`): it turns arguments into sources
//! (rotated sets, gzip, standard input) and a query, reads them into the trace model
//! (`taskwire_explore::trace`), and prints the result: `list` the results list, `render` the
//! trees (waterfall, events) for people, `json` for programs; `follow` prints each tree as its
//! root task ends. The usage and the output are documented in `docs/cli.md`.

mod follow;
mod json;
mod list;
mod render;

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use taskwire_explore::query::{Query, Term};
use taskwire_explore::source::{self, Source};
use taskwire_explore::trace::{build, Forest, Keep, Reader, SearchResults, Sort};

use crate::args::{now_us, parse_query, parse_trace, plural, query_and_files, ColorArgs};
use crate::config::ConfigArgs;
use render::{Style, TicketIds};

/// Arguments of `taskwire tree`.
#[derive(Args, Debug)]
#[command(after_help = "\
Examples:
  taskwire tree front.log back.log            every trace, nested across both services
  taskwire tree logs/                         every *.jsonl, *.log, *.gz there, rotations too
  taskwire tree 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01 logs/*.jsonl
  taskwire tree request_id=abc logs/          the request whose x-request-id was abc
  taskwire tree 'service=back failed' logs/   the list of traces with a failed task in back, then each
  taskwire tree duration>1s --list --sort duration --limit 10 logs/
                                              the ten slowest traces over a second, listed
  taskwire tree --waterfall --events ID logs/ one trace with start offsets, bars and every event
  taskwire tree --failed logs/*.jsonl         only traces with a failed task
  taskwire tree -f logs/app.jsonl             each trace as its root task ends, following appends
  cat app.log | taskwire tree --json          one JSON object per trace

Leading arguments that are not files form the QUERY (see docs/cli.md): a trace id, a pasted \
traceparent, a span id, a request id, field=value, field~text, service=, task=, failed, \
duration>250ms, level>=warn, since=1h, until=TIME. When a query finds more than one trace, \
the results list comes first. A file brings its rotations (app.jsonl.1, \
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

    /// Show only this trace (32 hex digits, or a pasted traceparent), or every trace whose id
    /// starts with these 8 to 31 hex digits (the short id the console prints).
    #[arg(long, value_name = "TRACE_ID", value_parser = parse_trace)]
    trace: Option<Term>,

    /// Show only traces with at least one failed task.
    #[arg(long)]
    failed: bool,

    /// Machine output: one JSON object per trace and line, children nested (with `--list`,
    /// one summary per trace and line).
    #[arg(long)]
    json: bool,

    #[command(flatten)]
    view: View,

    #[command(flatten)]
    color: ColorArgs,

    /// The tickets store, to show the ticket of each error (`[ticket #3]`): a SQLite file or a
    /// MongoDB connection string (default: taskwire.toml's).
    #[arg(long, env = "TASKWIRE_DB", value_name = "PATH|URI")]
    db: Option<PathBuf>,

    #[command(flatten)]
    config: ConfigArgs,
}

/// How the traces are listed and drawn: the results list, order and limit, events, waterfall,
/// following.
#[derive(Args, Debug, Default)]
pub(crate) struct View {
    /// Print only the results list (one line per trace found), not the trees.
    #[arg(long, conflicts_with = "follow")]
    list: bool,

    /// Keep the first N traces (in `--sort` order).
    #[arg(long, value_name = "N", conflicts_with = "follow")]
    limit: Option<usize>,

    /// Order of the results and trees: `start` (oldest first) or `duration` (longest first).
    #[arg(long, value_name = "ORDER", default_value_t = Sort::Start, value_parser = parse_sort, conflicts_with = "follow")]
    sort: Sort,

    /// Each task's log events (all levels, with their fields) in time order, and its
    /// attributes.
    #[arg(long)]
    events: bool,

    /// Start offsets and bars on the trace's clock: the gap between a call and the task that
    /// served it shows.
    #[arg(long, short = 'w')]
    waterfall: bool,

    /// Follow the files: print each trace as its root task ends (stop with Ctrl-C, or at the
    /// end of standard input).
    #[arg(long, short = 'f')]
    follow: bool,
}

fn parse_sort(s: &str) -> Result<Sort, String> {
    s.parse()
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
    pub(crate) view: View,
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
    let mut reader = Reader::new();
    let mut skipped = 0;
    let (sources, errors) = source::expand(files);
    if let Some(e) = errors.into_iter().next() {
        return Err(io::Error::other(e));
    }
    for src in &sources {
        skipped += reader.read_source(src)?.malformed;
    }
    let forest = build(reader.finish(), Keep::default());
    let mut out = out;
    render::text(&mut out, &forest, Style::default())?;
    Ok(skipped)
}

/// Runs `taskwire tree`.
pub fn run(args: TreeArgs) -> ExitCode {
    let (mut query, files) = match query_and_files(&args.args, args.query.as_ref()) {
        Ok(q) => q,
        Err(status) => return status,
    };
    let mut terms = query.terms().to_vec();
    terms.extend(args.trace);
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
        view: args.view,
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
        view,
    } = show;
    let mut reader = Reader::with_query(&query, now_us()).with_events(view.events);
    let mut style = Style {
        color,
        waterfall: view.waterfall,
        events: view.events,
        tickets: None,
    };

    let (sources, errors) = source::expand(&files);
    let mut failed_inputs = !errors.is_empty();
    for e in &errors {
        eprintln!("taskwire: {e}");
    }
    if view.follow {
        return match follow::follow(&sources, reader, Keep::failed_only(failed), style, json) {
            Ok(()) if !failed_inputs => ExitCode::SUCCESS,
            Ok(()) => ExitCode::FAILURE,
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("taskwire: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let mut malformed: Vec<(String, u64)> = Vec::new();
    if sources.contains(&Source::Stdin) && io::stdin().is_terminal() {
        eprintln!("taskwire: reading logs from standard input (end with Ctrl-D)");
    }
    for (src, read) in sources.iter().zip(reader.read_sources(&sources)) {
        let name = src.to_string();
        match read {
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
    let no_tasks = collected.task_count() == 0;
    let repeats = collected.repeats();
    let mut forest = build(collected, Keep::failed_only(failed));
    // a search that found several traces lists them first
    let searched = !query.is_empty() && !query.is_trace_only();
    let list_first = view.list || (searched && forest.traces().len() > 1);
    let found = if list_first {
        forest.search(view.sort, view.limit)
    } else {
        forest.arrange(view.sort, view.limit);
        SearchResults::default()
    };
    let tickets = match &store {
        Some((db, prefix)) => ticket_ids(&forest, db, prefix),
        None => TicketIds::default(),
    };
    style.tickets = Some(&tickets);

    let stdout = io::stdout();
    let mut out = io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = (|| {
        match (json, view.list, list_first) {
            (true, true, _) => {
                for s in found.traces() {
                    json::summary_json(&mut out, s)?;
                }
            }
            (true, false, _) => json::json(&mut out, &forest, style)?,
            (false, true, _) => list::list(&mut out, &found, &query.to_string(), view.sort, style)?,
            (false, false, true) => {
                list::list(&mut out, &found, &query.to_string(), view.sort, style)?;
                writeln!(out)?;
                render::text(&mut out, &forest, style)?;
            }
            (false, false, false) => render::text(&mut out, &forest, style)?,
        }
        out.flush()
    })();
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
    if forest.duplicates() > 0 {
        eprintln!(
            "taskwire: ignored {} duplicate task record{} (same trace and span id)",
            forest.duplicates(),
            plural(forest.duplicates())
        );
    }
    let queried = !query.is_empty();
    let short = query.trace_prefix().filter(|p| p.full().is_none());
    if let Some(p) = short.filter(|_| !searched && forest.traces().len() > 1) {
        report_ambiguous(p, &forest);
    }
    if no_tasks && !failed_inputs {
        if let Some(p) = short.filter(|_| query.is_trace_only()) {
            eprintln!("taskwire: no trace id starts with {p}");
        } else if query.is_trace_only() {
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

/// Says on stderr that a short trace id named several traces, which are all shown (`git` fails
/// on an ambiguous short hash; a reader of logs wants to see them).
fn report_ambiguous(prefix: taskwire_explore::query::TracePrefix, forest: &Forest) {
    const NAMED: usize = 5;
    let n = forest.traces().len();
    let mut ids: Vec<String> = forest
        .traces()
        .take(NAMED)
        .map(|t| format!("{:032x}", t.id()))
        .collect();
    if n > NAMED {
        ids.push("…".to_owned());
    }
    eprintln!(
        "taskwire: {n} traces start with {prefix}, all shown: {} (give more digits to pick one)",
        ids.join(", ")
    );
}

/// The ticket ids of the errors whose lines carry a ticket fingerprint, from the store; a
/// store that cannot be read is reported and the tree shown without ids.
fn ticket_ids(forest: &Forest, db: &std::path::Path, prefix: &str) -> TicketIds {
    let fingerprints = forest.ticket_fingerprints();
    if fingerprints.is_empty() {
        return TicketIds::default();
    }
    crate::store::ticket_ids(db, prefix, &fingerprints).unwrap_or_else(|e| {
        eprintln!("taskwire: the tickets of the errors are not shown: {e}");
        TicketIds::default()
    })
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
