//! Whatever a database holds, opening it and every store operation return a value or an
//! error, never panic; and each `schema_version` value has one documented outcome that leaves
//! the recorded version and `created_at` as they were.

mod support;

use std::path::Path;

use proptest::prelude::*;
use rusqlite::types::Value;
use support::{TempDir, TicketsDb};
use taskwire_test_support::hostile::sqlite::{any_value, data_table, meta_key, meta_value, table};
use taskwire_tickets::store::sqlite::SCHEMA_VERSION;
use taskwire_tickets::store::{
    Batch, ErrorKind, GroupUpdate, ListQuery, Mute, OccurrenceQuery, OpenError, Sample, Sort,
    Status, TicketId, TicketSeed, Timestamp,
};
use taskwire_tickets::{Sqlite, TicketReader, TicketTriage, TicketWriter};

/// The rows of `taskwire_meta`, sorted.
fn meta(path: &Path) -> Vec<(Value, Value)> {
    let c = rusqlite::Connection::open(path).expect("the database opens");
    let mut s = c
        .prepare("SELECT key, value FROM taskwire_meta ORDER BY key")
        .expect("the SQL runs");
    s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("the SQL runs")
        .collect::<Result<_, _>>()
        .expect("every row reads")
}

/// A fresh taskwire database with one ticket, its schema version then set to `version`
/// (`None`: the row deleted).
fn with_version(dir: &TempDir, version: Option<Value>) -> std::path::PathBuf {
    let path = dir.db();
    let mut store = Sqlite::open(&path).expect("the store opens");
    let t = Timestamp::now();
    store
        .write(&Batch::new(vec![GroupUpdate::new(
            "f",
            TicketSeed::new(taskwire_tickets::store::Level::ERROR, "app"),
            1,
            t,
            t,
        )]))
        .expect("the write succeeds");
    drop(store);
    let c = rusqlite::Connection::open(&path).expect("the database opens");
    // NOT NULL keeps a null out: a null version is a missing one.
    match version.filter(|v| *v != Value::Null) {
        Some(v) => c
            .execute(
                "UPDATE taskwire_meta SET value = ?1 WHERE key = 'schema_version'",
                [v],
            )
            .expect("the SQL runs"),
        None => c
            .execute("DELETE FROM taskwire_meta WHERE key = 'schema_version'", [])
            .expect("the SQL runs"),
    };
    path
}

/// Every open of `path`: the writable one, the existing-only one and the read-only one.
fn every_open(path: &Path) -> [Result<Sqlite, OpenError>; 3] {
    [
        Sqlite::open(path),
        Sqlite::builder(path).open_existing(),
        Sqlite::open_read_only(path),
    ]
}

#[test]
fn each_unusable_schema_version_is_a_typed_error_that_changes_nothing() {
    let cases: [(Option<Value>, ErrorKind, &str); 9] = [
        (Some(Value::Text("0".into())), ErrorKind::Corrupt, "\"0\""),
        (Some(Value::Text("-1".into())), ErrorKind::Corrupt, "\"-1\""),
        (
            Some(Value::Text("abc".into())),
            ErrorKind::Corrupt,
            "\"abc\"",
        ),
        (Some(Value::Text(String::new())), ErrorKind::Corrupt, "\"\""),
        (
            Some(Value::Text("1.0".into())),
            ErrorKind::Corrupt,
            "\"1.0\"",
        ),
        (Some(Value::Blob(vec![1, 2])), ErrorKind::Corrupt, "blob"),
        (None, ErrorKind::Corrupt, "no schema_version"),
        (
            Some(Value::Text("99".into())),
            ErrorKind::InvalidConfig,
            "version 99, newer than this taskwire knows",
        ),
        (
            Some(Value::Text("4294967296".into())),
            ErrorKind::Corrupt,
            "\"4294967296\"",
        ),
    ];
    for (value, kind, shown) in cases {
        let dir = TempDir::new("version");
        let path = with_version(&dir, value.clone());
        let before = meta(&path);
        for (i, r) in every_open(&path).into_iter().enumerate() {
            let err = r
                .err()
                .unwrap_or_else(|| panic!("{value:?}: open {i} succeeded"));
            assert_eq!(err.kind(), kind, "{value:?}, open {i}: {err}");
            let text = err.to_string();
            assert!(text.contains(shown), "{value:?}, open {i}: {text}");
            assert!(text.contains(&path.display().to_string()), "{text}");
            assert!(!text.contains("Some("), "{text}");
        }
        // Nothing overwritten: the version and created_at are as they were.
        assert_eq!(meta(&path), before, "{value:?}");
    }
}

#[test]
fn the_current_version_opens_every_way_and_keeps_created_at() {
    let dir = TempDir::new("current");
    let path = with_version(&dir, Some(Value::Text(SCHEMA_VERSION.to_string())));
    let before = meta(&path);
    for r in every_open(&path) {
        assert_eq!(r.unwrap().find("f").unwrap().unwrap().count, 1);
    }
    assert_eq!(meta(&path), before);
}

/// Runs every store operation; each may fail, none may panic.
fn exercise(store: &mut Sqlite) {
    for sort in [Sort::LastSeen, Sort::Count, Sort::FirstSeen] {
        for status in [
            None,
            Some(Status::Open),
            Some(Status::Resolved),
            Some(Status::Muted),
        ] {
            let mut q = ListQuery::default()
                .with_sort(sort)
                .with_since(Timestamp::from_micros(i64::MIN));
            if let Some(s) = status {
                q = q.with_status(s);
            }
            let _ = store.list(&q);
            let _ = store.count(&q);
        }
    }
    let mut ids: Vec<i64> = vec![-1, 0, 1, 2, i64::MAX, i64::MIN];
    if let Ok(all) = store.list(&ListQuery::default().with_limit(1000)) {
        ids.extend(all.iter().map(|t| t.id.0));
    }
    for id in ids {
        let id = TicketId(id);
        let _ = store.get(id);
        let _ = store.occurrences(id, &OccurrenceQuery::newest().with_limit(100));
        let _ = store.occurrences(id, &OccurrenceQuery::oldest().with_limit(100));
        let _ = store.tags(id);
    }
    let t = Timestamp::now();
    let mut g = GroupUpdate::new(
        "f",
        TicketSeed::new(taskwire_tickets::store::Level::ERROR, "app"),
        3,
        t,
        t,
    );
    g.samples.push(Sample::new(t));
    let _ = store.write(&Batch::new(vec![g]));
    for id in [1, 2] {
        let id = TicketId(id);
        let _ = store.mute(id, Mute::Count(u64::MAX));
        let _ = store.resolve(id, Some("r"), Timestamp::from_micros(i64::MAX));
        let _ = store.reopen(id);
        let _ = store.find("f");
        let _ = store.delete(id);
    }
}

#[derive(Debug, Clone)]
enum Junk {
    /// Rows of `taskwire_meta`.
    Meta(Vec<(String, Value)>),
    /// A row of arbitrary values in one of the tables.
    Row(&'static str, Vec<Value>),
    /// A table replaced by one of another shape.
    Foreign(&'static str),
}

fn junk() -> impl Strategy<Value = Junk> {
    prop_oneof![
        proptest::collection::vec((meta_key(), meta_value()), 0..4).prop_map(Junk::Meta),
        (table(), proptest::collection::vec(any_value(), 20)).prop_map(|(t, v)| Junk::Row(t, v)),
        (data_table(), proptest::collection::vec(any_value(), 20))
            .prop_map(|(t, v)| Junk::Row(t, v)),
        (data_table(), proptest::collection::vec(any_value(), 20))
            .prop_map(|(t, v)| Junk::Row(t, v)),
        table().prop_map(Junk::Foreign),
    ]
}

fn apply(path: &Path, junk: &[Junk]) {
    let c = rusqlite::Connection::open(path).expect("the database opens");
    // Let rows in whatever the status CHECK says (NOT NULL still keeps some out).
    c.execute_batch("PRAGMA ignore_check_constraints = ON")
        .expect("the SQL runs");
    for j in junk {
        match j {
            Junk::Meta(rows) => {
                for (k, v) in rows {
                    let _ = c.execute(
                        "INSERT OR REPLACE INTO taskwire_meta (key, value) VALUES (?1, ?2)",
                        rusqlite::params![k, v],
                    );
                }
            }
            Junk::Row(table, values) => {
                let n: usize = c
                    .query_row(
                        &format!("SELECT COUNT(*) FROM pragma_table_info('{table}')"),
                        [],
                        |r| r.get::<_, i64>(0),
                    )
                    .unwrap_or(0)
                    .try_into()
                    .unwrap_or(0);
                if n == 0 {
                    continue;
                }
                let marks = vec!["?"; n].join(", ");
                let _ = c.execute(
                    &format!("INSERT OR IGNORE INTO \"{table}\" VALUES ({marks})"),
                    rusqlite::params_from_iter(values.iter().cycle().take(n)),
                );
            }
            Junk::Foreign(table) => {
                let _ = c.execute_batch(&format!(
                    "DROP TABLE IF EXISTS \"{table}\"; CREATE TABLE \"{table}\" (a, b); \
                     INSERT INTO \"{table}\" VALUES (1, 'x');"
                ));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_meta_and_table_contents_open_or_fail_without_panic(
        // Half the cases keep the real version, so the junk in the tables is read too.
        version in proptest::option::weighted(
            0.95,
            prop_oneof![Just(Value::Text(SCHEMA_VERSION.to_string())), meta_value()],
        ),
        junk in proptest::collection::vec(junk(), 0..6),
    ) {
        let dir = TempDir::new("junk");
        let path = with_version(&dir, version);
        apply(&path, &junk);
        for r in every_open(&path) {
            match r {
                Ok(mut store) => exercise(&mut store),
                Err(e) => {
                    let text = e.to_string();
                    prop_assert!(!text.contains("Some("), "{}", text);
                    prop_assert!(text.contains(&path.display().to_string()), "{}", text);
                }
            }
        }
    }
}
