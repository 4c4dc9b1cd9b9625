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
//! replays the store's spool files exactly once ([`TicketWriter::write_once`]); a replay that fails is
//! tried again after each later commit.
//!
//! The thread marks itself suppressed, so the store's own events (a driver's logs) never loop
//! back into tickets.

use std::backtrace::Backtrace;
use std::collections::HashMap;
use std::fmt;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender, TrySendError};

mod commit;
mod guard;
mod shutdown;

pub(crate) use guard::StatsInner;
pub use guard::{FlushError, Stats, TicketsGuard};

use crate::alerts::{Alerts, Delivery, Origin, Raiser};
use crate::groups::{Group, Registry};
use crate::store::{Batch, ErrorKind, Sample, TagCount, TicketWriter};

/// How long the final flush keeps retrying by default: within the 10 s that `docker stop` (and
/// many container runtimes) wait before SIGKILL, with room for the application's own shutdown
/// and for one last store attempt that started just before the deadline.
pub(crate) const DEFAULT_SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// A message to the writer.
pub(crate) enum Msg {
    /// A sample and, when one was captured, its backtrace, resolved on the writer's thread.
    Sample(Arc<Group>, Box<Sample>, Option<Arc<Backtrace>>),
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
    pub(crate) hourly_retention: Duration,
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

/// What the layer and its guard share.
pub(crate) struct Shared {
    pub(crate) groups: Arc<Registry>,
    pub(crate) stats: Arc<StatsInner>,
    /// The queue to the writer; `None` when its thread could not start (counts then stay in
    /// memory).
    sender: Option<Sender<Msg>>,
    thread: Mutex<Option<JoinHandle<()>>>,
    stopped: AtomicBool,
    /// Set when a shutdown is requested, so a write retrying a busy store gives way to the
    /// final flush (whose deadline is already running).
    stopping: Arc<AtomicBool>,
    /// The alerts' delivery thread, stopped after the writer.
    delivery: Mutex<Option<Delivery>>,
    shutdown_timeout: Duration,
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
    /// Starts the writer thread on `store` with its final configuration.
    pub(crate) fn start(
        store: Box<dyn TicketWriter>,
        cfg: WriterConfig,
        max_groups: usize,
        alerts: Option<Alerts>,
    ) -> Shared {
        let groups = Arc::new(Registry::new(max_groups.max(1)));
        let stats = Arc::<StatsInner>::default();
        let stopping = Arc::<AtomicBool>::default();
        let origin = Origin {
            service: cfg.service.clone(),
            release: cfg.release.clone(),
            host: cfg.host.clone(),
        };
        let shutdown_timeout = cfg.shutdown_timeout;
        let (raiser, delivery) =
            match alerts.and_then(|a| crate::alerts::start(a, stats.alerts.clone(), origin)) {
                Some((r, d)) => (Some(r), Some(d)),
                None => (None, None),
            };
        let (tx, rx) = bounded(cfg.queue_capacity.max(1));
        let writer = Writer {
            groups: groups.clone(),
            stats: stats.clone(),
            store,
            pending: HashMap::new(),
            pending_samples: 0,
            cfg,
            reported: Vec::new(),
            failures: 0,
            in_flight: None,
            deadline: None,
            stopping: stopping.clone(),
            spool: None,
            replay_pending: false,
            alerts: raiser,
        };
        let spawned = std::thread::Builder::new()
            .name("taskwire-tickets".into())
            .spawn(move || writer.run(rx));
        let (sender, thread) = match spawned {
            Ok(h) => (Some(tx), Some(h)),
            Err(e) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "taskwire-tickets: cannot start the writer thread ({e}); \
                     tickets are counted in memory only"
                );
                (None, None)
            }
        };
        Shared {
            groups,
            stats,
            sender,
            thread: Mutex::new(thread),
            stopped: AtomicBool::new(false),
            stopping,
            delivery: Mutex::new(delivery),
            shutdown_timeout,
        }
    }

    /// The queue to the writer.
    fn sender(&self) -> Option<&Sender<Msg>> {
        self.sender.as_ref()
    }

    /// Whether a sample would be accepted now (so a full queue costs no sample building).
    pub(crate) fn has_room(&self) -> bool {
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
    pub(crate) fn send_sample(
        &self,
        group: Arc<Group>,
        sample: Sample,
        backtrace: Option<Arc<Backtrace>>,
    ) {
        let sent = match self.sender() {
            Some(tx) if !self.stopped.load(Ordering::Relaxed) => {
                match tx.try_send(Msg::Sample(group, Box::new(sample), backtrace)) {
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

    fn request(&self, shutdown: bool) -> Result<(), FlushError> {
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
    pub(crate) fn flush(&self) -> Result<(), FlushError> {
        self.request(false)
    }

    /// Flushes, stops the writer and waits for it.
    /// Then delivers the alerts still queued (the writer's last commit may raise some),
    /// retrying until the shutdown timeout, and stops the alerts thread.
    pub(crate) fn shutdown(&self) -> Result<(), FlushError> {
        let delivery = self.delivery.lock().ok().and_then(|mut d| d.take());
        if let Some(d) = &delivery {
            let _ = d.deadline.set(Instant::now() + self.shutdown_timeout);
        }
        let r = self.request(true);
        self.stopped.store(true, Ordering::Relaxed);
        let handle = self.thread.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
        // The writer is gone with its end of the alerts queue: the thread ends once it is empty.
        if let Some(d) = delivery {
            let _ = d.thread.join();
        }
        r
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
    store: Box<dyn TicketWriter>,
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
    /// The store's spool (see [`TicketWriter::spool_path`]).
    spool: Option<std::path::PathBuf>,
    /// Spool files are left that a replay could not write yet.
    replay_pending: bool,
    /// Raises the alerts of each committed write.
    alerts: Option<Raiser>,
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
                Ok(Msg::Sample(g, s, bt)) => {
                    self.add_sample(g, *s, bt.as_deref());
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
                    let flushed = self.final_flush(since);
                    if let Some(alerts) = &mut self.alerts {
                        alerts.finish();
                    }
                    let _ = reply.send(flushed);
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
                    if let Some(alerts) = &mut self.alerts {
                        alerts.finish();
                    }
                    return;
                }
            }
        }
    }

    /// Takes the samples already queued (so a flush covers everything sent before it).
    fn drain(&mut self, rx: &Receiver<Msg>) {
        while let Ok(msg) = rx.try_recv() {
            match msg {
                Msg::Sample(g, s, bt) => self.add_sample(g, *s, bt.as_deref()),
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

    fn add_sample(&mut self, g: Arc<Group>, mut s: Sample, backtrace: Option<&Backtrace>) {
        if self.pending_samples >= self.cfg.max_batch_samples.saturating_mul(2) {
            // The store is failing and samples pile up: memory stays bounded, counts go on.
            self.stats.samples_dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if let Some(bt) = backtrace {
            crate::sample::add_backtrace(&mut s, bt);
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
