//! Values that misbehave still give one valid JSON line: a `Debug` or `Display` impl that
//! writes and then fails (in an event, in a span, recorded late), a field repeated in one
//! callsite (written once), and an error chain longer than 64 links (cut at 64).

mod support;

use std::error::Error;
use std::fmt;

use serde_json::json;
use taskwire_test_support::{json_line, Capture};

/// A value whose `Debug` and `Display` write something and then fail, as a buggy
/// implementation may.
struct Faulty;

impl fmt::Debug for Faulty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("partial \"")?;
        Err(fmt::Error)
    }
}

impl fmt::Display for Faulty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[test]
fn a_failing_debug_impl_in_an_event_still_gives_a_valid_line() {
    let buf = Capture::default();
    support::with_layer(support::json(&buf), || {
        tracing::info!(dbg = ?Faulty, disp = %Faulty, after = 1, "message {:?}", Faulty);
    });
    let r = &buf.records()[0];
    assert!(r["dbg"].is_string(), "{r:?}");
    assert!(r["disp"].is_string(), "{r:?}");
    assert_eq!(r["after"], json!(1));
}

#[test]
fn a_failing_debug_impl_in_a_span_still_gives_a_valid_line() {
    let buf = Capture::default();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        support::with_layer(support::json(&buf), || {
            let s = tracing::info_span!("s", dbg = ?Faulty, late = tracing::field::Empty);
            let _s = s.enter();
            s.record("late", tracing::field::display(Faulty));
            tracing::info!(after = 1, "in span");
        });
    }));
    assert!(
        outcome.is_ok(),
        "the layer panicked on a failing Debug impl"
    );
    let r = &buf.records()[0];
    assert!(r["dbg"].is_string(), "{r:?}");
    assert!(r["late"].is_string(), "{r:?}");
    assert_eq!(r["after"], json!(1));
}

#[test]
fn a_field_repeated_in_one_event_or_span_is_written_once() {
    let buf = Capture::default();
    support::with_layer(support::json(&buf), || {
        let _s = tracing::info_span!("s", b = 1, b = 2, level = 1, level = 2).entered();
        tracing::info!(a = 1, a = "two", msg = 1, msg = 2, "repeated");
    });
    let lines = buf.lines();
    // parse_line fails on any repeated key.
    let r = json_line::parse_line(&lines[0]);
    for k in ["a", "b", "fields.msg", "fields.level"] {
        assert!(r.contains_key(k), "{k} in {r:?}");
    }
}

/// An error whose `source()` chain is `depth` links long.
#[derive(Debug)]
struct Chain(usize);

impl fmt::Display for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "link {}", self.0)
    }
}

impl Error for Chain {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        // Leaked once per link; a test process can afford 100 small boxes.
        (self.0 > 0).then(|| &*Box::leak(Box::new(Chain(self.0 - 1))) as &(dyn Error + 'static))
    }
}

#[test]
fn an_event_error_chain_longer_than_64_links_is_cut() {
    let err = Chain(100);
    let records = support::capture(|| tracing::error!(err = &err as &dyn Error, "deep"));
    let sources = records[0]["err"]["source"].as_array().expect("source list");
    assert_eq!(sources.len(), 64);
    assert_eq!(sources[0], json!("link 99"));
    assert_eq!(records[0]["err"]["message"], json!("link 100"));
}

#[test]
fn a_span_error_chain_longer_than_64_links_is_cut() {
    let err = Chain(100);
    let records = support::capture(|| {
        let _s = tracing::error_span!("s", err = &err as &dyn Error).entered();
        tracing::error!("in span");
    });
    let sources = records[0]["err"]["source"].as_array().expect("source list");
    assert_eq!(sources.len(), 64);
}
