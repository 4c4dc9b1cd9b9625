//! Several JSON outputs from one rendering: [`Fanout`] renders each event once (one `ts`, one
//! set of bytes) and writes those bytes to every output.
//!
//! The JSON layer hands its line to a `MakeWriter`; outputs such as
//! `std::io::stderr.with_max_level(Level::WARN)` choose their writer from the event's metadata,
//! which the writer a `MakeWriter` makes cannot keep (`make_writer_for` lends it for the call
//! only). So [`Fanout`], which wraps the layer and sees the event, leaves the event's metadata
//! in a per-thread slot while the layer renders. With one output, when the layer asks for a
//! writer for that very metadata (every event but a bridged `log` record, whose metadata the
//! layer builds per record), [`Tap`] hands out a writer to that output with the slot's
//! `'static` metadata, and the line goes straight to it, as it would from a JSON layer built on
//! it by hand. Otherwise the line is kept in a per-thread tap and [`Fanout`] writes it to every
//! output: one rendering, one `ts`, the same bytes for all. The tap's buffer is reused (one
//! `memcpy` per event, no allocation in steady state); an event raised while the line is being
//! written (an output that logs) gets a fresh buffer. The JSON layer writes each line with one
//! `write_all`, so an output gets whole lines.

use std::cell::{Cell, RefCell};
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
    /// The metadata of the event being rendered, while its line may go straight to the only
    /// output.
    static DIRECT: Cell<Option<&'static Metadata<'static>>> = const { Cell::new(None) };
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

/// The outputs, shared by [`Fanout`] and its JSON layer's writer.
struct Outputs {
    sinks: Vec<Box<dyn Sink>>,
    errors: Arc<SinkErrors>,
}

impl Outputs {
    fn write(&self, meta: &Metadata<'_>, line: &[u8]) {
        for (i, sink) in self.sinks.iter().enumerate() {
            if let Err(e) = sink.write_line(meta, line) {
                self.errors.record(i, &e);
            }
        }
    }
}

/// The `MakeWriter` of the wrapped JSON layer: a writer to the only output when [`DIRECT`]
/// holds the metadata the line is written for, else to this thread's tap.
#[derive(Clone)]
pub(super) struct Tap(Arc<Outputs>);

/// The writer handed out by [`Tap`].
pub(super) struct TapWriter<'a> {
    outputs: &'a Outputs,
    /// The line's metadata, when the line goes straight to the only output.
    direct: Option<&'static Metadata<'static>>,
}

impl Write for TapWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        if let (Some(meta), [sink]) = (self.direct, self.outputs.sinks.as_slice()) {
            if let Err(e) = sink.write_line(meta, buf) {
                self.outputs.errors.record(0, &e);
            }
            return Ok(());
        }
        TAP.try_with(|t| match t.try_borrow_mut() {
            Ok(mut v) => {
                v.extend_from_slice(buf);
                Ok(())
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
    type Writer = TapWriter<'a>;

    fn make_writer(&'a self) -> TapWriter<'a> {
        TapWriter {
            outputs: &self.0,
            direct: None,
        }
    }

    #[inline]
    fn make_writer_for(&'a self, meta: &Metadata<'_>) -> TapWriter<'a> {
        // The event's own metadata, not one built for a bridged `log` record.
        let direct = DIRECT
            .try_with(Cell::get)
            .ok()
            .flatten()
            .filter(|d| std::ptr::eq(*d as *const Metadata<'_>, meta));
        TapWriter {
            outputs: &self.0,
            direct,
        }
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
    outputs: Arc<Outputs>,
}

impl Fanout {
    pub(super) fn new(json: JsonLayer, sinks: Vec<Box<dyn Sink>>) -> Fanout {
        let errors = Arc::new(SinkErrors::new(sinks.len()));
        let outputs = Arc::new(Outputs { sinks, errors });
        Fanout {
            json: json.with_writer(Tap(Arc::clone(&outputs))),
            outputs,
        }
    }

    pub(super) fn errors(&self) -> Arc<SinkErrors> {
        Arc::clone(&self.outputs.errors)
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
        // One output: a line written for the event's own metadata goes straight to it (see
        // `Tap`); a bridged `log` record's line, or every line with several outputs, to the tap.
        let direct = (self.outputs.sinks.len() == 1).then(|| event.metadata());
        let previous = DIRECT.try_with(|d| d.replace(direct)).ok().flatten();
        self.json.on_event(event, ctx);
        let _ = DIRECT.try_with(|d| d.set(previous));
        // The tap is empty between events (an event raised while a line is rendered or
        // written drains its own line): nothing in it, nothing went to it.
        let tapped = TAP
            .try_with(|t| t.try_borrow().map_or(true, |v| !v.is_empty()))
            .unwrap_or(false);
        if !tapped {
            return;
        }
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
            self.outputs.write(meta, &line);
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
