//! The query and triage sides of [`Sqlite`].

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::rows::{occurrence_from_row, ticket_from_row, TICKET_COLUMNS};
use super::write::to_i64;
use super::{kind_of, Sqlite};
use crate::store::{
    HourCount, ListQuery, Mute, Occurrence, OccurrenceOrder, OccurrenceQuery, QueryError, Sort,
    StatusChange, StatusEvent, TagCount, Ticket, TicketId, TicketReader, TicketTriage, Timestamp,
    UpdateError,
};

pub(super) fn query_err(e: rusqlite::Error) -> QueryError {
    QueryError::new(kind_of(&e), e.to_string()).with_source(e)
}

pub(super) fn update_err(e: rusqlite::Error) -> UpdateError {
    UpdateError::new(kind_of(&e), e.to_string()).with_source(e)
}

impl Sqlite {
    pub(super) fn where_clause(
        prefix: &str,
        query: &ListQuery,
    ) -> (String, Vec<rusqlite::types::Value>) {
        let mut clauses = Vec::new();
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(s) = query.status {
            args.push(s.as_str().to_owned().into());
            clauses.push(format!("status = ?{}", args.len()));
        }
        if let Some(t) = query.since {
            args.push(t.as_micros().into());
            clauses.push(format!("last_seen >= ?{}", args.len()));
        }
        if let Some(t) = query.until {
            args.push(t.as_micros().into());
            clauses.push(format!("first_seen <= ?{}", args.len()));
        }
        if let Some(l) = query.level {
            args.push(l.as_str().to_owned().into());
            clauses.push(format!("level = ?{}", args.len()));
        }
        if let Some(s) = &query.service {
            args.push(s.clone().into());
            clauses.push(format!("service = ?{}", args.len()));
        }
        if let Some(r) = &query.release {
            args.push(r.clone().into());
            clauses.push(format!(
                "EXISTS (SELECT 1 FROM \"{prefix}tags\" g WHERE g.ticket_id = \"{prefix}tickets\".id \
                 AND g.key = 'release' AND g.value = ?{})",
                args.len()
            ));
        }
        if let Some(s) = query.search.as_deref().filter(|s| !s.is_empty()) {
            // `instr` rather than LIKE: no wildcard in the text means anything.
            args.push(s.to_ascii_lowercase().into());
            clauses.push(format!("instr(lower(title), ?{}) > 0", args.len()));
        }
        let w = if clauses.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", clauses.join(" AND "))
        };
        (w, args)
    }
}

impl TicketReader for Sqlite {
    fn list(&self, query: &ListQuery) -> Result<Vec<Ticket>, QueryError> {
        let (w, mut args) = Sqlite::where_clause(&self.sql.prefix, query);
        let order = match query.sort {
            Sort::LastSeen => "last_seen DESC, id DESC",
            Sort::Count => "count DESC, id DESC",
            Sort::FirstSeen => "first_seen DESC, id DESC",
        };
        args.push(i64::from(query.limit).into());
        args.push(to_i64(query.offset).into());
        let n = args.len();
        let sql = format!(
            "SELECT {TICKET_COLUMNS} FROM \"{}tickets\"{w} ORDER BY {order} LIMIT ?{} OFFSET ?{n}",
            self.sql.prefix,
            n - 1
        );
        let mut stmt = self.conn.prepare_cached(&sql).map_err(query_err)?;
        let rows = stmt
            .query_map(rusqlite::params_from_iter(args), ticket_from_row)
            .map_err(query_err)?;
        rows.collect::<Result<_, _>>().map_err(query_err)
    }

    fn count(&self, query: &ListQuery) -> Result<u64, QueryError> {
        let (w, args) = Sqlite::where_clause(&self.sql.prefix, query);
        let sql = format!("SELECT COUNT(*) FROM \"{}tickets\"{w}", self.sql.prefix);
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row(rusqlite::params_from_iter(args), |r| r.get::<_, i64>(0)))
            .map(|n| n.max(0) as u64)
            .map_err(query_err)
    }

    fn get(&self, id: TicketId) -> Result<Option<Ticket>, QueryError> {
        self.conn
            .prepare_cached(&self.sql.get_ticket)
            .and_then(|mut s| s.query_row([id.0], ticket_from_row).optional())
            .map_err(query_err)
    }

    fn find(&self, fingerprint: &str) -> Result<Option<Ticket>, QueryError> {
        self.conn
            .prepare_cached(&self.sql.find_ticket)
            .and_then(|mut s| s.query_row([fingerprint], ticket_from_row).optional())
            .map_err(query_err)
    }

    fn occurrences(
        &self,
        id: TicketId,
        query: &OccurrenceQuery,
    ) -> Result<Vec<Occurrence>, QueryError> {
        let sql = if query.order == OccurrenceOrder::NewestFirst {
            &self.sql.occurrences_newest
        } else {
            &self.sql.occurrences_oldest
        };
        let mut stmt = self.conn.prepare_cached(sql).map_err(query_err)?;
        let rows = stmt
            .query_map(
                params![id.0, i64::from(query.limit), to_i64(query.offset)],
                occurrence_from_row,
            )
            .map_err(query_err)?;
        rows.collect::<Result<_, _>>().map_err(query_err)
    }

    fn tags(&self, id: TicketId) -> Result<Vec<TagCount>, QueryError> {
        let mut stmt = self
            .conn
            .prepare_cached(&self.sql.tags)
            .map_err(query_err)?;
        let rows = stmt
            .query_map([id.0], |r| {
                Ok(TagCount {
                    key: r.get(0)?,
                    value: r.get(1)?,
                    count: r.get::<_, i64>(2)?.max(0) as u64,
                })
            })
            .map_err(query_err)?;
        rows.collect::<Result<_, _>>().map_err(query_err)
    }

    fn hourly(&self, ids: &[TicketId], from: i64, to: i64) -> Result<Vec<HourCount>, QueryError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT ticket_id, hour, count FROM \"{}hours\" \
                 WHERE ticket_id = ?1 AND hour BETWEEN ?2 AND ?3 ORDER BY hour",
                self.sql.prefix
            ))
            .map_err(query_err)?;
        let mut out = Vec::new();
        let mut sorted = ids.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        for id in sorted {
            let rows = stmt
                .query_map(params![id.0, from, to], |r| {
                    Ok(HourCount {
                        ticket: TicketId(r.get(0)?),
                        hour: r.get(1)?,
                        count: r.get::<_, i64>(2)?.max(0) as u64,
                    })
                })
                .map_err(query_err)?;
            for row in rows {
                out.push(row.map_err(query_err)?);
            }
        }
        Ok(out)
    }

    fn history(&self, id: TicketId) -> Result<Vec<StatusEvent>, QueryError> {
        super::history::read(&self.conn, &self.sql, id.0).map_err(query_err)
    }
}

impl Sqlite {
    /// One triage change in one transaction: `update` and, when it matched the ticket, the
    /// history row of `change` at `at`.
    fn triage(
        &mut self,
        id: TicketId,
        at: Timestamp,
        change: StatusChange,
        update: impl FnOnce(&rusqlite::Connection, &super::Sql) -> rusqlite::Result<usize>,
    ) -> Result<bool, UpdateError> {
        let sql = &self.sql;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(update_err)?;
        let n = update(&tx, sql).map_err(update_err)?;
        if n > 0 {
            super::history::add(&tx, sql, id.0, &StatusEvent::new(at, change))
                .map_err(update_err)?;
        }
        tx.commit().map_err(update_err)?;
        Ok(n > 0)
    }
}

impl TicketTriage for Sqlite {
    fn resolve(
        &mut self,
        id: TicketId,
        release: Option<&str>,
        at: Timestamp,
    ) -> Result<bool, UpdateError> {
        let change = StatusChange::Resolved {
            release: release.map(str::to_owned),
        };
        self.triage(id, at, change, |c, sql| {
            c.prepare_cached(&sql.resolve)?
                .execute(params![id.0, at.as_micros(), release])
        })
    }

    fn mute(&mut self, id: TicketId, mute: Mute) -> Result<bool, UpdateError> {
        let (until, more): (Option<i64>, Option<i64>) = match mute {
            Mute::Forever => (None, None),
            Mute::Until(t) => (Some(t.as_micros()), None),
            Mute::Count(n) => (None, Some(to_i64(n))),
        };
        self.triage(id, Timestamp::now(), StatusChange::Muted(mute), |c, sql| {
            c.prepare_cached(&sql.mute)?
                .execute(params![id.0, until, more])
        })
    }

    fn reopen(&mut self, id: TicketId) -> Result<bool, UpdateError> {
        self.triage(id, Timestamp::now(), StatusChange::Reopened, |c, sql| {
            c.prepare_cached(&sql.reopen)?.execute([id.0])
        })
    }

    fn delete(&mut self, id: TicketId) -> Result<bool, UpdateError> {
        let sql = &self.sql;
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(update_err)?;
        let n = tx
            .execute(&sql.delete_occurrences, [id.0])
            .and_then(|_| tx.execute(&sql.delete_tags, [id.0]))
            .and_then(|_| tx.execute(&sql.delete_hours, [id.0]))
            .and_then(|_| tx.execute(&sql.delete_history, [id.0]))
            .and_then(|_| tx.execute(&sql.delete_ticket, [id.0]))
            .map_err(update_err)?;
        tx.commit().map_err(update_err)?;
        Ok(n > 0)
    }
}
