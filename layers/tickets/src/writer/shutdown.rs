//! The writer's start and end: the final flush with its deadline, the spool of what the store
//! still refuses then, and the replay of spool files when a writer starts (see
//! [`crate::spool`] and `docs/tickets.md`, "Shutdown").

use std::io::Write as _;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{FlushError, Writer};
use crate::random_key::random_key;
use crate::spool;
use crate::store::{ErrorKind, WriteError};

impl Writer {
    /// The last commit: retried with backoff until the shutdown timeout, then what is left is
    /// spooled.
    pub(super) fn final_flush(&mut self, since: Instant) -> Result<(), FlushError> {
        let deadline = since + self.cfg.shutdown_timeout;
        self.deadline = Some(deadline);
        let mut backoff = Duration::from_millis(10);
        let cause = loop {
            // No attempt starts after the deadline (a write in progress when the shutdown was
            // asked for may have used the time up), so the exit takes at most one attempt longer.
            if Instant::now() >= deadline {
                if !self.has_pending() {
                    return Ok(());
                }
                break WriteError::new(
                    ErrorKind::Other,
                    "the shutdown timeout passed before the store took the final flush",
                );
            }
            match self.commit() {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() + backoff >= deadline => break e,
                Err(_) => {}
            }
            std::thread::sleep(backoff);
            backoff = (backoff * 2).min(Duration::from_millis(500));
        };
        self.spool_rest(cause)
    }

    /// Whether anything waits to be written (a failed batch, counts, samples).
    fn has_pending(&mut self) -> bool {
        self.collect();
        self.in_flight.is_some() || !self.pending.is_empty()
    }

    /// Writes the failed batch and everything counted since to a spool file. Without a spool
    /// (or when it cannot be written) they are lost, and stderr says how many.
    fn spool_rest(&mut self, cause: WriteError) -> Result<(), FlushError> {
        let mut entries = Vec::with_capacity(2);
        if let Some(b) = self.in_flight.take() {
            let key = self.store.pending_key(&b).unwrap_or_else(random_key);
            entries.push((key, b));
        }
        self.collect();
        if !self.pending.is_empty() {
            entries.push((random_key(), self.batch(true)));
            self.pending.clear();
            self.pending_samples = 0;
        }
        if entries.is_empty() {
            return Ok(());
        }
        let events = spool::events(&entries);
        let written = match &self.spool {
            None => Err(std::io::Error::other("this store keeps no spool")),
            Some(stem) => spool::write(stem, &entries),
        };
        let shown = std::error::Error::source(&cause)
            .map(|s| format!("{cause} ({s})"))
            .unwrap_or_else(|| cause.to_string());
        let secs = self.cfg.shutdown_timeout.as_secs_f64();
        match written {
            Ok(path) => {
                self.stats
                    .events_spooled
                    .fetch_add(events, Ordering::Relaxed);
                let _ = writeln!(
                    std::io::stderr(),
                    "taskwire-tickets: the store refused the final flush for {secs} s: {shown}; \
                     {events} occurrences are spooled to {} and will be written by the next \
                     process that writes tickets to this store",
                    path.display()
                );
                Ok(())
            }
            Err(io) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "taskwire-tickets: the store refused the final flush for {secs} s: {shown}; \
                     {events} occurrences are lost: cannot spool them ({io})"
                );
                Err(FlushError::write(cause))
            }
        }
    }

    /// Replays the store's spool files, oldest first, each batch exactly once; a file is
    /// removed once all its batches are in. On a write failure the rest waits for a later try.
    pub(super) fn replay(&mut self) {
        self.replay_pending = false;
        let Some(stem) = self.spool.clone() else {
            return;
        };
        // A spool file still `.tmp` after an hour was cut short by a crash while being written.
        spool::remove_stale(&stem, Duration::from_secs(3600));
        let files = match spool::list(&stem) {
            Ok(f) => f,
            Err(e) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "taskwire-tickets: cannot look for spool files of {}: {e}",
                    stem.display()
                );
                return;
            }
        };
        for file in files {
            let entries = match spool::read(&file) {
                Ok(entries) => entries,
                // Another writer replayed and removed it meanwhile.
                Err(spool::ReadError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                    continue
                }
                Err(spool::ReadError::Io(e)) => {
                    let _ = writeln!(
                        std::io::stderr(),
                        "taskwire-tickets: cannot read spool file {}: {e}; it is tried again \
                         by the next writer",
                        file.display()
                    );
                    continue;
                }
                Err(spool::ReadError::Bad(e)) => {
                    let aside = spool::set_aside(&file).map_or_else(
                        |e| format!("not set aside: {e}"),
                        |p| p.display().to_string(),
                    );
                    let _ = writeln!(
                        std::io::stderr(),
                        "taskwire-tickets: spool file {} is damaged ({e}); kept as {aside}",
                        file.display()
                    );
                    continue;
                }
            };
            for (key, batch) in &entries {
                match self.store.write_once(batch, *key) {
                    Ok(true) => {
                        self.stats
                            .events_replayed
                            .fetch_add(spool::batch_events(batch), Ordering::Relaxed);
                    }
                    Ok(false) => {}
                    Err(e) => {
                        self.stats.write_failures.fetch_add(1, Ordering::Relaxed);
                        self.report(&e);
                        self.replay_pending = true;
                        return;
                    }
                }
            }
            if let Err(e) = spool::remove(&file) {
                // Its batches are recorded as applied: a later replay skips them.
                let _ = writeln!(
                    std::io::stderr(),
                    "taskwire-tickets: cannot remove replayed spool file {}: {e}",
                    file.display()
                );
            }
        }
    }
}
