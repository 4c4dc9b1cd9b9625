//! The task model's floor, [`TaskModelFloor`]: the task floor ([`MinimalTasks`]) plus the least
//! code doing the work taskwire's task model requires beyond it, so that the lifecycle's cost can
//! be split into what the model costs and what taskwire's own code costs above that.
//!
//! On top of the task floor's W3C ids, thread stack, just-created slot and times, it does what
//! the task model's other requirements ask of every span, each the cheapest way this file could
//! find:
//!
//! - **outcomes** (design: a task succeeds or fails): an ERROR event inside a task counts, its
//!   message becomes the failure reason, a failed task counts in its parent, and the record says
//!   `succeeded` or `failed` with the counters when not zero;
//! - **control fields** (`task.name`, `otel.name`, `outcome`): a call site that declares one has
//!   its values read at creation; the answer per call site is kept in a per-thread table;
//! - **`tracestate`** (W3C propagation): inherited from the parent and carried by the stack's
//!   entries so that an outgoing request can send it;
//! - **re-entries** (the registry's rule: a span entered again is not current again) and **two
//!   subscribers on one thread** (their registries hand out the same ids): the stack's entries
//!   carry a re-entry flag and the layer's tag;
//! - **the default record policy** (issue 14): a quick task that succeeded under a local parent
//!   writes no `task.end` of its own but is summarised by name in its parent's (count, total
//!   and longest time), the summary waiting beside the parent's stack entry.
//!
//! With a queue ([`TaskModelFloor::exporting`]) it is also the export floor's work on top of the
//! model: each sampled span's fields kept at creation and every finished task copied into the
//! export floor's queue ([`FloorQueue`]) at close, beside the records the policy writes.
//!
//! [`MinimalTasks`]: super::floors::MinimalTasks

use std::cell::{Cell, RefCell};
use std::sync::Arc;

use super::floors::{parent_of, recycle_fields, spare_fields, Finished, FloorFields, FloorQueue};
use taskwire_core::task_record::children::{self, Children};
use taskwire_core::{clock, SpanId, TraceId};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_core::span::{Attributes, Id};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// Tasks that took at least this long write their own record (taskwire's default, 100 ms).
const SLOW_NANOS: u64 = 100_000_000;

/// The fields the model reads from a span rather than keeping as data.
const CONTROL: [&str; 3] = ["task.name", "otel.name", "outcome"];

/// A task's state: ids, lineage, times, outcome and the children summarised in it.
struct ModelData {
    trace: TraceId,
    span: SpanId,
    parent: Option<SpanId>,
    sampled: bool,
    tracestate: Option<Arc<str>>,
    created: u64,
    busy: u64,
    /// `task.name` or `otel.name`, when the call site declares one.
    name: Option<Box<str>>,
    /// `outcome = "failed"` was recorded.
    declared_failed: bool,
    errors: u32,
    failed_children: u32,
    failure: Option<Box<str>>,
    children: Option<Box<Children>>,
    /// The span's fields, when exporting.
    fields: Option<Box<FloorFields>>,
}

/// What entering a task needs, and what the stack keeps while it is entered.
struct Entry {
    raw: u64,
    tag: u64,
    trace: TraceId,
    span: SpanId,
    sampled: bool,
    tracestate: Option<Arc<str>>,
    reentry: bool,
    at: u64,
    /// Children summarised while this entry was on the stack.
    children: Option<Box<Children>>,
}

/// The just-created slot: what entering the span created last needs.
#[derive(Clone, Copy)]
struct Fresh {
    raw: u64,
    tag: u64,
    trace: TraceId,
    span: SpanId,
    sampled: bool,
}

thread_local! {
    static STACK: RefCell<Vec<Entry>> = const { RefCell::new(Vec::new()) };
    static JUST_CREATED: Cell<Option<Fresh>> = const { Cell::new(None) };
    /// Per call site (by metadata address), whether it declares a control field.
    static DECLARES: Cell<[(usize, bool); 16]> = const { Cell::new([(0, false); 16]) };
}

/// The task model's floor; every root is sampled.
pub(crate) struct TaskModelFloor {
    tag: u64,
    export: Option<Arc<FloorQueue>>,
}

impl TaskModelFloor {
    pub(crate) fn new() -> Self {
        TaskModelFloor {
            tag: taskwire_core::ids::next_id().get(),
            export: None,
        }
    }

    /// The same, also copying every finished sampled task into `queue`.
    pub(crate) fn exporting(queue: Arc<FloorQueue>) -> Self {
        TaskModelFloor {
            export: Some(queue),
            ..TaskModelFloor::new()
        }
    }
}

/// Whether call site `meta` declares a control field, from the per-thread table.
fn declares_control(meta: &'static tracing::Metadata<'static>) -> bool {
    let key = meta as *const _ as usize;
    let slot = (key >> 4) & 15;
    DECLARES.with(|t| {
        let mut table = t.get();
        if table[slot].0 == key {
            return table[slot].1;
        }
        let declares = CONTROL.iter().any(|c| meta.fields().field(c).is_some());
        table[slot] = (key, declares);
        t.set(table);
        declares
    })
}

/// Reads the control fields' values.
#[derive(Default)]
struct ControlVisit {
    name: Option<Box<str>>,
    failed: bool,
}

impl Visit for ControlVisit {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "task.name" | "otel.name" => self.name = Some(value.into()),
            "outcome" => self.failed = value == "failed",
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if matches!(field.name(), "task.name" | "otel.name") {
            self.name = Some(format!("{value:?}").into());
        }
    }
}

/// The message of an ERROR event, the task's failure reason.
struct MessageVisit(Option<String>);

impl Visit for MessageVisit {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = Some(format!("{value:?}"));
        }
    }
}

impl TaskModelFloor {
    /// The parent's (trace, span, sampled, tracestate): from the top of this thread's stack when
    /// this layer pushed it and it is the parent, else from the parent's data.
    fn lineage<S>(
        &self,
        attrs: &Attributes<'_>,
        ctx: &Context<'_, S>,
    ) -> Option<(TraceId, SpanId, bool, Option<Arc<str>>)>
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let parent = parent_of(attrs, ctx)?;
        let raw = parent.into_u64();
        let top = STACK.with_borrow(|s| {
            s.last()
                .filter(|e| e.raw == raw && e.tag == self.tag)
                .map(|e| (e.trace, e.span, e.sampled, e.tracestate.clone()))
        });
        if top.is_some() {
            return top;
        }
        let span = ctx.span(&parent)?;
        let ext = span.extensions();
        let d = ext.get::<ModelData>()?;
        Some((d.trace, d.span, d.sampled, d.tracestate.clone()))
    }
}

impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for TaskModelFloor {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let (trace, parent, sampled, tracestate) = match self.lineage(attrs, &ctx) {
            Some((trace, span, sampled, state)) => (trace, Some(span), sampled, state),
            None => (TraceId::random(), None, true, None),
        };
        let mut control = ControlVisit::default();
        if declares_control(attrs.metadata()) {
            attrs.record(&mut control);
        }
        let Some(span) = ctx.span(id) else { return };
        let own = SpanId::random();
        let fields = (sampled && self.export.is_some()).then(|| {
            let mut f = spare_fields();
            attrs.record(&mut *f);
            f
        });
        let fresh = tracestate.is_none().then_some(Fresh {
            raw: id.into_u64(),
            tag: self.tag,
            trace,
            span: own,
            sampled,
        });
        span.extensions_mut().insert(ModelData {
            trace,
            span: own,
            parent,
            sampled,
            tracestate,
            created: if sampled { clock::now() } else { 0 },
            busy: 0,
            name: control.name,
            declared_failed: control.failed,
            errors: 0,
            failed_children: 0,
            failure: None,
            children: None,
            fields,
        });
        JUST_CREATED.set(fresh);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        let raw = id.into_u64();
        let (trace, span, sampled, tracestate) = match JUST_CREATED.take() {
            Some(f) if f.raw == raw && f.tag == self.tag => (f.trace, f.span, f.sampled, None),
            _ => {
                let Some(span) = ctx.span(id) else { return };
                let ext = span.extensions();
                let Some(d) = ext.get::<ModelData>() else {
                    return;
                };
                (d.trace, d.span, d.sampled, d.tracestate.clone())
            }
        };
        STACK.with_borrow_mut(|s| {
            let reentry = s.iter().any(|e| e.raw == raw && e.tag == self.tag);
            let at = if sampled && !reentry { clock::now() } else { 0 };
            s.push(Entry {
                raw,
                tag: self.tag,
                trace,
                span,
                sampled,
                tracestate,
                reentry,
                at,
                children: None,
            });
        });
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        let raw = id.into_u64();
        let popped = STACK.with_borrow_mut(|s| {
            let pos = if s.last().is_some_and(|e| e.raw == raw && e.tag == self.tag) {
                s.len() - 1
            } else {
                s.iter().rposition(|e| e.raw == raw && e.tag == self.tag)?
            };
            let e = s.remove(pos);
            let counted = e.sampled && !e.reentry;
            (counted || e.children.is_some()).then_some((counted.then_some(e.at), e.children))
        });
        let Some((entered, summary)) = popped else {
            return;
        };
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        let Some(d) = ext.get_mut::<ModelData>() else {
            return;
        };
        if let Some(at) = entered {
            d.busy += clock::now().saturating_sub(at);
        }
        if let Some(s) = summary {
            match &mut d.children {
                Some(c) => {
                    c.merge(&s);
                    children::recycle(s);
                }
                None => d.children = Some(s),
            }
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if *event.metadata().level() != Level::ERROR {
            return;
        }
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let mut ext = span.extensions_mut();
        if let Some(d) = ext.get_mut::<ModelData>() {
            d.errors = d.errors.saturating_add(1);
            if d.failure.is_none() {
                let mut m = MessageVisit(None);
                event.record(&mut m);
                d.failure = m.0.map(String::into_boxed_str);
            }
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let mut ext = span.extensions_mut();
        let Some(d) = ext.get_mut::<ModelData>() else {
            return;
        };
        if !d.sampled {
            return;
        }
        let failed = d.declared_failed || d.errors > 0 || d.failed_children > 0;
        let end = clock::now();
        let wall = end.saturating_sub(d.created);
        if let (Some(queue), Some(fields)) = (&self.export, d.fields.take()) {
            let ids = (d.trace, d.span, d.parent);
            let task = Finished::new(ids, span.metadata(), (d.created, end, d.busy));
            queue.push(task, &fields);
            recycle_fields(fields);
        }
        let summary = d.children.take();
        let parent = d.parent;
        if !failed && wall < SLOW_NANOS {
            if let Some(parent) = parent {
                drop(ext);
                summarise(self.tag, &span, parent, wall / 1_000, summary);
                return;
            }
        }
        let (errors, failed_children) = (d.errors, d.failed_children);
        let failure = d.failure.take();
        let name = d.name.take();
        let busy_us = d.busy / 1_000;
        drop(ext);
        if failed {
            if let Some(p) = span.parent() {
                if let Some(pd) = p.extensions_mut().get_mut::<ModelData>() {
                    pd.failed_children = pd.failed_children.saturating_add(1);
                }
            }
        }
        let count = summary.as_deref().map(Children::count);
        let groups = summary
            .as_deref()
            .map(|c| tracing::field::display(c.display_once()));
        tracing::event!(
            target: "taskwire::tasks",
            parent: id,
            Level::INFO,
            task.name = name.as_deref().unwrap_or(span.name()),
            task.target = span.metadata().target(),
            task.outcome = if failed { "failed" } else { "succeeded" },
            task.duration_us = wall / 1_000,
            task.busy_us = busy_us,
            task.errors = (errors > 0).then_some(errors),
            task.failed_children = (failed_children > 0).then_some(failed_children),
            task.failure = failure.as_deref(),
            task.children = count,
            task.children_summary = groups,
            "task.end"
        );
        drop(groups);
        if let Some(s) = summary {
            children::recycle(s);
        }
    }
}

/// Summarises a finished task in its parent (own id `parent`): beside the parent's entry when
/// this layer entered it on this thread, else in the parent's data.
fn summarise<S>(
    tag: u64,
    span: &tracing_subscriber::registry::SpanRef<'_, S>,
    parent: SpanId,
    duration_us: u64,
    summary: Option<Box<Children>>,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let name = span.name();
    let note = |c: &mut Children| {
        c.note(name, duration_us);
        if let Some(s) = &summary {
            c.merge(s);
        }
    };
    let beside_entry = STACK.with_borrow_mut(|s| {
        let e = s.iter_mut().find(|e| e.span == parent && e.tag == tag)?;
        note(e.children.get_or_insert_with(children::boxed));
        Some(())
    });
    if beside_entry.is_none() {
        if let Some(p) = span.parent() {
            if let Some(pd) = p.extensions_mut().get_mut::<ModelData>() {
                note(pd.children.get_or_insert_with(children::boxed));
            }
        }
    }
    if let Some(s) = summary {
        children::recycle(s);
    }
}
