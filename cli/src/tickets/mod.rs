//! `taskwire tickets`: list, show and triage the tickets that the taskwire-tickets layer keeps
//! in a SQLite database or (with the `mongodb` feature) a MongoDB database.
//!
//! The database is given with `--db PATH` (or `--db mongodb://host/dbname`) or the
//! `TASKWIRE_DB` environment variable. Output is
//! a human table with relative times, or JSON with `--json`. The usage is documented in
//! `docs/cli.md` and `docs/tickets.md`; [`print_tickets`] lets a program print its own list.

mod render;
mod when;

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::json;
use taskwire_tickets::store::{
    Level, ListQuery, Mute, OccurrenceQuery, Sort, Status, TicketId, TicketReader, TicketTriage,
    Timestamp,
};

use crate::args::ColorWhen;
use crate::config::{Config, ConfigArgs};
use crate::store::{chain, no_database, open, Access, Failure, Tickets};

/// Arguments of `taskwire tickets`.
#[derive(Args, Debug)]
#[command(after_help = "\
Examples:
  taskwire tickets --db tickets.db list                 open tickets (not muted or resolved), newest first
  taskwire tickets list --status all --sort count       every ticket, most frequent first
  taskwire tickets list --since 24h --json              seen in the last day, as JSON
  taskwire tickets list --service checkout --level error timeout
                                                        one service's errors whose title has `timeout`
  taskwire tickets list --release 1.4.2                 seen from release 1.4.2
  taskwire tickets show 3                               ticket, tag bars, newest samples, backtrace
  taskwire tickets resolve 3 --release 1.4.2
  taskwire tickets mute 3 --for 2h                      (or --count 100)
  taskwire tickets --db mongodb://db1:27017/app list    tickets kept in MongoDB

The database comes from --db or TASKWIRE_DB: a SQLite file, or a mongodb:// or mongodb+srv:// \
connection string whose path names the database (when this taskwire was built with the \
`mongodb` feature). list and show open a SQLite file read-only and change nothing; resolve, \
mute, reopen and delete refuse a file that is not a taskwire tickets database. Exit status: 0 \
on success, 1 when the database cannot be read or the ticket does not exist, 2 on a usage \
error.")]
pub struct TicketsArgs {
    /// The database the tickets layer writes: a SQLite file, or a MongoDB connection string
    /// (`mongodb://host:27017/dbname`).
    #[arg(long, global = true, env = "TASKWIRE_DB", value_name = "PATH|URI")]
    db: Option<PathBuf>,

    /// The table prefix the layer was configured with (default: taskwire.toml's, else
    /// `taskwire_`).
    #[arg(long, global = true, value_name = "PREFIX")]
    prefix: Option<String>,

    #[command(flatten)]
    config: ConfigArgs,

    /// Machine output: JSON.
    #[arg(long, global = true)]
    json: bool,

    #[command(subcommand)]
    command: TicketsCommand,
}

#[derive(Subcommand, Debug)]
enum TicketsCommand {
    /// List tickets.
    List(ListArgs),
    /// Show one ticket: its details, tag distributions and newest samples with their trace.
    Show(ShowArgs),
    /// Mark a ticket resolved; a new occurrence reopens it as a regression.
    Resolve {
        /// The ticket id.
        id: i64,
        /// Resolved in this release: only occurrences from another release reopen it.
        #[arg(long, value_name = "RELEASE")]
        release: Option<String>,
    },
    /// Silence a ticket: it keeps counting but stays muted until the condition ends.
    Mute {
        /// The ticket id.
        id: i64,
        /// For this long (30m, 2h, 7d); the first occurrence after it reopens the ticket.
        #[arg(long = "for", value_name = "DURATION", value_parser = when::parse_duration, conflicts_with = "count")]
        for_: Option<Duration>,
        /// For this many more occurrences; the one after them reopens the ticket.
        #[arg(long, value_name = "N")]
        count: Option<u64>,
    },
    /// Open a resolved or muted ticket.
    Reopen {
        /// The ticket id.
        id: i64,
    },
    /// Delete a ticket with its samples and tags.
    Delete {
        /// The ticket id.
        id: i64,
    },
}

/// Which statuses `list` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum StatusFilter {
    /// Open tickets (regressed ones included).
    Open,
    /// Resolved tickets.
    Resolved,
    /// Muted tickets.
    Muted,
    /// Every ticket.
    All,
}

/// The order of `list`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum SortBy {
    /// Most recently seen first.
    LastSeen,
    /// Most frequent first.
    Count,
    /// Newest first.
    FirstSeen,
}

#[derive(Args, Debug)]
struct ListArgs {
    /// Which tickets: by default the open ones (regressed included); muted and resolved
    /// tickets are hidden until asked for.
    #[arg(long, value_enum, default_value_t = StatusFilter::Open)]
    status: StatusFilter,
    /// Only tickets whose title contains this text (ASCII letters in any case); the same as
    /// `--search`.
    #[arg(value_name = "TEXT", conflicts_with = "search")]
    text: Option<String>,
    /// Only tickets whose title contains this text (ASCII letters in any case).
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// Only tickets of this service.
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
    /// Only tickets with an occurrence from this release.
    #[arg(long, value_name = "RELEASE")]
    release: Option<String>,
    /// Only tickets of this level (error, warn, info, debug, trace; any case).
    #[arg(long, value_name = "LEVEL", value_parser = parse_level)]
    level: Option<Level>,
    /// Only tickets seen since: a duration ago (24h, 7d) or a date (2026-11-21, 2026-11-21T18:00:00Z, UTC).
    #[arg(long, value_name = "WHEN")]
    since: Option<String>,
    /// The order.
    #[arg(long, value_enum, default_value_t = SortBy::LastSeen)]
    sort: SortBy,
    /// Tickets per page.
    #[arg(long, default_value_t = 25)]
    limit: u32,
    /// The page, from 1.
    #[arg(long, default_value_t = 1)]
    page: u64,
}

/// `--level`: a level name in any case (`warning` for `warn`).
fn parse_level(s: &str) -> Result<Level, String> {
    match s.to_ascii_lowercase().as_str() {
        "error" => Ok(Level::ERROR),
        "warn" | "warning" => Ok(Level::WARN),
        "info" => Ok(Level::INFO),
        "debug" => Ok(Level::DEBUG),
        "trace" => Ok(Level::TRACE),
        _ => Err(format!(
            "`{s}` is not a level (error, warn, info, debug, trace)"
        )),
    }
}

#[derive(Args, Debug)]
struct ShowArgs {
    /// The ticket id.
    id: i64,
    /// How many samples to show.
    #[arg(long, default_value_t = 5)]
    samples: u32,
    /// Oldest samples first (the first sample is always kept).
    #[arg(long)]
    oldest: bool,
    /// Show the tree of the newest sample's request instead (the first sample with a trace
    /// id, in the order asked for), read from `--logs` or taskwire.toml's log sources.
    #[arg(long)]
    trace: bool,
    /// With `--trace`: the logs to read (files, folders, patterns; repeat or list).
    #[arg(long, value_name = "FILE", num_args = 1.., requires = "trace")]
    logs: Vec<PathBuf>,
    /// With `--trace`: when to color the tree.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto, requires = "trace")]
    color: ColorWhen,
}

/// Prints the tickets of the database at `db` (every status, most recently seen first) as
/// the table `taskwire tickets list --status all` prints, and returns how many there are.
/// For programs that show their own tickets, like the demo.
///
/// ```no_run
/// let n = taskwire_cli::tickets::print_tickets("target/demo/tickets.db".as_ref(), &mut std::io::stdout())?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn print_tickets(db: &Path, out: &mut dyn Write) -> io::Result<u64> {
    let store = open(
        Some(db),
        taskwire_tickets::store::DEFAULT_PREFIX,
        Access::Read,
    )
    .map_err(|Failure(m)| io::Error::other(m))?;
    let q = ListQuery::default().with_limit(100);
    let tickets = store.list(&q).map_err(|e| io::Error::other(chain(&e)))?;
    let total = store.count(&q).map_err(|e| io::Error::other(chain(&e)))?;
    render::list(out, &tickets, total, 0, Timestamp::now().as_micros())?;
    Ok(total)
}

/// Runs `taskwire tickets`.
pub fn run(args: TicketsArgs) -> ExitCode {
    let config = match args.config.load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("taskwire: {e}");
            return ExitCode::from(2);
        }
    };
    if let TicketsCommand::Show(s) = &args.command {
        if s.trace {
            return show_trace(&args, s, config.as_ref());
        }
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let result = execute(&args, config.as_ref(), &mut out)
        .and_then(|()| out.flush().map_err(|e| Failure(e.to_string())));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(m)) if m.contains("Broken pipe") => ExitCode::SUCCESS,
        Err(Failure(m)) => {
            let _ = out.flush();
            if args.json {
                let _ = writeln!(io::stdout(), "{}", json!({ "error": m }));
            }
            eprintln!("taskwire: {m}");
            ExitCode::FAILURE
        }
    }
}

fn io_err(e: io::Error) -> Failure {
    Failure(e.to_string())
}

fn print_json(out: &mut dyn Write, v: &serde_json::Value) -> Result<(), Failure> {
    writeln!(out, "{v}").map_err(io_err)
}

/// `tickets show N --trace`: the tree of the ticket's newest sample's request.
fn show_trace(args: &TicketsArgs, s: &ShowArgs, config: Option<&Config>) -> ExitCode {
    let found = (|| {
        let (db, prefix) = crate::config::store(args.db.clone(), config, args.prefix.clone())
            .ok_or_else(no_database)?;
        let store = open(Some(&db), &prefix, Access::Read)?;
        let id = TicketId(s.id);
        store
            .get(id)
            .map_err(|e| Failure(chain(&e)))?
            .ok_or_else(|| Failure(format!("no ticket {}", s.id)))?;
        let q = if s.oldest {
            OccurrenceQuery::oldest()
        } else {
            OccurrenceQuery::newest()
        }
        .with_limit(s.samples.max(1));
        let samples = store.occurrences(id, &q).map_err(|e| Failure(chain(&e)))?;
        let trace = samples
            .iter()
            .find_map(|o| o.sample.trace_id.as_deref())
            .ok_or_else(|| {
                Failure(format!(
                    "ticket {}: no sample has a trace id (was the tasks layer installed?)",
                    s.id
                ))
            })?;
        let trace = u128::from_str_radix(trace, 16)
            .ok()
            .filter(|_| trace.len() == 32)
            .ok_or_else(|| {
                Failure(format!(
                    "ticket {}: the sample's trace id `{trace}` is not 32 hex digits",
                    s.id
                ))
            })?;
        Ok::<_, Failure>((trace, db, prefix))
    })();
    let (trace, db, prefix) = match found {
        Ok(f) => f,
        Err(Failure(m)) => {
            eprintln!("taskwire: {m}");
            return ExitCode::FAILURE;
        }
    };
    let files = if s.logs.is_empty() {
        crate::config::default_logs(config)
    } else {
        s.logs.clone()
    };
    if files.is_empty() && !crate::args::stdin_has_input() {
        eprintln!(
            "taskwire: no logs to read: pass --logs FILE…, or name them in taskwire.toml \
             ([services.NAME] logs = [\"…\"])"
        );
        return ExitCode::from(2);
    }
    crate::tree::show(crate::tree::Show {
        query: taskwire_explore::query::Query::new(vec![taskwire_explore::query::Term::TraceId(
            trace,
        )]),
        files,
        failed: false,
        json: args.json,
        color: !args.json && s.color.enabled(false),
        store: Some((db, prefix)),
        view: crate::tree::View::default(),
    })
}

fn execute(
    args: &TicketsArgs,
    config: Option<&Config>,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let access = match args.command {
        TicketsCommand::List(_) | TicketsCommand::Show(_) => Access::Read,
        _ => Access::Triage,
    };
    let (db, prefix) = match crate::config::store(args.db.clone(), config, args.prefix.clone()) {
        Some((db, prefix)) => (Some(db), prefix),
        None => (None, String::new()),
    };
    let mut store = open(db.as_deref(), &prefix, access)?;
    let now = Timestamp::now();
    match &args.command {
        TicketsCommand::List(l) => {
            let mut q = ListQuery::default()
                .with_sort(match l.sort {
                    SortBy::LastSeen => Sort::LastSeen,
                    SortBy::Count => Sort::Count,
                    SortBy::FirstSeen => Sort::FirstSeen,
                })
                .with_limit(l.limit)
                .with_offset(l.page.saturating_sub(1).saturating_mul(u64::from(l.limit)));
            q = match l.status {
                StatusFilter::Open => q.with_status(Status::Open),
                StatusFilter::Resolved => q.with_status(Status::Resolved),
                StatusFilter::Muted => q.with_status(Status::Muted),
                StatusFilter::All => q,
            };
            if let Some(since) = &l.since {
                let at = match when::parse_duration(since) {
                    Ok(d) => Timestamp::from_micros(
                        now.as_micros()
                            .saturating_sub(i64::try_from(d.as_micros()).unwrap_or(i64::MAX)),
                    ),
                    Err(_) => Timestamp::from_micros(when::parse_date(since).ok_or_else(|| {
                        Failure(format!(
                            "--since {since}: neither a duration (24h, 7d) nor a date (2026-11-21T18:00:00Z)"
                        ))
                    })?),
                };
                q = q.with_since(at);
            }
            if let Some(text) = l.search.as_ref().or(l.text.as_ref()) {
                q = q.with_search(text.as_str());
            }
            if let Some(service) = &l.service {
                q = q.with_service(service.as_str());
            }
            if let Some(release) = &l.release {
                q = q.with_release(release.as_str());
            }
            if let Some(level) = l.level {
                q = q.with_level(level);
            }
            let tickets = store.list(&q).map_err(|e| Failure(chain(&e)))?;
            let total = store.count(&q).map_err(|e| Failure(chain(&e)))?;
            if args.json {
                print_json(
                    out,
                    &json!({
                        "total": total,
                        "offset": q.offset,
                        "limit": q.limit,
                        "tickets": tickets.iter().map(render::ticket_json).collect::<Vec<_>>(),
                    }),
                )
            } else {
                render::list(out, &tickets, total, q.offset, now.as_micros()).map_err(io_err)
            }
        }
        TicketsCommand::Show(s) => {
            let id = TicketId(s.id);
            let t = store
                .get(id)
                .map_err(|e| Failure(chain(&e)))?
                .ok_or_else(|| Failure(format!("no ticket {}", s.id)))?;
            let tags = store.tags(id).map_err(|e| Failure(chain(&e)))?;
            let q = if s.oldest {
                OccurrenceQuery::oldest()
            } else {
                OccurrenceQuery::newest()
            }
            .with_limit(s.samples);
            let samples = store.occurrences(id, &q).map_err(|e| Failure(chain(&e)))?;
            if args.json {
                let mut ticket = render::ticket_json(&t);
                ticket["tags"] = render::tags_json(&tags);
                ticket["samples"] = samples
                    .iter()
                    .map(|o| {
                        let mut v = render::occurrence_json(o);
                        v["backtrace"] = render::backtrace(o).into();
                        v
                    })
                    .collect::<Vec<_>>()
                    .into();
                print_json(out, &ticket)
            } else {
                render::show(out, &t, &tags, &samples, now.as_micros()).map_err(io_err)
            }
        }
        TicketsCommand::Resolve { id, release } => {
            let ok = store
                .resolve(TicketId(*id), release.as_deref(), now)
                .map_err(|e| Failure(chain(&e)))?;
            done(out, args.json, &mut store, *id, ok, "resolved")
        }
        TicketsCommand::Mute { id, for_, count } => {
            let mute = match (for_, count) {
                (Some(d), _) => Mute::Until(now.saturating_add(*d)),
                (None, Some(n)) => Mute::Count(*n),
                (None, None) => Mute::Forever,
            };
            let ok = store
                .mute(TicketId(*id), mute)
                .map_err(|e| Failure(chain(&e)))?;
            done(out, args.json, &mut store, *id, ok, "muted")
        }
        TicketsCommand::Reopen { id } => {
            let ok = store
                .reopen(TicketId(*id))
                .map_err(|e| Failure(chain(&e)))?;
            done(out, args.json, &mut store, *id, ok, "reopened")
        }
        TicketsCommand::Delete { id } => {
            let ok = store
                .delete(TicketId(*id))
                .map_err(|e| Failure(chain(&e)))?;
            if !ok {
                return Err(Failure(format!("no ticket {id}")));
            }
            if args.json {
                print_json(out, &json!({"id": id, "deleted": true}))
            } else {
                writeln!(out, "ticket {id} deleted").map_err(io_err)
            }
        }
    }
}

/// Reports a status change.
fn done(
    out: &mut dyn Write,
    json: bool,
    store: &mut dyn Tickets,
    id: i64,
    ok: bool,
    what: &str,
) -> Result<(), Failure> {
    if !ok {
        return Err(Failure(format!("no ticket {id}")));
    }
    let t = store
        .get(TicketId(id))
        .map_err(|e| Failure(chain(&e)))?
        .ok_or_else(|| Failure(format!("no ticket {id}")))?;
    if json {
        print_json(out, &render::ticket_json(&t))
    } else {
        let extra = match (t.mute, &t.resolved_in_release) {
            (Some(Mute::Until(u)), _) => format!(" until {u}"),
            (Some(Mute::Count(n)), _) => format!(" for {n} more occurrences"),
            (_, Some(r)) if t.status == Status::Resolved => format!(" in release {r}"),
            _ => String::new(),
        };
        writeln!(out, "ticket {id} {what}{extra}: {}", t.title).map_err(io_err)
    }
}
