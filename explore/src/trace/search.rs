//! Search results: the traces found, sorted and limited, one summary each.

use std::fmt;
use std::str::FromStr;

use super::build::Forest;
use super::view::TraceRef;

/// The order of search results.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Sort {
    /// Oldest first.
    #[default]
    Start,
    /// Longest first.
    Duration,
}

impl FromStr for Sort {
    type Err = String;

    fn from_str(s: &str) -> Result<Sort, String> {
        match s {
            "start" => Ok(Sort::Start),
            "duration" => Ok(Sort::Duration),
            _ => Err(format!("`{s}`: sort by `start` or `duration`")),
        }
    }
}

impl fmt::Display for Sort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Sort::Start => "start",
            Sort::Duration => "duration",
        })
    }
}

/// One trace found: what a results list shows of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceSummary {
    trace_id: u128,
    root: String,
    services: Vec<String>,
    start_us: i64,
    duration_us: u64,
    tasks: usize,
    failed: usize,
}

impl TraceSummary {
    /// The summary of one trace.
    pub fn of(trace: &TraceRef<'_>) -> TraceSummary {
        TraceSummary {
            trace_id: trace.id(),
            root: trace.root_name().unwrap_or("").to_owned(),
            services: trace.services().map(str::to_owned).collect(),
            start_us: trace.start_us(),
            duration_us: trace.duration_us(),
            tasks: trace.task_count(),
            failed: trace.failed(),
        }
    }

    /// The trace id.
    pub fn trace_id(&self) -> u128 {
        self.trace_id
    }

    /// The name of its (first) root task.
    pub fn root(&self) -> &str {
        &self.root
    }

    /// Its services, sorted.
    pub fn services(&self) -> &[String] {
        &self.services
    }

    /// Its start (µs since the epoch, on the trace's clock).
    pub fn start_us(&self) -> i64 {
        self.start_us
    }

    /// From its first start to its last end.
    pub fn duration_us(&self) -> u64 {
        self.duration_us
    }

    /// How many tasks.
    pub fn tasks(&self) -> usize {
        self.tasks
    }

    /// How many failed tasks.
    pub fn failed(&self) -> usize {
        self.failed
    }
}

/// The traces a search found: sorted, at most the limit, and how many there were in all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SearchResults {
    traces: Vec<TraceSummary>,
    total: usize,
}

impl SearchResults {
    /// The traces kept, in order.
    pub fn traces(&self) -> &[TraceSummary] {
        &self.traces
    }

    /// How many traces matched before the limit.
    pub fn total(&self) -> usize {
        self.total
    }
}

impl Forest {
    /// Sorts the traces (`Start`: oldest first; `Duration`: longest first; ties by start, then
    /// id), keeps the first `limit`, and returns their summaries.
    ///
    /// ```
    /// use taskwire_explore::trace::{build, Keep, Reader, Sort};
    /// let log = concat!(
    ///     r#"{"ts":"2026-11-21T10:00:00.9Z","level":"INFO","target":"taskwire::tasks","msg":"task.end","task.name":"slow","task.duration_us":900000,"trace_id":"00000000000000000000000000000001","span_id":"0000000000000001"}"#, "\n",
    ///     r#"{"ts":"2026-11-21T10:00:01Z","level":"INFO","target":"taskwire::tasks","msg":"task.end","task.name":"quick","task.duration_us":1000,"trace_id":"00000000000000000000000000000002","span_id":"0000000000000002"}"#, "\n",
    /// );
    /// let mut reader = Reader::new();
    /// reader.read_lines(log.as_bytes())?;
    /// let mut forest = build(reader.finish(), Keep::default());
    /// let found = forest.search(Sort::Duration, Some(1));
    /// assert_eq!(found.total(), 2);
    /// assert_eq!(found.traces()[0].root(), "slow");
    /// assert_eq!(forest.traces().len(), 1);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn search(&mut self, sort: Sort, limit: Option<usize>) -> SearchResults {
        let total = self.arrange(sort, limit);
        SearchResults {
            traces: self.traces().map(|t| TraceSummary::of(&t)).collect(),
            total,
        }
    }

    /// Sorts and limits the traces as [`Forest::search`] does, without making summaries;
    /// returns how many there were before the limit.
    pub fn arrange(&mut self, sort: Sort, limit: Option<usize>) -> usize {
        let total = self.traces.len();
        match sort {
            Sort::Start => self.traces.sort_unstable_by_key(|t| (t.start_us, t.id)),
            Sort::Duration => self.traces.sort_unstable_by_key(|t| {
                (
                    std::cmp::Reverse(t.end_us.saturating_sub(t.start_us)),
                    t.start_us,
                    t.id,
                )
            }),
        }
        if let Some(limit) = limit {
            self.traces.truncate(limit);
        }
        total
    }
}
