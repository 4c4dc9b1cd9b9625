//! The request floor: the least code that does the work taskwire's full stack (json + tasks +
//! tickets + metrics) must do for `benches/request.rs`'s workload, written as one layer with
//! none of taskwire's features (no redaction, no sampling, no outcome, no per-layer filters, no
//! grouping, no configuration). It writes the same lines taskwire writes: every event, and one
//! `task.end` line per closed span (or per closed root span only: the volume a future
//! `task.end` of roots only would write), each with the time, level, target, message, the event's
//! fields, the fields of its spans (flattened), the trace and span ids and the service (the
//! JSON layer's default keys); values formatted by `serde_json` (`itoa` for integers).
//!
//! Per span: one extension (ids, times, and the span's fields with its ancestors' already
//! rendered, in an inline buffer: no allocation besides the extension's box); per event: one
//! registry lookup and the line rendered into a reused per-thread buffer; per event at WARN or
//! above: one push of a small record to a bounded queue (an uncontended lock) that a thread
//! drains every 20 ms without being woken (the tickets writer's share of the caller's work); per span end: one histogram record through a
//! handle cached per call site.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use taskwire_core::{clock, time, SpanId, TraceId};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_core::span::{Attributes, Id};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Room in the tickets queue.
const QUEUE: usize = 4096;

/// Room for a span's fields and its ancestors', rendered.
const FIELDS: usize = 480;

/// The floor layer, writing to `out`; with `every_task_end` false, only root spans get a
/// `task.end` line.
pub(crate) fn layer<W>(service: &'static str, out: W, every_task_end: bool) -> RequestFloor<W> {
    let tickets = Arc::new(Mutex::new(VecDeque::with_capacity(QUEUE)));
    let queue = Arc::downgrade(&tickets);
    std::thread::spawn(move || {
        // The writer's side: drains the queue now and then, as a writer thread batching
        // into a store would; the caller never wakes it.
        while let Some(q) = queue.upgrade() {
            let batch: Vec<Ticket> = q
                .lock()
                .map(|mut q| q.drain(..).collect())
                .unwrap_or_default();
            drop(q);
            std::hint::black_box(batch);
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    });
    RequestFloor {
        service,
        out,
        tickets,
        every_task_end,
    }
}

/// What the caller hands the tickets thread per error event.
#[allow(dead_code)] // read only by `black_box`
struct Ticket {
    callsite: usize,
    level: Level,
    at: u64,
}

pub(crate) struct RequestFloor<W> {
    service: &'static str,
    out: W,
    tickets: Arc<Mutex<VecDeque<Ticket>>>,
    every_task_end: bool,
}

/// A span's state: ids, times, and its fields with its ancestors' (`"k":v,` each).
struct FloorSpan {
    trace: TraceId,
    span: SpanId,
    parent: Option<SpanId>,
    created: u64,
    busy: u64,
    fields: [u8; FIELDS],
    len: usize,
}

thread_local! {
    static LINE: RefCell<Vec<u8>> = RefCell::new(Vec::with_capacity(1024));
    /// Entered spans of this thread and when they were entered.
    static ENTERED: RefCell<Vec<(u64, u64)>> = const { RefCell::new(Vec::new()) };
    /// Histogram handles by span call site.
    static HISTOGRAMS: RefCell<Vec<(usize, metrics::Histogram)>> = const { RefCell::new(Vec::new()) };
}

/// Writes `"name":value,` for each field into a byte buffer.
struct Fields<'a, B>(&'a mut B);

trait Buf {
    fn put(&mut self, b: &[u8]);
}

impl Buf for Vec<u8> {
    fn put(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
}

/// An inline buffer that drops what does not fit.
struct Inline<'a> {
    buf: &'a mut [u8; FIELDS],
    len: &'a mut usize,
}

impl Buf for Inline<'_> {
    fn put(&mut self, b: &[u8]) {
        if let Some(dst) = self.buf.get_mut(*self.len..*self.len + b.len()) {
            dst.copy_from_slice(b);
            *self.len += b.len();
        }
    }
}

impl<B: Buf> Fields<'_, B> {
    fn key(&mut self, f: &Field) {
        self.0.put(b"\"");
        self.0.put(f.name().as_bytes());
        self.0.put(b"\":");
    }

    fn json(&mut self, f: &Field, v: impl serde::Serialize) {
        let mut tmp = [0_u8; 256];
        let mut w = &mut tmp[..];
        if serde_json::to_writer(&mut w, &v).is_ok() {
            let left = w.len();
            self.key(f);
            self.0.put(&tmp[..256 - left]);
            self.0.put(b",");
        }
    }
}

impl<B: Buf> Visit for Fields<'_, B> {
    fn record_i64(&mut self, f: &Field, v: i64) {
        self.key(f);
        self.0.put(itoa::Buffer::new().format(v).as_bytes());
        self.0.put(b",");
    }

    fn record_u64(&mut self, f: &Field, v: u64) {
        self.key(f);
        self.0.put(itoa::Buffer::new().format(v).as_bytes());
        self.0.put(b",");
    }

    fn record_f64(&mut self, f: &Field, v: f64) {
        self.json(f, v);
    }

    fn record_bool(&mut self, f: &Field, v: bool) {
        self.key(f);
        self.0.put(if v { b"true" } else { b"false" });
        self.0.put(b",");
    }

    fn record_str(&mut self, f: &Field, v: &str) {
        self.json(f, v);
    }

    fn record_error(&mut self, f: &Field, v: &(dyn std::error::Error + 'static)) {
        // `{"message":"..","source":[..]}`, as taskwire writes an error value.
        let mut tmp = [0_u8; 192];
        let mut w = &mut tmp[..];
        if write!(w, "{v}").is_ok() {
            let left = w.len();
            if let Ok(s) = std::str::from_utf8(&tmp[..192 - left]) {
                self.key(f);
                self.0.put(b"{\"message\":");
                let mut q = [0_u8; 256];
                let mut qw = &mut q[..];
                if serde_json::to_writer(&mut qw, s).is_ok() {
                    let left = qw.len();
                    self.0.put(&q[..256 - left]);
                }
                self.0.put(b",\"source\":[]},");
            }
        }
    }

    fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
        // Formatted into a stack buffer, then escaped as a JSON string.
        let mut tmp = [0_u8; 192];
        let mut w = &mut tmp[..];
        if write!(w, "{v:?}").is_ok() {
            let left = w.len();
            if let Ok(s) = std::str::from_utf8(&tmp[..192 - left]) {
                self.json(f, s);
            }
        }
    }
}

impl<W> RequestFloor<W>
where
    W: for<'w> MakeWriter<'w> + 'static,
{
    /// Everything after the fields: ids and service (the default record); then writes.
    fn finish(&self, line: &mut Vec<u8>, span: Option<&FloorSpan>) {
        if let Some(d) = span {
            line.extend_from_slice(b"\"trace_id\":\"");
            line.extend_from_slice(&d.trace.to_hex());
            line.extend_from_slice(b"\",\"span_id\":\"");
            line.extend_from_slice(&d.span.to_hex());
            if let Some(p) = d.parent {
                line.extend_from_slice(b"\",\"parent_span_id\":\"");
                line.extend_from_slice(&p.to_hex());
            }
            line.extend_from_slice(b"\",");
        }
        line.extend_from_slice(b"\"service\":");
        let _ = serde_json::to_writer(&mut *line, self.service);
        line.extend_from_slice(b"}\n");
        let _ = self.out.make_writer().write_all(line);
    }

    /// Starts a line: time, level, target.
    fn start(line: &mut Vec<u8>, level: &Level, target: &str) {
        line.clear();
        line.extend_from_slice(b"{\"ts\":\"");
        time::write_rfc3339(line, SystemTime::now());
        line.extend_from_slice(b"\",\"level\":\"");
        line.extend_from_slice(level.as_str().as_bytes());
        line.extend_from_slice(b"\",\"target\":");
        let _ = serde_json::to_writer(&mut *line, target);
        line.push(b',');
    }
}

impl<S, W> Layer<S> for RequestFloor<W>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    W: for<'w> MakeWriter<'w> + 'static,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut data = FloorSpan {
            trace: TraceId::INVALID,
            span: SpanId::random(),
            parent: None,
            created: clock::now(),
            busy: 0,
            fields: [0; FIELDS],
            len: 0,
        };
        match span.parent() {
            Some(p) => {
                if let Some(pd) = p.extensions().get::<FloorSpan>() {
                    data.trace = pd.trace;
                    data.parent = Some(pd.span);
                    data.fields[..pd.len].copy_from_slice(&pd.fields[..pd.len]);
                    data.len = pd.len;
                }
            }
            None => data.trace = TraceId::random(),
        }
        let FloorSpan { fields, len, .. } = &mut data;
        attrs.record(&mut Fields(&mut Inline { buf: fields, len }));
        span.extensions_mut().insert(data);
    }

    fn on_enter(&self, id: &Id, _ctx: Context<'_, S>) {
        ENTERED.with_borrow_mut(|e| e.push((id.into_u64(), clock::now())));
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        let raw = id.into_u64();
        let Some(at) = ENTERED.with_borrow_mut(|e| match e.last() {
            Some(&(r, at)) if r == raw => {
                e.pop();
                Some(at)
            }
            _ => None,
        }) else {
            return;
        };
        if let Some(span) = ctx.span(id) {
            if let Some(d) = span.extensions_mut().get_mut::<FloorSpan>() {
                d.busy += clock::now().saturating_sub(at);
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        if *meta.level() <= Level::WARN {
            if let Ok(mut q) = self.tickets.lock() {
                if q.len() < QUEUE {
                    q.push_back(Ticket {
                        callsite: meta as *const _ as usize,
                        level: *meta.level(),
                        at: clock::now(),
                    });
                }
            }
        }
        LINE.with_borrow_mut(|line| {
            Self::start(line, meta.level(), meta.target());
            let mut message = MessageFirst(line);
            event.record(&mut message);
            let span = ctx.event_span(event);
            let ext = span.as_ref().map(|s| s.extensions());
            let data = ext.as_ref().and_then(|e| e.get::<FloorSpan>());
            if let Some(d) = data {
                line.extend_from_slice(&d.fields[..d.len]);
            }
            self.finish(line, data);
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let ext = span.extensions();
        let Some(d) = ext.get::<FloorSpan>() else {
            return;
        };
        let meta = span.metadata();
        let wall = clock::now().saturating_sub(d.created);
        let key = meta as *const _ as usize;
        HISTOGRAMS.with_borrow_mut(|h| match h.iter().find(|(k, _)| *k == key) {
            Some((_, hist)) => hist.record(wall as f64 / 1e9),
            None => {
                let hist =
                    metrics::histogram!("taskwire_task_duration_seconds", "task" => meta.name());
                hist.record(wall as f64 / 1e9);
                h.push((key, hist));
            }
        });
        if !self.every_task_end && d.parent.is_some() {
            return;
        }
        LINE.with_borrow_mut(|line| {
            Self::start(line, &Level::INFO, "taskwire::tasks");
            line.extend_from_slice(b"\"msg\":\"task.end\",\"task.name\":");
            let _ = serde_json::to_writer(&mut *line, meta.name());
            line.extend_from_slice(b",\"task.target\":");
            let _ = serde_json::to_writer(&mut *line, meta.target());
            line.extend_from_slice(b",\"task.outcome\":\"succeeded\",\"task.duration_us\":");
            line.extend_from_slice(itoa::Buffer::new().format(wall / 1_000).as_bytes());
            line.extend_from_slice(b",\"task.busy_us\":");
            line.extend_from_slice(itoa::Buffer::new().format(d.busy / 1_000).as_bytes());
            // no errors, failed children or remote parent: the default record leaves them out
            line.push(b',');
            line.extend_from_slice(&d.fields[..d.len]);
            self.finish(line, Some(d));
        });
    }
}

/// The event's fields, `message` written as `msg`.
struct MessageFirst<'a>(&'a mut Vec<u8>);

impl Visit for MessageFirst<'_> {
    fn record_debug(&mut self, f: &Field, v: &dyn std::fmt::Debug) {
        if f.name() == "message" {
            let mut tmp = [0_u8; 192];
            let mut w = &mut tmp[..];
            if write!(w, "{v:?}").is_ok() {
                let left = w.len();
                if let Ok(s) = std::str::from_utf8(&tmp[..192 - left]) {
                    self.0.extend_from_slice(b"\"msg\":");
                    let _ = serde_json::to_writer(&mut *self.0, s);
                    self.0.push(b',');
                }
            }
        } else {
            Fields(self.0).record_debug(f, v);
        }
    }

    fn record_i64(&mut self, f: &Field, v: i64) {
        Fields(self.0).record_i64(f, v);
    }

    fn record_u64(&mut self, f: &Field, v: u64) {
        Fields(self.0).record_u64(f, v);
    }

    fn record_f64(&mut self, f: &Field, v: f64) {
        Fields(self.0).record_f64(f, v);
    }

    fn record_bool(&mut self, f: &Field, v: bool) {
        Fields(self.0).record_bool(f, v);
    }

    fn record_str(&mut self, f: &Field, v: &str) {
        Fields(self.0).record_str(f, v);
    }

    fn record_error(&mut self, f: &Field, v: &(dyn std::error::Error + 'static)) {
        Fields(self.0).record_error(f, v);
    }
}
