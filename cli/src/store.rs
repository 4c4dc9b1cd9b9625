//! Opening a tickets store for the commands: `taskwire tickets` reads and triages it, `taskwire
//! tree` looks up the tickets of the errors it shows. A SQLite file (read-only for reading), or
//! a MongoDB connection string when built with the `mongodb` feature.

use std::path::Path;
use std::time::Duration;

use taskwire_tickets::store::{TicketReader, TicketTriage};
#[cfg(feature = "mongodb")]
use taskwire_tickets::MongoDb;
use taskwire_tickets::Sqlite;

use crate::config::is_mongodb_uri;

/// Why a command failed, with the exit code.
pub(crate) struct Failure(pub(crate) String);

/// What a command does to the database: read it, or change tickets in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Access {
    /// `list`, `show`: a read-only open that creates, migrates and changes nothing.
    Read,
    /// `resolve`, `mute`, `reopen`, `delete`: a writable open of an existing taskwire
    /// database, which refuses any other file rather than adding tables to it.
    Triage,
}

/// What the commands use of a store: its query and triage sides (never the layer's write
/// side).
pub(crate) trait Tickets: TicketReader + TicketTriage {}

impl<T: TicketReader + TicketTriage + ?Sized> Tickets for T {}

pub(crate) fn open(
    db: Option<&Path>,
    prefix: &str,
    access: Access,
) -> Result<Box<dyn Tickets>, Failure> {
    let Some(path) = db else {
        return Err(no_database());
    };
    if let Some(uri) = path.to_str().filter(|p| is_mongodb_uri(p)) {
        return open_mongodb(uri, prefix);
    }
    if !path.is_file() {
        return Err(Failure(format!(
            "{}: no such database file",
            path.display()
        )));
    }
    let builder = Sqlite::builder(path)
        .with_prefix(prefix)
        .with_busy_timeout(Duration::from_secs(5));
    match access {
        Access::Read => builder.open_read_only(),
        Access::Triage => builder.open_existing(),
    }
    .map(|s| Box::new(s) as Box<dyn Tickets>)
    .map_err(|e| Failure(chain(&e)))
}

pub(crate) fn no_database() -> Failure {
    Failure(
        "no database: pass --db PATH, set TASKWIRE_DB, or name the store in taskwire.toml \
         ([tickets] store = \"tickets.db\")"
            .into(),
    )
}

#[cfg(feature = "mongodb")]
fn open_mongodb(uri: &str, prefix: &str) -> Result<Box<dyn Tickets>, Failure> {
    // An interactive command: give up on an unreachable server sooner than the layer does.
    MongoDb::builder(uri)
        .with_prefix(prefix)
        .with_server_selection_timeout(Duration::from_secs(5))
        .with_connect_timeout(Duration::from_secs(5))
        .open()
        .map(|s| Box::new(s) as Box<dyn Tickets>)
        .map_err(|e| Failure(chain(&e)))
}

#[cfg(not(feature = "mongodb"))]
fn open_mongodb(_uri: &str, _prefix: &str) -> Result<Box<dyn Tickets>, Failure> {
    Err(Failure(
        "this taskwire was built without MongoDB support; install it with \
         `cargo install taskwire-cli --features mongodb`"
            .into(),
    ))
}

/// An error and its sources, `: `-joined.
pub(crate) fn chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !s.contains(&text) {
            s.push_str(": ");
            s.push_str(&text);
        }
        cur = c.source();
    }
    s
}

/// The ids of the tickets with these fingerprints in the store at `db` (those it has).
pub(crate) fn ticket_ids(
    db: &Path,
    prefix: &str,
    fingerprints: &[u64],
) -> Result<std::collections::HashMap<u64, i64>, String> {
    let store = open(Some(db), prefix, Access::Read).map_err(|Failure(m)| m)?;
    let mut ids = std::collections::HashMap::new();
    for &fp in fingerprints {
        if let Some(t) = store.find(&format!("{fp:016x}")).map_err(|e| chain(&e))? {
            ids.insert(fp, t.id.0);
        }
    }
    Ok(ids)
}
