#![allow(clippy::unwrap_used)] // helpers outside #[test] fns
//! Helpers of the MongoDB tests: the server scripts/test started, unique database names, and
//! servers of a test's own (to stop and restart).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use taskwire_tickets::MongoDb;

/// The server scripts/test started (`TASKWIRE_TEST_MONGODB_URI`); fails the test without it.
pub(crate) fn base_uri() -> String {
    std::env::var("TASKWIRE_TEST_MONGODB_URI").unwrap_or_else(|_| {
        panic!(
            "TASKWIRE_TEST_MONGODB_URI is not set: run the MongoDB tests with scripts/test \
             (scripts/services/mongodb.sh starts a SecantusDB server), or set it to a \
             mongodb:// URI of a server these tests may write to"
        )
    })
}

/// A database name no other test (or run) uses.
pub(crate) fn unique_db(name: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let name: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(24)
        .collect();
    format!(
        "tw_{name}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// `base` (`mongodb://host:port`, maybe with `?options`) with the database `db`.
pub(crate) fn with_db(base: &str, db: &str) -> String {
    let (hosts, options) = match base.split_once('?') {
        Some((h, o)) => (h, format!("?{o}")),
        None => (base, String::new()),
    };
    let hosts = hosts.trim_end_matches('/');
    format!("{hosts}/{db}{options}")
}

/// A URI for a fresh database on the shared test server.
pub(crate) fn fresh_uri(name: &str) -> String {
    with_db(&base_uri(), &unique_db(name))
}

/// A free port on 127.0.0.1.
pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A SecantusDB server of the test's own, stopped (SIGTERM, then wait) on drop.
pub(crate) struct OwnServer {
    pub(crate) port: u16,
    storage: PathBuf,
    child: Option<Child>,
}

impl OwnServer {
    /// A server on `port` keeping its data in `storage` (not started yet).
    pub(crate) fn new(port: u16, storage: &Path) -> OwnServer {
        std::fs::create_dir_all(storage).unwrap();
        OwnServer {
            port,
            storage: storage.to_owned(),
            child: None,
        }
    }

    pub(crate) fn uri(&self, db: &str) -> String {
        format!("mongodb://127.0.0.1:{}/{db}", self.port)
    }

    /// Starts it and waits until it answers (a write through the store's schema setup).
    pub(crate) fn start(&mut self) {
        let program = std::env::var("TASKWIRE_TEST_SECANTUSD").unwrap_or_else(|_| {
            panic!(
                "TASKWIRE_TEST_SECANTUSD is not set: run this test with scripts/test \
                 (scripts/services/mongodb.sh installs SecantusDB and exports its secantusd-py)"
            )
        });
        let log = std::fs::File::create(self.storage.with_extension("log")).unwrap();
        let child = Command::new(&program)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &self.port.to_string(),
                "--storage-path",
            ])
            .arg(&self.storage)
            .arg("--standalone")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let mut probe = MongoDb::builder(self.uri("tw_probe"))
                .with_server_selection_timeout(Duration::from_millis(500))
                .open()
                .unwrap();
            if probe.ensure_schema().is_ok() {
                return;
            }
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    panic!("{program} exited ({status}); log: {}", self.log());
                }
            }
            assert!(
                Instant::now() < deadline,
                "{program} did not answer on port {} within 60 s; log: {}",
                self.port,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stops it: SIGTERM, then waits for it to exit.
    pub(crate) fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.storage.with_extension("log")).unwrap_or_default()
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        self.stop();
    }
}
