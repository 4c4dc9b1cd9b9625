//! [`MongoDbBuilder`]: the connection string, database, prefix, timeouts and spool folder, checked
//! by [`MongoDbBuilder::open`] without contacting the server.

use std::path::PathBuf;
use std::time::Duration;

use mongodb::options::{ClientOptions, ConnectionString};
use mongodb::Client;

use crate::store::{ErrorKind, OpenError, TablePrefix, DEFAULT_PREFIX};

use super::cache::Cache;
use super::errors::redact;
use super::schema::Names;
use super::{Inner, MongoDb, DEFAULT_DATABASE};

/// Options of a [`MongoDb`] store. Created by [`MongoDb::builder`].
#[derive(Clone, Debug)]
#[must_use = "a MongoDbBuilder does nothing until `open()` is called"]
pub struct MongoDbBuilder {
    uri: String,
    database: Option<String>,
    prefix: String,
    server_selection_timeout: Duration,
    connect_timeout: Duration,
    spool_dir: Option<PathBuf>,
}

impl MongoDbBuilder {
    /// The default settings for the deployment at `uri`.
    pub(super) fn new(uri: &str) -> MongoDbBuilder {
        MongoDbBuilder {
            uri: uri.to_owned(),
            database: None,
            prefix: DEFAULT_PREFIX.to_owned(),
            server_selection_timeout: Duration::from_secs(2),
            connect_timeout: Duration::from_secs(2),
            spool_dir: None,
        }
    }

    /// Keeps the spool (what a final flush could not write before the process exited, see
    /// `docs/tickets.md`, "Shutdown") in `dir`, created when first needed. Every process
    /// writing to the same deployment, database and prefix should use the same folder, on a
    /// disk that outlives the process (a container's volume), so the next one replays it.
    ///
    /// Default: `$XDG_STATE_HOME/taskwire/spool`, else `$HOME/.local/state/taskwire/spool`,
    /// else `taskwire-spool` in the system's temporary folder.
    ///
    /// ```no_run
    /// let store = taskwire_tickets::MongoDb::builder("mongodb://db1/errors")
    ///     .with_spool_dir("/var/lib/checkout/taskwire-spool")
    ///     .open()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_spool_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spool_dir = Some(dir.into());
        self
    }

    /// Names the collections `{prefix}tickets` and so on. Default `taskwire_`. Only ASCII
    /// letters, digits and `_`, at most 32 characters; anything else fails
    /// [`MongoDbBuilder::open`].
    pub fn with_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// Uses this database instead of the one named in the connection string.
    pub fn with_database(mut self, name: impl Into<String>) -> Self {
        self.database = Some(name.into());
        self
    }

    /// How long an operation waits for a usable server before failing, unless the connection
    /// string sets `serverSelectionTimeoutMS`. Default 2 s: while the server is down, each
    /// write attempt of the writer thread (and each `taskwire tickets` command) gives up after
    /// this long.
    pub fn with_server_selection_timeout(mut self, timeout: Duration) -> Self {
        self.server_selection_timeout = timeout;
        self
    }

    /// How long opening a connection may take, unless the connection string sets
    /// `connectTimeoutMS`. Default 2 s.
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Checks the settings and makes the client, without contacting the server.
    ///
    /// Fails with [`ErrorKind::InvalidConfig`] when the connection string is malformed or has
    /// an invalid option, or the prefix or database name is invalid. A `mongodb+srv://` string
    /// is resolved here (DNS). An unreachable server is not an error: writes and queries report
    /// it ([`ErrorKind::Unavailable`]) and the layer's writer retries.
    pub fn open(self) -> Result<MongoDb, OpenError> {
        let prefix = TablePrefix::new(&self.prefix)?;
        let shown = redact(&self.uri);
        let invalid = |msg: String, e: Option<mongodb::error::Error>| {
            let err = OpenError::new(ErrorKind::InvalidConfig, format!("{shown}: {msg}"));
            match e {
                Some(e) => err.with_source(e),
                None => err,
            }
        };
        let conn = ConnectionString::parse(&self.uri)
            .map_err(|e| invalid("invalid MongoDB connection string".into(), Some(e)))?;
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .thread_name("taskwire-tickets-mongodb")
            .build()
            .map_err(|e| {
                OpenError::new(
                    ErrorKind::Other,
                    format!("{shown}: cannot start the store's runtime"),
                )
                .with_source(e)
            })?;
        let mut options = rt
            .block_on(async { ClientOptions::parse(conn).await })
            .map_err(|e| invalid("cannot use this connection string".into(), Some(e)))?;
        if options.server_selection_timeout.is_none() {
            options.server_selection_timeout = Some(self.server_selection_timeout);
        }
        if options.connect_timeout.is_none() {
            options.connect_timeout = Some(self.connect_timeout);
        }
        if options.app_name.is_none() {
            options.app_name = Some("taskwire".into());
        }
        let database = self
            .database
            .clone()
            .or_else(|| options.default_database.clone())
            .unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        if database.is_empty()
            || database.len() > 63
            || database
                .chars()
                .any(|c| matches!(c, '/' | '\\' | '.' | ' ' | '"' | '$' | '\0'))
        {
            return Err(invalid(format!("invalid database name {database:?}"), None));
        }
        let spool = {
            let mut hosts: Vec<String> = options.hosts.iter().map(ToString::to_string).collect();
            hosts.sort();
            let id =
                fnv1a(format!("{}/{database}/{}", hosts.join(","), prefix.as_str()).as_bytes());
            let dir = self.spool_dir.clone().unwrap_or_else(default_spool_dir);
            dir.join(format!(
                "mongodb-{id:016x}-{database}-{}spool",
                prefix.as_str()
            ))
        };
        let client = {
            let _enter = rt.enter();
            Client::with_options(options)
                .map_err(|e| invalid("cannot make a client".into(), Some(e)))?
        };
        let db = client.database(&database);
        let names = Names::new(prefix.as_str());
        let inner = Inner {
            tickets: db.collection(&names.tickets),
            occurrences: db.collection(&names.occurrences),
            tags: db.collection(&names.tags),
            meta: db.collection(&names.meta),
            write_concern: db
                .write_concern()
                .and_then(|w| mongodb::bson::to_document(w).ok())
                .filter(|d| !d.is_empty()),
            target: format!("{shown} (database {database})"),
            db,
            names,
            schema_ready: false,
            cache: Cache::default(),
            fail_after: None,
        };
        Ok(MongoDb {
            inner: Some(inner),
            rt,
            retry: None,
            spool: Some(spool),
        })
    }
}

/// See [`MongoDbBuilder::with_spool_dir`].
pub(super) fn default_spool_dir() -> PathBuf {
    let env = |k: &str| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    env("XDG_STATE_HOME")
        .or_else(|| env("HOME").map(|h| h.join(".local").join("state")))
        .map_or_else(
            || std::env::temp_dir().join("taskwire-spool"),
            |d| d.join("taskwire").join("spool"),
        )
}

/// A stable 64-bit hash (FNV-1a), for spool names that are the same in every process.
pub(super) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_connection_strings_fail_at_open() {
        for uri in [
            "postgres://x",
            "mongodb://",
            "mongodb://h/?serverSelectionTimeoutMS=x",
        ] {
            let err = MongoDb::open(uri).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{uri}: {err}");
        }
        let err = MongoDb::builder("mongodb://127.0.0.1:1/x")
            .with_prefix("a-b")
            .open()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig);
    }
}
