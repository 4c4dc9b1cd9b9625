//! A batch's tag counts: one document per ticket and key, values added conditionally so the
//! cap holds with any number of writers.

use std::collections::HashMap;

use mongodb::bson::doc;

use crate::store::Batch;

use super::cache::TagKey;
use super::documents::{has_token, tag_doc, tag_op};
use super::errors::{busy, is_duplicate};
use super::reply::Outcome;
use super::token::Plan;
use super::{Inner, CAS_ATTEMPTS};

impl Inner {
    pub(super) async fn write_tags(
        &mut self,
        batch: &Batch,
        plan: &Plan,
    ) -> mongodb::error::Result<()> {
        let token = plan.token;
        let max = batch.max_tag_values;
        // Per (ticket, key), the batch's values in order.
        let mut work: Vec<(TagKey, Vec<(String, u64)>)> = Vec::new();
        let mut at: HashMap<(i64, String), usize> = HashMap::new();
        for (i, g) in batch.groups.iter().enumerate() {
            let id = plan.ids[i].unwrap_or_default();
            for t in &g.tags {
                let key = (id, t.key.clone());
                let w = *at.entry(key.clone()).or_insert_with(|| {
                    work.push((key, Vec::new()));
                    work.len() - 1
                });
                let vals = &mut work[w].1;
                match vals.iter_mut().find(|(v, _)| *v == t.value) {
                    Some((_, c)) => *c += t.count,
                    None => vals.push((t.value.clone(), t.count)),
                }
            }
        }
        if work.is_empty() {
            return Ok(());
        }
        let mut ops = Vec::with_capacity(work.len());
        let mut planned = Vec::with_capacity(work.len());
        for (key, vals) in &work {
            let known = self.cache.tags.get(key);
            let (op, after) = tag_op(key, known, vals, max, token, true);
            let size = 256 + vals.iter().map(|(v, _)| v.len() + 32).sum::<usize>();
            ops.push((op, size));
            planned.push(after);
        }
        let outcomes = self.bulk_update(&self.names.tags, ops).await?;
        for ((o, after), (key, vals)) in outcomes.into_iter().zip(planned).zip(&work) {
            match o {
                Outcome::Done | Outcome::Upserted => self.cache.put_tags(key.clone(), after),
                Outcome::Conflict => self.slow_tag(key, vals, max, token).await?,
            }
        }
        Ok(())
    }

    /// A tag document that changed since it was cached (or a replay): read it, then update it
    /// conditionally on its number of values.
    pub(super) async fn slow_tag(
        &mut self,
        key: &(i64, String),
        vals: &[(String, u64)],
        max: usize,
        token: i64,
    ) -> mongodb::error::Result<()> {
        self.cache.tags.remove(key);
        for _ in 0..CAS_ATTEMPTS {
            let filter = doc! {"ticket": key.0, "key": &key.1};
            let d = self.tags.find_one(filter).await?;
            let known = d.as_ref().map(tag_doc);
            if d.as_ref().is_some_and(|d| has_token(d, token)) {
                if let Some(k) = known {
                    self.cache.put_tags(key.clone(), k);
                }
                return Ok(());
            }
            let (op, after) = tag_op(key, known.as_ref(), vals, max, token, false);
            let q = op.get_document("q").cloned().unwrap_or_default();
            let u = op.get_document("u").cloned().unwrap_or_default();
            match self.tags.update_one(q, u).upsert(known.is_none()).await {
                Ok(r) if r.matched_count == 1 || r.upserted_id.is_some() => {
                    self.cache.put_tags(key.clone(), after);
                    return Ok(());
                }
                Ok(_) => {}
                Err(e) if is_duplicate(&e) => {}
                Err(e) => return Err(e),
            }
        }
        Err(busy(format!(
            "tags {} of ticket {} changed under {CAS_ATTEMPTS} attempts to update them",
            key.1, key.0
        )))
    }
}
