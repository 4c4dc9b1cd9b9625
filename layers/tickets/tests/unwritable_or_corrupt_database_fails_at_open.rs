//! Bad paths and bad files fail when the store is opened, with an error that says what is
//! wrong, never later inside the layer.

mod support;

use std::error::Error;

use support::{TempDir, TicketsDb};
use taskwire_tickets::store::ErrorKind;
use taskwire_tickets::Sqlite;

#[test]
fn a_folder_that_cannot_be_created_is_unavailable() {
    let dir = TempDir::new("file-as-folder");
    // A file where a folder of the path should be: no folder can be made there.
    let blocker = dir.path().join("not-a-folder");
    std::fs::write(&blocker, b"x").unwrap();
    let path = blocker.join("sub").join("tickets.db");
    let err = Sqlite::open(&path).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable);
    let text = err.to_string();
    assert!(text.contains(&path.display().to_string()), "{text}");
    assert!(text.contains("cannot create the folder"), "{text}");
    assert!(err.source().is_some());
}

#[test]
fn a_folder_in_place_of_the_file_is_unavailable() {
    let dir = TempDir::new("is-dir");
    let err = Sqlite::open(dir.path()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unavailable, "{err}");
}

#[test]
fn a_file_that_is_not_a_database_is_corrupt() {
    let dir = TempDir::new("garbage");
    let bytes: Vec<u8> = (0..16_384u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(dir.db(), &bytes).unwrap();
    let err = Sqlite::open(dir.db()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
    assert!(err.to_string().contains("not a SQLite database"), "{err}");
    // The file is left as it was.
    assert_eq!(std::fs::read(dir.db()).unwrap(), bytes);
}

#[test]
fn a_damaged_database_is_corrupt() {
    let dir = TempDir::new("damaged");
    drop(Sqlite::open(dir.db()).unwrap());
    // Keep the header page, overwrite the rest (the tables' pages) with noise.
    let mut bytes = std::fs::read(dir.db()).unwrap();
    assert!(bytes.len() > 4096);
    for (i, b) in bytes.iter_mut().enumerate().skip(4096) {
        *b = (i as u8).wrapping_mul(31) ^ 0x5a;
    }
    std::fs::write(dir.db(), &bytes).unwrap();
    let _ = std::fs::remove_file(dir.path().join("tickets.db-wal"));
    let _ = std::fs::remove_file(dir.path().join("tickets.db-shm"));
    let err = Sqlite::open(dir.db()).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Corrupt, "{err}");
}
