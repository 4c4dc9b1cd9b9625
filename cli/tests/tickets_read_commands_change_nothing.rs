//! `taskwire tickets` on a file that is not a tickets database (another application's, or the
//! right one with a mistyped `--prefix`): read commands open it read-only and change nothing,
//! triage commands refuse it, and both say it is not a taskwire tickets database. A read-only
//! file in a read-only folder can be listed and shown.

mod support;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use support::tickets;
use taskwire_test_support::TempDir;
use taskwire_tickets::store::{Batch, GroupUpdate, Level, TicketSeed, Timestamp};
use taskwire_tickets::{Sqlite, TicketWriter};

/// The file's bytes, its journal mode, and every file in its folder: what must not change.
fn fingerprint(path: &Path) -> (Vec<u8>, String, Vec<String>) {
    let bytes = std::fs::read(path).expect("the file can be read");
    let c = rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .expect("the database opens");
    let mode: String = c
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .expect("the SQL runs");
    drop(c);
    let mut files: Vec<String> =
        std::fs::read_dir(path.parent().expect("a file path has a parent folder"))
            .expect("the file can be read")
            .map(|e| {
                e.expect("the folder can be listed")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .collect();
    files.sort();
    (bytes, mode, files)
}

/// Another application's database, in SQLite's default rollback-journal mode.
fn foreign(dir: &TempDir) -> PathBuf {
    let path = dir.join("app.db");
    let c = rusqlite::Connection::open(&path).expect("the database opens");
    c.execute_batch(
        "CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT);
         INSERT INTO users (name) VALUES ('ada'), ('grace');
         CREATE TABLE tickets (id INTEGER PRIMARY KEY, subject TEXT);
         INSERT INTO tickets (subject) VALUES ('a help-desk ticket');",
    )
    .expect("the SQL runs");
    path
}

/// A taskwire database with tickets 1 and 2, closed (its WAL checkpointed and removed).
fn tickets_db(dir: &TempDir) -> PathBuf {
    let path = dir.join("tickets.db");
    let mut store = Sqlite::open(&path).expect("the store opens");
    let t = Timestamp::now();
    let group = |fp: &str, level, count, title: &str| {
        let mut g = GroupUpdate::new(fp, TicketSeed::new(level, "app"), count, t, t);
        g.title = Some(title.to_owned());
        g
    };
    store
        .write(&Batch::new(vec![
            group("a", Level::ERROR, 3, "payment declined"),
            group("b", Level::WARN, 1, "stock low"),
        ]))
        .expect("the write succeeds");
    drop(store);
    path
}

const READS: &[&[&str]] = &[
    &["list"],
    &["list", "--json"],
    &["list", "--status", "all", "--sort", "count"],
    &["show", "1"],
    &["show", "1", "--json"],
];

const TRIAGE: &[&[&str]] = &[
    &["resolve", "1"],
    &["mute", "1", "--for", "2h"],
    &["reopen", "1"],
    &["delete", "1"],
];

fn refused(o: &Output, prefix: &str) -> String {
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let expected =
        format!("not a taskwire tickets database (no {prefix}meta table with prefix `{prefix}`");
    assert!(err.contains(&expected), "{err}");
    err
}

#[test]
fn read_commands_on_another_applications_file_change_nothing() {
    let dir = TempDir::new("cli-foreign-read");
    let db = foreign(&dir);
    let before = fingerprint(&db);
    assert_eq!(before.1, "delete");
    for args in READS {
        let o = tickets(&[&["--db", db.to_str().unwrap()], *args].concat());
        refused(&o, "taskwire_");
        assert_eq!(fingerprint(&db), before, "after {args:?}");
    }
}

#[test]
fn triage_commands_refuse_a_file_that_is_not_a_tickets_database() {
    let dir = TempDir::new("cli-foreign-triage");
    let db = foreign(&dir);
    let before = fingerprint(&db);
    for args in TRIAGE {
        let o = tickets(&[&["--db", db.to_str().unwrap()], *args].concat());
        refused(&o, "taskwire_");
        assert_eq!(fingerprint(&db), before, "after {args:?}");
    }
}

#[test]
fn a_mistyped_prefix_changes_nothing_and_names_the_prefix_found() {
    let dir = TempDir::new("cli-mistyped");
    let db = tickets_db(&dir);
    let before = fingerprint(&db);
    for args in READS.iter().chain(TRIAGE) {
        let o = tickets(
            &[
                &["--db", db.to_str().unwrap(), "--prefix", "taskwire2_"],
                *args,
            ]
            .concat(),
        );
        let err = refused(&o, "taskwire2_");
        assert!(
            err.contains("it has taskwire tables with prefix `taskwire_`"),
            "{err}"
        );
        assert_eq!(fingerprint(&db), before, "after {args:?}");
    }
}

/// Runs the binary as a user that cannot write `dir`: `nobody` when the tests run as root
/// (whom permissions do not stop), else the current user.
fn taskwire_without_write_access(dir: &TempDir, args: &[&str]) -> Output {
    let exe = dir.join("taskwire");
    if !exe.exists() {
        std::fs::copy(env!("CARGO_BIN_EXE_taskwire"), &exe).expect("the binary can be copied");
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755))
            .expect("the copy can be made executable");
    }
    let mut c = Command::new(&exe);
    c.arg("tickets").args(args).env_remove("TASKWIRE_DB");
    let me = std::fs::metadata(&exe).expect("the file can be read").uid();
    if me == 0 {
        c.uid(65_534).gid(65_534);
    }
    c.output().expect("the program runs")
}

#[test]
fn list_and_show_work_on_a_read_only_file_in_a_read_only_folder() {
    let dir = TempDir::new("cli-read-only");
    let db = tickets_db(&dir);
    // Copy the binary in before the folder becomes read-only.
    let _ = taskwire_without_write_access(&dir, &["--help"]);
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o444)).unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o555)).unwrap();
    let before = fingerprint(&db);
    let path = db.to_str().unwrap();

    let o = taskwire_without_write_access(&dir, &["--db", path, "list", "--sort", "count"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("payment declined") && out.contains("stock low"),
        "{out}"
    );

    let o = taskwire_without_write_access(&dir, &["--db", path, "show", "1", "--json"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["count"], 3);

    // Triage needs write access, and says so.
    let o = taskwire_without_write_access(&dir, &["--db", path, "resolve", "1"]);
    assert_eq!(o.status.code(), Some(1), "{o:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("read-only"), "{err}");
    assert_eq!(fingerprint(&db), before);
}
