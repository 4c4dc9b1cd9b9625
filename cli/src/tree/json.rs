//! Rendering for programs: one JSON object per trace and line, children nested; or one summary
//! per line for a results list.

use std::io::{self, Write};

use taskwire_core::time::Rfc3339;
use taskwire_explore::trace::{EventRef, Forest, NodeRef, Orphan, TraceRef, TraceSummary};

use super::render::Style;

/// Writes one JSON object per trace and line, children nested; with `st.events`, every event
/// of each task and its attributes; with `st.tickets`, the ticket of each error.
pub(crate) fn json(out: &mut impl Write, f: &Forest, st: Style<'_>) -> io::Result<()> {
    for t in f.traces() {
        trace_json(out, &t, st)?;
    }
    Ok(())
}

pub(crate) fn trace_json(out: &mut impl Write, t: &TraceRef<'_>, st: Style<'_>) -> io::Result<()> {
    let events = st.events;
    write!(
        out,
        r#"{{"trace_id":"{:032x}","start":"{}","end":"{}","duration_us":{},"tasks":{},"failed":{},"root":"#,
        t.id(),
        Rfc3339(t.start_us()),
        Rfc3339(t.end_us()),
        t.duration_us(),
        t.task_count(),
        t.failed(),
    )?;
    string(out, t.root_name().unwrap_or(""))?;
    out.write_all(br#","services":["#)?;
    for (i, s) in t.services().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        string(out, s)?;
    }
    out.write_all(br#"],"skews":["#)?;
    for (i, s) in t.skews().iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        out.write_all(br#"{"service":"#)?;
        string(out, s.service())?;
        out.write_all(br#","relative_to":"#)?;
        string(out, s.relative_to())?;
        write!(out, r#","offset_us":{}}}"#, s.offset_us())?;
    }
    out.write_all(br#"],"roots":["#)?;
    let mut open = 0usize;
    let mut previous_depth: Option<usize> = None;
    for node in t.nodes() {
        while open > node.depth() {
            out.write_all(b"]}")?;
            open -= 1;
        }
        let first_in_array = previous_depth.is_none_or(|d| d + 1 == node.depth());
        if !first_in_array {
            out.write_all(b",")?;
        }
        node_json(out, t, &node, st)?;
        open += 1;
        previous_depth = Some(node.depth());
    }
    for _ in 0..open {
        out.write_all(b"]}")?;
    }
    out.write_all(br#"],"unattached_errors":["#)?;
    let mut first = true;
    for e in t.unattached() {
        if !events && e.level() != tracing_core::Level::ERROR {
            continue;
        }
        if !first {
            out.write_all(b",")?;
        }
        first = false;
        write!(
            out,
            r#"{{"span_id":"{:016x}","ts":"{}","level":"{}","msg":"#,
            e.span_id(),
            Rfc3339(e.ts_us()),
            e.level()
        )?;
        string(out, e.msg())?;
        ticket_json(out, &e, st)?;
        out.write_all(b"}")?;
    }
    out.write_all(b"]}\n")
}

/// Writes a task object up to and including `"children":[`.
fn node_json(
    out: &mut impl Write,
    t: &TraceRef<'_>,
    n: &NodeRef<'_>,
    st: Style<'_>,
) -> io::Result<()> {
    write!(out, r#"{{"span_id":"{:016x}""#, n.span_id())?;
    if let Some(p) = n.parent_span_id() {
        write!(out, r#","parent_span_id":"{p:016x}""#)?;
    }
    write!(out, r#","remote_parent":{}"#, n.remote_parent())?;
    if let Some(s) = n.service() {
        out.write_all(br#","service":"#)?;
        string(out, s)?;
    }
    out.write_all(br#","name":"#)?;
    string(out, n.name())?;
    if let Some(s) = n.target() {
        out.write_all(br#","target":"#)?;
        string(out, s)?;
    }
    write!(
        out,
        r#","outcome":"{}","start":"{}","end":"{}","offset_us":{},"duration_us":{},"busy_us":{},"error_count":{},"failed_children":{}"#,
        if n.failed() { "failed" } else { "succeeded" },
        Rfc3339(n.start_us()),
        Rfc3339(n.end_us()),
        n.start_us().saturating_sub(t.start_us()).max(0),
        n.duration_us(),
        n.busy_us(),
        n.error_count(),
        n.failed_children(),
    )?;
    if let Some(s) = n.failure() {
        out.write_all(br#","failure":"#)?;
        string(out, s)?;
    }
    match n.orphan() {
        None => {}
        Some(Orphan::Parent(_)) => out.write_all(br#","orphan":"parent_missing""#)?,
        Some(Orphan::RemoteParent(_)) => out.write_all(br#","orphan":"remote_parent_missing""#)?,
        Some(Orphan::Cycle(_)) => out.write_all(br#","orphan":"cycle""#)?,
        Some(_) => out.write_all(br#","orphan":"other""#)?,
    }
    if n.start_clamped() {
        out.write_all(br#","start_clamped":true"#)?;
    }
    if n.summarised_children() > 0 {
        write!(
            out,
            r#","summarised_children":{},"children_summary":["#,
            n.summarised_children()
        )?;
        for (i, g) in n.children_summary().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            out.write_all(br#"{"name":"#)?;
            string(out, g.name)?;
            write!(
                out,
                r#","count":{},"total_us":{},"max_us":{}}}"#,
                g.count, g.total_us, g.max_us
            )?;
        }
        out.write_all(b"]")?;
    }
    if n.calls_unread_service() {
        out.write_all(br#","calls_unread_service":true"#)?;
    }
    out.write_all(br#","errors":["#)?;
    for (i, e) in n.errors().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write!(out, r#"{{"ts":"{}","msg":"#, Rfc3339(e.ts_us()))?;
        string(out, e.msg())?;
        ticket_json(out, &e, st)?;
        out.write_all(b"}")?;
    }
    out.write_all(b"]")?;
    if st.events {
        out.write_all(br#","attributes":"#)?;
        out.write_all(n.attributes().unwrap_or("{}").as_bytes())?;
        out.write_all(br#","events":["#)?;
        for (i, e) in n.events().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            event_json(out, t, &e, st)?;
        }
        out.write_all(b"]")?;
    }
    out.write_all(br#","children":["#)
}

fn event_json(
    out: &mut impl Write,
    t: &TraceRef<'_>,
    e: &EventRef<'_>,
    st: Style<'_>,
) -> io::Result<()> {
    write!(
        out,
        r#"{{"ts":"{}","offset_us":{},"level":"{}","msg":"#,
        Rfc3339(e.ts_us()),
        e.at_us().saturating_sub(t.start_us()).max(0),
        e.level()
    )?;
    string(out, e.msg())?;
    out.write_all(br#","fields":"#)?;
    out.write_all(e.fields().unwrap_or("{}").as_bytes())?;
    ticket_json(out, e, st)?;
    out.write_all(b"}")
}

/// `,"ticket_fingerprint":"…","ticket":3` of an error, as far as known.
fn ticket_json(out: &mut impl Write, e: &EventRef<'_>, st: Style<'_>) -> io::Result<()> {
    if let Some(fp) = e.ticket_fingerprint() {
        write!(out, r#","ticket_fingerprint":"{fp:016x}""#)?;
    }
    if let Some(id) = st.ticket(e) {
        write!(out, r#","ticket":{id}"#)?;
    }
    Ok(())
}

/// One results-list line: a trace's summary.
pub(crate) fn summary_json(out: &mut impl Write, s: &TraceSummary) -> io::Result<()> {
    write!(
        out,
        r#"{{"trace_id":"{:032x}","start":"{}","duration_us":{},"tasks":{},"failed":{},"root":"#,
        s.trace_id(),
        Rfc3339(s.start_us()),
        s.duration_us(),
        s.tasks(),
        s.failed()
    )?;
    string(out, s.root())?;
    out.write_all(br#","services":"#)?;
    serde_json::to_writer(&mut *out, s.services()).map_err(io::Error::from)?;
    out.write_all(b"}\n")
}

fn string(out: &mut impl Write, s: &str) -> io::Result<()> {
    serde_json::to_writer(out, s).map_err(io::Error::from)
}
