//! The ticket tables are created inside an existing database, next to its own tables, which
//! are left untouched; opening again finds them and creates nothing twice.

mod support;

use support::{TempDir, TicketsDb};
use taskwire_tickets::{Sqlite, TicketReader};

#[test]
fn tables_are_added_next_to_existing_ones() {
    let dir = TempDir::new("beside");
    let app = rusqlite::Connection::open(dir.db()).unwrap();
    app.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO users (name) VALUES ('ada'), ('grace');
         CREATE TABLE tickets (id INTEGER PRIMARY KEY, subject TEXT);
         INSERT INTO tickets (subject) VALUES ('a help-desk ticket');",
    )
    .unwrap();

    let mut store = Sqlite::open(dir.db()).unwrap();
    support::write_count(&mut store, "f", 2);
    drop(store);
    let store = Sqlite::open(dir.db()).unwrap();
    assert_eq!(store.find("f").unwrap().unwrap().count, 2);

    let names: Vec<String> = app
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        names,
        [
            "taskwire_history",
            "taskwire_hours",
            "taskwire_meta",
            "taskwire_occurrences",
            "taskwire_tags",
            "taskwire_tickets",
            "tickets",
            "users"
        ]
    );
    let users: i64 = app
        .query_row("SELECT COUNT(*) FROM users", [], |r| r.get(0))
        .unwrap();
    let subject: String = app
        .query_row("SELECT subject FROM tickets", [], |r| r.get(0))
        .unwrap();
    assert_eq!((users, subject.as_str()), (2, "a help-desk ticket"));
    assert_eq!(
        support::schema_version(&app),
        taskwire_tickets::store::sqlite::SCHEMA_VERSION.to_string()
    );
}

#[test]
fn a_newer_schema_is_refused() {
    let dir = TempDir::new("newer");
    drop(Sqlite::open(dir.db()).unwrap());
    let c = rusqlite::Connection::open(dir.db()).unwrap();
    c.execute(
        "UPDATE taskwire_meta SET value = '99' WHERE key = 'schema_version'",
        [],
    )
    .unwrap();
    let err = Sqlite::open(dir.db()).unwrap_err();
    assert_eq!(
        err.kind(),
        taskwire_tickets::store::ErrorKind::InvalidConfig,
        "{err}"
    );
    assert!(err.to_string().contains("99"), "{err}");
}
