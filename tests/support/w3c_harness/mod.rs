//! The official W3C Trace Context test harness (w3c/trace-context, `test/test.py` at commit
//! acab820, which tests Level 2), case by case, so it runs without the network.
//!
//! The harness sends a request with some `traceparent`/`tracestate` headers to the service
//! under test and asks it to call the harness back (once, or several times); it then checks the
//! headers of the callbacks. A [`Service`] is one such service: the request task of an axum or
//! actix server calling out through taskwire's reqwest middleware, or a task imported and
//! injected in process. [`CASES`] holds the harness's 41 tests, with the harness's own names,
//! inputs and assertions; [`run`] runs them at a `STRICT_LEVEL` and `SPEC_LEVEL` and says which
//! failed. The callback headers are read as the harness reads them ([`traceparent`],
//! [`tracestate`]), so a header the harness could not parse fails the case as it would there.
//!
//! Used by `tests/w3c_harness_*.rs` and by `layers/tasks/tests/w3c_trace_context_suite.rs`
//! (through `#[path]`), so the table exists once. `read` reads callback headers the way the
//! harness does; `cases` holds the harness's TestBase helpers and its tests.
#![allow(dead_code, unreachable_pub)]

mod cases;
mod read;

pub use cases::CASES;
pub use read::traceparent;

/// Header pairs, in order, as sent or received.
pub type Headers = Vec<(String, String)>;

/// A service under test.
pub trait Service {
    /// Sends one request carrying `headers` to the service and has it call the harness back
    /// `count` times. Returns the headers of each callback, in the order asked for; a callback
    /// that did not arrive is missing from the result.
    fn request(&self, headers: &[(String, String)], count: usize) -> Vec<Headers>;
}

/// One test of the harness.
pub struct Case {
    /// `Class.test_name`, as the harness names it.
    pub name: &'static str,
    /// Skipped below `STRICT_LEVEL=2`.
    pub strict: bool,
    /// The lowest `SPEC_LEVEL` that runs it.
    pub spec_level: u8,
    /// The test: `Err` with the failed assertion.
    pub run: fn(&dyn Service) -> Result<(), String>,
}

/// What [`run`] found.
#[derive(Debug)]
pub struct Outcome {
    /// Cases run.
    pub ran: usize,
    /// Failed cases: name and failed assertion.
    pub failed: Vec<(&'static str, String)>,
}

impl Outcome {
    /// Cases that passed.
    pub fn passed(&self) -> usize {
        self.ran - self.failed.len()
    }
}

/// Runs every case the harness runs at `strict_level` and `spec_level`.
pub fn run(service: &dyn Service, strict_level: u8, spec_level: u8) -> Outcome {
    let mut ran = 0;
    let mut failed = Vec::new();
    for case in &CASES {
        if (case.strict && strict_level < 2) || case.spec_level > spec_level {
            continue;
        }
        ran += 1;
        if let Err(why) = (case.run)(service) {
            failed.push((case.name, why));
        }
    }
    Outcome { ran, failed }
}

/// Asserts that `service` passes every case at `strict_level` and `spec_level`, listing the
/// failures otherwise.
pub fn assert_passes_all(service: &dyn Service, strict_level: u8, spec_level: u8, expected: usize) {
    let outcome = run(service, strict_level, spec_level);
    assert_eq!(
        outcome.ran, expected,
        "cases run at STRICT_LEVEL={strict_level} SPEC_LEVEL={spec_level}"
    );
    assert!(
        outcome.failed.is_empty(),
        "passed {} of {} harness cases at STRICT_LEVEL={strict_level} SPEC_LEVEL={spec_level}; failed:\n{}",
        outcome.passed(),
        outcome.ran,
        outcome
            .failed
            .iter()
            .map(|(n, why)| format!("  {n}: {why}"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}
