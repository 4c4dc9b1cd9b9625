//! The query and triage sides of [`MongoDb`].

use mongodb::bson::{doc, Bson, Document};

use crate::store::{
    HourCount, ListQuery, Mute, Occurrence, OccurrenceOrder, OccurrenceQuery, QueryError, Sort,
    StatusChange, StatusEvent, TagCount, Ticket, TicketId, TicketReader, TicketTriage, Timestamp,
    UpdateError, OTHER_TAG_VALUE,
};

use super::documents::{
    history_of, history_push, i64_of, occurrence_of, put_time, str_of, ticket_of, to_i64,
};
use super::errors::{busy, query_err, update_err};
use super::{Inner, MongoDb, CAS_ATTEMPTS};

impl MongoDb {
    /// The filter of `query`'s tickets. `release` lists the tickets with that release tag,
    /// looked up first ([`Inner::with_release`]).
    pub(super) fn filter(query: &ListQuery, release: Option<Vec<i64>>) -> Document {
        let mut f = Document::new();
        if let Some(s) = query.status {
            f.insert("status", s.as_str());
        }
        if let Some(t) = query.since {
            f.insert("last_seen_us", doc! {"$gte": t.as_micros()});
        }
        if let Some(t) = query.until {
            f.insert("first_seen_us", doc! {"$lte": t.as_micros()});
        }
        if let Some(l) = query.level {
            f.insert("level", l.as_str());
        }
        if let Some(s) = &query.service {
            f.insert("service", s.as_str());
        }
        if let Some(ids) = release {
            f.insert("_id", doc! {"$in": ids});
        }
        if let Some(s) = query.search.as_deref().filter(|s| !s.is_empty()) {
            // Only ASCII letters fold, as in SQLite's `lower()`: each one matches either case,
            // every other character is matched as itself.
            let mut re = String::with_capacity(s.len() * 4);
            for c in s.chars() {
                if c.is_ascii_alphabetic() {
                    re.push('[');
                    re.push(c.to_ascii_lowercase());
                    re.push(c.to_ascii_uppercase());
                    re.push(']');
                } else if c.is_ascii_alphanumeric() || !c.is_ascii() {
                    re.push(c);
                } else {
                    re.push('\\');
                    re.push(c);
                }
            }
            f.insert("title", doc! {"$regex": re});
        }
        f
    }

    /// `set`/`unset` on ticket `id`, bumping its status revision. `false` when there is none.
    pub(super) fn change(
        &mut self,
        id: TicketId,
        set: Document,
        unset: Document,
        event: &StatusEvent,
    ) -> Result<bool, UpdateError> {
        let mut u = doc! {
            "$set": set,
            "$inc": {"rev": 1_i64},
            "$push": {"history": history_push(event)},
        };
        if !unset.is_empty() {
            u.insert("$unset", unset);
        }
        let r = self
            .run(async |i| i.tickets.update_one(doc! {"_id": id.0}, u).await)
            .map_err(|e| update_err(e, self.target()))?;
        if let Some(i) = self.inner.as_mut() {
            i.cache.tickets.clear();
        }
        Ok(r.matched_count > 0)
    }
}

impl TicketReader for MongoDb {
    fn list(&self, query: &ListQuery) -> Result<Vec<Ticket>, QueryError> {
        let sort = match query.sort {
            Sort::LastSeen => doc! {"last_seen_us": -1, "_id": -1},
            Sort::Count => doc! {"count": -1, "_id": -1},
            Sort::FirstSeen => doc! {"first_seen_us": -1, "_id": -1},
        };
        self.run(async |i| {
            let filter = MongoDb::filter(query, i.with_release(query).await?);
            let mut cursor = i
                .tickets
                .find(filter)
                .sort(sort)
                .skip(query.offset)
                .limit(i64::from(query.limit))
                .projection(doc! {"ops": 0, "hours": 0, "history": 0})
                .await?;
            let mut out = Vec::new();
            while cursor.advance().await? {
                out.push(ticket_of(&cursor.deserialize_current()?));
            }
            Ok(out)
        })
        .map_err(|e| query_err(e, self.target()))
    }

    fn count(&self, query: &ListQuery) -> Result<u64, QueryError> {
        self.run(async |i| {
            let filter = MongoDb::filter(query, i.with_release(query).await?);
            i.tickets.count_documents(filter).await
        })
        .map_err(|e| query_err(e, self.target()))
    }

    fn get(&self, id: TicketId) -> Result<Option<Ticket>, QueryError> {
        self.run(async |i| i.tickets.find_one(doc! {"_id": id.0}).await)
            .map(|d| d.as_ref().map(ticket_of))
            .map_err(|e| query_err(e, self.target()))
    }

    fn find(&self, fingerprint: &str) -> Result<Option<Ticket>, QueryError> {
        self.run(async |i| i.tickets.find_one(doc! {"fingerprint": fingerprint}).await)
            .map(|d| d.as_ref().map(ticket_of))
            .map_err(|e| query_err(e, self.target()))
    }

    fn occurrences(
        &self,
        id: TicketId,
        query: &OccurrenceQuery,
    ) -> Result<Vec<Occurrence>, QueryError> {
        let dir = if query.order == OccurrenceOrder::NewestFirst {
            -1
        } else {
            1
        };
        self.run(async |i| {
            let mut cursor = i
                .occurrences
                .find(doc! {"ticket": id.0})
                .sort(doc! {"time_us": dir, "_id": dir})
                .skip(query.offset)
                .limit(i64::from(query.limit))
                .await?;
            let mut out = Vec::new();
            while cursor.advance().await? {
                out.push(occurrence_of(&cursor.deserialize_current()?));
            }
            Ok(out)
        })
        .map_err(|e| query_err(e, self.target()))
    }

    fn tags(&self, id: TicketId) -> Result<Vec<TagCount>, QueryError> {
        let mut out = self
            .run(async |i| {
                let mut cursor = i.tags.find(doc! {"ticket": id.0}).await?;
                let mut out = Vec::new();
                while cursor.advance().await? {
                    let d: Document = cursor.deserialize_current()?;
                    let key = str_of(&d, "key");
                    for v in d.get_array("vals").into_iter().flatten() {
                        if let Some(v) = v.as_document() {
                            out.push(TagCount {
                                key: key.clone(),
                                value: str_of(v, "v"),
                                count: i64_of(v, "c").unwrap_or(0).max(0) as u64,
                            });
                        }
                    }
                    let other = i64_of(&d, "other").unwrap_or(0);
                    if other > 0 {
                        out.push(TagCount {
                            key,
                            value: OTHER_TAG_VALUE.to_owned(),
                            count: other as u64,
                        });
                    }
                }
                Ok(out)
            })
            .map_err(|e| query_err(e, self.target()))?;
        out.sort_by(|a, b| {
            a.key
                .cmp(&b.key)
                .then(b.count.cmp(&a.count))
                .then(a.value.cmp(&b.value))
        });
        Ok(out)
    }

    /// Read from the ticket's `history` array.
    fn history(&self, id: TicketId) -> Result<Vec<StatusEvent>, QueryError> {
        self.run(async |i| {
            let d = i
                .tickets
                .find_one(doc! {"_id": id.0})
                .projection(doc! {"_id": 1, "history": 1})
                .await?;
            Ok(d.as_ref().map(history_of).unwrap_or_default())
        })
        .map_err(|e| query_err(e, self.target()))
    }

    /// Read from each ticket's `hours` document (hour number as text → count).
    fn hourly(&self, ids: &[TicketId], from: i64, to: i64) -> Result<Vec<HourCount>, QueryError> {
        let ids: Vec<i64> = ids.iter().map(|t| t.0).collect();
        let mut out = self
            .run(async |i| {
                let mut cursor = i
                    .tickets
                    .find(doc! {"_id": {"$in": ids}})
                    .projection(doc! {"_id": 1, "hours": 1})
                    .await?;
                let mut out = Vec::new();
                while cursor.advance().await? {
                    let d: Document = cursor.deserialize_current()?;
                    let Some(id) = i64_of(&d, "_id") else {
                        continue;
                    };
                    let Ok(hours) = d.get_document("hours") else {
                        continue;
                    };
                    for (k, v) in hours {
                        let Ok(hour) = k.parse::<i64>() else { continue };
                        let count = match v {
                            Bson::Int64(n) => *n,
                            Bson::Int32(n) => i64::from(*n),
                            _ => 0,
                        };
                        if (from..=to).contains(&hour) && count > 0 {
                            out.push(HourCount {
                                ticket: TicketId(id),
                                hour,
                                count: count as u64,
                            });
                        }
                    }
                }
                Ok(out)
            })
            .map_err(|e| query_err(e, self.target()))?;
        out.sort_unstable_by_key(|h| (h.ticket, h.hour));
        Ok(out)
    }
}

impl Inner {
    /// The ids of the tickets with `query`'s release tag, when it has one.
    async fn with_release(&self, query: &ListQuery) -> mongodb::error::Result<Option<Vec<i64>>> {
        let Some(release) = &query.release else {
            return Ok(None);
        };
        let mut cursor = self
            .tags
            .find(doc! {"key": "release", "vals.v": release.as_str()})
            .projection(doc! {"ticket": 1})
            .await?;
        let mut ids = Vec::new();
        while cursor.advance().await? {
            if let Some(id) = i64_of(&cursor.deserialize_current()?, "ticket") {
                ids.push(id);
            }
        }
        Ok(Some(ids))
    }
}

impl TicketTriage for MongoDb {
    fn resolve(
        &mut self,
        id: TicketId,
        release: Option<&str>,
        at: Timestamp,
    ) -> Result<bool, UpdateError> {
        let mut set = doc! {"status": "resolved"};
        let mut unset = doc! {"mute_until_count": ""};
        put_time(&mut set, &mut unset, "resolved_at", Some(at));
        put_time(&mut set, &mut unset, "mute_until", None);
        match release {
            Some(r) => set.insert("resolved_in_release", r),
            None => unset.insert("resolved_in_release", ""),
        };
        let event = StatusEvent::new(
            at,
            StatusChange::Resolved {
                release: release.map(str::to_owned),
            },
        );
        self.change(id, set, unset, &event)
    }

    fn mute(&mut self, id: TicketId, mute: Mute) -> Result<bool, UpdateError> {
        let event = StatusEvent::new(Timestamp::now(), StatusChange::Muted(mute));
        let mut set = doc! {"status": "muted"};
        let mut unset = Document::new();
        match mute {
            Mute::Forever => {
                put_time(&mut set, &mut unset, "mute_until", None);
                unset.insert("mute_until_count", "");
            }
            Mute::Until(t) => {
                put_time(&mut set, &mut unset, "mute_until", Some(t));
                unset.insert("mute_until_count", "");
            }
            Mute::Count(n) => {
                // Until `count + n`: conditional on the count read, retried while writers add.
                put_time(&mut set, &mut unset, "mute_until", None);
                let matched = self
                    .run(async |i| {
                        for _ in 0..CAS_ATTEMPTS * 4 {
                            let Some(d) = i.tickets.find_one(doc! {"_id": id.0}).await? else {
                                return Ok(false);
                            };
                            let count = i64_of(&d, "count").unwrap_or(0);
                            let mut set = set.clone();
                            set.insert("mute_until_count", count.saturating_add(to_i64(n)));
                            let mut u = doc! {
                                "$set": set,
                                "$inc": {"rev": 1_i64},
                                "$push": {"history": history_push(&event)},
                            };
                            u.insert("$unset", unset.clone());
                            let r = i
                                .tickets
                                .update_one(doc! {"_id": id.0, "count": count}, u)
                                .await?;
                            if r.matched_count > 0 {
                                return Ok(true);
                            }
                        }
                        Err(busy("the ticket's count kept changing"))
                    })
                    .map_err(|e| update_err(e, self.target()))?;
                if let Some(i) = self.inner.as_mut() {
                    i.cache.tickets.clear();
                }
                return Ok(matched);
            }
        }
        self.change(id, set, unset, &event)
    }

    fn reopen(&mut self, id: TicketId) -> Result<bool, UpdateError> {
        let set = doc! {"status": "open"};
        let mut unset = doc! {"resolved_in_release": "", "mute_until_count": ""};
        let mut ignore = Document::new();
        put_time(&mut ignore, &mut unset, "resolved_at", None);
        put_time(&mut ignore, &mut unset, "mute_until", None);
        let event = StatusEvent::new(Timestamp::now(), StatusChange::Reopened);
        self.change(id, set, unset, &event)
    }

    fn delete(&mut self, id: TicketId) -> Result<bool, UpdateError> {
        let n = self
            .run(async |i| {
                let r = i.tickets.delete_one(doc! {"_id": id.0}).await?;
                i.occurrences.delete_many(doc! {"ticket": id.0}).await?;
                i.tags.delete_many(doc! {"ticket": id.0}).await?;
                Ok(r.deleted_count)
            })
            .map_err(|e| update_err(e, self.target()))?;
        if let Some(i) = self.inner.as_mut() {
            i.cache.tickets.clear();
            i.cache.tags.retain(|(t, _), _| *t != id.0);
        }
        Ok(n > 0)
    }
}
