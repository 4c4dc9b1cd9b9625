//! Whatever a tickets database holds (any `taskwire_meta` contents, values of any type in the
//! tables, tables of another shape), every `taskwire tickets` command succeeds or fails with a
//! message and exit status 1: never a panic (exit status 101).

use std::path::{Path, PathBuf};
use std::process::Command;

use proptest::prelude::*;
use rusqlite::types::Value;
use taskwire_test_support::hostile::sqlite::{any_value, meta_key, meta_value, table};
use taskwire_test_support::TempDir;
use taskwire_tickets::store::{Batch, GroupUpdate, Level, Sample, TagCount, TicketSeed, Timestamp};
use taskwire_tickets::{Sqlite, TicketWriter};

const COMMANDS: &[&[&str]] = &[
    &["list"],
    &["list", "--json", "--status", "all"],
    &["list", "--status", "muted", "--sort", "count"],
    &[
        "list",
        "--status",
        "resolved",
        "--sort",
        "first-seen",
        "--since",
        "1000d",
    ],
    &["show", "1"],
    &["show", "2", "--json", "--oldest"],
    &["resolve", "1", "--release", "r"],
    &["mute", "2", "--count", "18446744073709551615"],
    &["mute", "1", "--for", "2h"],
    &["reopen", "2"],
    &["show", "1"],
    &["delete", "1"],
];

/// A taskwire database with two real tickets (tags, samples), then the junk written over it.
fn database(dir: &TempDir) -> PathBuf {
    let path = dir.join("tickets.db");
    let mut store = Sqlite::open(&path).expect("the store opens");
    let t = Timestamp::now();
    let group = |fp: &str| {
        let mut g = GroupUpdate::new(fp, TicketSeed::new(Level::ERROR, "app"), 2, t, t);
        g.title = Some(format!("{fp} failed"));
        g.tags.push(TagCount {
            key: "host".into(),
            value: "web-1".into(),
            count: 2,
        });
        g.samples.push(Sample::new(t));
        g
    };
    store
        .write(&Batch::new(vec![group("a"), group("b")]))
        .expect("the write succeeds");
    drop(store);
    path
}

#[derive(Debug, Clone)]
enum Junk {
    /// An `INSERT OR REPLACE` into `taskwire_meta`.
    Meta(String, Value),
    /// A row of arbitrary values in a table.
    Row(&'static str, Vec<Value>),
    /// One column of every row of a table set to a value.
    Set(&'static str, usize, Value),
    /// A table replaced by one of another shape.
    Foreign(&'static str),
}

/// A `schema_version`: half the time the real one (so the junk in the tables is read), else
/// mostly the values people and programs write by mistake.
fn version() -> impl Strategy<Value = Value> {
    prop_oneof![
        4 => Just(Value::Text("1".to_owned())),
        4 => meta_value(),
    ]
}

fn junk() -> impl Strategy<Value = Junk> {
    prop_oneof![
        (meta_key(), any_value()).prop_map(|(k, v)| Junk::Meta(k, v)),
        (table(), proptest::collection::vec(any_value(), 20)).prop_map(|(t, v)| Junk::Row(t, v)),
        (table(), 0..20usize, any_value()).prop_map(|(t, c, v)| Junk::Set(t, c, v)),
        (table(), 0..20usize, any_value()).prop_map(|(t, c, v)| Junk::Set(t, c, v)),
        table().prop_map(Junk::Foreign),
    ]
}

fn columns(c: &rusqlite::Connection, table: &str) -> Vec<String> {
    c.prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
        .and_then(|mut s| {
            s.query_map([], |r| r.get::<_, String>(0))?
                .collect::<rusqlite::Result<Vec<String>>>()
        })
        .unwrap_or_default()
}

fn apply(path: &Path, junk: &[Junk]) {
    let c = rusqlite::Connection::open(path).expect("the database opens");
    c.execute_batch("PRAGMA ignore_check_constraints = ON")
        .expect("the SQL runs");
    for j in junk {
        // Each change may violate a constraint and be refused; the rest still apply.
        let _ = match j {
            Junk::Meta(k, v) => c.execute(
                "INSERT OR REPLACE INTO taskwire_meta (key, value) VALUES (?1, ?2)",
                rusqlite::params![k, v],
            ),
            Junk::Row(table, values) => {
                let n = columns(&c, table).len();
                let marks = vec!["?"; n.max(1)].join(", ");
                c.execute(
                    &format!("INSERT OR IGNORE INTO \"{table}\" VALUES ({marks})"),
                    rusqlite::params_from_iter(values.iter().cycle().take(n)),
                )
            }
            Junk::Set(table, i, v) => {
                let cols = columns(&c, table);
                match cols.get(i % cols.len().max(1)) {
                    Some(col) => c.execute(
                        &format!("UPDATE OR IGNORE \"{table}\" SET \"{col}\" = ?1"),
                        [v],
                    ),
                    None => Ok(0),
                }
            }
            Junk::Foreign(table) => c
                .execute_batch(&format!(
                    "DROP TABLE IF EXISTS \"{table}\"; CREATE TABLE \"{table}\" (a, b); \
                     INSERT INTO \"{table}\" VALUES (1, 'x');"
                ))
                .map(|()| 0),
        };
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn every_command_exits_0_or_1_on_any_content(
        version in version(),
        junk in proptest::collection::vec(junk(), 0..6),
    ) {
        let dir = TempDir::new("cli-junk");
        let db = database(&dir);
        apply(&db, &[Junk::Meta("schema_version".into(), version)]);
        apply(&db, &junk);
        for args in COMMANDS {
            let o = Command::new(env!("CARGO_BIN_EXE_taskwire"))
                .arg("tickets")
                .args(["--db", db.to_str().unwrap()])
                .args(*args)
                .env_remove("TASKWIRE_DB")
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&o.stderr);
            prop_assert!(
                matches!(o.status.code(), Some(0 | 1)),
                "{:?} exited with {:?}: {}", args, o.status, err
            );
            prop_assert!(!err.contains("panicked"), "{:?}: {}", args, err);
            if o.status.code() == Some(1) {
                prop_assert!(err.starts_with("taskwire: "), "{:?}: {}", args, err);
            }
        }
    }
}
