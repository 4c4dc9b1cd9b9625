//! Several JSON outputs from one rendering: [`Fanout`] renders each event once (one `ts`, one
//! set of bytes) and writes those bytes to every output.
//!
//! The JSON layer hands its line to a `MakeWriter`; outputs such as
//! `std::io::stderr.with_max_level(Level::WARN)` choose their writer from the event's metadata,
//! which a `MakeWriter` wrapping them could not keep until the line arrives. So the layer writes
//! into a per-thread tap, and [`Fanout`], which wraps the layer and sees the event, passes the
//! tapped line to each output's `make_writer_for(metadata)`. The tap's buffer is reused (one
//! `memcpy` per event, no allocation in steady state); an event raised while the line is being
//! written (an output that logs) gets a fresh buffer.

use std::cell::RefCell;
use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use taskwire_json::JsonLayer;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// A tap buffer that grew past this is given back rather than kept.
const KEEP_CAPACITY: usize = 64 * 1024;

thread_local! {
    static TAP: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// One JSON output of a [`Fanout`].
pub(super) trait Sink: Send + Sync {
    fn write_line(&self, meta: &Metadata<'_>, line: &[u8]) -> io::Result<()>;
}

impl<W> Sink for W
where
    W: for<'w> MakeWriter<'w> + Send + Sync,
{
    fn write_line(&self, meta: &Metadata<'_>, line: &[u8]) -> io::Result<()> {
        self.make_writer_for(meta).write_all(line)
    }
}

/// The `MakeWriter` of the wrapped JSON layer: appends the line to this thread's tap.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Tap;

/// The writer handed out by [`Tap`].
#[derive(Debug)]
pub(super) struct TapWriter;

impl Write for TapWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        TAP.try_with(|t| match t.try_borrow_mut() {
            Ok(mut v) => {
                v.extend_from_slice(buf);
                Ok(buf.len())
            }
            Err(_) => Err(io::Error::other("the JSON tap is busy")),
        })
        .unwrap_or_else(|_| Err(io::Error::other("the thread is exiting")))
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Tap {
    type Writer = TapWriter;

    fn make_writer(&'a self) -> TapWriter {
        TapWriter
    }
}

/// Failed writes per output, each output's first failure reported once on stderr.
#[derive(Debug)]
pub(super) struct SinkErrors {
    counts: Vec<AtomicU64>,
    reported: Vec<AtomicBool>,
}

impl SinkErrors {
    fn new(n: usize) -> SinkErrors {
        SinkErrors {
            counts: (0..n).map(|_| AtomicU64::new(0)).collect(),
            reported: (0..n).map(|_| AtomicBool::new(false)).collect(),
        }
    }

    /// Records that could not be written, summed over the outputs.
    pub(super) fn count(&self) -> u64 {
        self.counts.iter().map(|c| c.load(Ordering::Relaxed)).sum()
    }

    fn record(&self, sink: usize, e: &io::Error) {
        if let Some(c) = self.counts.get(sink) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        if self
            .reported
            .get(sink)
            .is_some_and(|r| !r.swap(true, Ordering::Relaxed))
        {
            let _ = writeln!(
                io::stderr(),
                "taskwire: a record could not be written to JSON output {} ({e}); \
                 further failures are counted",
                sink + 1
            );
        }
    }
}

/// The JSON layer rendering once for several outputs.
pub(super) struct Fanout {
    json: JsonLayer<Tap>,
    sinks: Vec<Box<dyn Sink>>,
    errors: Arc<SinkErrors>,
}

impl Fanout {
    pub(super) fn new(json: JsonLayer<Tap>, sinks: Vec<Box<dyn Sink>>) -> Fanout {
        let errors = Arc::new(SinkErrors::new(sinks.len()));
        Fanout {
            json,
            sinks,
            errors,
        }
    }

    pub(super) fn errors(&self) -> Arc<SinkErrors> {
        Arc::clone(&self.errors)
    }
}

impl<S> Layer<S> for Fanout
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        Layer::<S>::on_register_dispatch(&self.json, subscriber);
    }

    fn on_layer(&mut self, subscriber: &mut S) {
        self.json.on_layer(subscriber);
    }

    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        Layer::<S>::register_callsite(&self.json, meta)
    }

    fn enabled(&self, meta: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.json.enabled(meta, ctx)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        self.json.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.json.on_record(id, values, ctx);
    }

    fn on_follows_from(&self, span: &Id, follows: &Id, ctx: Context<'_, S>) {
        self.json.on_follows_from(span, follows, ctx);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        self.json.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        self.json.on_exit(id, ctx);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        self.json.on_close(id, ctx);
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        self.json.on_event(event, ctx);
        // Taken out of the tap while the outputs write, so an output that logs cannot find the
        // tap borrowed; put back afterwards to keep its capacity.
        let mut line = TAP
            .try_with(|t| {
                t.try_borrow_mut()
                    .map(|mut v| std::mem::take(&mut *v))
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        if !line.is_empty() {
            let normalized = event.normalized_metadata();
            let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
            for (i, sink) in self.sinks.iter().enumerate() {
                if let Err(e) = sink.write_line(meta, &line) {
                    self.errors.record(i, &e);
                }
            }
        }
        line.clear();
        if line.capacity() <= KEEP_CAPACITY {
            let _ = TAP.try_with(|t| {
                if let Ok(mut v) = t.try_borrow_mut() {
                    if v.capacity() < line.capacity() {
                        *v = line;
                    }
                }
            });
        }
    }
}
