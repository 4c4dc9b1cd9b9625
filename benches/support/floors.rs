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

use std::cell::{Cell, RefCell};
use std::hint::black_box;

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

impl MinimalTasks {
    /// The parent task's (trace id, span id, sampled): from this thread's stack when the parent
    /// is the task entered last here (the usual case), else from the parent's extensions.
    fn lineage<S>(attrs: &Attributes<'_>, ctx: &Context<'_, S>) -> Option<(TraceId, SpanId, bool)>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let parent = if attrs.is_contextual() {
            ctx.current_span().id()?.clone()
        } else {
            attrs.parent()?.clone()
        };
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
        let (trace, parent, sampled) = match Self::lineage(attrs, &ctx) {
            Some((trace, span, sampled)) => (trace, Some(span), sampled),
            None => (TraceId::random(), None, self.sampled),
        };
        let Some(span) = ctx.span(id) else { return };
        let own = SpanId::random();
        span.extensions_mut().insert(MinData {
            trace,
            span: own,
            parent,
            sampled,
            created: if sampled { clock::now() } else { 0 },
            busy: 0,
        });
        JUST_CREATED.set(Some(Entry {
            raw: id.into_u64(),
            trace,
            span: own,
            sampled,
        }));
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
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

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
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
