//! [`TasksLayer`]: task timing, outcomes, sampling and `task.start` / `task.end` records.

use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use taskwire_core::span::{CapturingLayer, LayerCapture, Needs, Timing};
use taskwire_core::task_record::{self, children};
use taskwire_core::{Redactor, SpanData, SpanId};
use tracing::field::{Field, Visit};
use tracing_core::dispatcher::{Dispatch, WeakDispatch};
use tracing_core::span::Id;
use tracing_core::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::recent::{Ended, RecentTasks};
use crate::records;
use crate::sampler::Sampler;

/// The target of the records the tasks layer emits (`task.start`, `task.end`).
pub const TARGET: &str = taskwire_core::task_record::TARGET;

/// Which tasks write `task.end` (and `task.start`) records. Tasks of unsampled traces write
/// none.
///
/// ```
/// use std::time::Duration;
/// use taskwire_tasks::TaskRecords;
///
/// // the default: roots, process hops, failed and slow tasks; the rest summarised
/// let _layer = taskwire_tasks::layer().with_slow_threshold(Duration::from_millis(250));
/// // every task
/// let _layer = taskwire_tasks::layer().all_tasks();
/// let _layer = taskwire_tasks::layer().with_records(TaskRecords::All);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskRecords {
    /// The tasks someone reading a trace needs one by one, the others summarised:
    ///
    /// - roots (no parent in this process);
    /// - tasks that cross a process boundary: a parent in another process (an imported
    ///   `traceparent`), or a context sent to another process (a client task that
    ///   propagated it: reqwest's and tower's client middleware, `inject_current`);
    /// - failed tasks;
    /// - tasks that took at least the slow threshold
    ///   ([`TasksLayer::with_slow_threshold`], default 100 ms);
    /// - the ancestors of all of these, so that every record's parent has a record of its
    ///   own and `taskwire tree` links every failed task and every process hop.
    ///
    /// Every other task writes no record: it is counted in the record of its nearest ancestor
    /// that writes one, as `task.children` and, by span name, `task.children_summary`
    /// (count, total and longest duration; see
    /// [`taskwire_core::task_record::children`]). `task.start` is written for roots and
    /// process hops (whether a task fails or is slow is not known when it starts).
    #[default]
    Significant,
    /// Every sampled task.
    All,
    /// Sampled tasks without a local parent (roots, and tasks imported from another process).
    Roots,
    /// Sampled tasks whose outcome is failed.
    Failed,
    /// None: tasks still get ids, outcomes and failure counts.
    Off,
}

/// The default [`TasksLayer::with_slow_threshold`].
pub const DEFAULT_SLOW_THRESHOLD: Duration = Duration::from_millis(100);

/// What the record policy makes of a task that closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Fate {
    /// It writes its `task.end` record.
    Written,
    /// It is summarised in its parent.
    Summarised,
    /// Neither (a mode without summaries, or an unsampled trace).
    Dropped,
}

/// Turns spans into tasks. Built with [`layer()`](crate::layer).
///
/// Each span gets W3C ids (shared with every taskwire layer), its wall and busy time, and an
/// outcome: failed when an ERROR event occurs directly inside it (which covers
/// `#[instrument(err)]`), when the code calls [`fail`](crate::fail), or when it records
/// `outcome = "failed"`; succeeded otherwise. A failed task does not fail its parent; the
/// parent counts failed children. When a task closes, the layer emits one `task.end` event
/// (target [`TARGET`], message `task.end`) whose parent is the task itself, so the JSON layer
/// writes it with the task's ids and fields and every other layer sees it.
///
/// Span names are static in `tracing`; a span with a `task.name` (or `otel.name`) field is
/// recorded under that name instead (`info_span!("request", task.name = %format!("GET {route}"))`).
#[derive(Debug)]
pub struct TasksLayer {
    capture: LayerCapture,
    sampler: Sampler,
    records: TaskRecords,
    slow: Duration,
    task_start: bool,
    /// The ring of recent tasks, when one is kept (off by default).
    recent: Option<RecentTasks>,
    /// The subscriber this layer belongs to: task records go to it even when the last handle
    /// of a span is dropped on a thread whose default subscriber is another one.
    dispatch: OnceLock<Own>,
}

impl Default for TasksLayer {
    fn default() -> Self {
        TasksLayer {
            capture: LayerCapture::new(needs(Sampler::default(), false)),
            sampler: Sampler::default(),
            records: TaskRecords::Significant,
            slow: DEFAULT_SLOW_THRESHOLD,
            task_start: false,
            recent: None,
            dispatch: OnceLock::new(),
        }
    }
}

impl TasksLayer {
    /// Samples root tasks with `sampler` (default: all). Tasks imported from another process
    /// keep the decision they arrived with.
    #[must_use]
    pub fn with_sampler(mut self, sampler: Sampler) -> Self {
        self.sampler = sampler;
        self.capture = self
            .capture
            .with_needs(needs(sampler, self.recent.is_some()));
        self
    }

    /// Which tasks write `task.end` (and `task.start`) records. Default:
    /// [`TaskRecords::Significant`] (roots, process hops, failed and slow tasks; the others
    /// summarised in their nearest written ancestor).
    #[must_use]
    pub fn with_records(mut self, records: TaskRecords) -> Self {
        self.records = records;
        self
    }

    /// Every sampled task writes its records: the same as
    /// `with_records(TaskRecords::All)`.
    #[must_use]
    pub fn all_tasks(self) -> Self {
        self.with_records(TaskRecords::All)
    }

    /// Under [`TaskRecords::Significant`], a task that took at least `threshold` (wall time)
    /// writes its record. Default: [`DEFAULT_SLOW_THRESHOLD`] (100 ms).
    #[must_use]
    pub fn with_slow_threshold(mut self, threshold: Duration) -> Self {
        self.slow = threshold;
        self
    }

    /// Also emit a `task.start` record when a task is first entered. Default: off.
    #[must_use]
    pub fn with_task_start(mut self, enabled: bool) -> Self {
        self.task_start = enabled;
        self
    }

    /// Keeps the tasks that write a `task.end` record (the record policy's, see
    /// [`TasksLayer::with_records`]) in `recent` too, a bounded in-memory ring the in-app
    /// dashboard reads. Default: no ring, and nothing is copied.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// let recent = taskwire_tasks::RecentTasks::new(1000);
    /// let _subscriber =
    ///     tracing_subscriber::registry().with(taskwire_tasks::layer().with_recent(recent.clone()));
    /// // taskwire_web::dashboard(store, metrics).with_recent(recent)
    /// ```
    #[must_use]
    pub fn with_recent(mut self, recent: RecentTasks) -> Self {
        self.recent = Some(recent);
        // the ring keeps the span's fields, as the records do
        self.capture = self.capture.with_needs(needs(self.sampler, true));
        self
    }

    /// Redacts with `redactor` the span fields this layer captures when no capture layer is
    /// installed below it (see [`taskwire_core::span`]).
    #[must_use]
    pub fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.capture = self.capture.with_redactor(redactor);
        self
    }

    /// Emits one record of `callsite` to this layer's own subscriber, so it reaches it even when
    /// the thread's default subscriber is another one. (`Option<L>` and `Vec<L>` do not forward
    /// `on_register_dispatch`; the thread's default is used then, which is the right one
    /// whenever the subscriber is the global default.)
    fn emit(
        &self,
        callsite: &'static records::RecordCallsite,
        parent: &Id,
        values: &[Option<&dyn tracing::Value>],
    ) {
        // Registered (and checked against the interest) outside `get_default`: registering
        // inside it would ask a nested `get_default`, which answers with no subscriber.
        let Some(interest) = records::interest(callsite) else {
            return;
        };
        let Some(own) = self.dispatch.get() else {
            tracing_core::dispatcher::get_default(|d| {
                records::send(callsite, interest, d, parent, values);
            });
            return;
        };
        // Usually the thread's default subscriber is this layer's own: then the record goes
        // to it as `tracing::event!` would, without touching the weak handle's count.
        if own.registry != 0 {
            let sent = tracing_core::dispatcher::get_default(|d| {
                let mine = registry_address(d) == own.registry;
                if mine {
                    records::send(callsite, interest, d, parent, values);
                }
                mine
            });
            if sent {
                return;
            }
        }
        if let Some(mine) = own.weak.upgrade() {
            records::send(callsite, interest, &mine, parent, values);
        }
    }

    /// Whether a task writes `task.start` when first entered.
    fn writes_start(&self, d: &SpanData) -> bool {
        d.sampled()
            && match self.records {
                TaskRecords::All => true,
                TaskRecords::Roots => d.is_local_root(),
                TaskRecords::Significant => d.is_local_root() || d.exported(),
                TaskRecords::Failed | TaskRecords::Off => false,
            }
    }

    /// What becomes of a task that closes after `wall_nanos`.
    fn fate(&self, d: &SpanData, failed: bool, wall_nanos: u64) -> Fate {
        if !d.sampled() {
            return Fate::Dropped;
        }
        let written = match self.records {
            TaskRecords::Significant => {
                let kept = d.is_local_root()
                    || d.exported()
                    || failed
                    || d.written_children() > 0
                    || u128::from(wall_nanos) >= self.slow.as_nanos();
                if !kept {
                    return Fate::Summarised;
                }
                true
            }
            TaskRecords::All => true,
            TaskRecords::Roots => d.is_local_root(),
            TaskRecords::Failed => failed,
            TaskRecords::Off => false,
        };
        if written {
            Fate::Written
        } else {
            Fate::Dropped
        }
    }

    /// Tells the parent of a task that closes (`span`) what it must know: a failure, a record
    /// it must link to, or the task's summary (its own descendants with it).
    fn tell_parent<S>(
        &self,
        span: &tracing_subscriber::registry::SpanRef<'_, S>,
        failed: bool,
        fate: Fate,
        (parent_span_id, remote_parent): (Option<SpanId>, bool),
        wall_us: u64,
        summary: Option<&children::Children>,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let to_parent =
            failed || (self.records == TaskRecords::Significant && fate != Fate::Dropped);
        // A task without a parent context has no captured ancestor: no parent to tell.
        let Some(parent) = parent_span_id.filter(|_| to_parent) else {
            return;
        };
        // A summarised task never failed; while its local parent is entered on this thread,
        // the summary waits beside the parent's entry and reaches its data when it is exited.
        if fate == Fate::Summarised
            && !remote_parent
            && self
                .capture
                .summarise_in_entered_parent(parent, span.name(), wall_us, summary)
        {
            return;
        }
        let Some(parent) = span.parent() else { return };
        let mut ext = parent.extensions_mut();
        let Some(pd) = ext.get_mut::<SpanData>() else {
            return;
        };
        if failed {
            pd.note_failed_child();
        }
        match fate {
            Fate::Written => pd.note_written_child(),
            Fate::Summarised => pd.summarise_child(span.name(), wall_us, summary),
            Fate::Dropped => {}
        }
    }
}

impl<S> Layer<S> for TasksLayer
where
    S: Subscriber + for<'a> LookupSpan<'a> + 'static,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        let _ = self.dispatch.set(Own {
            weak: subscriber.downgrade(),
            registry: registry_address(subscriber),
        });
    }

    taskwire_core::layer_capture_callbacks!(S, capture: on_layer, on_new_span, on_record, on_exit);

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        self.capture.on_enter(id, &ctx);
        if !self.task_start {
            return;
        }
        let Some(span) = ctx.span(id) else { return };
        let name = {
            let mut ext = span.extensions_mut();
            let first_enter = match ext.get_mut::<StartWritten>() {
                Some(_) => false,
                None => {
                    ext.insert(StartWritten);
                    true
                }
            };
            match ext.get_mut::<SpanData>() {
                Some(d) if first_enter && self.writes_start(d) => task_name(d),
                _ => return,
            }
        };
        let task_name = name.as_deref().unwrap_or(span.name());
        let target = span.metadata().target();
        self.emit(
            &records::START,
            id,
            &[Some(&task_record::START), Some(&task_name), Some(&target)],
        );
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if *event.metadata().level() != Level::ERROR || taskwire_core::suppress::is_suppressed() {
            return;
        }
        let Some(span) = ctx.event_span(event) else {
            return;
        };
        let mut ext = span.extensions_mut();
        if let Some(d) = ext.get_mut::<SpanData>() {
            d.record_error(|| {
                let mut m = Message(None);
                event.record(&mut m);
                m.0
            });
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let mut ext = span.extensions_mut();
        let Some(d) = ext.get_mut::<SpanData>() else {
            return;
        };
        let failed = d.failed();
        let (wall, busy) = if d.sampled() {
            d.elapsed_nanos().unwrap_or_default()
        } else {
            (0, 0)
        };
        let fate = self.fate(d, failed, wall);
        let summary = d.take_children();
        let wall_us = wall / 1_000;
        // The parent's own id (none for a root) and whether it is in another process.
        let parent = (d.parent_span_id(), d.remote_parent());
        if fate != Fate::Written {
            drop(ext);
            self.tell_parent(&span, failed, fate, parent, wall_us, summary.as_deref());
            if let Some(s) = summary {
                children::recycle(s);
            }
            return;
        }
        if let Some(recent) = &self.recent {
            recent.put(&Ended {
                data: d,
                name: d.task_name().unwrap_or(span.name()),
                target: span.metadata().target(),
                failed,
                wall: Duration::from_nanos(wall),
                busy: Duration::from_nanos(busy),
                summary: summary.as_deref(),
            });
        }
        let (errors, failed_children, remote) = (d.errors(), d.failed_children(), parent.1);
        let failure = d.failure().map(Box::<str>::from);
        let name = task_name(d);
        drop(ext);
        self.tell_parent(&span, failed, fate, parent, wall_us, summary.as_deref());
        let outcome = if failed { "failed" } else { "succeeded" };
        let task_name = name.as_deref().unwrap_or(span.name());
        let target = span.metadata().target();
        let busy_us = busy / 1_000;
        let failure = failure.as_deref();
        let summarised = summary.as_deref().map(children::Children::count);
        // Rendered once, when the first output formats it (in one piece after that), and not at
        // all when no output does.
        let groups = summary
            .as_deref()
            .map(|c| tracing::field::display(c.display_once()));
        // Counters are written when not zero, and the remote parent when there is one: readers
        // take an absent key as 0 or false.
        let errors = (errors > 0).then_some(errors);
        let failed_children = (failed_children > 0).then_some(failed_children);
        let remote = remote.then_some(true);
        // In the order of `records::END_FIELDS`.
        self.emit(
            &records::END,
            &id,
            &[
                Some(&task_record::END),
                Some(&task_name),
                Some(&target),
                Some(&outcome),
                Some(&wall_us),
                Some(&busy_us),
                errors.as_ref().map(|e| e as &dyn tracing::Value),
                failed_children.as_ref().map(|c| c as &dyn tracing::Value),
                remote.as_ref().map(|r| r as &dyn tracing::Value),
                failure.as_ref().map(|f| f as &dyn tracing::Value),
                summarised.as_ref().map(|c| c as &dyn tracing::Value),
                groups.as_ref().map(|g| g as &dyn tracing::Value),
            ],
        );
        drop(groups);
        if let Some(s) = summary {
            children::recycle(s);
        }
    }
}

/// What the tasks layer needs from the capture: timing of sampled tasks, `sampler` deciding
/// roots as they are captured, and the spans' fields when a ring of recent tasks keeps them.
fn needs(sampler: Sampler, fields: bool) -> Needs {
    let needs = Needs::default()
        .with_timing(Timing::Sampled)
        .with_fields(fields);
    if sampler.get_ratio() >= 1.0 {
        needs
    } else {
        needs.with_root_sampler(move |t| sampler.sample(t))
    }
}

impl CapturingLayer for TasksLayer {
    fn layer_capture(&self) -> &LayerCapture {
        &self.capture
    }
}

/// The subscriber a [`TasksLayer`] belongs to.
#[derive(Debug)]
struct Own {
    weak: WeakDispatch,
    /// The address of its `Registry`, which identifies it without upgrading `weak` (0: not
    /// built on a `Registry`).
    registry: usize,
}

/// The address of the `Registry` a subscriber is built on (0: none).
fn registry_address(d: &Dispatch) -> usize {
    d.downcast_ref::<tracing_subscriber::Registry>()
        .map_or(0, |r| std::ptr::from_ref(r) as usize)
}

/// Marks a task whose `task.start` record was written.
struct StartWritten;

/// A task's display name: its `task.name` (or `otel.name`) field when it has one, since span
/// names are static and a request task is named after its route at run time.
fn task_name(d: &SpanData) -> Option<Box<str>> {
    d.task_name().map(Box::from)
}

/// Picks the message out of an ERROR event, as the task's failure reason.
struct Message(Option<String>);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" || (self.0.is_none() && field.name() == "error") {
            self.0 = Some(value.to_owned());
        }
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" || (self.0.is_none() && field.name() == "error") {
            // Not `format!`, which panics on a failing `Debug` impl.
            let mut s = String::new();
            let _ = fmt::Write::write_fmt(&mut s, format_args!("{value:?}"));
            self.0 = Some(s);
        }
    }
}
