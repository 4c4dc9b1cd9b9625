//! The reader picks lines by substring search before parsing them when a query names a trace
//! or values (`Reader::read_sources`); whatever the records and the query, it finds exactly
//! what reading every line does (`Reader::read_source`, line by line).
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns too

use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use taskwire_explore::query::Query;
use taskwire_explore::source::{expand, Source};
use taskwire_explore::trace::{build, Keep, Reader, Sort};
use taskwire_test_support::TempDir;

const TRACES: [u128; 4] = [
    0x4bf92f3577b34da6a3ce929d0e0e4736,
    0x0af7651916cd43dd8448eb211c80319c,
    0x00000000000000000000000000000013,
    0x13131313131313131313131313131313,
];

/// One record: (trace, span, parent, task or event, failed, order, level, duration, spaced).
type Record = (usize, u8, Option<u8>, bool, bool, u8, u8, u32, bool);

fn line(r: &Record, service: &str) -> String {
    let &(trace, span, parent, task, failed, order, level, dur, spaced) = r;
    let colon = if spaced { "\" : " } else { "\":" };
    let mut s = format!(
        r#"{{"ts":"2026-11-21T10:00:{:02}.{:06}Z","level":"{}","target":"#,
        span % 60,
        dur % 1_000_000,
        ["INFO", "WARN", "ERROR", "DEBUG"][usize::from(level % 4)]
    );
    if task {
        write!(
            s,
            r#""taskwire::tasks","msg":"task.end","task.name":"t{span}","task.outcome":"{}","task.duration_us":{dur}"#,
            if failed { "failed" } else { "succeeded" }
        )
        .unwrap();
    } else {
        write!(s, r#""shop","msg":"m{span}""#).unwrap();
    }
    write!(
        s,
        r#","order_id":{order},"customer":"cust-{order}","trace_id{colon}"{:032x}","span_id":"{:016x}""#,
        TRACES[trace % TRACES.len()],
        u64::from(span) + 1
    )
    .unwrap();
    if let Some(p) = parent {
        write!(s, r#","parent_span_id":"{:016x}""#, u64::from(p) + 1).unwrap();
    }
    write!(s, r#","service":"{service}"}}"#).unwrap();
    s
}

fn record() -> impl Strategy<Value = Record> {
    (
        0..TRACES.len(),
        0u8..40,
        prop::option::of(0u8..40),
        any::<bool>(),
        prop::bool::weighted(0.2),
        0u8..20,
        0u8..4,
        0u32..400_000,
        prop::bool::weighted(0.1),
    )
}

fn query() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..TRACES.len()).prop_map(|t| format!("{:032x}", TRACES[t])),
        Just("0000000000000000000000000000ffff".to_owned()),
        (0u8..20).prop_map(|o| format!("order_id={o}")),
        (0u8..20).prop_map(|o| format!("customer=cust-{o}")),
        (0u8..20).prop_map(|o| format!("customer~cust-{o}")),
        Just("failed".to_owned()),
        (0u32..400).prop_map(|ms| format!("duration>{ms}ms")),
        Just("service=back failed".to_owned()),
        (0u8..40).prop_map(|s| format!("{:016x}", u64::from(s) + 1)),
        Just("level>=warn".to_owned()),
        (0..TRACES.len(), 0u8..20).prop_map(|(t, o)| format!("{:032x} order_id={o}", TRACES[t])),
    ]
}

/// What a reader found: each trace's summary and its tasks in tree order.
fn found(mut reader: Reader, sources: &[Source], picked: bool) -> (String, u64) {
    let mut malformed = 0;
    if picked {
        for counts in reader.read_sources(sources) {
            malformed += counts.unwrap().malformed;
        }
    } else {
        for s in sources {
            malformed += reader.read_source(s).unwrap().malformed;
        }
    }
    let mut forest = build(reader.finish(), Keep::default());
    let mut out = format!("{:?}\n", forest.search(Sort::Start, None));
    for trace in forest.traces() {
        for n in trace.nodes() {
            let errors: Vec<&str> = n.errors().map(|e| e.msg()).collect();
            writeln!(
                out,
                "{:032x} {} {} {} {} {errors:?}",
                trace.id(),
                n.depth(),
                n.name(),
                n.start_us(),
                n.failed()
            )
            .unwrap();
        }
    }
    (out, malformed)
}

static CASE: AtomicUsize = AtomicUsize::new(0);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn picked_lines_find_what_every_line_finds(
        front in prop::collection::vec(record(), 0..60),
        back in prop::collection::vec(record(), 0..60),
        noise in prop::collection::vec("[{}\":a-z0-9 ]{0,30}", 0..4),
        q in query(),
    ) {
        let dir = TempDir::new(&format!("picked-lines-{}", CASE.fetch_add(1, Ordering::Relaxed)));
        let mut f: String = front.iter().map(|r| line(r, "front") + "\n").collect();
        for n in &noise {
            f.push_str(n);
            f.push('\n');
        }
        let b: String = back.iter().map(|r| line(r, "back") + "\n").collect();
        std::fs::write(dir.join("front.log"), f).unwrap();
        std::fs::write(dir.join("back.log"), b).unwrap();
        let (sources, errors) = expand(&[dir.join("front.log"), dir.join("back.log")]);
        prop_assert!(errors.is_empty());
        let query: Query = q.parse().unwrap();
        let (all, _) = found(Reader::with_query(&query, 0), &sources, false);
        let (picked, _) = found(Reader::with_query(&query, 0), &sources, true);
        prop_assert_eq!(picked, all, "query {}", q);
    }
}
