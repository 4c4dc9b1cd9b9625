//! `install()` bridges the `log` crate: a `log` record is written with the target, file, line
//! and module of the `log` call (normalized metadata), inside the current span, without the
//! bridge's `log.*` fields; a second `install()` returns an `InstallError` instead of panicking.
//!
//! This needs the global `log` logger and the global default subscriber, so it is the only
//! test in this file (and this binary).

use taskwire_test_support::json_line::{self, str_of};
use taskwire_test_support::Capture;

use std::error::Error;

use serde_json::json;

#[test]
fn log_records_carry_their_own_metadata_and_a_second_install_fails() {
    // The filter must come from the builder, not from the environment of whoever runs this.
    std::env::remove_var("RUST_LOG");
    let buf = Capture::default();
    let guard = taskwire::builder()
        .json(buf.clone())
        .source_location(true)
        .service("bridge")
        .default_filter("trace")
        .install()
        .expect("first install");

    let span = tracing::info_span!("request", request_id = 9);
    let entered = span.enter();
    let log_line = line!() + 1;
    log::warn!(target: "legacy::db", "pool exhausted after {} tries", 3);
    drop(entered);
    log::debug!("plain debug");
    tracing::info!(native = true, "tracing event");

    let records = buf.records();
    assert_eq!(records.len(), 3, "{records:?}");

    let r = &records[0];
    assert_eq!(r["msg"], json!("pool exhausted after 3 tries"));
    assert_eq!(r["level"], json!("WARN"));
    assert_eq!(r["target"], json!("legacy::db"));
    assert!(
        str_of(r, "file").ends_with("log_records_are_bridged_and_install_is_once.rs"),
        "{r:?}"
    );
    assert_eq!(r["line"], json!(log_line));
    assert_eq!(r["module"], json!(module_path!()));
    assert_eq!(
        r["request_id"],
        json!(9),
        "the current span applies to log records"
    );
    assert!(json_line::is_hex_id(str_of(r, "trace_id"), 32));
    assert_eq!(r["service"], json!("bridge"));
    for r in &records {
        let bridge_keys: Vec<&String> = r
            .keys()
            .filter(|k| k.starts_with("log.") || k.starts_with("fields.log."))
            .collect();
        assert!(bridge_keys.is_empty(), "bridge fields written: {r:?}");
    }

    let r = &records[1];
    assert_eq!(r["msg"], json!("plain debug"));
    assert_eq!(r["level"], json!("DEBUG"));
    assert_eq!(r["target"], json!(module_path!()));
    assert!(!r.contains_key("request_id"));

    let r = &records[2];
    assert_eq!(r["msg"], json!("tracing event"));
    assert_eq!(r["native"], json!(true));

    // Installing again fails cleanly, with and without the `log` bridge.
    let again = taskwire::builder().json(Capture::default()).install();
    let err = again.expect_err("a second install must fail");
    assert!(!err.to_string().is_empty());
    assert!(err.source().is_some(), "{err:?}");
    let again = taskwire::builder()
        .json(Capture::default())
        .log_bridge(false)
        .install();
    let err = again.expect_err("a second install without the log bridge must fail too");
    assert!(err.source().is_some(), "{err:?}");

    // The first installation is still the one in use.
    tracing::info!("after failed installs");
    assert_eq!(buf.records().len(), 4);
    drop(guard);
}
