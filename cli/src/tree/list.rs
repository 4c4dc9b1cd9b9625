//! The results list: one line per trace found, before the trees.

use std::io::{self, Write};

use taskwire_core::time::Rfc3339;
use taskwire_explore::trace::{SearchResults, Sort};

use super::render::Style;
use crate::text::{width, Clean, Human};

/// The root name column is cut to this many columns.
const MAX_ROOT: usize = 40;

/// Writes the results list: a heading, then per trace its start, duration, tasks, failures,
/// root task, services and id.
pub(crate) fn list(
    out: &mut impl Write,
    found: &SearchResults,
    query: &str,
    sort: Sort,
    st: Style<'_>,
) -> io::Result<()> {
    let (b, d, r) = (st.bold(), st.dim(), st.reset());
    let shown = found.traces().len();
    let total = found.total();
    let what = if query.is_empty() {
        String::new()
    } else {
        format!(" match `{query}`")
    };
    write!(
        out,
        "{b}{total} trace{}{what}{r}{d}, by {}",
        if total == 1 { "" } else { "s" },
        match sort {
            Sort::Duration => "duration (longest first)",
            _ => "start",
        }
    )?;
    if shown < total {
        write!(out, ", showing {shown}")?;
    }
    writeln!(out, "{r}")?;
    let root_w = found
        .traces()
        .iter()
        .map(|t| width(t.root()).min(MAX_ROOT))
        .max()
        .unwrap_or(0)
        .max(4);
    writeln!(
        out,
        "{d}  {:<27}  {:>8}  {:>5}  {:>6}  {:<root_w$}  {:<32}  SERVICES{r}",
        "START", "DURATION", "TASKS", "FAILED", "ROOT", "TRACE"
    )?;
    for t in found.traces() {
        let root: String = t.root().chars().take(MAX_ROOT).collect();
        let pad = root_w.saturating_sub(width(&root));
        let failed = if t.failed() > 0 {
            format!("{}{:>6}{r}", st.red(), t.failed())
        } else {
            format!("{:>6}", 0)
        };
        writeln!(
            out,
            "  {}  {:>8}  {:>5}  {failed}  {}{:pad$}  {:032x}  {}",
            Rfc3339(t.start_us()),
            Human(t.duration_us()),
            t.tasks(),
            Clean(&root),
            "",
            t.trace_id(),
            Clean(&t.services().join(", ")),
        )?;
    }
    Ok(())
}
