//! One event has one time: two JSON outputs (stdout and a file, say) write the same `ts`, and a
//! ticket's sample records that same instant, even when writing to the first output takes a
//! while, and for every event of a loop (whose events all sit at one stack address).
#![cfg(feature = "tickets")]

use std::time::{Duration, Instant, UNIX_EPOCH};

use taskwire::tickets::store::{ListQuery, OccurrenceQuery, TicketReader};
use taskwire::tickets::Sqlite;
use taskwire_test_support::json_line::{str_of, ts_micros};
use taskwire_test_support::{Capture, Slow, TempDir};
use tracing_subscriber::layer::SubscriberExt;

#[test]
fn the_ts_parser_reads_what_the_writer_wrote() {
    let t = UNIX_EPOCH + Duration::from_micros(1_709_251_199_999_999);
    let mut out = Vec::new();
    taskwire::core::time::write_rfc3339(&mut out, t);
    assert_eq!(
        ts_micros(std::str::from_utf8(&out).unwrap()),
        1_709_251_199_999_999
    );
}

#[test]
fn json_outputs_and_ticket_samples_share_each_events_time() {
    let dir = TempDir::new("one-time-every-sink");
    let db = dir.path().join("tickets.db");
    // Each write to `slow` takes at least 20 µs (it spins on the clock, it does not sleep), so
    // a layer that read the clock after it would read a later time.
    let slow_out = Capture::default();
    let slow = Slow::new(slow_out.clone(), Duration::from_micros(20));
    let fast = Capture::default();
    let (tickets, guard) = taskwire::tickets::layer(Sqlite::open(&db).unwrap())
        .with_samples_per_ticket(50)
        .build();
    let subscriber = tracing_subscriber::registry()
        .with(taskwire::json::layer().with_writer(slow.clone()))
        .with(tickets)
        .with(taskwire::json::layer().with_writer(fast.clone()));
    let started = Instant::now();
    tracing::subscriber::with_default(subscriber, || {
        let _task = tracing::info_span!("batch").entered();
        for i in 0..20 {
            tracing::info!(i, "progress");
            tracing::error!(i, "step failed");
        }
    });
    drop(guard);
    assert!(started.elapsed() < Duration::from_secs(30));

    let (a, b) = (slow_out.records(), fast.records());
    assert_eq!(a.len(), 40);
    assert_eq!(b.len(), 40);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x["i"], y["i"]);
        assert_eq!(
            str_of(x, "ts"),
            str_of(y, "ts"),
            "one event, two times: {x:?} vs {y:?}"
        );
    }
    // Distinct events still get their own times: the slow writer spaces them by 20 µs.
    let mut times: Vec<&str> = a.iter().map(|r| str_of(r, "ts")).collect();
    times.dedup();
    assert_eq!(times.len(), 40, "events merged into one time: {times:?}");

    let store = Sqlite::open(&db).unwrap();
    let list = store.list(&ListQuery::default()).unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    let occurrences = store
        .occurrences(list[0].id, &OccurrenceQuery::oldest().with_limit(100))
        .unwrap();
    let written: Vec<i64> = a
        .iter()
        .filter(|r| r["level"] == "ERROR")
        .map(|r| ts_micros(str_of(r, "ts")))
        .collect();
    assert!(!occurrences.is_empty());
    for o in &occurrences {
        assert!(
            written.contains(&o.sample.time.as_micros()),
            "sample time {} is none of the JSON times {written:?}",
            o.sample.time.as_micros()
        );
    }
}
