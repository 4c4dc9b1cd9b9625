//! The exactly-once protocol: every batch carries a token, a failed batch is retried with the
//! same token and ids ([`Plan`]), and a spooled batch replays with its spool key as its token
//! (see the module docs of [`super`]).

use std::path::PathBuf;

use mongodb::bson::doc;

use crate::store::{
    Batch, Change, Status, TicketId, TicketWriter, Timestamp, WriteError, Written, WrittenTicket,
};

use super::cache::Cache;
use super::documents::date;
use super::errors::{is_duplicate, write_err, Invalid};
use super::MongoDb;

/// The token and ids of one batch, kept while it is retried.
#[derive(Clone, Debug)]
pub(super) struct Plan {
    pub(super) token: i64,
    /// Per group: its ticket's id, once known.
    pub(super) ids: Vec<Option<i64>>,
    /// Per group: whether its earliest sample is the ticket's first (`None`: try).
    pub(super) first: Vec<Option<bool>>,
    /// Per group: ids for its samples (one per sample, allocated once).
    pub(super) sample_ids: Vec<Vec<i64>>,
    /// Per group: its ticket's status once written, and the change this batch made to it
    /// (kept across retries: a retry finds the work of an earlier attempt done).
    pub(super) status: Vec<Option<Status>>,
    pub(super) changes: Vec<Option<Change>>,
}

impl Plan {
    pub(super) fn new(batch: &Batch) -> Plan {
        let n = batch.groups.len();
        Plan {
            token: random_token(),
            ids: vec![None; n],
            first: vec![None; n],
            sample_ids: vec![Vec::new(); n],
            status: vec![None; n],
            changes: vec![None; n],
        }
    }
}

/// How long the key of a replayed spool batch is remembered in `meta`.
pub(super) const SPOOL_MARK_DAYS: i64 = 30;

pub(super) fn random_token() -> i64 {
    // The same bits as a key, read as signed (BSON has no unsigned 64-bit integer).
    crate::random_key::random_key() as i64
}

impl MongoDb {
    /// Writes `batch` with `plan` (reused from a failed attempt of the same batch and token).
    pub(super) fn write_planned(
        &mut self,
        batch: &Batch,
        token: Option<i64>,
    ) -> Result<Written, WriteError> {
        let mut plan = match self.retry.take() {
            Some((b, p)) if b == *batch && token.is_none_or(|t| t == p.token) => p,
            _ => {
                let mut p = Plan::new(batch);
                if let Some(t) = token {
                    p.token = t;
                }
                p
            }
        };
        let result = match &mut self.inner {
            Some(i) => self.rt.block_on(i.write(batch, &mut plan)),
            None => Err(mongodb::error::Error::custom(Invalid(
                "the store is closed".into(),
            ))),
        };
        if result.is_ok() {
            return Ok(written(&plan));
        }
        result.map(|()| Written::unknown()).map_err(|e| {
            self.retry = Some((batch.clone(), plan));
            if let Some(i) = self.inner.as_mut() {
                // What is cached may be what failed (a deleted ticket, a stale tag index).
                i.cache = Cache::default();
            }
            write_err(e, self.target())
        })
    }
}

/// What the batch of `plan` did, when every ticket of it is known.
fn written(plan: &Plan) -> Written {
    let mut tickets = Vec::with_capacity(plan.ids.len());
    for ((id, status), change) in plan.ids.iter().zip(&plan.status).zip(&plan.changes) {
        match (id, status) {
            (Some(id), Some(status)) => tickets.push(WrittenTicket {
                id: TicketId(*id),
                status: *status,
                change: *change,
            }),
            _ => return Written::unknown(),
        }
    }
    Written::new(tickets)
}

impl TicketWriter for MongoDb {
    fn write(&mut self, batch: &Batch) -> Result<Written, WriteError> {
        if batch.groups.is_empty() {
            return Ok(Written::unknown());
        }
        self.write_planned(batch, None)
    }

    /// `{dir}/mongodb-{hash of hosts, database, prefix}-{database}-{prefix}spool`, in the
    /// folder of [`MongoDbBuilder::with_spool_dir`].
    fn spool_path(&self) -> Option<PathBuf> {
        self.spool.clone()
    }

    fn pending_key(&self, batch: &Batch) -> Option<u64> {
        match &self.retry {
            Some((b, p)) if b == batch => Some(p.token as u64),
            _ => None,
        }
    }

    /// The batch is written with `key` as its token, so a repeat skips every document it
    /// already reached; then `{_id: "spool:{key}"}` is recorded in `meta`. `Ok(false)` when
    /// that record exists.
    fn write_once(&mut self, batch: &Batch, key: u64) -> Result<bool, WriteError> {
        let mark = format!("spool:{key:016x}");
        let target = self.target().to_owned();
        let seen = self
            .run(async |i| i.meta.find_one(doc! {"_id": &mark}).await)
            .map_err(|e| write_err(e, &target))?;
        if seen.is_some() {
            return Ok(false);
        }
        if !batch.groups.is_empty() {
            self.write_planned(batch, Some(key as i64))?;
        }
        let now = Timestamp::now();
        let cutoff = now
            .as_micros()
            .saturating_sub(SPOOL_MARK_DAYS * 86_400 * 1_000_000);
        self.run(async |i| {
            let marked = i
                .meta
                .update_one(
                    doc! {"_id": &mark},
                    doc! {"$setOnInsert": {"at_us": now.as_micros(), "at": date(now)}},
                )
                .upsert(true)
                .await;
            match marked {
                // Another writer replaying the same file marked it a moment before.
                Err(e) if !is_duplicate(&e) => return Err(e),
                _ => {}
            }
            i.meta
                .delete_many(doc! {"_id": {"$regex": "^spool:"}, "at_us": {"$lt": cutoff}})
                .await
        })
        .map_err(|e| write_err(e, &target))?;
        Ok(true)
    }
}
