//! [`RecentTasks`]: a bounded in-memory ring of the tasks that ended last, for an in-app
//! dashboard (`taskwire_web::Dashboard::with_recent`). Off by default: a [`TasksLayer`] keeps
//! one only when given it ([`TasksLayer::with_recent`]).
//!
//! What it holds: the tasks the layer's record policy ([`TaskRecords`]) writes a `task.end`
//! record for, with the same summaries of the others (`task.children`,
//! `task.children_summary`). The ring is a copy of what the logs would hold, so the
//! dashboard's waterfall of a trace is the one `taskwire serve` draws from the log files, and
//! its cost follows the records written, not every span (the default policy writes a few tasks
//! per request). To keep every task, use [`TasksLayer::all_tasks`]. Events are not kept.
//!
//! Cost on the thread that closes a task: one uncontended mutex for the copy of a few short
//! strings into a slot, whose buffers are reused once the ring has gone round: no allocation
//! once warm (a longer name or field set than the slot held before grows its buffer). Nothing
//! else: the ring is rendered as records only when read ([`RecentTasks::write_records`]).
//! The tasks bench (`benches/tasks.rs`, `taskwire_tasks_recent`) measures it beside the layer
//! without a ring. When the ring is full the oldest task makes room and is counted
//! ([`RecentTasks::dropped`]).
//!
//! [`TasksLayer`]: crate::TasksLayer
//! [`TasksLayer::with_recent`]: crate::TasksLayer::with_recent
//! [`TasksLayer::all_tasks`]: crate::TasksLayer::all_tasks
//! [`TaskRecords`]: crate::TaskRecords

use std::fmt::Write as _;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use taskwire_core::schema::{self, header, task_record};
use taskwire_core::task_record::children::Children;
use taskwire_core::{json, SpanData};

/// A bounded ring of the tasks that ended last, shared by the [`TasksLayer`] that fills it
/// ([`TasksLayer::with_recent`]) and whoever reads it (the in-app dashboard). Cloning it
/// clones the handle.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let recent = taskwire_tasks::RecentTasks::new(1000).with_service("checkout");
/// let subscriber =
///     tracing_subscriber::registry().with(taskwire_tasks::layer().with_recent(recent.clone()));
/// tracing::subscriber::with_default(subscriber, || {
///     let _request = tracing::info_span!("request").entered();
/// });
/// let tasks = recent.tasks();
/// assert_eq!(tasks.len(), 1);
/// assert_eq!(tasks[0].name(), "request");
/// assert_eq!(recent.dropped(), 0);
/// ```
///
/// [`TasksLayer`]: crate::TasksLayer
/// [`TasksLayer::with_recent`]: crate::TasksLayer::with_recent
#[derive(Clone)]
pub struct RecentTasks {
    inner: Arc<Inner>,
}

struct Inner {
    capacity: usize,
    service: Option<Box<str>>,
    ring: Mutex<Ring>,
}

/// The slots, filled in order and then overwritten oldest first.
struct Ring {
    slots: Vec<RecentTask>,
    /// Tasks put in since the ring was made.
    ended: u64,
}

impl std::fmt::Debug for RecentTasks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecentTasks")
            .field("capacity", &self.inner.capacity)
            .field("service", &self.inner.service)
            .field("len", &self.len())
            .field("dropped", &self.dropped())
            .finish()
    }
}

impl RecentTasks {
    /// A ring that keeps the last `capacity` tasks (0 keeps none and counts every task as
    /// dropped). Its slots are reserved now, so filling it allocates only the tasks' strings,
    /// and only until it has gone round once.
    pub fn new(capacity: usize) -> RecentTasks {
        RecentTasks {
            inner: Arc::new(Inner {
                capacity,
                service: None,
                ring: Mutex::new(Ring {
                    slots: Vec::with_capacity(capacity),
                    ended: 0,
                }),
            }),
        }
    }

    /// Names the service the tasks belong to (the `service` of their records, as
    /// `taskwire_json::JsonLayer::with_service` names it in the logs). It makes a new, empty
    /// ring: call it where the ring is made, before handing it to a layer.
    ///
    /// ```
    /// let recent = taskwire_tasks::RecentTasks::new(100).with_service("front");
    /// assert_eq!(recent.service(), Some("front"));
    /// ```
    #[must_use]
    pub fn with_service(self, service: impl Into<String>) -> RecentTasks {
        RecentTasks {
            inner: Arc::new(Inner {
                capacity: self.inner.capacity,
                service: Some(service.into().into_boxed_str()),
                ring: Mutex::new(Ring {
                    slots: Vec::with_capacity(self.inner.capacity),
                    ended: 0,
                }),
            }),
        }
    }

    /// The service the tasks belong to, if named.
    pub fn service(&self) -> Option<&str> {
        self.inner.service.as_deref()
    }

    /// The most tasks kept.
    pub fn capacity(&self) -> usize {
        self.inner.capacity
    }

    /// The tasks kept now (at most [`RecentTasks::capacity`]).
    pub fn len(&self) -> usize {
        self.lock().slots.len()
    }

    /// Whether no task is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Tasks put in since the ring was made, kept or not.
    pub fn ended(&self) -> u64 {
        self.lock().ended
    }

    /// Tasks put in that are no longer kept: the oldest ones, which made room for newer ones.
    /// Always [`RecentTasks::ended`] minus [`RecentTasks::len`].
    pub fn dropped(&self) -> u64 {
        let ring = self.lock();
        ring.ended - ring.slots.len() as u64
    }

    /// A copy of the tasks kept, oldest first. The copy is made 32 tasks per hold
    /// of the lock, so a thread closing a task waits for a few copies at most, never for the
    /// whole ring; a task overwritten while the copy is made is left out.
    pub fn tasks(&self) -> Vec<RecentTask> {
        let (first, last) = {
            let ring = self.lock();
            (ring.ended - ring.slots.len() as u64, ring.ended)
        };
        let cap = self.inner.capacity as u64;
        let mut out = Vec::with_capacity(usize::try_from(last - first).unwrap_or(0));
        let mut n = first;
        while n < last {
            let ring = self.lock();
            // task number `m` (counted from the first ever put in) is in slot `m % capacity`
            // until `capacity` later tasks have been put in
            let kept_from = ring.ended.saturating_sub(cap);
            let end = last.min(n + COPY_CHUNK);
            for m in n.max(kept_from)..end {
                if let Some(t) = usize::try_from(m % cap)
                    .ok()
                    .and_then(|i| ring.slots.get(i))
                {
                    out.push(t.clone());
                }
            }
            n = end;
        }
        out
    }

    /// Appends the tasks kept to `out` as `task.end` JSON lines, oldest first, with the keys
    /// `taskwire_json` writes (`taskwire_core::schema`): what `taskwire tree` and the
    /// explorer read. The lines are written from a copy ([`RecentTasks::tasks`]), outside
    /// the lock.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    ///
    /// let recent = taskwire_tasks::RecentTasks::new(10);
    /// let subscriber =
    ///     tracing_subscriber::registry().with(taskwire_tasks::layer().with_recent(recent.clone()));
    /// tracing::subscriber::with_default(subscriber, || {
    ///     let _root = tracing::info_span!("checkout", order = 7).entered();
    /// });
    /// let mut lines = Vec::new();
    /// recent.write_records(&mut lines);
    /// let line = std::str::from_utf8(&lines)?;
    /// assert!(line.contains(r#""msg":"task.end""#) && line.contains(r#""order":7"#));
    /// # Ok::<(), std::str::Utf8Error>(())
    /// ```
    pub fn write_records(&self, out: &mut Vec<u8>) {
        for t in self.tasks() {
            t.write_record(self.service(), out);
            out.push(b'\n');
        }
    }

    fn lock(&self) -> MutexGuard<'_, Ring> {
        // A panic while a slot was written leaves at worst one half-copied task: keep going.
        self.inner.ring.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts in the task that just ended, in the next slot (reusing its buffers).
    pub(crate) fn put(&self, ended: &Ended<'_>) {
        let cap = self.inner.capacity as u64;
        let mut ring = self.lock();
        let n = ring.ended;
        ring.ended += 1;
        if cap == 0 {
            return;
        }
        // task number `n` goes to slot `n % capacity`: the slots fill in order, then the
        // oldest is overwritten
        let Ok(i) = usize::try_from(n % cap) else {
            return;
        };
        if i == ring.slots.len() {
            ring.slots.push(RecentTask::default());
        }
        if let Some(t) = ring.slots.get_mut(i) {
            t.fill(ended);
        }
    }
}

/// Tasks copied per hold of the lock by [`RecentTasks::tasks`].
const COPY_CHUNK: u64 = 32;

/// What the tasks layer hands the ring when a task with a record ends.
pub(crate) struct Ended<'a> {
    pub(crate) data: &'a SpanData,
    pub(crate) name: &'a str,
    pub(crate) target: &'static str,
    pub(crate) failed: bool,
    pub(crate) wall: Duration,
    pub(crate) busy: Duration,
    pub(crate) summary: Option<&'a Children>,
}

/// One task of a [`RecentTasks`] ring: what its `task.end` record says.
#[derive(Clone, Debug)]
pub struct RecentTask {
    trace_id: u128,
    span_id: u64,
    parent_span_id: Option<u64>,
    remote_parent: bool,
    name: String,
    target: &'static str,
    end: SystemTime,
    duration: Duration,
    busy: Duration,
    failed: bool,
    has_failure: bool,
    failure: String,
    errors: u32,
    failed_children: u32,
    children: u64,
    children_summary: String,
    /// The span's fields as JSON object members (`"k":v,"k2":v2`), each value rendered as
    /// the JSON layer renders it (redacted, escaped).
    attributes: String,
}

impl Default for RecentTask {
    fn default() -> Self {
        RecentTask {
            trace_id: 0,
            span_id: 0,
            parent_span_id: None,
            remote_parent: false,
            name: String::new(),
            target: "",
            end: UNIX_EPOCH,
            duration: Duration::ZERO,
            busy: Duration::ZERO,
            failed: false,
            has_failure: false,
            failure: String::new(),
            errors: 0,
            failed_children: 0,
            children: 0,
            children_summary: String::new(),
            attributes: String::new(),
        }
    }
}

impl RecentTask {
    /// Overwrites this slot with `e`, reusing its strings' buffers.
    fn fill(&mut self, e: &Ended<'_>) {
        let d = e.data;
        self.trace_id = d.trace_id().to_u128();
        self.span_id = d.span_id().to_u64();
        self.parent_span_id = d.parent_span_id().map(|p| p.to_u64());
        self.remote_parent = d.remote_parent();
        self.name.clear();
        self.name.push_str(e.name);
        self.target = e.target;
        self.end = SystemTime::now();
        self.duration = e.wall;
        self.busy = e.busy;
        self.failed = e.failed;
        self.failure.clear();
        self.has_failure = false;
        if let Some(f) = d.failure() {
            self.has_failure = true;
            self.failure.push_str(f);
        }
        self.errors = d.errors();
        self.failed_children = d.failed_children();
        self.children_summary.clear();
        self.children = 0;
        if let Some(s) = e.summary {
            self.children = s.count();
            let _ = write!(self.children_summary, "{s}");
        }
        self.attributes.clear();
        for (name, value) in d.fields().rendered() {
            if name == schema::TASK_NAME {
                continue;
            }
            if !self.attributes.is_empty() {
                self.attributes.push(',');
            }
            self.attributes.push('"');
            if collides(name) {
                self.attributes.push_str(COLLISION_PREFIX);
            }
            if name.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\') {
                self.attributes.push_str(name);
            } else {
                // A field named by a string literal with quotes or control characters: rare.
                let mut key = Vec::new();
                json::write_str_contents(&mut key, name);
                self.attributes.push_str(&String::from_utf8_lossy(&key));
            }
            self.attributes.push_str("\":");
            self.attributes.push_str(&String::from_utf8_lossy(value));
        }
    }

    /// The trace id.
    pub fn trace_id(&self) -> u128 {
        self.trace_id
    }

    /// The task's span id.
    pub fn span_id(&self) -> u64 {
        self.span_id
    }

    /// Its parent's span id, when it has a parent (in this process or another).
    pub fn parent_span_id(&self) -> Option<u64> {
        self.parent_span_id
    }

    /// Whether its parent is in another process (an imported `traceparent`).
    pub fn remote_parent(&self) -> bool {
        self.remote_parent
    }

    /// The task's name (its `task.name` field, else the span's name).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The span's target.
    pub fn target(&self) -> &'static str {
        self.target
    }

    /// When it ended.
    pub fn end(&self) -> SystemTime {
        self.end
    }

    /// Its wall time, creation to close.
    pub fn duration(&self) -> Duration {
        self.duration
    }

    /// The time it was entered.
    pub fn busy(&self) -> Duration {
        self.busy
    }

    /// Whether it failed.
    pub fn failed(&self) -> bool {
        self.failed
    }

    /// The first failure reason, when one was given.
    pub fn failure(&self) -> Option<&str> {
        self.has_failure.then_some(self.failure.as_str())
    }

    /// ERROR events raised directly inside it.
    pub fn errors(&self) -> u32 {
        self.errors
    }

    /// Its children that failed.
    pub fn failed_children(&self) -> u32 {
        self.failed_children
    }

    /// Descendants without a record of their own, summarised in this task.
    pub fn children(&self) -> u64 {
        self.children
    }

    /// Those descendants by span name (`task.children_summary`), when there are some.
    pub fn children_summary(&self) -> Option<&str> {
        (!self.children_summary.is_empty()).then_some(self.children_summary.as_str())
    }

    /// The span's fields as a JSON object (`{"route":"/orders","status":200}`), `None` when it
    /// has none. A field named like a record key is under `fields.` (`fields.msg`).
    pub fn attributes(&self) -> Option<String> {
        (!self.attributes.is_empty()).then(|| format!("{{{}}}", self.attributes))
    }

    /// Appends its `task.end` record, one JSON object without the newline.
    fn write_record(&self, service: Option<&str>, out: &mut Vec<u8>) {
        let key = |out: &mut Vec<u8>, k: &str| {
            out.extend_from_slice(b",\"");
            out.extend_from_slice(k.as_bytes());
            out.extend_from_slice(b"\":");
        };
        out.extend_from_slice(b"{\"");
        out.extend_from_slice(header::TIMESTAMP.as_bytes());
        out.extend_from_slice(b"\":\"");
        taskwire_core::time::write_rfc3339(out, self.end);
        out.push(b'"');
        key(out, header::LEVEL);
        json::write_str(out, "INFO");
        key(out, header::TARGET);
        json::write_str(out, task_record::TARGET);
        key(out, header::MESSAGE);
        json::write_str(out, task_record::END);
        key(out, header::TRACE_ID);
        write_hex(
            out,
            &taskwire_core::TraceId::from_u128(self.trace_id).to_hex(),
        );
        key(out, header::SPAN_ID);
        write_hex(out, &taskwire_core::SpanId::from_u64(self.span_id).to_hex());
        if let Some(p) = self.parent_span_id {
            key(out, header::PARENT_SPAN_ID);
            write_hex(out, &taskwire_core::SpanId::from_u64(p).to_hex());
        }
        if let Some(s) = service {
            key(out, header::SERVICE);
            json::write_str(out, s);
        }
        key(out, schema::TASK_NAME);
        json::write_str(out, &self.name);
        key(out, task_record::keys::TARGET);
        json::write_str(out, self.target);
        key(out, task_record::keys::OUTCOME);
        json::write_str(out, if self.failed { "failed" } else { "succeeded" });
        key(out, task_record::keys::DURATION_US);
        json::write_u64(out, micros(self.duration));
        key(out, task_record::keys::BUSY_US);
        json::write_u64(out, micros(self.busy));
        key(out, task_record::keys::ERRORS);
        json::write_u64(out, self.errors.into());
        key(out, task_record::keys::FAILED_CHILDREN);
        json::write_u64(out, self.failed_children.into());
        key(out, task_record::keys::REMOTE_PARENT);
        json::write_bool(out, self.remote_parent);
        if let Some(f) = self.failure() {
            key(out, task_record::keys::FAILURE);
            json::write_str(out, f);
        }
        if let Some(s) = self.children_summary() {
            key(out, task_record::keys::CHILDREN);
            json::write_u64(out, self.children);
            key(out, task_record::keys::CHILDREN_SUMMARY);
            json::write_str(out, s);
        }
        if !self.attributes.is_empty() {
            out.push(b',');
            out.extend_from_slice(self.attributes.as_bytes());
        }
        out.push(b'}');
    }
}

/// The prefix of a span field named like a key the record writes itself (the JSON layer's
/// `COLLISION_PREFIX`).
const COLLISION_PREFIX: &str = "fields.";

/// Whether a span field's name is a header key or a key reserved for task records (the
/// explorer would take such a field for the record's own entry, or not as a field).
fn collides(name: &str) -> bool {
    header::ALL.contains(&name) || task_record::is_reserved_key(name)
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Writes a hex id as a JSON string.
fn write_hex(out: &mut Vec<u8>, hex: &[u8]) {
    out.push(b'"');
    out.extend_from_slice(hex);
    out.push(b'"');
}
