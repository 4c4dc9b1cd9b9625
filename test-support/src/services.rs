//! The services `scripts/test` starts for the tests (see `scripts/services/`), found through
//! the environment variables it exports. A test that needs one fails with a message saying how
//! to run it when the variable is missing: it never skips silently.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The value of `var`, or a panic that names it, what sets it and how to run the test.
fn required(var: &str, what: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!(
            "{var} is not set: this test needs {what}; run it with `./scripts/test -p CRATE` \
             (scripts/services/ starts the service and exports {var})"
        ),
    }
}

/// The MongoDB server `scripts/test` started (`TASKWIRE_TEST_MONGODB_URI`,
/// `mongodb://127.0.0.1:PORT`, no database name).
pub fn mongodb_uri() -> String {
    required(
        "TASKWIRE_TEST_MONGODB_URI",
        "a MongoDB server (scripts/services/mongodb.sh starts SecantusDB)",
    )
}

/// The SecantusDB server program (`TASKWIRE_TEST_SECANTUSD`), for tests that start, stop and
/// restart a server of their own.
pub fn secantusd() -> PathBuf {
    PathBuf::from(required(
        "TASKWIRE_TEST_SECANTUSD",
        "the SecantusDB program (scripts/services/mongodb.sh installs it)",
    ))
}

/// A database name no other test, process or run uses, built from `name`'s letters and digits.
pub fn unique_db(name: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let name: String = name
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(24)
        .collect();
    format!(
        "tw_{name}_{}_{}_{nanos}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// `base` (`mongodb://host:port`, maybe with a `/` and `?options`) naming the database `db`.
pub fn with_db(base: &str, db: &str) -> String {
    let (hosts, options) = match base.split_once('?') {
        Some((h, o)) => (h, format!("?{o}")),
        None => (base, String::new()),
    };
    let hosts = hosts.trim_end_matches('/');
    format!("{hosts}/{db}{options}")
}

/// A URI for a fresh database (see [`unique_db`]) on the server `scripts/test` started.
pub fn fresh_mongodb_uri(name: &str) -> String {
    with_db(&mongodb_uri(), &unique_db(name))
}

/// The OpenTelemetry collector `scripts/test` started: its OTLP/HTTP base URL
/// (`TASKWIRE_TEST_OTLP_HTTP`) and its debug log (`TASKWIRE_TEST_OTLP_LOG`), where it writes
/// what it received.
pub fn otel_collector() -> (String, PathBuf) {
    let what = "a real OpenTelemetry collector (scripts/services/otel-collector.sh starts rotel)";
    let url = required("TASKWIRE_TEST_OTLP_HTTP", what);
    let log = required("TASKWIRE_TEST_OTLP_LOG", what);
    (url, PathBuf::from(log))
}

/// The rotel-agent program (`TASKWIRE_TEST_ROTEL_AGENT`), for tests that start, kill and
/// restart a collector of their own.
pub fn rotel_agent() -> PathBuf {
    PathBuf::from(required(
        "TASKWIRE_TEST_ROTEL_AGENT",
        "the rotel-agent program (scripts/services/otel-collector.sh installs it)",
    ))
}

/// The chromedriver `scripts/test` started (`TASKWIRE_TEST_WEBDRIVER`,
/// `http://127.0.0.1:PORT`) and the Chromium program it should start
/// (`TASKWIRE_TEST_CHROMIUM`), for browser tests.
pub fn webdriver() -> (String, PathBuf) {
    let what = "chromedriver and Chromium (scripts/services/chromium.sh installs Debian's \
                chromium and chromium-driver and starts chromedriver)";
    let url = required("TASKWIRE_TEST_WEBDRIVER", what);
    let chromium = required("TASKWIRE_TEST_CHROMIUM", what);
    (url, PathBuf::from(chromium))
}

/// The folder of this `scripts/test` run (`TASKWIRE_RUN`), removed when it ends; the system's
/// temporary folder when the test runs on its own.
pub fn run_dir() -> PathBuf {
    std::env::var_os("TASKWIRE_RUN")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
}

/// A TCP port on 127.0.0.1 that was free a moment ago (bound, read, released): for a server
/// a test starts, or as a port nothing listens on.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("the bound address").port()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_db_keeps_the_options() {
        assert_eq!(with_db("mongodb://h:1", "d"), "mongodb://h:1/d");
        assert_eq!(with_db("mongodb://h:1/", "d"), "mongodb://h:1/d");
        assert_eq!(with_db("mongodb://h:1/?w=1", "d"), "mongodb://h:1/d?w=1");
    }

    #[test]
    fn unique_names_differ_and_keep_only_letters_and_digits() {
        let (a, b) = (unique_db("a-b c"), unique_db("a-b c"));
        assert_ne!(a, b);
        assert!(a.starts_with("tw_abc_"), "{a}");
    }
}
