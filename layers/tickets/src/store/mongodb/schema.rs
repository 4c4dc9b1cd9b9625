//! Collection names and the indexes and schema version each deployment gets once.

use mongodb::bson::{doc, DateTime, Document};
use mongodb::options::IndexOptions;
use mongodb::IndexModel;

use crate::store::ErrorKind;

use super::documents::i64_of;
use super::errors::{is_duplicate, kind_of, SchemaError};
use super::{Inner, SCHEMA_VERSION};

/// Collection names.
#[derive(Debug)]
pub(super) struct Names {
    pub(super) prefix: String,
    pub(super) tickets: String,
    pub(super) occurrences: String,
    pub(super) tags: String,
    pub(super) meta: String,
}

impl Names {
    pub(super) fn new(p: &str) -> Names {
        Names {
            prefix: p.to_owned(),
            tickets: format!("{p}tickets"),
            occurrences: format!("{p}occurrences"),
            tags: format!("{p}tags"),
            meta: format!("{p}meta"),
        }
    }
}

impl Inner {
    pub(super) async fn ensure_schema(&mut self) -> Result<(), SchemaError> {
        if self.schema_ready {
            return Ok(());
        }
        let fail = |what: &str, e: mongodb::error::Error| {
            (kind_of(&e), format!("{}: {what}", self.target), Some(e))
        };
        let idx = |name: &str, keys: Document, unique: bool| {
            IndexModel::builder()
                .keys(keys)
                .options(
                    IndexOptions::builder()
                        .name(format!("{}{name}", self.names.prefix))
                        .unique(unique.then_some(true))
                        .build(),
                )
                .build()
        };
        let tickets = vec![
            idx("fingerprint", doc! {"fingerprint": 1}, true),
            idx("last_seen", doc! {"last_seen_us": 1, "_id": 1}, false),
            idx("count", doc! {"count": 1, "_id": 1}, false),
            idx("first_seen", doc! {"first_seen_us": 1, "_id": 1}, false),
            idx(
                "status_last_seen",
                doc! {"status": 1, "last_seen_us": 1, "_id": 1},
                false,
            ),
            idx(
                "status_count",
                doc! {"status": 1, "count": 1, "_id": 1},
                false,
            ),
            idx(
                "status_first_seen",
                doc! {"status": 1, "first_seen_us": 1, "_id": 1},
                false,
            ),
            // Pruning expired hourly counts (`hours_first`: a ticket's oldest hour).
            idx("hours_first", doc! {"hours_first": 1}, false),
        ];
        self.tickets
            .create_indexes(tickets)
            .await
            .map_err(|e| fail("cannot create the tickets' indexes", e))?;
        self.occurrences
            .create_index(idx(
                "occurrences_ticket_time",
                doc! {"ticket": 1, "time_us": 1, "_id": 1},
                false,
            ))
            .await
            .map_err(|e| fail("cannot create the occurrences' index", e))?;
        self.tags
            .create_index(idx("tags_ticket_key", doc! {"ticket": 1, "key": 1}, true))
            .await
            .map_err(|e| fail("cannot create the tags' index", e))?;
        // The schema record and the id counters, created once (several processes may race
        // to: the losers' duplicate key errors are fine).
        for (id, init) in [
            (
                "schema",
                doc! {"version": SCHEMA_VERSION, "created_at": DateTime::now()},
            ),
            ("ticket_id", doc! {"seq": 0_i64}),
            ("occurrence_id", doc! {"seq": 0_i64}),
        ] {
            match self
                .meta
                .update_one(doc! {"_id": id}, doc! {"$setOnInsert": init})
                .upsert(true)
                .await
            {
                Ok(_) => {}
                Err(e) if is_duplicate(&e) => {}
                Err(e) => return Err(fail("cannot create the schema record", e)),
            }
        }
        let meta = self
            .meta
            .find_one(doc! {"_id": "schema"})
            .await
            .map_err(|e| fail("cannot read the schema version", e))?;
        let version = meta.as_ref().and_then(|d| i64_of(d, "version"));
        match version {
            Some(v) if v <= SCHEMA_VERSION => {}
            other => {
                return Err((
                    ErrorKind::InvalidConfig,
                    format!(
                        "{}: ticket schema version {other:?} is not one this version of taskwire \
                         knows (it knows up to {SCHEMA_VERSION})",
                        self.target
                    ),
                    None,
                ))
            }
        }
        self.schema_ready = true;
        Ok(())
    }
}
