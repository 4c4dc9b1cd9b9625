//! The SQLite store passes the store conformance suite, in memory and in a file.

use taskwire_tickets::{conformance, Sqlite, Store};

#[test]
fn in_memory() {
    conformance::run_all(&|| Box::new(Sqlite::open_in_memory().unwrap()) as Box<dyn Store>);
}

#[test]
fn in_a_file_with_a_custom_prefix() {
    let dir = std::env::temp_dir().join(format!("tw-conformance-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let n = std::sync::atomic::AtomicUsize::new(0);
    conformance::run_all(&|| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = dir.join(format!("c{i}.db"));
        let _ = std::fs::remove_file(&path);
        Box::new(
            Sqlite::builder(&path)
                .with_prefix("errors_")
                .open()
                .unwrap(),
        ) as Box<dyn Store>
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn concurrent_writers_on_one_file() {
    let dir = std::env::temp_dir().join(format!("tw-conformance-conc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("shared.db");
    let _ = std::fs::remove_file(&path);
    conformance::concurrent_writers_add_up(&|| {
        Box::new(
            Sqlite::builder(&path)
                .with_busy_timeout(std::time::Duration::from_secs(30))
                .open()
                .unwrap(),
        ) as Box<dyn Store>
    });
    let _ = std::fs::remove_dir_all(&dir);
}
