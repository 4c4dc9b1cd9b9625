//! The workload of the tasks benchmarks and the floors they compare against, shared by
//! `benches/tasks.rs` and the instruction-counting example of taskwire-otel
//! (`examples/lifecycle_instructions.rs`).
//!
//! - [`lifecycle`]: two nested spans of three fields, created, entered, exited and closed.
//! - [`NoopExporter`]: an OpenTelemetry span exporter that takes each batch and drops it.
//! - [`IdLayer`]: the floor, a layer that only stores a u64 id in each span's
//!   extensions.
//! - [`MinimalTasks`], the task floor: the least a hand-written layer can do and still give
//!   spans what a task needs: W3C ids, the trace id inherited from the parent, read from the
//!   layer's own thread stack when the parent is the task entered last on this thread; a "just
//!   created" slot, so entering a span right after creating it needs no registry lookup; the
//!   task's context made current on enter (the top of that stack) for propagation; when
//!   sampled, wall and busy time and one `task.end` event at close, visible to other layers.
//!   None of taskwire's features (no outcome, no fields, no sampler, no per-layer filter
//!   support, no other taskwire layer to share with).
//! - [`MinimalExport`], the export floor: the task floor without its `task.end` event, which
//!   also keeps each sampled span's fields (in buffers reused per thread) and at close copies
//!   the finished task (ids, call site, times, fields) into a bounded queue that another thread
//!   empties ([`FloorQueue`]): the least a layer exporting tasks must do on the caller's thread.
//! - [`CountingExporter`]: [`NoopExporter`] that counts the spans it is handed.

use std::cell::{Cell, RefCell};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::trace::{SpanData, SpanExporter};

use taskwire_core::{clock, SpanId, TraceId};
use tracing::Subscriber;
use tracing_core::span::{Attributes, Id};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// An exporter that takes each batch and drops it.
#[derive(Debug)]
pub(crate) struct NoopExporter;

impl SpanExporter for NoopExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        black_box(batch);
        async { Ok(()) }
    }
}

/// [`NoopExporter`] that counts the spans it is handed: what an SDK batch processor dropped
/// (it does not report it) is the difference with the spans created.
#[derive(Debug, Clone, Default)]
pub(crate) struct CountingExporter {
    pub(crate) spans: Arc<AtomicU64>,
}

impl SpanExporter for CountingExporter {
    fn export(
        &self,
        batch: Vec<SpanData>,
    ) -> impl std::future::Future<Output = OTelSdkResult> + Send {
        self.spans.fetch_add(batch.len() as u64, Ordering::Relaxed);
        black_box(batch);
        async { Ok(()) }
    }
}

/// One span lifecycle of the workload: two nested spans of three fields each.
pub(crate) fn lifecycle() {
    let outer = tracing::info_span!(
        "outer",
        user_id = 42_u64,
        route = "/checkout",
        retry = false
    );
    let _o = outer.enter();
    let inner = tracing::info_span!("inner", items = 3_i64, amount = 19.99_f64, currency = "EUR");
    let _i = inner.enter();
    black_box(&inner);
}

/// The floor: a layer that does the least any id-assigning layer must do.
pub(crate) struct IdLayer;

struct SpanIdExt(#[allow(dead_code)] u64);

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for IdLayer {
    fn on_new_span(&self, _attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanIdExt(id.into_u64()));
        }
    }
}

/// A task's ids, sampled flag and times, in nanoseconds of taskwire's clock.
struct MinData {
    trace: TraceId,
    span: SpanId,
    parent: Option<SpanId>,
    sampled: bool,
    created: u64,
    busy: u64,
    /// The span's fields, kept by [`MinimalExport`] only (boxed, so that the task floor's
    /// data stays as small as it was).
    fields: Option<Box<FloorFields>>,
}

/// What entering a task needs: its registry id, trace id, span id and sampled flag.
#[derive(Clone, Copy)]
struct Entry {
    raw: u64,
    trace: TraceId,
    span: SpanId,
    sampled: bool,
}

thread_local! {
    /// The entered tasks of this thread, each with the clock when it was entered: the current
    /// context is the top.
    static STACK: RefCell<Vec<(Entry, u64)>> = const { RefCell::new(Vec::new()) };
    /// The task created last on this thread, until it is entered: entering it right after its
    /// creation (`info_span!(..).entered()`, `#[instrument]`) needs no registry lookup.
    static JUST_CREATED: Cell<Option<Entry>> = const { Cell::new(None) };
}

/// The minimal task layer; `sampled` decides every root.
pub(crate) struct MinimalTasks {
    pub(crate) sampled: bool,
}

/// The registry id of a new span's parent: the current span, or the explicit parent.
#[inline]
pub(crate) fn parent_of<S>(attrs: &Attributes<'_>, ctx: &Context<'_, S>) -> Option<Id>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if attrs.is_contextual() {
        ctx.current_span().id().cloned()
    } else {
        attrs.parent().cloned()
    }
}

impl MinimalTasks {
    /// The parent task's (trace id, span id, sampled): from this thread's stack when the parent
    /// is the task entered last here (the usual case), else from the parent's extensions.
    fn lineage<S>(attrs: &Attributes<'_>, ctx: &Context<'_, S>) -> Option<(TraceId, SpanId, bool)>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let parent = parent_of(attrs, ctx)?;
        let raw = parent.into_u64();
        let top = STACK.with_borrow(|s| s.last().map(|e| e.0).filter(|e| e.raw == raw));
        if let Some(e) = top {
            return Some((e.trace, e.span, e.sampled));
        }
        let span = ctx.span(&parent)?;
        let ext = span.extensions();
        let d = ext.get::<MinData>()?;
        Some((d.trace, d.span, d.sampled))
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for MinimalTasks {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        new_task(self.sampled, false, attrs, id, &ctx);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        enter(id, &ctx);
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        exit(id, &ctx);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let ext = span.extensions();
        let Some(d) = ext.get::<MinData>() else {
            return;
        };
        if !d.sampled {
            return;
        }
        let wall_us = clock::now().saturating_sub(d.created) / 1_000;
        let (busy_us, parent) = (d.busy / 1_000, d.parent.is_some());
        drop(ext);
        tracing::event!(
            target: "taskwire::tasks",
            parent: id,
            tracing::Level::INFO,
            task.name = span.name(),
            task.target = span.metadata().target(),
            task.outcome = "succeeded",
            task.duration_us = wall_us,
            task.busy_us = busy_us,
            task.has_parent = parent,
            "task.end"
        );
    }
}

/// Gives a new span its task: ids (the trace inherited from the parent), the creation time
/// when sampled, and with `keep_fields` its fields.
fn new_task<S>(
    sampled_root: bool,
    keep_fields: bool,
    attrs: &Attributes<'_>,
    id: &Id,
    ctx: &Context<'_, S>,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let (trace, parent, sampled) = match MinimalTasks::lineage(attrs, ctx) {
        Some((trace, span, sampled)) => (trace, Some(span), sampled),
        None => (TraceId::random(), None, sampled_root),
    };
    let Some(span) = ctx.span(id) else { return };
    let own = SpanId::random();
    let mut fields = None;
    if keep_fields && sampled {
        let mut f = spare_fields();
        attrs.record(&mut *f);
        fields = Some(f);
    }
    span.extensions_mut().insert(MinData {
        trace,
        span: own,
        parent,
        sampled,
        created: if sampled { clock::now() } else { 0 },
        busy: 0,
        fields,
    });
    JUST_CREATED.set(Some(Entry {
        raw: id.into_u64(),
        trace,
        span: own,
        sampled,
    }));
}

/// Makes the task current on this thread and, when sampled, notes when it was entered.
fn enter<S: Subscriber + for<'a> LookupSpan<'a>>(id: &Id, ctx: &Context<'_, S>) {
    let raw = id.into_u64();
    let entry = match JUST_CREATED.take() {
        Some(e) if e.raw == raw => e,
        _ => {
            let Some(span) = ctx.span(id) else { return };
            let ext = span.extensions();
            let Some(d) = ext.get::<MinData>() else {
                return;
            };
            Entry {
                raw,
                trace: d.trace,
                span: d.span,
                sampled: d.sampled,
            }
        }
    };
    let at = if entry.sampled { clock::now() } else { 0 };
    STACK.with_borrow_mut(|s| s.push((entry, at)));
}

/// Pops the task off this thread's stack and, when sampled, adds the time it was entered.
fn exit<S: Subscriber + for<'a> LookupSpan<'a>>(id: &Id, ctx: &Context<'_, S>) {
    let raw = id.into_u64();
    let entered = STACK.with_borrow_mut(|s| match s.last() {
        Some(e) if e.0.raw == raw => s.pop().filter(|e| e.0.sampled).map(|e| e.1),
        _ => None,
    });
    let Some(entered) = entered else { return };
    let Some(span) = ctx.span(id) else { return };
    let mut ext = span.extensions_mut();
    if let Some(d) = ext.get_mut::<MinData>() {
        d.busy += clock::now().saturating_sub(entered);
    }
}

/// A field value as the export floor keeps it: a string is a range of its text buffer.
#[allow(dead_code)] // the values are copied, never read
#[derive(Clone, Copy, Debug)]
pub(crate) enum FloorVal {
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
    Str(u32, u32),
}

/// A span's fields, and their strings back to back.
#[derive(Default)]
pub(crate) struct FloorFields {
    vals: Vec<(&'static str, FloorVal)>,
    text: String,
}

impl FloorFields {
    fn push_str(&mut self, name: &'static str, s: &str) {
        let start = self.text.len() as u32;
        self.text.push_str(s);
        self.vals
            .push((name, FloorVal::Str(start, self.text.len() as u32 - start)));
    }
}

impl tracing::field::Visit for FloorFields {
    fn record_i64(&mut self, f: &tracing::field::Field, v: i64) {
        self.vals.push((f.name(), FloorVal::I64(v)));
    }
    fn record_u64(&mut self, f: &tracing::field::Field, v: u64) {
        self.vals.push((f.name(), FloorVal::U64(v)));
    }
    fn record_f64(&mut self, f: &tracing::field::Field, v: f64) {
        self.vals.push((f.name(), FloorVal::F64(v)));
    }
    fn record_bool(&mut self, f: &tracing::field::Field, v: bool) {
        self.vals.push((f.name(), FloorVal::Bool(v)));
    }
    fn record_str(&mut self, f: &tracing::field::Field, v: &str) {
        self.push_str(f.name(), v);
    }
    fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
        let start = self.text.len() as u32;
        let _ = std::fmt::Write::write_fmt(&mut self.text, format_args!("{v:?}"));
        self.vals.push((
            f.name(),
            FloorVal::Str(start, self.text.len() as u32 - start),
        ));
    }
}

thread_local! {
    /// Field buffers of closed spans, for the next spans of this thread, boxed as a span's
    /// data holds them: moved in and out without a copy.
    #[allow(clippy::vec_box)]
    static SPARE: RefCell<Vec<Box<FloorFields>>> = const { RefCell::new(Vec::new()) };
}

/// A field buffer for a new span: one a closed span of this thread gave back, or a new one.
pub(crate) fn spare_fields() -> Box<FloorFields> {
    SPARE.with_borrow_mut(Vec::pop).unwrap_or_default()
}

/// Gives a closed span's field buffer back for the next spans of this thread.
pub(crate) fn recycle_fields(mut fields: Box<FloorFields>) {
    fields.vals.clear();
    fields.text.clear();
    SPARE.with_borrow_mut(|s| {
        if s.len() < 64 {
            s.push(fields);
        }
    });
}

/// What the export floor queues of a finished task besides its fields.
#[allow(dead_code)] // read by no one: the consumer only takes the batch
#[derive(Debug)]
pub(crate) struct Finished {
    pub(crate) trace: TraceId,
    pub(crate) span: SpanId,
    pub(crate) parent: Option<SpanId>,
    pub(crate) metadata: &'static tracing::Metadata<'static>,
    pub(crate) start: u64,
    pub(crate) end: u64,
    pub(crate) busy: u64,
}

impl Finished {
    /// A task with ids `(trace, span, parent)` of call site `metadata`, created at `start`,
    /// ended at `end`, entered for `busy` nanoseconds.
    pub(crate) fn new(
        (trace, span, parent): (TraceId, SpanId, Option<SpanId>),
        metadata: &'static tracing::Metadata<'static>,
        (start, end, busy): (u64, u64, u64),
    ) -> Self {
        Finished {
            trace,
            span,
            parent,
            metadata,
            start,
            end,
            busy,
        }
    }
}

/// A finished task as the export floor queues it; its fields lie in the queue's buffers.
#[allow(dead_code)] // read by no one: the consumer only takes the batch
#[derive(Debug)]
pub(crate) struct FloorSpan {
    task: Finished,
    fields: (u32, u32),
}

/// The spans queued and their fields and strings, swapped out whole by the consumer.
#[derive(Default)]
struct FloorBatch {
    spans: Vec<FloorSpan>,
    vals: Vec<(&'static str, FloorVal)>,
    text: String,
    stop: bool,
}

/// The export floor's bounded queue: the layer appends under a mutex (dropping and counting
/// when full) and wakes the consumer thread every `batch` spans; the consumer swaps the
/// buffers out and empties them.
pub(crate) struct FloorQueue {
    batch: std::sync::Mutex<FloorBatch>,
    wake: std::sync::Condvar,
    capacity: usize,
    batch_size: usize,
    /// Spans the consumer (or [`FloorQueue::drain`]) took.
    pub(crate) taken: AtomicU64,
    /// Spans dropped because the queue was full.
    pub(crate) dropped: AtomicU64,
}

impl FloorQueue {
    /// A queue of `capacity` spans and its consumer thread, woken every `batch_size` spans.
    pub(crate) fn start(capacity: usize, batch_size: usize) -> Arc<FloorQueue> {
        let q = Arc::new(FloorQueue {
            batch: Default::default(),
            wake: Default::default(),
            capacity,
            batch_size,
            taken: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
        });
        let consumer = Arc::clone(&q);
        std::thread::spawn(move || {
            let mut spare = FloorBatch::default();
            loop {
                let mut b = consumer.lock();
                while b.spans.len() < consumer.batch_size && !b.stop {
                    b = consumer.wake.wait(b).unwrap_or_else(|e| e.into_inner());
                }
                if b.stop {
                    return;
                }
                std::mem::swap(&mut *b, &mut spare);
                drop(b);
                consumer.take(&mut spare);
            }
        });
        q
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, FloorBatch> {
        self.batch.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take(&self, b: &mut FloorBatch) {
        self.taken
            .fetch_add(b.spans.len() as u64, Ordering::Relaxed);
        black_box(&*b);
        b.spans.clear();
        b.vals.clear();
        b.text.clear();
    }

    /// Takes everything queued (on the caller's thread): the benches' flush between chunks.
    /// The buffers keep their capacity, as the consumer's do.
    pub(crate) fn drain(&self) {
        let mut b = self.lock();
        self.take(&mut b);
    }

    /// Stops the consumer thread.
    pub(crate) fn stop(&self) {
        self.lock().stop = true;
        self.wake.notify_one();
    }

    /// Queues a finished task and a copy of its fields.
    pub(crate) fn push(&self, task: Finished, fields: &FloorFields) {
        let mut b = self.lock();
        if b.spans.len() >= self.capacity {
            drop(b);
            self.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let first = b.vals.len() as u32;
        let base = b.text.len() as u32;
        b.text.push_str(&fields.text);
        for &(k, v) in &fields.vals {
            let v = match v {
                FloorVal::Str(start, len) => FloorVal::Str(base + start, len),
                v => v,
            };
            b.vals.push((k, v));
        }
        b.spans.push(FloorSpan {
            task,
            fields: (first, fields.vals.len() as u32),
        });
        let wake = b.spans.len() == self.batch_size;
        drop(b);
        if wake {
            self.wake.notify_one();
        }
    }
}

/// The export floor: the task floor's ids, context and times (no `task.end` event), each
/// sampled span's fields, and at close the finished task copied into [`FloorQueue`].
pub(crate) struct MinimalExport {
    pub(crate) queue: Arc<FloorQueue>,
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for MinimalExport {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        new_task(true, true, attrs, id, &ctx);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        enter(id, &ctx);
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        exit(id, &ctx);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let mut ext = span.extensions_mut();
        let Some(d) = ext.get_mut::<MinData>() else {
            return;
        };
        if !d.sampled {
            return;
        }
        let Some(fields) = d.fields.take() else {
            return;
        };
        let ids = (d.trace, d.span, d.parent);
        let task = Finished::new(ids, span.metadata(), (d.created, clock::now(), d.busy));
        self.queue.push(task, &fields);
        recycle_fields(fields);
    }
}
