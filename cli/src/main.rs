//! The `taskwire` command line.
//!
//! `taskwire tree [FILES...]` prints the traces of JSON logs from several processes as trees of
//! tasks; `taskwire tail [FILES...]` shows (and with `-f` follows) them as readable lines;
//! `taskwire tickets …` lists and triages the tickets of the tickets layer; `taskwire serve`
//! serves the web UI over them; see
//! `docs/cli.md`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use taskwire_cli::{serve, tail, tickets, tree};

/// taskwire: read the JSON logs that taskwire layers write.
#[derive(Parser, Debug)]
#[command(name = "taskwire", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Print each trace of JSON logs as a tree of tasks.
    ///
    /// Reads the JSON lines that taskwire writes (`task.end` records and ERROR events) from any
    /// number of processes' logs, in any order, and prints each trace as a tree: per task its
    /// service, name, duration and outcome, with the error messages of a failed task under it.
    /// A task whose parent is in another process's log is nested under that parent when both
    /// logs are given; a task whose parent is in no given log is shown as an orphan root.
    /// A query that finds several traces lists them first; `--events` shows every event of each
    /// task, `--waterfall` when each task ran (on one clock, skew between hosts adjusted), `-f`
    /// follows the logs and prints each trace as its root task ends.
    Tree(tree::TreeArgs),
    /// Show JSON lines as readable, colored lines, and follow files as they grow (`-f`).
    ///
    /// One line per record: time, level, service, target, message and fields, with the task
    /// name or the short trace id; a task's end as `✓`/`✗` with its name and duration. Filters
    /// with the same QUERY as `tree`; `--trace` marks one trace's lines; `--json` passes the
    /// matching lines through raw. Follows rotations (renamed and recreated, or truncated).
    Tail(tail::TailArgs),
    /// List, show and triage the tickets that the tickets layer keeps in a SQLite database.
    ///
    /// Errors grouped by call site (or the configured key), with exact counts, first and last
    /// seen, status (open, resolved, muted; regressions), tag distributions and the newest
    /// samples with the trace id that `taskwire tree --trace` shows as a whole request.
    Tickets(tickets::TicketsArgs),
    /// Serve the web UI over a tickets database: the stream of tickets with filters and
    /// sparklines, each ticket's details and samples, and resolve/mute/reopen/delete.
    ///
    /// Listens on 127.0.0.1:7878 by default; another address needs an access token.
    Serve(serve::ServeArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Tree(args) => tree::run(args),
        Command::Tail(args) => tail::run(args),
        Command::Tickets(args) => tickets::run(args),
        Command::Serve(args) => serve::run(args),
    }
}
