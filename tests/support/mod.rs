//! Shared helpers for the integration tests of the umbrella crate: a JSON layer into a
//! `Capture`, running code under a layer, and the examples' binaries. The capture writer, the
//! JSON-line checks, temporary folders and child processes come from `taskwire_test_support`.
//!
//! Each test binary uses a subset of these helpers.
#![allow(dead_code, unreachable_pub)]

use std::path::Path;

use taskwire_test_support::{Capture, Record};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{Layer, Registry};

/// The built-in keys written before the user's fields, in order.
pub const KEYS_BEFORE_FIELDS: [&str; 4] = ["ts", "level", "target", "msg"];

/// The built-in keys written after the user's fields, in order, with every key on
/// ([`json_all_keys`]; `service` and `release` when set, static fields after them).
pub const KEYS_AFTER_FIELDS: [&str; 11] = [
    "trace_id",
    "span_id",
    "parent_span_id",
    "file",
    "line",
    "module",
    "thread",
    "pid",
    "host",
    "service",
    "release",
];

/// The keys of [`KEYS_AFTER_FIELDS`] the default record leaves out (the source location and
/// the process keys).
pub const KEYS_OFF_BY_DEFAULT: [&str; 6] = ["file", "line", "module", "thread", "pid", "host"];

/// Whether `key` is one of the built-in keys (with every key on, flat mode).
pub fn is_built_in(key: &str) -> bool {
    KEYS_BEFORE_FIELDS.contains(&key) || KEYS_AFTER_FIELDS.contains(&key)
}

/// A JSON layer writing into `buf`.
pub fn json(buf: &Capture) -> taskwire::json::JsonLayer<Capture> {
    taskwire::json::layer().with_writer(buf.clone())
}

/// A JSON layer writing into `buf` with every built-in key on: the source location and the
/// process keys too.
pub fn json_all_keys(buf: &Capture) -> taskwire::json::JsonLayer<Capture> {
    json(buf).with_source_location(true).with_process(true)
}

/// Runs `f` with `registry().with(layer)` as the thread's default subscriber.
pub fn with_layer<L, R>(layer: L, f: impl FnOnce() -> R) -> R
where
    L: Layer<Registry> + Send + Sync + 'static,
{
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), f)
}

/// Runs `f` under a default JSON layer and returns the records it wrote.
pub fn capture(f: impl FnOnce()) -> Vec<Record> {
    let buf = Capture::default();
    with_layer(json(&buf), f);
    buf.records()
}

/// `target/<profile>/examples/<name>`, built by `cargo test` (or
/// `cargo build --examples`); a panic that says how to build it when it is missing or older
/// than its source.
pub fn example_binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from target/<profile>/deps");
    let bin = profile
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let how = "Build it with `cargo build -p taskwire --examples`, or run `./scripts/test`";
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("{} is missing ({e}). {how}.", bin.display()));
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{name}.rs"));
    if let Ok(edited) = std::fs::metadata(&source).and_then(|m| m.modified()) {
        assert!(
            built >= edited,
            "{} is older than its source. {how}.",
            bin.display()
        );
    }
    bin
}
