//! Writers for layers under test: [`Capture`] keeps what a layer writes and reads it back as
//! lines, JSON values, checked records or typed structs (axum's `capture_tracing` idea);
//! [`Discard`] throws everything away (benchmarks, allocation counts); [`Slow`] makes each
//! write take a while (time-of-event tests).

use std::hint::black_box;
use std::io;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde::de::DeserializeOwned;
use serde_json::Value;
use tracing_subscriber::fmt::MakeWriter;

use crate::json_line::{self, Record};

/// How long [`Capture::wait_for`] waits for a record before it fails the test. Only a bug (a
/// record that never comes) makes it wait that long.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// A `MakeWriter` that appends everything written into one shared buffer. Clones share the
/// buffer: hand one to the layer, read through another.
#[derive(Clone, Default)]
pub struct Capture(Arc<Shared>);

#[derive(Default)]
struct Shared {
    bytes: Mutex<Vec<u8>>,
    /// Signalled on every write, for [`Capture::wait_for`].
    written: Condvar,
    /// Notified on every write, for [`Capture::wait_for_async`].
    #[cfg(feature = "tokio")]
    notify: tokio::sync::Notify,
}

/// The writer handed out by [`Capture`].
pub struct CaptureWriter(Capture);

impl io::Write for CaptureWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.lock().extend_from_slice(data);
        self.0 .0.written.notify_all();
        #[cfg(feature = "tokio")]
        self.0 .0.notify.notify_waiters();
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = CaptureWriter;

    fn make_writer(&'a self) -> CaptureWriter {
        CaptureWriter(self.clone())
    }
}

impl Capture {
    /// A fresh, empty capture (the same as `Capture::default()`).
    pub fn new() -> Capture {
        Capture::default()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<u8>> {
        // A test that panicked while writing must not hide what was written from the others.
        self.0.bytes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Everything written so far.
    pub fn bytes(&self) -> Vec<u8> {
        self.lock().clone()
    }

    /// Everything written so far, as text; panics if it is not UTF-8.
    pub fn text(&self) -> String {
        String::from_utf8(self.bytes()).expect("the captured output is UTF-8")
    }

    /// The lines written so far; panics unless the output ends with a newline (when not
    /// empty), since a layer writes whole lines.
    pub fn lines(&self) -> Vec<String> {
        json_line::split_lines(&self.text())
    }

    /// Every line parsed as JSON; panics on a line that is not.
    pub fn json_lines(&self) -> Vec<Value> {
        self.lines()
            .iter()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l:?}")))
            .collect()
    }

    /// Every line parsed and checked by [`json_line::parse_line`]: a JSON object with no raw
    /// line break and no repeated key.
    pub fn records(&self) -> Vec<Record> {
        self.lines()
            .iter()
            .map(|l| json_line::parse_line(l))
            .collect()
    }

    /// Every line deserialized into `T` (a struct naming the fields a test reads).
    pub fn parse<T: DeserializeOwned>(&self) -> Vec<T> {
        self.lines()
            .iter()
            .map(|l| {
                serde_json::from_str(l).unwrap_or_else(|e| {
                    panic!(
                        "line does not parse as {} ({e}): {l:?}",
                        std::any::type_name::<T>()
                    )
                })
            })
            .collect()
    }

    /// The [`json_line::is_task_end`] records written so far (checked as [`Capture::records`]).
    pub fn task_ends(&self) -> Vec<Record> {
        self.records()
            .into_iter()
            .filter(json_line::is_task_end)
            .collect()
    }

    /// Forgets what was written.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Blocks until a record matching `pred` has been written (woken by each write) and returns
    /// it; fails the test after [`PATIENCE`], printing what was written. For writers on other
    /// threads; inside a single-threaded async runtime use [`Capture::wait_for_async`].
    pub fn wait_for(&self, what: &str, pred: impl Fn(&Record) -> bool) -> Record {
        let deadline = Instant::now() + PATIENCE;
        let mut buf = self.lock();
        loop {
            let text = String::from_utf8_lossy(&buf);
            if let Some(r) = text.lines().map(json_line::parse_line).find(|r| pred(r)) {
                return r;
            }
            let now = Instant::now();
            assert!(
                now < deadline,
                "no record {what} after {PATIENCE:?}; got:\n{text}"
            );
            buf = self
                .0
                .written
                .wait_timeout(buf, deadline - now)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// [`Capture::wait_for`] for a test running inside a tokio runtime (the writer may run on
    /// the same thread): waits without blocking the runtime.
    #[cfg(feature = "tokio")]
    pub async fn wait_for_async(&self, what: &str, pred: impl Fn(&Record) -> bool) -> Record {
        let found = tokio::time::timeout(PATIENCE, async {
            loop {
                let notified = self.0.notify.notified();
                tokio::pin!(notified);
                // Registered before reading, so a write in between still wakes us.
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
            Err(_) => panic!("no record {what} after {PATIENCE:?}; got:\n{}", self.text()),
        }
    }
}

/// A `MakeWriter` that takes every byte and throws it away, so a benchmark or an allocation
/// count measures the layer, not the output.
#[derive(Clone, Copy, Debug, Default)]
pub struct Discard;

impl io::Write for Discard {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(black_box(black_box(buf).len()))
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        black_box(buf);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Discard {
    type Writer = Discard;

    #[inline]
    fn make_writer(&'a self) -> Discard {
        Discard
    }
}

/// A `MakeWriter` whose every write takes at least `delay` of wall-clock time (it spins on the
/// clock, it does not sleep) before going to the inner writer, so a layer that read the clock
/// after this one wrote would read a later time.
#[derive(Clone, Debug)]
pub struct Slow<M> {
    inner: M,
    delay: Duration,
}

impl<M> Slow<M> {
    /// Writes into `inner`, each write taking at least `delay`.
    pub fn new(inner: M, delay: Duration) -> Slow<M> {
        Slow { inner, delay }
    }
}

/// The writer handed out by [`Slow`].
pub struct SlowWriter<W> {
    inner: W,
    delay: Duration,
}

impl<W: io::Write> io::Write for SlowWriter<W> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let start = Instant::now();
        while start.elapsed() < self.delay {
            std::hint::spin_loop();
        }
        self.inner.write(data)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Slow<M> {
    type Writer = SlowWriter<M::Writer>;

    fn make_writer(&'a self) -> Self::Writer {
        SlowWriter {
            inner: self.inner.make_writer(),
            delay: self.delay,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn clones_share_one_buffer_and_read_it_back() {
        let a = Capture::new();
        let b = a.clone();
        writeln!(a.make_writer(), r#"{{"msg":"task.end","n":1}}"#).unwrap();
        writeln!(a.make_writer(), r#"{{"msg":"other","n":2}}"#).unwrap();
        assert_eq!(b.lines().len(), 2);
        assert_eq!(b.json_lines()[1]["n"], 2);
        assert_eq!(b.records()[0]["msg"], "task.end");
        assert_eq!(b.task_ends().len(), 1);
        #[derive(serde::Deserialize)]
        struct Line {
            n: u64,
        }
        let typed: Vec<u64> = b.parse::<Line>().into_iter().map(|l| l.n).collect();
        assert_eq!(typed, [1, 2]);
        b.clear();
        assert!(a.lines().is_empty());
    }

    #[test]
    #[should_panic(expected = "does not end with a newline")]
    fn a_partial_line_fails() {
        let c = Capture::new();
        write!(c.make_writer(), "{{}}").unwrap();
        c.lines();
    }

    #[test]
    fn wait_for_wakes_on_a_write_from_another_thread() {
        let c = Capture::new();
        let writer = c.clone();
        let t = std::thread::spawn(move || {
            writeln!(writer.make_writer(), r#"{{"k":"v"}}"#).unwrap();
        });
        let r = c.wait_for("with k", |r| r.get("k").is_some());
        assert_eq!(r["k"], "v");
        t.join().unwrap();
    }

    #[test]
    fn slow_takes_its_time_and_forwards() {
        let c = Capture::new();
        let slow = Slow::new(c.clone(), Duration::from_micros(200));
        let start = Instant::now();
        writeln!(slow.make_writer(), "{{}}").unwrap();
        assert!(start.elapsed() >= Duration::from_micros(200));
        assert_eq!(c.lines(), ["{}"]);
    }
}
