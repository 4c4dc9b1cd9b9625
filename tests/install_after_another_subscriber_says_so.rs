//! `install()` after `tracing_subscriber::fmt().init()` (which also installs the `log`
//! bridge when tracing-subscriber's `tracing-log` feature is on, as it is by default) fails
//! with "a global tracing subscriber is already installed", the cause, rather than with the
//! `log` bridge's complaint. A second `install()` says the same.
//!
//! This needs the global default subscriber, so it is the only test in this file.

use std::error::Error;

#[test]
fn install_after_fmt_init_says_a_subscriber_is_already_installed() {
    std::env::remove_var("RUST_LOG");
    tracing_subscriber::fmt()
        .try_init()
        .expect("fmt installs first");
    // The `log` bridge, as `fmt().init()` installs it with tracing-subscriber's default
    // features (already there when the feature is on in this build).
    let _ = tracing_log::LogTracer::init();

    let err = taskwire::builder()
        .json(std::io::sink)
        .install()
        .expect_err("a subscriber is already installed");
    assert_eq!(
        err.to_string(),
        "a global tracing subscriber is already installed"
    );
    assert!(err.is_already_installed());
    assert!(err.source().is_some(), "{err:?}");
    assert!(
        format!("{err:?}").starts_with("a global tracing subscriber is already installed"),
        "{err:?}"
    );

    let again = taskwire::builder()
        .json(std::io::sink)
        .log_bridge(false)
        .install()
        .expect_err("still installed");
    assert!(again.is_already_installed(), "{again}");
}
