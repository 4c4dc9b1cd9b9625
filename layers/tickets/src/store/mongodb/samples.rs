//! A batch's samples: the ticket's first (id `-ticket_id`), the others by allocated ids, and
//! the pruning of the oldest beyond the kept number.

use std::collections::HashMap;

use mongodb::bson::{doc, Bson, Document};

use crate::store::Batch;

use super::documents::{i64_of, sample_doc};
use super::token::Plan;
use super::{Inner, DUPLICATE_KEY};

impl Inner {
    pub(super) async fn write_samples(
        &mut self,
        batch: &Batch,
        plan: &mut Plan,
    ) -> mongodb::error::Result<()> {
        let keep = batch.samples_per_ticket;
        // Ids for every sample of a group that has none yet (allocated once per batch).
        let need: usize = batch
            .groups
            .iter()
            .enumerate()
            .filter(|(i, g)| plan.sample_ids[*i].is_empty() && !g.samples.is_empty())
            .map(|(_, g)| g.samples.len())
            .sum();
        if need > 0 {
            let last = self.allocate("occurrence_id", need).await?;
            let mut next = last - need as i64 + 1;
            for (i, g) in batch.groups.iter().enumerate() {
                if plan.sample_ids[i].is_empty() && !g.samples.is_empty() {
                    plan.sample_ids[i] = (0..g.samples.len() as i64).map(|k| next + k).collect();
                    next += g.samples.len() as i64;
                }
            }
        }
        let mut docs = Vec::new();
        // Per document: (group, sample index, tried as the first).
        let mut what = Vec::new();
        for (i, g) in batch.groups.iter().enumerate() {
            if g.samples.is_empty() {
                continue;
            }
            let id = plan.ids[i].unwrap_or_default();
            let n = g.samples.len();
            for (j, s) in g.samples.iter().enumerate() {
                let first = j == 0 && plan.first[i] != Some(false);
                if !first && j + keep < n {
                    continue;
                }
                let oid = if first { -id } else { plan.sample_ids[i][j] };
                docs.push(sample_doc(oid, id, first, plan.token, s));
                what.push((i, j, first));
            }
        }
        // Per ticket with new ordinary samples, those its ticket update did not count yet (a
        // sample that lost the race to be the first).
        let mut touched: HashMap<i64, i64> = HashMap::new();
        let mut taken = Vec::new();
        for (dup, (i, j, first)) in self.insert(docs).await?.into_iter().zip(&what) {
            let id = plan.ids[*i].unwrap_or_default();
            if !*first {
                touched.entry(id).or_default();
                continue;
            }
            if !dup {
                plan.first[*i] = Some(true);
            } else {
                // Ours (a replay), or another writer's first sample.
                let ours = self
                    .occurrences
                    .find_one(doc! {"_id": -id})
                    .projection(doc! {"op": 1})
                    .await?
                    .is_some_and(|d| i64_of(&d, "op") == Some(plan.token));
                plan.first[*i] = Some(ours);
                if !ours {
                    taken.push((*i, *j));
                }
            }
            let g = &batch.groups[*i];
            if let Some(k) = self.cache.tickets.get_mut(&g.fingerprint) {
                k.has_first = k.id == id;
            }
        }
        // Samples that lost the race to be first are ordinary ones, if among the newest N.
        let mut docs = Vec::new();
        let mut owners = Vec::new();
        for (i, j) in taken {
            let g = &batch.groups[i];
            if j + keep >= g.samples.len() {
                let id = plan.ids[i].unwrap_or_default();
                docs.push(sample_doc(
                    plan.sample_ids[i][j],
                    id,
                    false,
                    plan.token,
                    &g.samples[j],
                ));
                owners.push(id);
            }
        }
        for (dup, id) in self.insert(docs).await?.into_iter().zip(owners) {
            *touched.entry(id).or_default() += i64::from(!dup);
        }
        if !touched.is_empty() {
            self.count_and_prune(touched, keep).await?;
        }
        Ok(())
    }

    /// Adds the samples the ticket updates did not count to the tickets' `samples` counters,
    /// and prunes the tickets whose counter exceeds `keep`. The counter only decides when to
    /// look: it grows (with the ticket's update) before the samples are inserted and shrinks by
    /// what was deleted, so it never hides an excess (after a failed attempt it may overstate,
    /// costing a look).
    pub(super) async fn count_and_prune(
        &self,
        touched: HashMap<i64, i64>,
        keep: usize,
    ) -> mongodb::error::Result<()> {
        let incs = touched
            .iter()
            .filter(|(_, k)| **k > 0)
            .map(|(id, k)| (doc! {"q": {"_id": id}, "u": {"$inc": {"samples": k}}}, 64))
            .collect();
        self.bulk_update(&self.names.tickets, incs).await?;
        let ids: Vec<Bson> = touched.keys().map(|i| Bson::Int64(*i)).collect();
        let mut over = Vec::new();
        let mut cursor = self
            .tickets
            .find(doc! {"_id": {"$in": ids}, "samples": {"$gt": keep as i64}})
            .projection(doc! {"_id": 1})
            .await?;
        while cursor.advance().await? {
            if let Some(id) = i64_of(&cursor.deserialize_current()?, "_id") {
                over.push(id);
            }
        }
        if over.is_empty() {
            return Ok(());
        }
        let deleted = self.prune(over, keep).await?;
        let decs = deleted
            .into_iter()
            .filter(|(_, d)| *d > 0)
            .map(|(id, d)| (doc! {"q": {"_id": id}, "u": {"$inc": {"samples": -d}}}, 64))
            .collect();
        self.bulk_update(&self.names.tickets, decs).await?;
        Ok(())
    }

    /// Inserts `docs` (unordered); per document, whether it was there already.
    pub(super) async fn insert(&self, docs: Vec<Document>) -> mongodb::error::Result<Vec<bool>> {
        let n = docs.len();
        let mut dup = vec![false; n];
        if n == 0 {
            return Ok(dup);
        }
        match self.occurrences.insert_many(docs).ordered(false).await {
            Ok(_) => Ok(dup),
            Err(e) => {
                let mongodb::error::ErrorKind::InsertMany(m) = &*e.kind else {
                    return Err(e);
                };
                if m.write_concern_error.is_some() {
                    return Err(e);
                }
                for w in m.write_errors.iter().flatten() {
                    if w.code != DUPLICATE_KEY || w.index >= n {
                        return Err(e);
                    }
                    dup[w.index] = true;
                }
                Ok(dup)
            }
        }
    }

    /// Deletes the oldest samples beyond `keep` (never the first) of `tickets`; returns how
    /// many each lost.
    pub(super) async fn prune(
        &self,
        tickets: Vec<i64>,
        keep: usize,
    ) -> mongodb::error::Result<Vec<(i64, i64)>> {
        let mut by_ticket: HashMap<i64, Vec<(i64, i64)>> = HashMap::new();
        let ids: Vec<Bson> = tickets.iter().map(|i| Bson::Int64(*i)).collect();
        let mut cursor = self
            .occurrences
            .find(doc! {"ticket": {"$in": ids}, "first": false})
            .projection(doc! {"_id": 1, "ticket": 1, "time_us": 1})
            .await?;
        while cursor.advance().await? {
            let d: Document = cursor.deserialize_current()?;
            if let (Some(id), Some(t), Some(time)) = (
                i64_of(&d, "_id"),
                i64_of(&d, "ticket"),
                i64_of(&d, "time_us"),
            ) {
                by_ticket.entry(t).or_default().push((time, id));
            }
        }
        // One delete per ticket, all at once: each says how many it removed (another writer
        // may have removed some of the same samples first).
        let deletes = by_ticket
            .into_iter()
            .filter(|(_, v)| v.len() > keep)
            .map(|(t, mut v)| {
                v.sort_unstable();
                let n = v.len() - keep;
                let excess: Vec<Bson> = v
                    .into_iter()
                    .take(n)
                    .map(|(_, id)| Bson::Int64(id))
                    .collect();
                async move {
                    let r = self
                        .occurrences
                        .delete_many(doc! {"ticket": t, "_id": {"$in": excess}})
                        .await?;
                    Ok::<_, mongodb::error::Error>((t, r.deleted_count as i64))
                }
            });
        futures_util::future::join_all(deletes)
            .await
            .into_iter()
            .collect()
    }
}
