//! `open_read_only` and `open_existing` never create tables in, migrate, or switch the journal
//! mode of a file: a file that is not a tickets database is refused with
//! `ErrorKind::NotTaskwire` and left byte for byte as it was, and a read-only store refuses
//! every change.

mod support;

use std::path::Path;

use support::{TempDir, TicketsDb};
use taskwire_tickets::store::{Batch, ErrorKind, GroupUpdate, Level, Mute, TicketSeed, Timestamp};
use taskwire_tickets::{Sqlite, TicketReader, TicketTriage, TicketWriter};

fn state(path: &Path) -> (Vec<u8>, String, usize) {
    let bytes = std::fs::read(path).expect("the file can be read");
    let c = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("the database opens");
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("the store answers");
    let files = std::fs::read_dir(path.parent().expect("a file path has a parent folder"))
        .expect("the file can be read")
        .count();
    (bytes, mode, files)
}

#[test]
fn another_applications_file_is_refused_and_left_as_it_was() {
    let dir = TempDir::new("foreign");
    let path = dir.path().join("app.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE users (id INTEGER); INSERT INTO users VALUES (1);")
        .unwrap();
    let before = state(&path);
    assert_eq!(before.1, "delete");
    let errors = [
        Sqlite::open_read_only(&path).unwrap_err(),
        Sqlite::builder(&path).open_read_only().unwrap_err(),
        Sqlite::builder(&path).open_existing().unwrap_err(),
        Sqlite::builder(&path)
            .with_prefix("errors_")
            .open_existing()
            .unwrap_err(),
    ];
    for (i, err) in errors.iter().enumerate() {
        assert_eq!(err.kind(), ErrorKind::NotTaskwire, "{err}");
        let prefix = if i == 3 { "errors_" } else { "taskwire_" };
        let expected = format!(
            "{}: not a taskwire tickets database (no {prefix}meta table with prefix `{prefix}`)",
            path.display()
        );
        assert!(err.to_string().ends_with(&expected), "{err}");
    }
    assert_eq!(state(&path), before);
}

#[test]
fn a_read_only_store_reads_and_refuses_every_change() {
    let dir = TempDir::new("read-only-store");
    let mut store = Sqlite::open(dir.db()).unwrap();
    support::write_count(&mut store, "f", 2);
    drop(store);
    let t = Timestamp::now();
    let before = state(&dir.db());
    let mut store = Sqlite::open_read_only(dir.db()).unwrap();
    let ticket = store.find("f").unwrap().unwrap();
    assert_eq!(ticket.count, 2);
    let write = store.write(&Batch::new(vec![GroupUpdate::new(
        "g",
        TicketSeed::new(Level::ERROR, "app"),
        1,
        t,
        t,
    )]));
    assert_eq!(write.unwrap_err().kind(), ErrorKind::Unavailable);
    assert_eq!(
        store.resolve(ticket.id, None, t).unwrap_err().kind(),
        ErrorKind::Unavailable
    );
    assert_eq!(
        store.mute(ticket.id, Mute::Forever).unwrap_err().kind(),
        ErrorKind::Unavailable
    );
    assert_eq!(
        store.delete(ticket.id).unwrap_err().kind(),
        ErrorKind::Unavailable
    );
    drop(store);
    assert_eq!(state(&dir.db()), before);
}
