//! The writer's commits: a [`Batch`] from what is pending, written with retries on a busy
//! store, the samples given up on a full disk, the failed batch kept for an unchanged retry.

use std::io::Write as _;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::Writer;
use crate::store::{Batch, ErrorKind, GroupUpdate, TagCount, Timestamp, WriteError, Written};
use taskwire_core::schema::LEVELS;

impl Writer {
    pub(super) fn batch(&self, with_samples: bool) -> Batch {
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
        b.hourly_retention = self.cfg.hourly_retention;
        b
    }

    /// Writes everything pending. On failure the counts stay in memory: the failed batch is kept
    /// as it was and retried first next time, then whatever arrived since.
    ///
    /// Retrying the identical batch matters for stores without multi-document transactions
    /// (MongoDB): a batch whose outcome is unknown may be partly applied, and such a store
    /// recognises the same batch and replays it exactly once instead of counting twice.
    pub(super) fn commit(&mut self) -> Result<(), WriteError> {
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
            Ok(written) => {
                if let Some(alerts) = &mut self.alerts {
                    alerts.raise(&batch, &written);
                }
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

    fn write_retrying(&mut self, batch: &Batch) -> Result<Written, WriteError> {
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

    pub(super) fn report(&mut self, e: &WriteError) {
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
