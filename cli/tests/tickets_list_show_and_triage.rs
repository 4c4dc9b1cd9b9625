//! `taskwire tickets`: list, show, resolve, mute, reopen and delete the tickets that the
//! tickets layer wrote, as tables and as JSON.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;
use support::{assert_shows_the_payment_ticket, write_shop_tickets};
use tracing_subscriber::prelude::*;

struct Db(PathBuf);

impl Drop for Db {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// A database with two tickets: 3 payment errors inside a request, 1 stock warning.
fn database(name: &str) -> Db {
    let dir = std::env::temp_dir().join(format!("taskwire-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("the folder can be created");
    let path = dir.join("tickets.db");
    write_shop_tickets(taskwire_tickets::Sqlite::open(&path).expect("the store opens"));
    Db(path)
}

fn taskwire(db: Option<&Path>, args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_taskwire"));
    c.arg("tickets").args(args).env_remove("TASKWIRE_DB");
    if let Some(db) = db {
        c.env("TASKWIRE_DB", db);
    }
    c.output().expect("the program runs")
}

fn ok(o: &Output) -> String {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout.clone()).expect("the output is UTF-8")
}

fn json(o: &Output) -> Value {
    serde_json::from_str(&ok(o)).expect("the output is JSON")
}

#[test]
fn list_shows_a_table_with_counts_titles_and_relative_times() {
    let db = database("list");
    let out = ok(&taskwire(
        None,
        &["--db", db.0.to_str().unwrap(), "list", "--sort", "count"],
    ));
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(lines[0].starts_with("ID  STATUS"), "{out}");
    assert!(
        lines[1].contains("open") && lines[1].contains("  3  "),
        "{out}"
    );
    assert!(
        lines[1].ends_with("payment for order <num> declined"),
        "{out}"
    );
    assert!(
        lines[1].contains("just now") || lines[1].contains(" s ago"),
        "{out}"
    );
    assert!(lines[2].ends_with("stock low for <ip>"), "{out}");
    assert!(lines[2].contains("WARN"), "{out}");
}

#[test]
fn list_filters_pages_and_speaks_json() {
    let db = database("list-json");
    let v = json(&taskwire(
        Some(&db.0),
        &[
            "list", "--json", "--sort", "count", "--limit", "1", "--page", "2",
        ],
    ));
    assert_eq!(v["total"], 2);
    assert_eq!(v["tickets"].as_array().unwrap().len(), 1);
    assert_eq!(v["tickets"][0]["title"], "stock low for <ip>");
    assert_eq!(v["tickets"][0]["count"], 1);
    let v = json(&taskwire(Some(&db.0), &["list", "--json", "--since", "1h"]));
    assert_eq!(v["total"], 2);
    let v = json(&taskwire(
        Some(&db.0),
        &["list", "--json", "--since", "2099-01-01"],
    ));
    assert_eq!(v["total"], 0);
    let out = ok(&taskwire(Some(&db.0), &["list", "--limit", "1"]));
    assert!(out.contains("showing 1–1 of 2"), "{out}");
}

#[test]
fn show_has_tags_samples_and_the_tree_command() {
    let db = database("show");
    let list = json(&taskwire(
        Some(&db.0),
        &["list", "--json", "--sort", "count"],
    ));
    let id = list["tickets"][0]["id"].as_i64().unwrap().to_string();
    let out = ok(&taskwire(Some(&db.0), &["show", &id]));
    assert!(
        out.starts_with(&format!("Ticket {id}: payment for order <num> declined")),
        "{out}"
    );
    assert!(out.contains("count        3"), "{out}");
    assert!(out.contains("service      shop"), "{out}");
    // Each tag key's values as bars of their share.
    let tag = |key: &str| {
        out.lines()
            .find(|l| l.starts_with(&format!("  {key} ")) && l.contains('█'))
            .unwrap_or_else(|| panic!("no {key} row in\n{out}"))
            .split_whitespace()
            .collect::<Vec<_>>()
    };
    let full = "█".repeat(20);
    assert_eq!(tag("level"), ["level", "ERROR", &full, "100%", "(3)"]);
    assert_eq!(tag("release"), ["release", "1.0", &full, "100%", "(3)"]);
    assert_eq!(tag("service"), ["service", "shop", &full, "100%", "(3)"]);
    assert!(
        out.contains("message  payment for order 9 declined"),
        "{out}"
    );
    assert!(
        out.contains("spans    request{http.route=\"/pay\"}"),
        "{out}"
    );
    assert!(out.contains("taskwire tree --trace "), "{out}");

    let v = json(&taskwire(Some(&db.0), &["show", &id, "--json"]));
    assert_shows_the_payment_ticket(&v);
    let samples = v["samples"].as_array().unwrap();
    assert_eq!(samples[0]["spans"][0]["fields"]["http.route"], "/pay");
    assert_eq!(samples[0]["trace_id"].as_str().unwrap().len(), 32);
    assert_eq!(samples[2]["first"], true);
}

#[test]
fn resolve_mute_reopen_and_delete() {
    let db = database("triage");
    let list = json(&taskwire(
        Some(&db.0),
        &["list", "--json", "--sort", "count"],
    ));
    let id = list["tickets"][0]["id"].as_i64().unwrap().to_string();

    let out = ok(&taskwire(
        Some(&db.0),
        &["resolve", &id, "--release", "1.0"],
    ));
    assert!(
        out.starts_with(&format!("ticket {id} resolved in release 1.0")),
        "{out}"
    );
    let v = json(&taskwire(
        Some(&db.0),
        &["list", "--json", "--status", "resolved"],
    ));
    assert_eq!(v["total"], 1);
    assert_eq!(v["tickets"][0]["resolved_in_release"], "1.0");
    let v = json(&taskwire(Some(&db.0), &["list", "--json"]));
    assert_eq!(v["total"], 1, "open only by default");

    let v = json(&taskwire(
        Some(&db.0),
        &["mute", &id, "--count", "5", "--json"],
    ));
    assert_eq!(v["status"], "muted");
    assert_eq!(v["mute"]["remaining"], 5);
    let v = json(&taskwire(
        Some(&db.0),
        &["mute", &id, "--for", "2h", "--json"],
    ));
    assert!(v["mute"]["until"].is_string());
    let out = ok(&taskwire(Some(&db.0), &["show", &id]));
    assert!(out.contains("status       muted until "), "{out}");
    assert!(
        out.contains("(in 1 h)") || out.contains("(in 2 h)"),
        "{out}"
    );

    let v = json(&taskwire(Some(&db.0), &["reopen", &id, "--json"]));
    assert_eq!(v["status"], "open");
    assert_eq!(v["mute"], Value::Null);

    let out = ok(&taskwire(Some(&db.0), &["delete", &id]));
    assert_eq!(out.trim(), format!("ticket {id} deleted"));
    let v = json(&taskwire(
        Some(&db.0),
        &["list", "--json", "--status", "all"],
    ));
    assert_eq!(v["total"], 1);
}

#[test]
fn missing_tickets_and_databases_fail_clearly() {
    let db = database("errors");
    let o = taskwire(Some(&db.0), &["show", "999"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no ticket 999"));
    let o = taskwire(Some(&db.0), &["resolve", "999"]);
    assert_eq!(o.status.code(), Some(1));
    let o = taskwire(None, &["list"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr)
        .contains("--db PATH, set TASKWIRE_DB, or name the store in taskwire.toml"));
    let o = taskwire(None, &["--db", "/nonexistent/tickets.db", "list"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stderr).contains("no such database file"));
    assert!(!Path::new("/nonexistent/tickets.db").exists());
    let o = taskwire(Some(&db.0), &["mute", "1", "--for", "soon"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn print_tickets_prints_the_table_for_programs() {
    let db = database("print");
    let mut out = Vec::new();
    let n = taskwire_cli::tickets::print_tickets(&db.0, &mut out).unwrap();
    assert_eq!(n, 2);
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("payment for order <num> declined"), "{text}");
    assert!(text.contains("stock low for <ip>"), "{text}");
}

/// Stored text comes from log events, so it may hold terminal escape sequences: `list` and
/// `show` print them escaped, never raw.
#[test]
fn control_characters_in_stored_text_are_escaped() {
    let dir = std::env::temp_dir().join(format!("taskwire-cli-control-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = Db(dir.join("tickets.db"));
    let hostile = "\u{1b}]0;owned\u{7}\u{1b}[2J\rcleared";
    let (layer, guard) = taskwire_tickets::layer(taskwire_tickets::Sqlite::open(&db.0).unwrap())
        .with_service(hostile)
        .with_release(hostile)
        .build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let _s = tracing::info_span!("request", route = hostile).entered();
        tracing::error!(user = hostile, "login failed {hostile}");
    });
    drop(guard);
    for args in [&["list"][..], &["show", "1"][..]] {
        let out = ok(&taskwire(Some(&db.0), args));
        assert!(
            !out.chars().any(|c| c.is_control() && c != '\n'),
            "{args:?} printed a control character: {out:?}"
        );
        assert!(out.contains("\\u{1b}"), "{args:?} shows the escape: {out}");
    }
}
