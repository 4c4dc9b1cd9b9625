//! The official W3C Trace Context test harness (w3c/trace-context `test/test.py` at acab820,
//! Level 2), every case, replayed in process against taskwire's codec and tasks: the "service"
//! imports the request headers into a task and, for each callback the harness asks for, opens a
//! child task and injects it, as an instrumented HTTP client would. The cases themselves are
//! shared with the HTTP services' runs (`tests/w3c_harness_*.rs` of the `taskwire` crate).

#[path = "../../../tests/support/w3c_harness/mod.rs"]
mod w3c_harness;

use tracing_subscriber::prelude::*;
use w3c_harness::{Headers, Service};

struct InProcess;

impl Service for InProcess {
    fn request(&self, headers: &[(String, String)], count: usize) -> Vec<Headers> {
        let subscriber = tracing_subscriber::registry().with(taskwire_tasks::layer());
        tracing::subscriber::with_default(subscriber, || {
            let carrier: Headers = headers.to_vec();
            let span = taskwire_tasks::import_from(&carrier, tracing::info_span!("service"));
            let _service = span.enter();
            (0..count)
                .map(|_| {
                    let _call = tracing::info_span!("callback").entered();
                    let mut out: Headers = Vec::new();
                    assert!(taskwire_tasks::inject_current(&mut out));
                    out
                })
                .collect()
        })
    }
}

#[test]
fn passes_all_41_cases_at_strict_level_2_spec_level_2() {
    w3c_harness::assert_passes_all(&InProcess, 2, 2, 41);
}

#[test]
fn passes_all_35_cases_at_strict_level_1_spec_level_2() {
    w3c_harness::assert_passes_all(&InProcess, 1, 2, 35);
}

#[test]
fn propagates_the_random_flag_and_keeps_it_off_when_unset() {
    for (flags, random) in [("00", false), ("01", false), ("02", true), ("03", true)] {
        let header = format!("00-12345678901234567890123456789012-1234567890123456-{flags}");
        let out = InProcess.request(&[("traceparent".to_owned(), header)], 1);
        let tp = w3c_harness::traceparent(&out[0]).expect("a valid traceparent");
        assert_eq!(tp.trace_flags & 0x02 != 0, random, "{flags}");
        assert_eq!(
            tp.trace_flags & 0x01 != 0,
            flags.ends_with(['1', '3']),
            "{flags}"
        );
    }
}
