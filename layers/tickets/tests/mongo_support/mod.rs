//! Servers of a MongoDB test's own, to stop and restart (the server `scripts/test` started and
//! database names come from `taskwire_test_support::services`).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use taskwire_test_support::services;
use taskwire_tickets::MongoDb;

/// A SecantusDB server of the test's own, stopped (SIGTERM, then wait) on drop.
pub(crate) struct OwnServer {
    pub(crate) port: u16,
    storage: PathBuf,
    child: Option<Child>,
}

impl OwnServer {
    /// A server on `port` keeping its data in `storage` (not started yet).
    pub(crate) fn new(port: u16, storage: &Path) -> OwnServer {
        std::fs::create_dir_all(storage)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", storage.display()));
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
        let program = services::secantusd();
        let log = std::fs::File::create(self.storage.with_extension("log"))
            .expect("the server's log file can be created");
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
            .stdout(log.try_clone().expect("the log file handle can be cloned"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", program.display()));
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let mut probe = MongoDb::builder(self.uri("tw_probe"))
                .with_server_selection_timeout(Duration::from_millis(500))
                .open()
                .expect("a MongoDB URI with a port is valid");
            if probe.ensure_schema().is_ok() {
                return;
            }
            if let Some(c) = self.child.as_mut() {
                if let Ok(Some(status)) = c.try_wait() {
                    panic!(
                        "{} exited ({status}); log: {}",
                        program.display(),
                        self.log()
                    );
                }
            }
            assert!(
                Instant::now() < deadline,
                "{} did not answer on port {} within 180 s; log: {}",
                program.display(),
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
