//! `taskwire tickets list` shows each ticket's service and filters by service, release,
//! level, seen time and title text; `show` draws the tag distributions as bars and prints a
//! sample's backtrace; both as JSON too. Over a SQLite store filled by the real layer from
//! two services.

use std::process::{Command, Output};

use serde_json::Value;
use taskwire_test_support::TempDir;
use tracing_subscriber::prelude::*;

fn pay(order: u32) {
    tracing::error!(
        order,
        backtrace = "0: shop::pay\n      at src/pay.rs:10\n1: shop::main",
        "payment for order {order} declined"
    );
}

fn stock() {
    tracing::warn!("stock low for sku 17");
}

fn invoice() {
    tracing::error!("invoice timeout after 30 s");
}

/// Writes tickets as `service` in `release` with the real layer.
fn fill(path: &std::path::Path, service: &str, release: &str, f: impl FnOnce()) {
    let (layer, guard) =
        taskwire_tickets::layer(taskwire_tickets::Sqlite::open(path).expect("the store opens"))
            .with_service(service)
            .with_release(release)
            .build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), f);
    drop(guard);
}

/// checkout 1.0: 3 payment errors (with a backtrace), 1 stock warning; then 1 payment error
/// from checkout 1.1; billing 2.0: 2 invoice timeouts.
fn database(dir: &TempDir) -> String {
    let path = dir.join("tickets.db");
    fill(&path, "checkout", "1.0", || {
        [7, 8, 9].into_iter().for_each(pay);
        stock();
    });
    fill(&path, "checkout", "1.1", || pay(10));
    fill(&path, "billing", "2.0", || {
        invoice();
        invoice();
    });
    path.to_str().expect("a UTF-8 path").to_owned()
}

fn taskwire(db: &str, args: &[&str]) -> String {
    let o: Output = Command::new(env!("CARGO_BIN_EXE_taskwire"))
        .args(["tickets", "--db", db])
        .args(args)
        .env_remove("TASKWIRE_DB")
        .output()
        .expect("the program runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).expect("UTF-8")
}

/// The titles `list --json` returns with `args`, sorted.
fn titles(db: &str, args: &[&str]) -> Vec<String> {
    let out = taskwire(db, &[&["list", "--json"], args].concat());
    let v: Value = serde_json::from_str(&out).expect("JSON");
    let mut t: Vec<String> = v["tickets"]
        .as_array()
        .expect("tickets")
        .iter()
        .map(|t| t["title"].as_str().unwrap_or_default().to_owned())
        .collect();
    t.sort();
    t
}

const PAY: &str = "payment for order <num> declined";
const STOCK: &str = "stock low for sku <num>";
const INVOICE: &str = "invoice timeout after <num> s";

#[test]
fn list_filters_by_service_release_level_time_and_title() {
    let dir = TempDir::new("cli-filters");
    let db = database(&dir);
    assert_eq!(titles(&db, &[]), [INVOICE, PAY, STOCK]);
    assert_eq!(titles(&db, &["--service", "checkout"]), [PAY, STOCK]);
    assert_eq!(titles(&db, &["--service", "billing"]), [INVOICE]);
    assert_eq!(titles(&db, &["--release", "1.1"]), [PAY]);
    assert_eq!(titles(&db, &["--release", "2.0"]), [INVOICE]);
    assert_eq!(titles(&db, &["--level", "WARN"]), [STOCK]);
    assert_eq!(
        titles(&db, &["--level", "error", "--service", "checkout"]),
        [PAY]
    );
    assert_eq!(titles(&db, &["--search", "TIMEOUT"]), [INVOICE]);
    assert_eq!(titles(&db, &["payment"]), [PAY]);
    assert_eq!(titles(&db, &["--since", "1h"]).len(), 3);
    assert!(titles(&db, &["--since", "2999-01-01"]).is_empty());
    assert!(titles(&db, &["--service", "nowhere"]).is_empty());
}

#[test]
fn list_shows_a_service_column() {
    let dir = TempDir::new("cli-service-column");
    let db = database(&dir);
    let out = taskwire(&db, &["list", "--sort", "count"]);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].contains("LEVEL  SERVICE   TITLE"), "{out}");
    let pay = lines
        .iter()
        .find(|l| l.contains("payment"))
        .expect("a payment row");
    assert!(pay.contains("ERROR  checkout  payment"), "{out}");
    let invoice = lines
        .iter()
        .find(|l| l.contains("invoice"))
        .expect("an invoice row");
    assert!(invoice.contains("ERROR  billing   invoice"), "{out}");
    let v: Value = serde_json::from_str(&taskwire(&db, &["list", "--json", "billing"])).unwrap();
    assert_eq!(
        v["total"], 0,
        "positional text searches titles, not services"
    );
    let v: Value = serde_json::from_str(&taskwire(&db, &["list", "--json", "invoice"])).unwrap();
    assert_eq!(v["tickets"][0]["service"], "billing");
}

#[test]
fn show_draws_tag_bars_and_the_backtrace() {
    let dir = TempDir::new("cli-show-bars");
    let db = database(&dir);
    let v: Value = serde_json::from_str(&taskwire(&db, &["list", "--json", "payment"])).unwrap();
    let id = v["tickets"][0]["id"].as_i64().expect("an id").to_string();

    let out = taskwire(&db, &["show", &id]);
    // release 1.0 has 3 of 4 occurrences: 75%, 15 of 20 blocks.
    let bar = format!("{}{}", "█".repeat(15), "░".repeat(5));
    let row = out
        .lines()
        .find(|l| l.contains("release") && l.contains("1.0"))
        .unwrap_or_else(|| panic!("no release row in\n{out}"));
    assert!(row.contains(&bar) && row.contains(" 75%  (3)"), "{row}");
    let row = out
        .lines()
        .find(|l| l.contains("1.1") && l.contains('█'))
        .unwrap_or_else(|| panic!("no 1.1 row in\n{out}"));
    assert!(
        row.contains(&format!("{}{}", "█".repeat(5), "░".repeat(15))),
        "{row}"
    );
    assert!(row.contains(" 25%  (1)"), "{row}");
    let bt: Vec<&str> = out
        .lines()
        .skip_while(|l| l.trim() != "backtrace")
        .skip(1)
        .take(3)
        .map(str::trim)
        .collect();
    assert_eq!(
        bt,
        ["0: shop::pay", "at src/pay.rs:10", "1: shop::main"],
        "{out}"
    );
    assert!(
        !out.contains("\\n      at"),
        "the backtrace is not repeated in the fields: {out}"
    );

    let v: Value = serde_json::from_str(&taskwire(&db, &["show", &id, "--json"])).unwrap();
    assert_eq!(v["service"], "checkout");
    assert_eq!(v["tags"]["release"][0]["value"], "1.0");
    assert_eq!(v["tags"]["release"][0]["count"], 3);
    let bt = v["samples"][0]["backtrace"].as_str().expect("a backtrace");
    assert!(bt.starts_with("0: shop::pay\n"), "{bt}");

    // A ticket without one has none.
    let v: Value = serde_json::from_str(&taskwire(&db, &["list", "--json", "stock"])).unwrap();
    let id = v["tickets"][0]["id"].as_i64().unwrap().to_string();
    let out = taskwire(&db, &["show", &id]);
    assert!(!out.contains("    backtrace\n"), "{out}");
    let v: Value = serde_json::from_str(&taskwire(&db, &["show", &id, "--json"])).unwrap();
    assert!(v["samples"][0]["backtrace"].is_null());
}
