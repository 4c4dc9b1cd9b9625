//! Mapping between this crate's records and their documents (tickets, samples, tags).

use mongodb::bson::{doc, Bson, DateTime, Document};

use crate::store::transition::State;
use crate::store::{
    GroupUpdate, JsonText, Level, Occurrence, Sample, Status, StatusChange, StatusEvent, Ticket,
    TicketId, TicketSeed, Timestamp, OTHER_TAG_VALUE,
};

use super::bson_json::{bson_to_json, json_to_bson};
use super::cache::TagDoc;
use super::TOKENS_KEPT;

/// The upsert of an open (or new) ticket; see the module docs.
/// How many of `g`'s samples are stored as ordinary ones (not the first): the newest `keep`,
/// less the earliest when it is tried as the ticket's first.
pub(super) fn normals(g: &GroupUpdate, first: Option<bool>, keep: usize) -> i64 {
    let n = g.samples.len();
    let skip_first = usize::from(n > 0 && first != Some(false));
    let newest = n.min(keep);
    // The earliest is among the newest `keep` only when all of them are.
    (newest - usize::from(skip_first == 1 && keep >= n)) as i64
}

pub(super) fn fast_ticket_op(g: &GroupUpdate, id: i64, token: i64, samples: i64) -> Document {
    let s = &g.seed;
    let mut insert = doc! {
        "level": s.level.as_str(),
        "target": &s.target,
        "title": g.title.as_deref().unwrap_or(""),
        "rev": 0_i64,
    };
    if let Some(v) = &s.service {
        insert.insert("service", v);
    }
    if let Some(v) = &s.module {
        insert.insert("module", v);
    }
    if let Some(v) = &s.file {
        insert.insert("file", v);
    }
    if let Some(v) = s.line {
        insert.insert("line", i64::from(v));
    }
    doc! {
        "q": {"_id": id, "fingerprint": &g.fingerprint, "status": "open", "ops": {"$ne": token}},
        "u": {
            "$inc": {"count": to_i64(g.count), "samples": samples, hour_key(g): to_i64(g.count)},
            "$min": {"first_seen_us": g.first_seen.as_micros(), "first_seen": date(g.first_seen), HOURS_FIRST: hour_of(g)},
            "$max": {"last_seen_us": g.last_seen.as_micros(), "last_seen": date(g.last_seen)},
            "$push": {"ops": {"$each": [token], "$slice": -TOKENS_KEPT}},
            "$setOnInsert": insert,
        },
        "upsert": true,
    }
}

/// The field of `hours` (hour number → count) that `g`'s count is added to: the hour of its
/// newest occurrence.
pub(super) fn hour_key(g: &GroupUpdate) -> String {
    format!("hours.{}", hour_of(g))
}

/// The hour `g`'s count is added to.
pub(super) fn hour_of(g: &GroupUpdate) -> i64 {
    crate::store::hour_of(g.last_seen)
}

/// The oldest hour a ticket's `hours` holds (kept with `$min` on each write, lowered to what
/// is left by pruning), indexed so pruning finds the tickets with expired hours directly.
pub(super) const HOURS_FIRST: &str = "hours_first";

/// The update of one tag document and what it holds afterwards. `known` is the document as
/// cached or read (`None`: assumed missing, created by an upsert conditional on `n: 0`).
/// `cached`: indices come from the cache and may be stale, so only value additions are
/// conditional; otherwise (just read) the whole update is conditional on `n`.
pub(super) fn tag_op(
    key: &(i64, String),
    known: Option<&TagDoc>,
    vals: &[(String, u64)],
    max: usize,
    token: i64,
    cached: bool,
) -> (Document, TagDoc) {
    let mut after = known.cloned().unwrap_or_default();
    let before = after.index.len();
    let mut inc = Document::new();
    let mut push = Vec::new();
    let mut other: u64 = 0;
    for (v, c) in vals {
        if v == OTHER_TAG_VALUE {
            other += c;
        } else if let Some(i) = after.index.get(v) {
            if *i < before {
                let path = format!("vals.{i}.c");
                let prev = i64_of(&inc, &path).unwrap_or(0);
                inc.insert(path, prev + to_i64(*c));
            } else if let Some(Bson::Document(d)) = push.get_mut(*i - before) {
                let prev = i64_of(d, "c").unwrap_or(0);
                d.insert("c", prev + to_i64(*c));
            }
        } else if after.index.len() < max {
            after.index.insert(v.clone(), after.index.len());
            push.push(Bson::Document(doc! {"v": v, "c": to_i64(*c)}));
        } else {
            other += c;
        }
    }
    if other > 0 {
        inc.insert("other", to_i64(other));
    }
    let added = push.len();
    if added > 0 {
        inc.insert("n", added as i64);
    }
    let mut q = doc! {"ticket": key.0, "key": &key.1, "ops": {"$ne": token}};
    if known.is_none() || added > 0 || !cached {
        q.insert("n", before as i64);
    }
    let mut u = doc! {"$push": {"ops": {"$each": [token], "$slice": -TOKENS_KEPT}}};
    if added > 0 {
        if let Ok(p) = u.get_document_mut("$push") {
            p.insert("vals", doc! {"$each": push});
        }
    }
    if known.is_none() {
        u.insert("$setOnInsert", doc! {"other": 0_i64, "vals": []});
        // `vals` is pushed to and `other` may be incremented: keep $setOnInsert off them.
        if let Ok(s) = u.get_document_mut("$setOnInsert") {
            if added > 0 {
                s.remove("vals");
            }
            if other > 0 {
                s.remove("other");
            }
        }
    }
    if !inc.is_empty() {
        u.insert("$inc", inc);
    }
    (doc! {"q": q, "u": u, "upsert": known.is_none()}, after)
}

pub(super) fn tag_doc(d: &Document) -> TagDoc {
    let mut t = TagDoc::default();
    if let Ok(vals) = d.get_array("vals") {
        for (i, v) in vals.iter().enumerate() {
            if let Some(s) = v.as_document().and_then(|v| v.get_str("v").ok()) {
                t.index.insert(s.to_owned(), i);
            }
        }
    }
    t
}

pub(super) fn has_token(d: &Document, token: i64) -> bool {
    d.get_array("ops")
        .is_ok_and(|a| a.iter().any(|b| bson_i64(b) == Some(token)))
}

pub(super) fn sample_doc(id: i64, ticket: i64, first: bool, token: i64, s: &Sample) -> Document {
    let mut d = doc! {
        "_id": id,
        "ticket": ticket,
        "first": first,
        "time_us": s.time.as_micros(),
        "time": date(s.time),
        "message": &s.message,
        "fields": json_to_bson(s.fields.as_str()),
        "spans": json_to_bson(s.spans.as_str()),
        "host": &s.host,
        "pid": i64::from(s.pid),
        "thread": &s.thread,
        "errors": json_to_bson(s.errors.as_str()),
    };
    if first {
        d.insert("op", token);
    }
    for (k, v) in [
        ("level", s.level.as_ref().map(Level::as_str)),
        ("trace_id", s.trace_id.as_deref()),
        ("span_id", s.span_id.as_deref()),
        ("service", s.service.as_deref()),
        ("release", s.release.as_deref()),
    ] {
        if let Some(v) = v {
            d.insert(k, v);
        }
    }
    d
}

pub(super) fn occurrence_of(d: &Document) -> Occurrence {
    let mut s = Sample::new(Timestamp::from_micros(i64_of(d, "time_us").unwrap_or(0)));
    s.level = d.get_str("level").ok().and_then(|l| l.parse().ok());
    s.message = str_of(d, "message");
    let json = |key: &str, missing: fn() -> JsonText| {
        d.get(key)
            .map_or_else(missing, |b| JsonText::from_stored(bson_to_json(b)))
    };
    s.fields = json("fields", JsonText::empty_object);
    s.spans = json("spans", JsonText::empty_array);
    s.errors = json("errors", JsonText::empty_array);
    s.trace_id = opt_str(d, "trace_id");
    s.span_id = opt_str(d, "span_id");
    s.service = opt_str(d, "service");
    s.release = opt_str(d, "release");
    s.host = str_of(d, "host");
    s.pid = i64_of(d, "pid")
        .and_then(|p| u32::try_from(p).ok())
        .unwrap_or(0);
    s.thread = str_of(d, "thread");
    Occurrence::new(
        i64_of(d, "_id").unwrap_or(0),
        TicketId(i64_of(d, "ticket").unwrap_or(0)),
        d.get_bool("first").unwrap_or(false),
        s,
    )
}

pub(super) fn state_of(d: &Document) -> State {
    let t = |k: &str| i64_of(d, k).map(Timestamp::from_micros);
    State {
        status: d
            .get_str("status")
            .ok()
            .and_then(Status::parse)
            .unwrap_or(Status::Open),
        count: i64_of(d, "count").unwrap_or(0).max(0) as u64,
        resolved_at: t("resolved_at_us"),
        resolved_in_release: opt_str(d, "resolved_in_release"),
        regressed_at: t("regressed_at_us"),
        mute_until: t("mute_until_us"),
        mute_until_count: i64_of(d, "mute_until_count").map(|c| c.max(0) as u64),
    }
}

pub(super) fn ticket_of(d: &Document) -> Ticket {
    let state = state_of(d);
    let mut t = Ticket::new(
        TicketId(i64_of(d, "_id").unwrap_or(0)),
        str_of(d, "fingerprint"),
        seed_of(d),
    );
    t.title = str_of(d, "title");
    t.first_seen = Timestamp::from_micros(i64_of(d, "first_seen_us").unwrap_or(0));
    t.last_seen = Timestamp::from_micros(i64_of(d, "last_seen_us").unwrap_or(0));
    state.fill(&mut t);
    t
}

/// A ticket's seed from its document.
fn seed_of(d: &Document) -> TicketSeed {
    TicketSeed {
        level: d
            .get_str("level")
            .ok()
            .and_then(|l| l.parse().ok())
            .unwrap_or(Level::ERROR),
        service: opt_str(d, "service"),
        target: str_of(d, "target"),
        module: opt_str(d, "module"),
        file: opt_str(d, "file"),
        line: i64_of(d, "line").and_then(|l| u32::try_from(l).ok()),
    }
}

pub(super) fn str_of(d: &Document, k: &str) -> String {
    d.get_str(k).unwrap_or_default().to_owned()
}

pub(super) fn opt_str(d: &Document, k: &str) -> Option<String> {
    d.get_str(k).ok().map(str::to_owned)
}

pub(super) fn bson_i64(b: &Bson) -> Option<i64> {
    match b {
        Bson::Int64(v) => Some(*v),
        Bson::Int32(v) => Some(i64::from(*v)),
        Bson::Double(v) if v.fract() == 0.0 => Some(*v as i64),
        _ => None,
    }
}

pub(super) fn i64_of(d: &Document, k: &str) -> Option<i64> {
    d.get(k).and_then(bson_i64)
}

pub(super) fn date(t: Timestamp) -> DateTime {
    DateTime::from_millis(t.as_micros().div_euclid(1000))
}

/// Sets `{name}_us` and `{name}` (a date) to `t`, or unsets both.
pub(super) fn put_time(set: &mut Document, unset: &mut Document, name: &str, t: Option<Timestamp>) {
    match t {
        Some(t) => {
            set.insert(format!("{name}_us"), t.as_micros());
            set.insert(name, date(t));
        }
        None => {
            unset.insert(format!("{name}_us"), "");
            unset.insert(name, "");
        }
    }
}

/// Status changes a ticket document keeps (the newest), in its `history` array.
pub(super) const HISTORY_KEPT: i32 = 100;

/// The `$push` of `event` onto a ticket's `history` (the newest [`HISTORY_KEPT`] kept).
pub(super) fn history_push(event: &StatusEvent) -> Document {
    let (release, until, count) = event.change.parts();
    let mut d = doc! {
        "at_us": event.at.as_micros(),
        "at": date(event.at),
        "change": event.change.kind(),
    };
    if let Some(r) = release {
        d.insert("release", r);
    }
    if let Some(u) = until {
        d.insert("mute_until_us", u);
    }
    if let Some(c) = count {
        d.insert("mute_count", to_i64(c));
    }
    doc! {"$each": [d], "$slice": -HISTORY_KEPT}
}

/// The events of a ticket document's `history`, in the order they were pushed (unknown kinds
/// skipped).
pub(super) fn history_of(d: &Document) -> Vec<StatusEvent> {
    let Ok(list) = d.get_array("history") else {
        return Vec::new();
    };
    list.iter()
        .filter_map(|e| {
            let e = e.as_document()?;
            let change = StatusChange::from_parts(
                e.get_str("change").ok()?,
                e.get_str("release").ok().map(str::to_owned),
                i64_of(e, "mute_until_us"),
                i64_of(e, "mute_count").map(|c| u64::try_from(c).unwrap_or(0)),
            )?;
            Some(StatusEvent::new(
                Timestamp::from_micros(i64_of(e, "at_us")?),
                change,
            ))
        })
        .collect()
}

pub(super) fn to_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}
