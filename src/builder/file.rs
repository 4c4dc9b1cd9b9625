//! The background writer behind `json_file(path)`: lines go through a bounded channel to a
//! thread that appends them to the file, so the caller never waits on the disk.
//!
//! Unlike tracing-appender's `NonBlocking`, it can be flushed without being stopped: the
//! [`Guard`](super::Guard) of an installed subscriber flushes when dropped and the output keeps
//! flowing until the process exits. The channel is bounded and lossless: under a burst the
//! caller waits for the writer rather than losing lines.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use tracing_subscriber::fmt::MakeWriter;

use super::error::{ErrorKind, InstallError};

/// Lines queued before the caller waits for the writer thread.
const QUEUE: usize = 16 * 1024;

enum Msg {
    Line(Vec<u8>),
    Flush(SyncSender<()>),
    Stop,
}

/// The `MakeWriter` of a `json_file` output.
#[derive(Clone, Debug)]
pub(super) struct FileWriter {
    tx: SyncSender<Msg>,
}

/// The writer handed out by [`FileWriter`]: each `write` queues one line.
#[derive(Debug)]
pub(super) struct FileLine<'a>(&'a SyncSender<Msg>);

impl Write for FileLine<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .send(Msg::Line(buf.to_vec()))
            .map_err(|_| io::Error::other("the log file writer has stopped"))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for FileWriter {
    type Writer = FileLine<'a>;

    fn make_writer(&'a self) -> FileLine<'a> {
        FileLine(&self.tx)
    }
}

/// The writer thread of one file: flushed, and stopped when dropped.
#[derive(Debug)]
pub(super) struct FileWorker {
    path: PathBuf,
    tx: SyncSender<Msg>,
    thread: Mutex<Option<JoinHandle<()>>>,
    errors: Arc<DiskErrors>,
}

/// Lines the writer thread could not write to the disk.
#[derive(Debug, Default)]
struct DiskErrors {
    count: AtomicU64,
    reported: AtomicBool,
}

/// Opens `path` for appending (creating its missing folders) and starts its writer thread.
pub(super) fn open(path: &Path) -> Result<(FileWriter, FileWorker), InstallError> {
    let err =
        |e: io::Error| InstallError::new(ErrorKind::Output(path.to_owned()), Some(Box::new(e)));
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).map_err(err)?;
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(err)?;
    let (tx, rx) = mpsc::sync_channel(QUEUE);
    let errors = Arc::new(DiskErrors::default());
    let thread_errors = Arc::clone(&errors);
    let shown = path.display().to_string();
    let thread = std::thread::Builder::new()
        .name("taskwire-json-file".to_owned())
        .spawn(move || run(&rx, file, &thread_errors, &shown))
        .map_err(err)?;
    Ok((
        FileWriter { tx: tx.clone() },
        FileWorker {
            path: path.to_owned(),
            tx,
            thread: Mutex::new(Some(thread)),
            errors,
        },
    ))
}

fn run(rx: &Receiver<Msg>, file: File, errors: &DiskErrors, path: &str) {
    // Anything this thread logs must not come back into the file.
    taskwire_core::suppress::suppress_current_thread();
    let mut out = BufWriter::with_capacity(64 * 1024, file);
    let fail = |e: io::Error| {
        errors.count.fetch_add(1, Ordering::Relaxed);
        if !errors.reported.swap(true, Ordering::Relaxed) {
            let _ = writeln!(
                io::stderr(),
                "taskwire: cannot write to {path} ({e}); further failures are counted"
            );
        }
    };
    loop {
        let msg = match rx.try_recv() {
            Ok(m) => m,
            Err(TryRecvError::Empty) => {
                // Idle: what was written so far goes to the file before waiting.
                if let Err(e) = out.flush() {
                    fail(e);
                }
                match rx.recv() {
                    Ok(m) => m,
                    Err(_) => break,
                }
            }
            Err(TryRecvError::Disconnected) => break,
        };
        match msg {
            Msg::Line(line) => {
                if let Err(e) = out.write_all(&line) {
                    fail(e);
                }
            }
            Msg::Flush(ack) => {
                if let Err(e) = out.flush() {
                    fail(e);
                }
                let _ = ack.send(());
            }
            Msg::Stop => break,
        }
    }
    if let Err(e) = out.flush() {
        fail(e);
    }
}

impl FileWorker {
    /// Waits until every line queued so far is in the file, at most `timeout`; returns whether
    /// it was done in time.
    pub(super) fn flush(&self, timeout: Duration) -> bool {
        let (ack, done) = mpsc::sync_channel(1);
        if self.tx.send(Msg::Flush(ack)).is_err() {
            return false;
        }
        done.recv_timeout(timeout).is_ok()
    }

    /// Lines that could not be written to the disk.
    pub(super) fn errors(&self) -> u64 {
        self.errors.count.load(Ordering::Relaxed)
    }

    /// Flushes and stops the thread (waiting for it only when the flush finished in time).
    pub(super) fn stop(&self, timeout: Duration) {
        let flushed = self.flush(timeout);
        let _ = self.tx.try_send(Msg::Stop);
        let handle = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match handle {
            Some(h) if flushed => {
                let _ = h.join();
            }
            Some(_) => {
                let _ = writeln!(
                    io::stderr(),
                    "taskwire: {} was not flushed within {timeout:?}",
                    self.path.display()
                );
            }
            None => {}
        }
    }
}
