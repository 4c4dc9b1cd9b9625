//! Text tables and JSON for `taskwire tickets`.

use std::io::{self, Write};

use serde_json::{json, Value};
use taskwire_tickets::store::{Mute, Occurrence, Status, TagCount, Ticket};

use super::when::{relative, thousands};
use crate::text::{clean, Clean};

/// The status as shown: `regressed` for an open ticket that came back after a resolution.
fn status_text(t: &Ticket) -> &'static str {
    match t.status {
        Status::Open if t.regressed_at.is_some() => "regressed",
        s => s.as_str(),
    }
}

/// The title, or a note when no sample has reached the store yet (only counts did).
fn title(t: &Ticket) -> &str {
    if t.title.is_empty() {
        "(no sample stored yet)"
    } else {
        &t.title
    }
}

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// The ticket list as a table.
pub(crate) fn list(
    out: &mut dyn Write,
    tickets: &[Ticket],
    total: u64,
    offset: u64,
    now: i64,
) -> io::Result<()> {
    if tickets.is_empty() {
        return writeln!(
            out,
            "no tickets{}",
            if total > 0 {
                format!(" on this page ({total} in all)")
            } else {
                String::new()
            }
        );
    }
    let rows: Vec<[String; 8]> = tickets
        .iter()
        .map(|t| {
            [
                t.id.to_string(),
                status_text(t).to_owned(),
                thousands(t.count),
                relative(t.last_seen.as_micros(), now),
                relative(t.first_seen.as_micros(), now),
                t.seed.level.as_str().to_owned(),
                cut(&clean(t.seed.service.as_deref().unwrap_or("-")), 24),
                cut(&clean(title(t)), 80),
            ]
        })
        .collect();
    let head = [
        "ID",
        "STATUS",
        "COUNT",
        "LAST SEEN",
        "FIRST SEEN",
        "LEVEL",
        "SERVICE",
        "TITLE",
    ];
    let mut width = head.map(|h| h.chars().count());
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let right = [true, false, true, false, false, false, false, false];
    let line = |out: &mut dyn Write, cells: [&str; 8]| -> io::Result<()> {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            let pad = width[i].saturating_sub(c.chars().count());
            if i == 7 {
                s.push_str(c);
            } else if right[i] {
                s.push_str(&" ".repeat(pad));
                s.push_str(c);
                s.push_str("  ");
            } else {
                s.push_str(c);
                s.push_str(&" ".repeat(pad + 2));
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(out, head)?;
    for r in &rows {
        line(out, r.each_ref().map(String::as_str))?;
    }
    let shown = tickets.len() as u64;
    if offset + shown < total || offset > 0 {
        writeln!(out, "showing {}–{} of {total}", offset + 1, offset + shown)?;
    }
    Ok(())
}

fn mute_text(m: Mute, now: i64) -> String {
    match m {
        Mute::Forever => "until reopened".into(),
        Mute::Until(t) => format!("until {} ({})", t, relative(t.as_micros(), now)),
        Mute::Count(n) => format!(
            "for {} more occurrence{}",
            thousands(n),
            if n == 1 { "" } else { "s" }
        ),
    }
}

/// One ticket with its tags and samples.
pub(crate) fn show(
    out: &mut dyn Write,
    t: &Ticket,
    tags: &[TagCount],
    samples: &[Occurrence],
    now: i64,
) -> io::Result<()> {
    let when = |ts: taskwire_tickets::store::Timestamp| {
        format!("{} ({})", relative(ts.as_micros(), now), ts)
    };
    writeln!(out, "Ticket {}: {}", t.id, Clean(title(t)))?;
    let mut status = t.status.as_str().to_owned();
    if let Some(r) = t.regressed_at {
        if t.status == Status::Open {
            status.push_str(&format!(" (regressed {})", relative(r.as_micros(), now)));
        }
    }
    if let Some(m) = t.mute {
        status.push_str(&format!(" {}", mute_text(m, now)));
    }
    writeln!(out, "  status       {status}")?;
    writeln!(out, "  level        {}", t.seed.level)?;
    if let Some(s) = &t.seed.service {
        writeln!(out, "  service      {}", Clean(s))?;
    }
    let site = match (&t.seed.file, t.seed.line) {
        (Some(f), Some(l)) => format!(" ({}:{l})", Clean(f)),
        (Some(f), None) => format!(" ({})", Clean(f)),
        _ => String::new(),
    };
    writeln!(out, "  where        {}{site}", Clean(&t.seed.target))?;
    writeln!(out, "  count        {}", thousands(t.count))?;
    writeln!(out, "  first seen   {}", when(t.first_seen))?;
    writeln!(out, "  last seen    {}", when(t.last_seen))?;
    if let Some(r) = t.resolved_at {
        let rel = t
            .resolved_in_release
            .as_deref()
            .map(|r| format!(" in release {}", Clean(r)))
            .unwrap_or_default();
        writeln!(out, "  resolved     {}{rel}", when(r))?;
    }
    writeln!(out, "  fingerprint  {}", Clean(&t.fingerprint))?;

    if !tags.is_empty() {
        writeln!(out, "\nTags")?;
        tag_bars(out, tags)?;
    }

    writeln!(
        out,
        "\n{} (count {} is exact; the first and the newest samples are kept)",
        if samples.is_empty() {
            "No samples".to_owned()
        } else {
            format!("Samples: {} shown, newest first", samples.len())
        },
        thousands(t.count)
    )?;
    for o in samples {
        let s = &o.sample;
        writeln!(
            out,
            "\n  {}{}  {}",
            relative(s.time.as_micros(), now),
            if o.first { " (first)" } else { "" },
            s.time
        )?;
        writeln!(out, "    message  {}", Clean(&s.message))?;
        let bt = backtrace(o);
        match serde_json::from_str::<Value>(s.fields.as_str()) {
            // The backtrace has lines of its own below.
            Ok(Value::Object(mut f)) if bt.is_some() && f.contains_key("backtrace") => {
                f.remove("backtrace");
                if !f.is_empty() {
                    writeln!(out, "    fields   {}", Clean(&Value::Object(f).to_string()))?;
                }
            }
            _ if s.fields != "{}" => {
                writeln!(out, "    fields   {}", Clean(s.fields.as_str()))?;
            }
            _ => {}
        }
        if let Some(spans) = spans_text(s.spans.as_str()) {
            writeln!(out, "    spans    {}", Clean(&spans))?;
        }
        if let Some(errors) = errors_text(s.errors.as_str()) {
            writeln!(out, "    error    {}", Clean(&errors))?;
        }
        if let Some(bt) = bt {
            writeln!(out, "    backtrace")?;
            for frame in bt.lines().filter(|l| !l.trim().is_empty()) {
                writeln!(out, "      {}", Clean(frame.trim_end()))?;
            }
        }
        let mut origin = format!("host {} pid {} thread {}", s.host, s.pid, s.thread);
        if let Some(svc) = &s.service {
            origin.push_str(&format!(" service {svc}"));
        }
        if let Some(r) = &s.release {
            origin.push_str(&format!(" release {r}"));
        }
        writeln!(out, "    origin   {}", Clean(&origin))?;
        if let Some(trace) = &s.trace_id {
            writeln!(
                out,
                "    task     trace {} span {}",
                Clean(trace),
                Clean(s.span_id.as_deref().unwrap_or("-"))
            )?;
            writeln!(
                out,
                "    request  taskwire tree --trace {} [LOGS...]",
                Clean(trace)
            )?;
        }
    }
    Ok(())
}

/// Bars this wide stand for a key's whole count.
const BAR_WIDTH: u128 = 20;

/// Each tag key with its five most frequent values as bars of their share:
/// `release  1.4.2  ████████████████░░░░  80%  (1,204)`.
fn tag_bars(out: &mut dyn Write, tags: &[TagCount]) -> io::Result<()> {
    let key_width = tags
        .iter()
        .map(|t| clean(&t.key).chars().count())
        .max()
        .unwrap_or(0);
    // One column for the bars, whatever the key.
    let value_width = tags
        .iter()
        .map(|t| cut(&clean(&t.value), 40).chars().count())
        .max()
        .unwrap_or(0);
    let mut i = 0;
    while i < tags.len() {
        let key = &tags[i].key;
        let group: Vec<&TagCount> = tags[i..].iter().take_while(|t| &t.key == key).collect();
        i += group.len();
        let sum = group
            .iter()
            .fold(0u128, |s, t| s + u128::from(t.count))
            .max(1);
        let shown: Vec<(String, &TagCount)> = group
            .iter()
            .take(5)
            .map(|t| (cut(&clean(&t.value), 40), *t))
            .collect();
        let key = clean(key);
        for (n, (value, t)) in shown.iter().enumerate() {
            let share = u128::from(t.count) * 100 / sum;
            // At least one block for a value that occurred at all.
            let full = (u128::from(t.count) * BAR_WIDTH)
                .div_ceil(sum)
                .min(BAR_WIDTH) as usize;
            let bar = format!(
                "{}{}",
                "█".repeat(full),
                "░".repeat(BAR_WIDTH as usize - full)
            );
            let label = if n == 0 { &*key } else { "" };
            writeln!(
                out,
                "  {label:<key_width$}  {value:<value_width$}  {bar}  {share:>3}%  ({})",
                thousands(t.count)
            )?;
        }
        if group.len() > 5 {
            writeln!(
                out,
                "  {:<key_width$}  … {} more values",
                "",
                group.len() - 5
            )?;
        }
    }
    Ok(())
}

/// The sample's backtrace, when it has one: a `backtrace` member of the stored sample, or a
/// `backtrace` field of the event.
pub(crate) fn backtrace(o: &Occurrence) -> Option<String> {
    let text = |v: &Value| {
        v.as_str()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_owned)
    };
    if let Some(bt) = text(&occurrence_json(o)["backtrace"]) {
        return Some(bt);
    }
    let fields: Value = serde_json::from_str(o.sample.fields.as_str()).ok()?;
    text(&fields["backtrace"])
}

/// `request{http.route="/pay"} > charge{attempt=2}`.
fn spans_text(spans: &str) -> Option<String> {
    let v: Value = serde_json::from_str(spans).ok()?;
    let list = v.as_array()?;
    if list.is_empty() {
        return None;
    }
    let parts: Vec<String> = list
        .iter()
        .map(|s| {
            let name = s["name"].as_str().unwrap_or("?");
            let fields = s["fields"]
                .as_object()
                .map(|f| {
                    f.iter()
                        .map(|(k, v)| format!("{k}={v}"))
                        .collect::<Vec<_>>()
                        .join(" ")
                })
                .unwrap_or_default();
            if fields.is_empty() {
                name.to_owned()
            } else {
                format!("{name}{{{fields}}}")
            }
        })
        .collect();
    Some(parts.join(" > "))
}

/// `charge failed: connection reset`.
fn errors_text(errors: &str) -> Option<String> {
    let v: Value = serde_json::from_str(errors).ok()?;
    let list = v.as_array()?;
    if list.is_empty() {
        return None;
    }
    let parts: Vec<String> = list
        .iter()
        .map(|e| {
            let mut chain = vec![e["message"].as_str().unwrap_or("").to_owned()];
            if let Some(src) = e["source"].as_array() {
                chain.extend(src.iter().filter_map(|s| s.as_str().map(str::to_owned)));
            }
            format!(
                "{} = {}",
                e["field"].as_str().unwrap_or("error"),
                chain.join(": ")
            )
        })
        .collect();
    Some(parts.join("; "))
}

/// A ticket as JSON (`taskwire_tickets::store::ticket_to_json`).
pub(crate) fn ticket_json(t: &Ticket) -> Value {
    taskwire_tickets::store::ticket_to_json(t)
}

/// A sample as JSON, its JSON columns nested (`taskwire_tickets::store::occurrence_to_json`).
pub(crate) fn occurrence_json(o: &Occurrence) -> Value {
    taskwire_tickets::store::occurrence_to_json(o)
}

/// Tag counts as `{"key": [{"value": …, "count": …}, …]}`.
pub(crate) fn tags_json(tags: &[TagCount]) -> Value {
    let mut map = serde_json::Map::new();
    for t in tags {
        let entry = map
            .entry(t.key.clone())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(a) = entry {
            a.push(json!({"value": t.value, "count": t.count}));
        }
    }
    Value::Object(map)
}
