//! The writer thread: one per layer (and so per store), the only code that touches the store.
//!
//! Every period (100 ms by default), on [`TicketsGuard::flush`], and when enough samples are
//! waiting, it collects the groups' counters as deltas, joins them with the samples that
//! arrived through the bounded queue (keeping per group the earliest and the newest N) and
//! writes one [`Batch`] in one transaction. Failures never lose counts:
//!
//! - a busy (locked) database is retried with exponential backoff (10 ms doubling to 500 ms)
//!   for up to 5 s, then again next period;
//! - a full disk drops the batch's samples (counted) and retries with the counts alone; if that
//!   fails too the counts stay in memory and are retried with backoff;
//! - any other failure is reported once on stderr and retried with backoff.
//!
//! A batch that failed is kept as it was and retried first, unchanged; what arrives meanwhile
//! goes into the next batch. A store without transactions (MongoDB) may have applied part of a
//! batch whose outcome it never heard; it recognises the identical batch and completes it
//! exactly once instead of counting twice.
//!
//! At shutdown (the guard dropped, or the layer dropped without one) the final flush retries
//! any failure with backoff until the shutdown timeout (5 s by default) has passed since the
//! shutdown began; what the store still refuses then is written to a spool file
//! ([`crate::spool`]) instead of being lost. When the writer starts, before its first batch, it
//! replays the store's spool files exactly once ([`Store::write_once`]); a replay that fails is
//! tried again after each later commit.
//!
//! The thread marks itself suppressed, so the store's own events (a driver's logs) never loop
//! back into tickets.

use std::collections::HashMap;
use std::fmt;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender, TrySendError};

mod shutdown;

use crate::groups::{Group, Registry};
use crate::store::{Batch, ErrorKind, GroupUpdate, Sample, Store, TagCount, Timestamp, WriteError};
use taskwire_core::schema::LEVELS;

/// How long the final flush keeps retrying by default: within the 10 s that `docker stop` (and
/// many container runtimes) wait before SIGKILL, with room for the application's own shutdown
/// and for one last store attempt that started just before the deadline.
pub(crate) const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// A message to the writer.
pub(crate) enum Msg {
    Sample(Arc<Group>, Box<Sample>),
    Flush(Sender<Result<(), FlushError>>),
    /// Flush, then stop; the final flush spools what is left at the instant given.
    Shutdown(Sender<Result<(), FlushError>>, Instant),
}

/// The writer's settings, fixed when it starts.
#[derive(Clone, Debug)]
pub(crate) struct WriterConfig {
    pub(crate) period: Duration,
    pub(crate) queue_capacity: usize,
    pub(crate) samples_per_ticket: usize,
    pub(crate) max_tag_values: usize,
    pub(crate) busy_retry_for: Duration,
    /// How long the final flush retries before spooling what is left.
    pub(crate) shutdown_timeout: Duration,
    pub(crate) max_batch_samples: usize,
    pub(crate) evict_after_periods: u32,
    /// Per-layer constant tags.
    pub(crate) service: Option<String>,
    pub(crate) release: Option<String>,
    pub(crate) host: String,
}

/// What the layer and its guards share.
pub(crate) struct Shared {
    pub(crate) groups: Arc<Registry>,
    pub(crate) stats: Arc<StatsInner>,
    setup: Mutex<Option<(Box<dyn Store>, WriterConfig)>>,
    sender: OnceLock<Option<Sender<Msg>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    stopped: AtomicBool,
    /// Set when a shutdown is requested, so a write retrying a busy store gives way to the
    /// final flush (whose deadline is already running).
    stopping: Arc<AtomicBool>,
}

impl fmt::Debug for Shared {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shared")
            .field("groups", &self.groups)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Shared {
    pub(crate) fn new(store: Box<dyn Store>, cfg: WriterConfig, max_groups: usize) -> Shared {
        Shared {
            groups: Arc::new(Registry::new(max_groups)),
            stats: Arc::default(),
            setup: Mutex::new(Some((store, cfg))),
            sender: OnceLock::new(),
            thread: Mutex::new(None),
            stopped: AtomicBool::new(false),
            stopping: Arc::default(),
        }
    }

    /// Changes the writer's settings, until it starts.
    pub(crate) fn configure(&self, f: impl FnOnce(&mut WriterConfig)) {
        if let Ok(mut s) = self.setup.lock() {
            if let Some((_, cfg)) = s.as_mut() {
                f(cfg);
            }
        }
    }

    /// The queue to the writer, starting it on first use.
    pub(crate) fn sender(self: &Arc<Self>) -> Option<&Sender<Msg>> {
        self.sender
            .get_or_init(|| {
                let (store, cfg) = self.setup.lock().ok()?.take()?;
                let (tx, rx) = bounded(cfg.queue_capacity.max(1));
                let writer = Writer {
                    groups: self.groups.clone(),
                    stats: self.stats.clone(),
                    store,
                    pending: HashMap::new(),
                    pending_samples: 0,
                    cfg,
                    reported: Vec::new(),
                    failures: 0,
                    in_flight: None,
                    deadline: None,
                    stopping: self.stopping.clone(),
                    spool: None,
                    replay_pending: false,
                };
                let spawned = std::thread::Builder::new()
                    .name("taskwire-tickets".into())
                    .spawn(move || writer.run(rx));
                match spawned {
                    Ok(h) => {
                        if let Ok(mut t) = self.thread.lock() {
                            *t = Some(h);
                        }
                        Some(tx)
                    }
                    Err(e) => {
                        let _ = writeln!(
                            std::io::stderr(),
                            "taskwire-tickets: cannot start the writer thread ({e}); \
                             tickets are counted in memory only"
                        );
                        None
                    }
                }
            })
            .as_ref()
    }

    /// Whether a sample would be accepted now (so a full queue costs no sample building).
    pub(crate) fn has_room(self: &Arc<Self>) -> bool {
        let room = match self.sender() {
            Some(tx) => !tx.is_full() && !self.stopped.load(Ordering::Relaxed),
            None => false,
        };
        if !room {
            self.stats.samples_dropped.fetch_add(1, Ordering::Relaxed);
        }
        room
    }

    /// Sends a sample; counts it as dropped when the queue is full or the writer is gone.
    pub(crate) fn send_sample(self: &Arc<Self>, group: Arc<Group>, sample: Sample) {
        let sent = match self.sender() {
            Some(tx) if !self.stopped.load(Ordering::Relaxed) => {
                match tx.try_send(Msg::Sample(group, Box::new(sample))) {
                    Ok(()) => true,
                    Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => false,
                }
            }
            _ => false,
        };
        if sent {
            self.stats.samples_queued.fetch_add(1, Ordering::Relaxed);
        } else {
            self.stats.samples_dropped.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn request(self: &Arc<Self>, shutdown: bool) -> Result<(), FlushError> {
        if self.stopped.load(Ordering::Relaxed) {
            return Err(FlushError::stopped());
        }
        let tx = self.sender().ok_or_else(FlushError::stopped)?;
        let (rtx, rrx) = bounded(1);
        let msg = if shutdown {
            self.stopping.store(true, Ordering::Relaxed);
            Msg::Shutdown(rtx, Instant::now())
        } else {
            Msg::Flush(rtx)
        };
        tx.send(msg).map_err(|_| FlushError::stopped())?;
        rrx.recv().unwrap_or_else(|_| Err(FlushError::stopped()))
    }

    /// Writes everything counted and queued so far; returns when it is committed.
    pub(crate) fn flush(self: &Arc<Self>) -> Result<(), FlushError> {
        self.request(false)
    }

    /// Flushes, stops the writer and waits for it.
    pub(crate) fn shutdown(self: &Arc<Self>) -> Result<(), FlushError> {
        let r = self.request(true);
        self.stopped.store(true, Ordering::Relaxed);
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
        r
    }
}

/// Counters about the layer's work. Read them through [`Stats`].
#[derive(Debug, Default)]
pub(crate) struct StatsInner {
    events: AtomicU64,
    events_stored: AtomicU64,
    samples_queued: AtomicU64,
    samples_dropped: AtomicU64,
    samples_stored: AtomicU64,
    commits: AtomicU64,
    write_failures: AtomicU64,
    busy_retries: AtomicU64,
    disk_full: AtomicU64,
    events_spooled: AtomicU64,
    events_replayed: AtomicU64,
}

/// A handle on the layer's counters (cheap to clone).
///
/// ```
/// let layer = taskwire_tickets::layer(taskwire_tickets::Sqlite::open_in_memory()?);
/// let stats = layer.stats();
/// assert_eq!(stats.samples_dropped(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Stats {
    pub(crate) inner: Arc<StatsInner>,
}

impl Stats {
    /// Occurrences collected by the writer so far.
    pub fn events(&self) -> u64 {
        self.inner.events.load(Ordering::Relaxed)
    }
    /// Occurrences committed to the store (the rest are still in memory, or were spooled at
    /// shutdown: [`Stats::events_spooled`]).
    pub fn events_stored(&self) -> u64 {
        self.inner.events_stored.load(Ordering::Relaxed)
    }
    /// Samples handed to the writer.
    pub fn samples_queued(&self) -> u64 {
        self.inner.samples_queued.load(Ordering::Relaxed)
    }
    /// Samples lost to overload: a full queue, a stopped writer, or a full disk (their counts
    /// are kept).
    pub fn samples_dropped(&self) -> u64 {
        self.inner.samples_dropped.load(Ordering::Relaxed)
    }
    /// Samples written to the store (before pruning to the newest N).
    pub fn samples_stored(&self) -> u64 {
        self.inner.samples_stored.load(Ordering::Relaxed)
    }
    /// Transactions committed.
    pub fn commits(&self) -> u64 {
        self.inner.commits.load(Ordering::Relaxed)
    }
    /// Writes that failed (retried later; counts kept).
    pub fn write_failures(&self) -> u64 {
        self.inner.write_failures.load(Ordering::Relaxed)
    }
    /// Retries after a busy (locked) database.
    pub fn busy_retries(&self) -> u64 {
        self.inner.busy_retries.load(Ordering::Relaxed)
    }
    /// Writes that failed because the disk (or the size limit) was full.
    pub fn disk_full(&self) -> u64 {
        self.inner.disk_full.load(Ordering::Relaxed)
    }
    /// Occurrences the final flush could not write before its deadline and wrote to a spool
    /// file instead (replayed by the next writer on the same store).
    pub fn events_spooled(&self) -> u64 {
        self.inner.events_spooled.load(Ordering::Relaxed)
    }
    /// Occurrences this writer replayed from spool files (left by earlier processes) into the
    /// store.
    pub fn events_replayed(&self) -> u64 {
        self.inner.events_replayed.load(Ordering::Relaxed)
    }
}

/// Why [`TicketsGuard::flush`] did not commit everything.
#[derive(Debug)]
pub struct FlushError {
    message: String,
    kind: Option<ErrorKind>,
    source: Option<WriteError>,
}

impl FlushError {
    fn stopped() -> Self {
        FlushError {
            message: "the writer thread is not running".into(),
            kind: None,
            source: None,
        }
    }

    fn write(e: WriteError) -> Self {
        FlushError {
            message: "the store rejected the batch; its counts stay in memory and are retried"
                .into(),
            kind: Some(e.kind()),
            source: Some(e),
        }
    }

    /// The store's failure kind, or `None` when the writer is not running.
    pub fn kind(&self) -> Option<ErrorKind> {
        self.kind
    }
}

impl fmt::Display for FlushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot flush tickets: {}", self.message)
    }
}

impl std::error::Error for FlushError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// Flushes the layer's tickets when dropped, and stops its writer thread.
///
/// Keep it alive as long as the layer is in use (`let _guard = …`, not `let _ = …`): dropping
/// it commits every count and queued sample, then stops the writer, so a program that exits
/// right after loses nothing. When the store refuses that final flush for longer than the
/// shutdown timeout ([`TicketsLayer::with_shutdown_timeout`](crate::TicketsLayer::with_shutdown_timeout),
/// 5 s by default), what is left is spooled to a local file that the next writer on the same
/// store replays. Events that arrive after it is dropped are counted in memory only.
#[must_use = "dropping the guard flushes and stops the ticket writer; keep it alive"]
#[derive(Debug)]
pub struct TicketsGuard {
    pub(crate) shared: Arc<Shared>,
}

impl TicketsGuard {
    /// Commits everything counted and queued so far, and returns when it is in the store.
    ///
    /// ```
    /// use tracing_subscriber::prelude::*;
    /// let layer = taskwire_tickets::layer(taskwire_tickets::Sqlite::open_in_memory()?);
    /// let guard = layer.guard();
    /// tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
    ///     tracing::error!("boom");
    /// });
    /// guard.flush()?;
    /// assert_eq!(guard.stats().events_stored(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush(&self) -> Result<(), FlushError> {
        self.shared.flush()
    }

    /// The layer's counters.
    pub fn stats(&self) -> Stats {
        Stats {
            inner: self.shared.stats.clone(),
        }
    }
}

impl Drop for TicketsGuard {
    fn drop(&mut self) {
        if let Err(e) = self.shared.shutdown() {
            if e.kind.is_some() {
                let _ = writeln!(
                    std::io::stderr(),
                    "taskwire-tickets: final flush failed: {e} ({})",
                    e.source
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                );
            }
        }
    }
}

/// Counts and samples of one group not yet committed.
struct Pending {
    group: Arc<Group>,
    by_level: [u64; 5],
    first_seen: i64,
    last_seen: i64,
    tags: Vec<TagCount>,
    /// The earliest sample (it may become the ticket's first) and the newest ones.
    earliest: Option<Sample>,
    newest: std::collections::VecDeque<Sample>,
    title: Option<String>,
}

struct Writer {
    groups: Arc<Registry>,
    stats: Arc<StatsInner>,
    store: Box<dyn Store>,
    pending: HashMap<u64, Pending>,
    pending_samples: usize,
    cfg: WriterConfig,
    reported: Vec<ErrorKind>,
    failures: u32,
    /// A batch the store rejected, retried as it was before anything newer.
    in_flight: Option<Batch>,
    /// During the final flush: when to stop retrying.
    deadline: Option<Instant>,
    /// A shutdown was requested (see [`Shared`]).
    stopping: Arc<AtomicBool>,
    /// The store's spool (see [`Store::spool_path`]).
    spool: Option<std::path::PathBuf>,
    /// Spool files are left that a replay could not write yet.
    replay_pending: bool,
}

impl Writer {
    fn run(mut self, rx: Receiver<Msg>) {
        taskwire_core::suppress::suppress_current_thread();
        self.spool = self.store.spool_path();
        self.replay();
        let mut next = Instant::now() + self.cfg.period;
        let mut periods: u32 = 0;
        loop {
            match rx.recv_deadline(next) {
                Ok(Msg::Sample(g, s)) => {
                    self.add_sample(g, *s);
                    if self.pending_samples >= self.cfg.max_batch_samples {
                        let _ = self.commit();
                    }
                }
                Ok(Msg::Flush(reply)) => {
                    self.drain(&rx);
                    let _ = reply.send(self.commit().map_err(FlushError::write));
                }
                Ok(Msg::Shutdown(reply, since)) => {
                    self.drain(&rx);
                    let _ = reply.send(self.final_flush(since));
                    return;
                }
                Err(RecvTimeoutError::Timeout) => {
                    let ok = self.commit().is_ok();
                    if ok && self.replay_pending {
                        self.replay();
                    }
                    periods = periods.wrapping_add(1);
                    if periods.is_multiple_of(16) {
                        self.groups.evict_idle(self.cfg.evict_after_periods);
                    }
                    // After failures, wait longer before the next attempt (up to 5 s).
                    let wait = if ok {
                        self.cfg.period
                    } else {
                        self.cfg
                            .period
                            .checked_mul(2u32.saturating_pow(self.failures.min(6)))
                            .unwrap_or(Duration::MAX)
                            .min(Duration::from_secs(5))
                    };
                    next = Instant::now() + wait;
                }
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = self.final_flush(Instant::now());
                    return;
                }
            }
        }
    }

    /// Takes the samples already queued (so a flush covers everything sent before it).
    fn drain(&mut self, rx: &Receiver<Msg>) {
        while let Ok(msg) = rx.try_recv() {
            match msg {
                Msg::Sample(g, s) => self.add_sample(g, *s),
                Msg::Flush(reply) | Msg::Shutdown(reply, _) => {
                    // A concurrent flush: it is served by the commit that follows.
                    let _ = reply.send(Ok(()));
                }
            }
        }
    }

    fn entry(&mut self, g: &Arc<Group>) -> &mut Pending {
        self.pending.entry(g.hash).or_insert_with(|| Pending {
            group: g.clone(),
            by_level: [0; 5],
            first_seen: g.created,
            last_seen: g.created,
            tags: Vec::new(),
            earliest: None,
            newest: std::collections::VecDeque::new(),
            title: None,
        })
    }

    fn add_sample(&mut self, g: Arc<Group>, s: Sample) {
        if self.pending_samples >= self.cfg.max_batch_samples.saturating_mul(2) {
            // The store is failing and samples pile up: memory stays bounded, counts go on.
            self.stats.samples_dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let keep = self.cfg.samples_per_ticket;
        let p = self.entry(&g);
        if p.title.is_none() {
            p.title = Some(if let Some(t) = &g.fixed_title {
                t.to_string()
            } else if s.message.is_empty() {
                format!("{} (no message)", g.seed.target)
            } else {
                crate::title::normalize(&s.message)
            });
        }
        p.first_seen = p.first_seen.min(s.time.as_micros());
        let before = usize::from(p.earliest.is_some()) + p.newest.len();
        match &p.earliest {
            None => p.earliest = Some(s),
            Some(e) if s.time < e.time => {
                if let Some(old) = p.earliest.replace(s) {
                    p.newest.push_front(old);
                }
            }
            Some(_) => p.newest.push_back(s),
        }
        // Older ones would be pruned by the store anyway.
        while p.newest.len() > keep {
            p.newest.pop_front();
        }
        let after = usize::from(p.earliest.is_some()) + p.newest.len();
        self.pending_samples += after.saturating_sub(before);
    }

    /// Collects every group's counters into `pending`.
    fn collect(&mut self) {
        let mut collected = Vec::new();
        self.groups.for_each(|g| {
            g.sampled.store(0, Ordering::Relaxed);
            match g.collect() {
                Some(d) => {
                    g.idle.store(0, Ordering::Relaxed);
                    let tags = g
                        .tags
                        .as_ref()
                        .and_then(|t| t.lock().ok().map(|mut t| t.take()))
                        .unwrap_or_default();
                    collected.push((g.clone(), d, tags));
                }
                None => {
                    g.idle.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        for (g, d, tags) in collected {
            self.stats.events.fetch_add(d.total(), Ordering::Relaxed);
            let p = self.entry(&g);
            for (a, b) in p.by_level.iter_mut().zip(d.by_level) {
                *a += b;
            }
            p.last_seen = p.last_seen.max(d.last_seen);
            merge_tags(&mut p.tags, tags);
        }
    }

    fn batch(&self, with_samples: bool) -> Batch {
        let mut groups = Vec::with_capacity(self.pending.len());
        for p in self.pending.values() {
            let count: u64 = p.by_level.iter().sum();
            let has_samples = p.earliest.is_some();
            if count == 0 && !has_samples {
                continue;
            }
            let g = &p.group;
            let mut u = GroupUpdate::new(
                g.fingerprint.to_string(),
                g.seed.clone(),
                count,
                Timestamp::from_micros(p.first_seen),
                Timestamp::from_micros(p.last_seen.max(p.first_seen)),
            );
            u.title = p.title.clone();
            u.release = self.cfg.release.clone();
            let mut tags = p.tags.clone();
            for (i, n) in p.by_level.iter().enumerate() {
                if *n > 0 {
                    tags.push(tag("level", LEVELS[i].as_str(), *n));
                }
            }
            if count > 0 {
                if let Some(s) = &self.cfg.service {
                    tags.push(tag("service", s, count));
                }
                tags.push(tag("host", &self.cfg.host, count));
                if let Some(r) = &self.cfg.release {
                    tags.push(tag("release", r, count));
                }
            }
            u.tags = tags;
            if with_samples {
                u.samples = p.earliest.iter().chain(p.newest.iter()).cloned().collect();
            }
            groups.push(u);
        }
        let mut b = Batch::new(groups);
        b.samples_per_ticket = self.cfg.samples_per_ticket;
        b.max_tag_values = self.cfg.max_tag_values;
        b
    }

    /// Writes everything pending. On failure the counts stay in memory: the failed batch is kept
    /// as it was and retried first next time, then whatever arrived since.
    ///
    /// Retrying the identical batch matters for stores without multi-document transactions
    /// (MongoDB): a batch whose outcome is unknown may be partly applied, and such a store
    /// recognises the same batch and replays it exactly once instead of counting twice.
    fn commit(&mut self) -> Result<(), WriteError> {
        self.collect();
        if let Some(batch) = self.in_flight.take() {
            self.write_batch(batch)?;
        }
        if self.pending.is_empty() {
            return Ok(());
        }
        let batch = self.batch(true);
        self.pending.clear();
        self.pending_samples = 0;
        self.write_batch(batch)
    }

    /// Writes `batch`; on failure keeps it in `in_flight` for the next attempt.
    fn write_batch(&mut self, mut batch: Batch) -> Result<(), WriteError> {
        let mut result = self.write_retrying(&batch);
        if let Err(e) = &result {
            if e.kind() == ErrorKind::Full {
                self.stats.disk_full.fetch_add(1, Ordering::Relaxed);
                // Keep the counts, give up the samples: they are what does not fit.
                let dropped: usize = batch.groups.iter().map(|g| g.samples.len()).sum();
                self.stats
                    .samples_dropped
                    .fetch_add(dropped as u64, Ordering::Relaxed);
                if dropped > 0 {
                    for g in &mut batch.groups {
                        g.samples.clear();
                    }
                    result = self.write_retrying(&batch);
                    if let Err(e) = &result {
                        if e.kind() == ErrorKind::Full {
                            self.stats.disk_full.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
        }
        match result {
            Ok(()) => {
                let events: u64 = batch.groups.iter().map(|g| g.count).sum();
                let samples: usize = batch.groups.iter().map(|g| g.samples.len()).sum();
                self.stats
                    .events_stored
                    .fetch_add(events, Ordering::Relaxed);
                self.stats
                    .samples_stored
                    .fetch_add(samples as u64, Ordering::Relaxed);
                self.stats.commits.fetch_add(1, Ordering::Relaxed);
                self.failures = 0;
                Ok(())
            }
            Err(e) => {
                self.stats.write_failures.fetch_add(1, Ordering::Relaxed);
                self.failures = self.failures.saturating_add(1);
                self.report(&e);
                self.in_flight = Some(batch);
                Err(e)
            }
        }
    }

    fn write_retrying(&mut self, batch: &Batch) -> Result<(), WriteError> {
        let start = Instant::now();
        let until = self.deadline;
        let mut backoff = Duration::from_millis(10);
        loop {
            match self.store.write(batch) {
                Err(e)
                    if e.kind() == ErrorKind::Busy
                        && start.elapsed() + backoff < self.cfg.busy_retry_for
                        && match until {
                            Some(u) => Instant::now() + backoff < u,
                            // A shutdown waits: its final flush retries within its deadline.
                            None => !self.stopping.load(Ordering::Relaxed),
                        } =>
                {
                    self.stats.busy_retries.fetch_add(1, Ordering::Relaxed);
                    std::thread::sleep(backoff);
                    backoff = (backoff * 2).min(Duration::from_millis(500));
                }
                other => return other,
            }
        }
    }

    fn report(&mut self, e: &WriteError) {
        if self.reported.contains(&e.kind()) {
            return;
        }
        self.reported.push(e.kind());
        let source = std::error::Error::source(e)
            .map(|s| format!(" ({s})"))
            .unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "taskwire-tickets: {e}{source}; counts are kept in memory and retried, \
             further failures of this kind are only counted"
        );
    }
}

fn tag(key: &str, value: &str, count: u64) -> TagCount {
    TagCount {
        key: key.to_owned(),
        value: value.to_owned(),
        count,
    }
}

fn merge_tags(into: &mut Vec<TagCount>, more: Vec<TagCount>) {
    for t in more {
        match into
            .iter_mut()
            .find(|x| x.key == t.key && x.value == t.value)
        {
            Some(x) => x.count += t.count,
            None => into.push(t),
        }
    }
}
