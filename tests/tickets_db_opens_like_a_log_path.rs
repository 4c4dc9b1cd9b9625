//! Every path taskwire opens to write gets its missing folders created: `json_file(path)` and
//! `tickets_db(path)` alike. A database that cannot be opened fails `build()` with an
//! `InstallError` naming the path; a store opened by hand converts its `OpenError` into an
//! `InstallError` with `?`.

#![cfg(feature = "tickets")]

use taskwire_test_support::TempDir;

use std::error::Error;

use taskwire::tickets::store::ListQuery;
use taskwire::tickets::{Sqlite, TicketReader};

#[test]
fn tickets_db_creates_missing_folders_and_stores_tickets() {
    let dir = TempDir::new("tickets-db-path");
    let db = dir.path().join("state").join("nested").join("tickets.db");
    let (dispatch, guard) = taskwire::builder()
        .service("svc")
        .tickets_db(&db)
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || tracing::error!("stored"));
    drop(guard);
    let tickets = Sqlite::open(&db)
        .expect("the database exists")
        .list(&ListQuery::default())
        .expect("list");
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].seed.service.as_deref(), Some("svc"));
}

#[test]
fn tickets_db_under_a_regular_file_is_an_error_naming_the_path() {
    let dir = TempDir::new("tickets-db-path");
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "").expect("seed");
    let db = blocker.join("tickets.db");
    let err = taskwire::builder()
        .tickets_db(&db)
        .build()
        .expect_err("a path under a regular file cannot be opened");
    assert!(err.to_string().contains("tickets database"), "{err}");
    assert!(err.to_string().contains(&db.display().to_string()), "{err}");
    assert!(err.source().is_some(), "{err:?}");
}

#[test]
fn a_foreign_file_is_an_error_naming_the_path() {
    let dir = TempDir::new("tickets-db-path");
    let db = dir.path().join("notes.txt");
    std::fs::write(
        &db,
        "these are not tickets, just some text long enough to be a header".repeat(20),
    )
    .expect("seed");
    let err = taskwire::builder()
        .tickets_db(&db)
        .build()
        .expect_err("not a database");
    assert!(err.to_string().contains(&db.display().to_string()), "{err}");
}

/// The README's shape: `?` on `Sqlite::open` inside a function returning `InstallError`.
fn open_with_question_mark(
    path: &std::path::Path,
) -> Result<taskwire::Guard, taskwire::InstallError> {
    let (_dispatch, guard) = taskwire::builder().tickets(Sqlite::open(path)?).build()?;
    Ok(guard)
}

#[test]
fn an_open_error_converts_into_an_install_error() {
    let dir = TempDir::new("tickets-db-path");
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "").expect("seed");
    let err = open_with_question_mark(&blocker.join("tickets.db")).expect_err("cannot open");
    assert!(err.to_string().contains("tickets store"), "{err}");
    assert!(format!("{err:?}").contains("tickets.db"), "{err:?}");
    let ok = open_with_question_mark(&dir.path().join("ok.db"));
    assert!(ok.is_ok(), "{ok:?}");
}
