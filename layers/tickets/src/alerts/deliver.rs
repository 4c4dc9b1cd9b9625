//! The alerts' two halves: [`Raiser`], on the tickets writer thread, turns each committed
//! write into alerts by the [rules](super::rules) and queues them (a full queue drops and
//! counts); the delivery thread hands each alert to the callbacks and posts it to the
//! webhooks, retrying with backoff.

use std::io::Write as _;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, Sender, TrySendError};

use super::rules::{Decision, Rules};
use super::{Alert, AlertCounters, Alerts, Attempt, Callback};
use crate::store::{Batch, Timestamp, Written};

/// What the writer knows about itself, copied into each alert.
#[derive(Clone, Debug)]
pub(crate) struct Origin {
    pub(crate) service: Option<String>,
    pub(crate) release: Option<String>,
    pub(crate) host: String,
}

/// Commits an alert waits for its ticket's title before it is sent with the fallback title.
///
/// An occurrence is counted before its sample is queued, so a commit can write a new ticket's
/// count while the sample that carries its message is still on its way; the next commit (at
/// the latest the shutdown's) brings it.
const TITLE_WAIT_COMMITS: u8 = 2;

/// The writer's half: rules and the queue to the delivery thread.
pub(crate) struct Raiser {
    rules: Rules,
    tx: Sender<Alert>,
    stats: Arc<AlertCounters>,
    origin: Origin,
    /// Raised alerts whose ticket had no title yet, with the commits they have waited.
    untitled: Vec<(Alert, u8)>,
}

/// The delivery thread, for the guard's shutdown.
pub(crate) struct Delivery {
    pub(crate) thread: JoinHandle<()>,
    /// Set when the guard stops: no retry starts after it.
    pub(crate) deadline: Arc<OnceLock<Instant>>,
}

impl Raiser {
    /// Raises the alerts of a committed `batch` that the store reported as `written`.
    pub(crate) fn raise(&mut self, batch: &Batch, written: &Written) {
        self.retitle(batch);
        let tickets = written.tickets();
        if tickets.len() != batch.groups.len() {
            return;
        }
        let now = Timestamp::now().as_micros();
        for (g, w) in batch.groups.iter().zip(tickets) {
            let kind =
                match self
                    .rules
                    .decide(&g.fingerprint, g.count, g.last_seen.as_micros(), now, w)
                {
                    Decision::Nothing => continue,
                    Decision::Limited => {
                        self.stats.limited.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                    Decision::Raise(kind) => kind,
                };
            let title = match g.title.as_deref() {
                Some(t) if !t.is_empty() => Some(t.to_owned()),
                _ => None,
            };
            let alert = Alert {
                kind,
                ticket: w.id,
                fingerprint: g.fingerprint.clone(),
                title: title.clone().unwrap_or_default(),
                level: g.seed.level,
                target: g.seed.target.clone(),
                status: w.status,
                service: self.origin.service.clone(),
                release: self.origin.release.clone(),
                host: self.origin.host.clone(),
                occurrences: g.count,
                first_seen: g.first_seen,
                last_seen: g.last_seen,
            };
            if title.is_some() {
                self.send(alert);
            } else {
                self.untitled.push((alert, 0));
            }
        }
    }

    /// Sends the waiting alerts whose ticket got its title in `batch`, and those that have
    /// waited long enough with the fallback title.
    fn retitle(&mut self, batch: &Batch) {
        for (mut alert, waited) in std::mem::take(&mut self.untitled) {
            let title = batch
                .groups
                .iter()
                .filter(|g| g.fingerprint == alert.fingerprint)
                .find_map(|g| g.title.as_deref().filter(|t| !t.is_empty()));
            if let Some(t) = title {
                alert.title = t.to_owned();
                self.send(alert);
            } else if waited + 1 >= TITLE_WAIT_COMMITS {
                self.send_untitled(alert);
            } else {
                self.untitled.push((alert, waited + 1));
            }
        }
    }

    /// Sends every waiting alert (with the fallback title): the writer is stopping.
    pub(crate) fn finish(&mut self) {
        for (alert, _) in std::mem::take(&mut self.untitled) {
            self.send_untitled(alert);
        }
    }

    fn send_untitled(&mut self, mut alert: Alert) {
        alert.title = format!("{} (no message)", alert.target);
        self.send(alert);
    }

    fn send(&mut self, alert: Alert) {
        match self.tx.try_send(alert) {
            Ok(()) => {
                self.stats.raised.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}

/// Starts the delivery thread of `alerts`; `None` when it cannot start (reported on stderr).
pub(crate) fn start(
    alerts: Alerts,
    stats: Arc<AlertCounters>,
    origin: Origin,
) -> Option<(Raiser, Delivery)> {
    let (tx, rx) = bounded(alerts.queue_capacity.max(1));
    let deadline = Arc::new(OnceLock::new());
    let worker = Worker {
        callbacks: alerts.callbacks,
        #[cfg(feature = "webhook")]
        webhooks: alerts.webhooks,
        retries: alerts.retries,
        backoff: alerts.backoff,
        #[cfg(feature = "webhook")]
        timeout: alerts.timeout,
        stats: stats.clone(),
        deadline: deadline.clone(),
        reported: false,
    };
    let spawned = std::thread::Builder::new()
        .name("taskwire-alerts".into())
        .spawn(move || worker.run(rx));
    match spawned {
        Ok(thread) => Some((
            Raiser {
                rules: Rules::new(alerts.rules),
                tx,
                stats,
                origin,
                untitled: Vec::new(),
            },
            Delivery { thread, deadline },
        )),
        Err(e) => {
            let _ = writeln!(
                std::io::stderr(),
                "taskwire-tickets: cannot start the alerts thread ({e}); no alert is sent"
            );
            None
        }
    }
}

struct Worker {
    callbacks: Vec<Callback>,
    #[cfg(feature = "webhook")]
    webhooks: Vec<super::webhook::Webhook>,
    retries: u32,
    backoff: Duration,
    #[cfg(feature = "webhook")]
    timeout: Duration,
    stats: Arc<AlertCounters>,
    deadline: Arc<OnceLock<Instant>>,
    reported: bool,
}

impl Worker {
    #[cfg_attr(not(feature = "webhook"), allow(unused_mut))]
    fn run(mut self, rx: Receiver<Alert>) {
        // What the HTTP client logs never becomes a ticket (or an alert).
        taskwire_core::suppress::suppress_current_thread();
        #[cfg(feature = "webhook")]
        let client = super::webhook::client(self.timeout);
        for alert in rx.iter() {
            for cb in &self.callbacks {
                match catch_unwind(AssertUnwindSafe(|| cb(&alert))) {
                    Ok(()) => {
                        self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(_) => {
                        self.stats.failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            #[cfg(feature = "webhook")]
            for i in 0..self.webhooks.len() {
                let result = match &client {
                    Ok(c) => self.with_retries(|| self.webhooks[i].post(c, &alert)),
                    Err(e) => Err(e.clone()),
                };
                match result {
                    Ok(()) => {
                        self.stats.delivered.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(e) => {
                        self.stats.failures.fetch_add(1, Ordering::Relaxed);
                        let url = self.webhooks[i].to_string();
                        self.report(&format!("alert webhook {url}: {e}"));
                    }
                }
            }
        }
    }

    /// Runs `attempt` until it is done, fails for good, or the retries (or the shutdown's
    /// deadline) run out, sleeping `backoff`, doubled each time up to 30 s, between tries.
    #[cfg_attr(not(feature = "webhook"), allow(dead_code))]
    fn with_retries(&self, mut attempt: impl FnMut() -> Attempt) -> Result<(), String> {
        let mut backoff = self.backoff;
        let mut tries = 0;
        loop {
            match attempt() {
                Attempt::Done => return Ok(()),
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry(e) => {
                    let late = self
                        .deadline
                        .get()
                        .is_some_and(|d| Instant::now() + backoff > *d);
                    if tries >= self.retries || late {
                        return Err(format!("{e} (after {} attempts)", tries + 1));
                    }
                }
            }
            tries += 1;
            self.stats.retries.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_secs(30));
        }
    }

    /// The first failure goes to stderr; later ones are only counted.
    #[cfg_attr(not(feature = "webhook"), allow(dead_code))]
    fn report(&mut self, what: &str) {
        if !self.reported {
            self.reported = true;
            let _ = writeln!(
                std::io::stderr(),
                "taskwire-tickets: {what}; the alert is given up, further failures are only \
                 counted (TicketsGuard::stats)"
            );
        }
    }
}
