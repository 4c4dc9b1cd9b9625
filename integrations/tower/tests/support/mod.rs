//! Shared helpers: an in-memory `MakeWriter` that wakes waiters, the subscriber under test
//! (registry + taskwire-tasks + taskwire-json), and record lookups.
//!
//! Each test binary uses a subset of these helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

pub mod local;
#[cfg(feature = "axum")]
pub mod server;

use std::io;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::sync::Notify;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// One parsed JSON record.
pub type Record = Map<String, Value>;

/// A `MakeWriter` that appends into a shared buffer and wakes [`Buf::wait_for`].
#[derive(Clone, Default)]
pub struct Buf {
    bytes: Arc<Mutex<Vec<u8>>>,
    written: Arc<Notify>,
}

/// The writer handed out by [`Buf`].
pub struct BufWriter(Buf);

impl io::Write for BufWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.bytes.lock().unwrap().extend_from_slice(data);
        self.0.written.notify_waiters();
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buf {
    type Writer = BufWriter;

    fn make_writer(&'a self) -> Self::Writer {
        BufWriter(self.clone())
    }
}

impl Buf {
    /// Every record written so far (each line must be a JSON object).
    pub fn records(&self) -> Vec<Record> {
        let bytes = self.bytes.lock().unwrap().clone();
        String::from_utf8(bytes)
            .expect("output is UTF-8")
            .lines()
            .map(|l| match serde_json::from_str(l) {
                Ok(Value::Object(m)) => m,
                other => panic!("not a JSON object ({other:?}): {l}"),
            })
            .collect()
    }

    /// Forgets what was written.
    pub fn clear(&self) {
        self.bytes.lock().unwrap().clear();
    }

    /// The `task.end` records written so far.
    pub fn task_ends(&self) -> Vec<Record> {
        self.records().into_iter().filter(is_task_end).collect()
    }

    /// Waits until a record matching `pred` has been written, and returns it. The timeout only
    /// turns a bug (a record that never comes) into a failure instead of a hang.
    pub async fn wait_for(&self, what: &str, pred: impl Fn(&Record) -> bool) -> Record {
        let found = tokio::time::timeout(Duration::from_secs(20), async {
            loop {
                let notified = self.written.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if let Some(r) = self.records().into_iter().find(&pred) {
                    return r;
                }
                notified.await;
            }
        })
        .await;
        match found {
            Ok(r) => r,
            Err(_) => panic!("no record {what}; records:\n{:#?}", self.records()),
        }
    }

    /// Waits for the `task.end` record of the task named `name`.
    pub async fn task_end(&self, name: &str) -> Record {
        self.wait_for(&format!("task.end of {name:?}"), |r| {
            is_task_end(r) && r.get("task.name").and_then(Value::as_str) == Some(name)
        })
        .await
    }
}

/// Whether `r` is a `task.end` record.
pub fn is_task_end(r: &Record) -> bool {
    r.get("msg").and_then(Value::as_str) == Some("task.end")
}

/// registry + taskwire-tasks + taskwire-json into `buf`.
pub fn subscriber(buf: &Buf) -> impl tracing::Subscriber + Send + Sync {
    tracing_subscriber::registry()
        .with(taskwire_tasks::layer())
        .with(taskwire_json::layer().with_writer(buf.clone()))
}

/// The string under `key`, or a panic naming the record.
pub fn str_of<'r>(r: &'r Record, key: &str) -> &'r str {
    match r.get(key) {
        Some(Value::String(s)) => s,
        other => panic!("{key:?} is {other:?}, not a string, in {r:?}"),
    }
}

/// The unsigned integer under `key`, or a panic naming the record.
pub fn u64_of(r: &Record, key: &str) -> u64 {
    match r.get(key).and_then(Value::as_u64) {
        Some(v) => v,
        None => panic!("{key:?} is not an unsigned integer in {r:?}"),
    }
}

/// Whether `s` is `len` lowercase hex digits, not all zero.
pub fn is_hex_id(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && s.bytes().any(|b| b != b'0')
}

/// A valid incoming `traceparent` and its parts.
pub const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
/// The remote parent's span id in [`TRACEPARENT`].
pub const PARENT_ID: &str = "00f067aa0ba902b7";
/// `00-{TRACE_ID}-{PARENT_ID}-01`.
pub const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
