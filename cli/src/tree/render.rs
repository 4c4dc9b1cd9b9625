//! Rendering for people: each trace as an indented tree, with (on request) a waterfall of start
//! offsets and bars on the trace's clock, and every event of each task with its fields.

use std::collections::HashMap;
use std::fmt;
use std::io::{self, Write};

use serde_json::Value;
use taskwire_core::task_record::children::OTHER;
use taskwire_core::time::Rfc3339;
use taskwire_explore::trace::{EventRef, Forest, NodeRef, Orphan, TraceRef};
use tracing_core::Level;

use crate::text::{width, Clean, Human};

/// Error messages shown under one task in the text output; the rest are counted.
const MAX_ERRORS_SHOWN: usize = 5;
/// The duration column never starts further right than this.
const MAX_COLUMN: usize = 80;

/// Cells of a waterfall bar.
const BAR: usize = 32;

/// Ticket ids by fingerprint, as the configured tickets store answered.
pub(crate) type TicketIds = HashMap<u64, i64>;

/// Terminal colors, on or off, and what to show besides the tree.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Style<'a> {
    pub(crate) color: bool,
    /// Start offsets and bars.
    pub(crate) waterfall: bool,
    /// Every event of each task, with fields, and each task's attributes.
    pub(crate) events: bool,
    /// The tickets of errors, to show next to them (`[ticket #3]`).
    pub(crate) tickets: Option<&'a TicketIds>,
}

impl Style<'_> {
    /// The ticket id of an error, when the store knows its fingerprint.
    pub(crate) fn ticket(&self, e: &EventRef<'_>) -> Option<i64> {
        e.ticket_fingerprint()
            .and_then(|fp| self.tickets?.get(&fp).copied())
    }

    pub(crate) fn code(self, code: &'static str) -> &'static str {
        if self.color {
            code
        } else {
            ""
        }
    }
    pub(crate) fn bold(self) -> &'static str {
        self.code("\x1b[1m")
    }
    pub(crate) fn dim(self) -> &'static str {
        self.code("\x1b[2m")
    }
    pub(crate) fn red(self) -> &'static str {
        self.code("\x1b[31m")
    }
    pub(crate) fn green(self) -> &'static str {
        self.code("\x1b[32m")
    }
    pub(crate) fn yellow(self) -> &'static str {
        self.code("\x1b[33m")
    }
    pub(crate) fn cyan(self) -> &'static str {
        self.code("\x1b[36m")
    }
    pub(crate) fn reset(self) -> &'static str {
        self.code("\x1b[0m")
    }
}

/// Writes every trace as a tree.
pub(crate) fn text(out: &mut impl Write, f: &Forest, st: Style<'_>) -> io::Result<()> {
    for (i, t) in f.traces().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        trace_text(out, &t, st)?;
    }
    Ok(())
}

pub(crate) fn trace_text(out: &mut impl Write, t: &TraceRef<'_>, st: Style<'_>) -> io::Result<()> {
    let (b, d, r) = (st.bold(), st.dim(), st.reset());
    let n = t.task_count();
    write!(
        out,
        "{b}trace {:032x}{r}  {d}{}  {n} task{}",
        t.id(),
        Rfc3339(t.start_us()),
        if n == 1 { "" } else { "s" }
    )?;
    if t.failed() > 0 {
        write!(out, ", {r}{}{} failed{r}{d}", st.red(), t.failed())?;
    }
    for (i, s) in t.services().enumerate() {
        let sep = if i == 0 { "  services: " } else { ", " };
        write!(out, "{sep}{}", Clean(s))?;
    }
    if st.waterfall {
        write!(out, "  {}", Human(t.duration_us()))?;
    }
    writeln!(out, "{r}")?;
    for s in t.skews() {
        let (off, dir) = if s.offset_us() >= 0 {
            (s.offset_us().unsigned_abs(), "behind")
        } else {
            (s.offset_us().unsigned_abs(), "ahead of")
        };
        writeln!(
            out,
            "{}! {}: clock {} {dir} {}, adjusted{r}",
            st.yellow(),
            Clean(s.service()),
            Human(off),
            Clean(s.relative_to())
        )?;
    }

    let svc_w = t.services().map(width).max().unwrap_or(0);
    let svc_col = if svc_w > 0 { svc_w + 2 } else { 0 };
    let column = t
        .nodes()
        .map(|n| 3 * (n.depth() + 1) + svc_col + width(n.name()))
        .max()
        .unwrap_or(0)
        .min(MAX_COLUMN);

    // the tree's left margin: "│  " or "   " per ancestor
    let mut prefix = String::new();
    let mut prefix_lens: Vec<usize> = Vec::new();
    let layout = Layout {
        svc_w,
        column,
        start_us: t.start_us(),
        total_us: t.duration_us().max(1),
    };
    for node in t.nodes() {
        prefix_lens.truncate(node.depth());
        prefix.truncate(prefix_lens.last().copied().unwrap_or(0));
        node_text(out, &node, &prefix, layout, st)?;
        prefix.push_str(if node.is_last() { "   " } else { "│  " });
        prefix_lens.push(prefix.len());
    }
    for e in t.unattached() {
        if !st.events && e.level() != Level::ERROR {
            continue;
        }
        writeln!(
            out,
            "{}! {} in span {:016x}, which has no task record:{r} {}{}",
            st.red(),
            if e.level() == Level::ERROR {
                "error"
            } else {
                "event"
            },
            e.span_id(),
            Clean(e.msg()),
            TicketRef(st.ticket(&e))
        )?;
    }
    Ok(())
}

/// Column positions and the time scale of one trace.
#[derive(Clone, Copy)]
struct Layout {
    svc_w: usize,
    column: usize,
    start_us: i64,
    total_us: u64,
}

impl Layout {
    /// µs from the trace's start.
    fn offset(&self, at_us: i64) -> u64 {
        u64::try_from(at_us.saturating_sub(self.start_us)).unwrap_or(0)
    }

    /// The cells a task covers: `[from, to)` of [`BAR`].
    fn cells(&self, start_us: i64, end_us: i64) -> (usize, usize) {
        let scale = |us: u64, up: bool| {
            let w = BAR as u128;
            let (us, total) = (u128::from(us), u128::from(self.total_us));
            let cells = if up {
                (us * w).div_ceil(total)
            } else {
                us * w / total
            };
            usize::try_from(cells.min(w)).unwrap_or(BAR)
        };
        let from = scale(self.offset(start_us), false).min(BAR - 1);
        let to = scale(self.offset(end_us), true).clamp(from + 1, BAR);
        (from, to)
    }
}

fn node_text(
    out: &mut impl Write,
    node: &NodeRef<'_>,
    prefix: &str,
    l: Layout,
    st: Style<'_>,
) -> io::Result<()> {
    let (d, r) = (st.dim(), st.reset());
    let connector = if node.is_last() { "└─ " } else { "├─ " };
    write!(out, "{d}{prefix}{connector}{r}")?;
    let mut used = 3 * (node.depth() + 1);
    if l.svc_w > 0 {
        let svc = node.service().unwrap_or("");
        write!(out, "{}{}{r}", st.cyan(), Clean(svc))?;
        write!(
            out,
            "{:pad$}",
            "",
            pad = l.svc_w - width(svc).min(l.svc_w) + 2
        )?;
        used += l.svc_w + 2;
    }
    let name = node.name();
    write!(out, "{}", Clean(name))?;
    used += width(name);
    let pad = l.column.saturating_sub(used) + 2;
    write!(out, "{:pad$}{d}{:>6}{r} ", "", Human(node.duration_us()))?;
    if node.failed() {
        write!(out, "{}✗{r}", st.red())?;
    } else {
        write!(out, "{}✓{r}", st.green())?;
    }
    if st.waterfall {
        let (from, to) = l.cells(node.start_us(), node.end_us());
        let offset = format!("+{}", Human(l.offset(node.start_us())));
        let bar_color = if node.failed() { st.red() } else { st.cyan() };
        write!(
            out,
            "  {d}{offset:>8}{r} {d}{}{r}{bar_color}{}{r}{d}{}{r}",
            "░".repeat(from),
            "█".repeat(to - from),
            "░".repeat(BAR - to)
        )?;
    }
    match node.orphan() {
        None => {}
        Some(Orphan::Parent(p)) => write!(
            out,
            "  {}[orphan: parent {p:016x} not in these logs]{r}",
            st.yellow()
        )?,
        Some(Orphan::RemoteParent(p)) => write!(
            out,
            "  {}[orphan: remote parent {p:016x} not in these logs]{r}",
            st.yellow()
        )?,
        Some(Orphan::Cycle(p)) => write!(
            out,
            "  {}[orphan: parent {p:016x} is its own descendant]{r}",
            st.yellow()
        )?,
        Some(_) => write!(out, "  {}[orphan]{r}", st.yellow())?,
    }
    writeln!(out)?;

    // what belongs to the task goes under it, left of its children's branch line
    let lead_a = if node.is_last() { "   " } else { "│  " };
    let lead_b = if node.has_children() { "│  " } else { "   " };
    let lead = format!("{prefix}{lead_a}{lead_b}");
    if st.events {
        if let Some(attrs) = node.attributes() {
            writeln!(out, "{d}{lead}{r}{d}attributes:{r} {}", Fields(attrs))?;
        }
        for e in node.events() {
            event_text(out, &e, &lead, l, st)?;
        }
    } else {
        let mut shown = 0;
        for e in node.errors() {
            if shown == MAX_ERRORS_SHOWN {
                shown += 1;
                break;
            }
            writeln!(
                out,
                "{d}{lead}{r}{}error:{r} {}{}",
                st.red(),
                Clean(e.msg()),
                TicketRef(st.ticket(&e))
            )?;
            shown += 1;
        }
        if shown > MAX_ERRORS_SHOWN {
            let more = node.errors().count() - MAX_ERRORS_SHOWN;
            writeln!(out, "{d}{lead}… and {more} more errors{r}")?;
        }
    }
    if node.summarised_children() > 0 {
        writeln!(out, "{d}{lead}{}{r}", Summary(node))?;
    }
    if let (true, true, Some(failure)) = (
        node.failed(),
        node.errors().next().is_none(),
        node.failure(),
    ) {
        writeln!(
            out,
            "{d}{lead}{r}{}failure:{r} {}",
            st.red(),
            Clean(failure)
        )?;
    }
    if node.calls_unread_service() {
        writeln!(
            out,
            "{d}{lead}{r}{}→ calls a service whose log was not read{r}",
            st.yellow()
        )?;
    }
    Ok(())
}

/// One event under its task: offset from the trace's start, level, message, fields.
fn event_text(
    out: &mut impl Write,
    e: &EventRef<'_>,
    lead: &str,
    l: Layout,
    st: Style<'_>,
) -> io::Result<()> {
    let (d, r) = (st.dim(), st.reset());
    let level = e.level();
    let color = match level {
        Level::ERROR => st.red(),
        Level::WARN => st.yellow(),
        Level::INFO => st.green(),
        _ => st.dim(),
    };
    let offset = format!("+{}", Human(l.offset(e.at_us())));
    write!(
        out,
        "{d}{lead}{offset:>8}{r} {color}{:<5}{r} {}",
        level.as_str(),
        Clean(e.msg())
    )?;
    if let Some(fields) = e.fields() {
        write!(out, "  {d}{}{r}", Fields(fields))?;
    }
    writeln!(out, "{}", TicketRef(st.ticket(e)))
}

/// The descendants a task's record summarises:
/// `+12 children: validate ×3 (1.20ms), db.query ×9 (8.10ms)` (total time per name).
struct Summary<'a, 'f>(&'a NodeRef<'f>);

impl fmt::Display for Summary<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.summarised_children();
        write!(f, "+{n} {}", if n == 1 { "child" } else { "children" })?;
        for (i, g) in self.0.children_summary().enumerate() {
            let sep = if i == 0 { ": " } else { ", " };
            let name = if g.name == OTHER { "other" } else { g.name };
            write!(
                f,
                "{sep}{} ×{} ({})",
                Clean(name),
                g.count,
                Human(g.total_us)
            )?;
        }
        Ok(())
    }
}

/// `  [ticket #3]` after an error counted in a ticket of the configured store.
struct TicketRef(Option<i64>);

impl fmt::Display for TicketRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, "  [ticket #{id}]"),
            None => Ok(()),
        }
    }
}

/// A JSON object of fields as `key=value key=value`: strings without quotes when they have
/// no space, everything else as JSON.
struct Fields<'a>(&'a str);

impl fmt::Display for Fields<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Ok(Value::Object(map)) = serde_json::from_str::<Value>(self.0) else {
            return write!(f, "{}", Clean(self.0));
        };
        for (i, (k, v)) in map.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            match v {
                Value::String(s) if !s.is_empty() && !s.contains(char::is_whitespace) => {
                    write!(f, "{}={}", Clean(k), Clean(s))?;
                }
                v => write!(f, "{}={}", Clean(k), Clean(&v.to_string()))?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod waterfall_tests {
    use super::*;

    #[test]
    fn bars_cover_at_least_one_cell_and_stay_inside_the_bar() {
        let l = Layout {
            svc_w: 0,
            column: 0,
            start_us: 1_000,
            total_us: 100,
        };
        assert_eq!(l.cells(1_000, 1_100), (0, BAR));
        assert_eq!(l.cells(1_050, 1_050), (BAR / 2, BAR / 2 + 1));
        assert_eq!(l.cells(1_100, 1_100), (BAR - 1, BAR));
        assert_eq!(l.cells(900, 2_000), (0, BAR));
    }
}
