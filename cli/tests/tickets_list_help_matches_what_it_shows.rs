//! `taskwire tickets list` shows what its help says it shows: by default the open tickets
//! (regressed ones included), with muted and resolved ones hidden until asked for.

use std::process::{Command, Output};

use serde_json::Value;
use taskwire_test_support::TempDir;
use taskwire_tickets::store::{Batch, GroupUpdate, Level, Mute, TicketSeed, Timestamp};
use taskwire_tickets::{Sqlite, TicketReader, TicketTriage, TicketWriter};

fn taskwire(args: &[&str]) -> Output {
    let o = Command::new(env!("CARGO_BIN_EXE_taskwire"))
        .arg("tickets")
        .args(args)
        .env_remove("TASKWIRE_DB")
        .output()
        .expect("the program runs");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

/// The statuses `list --json` prints with `args`, sorted.
fn statuses(db: &str, args: &[&str]) -> Vec<String> {
    let o = taskwire(&[&["--db", db, "list", "--json"], args].concat());
    let v: Value = serde_json::from_slice(&o.stdout).expect("the output is JSON");
    let mut s: Vec<String> = v["tickets"]
        .as_array()
        .expect("an array")
        .iter()
        .map(|t| t["status"].as_str().expect("a string").to_owned())
        .collect();
    s.sort();
    s
}

#[test]
fn the_default_list_is_what_the_help_describes() {
    let dir = TempDir::new("cli-help");
    let path = dir.join("tickets.db");
    let mut store = Sqlite::open(&path).unwrap();
    let t = Timestamp::now();
    let seed = || TicketSeed::new(Level::ERROR, "app");
    store
        .write(&Batch::new(vec![
            GroupUpdate::new("open", seed(), 1, t, t),
            GroupUpdate::new("muted", seed(), 1, t, t),
            GroupUpdate::new("resolved", seed(), 1, t, t),
        ]))
        .unwrap();
    let id = |fp: &str| store.find(fp).unwrap().unwrap().id;
    let (muted, resolved) = (id("muted"), id("resolved"));
    store.mute(muted, Mute::Forever).unwrap();
    store.resolve(resolved, None, t).unwrap();
    drop(store);
    let db = path.to_str().unwrap();

    // What the help says.
    let list_help = String::from_utf8(taskwire(&["list", "--help"]).stdout).unwrap();
    assert!(list_help.contains("[default: open]"), "{list_help}");
    assert!(
        list_help.contains("muted and resolved tickets are hidden"),
        "{list_help}"
    );
    let help = String::from_utf8(taskwire(&["--help"]).stdout).unwrap();
    // The example of a plain `list`.
    let example = help
        .lines()
        .find(|l| l.contains("tickets.db list"))
        .unwrap();
    assert!(example.contains("open tickets"), "{example}");
    assert!(!example.contains("open and muted"), "{example}");

    // What it does.
    assert_eq!(statuses(db, &[]), ["open"]);
    assert_eq!(statuses(db, &["--status", "muted"]), ["muted"]);
    assert_eq!(
        statuses(db, &["--status", "all"]),
        ["muted", "open", "resolved"]
    );
}
