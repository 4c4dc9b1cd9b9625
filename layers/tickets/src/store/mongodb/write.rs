//! A batch's tickets: ids (known, looked up or allocated), the bulk upserts of open tickets and
//! the conditional updates of the others, and the test hook that cuts a batch short.

use mongodb::bson::{doc, Bson, Document};
use mongodb::options::ReturnDocument;

use crate::store::{Batch, Change, GroupUpdate, Status, StatusChange, StatusEvent};

use super::cache::Known;
use super::documents::{
    date, fast_ticket_op, has_token, history_push, hour_key, hour_of, i64_of, normals, put_time,
    state_of, to_i64, HOURS_FIRST,
};
use super::errors::{busy, is_duplicate, Busy, Invalid};
use super::reply::{outcomes, Outcome};
use super::token::Plan;
use super::{FailAfter, Inner, BYTES_PER_COMMAND, CAS_ATTEMPTS, OPS_PER_COMMAND, TOKENS_KEPT};

/// Tickets whose expired hourly counts one write prunes at most.
const PRUNE_TICKETS: i64 = 16;

impl Inner {
    /// `n` new ids from the counter `name`: the last one is returned.
    pub(super) async fn allocate(&self, name: &str, n: usize) -> mongodb::error::Result<i64> {
        let d = self
            .meta
            .find_one_and_update(doc! {"_id": name}, doc! {"$inc": {"seq": n as i64}})
            .return_document(ReturnDocument::After)
            .await?;
        d.as_ref().and_then(|d| i64_of(d, "seq")).ok_or_else(|| {
            mongodb::error::Error::custom(Busy(format!("counter {name} is missing")))
        })
    }

    /// Sends `ops` as `update` commands of at most [`OPS_PER_COMMAND`]; returns, per op, its
    /// outcome.
    pub(super) async fn bulk_update(
        &self,
        collection: &str,
        ops: Vec<(Document, usize)>,
    ) -> mongodb::error::Result<Vec<Outcome>> {
        if ops.is_empty() {
            return Ok(Vec::new());
        }
        let mut out = Vec::with_capacity(ops.len());
        let mut chunk: Vec<Bson> = Vec::new();
        let mut bytes = 0;
        let mut iter = ops.into_iter().peekable();
        while let Some((op, size)) = iter.next() {
            bytes += size;
            chunk.push(Bson::Document(op));
            let full = chunk.len() >= OPS_PER_COMMAND
                || iter
                    .peek()
                    .is_some_and(|(_, s)| bytes + s > BYTES_PER_COMMAND);
            if full || iter.peek().is_none() {
                let ops = std::mem::take(&mut chunk);
                bytes = 0;
                let n = ops.len();
                let mut cmd = doc! {"update": collection, "updates": ops, "ordered": false};
                if let Some(w) = &self.write_concern {
                    cmd.insert("writeConcern", w.clone());
                }
                let reply = self.db.run_command(cmd).await?;
                out.extend(outcomes(&reply, n)?);
            }
        }
        Ok(out)
    }

    pub(super) async fn write(
        &mut self,
        batch: &Batch,
        plan: &mut Plan,
    ) -> mongodb::error::Result<()> {
        self.ensure_schema().await.map_err(|(_, m, e)| match e {
            Some(e) => e,
            None => mongodb::error::Error::custom(Invalid(m)),
        })?;
        self.ticket_ids(batch, plan).await?;
        self.write_tickets(batch, plan).await?;
        self.injected(FailAfter::Tickets)?;
        self.write_samples(batch, plan).await?;
        self.injected(FailAfter::Samples)?;
        self.write_tags(batch, plan).await?;
        self.injected(FailAfter::Tags)?;
        self.prune_hours(batch).await
    }

    /// Deletes the hourly counts older than `batch`'s cutoff ([`Batch::hourly_cutoff`]) from
    /// at most [`PRUNE_TICKETS`] tickets, found through the `hours_first` index: a bounded
    /// cost per write, idempotent (a replayed batch prunes nothing more). A ticket's
    /// `hours_first` is moved to its oldest remaining hour only if no writer lowered it
    /// meanwhile (else the next write prunes it).
    async fn prune_hours(&mut self, batch: &Batch) -> mongodb::error::Result<()> {
        let Some(cutoff) = batch.hourly_cutoff() else {
            return Ok(());
        };
        let mut found = self
            .tickets
            .find(doc! {HOURS_FIRST: {"$lt": cutoff}})
            .projection(doc! {"_id": 1, "hours": 1, HOURS_FIRST: 1})
            .limit(PRUNE_TICKETS)
            .await?;
        let mut updates = Vec::new();
        while found.advance().await? {
            let d = found.deserialize_current()?;
            let (Some(id), Some(first)) = (i64_of(&d, "_id"), i64_of(&d, HOURS_FIRST)) else {
                continue;
            };
            let mut unset = Document::new();
            let mut left: Option<i64> = None;
            if let Ok(hours) = d.get_document("hours") {
                for (k, _) in hours {
                    match k.parse::<i64>() {
                        Ok(h) if h < cutoff => {
                            unset.insert(format!("hours.{k}"), "");
                        }
                        Ok(h) => left = Some(left.map_or(h, |l| l.min(h))),
                        Err(_) => {}
                    }
                }
            }
            let mut u = Document::new();
            match left {
                Some(l) => {
                    u.insert("$set", doc! {HOURS_FIRST: l});
                }
                None => {
                    unset.insert(HOURS_FIRST, "");
                }
            }
            u.insert("$unset", unset);
            updates.push((id, first, u));
        }
        for (id, first, u) in updates {
            self.tickets
                .update_one(doc! {"_id": id, HOURS_FIRST: first}, u)
                .await?;
        }
        Ok(())
    }

    /// The failure a test asked for with [`MongoDb::inject_failure_after`].
    pub(super) fn injected(&mut self, stage: FailAfter) -> mongodb::error::Result<()> {
        if self.fail_after == Some(stage) {
            self.fail_after = None;
            return Err(mongodb::error::Error::custom(Invalid(format!(
                "failure injected after stage {stage:?}"
            ))));
        }
        Ok(())
    }

    /// Ids of the batch's tickets: known, looked up, or allocated.
    pub(super) async fn ticket_ids(
        &mut self,
        batch: &Batch,
        plan: &mut Plan,
    ) -> mongodb::error::Result<()> {
        let mut lookup = Vec::new();
        for (i, g) in batch.groups.iter().enumerate() {
            if plan.ids[i].is_some() {
                continue;
            }
            match self.cache.tickets.get(&g.fingerprint) {
                Some(k) => plan.ids[i] = Some(k.id),
                None => lookup.push(g.fingerprint.as_str()),
            }
        }
        if !lookup.is_empty() {
            let mut cursor = self
                .tickets
                .find(doc! {"fingerprint": {"$in": lookup.iter().map(|f| Bson::from(*f)).collect::<Vec<_>>()}})
                .projection(doc! {"_id": 1, "fingerprint": 1, "status": 1, "title": 1})
                .await?;
            while cursor.advance().await? {
                let d: Document = cursor.deserialize_current()?;
                if let (Some(id), Ok(fp)) = (i64_of(&d, "_id"), d.get_str("fingerprint")) {
                    let k = Known {
                        id,
                        open: d.get_str("status") == Ok("open"),
                        titled: d.get_str("title").is_ok_and(|t| !t.is_empty()),
                        has_first: false,
                    };
                    self.cache.put_ticket(fp, k);
                }
            }
            for (i, g) in batch.groups.iter().enumerate() {
                if plan.ids[i].is_none() {
                    plan.ids[i] = self.cache.tickets.get(&g.fingerprint).map(|k| k.id);
                }
            }
        }
        let missing = plan.ids.iter().filter(|i| i.is_none()).count();
        if missing > 0 {
            let last = self.allocate("ticket_id", missing).await?;
            let first = last - missing as i64 + 1;
            let free = plan.ids.iter_mut().filter(|i| i.is_none());
            for (id, next) in free.zip(first..) {
                *id = Some(next);
            }
        }
        Ok(())
    }

    pub(super) async fn write_tickets(
        &mut self,
        batch: &Batch,
        plan: &mut Plan,
    ) -> mongodb::error::Result<()> {
        let token = plan.token;
        let mut ops = Vec::with_capacity(batch.groups.len());
        let mut owner = Vec::with_capacity(batch.groups.len());
        let mut titles = Vec::new();
        let mut slow = Vec::new();
        let keep = batch.samples_per_ticket;
        for (i, g) in batch.groups.iter().enumerate() {
            let id = plan.ids[i].unwrap_or_default();
            let known = self.cache.tickets.get(&g.fingerprint).copied();
            if plan.first[i].is_none() && known.is_some_and(|k| k.has_first && k.id == id) {
                plan.first[i] = Some(false);
            }
            if known.is_some_and(|k| !k.open && k.id == id) {
                slow.push(i);
                continue;
            }
            let more = normals(g, plan.first[i], keep);
            ops.push((
                fast_ticket_op(g, id, token, more),
                512 + g.fingerprint.len() * 2,
            ));
            owner.push(i);
            if let Some(t) = &g.title {
                if !known.is_some_and(|k| k.titled) {
                    // Fills an empty title (a new ticket gets it on insert).
                    titles.push((
                        doc! {"q": {"_id": id, "title": ""}, "u": {"$set": {"title": t}}},
                        64 + t.len(),
                    ));
                }
            }
        }
        // Only upserts here: each reports its own outcome.
        let outcomes = self.bulk_update(&self.names.tickets, ops).await?;
        self.bulk_update(&self.names.tickets, titles).await?;
        for (o, i) in outcomes.into_iter().zip(owner) {
            let g = &batch.groups[i];
            let id = plan.ids[i].unwrap_or_default();
            if o != Outcome::Conflict {
                plan.status[i] = Some(Status::Open);
            }
            if o == Outcome::Upserted {
                plan.changes[i] = Some(Change::Created);
            }
            match o {
                Outcome::Upserted => self.cache.put_ticket(
                    &g.fingerprint,
                    Known {
                        id,
                        open: true,
                        titled: g.title.is_some(),
                        has_first: false,
                    },
                ),
                Outcome::Done => {
                    let prev = self.cache.tickets.get(&g.fingerprint).copied();
                    self.cache.put_ticket(
                        &g.fingerprint,
                        Known {
                            id,
                            open: true,
                            titled: prev.is_some_and(|k| k.titled) || g.title.is_some(),
                            has_first: prev.is_some_and(|k| k.has_first && k.id == id),
                        },
                    );
                }
                Outcome::Conflict => slow.push(i),
            }
        }
        for i in slow {
            let more = normals(&batch.groups[i], plan.first[i], keep);
            self.slow_ticket(&batch.groups[i], i, plan, more).await?;
        }
        Ok(())
    }

    /// A ticket that is not open (or was made by another writer a moment ago): read it, apply
    /// the status rules, write it back if no one changed its status meanwhile.
    pub(super) async fn slow_ticket(
        &mut self,
        g: &GroupUpdate,
        i: usize,
        plan: &mut Plan,
        samples: i64,
    ) -> mongodb::error::Result<()> {
        let token = plan.token;
        for _ in 0..CAS_ATTEMPTS {
            let Some(d) = self
                .tickets
                .find_one(doc! {"fingerprint": &g.fingerprint})
                .await?
            else {
                // Deleted meanwhile: create it again.
                let id = plan.ids[i].unwrap_or_default();
                let op = fast_ticket_op(g, id, token, samples);
                let q = op.get_document("q").cloned().unwrap_or_default();
                let u = op.get_document("u").cloned().unwrap_or_default();
                match self.tickets.update_one(q, u).upsert(true).await {
                    Ok(_) => {
                        self.cache.tickets.remove(&g.fingerprint);
                        plan.status[i] = Some(Status::Open);
                        plan.changes[i] = Some(Change::Created);
                        return Ok(());
                    }
                    Err(e) if is_duplicate(&e) => continue,
                    Err(e) => return Err(e),
                }
            };
            let Some(id) = i64_of(&d, "_id") else {
                return Err(mongodb::error::Error::custom(Invalid(format!(
                    "ticket {} has no integer _id",
                    g.fingerprint
                ))));
            };
            plan.ids[i] = Some(id);
            let titled = d.get_str("title").is_ok_and(|t| !t.is_empty());
            if has_token(&d, token) {
                // An earlier attempt of this batch wrote it: its change is in the plan already.
                plan.status[i] = Some(state_of(&d).status);
                self.cache.put_ticket(
                    &g.fingerprint,
                    Known {
                        id,
                        open: d.get_str("status") == Ok("open"),
                        titled,
                        has_first: false,
                    },
                );
                return Ok(());
            }
            let rev = i64_of(&d, "rev").unwrap_or(0);
            let mut state = state_of(&d);
            let change = state.apply(g);
            let mut set = doc! {"status": state.status.as_str()};
            let mut unset = Document::new();
            put_time(&mut set, &mut unset, "regressed_at", state.regressed_at);
            put_time(&mut set, &mut unset, "mute_until", state.mute_until);
            match state.mute_until_count {
                Some(c) => set.insert("mute_until_count", to_i64(c)),
                None => unset.insert("mute_until_count", ""),
            };
            if !titled {
                if let Some(t) = &g.title {
                    set.insert("title", t);
                }
            }
            let mut u = doc! {
                "$inc": {"count": to_i64(g.count), "rev": 1_i64, "samples": samples, hour_key(g): to_i64(g.count)},
                "$min": {"first_seen_us": g.first_seen.as_micros(), "first_seen": date(g.first_seen), HOURS_FIRST: hour_of(g)},
                "$max": {"last_seen_us": g.last_seen.as_micros(), "last_seen": date(g.last_seen)},
                "$push": {"ops": {"$each": [token], "$slice": -TOKENS_KEPT}},
                "$set": set,
            };
            if !unset.is_empty() {
                u.insert("$unset", unset);
            }
            let event = match change {
                Some(Change::Regressed) => Some(StatusEvent::new(
                    state.regressed_at.unwrap_or(g.last_seen),
                    StatusChange::Regressed,
                )),
                Some(Change::Unmuted) => Some(StatusEvent::new(g.last_seen, StatusChange::Unmuted)),
                _ => None,
            };
            if let (Some(e), Ok(push)) = (&event, u.get_document_mut("$push")) {
                push.insert("history", history_push(e));
            }
            let r = self
                .tickets
                .update_one(doc! {"_id": id, "rev": rev, "ops": {"$ne": token}}, u)
                .await?;
            if r.matched_count == 1 {
                plan.status[i] = Some(state.status);
                plan.changes[i] = change;
                self.cache.put_ticket(
                    &g.fingerprint,
                    Known {
                        id,
                        open: state.status == Status::Open,
                        titled: titled || g.title.is_some(),
                        has_first: false,
                    },
                );
                return Ok(());
            }
        }
        Err(busy(format!(
            "ticket {} changed under {CAS_ATTEMPTS} attempts to update it",
            g.fingerprint
        )))
    }
}
