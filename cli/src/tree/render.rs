//! Rendering: the forest as an indented tree for people, or as one JSON object per trace.

use std::fmt;
use std::io::{self, Write};

use super::build::{Forest, Node, Orphan, Trace};
use super::read::ErrorEvent;
use crate::text::{width, Clean, Human};
use taskwire_core::time::Rfc3339;

/// Error messages shown under one task in the text output; the rest are counted.
const MAX_ERRORS_SHOWN: usize = 5;
/// The duration column never starts further right than this.
const MAX_COLUMN: usize = 80;

/// Terminal colors, on or off.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Style {
    pub(crate) color: bool,
}

impl Style {
    fn code(self, code: &'static str) -> &'static str {
        if self.color {
            code
        } else {
            ""
        }
    }
    fn bold(self) -> &'static str {
        self.code("\x1b[1m")
    }
    fn dim(self) -> &'static str {
        self.code("\x1b[2m")
    }
    fn red(self) -> &'static str {
        self.code("\x1b[31m")
    }
    fn green(self) -> &'static str {
        self.code("\x1b[32m")
    }
    fn yellow(self) -> &'static str {
        self.code("\x1b[33m")
    }
    fn cyan(self) -> &'static str {
        self.code("\x1b[36m")
    }
    fn reset(self) -> &'static str {
        self.code("\x1b[0m")
    }
}

/// Writes every trace as a tree.
pub(crate) fn text(out: &mut impl Write, f: &Forest, st: Style) -> io::Result<()> {
    for (i, t) in f.traces.iter().enumerate() {
        if i > 0 {
            writeln!(out)?;
        }
        trace_text(out, f, t, st)?;
    }
    Ok(())
}

fn trace_text(out: &mut impl Write, f: &Forest, t: &Trace, st: Style) -> io::Result<()> {
    let (b, d, r) = (st.bold(), st.dim(), st.reset());
    let n = t.nodes.len();
    write!(
        out,
        "{b}trace {:032x}{r}  {d}{}  {n} task{}",
        t.id,
        Rfc3339(t.start_us),
        if n == 1 { "" } else { "s" }
    )?;
    if t.failed > 0 {
        write!(out, ", {r}{}{} failed{r}{d}", st.red(), t.failed)?;
    }
    for (i, s) in t.services.iter().enumerate() {
        let sep = if i == 0 { "  services: " } else { ", " };
        write!(out, "{sep}{}", Clean(f.str(*s)))?;
    }
    writeln!(out, "{r}")?;

    let svc_w = t
        .services
        .iter()
        .map(|s| width(f.str(*s)))
        .max()
        .unwrap_or(0);
    let svc_col = if svc_w > 0 { svc_w + 2 } else { 0 };
    let column = t
        .nodes
        .iter()
        .map(|n| 3 * (n.depth + 1) + svc_col + width(f.str(f.tasks[n.task].name)))
        .max()
        .unwrap_or(0)
        .min(MAX_COLUMN);

    // the tree's left margin: "│  " or "   " per ancestor
    let mut prefix = String::new();
    let mut prefix_lens: Vec<usize> = Vec::new();
    for node in &t.nodes {
        prefix_lens.truncate(node.depth);
        prefix.truncate(prefix_lens.last().copied().unwrap_or(0));
        node_text(out, f, node, &prefix, svc_w, column, st)?;
        prefix.push_str(if node.last { "   " } else { "│  " });
        prefix_lens.push(prefix.len());
    }
    for &e in &t.unattached {
        let e = &f.errors[e];
        writeln!(
            out,
            "{}! error in span {:016x}, which has no task record:{r} {}{}",
            st.red(),
            e.span,
            Clean(f.str(e.msg)),
            TicketRef(e.ticket)
        )?;
    }
    Ok(())
}

fn node_text(
    out: &mut impl Write,
    f: &Forest,
    node: &Node,
    prefix: &str,
    svc_w: usize,
    column: usize,
    st: Style,
) -> io::Result<()> {
    let task = &f.tasks[node.task];
    let (d, r) = (st.dim(), st.reset());
    let connector = if node.last { "└─ " } else { "├─ " };
    write!(out, "{d}{prefix}{connector}{r}")?;
    let mut used = 3 * (node.depth + 1);
    if svc_w > 0 {
        let svc = task.service.map_or("", |s| f.str(s));
        write!(out, "{}{}{r}", st.cyan(), Clean(svc))?;
        write!(out, "{:pad$}", "", pad = svc_w - width(svc).min(svc_w) + 2)?;
        used += svc_w + 2;
    }
    let name = f.str(task.name);
    write!(out, "{}", Clean(name))?;
    used += width(name);
    let pad = column.saturating_sub(used) + 2;
    write!(out, "{:pad$}{d}{:>6}{r} ", "", Human(task.duration_us))?;
    if task.failed {
        write!(out, "{}✗{r}", st.red())?;
    } else {
        write!(out, "{}✓{r}", st.green())?;
    }
    match node.orphan {
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
    }
    writeln!(out)?;

    // messages go under the task, left of its children's branch line
    let lead_a = if node.last { "   " } else { "│  " };
    let lead_b = if node.has_children { "│  " } else { "   " };
    let errors = &f.errors[node.errors.clone()];
    for e in errors.iter().take(MAX_ERRORS_SHOWN) {
        writeln!(
            out,
            "{d}{prefix}{lead_a}{lead_b}{r}{}error:{r} {}{}",
            st.red(),
            Clean(f.str(e.msg)),
            TicketRef(e.ticket)
        )?;
    }
    if errors.len() > MAX_ERRORS_SHOWN {
        writeln!(
            out,
            "{d}{prefix}{lead_a}{lead_b}… and {} more errors{r}",
            errors.len() - MAX_ERRORS_SHOWN
        )?;
    }
    if let (true, true, Some(failure)) = (task.failed, errors.is_empty(), task.failure) {
        writeln!(
            out,
            "{d}{prefix}{lead_a}{lead_b}{r}{}failure:{r} {}",
            st.red(),
            Clean(f.str(failure))
        )?;
    }
    Ok(())
}

/// Writes one JSON object per trace and line, children nested.
pub(crate) fn json(out: &mut impl Write, f: &Forest) -> io::Result<()> {
    for t in &f.traces {
        write!(
            out,
            r#"{{"trace_id":"{:032x}","start":"{}","end":"{}","duration_us":{},"tasks":{},"failed":{},"services":["#,
            t.id,
            Rfc3339(t.start_us),
            Rfc3339(t.end_us),
            t.end_us.saturating_sub(t.start_us).max(0),
            t.nodes.len(),
            t.failed,
        )?;
        for (i, s) in t.services.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            string(out, f.str(*s))?;
        }
        out.write_all(br#"],"roots":["#)?;
        let mut open = 0usize;
        for (i, node) in t.nodes.iter().enumerate() {
            while open > node.depth {
                out.write_all(b"]}")?;
                open -= 1;
            }
            let first_in_array = i == 0 || t.nodes[i - 1].depth + 1 == node.depth;
            if !first_in_array {
                out.write_all(b",")?;
            }
            node_json(out, f, node)?;
            open += 1;
        }
        for _ in 0..open {
            out.write_all(b"]}")?;
        }
        out.write_all(br#"],"unattached_errors":["#)?;
        for (i, &e) in t.unattached.iter().enumerate() {
            let e = &f.errors[e];
            if i > 0 {
                out.write_all(b",")?;
            }
            write!(
                out,
                r#"{{"span_id":"{:016x}","ts":"{}","msg":"#,
                e.span,
                Rfc3339(e.ts_us)
            )?;
            string(out, f.str(e.msg))?;
            ticket_json(out, e)?;
            out.write_all(b"}")?;
        }
        out.write_all(b"]}\n")?;
    }
    Ok(())
}

/// Writes a task object up to and including `"children":[`.
fn node_json(out: &mut impl Write, f: &Forest, node: &Node) -> io::Result<()> {
    let t = &f.tasks[node.task];
    write!(out, r#"{{"span_id":"{:016x}""#, t.span)?;
    if let Some(p) = t.parent {
        write!(out, r#","parent_span_id":"{p:016x}""#)?;
    }
    write!(out, r#","remote_parent":{}"#, t.remote_parent)?;
    if let Some(s) = t.service {
        out.write_all(br#","service":"#)?;
        string(out, f.str(s))?;
    }
    out.write_all(br#","name":"#)?;
    string(out, f.str(t.name))?;
    if let Some(s) = t.target {
        out.write_all(br#","target":"#)?;
        string(out, f.str(s))?;
    }
    write!(
        out,
        r#","outcome":"{}","start":"{}","end":"{}","duration_us":{},"busy_us":{},"error_count":{},"failed_children":{}"#,
        if t.failed { "failed" } else { "succeeded" },
        Rfc3339(t.start_us()),
        Rfc3339(t.end_us),
        t.duration_us,
        t.busy_us,
        t.errors,
        t.failed_children,
    )?;
    if let Some(s) = t.failure {
        out.write_all(br#","failure":"#)?;
        string(out, f.str(s))?;
    }
    match node.orphan {
        None => {}
        Some(Orphan::Parent(_)) => out.write_all(br#","orphan":"parent_missing""#)?,
        Some(Orphan::RemoteParent(_)) => out.write_all(br#","orphan":"remote_parent_missing""#)?,
        Some(Orphan::Cycle(_)) => out.write_all(br#","orphan":"cycle""#)?,
    }
    out.write_all(br#","errors":["#)?;
    for (i, e) in f.errors[node.errors.clone()].iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write!(out, r#"{{"ts":"{}","msg":"#, Rfc3339(e.ts_us))?;
        string(out, f.str(e.msg))?;
        ticket_json(out, e)?;
        out.write_all(b"}")?;
    }
    out.write_all(br#"],"children":["#)
}

/// ` [ticket #3]` after an error counted in a ticket of the configured store.
struct TicketRef(Option<i64>);

impl fmt::Display for TicketRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, "  [ticket #{id}]"),
            None => Ok(()),
        }
    }
}

/// `,"ticket_fingerprint":"…","ticket":3` of an error, as far as known.
fn ticket_json(out: &mut impl Write, e: &ErrorEvent) -> io::Result<()> {
    if let Some(fp) = e.fingerprint {
        write!(out, r#","ticket_fingerprint":"{fp:016x}""#)?;
    }
    if let Some(id) = e.ticket {
        write!(out, r#","ticket":{id}"#)?;
    }
    Ok(())
}

fn string(out: &mut impl Write, s: &str) -> io::Result<()> {
    serde_json::to_writer(out, s).map_err(io::Error::from)
}
