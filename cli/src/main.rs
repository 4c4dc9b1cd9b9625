//! The `taskwire` command line.
//!
//! `taskwire tree [FILES...]` prints the traces of JSON logs from several processes as trees of
//! tasks; see `docs/cli.md`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod tree;

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
    Tree(tree::TreeArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Tree(args) => tree::run(args),
    }
}
