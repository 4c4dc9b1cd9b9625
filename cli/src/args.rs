//! What the log commands (`tree`, `tail`) share on their command lines: leading query words
//! told apart from files, trace ids, colors, the clock.

use std::io::IsTerminal;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args, ValueEnum};
use taskwire_explore::query::{Query, Term, TracePrefix};

/// When to color the text output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum ColorWhen {
    /// When standard output is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// `--color WHEN` and `--no-color`, for the commands that color text.
#[derive(Args, Debug, Clone, Copy)]
pub(crate) struct ColorArgs {
    /// When to color the output.
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorWhen::Auto)]
    color: ColorWhen,

    /// Same as `--color never`.
    #[arg(long)]
    no_color: bool,
}

impl ColorArgs {
    /// Whether to color.
    pub(crate) fn enabled(self) -> bool {
        self.color.enabled(self.no_color)
    }
}

impl ColorWhen {
    /// Whether to color, `--no-color` and `NO_COLOR` considered.
    pub(crate) fn enabled(self, no_color: bool) -> bool {
        !no_color
            && match self {
                ColorWhen::Always => true,
                ColorWhen::Never => false,
                ColorWhen::Auto => {
                    std::io::stdout().is_terminal()
                        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                }
            }
    }
}

/// `--trace` of `tree` and `tail`: a trace id, a pasted `traceparent`, or the first 8 to 31 hex
/// digits of an id (as the console prints them).
pub(crate) fn parse_trace_prefix(s: &str) -> Result<TracePrefix, String> {
    if let Some(p) = TracePrefix::parse(s) {
        return Ok(p);
    }
    match s
        .parse::<Query>()
        .map(|q| (q.is_trace_only(), q.trace_id()))
    {
        Ok((true, Some(t))) => Ok(TracePrefix::of_id(t)),
        _ => Err(format!(
            "`{s}` is not a trace id (32 hex digits, its first 8 or more, or a traceparent \
             00-<trace>-<span>-01)"
        )),
    }
}

/// [`parse_trace_prefix`] as a query term.
pub(crate) fn parse_trace(s: &str) -> Result<Term, String> {
    parse_trace_prefix(s).map(|p| p.full().map_or(Term::TracePrefix(p), Term::TraceId))
}

pub(crate) fn parse_query(s: &str) -> Result<Query, String> {
    s.parse::<Query>().map_err(|e| e.to_string())
}

/// Whether a positional argument is a query term rather than a file: it does not exist, and it
/// has an operator or does not look like a path (no `/`, no wildcard, no log extension).
pub(crate) fn is_query_term(arg: &str) -> bool {
    if arg == "-" || Path::new(arg).exists() {
        return false;
    }
    let before_slash = arg
        .split(['/', std::path::MAIN_SEPARATOR])
        .next()
        .unwrap_or("");
    if before_slash.contains(['=', '~', '<', '>']) {
        return true;
    }
    let pathy = arg.contains(['/', std::path::MAIN_SEPARATOR, '*', '?', '['])
        || [".jsonl", ".log", ".gz", ".json"]
            .iter()
            .any(|ext| arg.ends_with(ext));
    !pathy
}

/// The leading query words of `args` (joined) and the files after them.
pub(crate) fn split_query(args: &[String]) -> (String, &[String]) {
    let split = args
        .iter()
        .position(|a| !is_query_term(a))
        .unwrap_or(args.len());
    let (words, files) = args.split_at(split);
    (words.join(" "), files)
}

/// Whether standard input has something to read: a file, a pipe or a socket (not a terminal,
/// nor `/dev/null` as a program started without input has). The test ripgrep uses to choose
/// between standard input and its default.
pub(crate) fn stdin_has_input() -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd;
        use std::os::unix::fs::FileTypeExt;
        let Ok(fd) = std::io::stdin().as_fd().try_clone_to_owned() else {
            return false;
        };
        std::fs::File::from(fd).metadata().is_ok_and(|m| {
            let t = m.file_type();
            t.is_file() || t.is_fifo() || t.is_socket()
        })
    }
    #[cfg(not(unix))]
    {
        !std::io::stdin().is_terminal()
    }
}

/// The query of the leading words of `args` and of `-q` (`extra`), and the files after the
/// words; a query that does not parse is reported, and the exit status (2) returned.
pub(crate) fn query_and_files<'a>(
    args: &'a [String],
    extra: Option<&Query>,
) -> Result<(Query, &'a [String]), std::process::ExitCode> {
    let (words, files) = split_query(args);
    let query = match words.parse::<Query>() {
        Ok(q) => q,
        Err(e) => {
            eprintln!("taskwire: the query `{words}`: {e}");
            return Err(std::process::ExitCode::from(2));
        }
    };
    let mut terms = query.terms().to_vec();
    if let Some(q) = extra {
        terms.extend(q.terms().iter().cloned());
    }
    Ok((Query::new(terms), files))
}

/// Microseconds since the epoch, now.
pub(crate) fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

pub(crate) fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
