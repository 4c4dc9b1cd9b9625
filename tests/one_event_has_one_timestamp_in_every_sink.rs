//! One event has one time: two JSON outputs (stdout and a file, say) write the same `ts`, and a
//! ticket's sample records that same instant, even when writing to the first output takes a
//! while, and for every event of a loop (whose events all sit at one stack address).

mod support;

use std::io;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use support::{str_of, Buf, TempDir};
use taskwire::tickets::store::{ListQuery, OccurrenceQuery, TicketReader};
use taskwire::tickets::Sqlite;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// A writer that takes at least 20 µs of wall-clock time per record (it spins on the clock, it
/// does not sleep), so a layer that reads the clock after it reads a later time.
#[derive(Clone, Default)]
struct Slow(Buf);

struct SlowWriter(Buf);

impl io::Write for SlowWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let start = SystemTime::now();
        while SystemTime::now().duration_since(start).unwrap_or_default()
            < Duration::from_micros(20)
        {
            std::hint::spin_loop();
        }
        self.0.make_writer().write(data)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Slow {
    type Writer = SlowWriter;

    fn make_writer(&'a self) -> SlowWriter {
        SlowWriter(self.0.clone())
    }
}

/// Microseconds since the epoch of an RFC 3339 `ts` as taskwire writes it.
fn micros(ts: &str) -> i64 {
    // `YYYY-MM-DDTHH:MM:SS.uuuuuuZ`
    let n = |a: usize, b: usize| ts[a..b].parse::<i64>().expect("digits");
    let (y, m, d) = (n(0, 4), n(5, 7), n(8, 10));
    // Days from civil (Howard Hinnant), the inverse of the writer's conversion.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + n(11, 13) * 3600 + n(14, 16) * 60 + n(17, 19);
    secs * 1_000_000 + n(20, 26)
}

#[test]
fn the_ts_parser_reads_what_the_writer_wrote() {
    let t = UNIX_EPOCH + Duration::from_micros(1_709_251_199_999_999);
    let mut out = Vec::new();
    taskwire::core::time::write_rfc3339(&mut out, t);
    assert_eq!(
        micros(std::str::from_utf8(&out).unwrap()),
        1_709_251_199_999_999
    );
}

#[test]
fn json_outputs_and_ticket_samples_share_each_events_time() {
    let dir = TempDir::new();
    let db = dir.path().join("tickets.db");
    let slow = Slow::default();
    let fast = Buf::default();
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

    let (a, b) = (slow.0.records(), fast.records());
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
        .map(|r| micros(str_of(r, "ts")))
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
