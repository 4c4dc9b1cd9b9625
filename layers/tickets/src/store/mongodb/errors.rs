//! Driver failures mapped to this crate's error kinds, and connection strings shown without
//! their password.

use crate::store::{ErrorKind, QueryError, UpdateError, WriteError};

use super::DUPLICATE_KEY;

pub(super) type SchemaError = (ErrorKind, String, Option<mongodb::error::Error>);

/// A failed write: what to report.
pub(super) type Fail = mongodb::error::Error;

pub(super) fn busy(message: impl Into<String>) -> Fail {
    mongodb::error::Error::custom(Busy(message.into()))
}

/// Marks an error the writer should retry soon (contention between writers).
#[derive(Debug)]
pub(super) struct Busy(pub(super) String);

pub(super) fn is_duplicate(e: &mongodb::error::Error) -> bool {
    match &*e.kind {
        mongodb::error::ErrorKind::Write(mongodb::error::WriteFailure::WriteError(w)) => {
            w.code == DUPLICATE_KEY
        }
        mongodb::error::ErrorKind::Command(c) => c.code == DUPLICATE_KEY,
        _ => false,
    }
}

/// The connection string without its password.
pub(super) fn redact(uri: &str) -> String {
    let Some((scheme, rest)) = uri.split_once("://") else {
        return uri.to_owned();
    };
    let hosts_end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..hosts_end].rfind('@') {
        Some(at) => {
            let user = rest[..at].split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{}", &rest[at + 1..])
        }
        None => uri.to_owned(),
    }
}

/// A failure that is not the driver's.
#[derive(Debug)]
pub(super) struct Invalid(pub(super) String);

/// Maps a driver failure to what the writer does about it.
pub(super) fn kind_of(e: &mongodb::error::Error) -> ErrorKind {
    use mongodb::error::ErrorKind as K;
    match &*e.kind {
        K::ServerSelection { .. }
        | K::Io(_)
        | K::ConnectionPoolCleared { .. }
        | K::DnsResolve { .. }
        | K::Authentication { .. }
        | K::Shutdown => ErrorKind::Unavailable,
        K::InvalidArgument { .. } | K::InvalidTlsConfig { .. } => ErrorKind::InvalidConfig,
        K::Command(c) => match c.code {
            // WriteConflict, LockTimeout, ExceededTimeLimit, MaxTimeMSExpired
            112 | 24 | 262 | 50 => ErrorKind::Busy,
            // ShutdownInProgress, InterruptedAtShutdown, NotWritablePrimary and friends,
            // HostUnreachable, HostNotFound, NetworkTimeout, PrimarySteppedDown
            91 | 11600 | 11602 | 10107 | 13435 | 13436 | 189 | 6 | 7 | 89 | 9001 => {
                ErrorKind::Unavailable
            }
            // Unauthorized, AuthenticationFailed
            13 | 18 => ErrorKind::Unavailable,
            _ => ErrorKind::Other,
        },
        K::Custom(c) if c.is::<Busy>() => ErrorKind::Busy,
        _ if e.contains_label("RetryableWriteError") => ErrorKind::Unavailable,
        _ => ErrorKind::Other,
    }
}

pub(super) fn write_err(e: mongodb::error::Error, target: &str) -> WriteError {
    WriteError::new(kind_of(&e), format!("{target}: {}", message_of(&e))).with_source(e)
}

pub(super) fn query_err(e: mongodb::error::Error, target: &str) -> QueryError {
    QueryError::new(kind_of(&e), format!("{target}: {}", message_of(&e))).with_source(e)
}

pub(super) fn update_err(e: mongodb::error::Error, target: &str) -> UpdateError {
    UpdateError::new(kind_of(&e), format!("{target}: {}", message_of(&e))).with_source(e)
}

pub(super) fn message_of(e: &mongodb::error::Error) -> String {
    match &*e.kind {
        mongodb::error::ErrorKind::Custom(c) => {
            if let Some(b) = c.downcast_ref::<Busy>() {
                b.0.clone()
            } else if let Some(i) = c.downcast_ref::<Invalid>() {
                i.0.clone()
            } else {
                e.to_string()
            }
        }
        mongodb::error::ErrorKind::ServerSelection { .. } => {
            "no MongoDB server available (server selection timed out)".into()
        }
        mongodb::error::ErrorKind::Io(_)
        | mongodb::error::ErrorKind::ConnectionPoolCleared { .. } => {
            "the connection to MongoDB failed".into()
        }
        mongodb::error::ErrorKind::Authentication { .. } => "MongoDB authentication failed".into(),
        mongodb::error::ErrorKind::Command(c) => {
            format!(
                "MongoDB refused a command: {} (code {})",
                c.code_name, c.code
            )
        }
        _ => "a MongoDB operation failed".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_not_shown() {
        assert_eq!(
            redact("mongodb://app:s3cret@db1:27017,db2/errors?tls=true"),
            "mongodb://app:***@db1:27017,db2/errors?tls=true"
        );
        assert_eq!(redact("mongodb://db1/x"), "mongodb://db1/x");
    }
}
