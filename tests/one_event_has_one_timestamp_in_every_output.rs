//! One event, one timestamp: the builder renders each event once, and every JSON output
//! (writers and files) gets the same line, so `ts` agrees across outputs. Each output still
//! chooses its writer from the event's metadata (`with_max_level`), a single output too.

use taskwire_test_support::json_line;
use taskwire_test_support::{Capture, TempDir};

use tracing::Level;
use tracing_subscriber::fmt::writer::MakeWriterExt;

#[test]
fn every_output_gets_the_same_line_for_one_event() {
    const EVENTS: usize = 2_000;
    let dir = TempDir::new("one-time-every-output");
    let path = dir.path().join("same.jsonl");
    let (a, b) = (Capture::default(), Capture::default());
    let (dispatch, guard) = taskwire::builder()
        .default_filter("trace")
        .json(a.clone())
        .json(b.clone())
        .json_file(&path)
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        let _s = tracing::info_span!("job", id = 1).entered();
        for i in 0..EVENTS {
            tracing::info!(i, "tick");
        }
    });
    drop(guard);
    let (la, lb) = (a.lines(), b.lines());
    let lf = json_line::split_lines(&std::fs::read_to_string(&path).expect("the file"));
    assert_eq!(la.len(), EVENTS);
    for (i, ((x, y), z)) in la.iter().zip(&lb).zip(&lf).enumerate() {
        let (rx, ry, rz) = (
            json_line::parse_line(x),
            json_line::parse_line(y),
            json_line::parse_line(z),
        );
        assert_eq!(rx["i"], i);
        assert_eq!(rx["ts"], ry["ts"], "event {i}");
        assert_eq!(rx["ts"], rz["ts"], "event {i}");
        assert_eq!(x, y, "event {i}: the outputs differ");
        assert_eq!(x, z, "event {i}: the file differs");
    }
    assert_eq!(lb.len(), EVENTS);
    assert_eq!(lf.len(), EVENTS);
}

#[test]
fn each_output_chooses_its_writer_from_the_event_metadata() {
    let (all, warnings) = (Capture::default(), Capture::default());
    let (dispatch, _guard) = taskwire::builder()
        .json(all.clone())
        .json(warnings.clone().with_max_level(Level::WARN))
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::info!("info");
        tracing::warn!("warn");
        tracing::error!("error");
    });
    let msgs = |b: &Capture| -> Vec<String> {
        b.records()
            .iter()
            .map(|r| json_line::str_of(r, "msg").to_owned())
            .collect()
    };
    assert_eq!(msgs(&all), ["info", "warn", "error"]);
    assert_eq!(msgs(&warnings), ["warn", "error"]);
    assert_eq!(all.lines()[2], warnings.lines()[1]);
}

/// A single output gets each line straight from the JSON layer, not through the shared tap,
/// and still chooses its writer from the event's metadata.
#[test]
fn a_single_output_chooses_its_writer_from_the_event_metadata() {
    let warnings = Capture::default();
    let (dispatch, _guard) = taskwire::builder()
        .json(warnings.clone().with_max_level(Level::WARN))
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        let _task = tracing::info_span!("task", n = 1).entered();
        tracing::info!("info");
        tracing::warn!("warn");
        tracing::error!("error");
    });
    let msgs: Vec<String> = warnings
        .records()
        .iter()
        .map(|r| json_line::str_of(r, "msg").to_owned())
        .collect();
    assert_eq!(msgs, ["warn", "error"]);
    assert!(warnings
        .records()
        .iter()
        .all(|r| r["n"] == serde_json::json!(1)));
}

/// A bridged `log` record is written for its own metadata (the record's target), not the
/// bridge's call site, when there is a single output too.
#[test]
fn a_single_output_chooses_its_writer_from_a_log_records_own_target() {
    let db = Capture::default();
    let (dispatch, _guard) = taskwire::builder()
        .json(
            db.clone()
                .with_filter(|meta: &tracing::Metadata<'_>| meta.target() == "legacy::db"),
        )
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        let record = log::Record::builder()
            .target("legacy::db")
            .level(log::Level::Warn)
            .args(format_args!("pool exhausted"))
            .build();
        tracing_log::format_trace(&record).expect("bridged");
        tracing::warn!("not from the database");
    });
    let msgs: Vec<String> = db
        .records()
        .iter()
        .map(|r| json_line::str_of(r, "msg").to_owned())
        .collect();
    assert_eq!(msgs, ["pool exhausted"]);
}

/// A writer that always fails.
#[derive(Clone, Copy)]
struct Broken;

impl std::io::Write for Broken {
    fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
        Err(std::io::Error::other("disk on fire"))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn a_failing_output_does_not_starve_the_others() {
    let ok = Capture::default();
    let (dispatch, guard) = taskwire::builder()
        .json(|| Broken)
        .json(ok.clone())
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        for _ in 0..3 {
            tracing::error!("kept by one output");
        }
    });
    assert_eq!(ok.records().len(), 3);
    assert_eq!(guard.write_errors(), 3);
}
