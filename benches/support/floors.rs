//! The workload of the tasks benchmarks and the floors they compare against, shared by
//! `benches/tasks.rs` and the instruction-counting example of taskwire-otel
//! (`examples/lifecycle_instructions.rs`).
//!
//! - [`lifecycle`]: two nested spans of three fields, created, entered, exited and closed.
//! - [`NoopExporter`]: an OpenTelemetry span exporter that takes each batch and drops it.
//! - [`IdLayer`]: the floor, a layer that only stores a u64 id in each span's
//!   extensions.
//! - [`MinimalTasks`]: the least a hand-written layer can do and still give spans what a task
//!   needs (W3C ids with the trace id inherited from the parent, the task's context made current
//!   on enter for propagation; when sampled, wall and busy time and one `task.end` event at
//!   close, visible to other layers), with none of taskwire's features (no outcome, no fields,
//!   no sampler, no per-layer filter support, no other taskwire layer to share with).

use std::cell::RefCell;
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
    entered: u64,
}

thread_local! {
    /// The entered tasks of this thread: (registry id, trace id, span id, sampled).
    static STACK: RefCell<Vec<(u64, TraceId, SpanId, bool)>> = const { RefCell::new(Vec::new()) };
}

/// The minimal task layer; `sampled` decides every root.
pub(crate) struct MinimalTasks {
    pub(crate) sampled: bool,
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for MinimalTasks {
    fn on_new_span(&self, _attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let lineage = span.parent().and_then(|p| {
            p.extensions()
                .get::<MinData>()
                .map(|d| (d.trace, Some(d.span), d.sampled))
        });
        let (trace, parent, sampled) =
            lineage.unwrap_or_else(|| (TraceId::random(), None, self.sampled));
        span.extensions_mut().insert(MinData {
            trace,
            span: SpanId::random(),
            parent,
            sampled,
            created: if sampled { clock::now() } else { 0 },
            busy: 0,
            entered: 0,
        });
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        let Some(d) = ext.get_mut::<MinData>() else {
            return;
        };
        if d.sampled {
            d.entered = clock::now();
        }
        let entry = (id.into_u64(), d.trace, d.span, d.sampled);
        drop(ext);
        STACK.with_borrow_mut(|s| s.push(entry));
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        let raw = id.into_u64();
        let sampled = STACK.with_borrow_mut(|s| match s.last() {
            Some(e) if e.0 == raw => s.pop().is_some_and(|e| e.3),
            _ => false,
        });
        if !sampled {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(d) = ext.get_mut::<MinData>() {
            d.busy += clock::now().saturating_sub(d.entered);
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
