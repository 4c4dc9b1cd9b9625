//! One rule for every path taskwire opens: a path opened to write (the tickets database, like a
//! JSON log file) gets its missing folders created; a read-only open creates nothing.

mod support;

use support::TempDir;
use taskwire_tickets::store::{ErrorKind, ListQuery};
use taskwire_tickets::{Sqlite, TicketReader};

#[test]
fn a_writable_open_creates_the_missing_folders() {
    let dir = TempDir::new("new-folders");
    let path = dir
        .path()
        .join("var")
        .join("lib")
        .join("app")
        .join("tickets.db");
    let store = Sqlite::open(&path).unwrap();
    assert_eq!(store.count(&ListQuery::default()).unwrap(), 0);
    assert!(path.is_file());
    drop(store);
    // The same through the builder, with a relative-looking nested path.
    let other = dir.path().join("a").join("b.db");
    drop(
        Sqlite::builder(&other)
            .with_prefix("errors_")
            .open()
            .unwrap(),
    );
    assert!(other.is_file());
}

#[test]
fn a_read_only_or_existing_open_creates_no_folder_and_no_file() {
    let dir = TempDir::new("no-folders");
    let path = dir.path().join("missing").join("tickets.db");
    let err = Sqlite::open_read_only(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    let err = Sqlite::builder(&path).open_existing().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(!dir.path().join("missing").exists());
    // A missing file in an existing folder is not created either.
    let err = Sqlite::open_read_only(dir.path().join("tickets.db")).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}
