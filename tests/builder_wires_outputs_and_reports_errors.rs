//! `taskwire::builder()` composes a working subscriber: records carry `service` and `release`,
//! `json_file` writes a file (creating its folder) that the `Guard` flushes on drop, and bad
//! settings (an unwritable path, invalid filter directives) are errors from `build()`, not
//! panics.

use taskwire_test_support::json_line;
use taskwire_test_support::{Capture, TempDir};

use std::error::Error;
use std::io;

use serde_json::json;

fn rust_log_is_set() -> bool {
    std::env::var("RUST_LOG").is_ok_and(|v| !v.trim().is_empty())
}

#[test]
fn records_carry_service_and_release() {
    let buf = Capture::default();
    let (dispatch, guard) = taskwire::builder()
        .json(buf.clone())
        .service("s")
        .release("r")
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        let _s = tracing::info_span!("span", a = 1).entered();
        tracing::info!("one");
        tracing::error!("two");
    });
    drop(guard);
    let records = buf.records();
    assert_eq!(records.len(), 2);
    for r in &records {
        assert_eq!(r["service"], json!("s"));
        assert_eq!(r["release"], json!("r"));
        assert_eq!(r["a"], json!(1));
    }
}

#[test]
fn build_does_not_install_a_global_default() {
    let buf = Capture::default();
    let (_dispatch, _guard) = taskwire::builder()
        .json(buf.clone())
        .build()
        .expect("build");
    tracing::error!("nobody listens");
    assert!(buf.text().is_empty());
}

/// The messages written by a builder stack with `default_filter(directives)` while `body`
/// runs, or `None` when `RUST_LOG` is set (it overrides `default_filter`).
fn messages_under(directives: &str, body: impl FnOnce()) -> Option<Vec<serde_json::Value>> {
    if rust_log_is_set() {
        eprintln!("RUST_LOG is set and overrides default_filter; skipping");
        return None;
    }
    let buf = Capture::default();
    let (dispatch, _guard) = taskwire::builder()
        .json(buf.clone())
        .default_filter(directives)
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, body);
    Some(buf.records().iter().map(|r| r["msg"].clone()).collect())
}

#[test]
fn the_default_filter_applies() {
    let Some(msgs) = messages_under("warn,chatty=trace", || {
        tracing::info!("dropped");
        tracing::warn!("kept");
        tracing::trace!(target: "chatty", "kept trace");
    }) else {
        return;
    };
    assert_eq!(msgs, [json!("kept"), json!("kept trace")]);
}

/// A directive that selects a span (`[name]`) enables events inside that span only, as with
/// `EnvFilter`: the filter follows entered spans when a directive needs it.
#[test]
fn a_span_directive_enables_events_inside_that_span_only() {
    let Some(msgs) = messages_under("warn,[checkout]=debug", || {
        tracing::debug!("outside");
        {
            let _s = tracing::info_span!("checkout").entered();
            tracing::debug!("inside");
        }
        let _other = tracing::info_span!("browse").entered();
        tracing::debug!("in another span");
        tracing::warn!("kept");
    }) else {
        return;
    };
    assert_eq!(msgs, [json!("inside"), json!("kept")]);
}

#[test]
fn several_json_outputs_each_get_every_record() {
    let (a, b) = (Capture::default(), Capture::default());
    let (dispatch, _guard) = taskwire::builder()
        .json(a.clone())
        .json(b.clone())
        .service("two")
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        let s = tracing::info_span!("s", v = tracing::field::Empty);
        let _s = s.enter();
        s.record("v", 3);
        tracing::info!("x");
    });
    let (ra, rb) = (a.records(), b.records());
    assert_eq!(ra.len(), 1);
    assert_eq!(rb.len(), 1);
    assert_eq!(ra[0]["v"], json!(3));
    assert_eq!(ra[0]["v"], rb[0]["v"]);
    assert_eq!(ra[0]["span_id"], rb[0]["span_id"]);
}

#[test]
fn span_list_setting_reaches_the_json_layer() {
    let buf = Capture::default();
    let (dispatch, _guard) = taskwire::builder()
        .json(buf.clone())
        .span_list(true)
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        let _s = tracing::info_span!("s", a = 1).entered();
        tracing::info!("x");
    });
    assert_eq!(buf.records()[0]["spans"], json!([{"name": "s", "a": 1}]));
}

#[test]
fn json_file_is_written_into_a_new_folder_and_flushed_when_the_guard_drops() {
    const EVENTS: usize = 5_000;
    let dir = TempDir::new("builder-outputs");
    let path = dir.path().join("logs").join("nested").join("app.jsonl");
    let (dispatch, guard) = taskwire::builder()
        .json_file(&path)
        .service("file-svc")
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        let _s = tracing::info_span!("s", job = "j").entered();
        for i in 0..EVENTS {
            tracing::info!(i, "to file");
        }
    });
    assert_eq!(guard.write_errors(), 0);
    drop(guard);
    let out = std::fs::read_to_string(&path).expect("the file exists");
    let lines = json_line::split_lines(&out);
    assert_eq!(lines.len(), EVENTS, "every record reached the file");
    for (i, line) in lines.iter().enumerate() {
        let r = json_line::parse_line(line);
        assert_eq!(r["i"], json!(i));
        assert_eq!(r["service"], json!("file-svc"));
        assert_eq!(r["job"], json!("j"));
    }
}

#[test]
fn json_file_appends_to_an_existing_file() {
    let dir = TempDir::new("builder-outputs");
    let path = dir.path().join("app.jsonl");
    std::fs::write(&path, "{\"earlier\":true}\n").expect("seed");
    let (dispatch, guard) = taskwire::builder().json_file(&path).build().expect("build");
    tracing::dispatcher::with_default(&dispatch, || tracing::info!("appended"));
    drop(guard);
    let out = std::fs::read_to_string(&path).expect("read");
    let records: Vec<_> = json_line::split_lines(&out)
        .iter()
        .map(|l| json_line::parse_line(l))
        .collect();
    assert_eq!(records.len(), 2);
    assert_eq!(records[0]["earlier"], json!(true));
    assert_eq!(records[1]["msg"], json!("appended"));
}

#[test]
fn json_file_under_a_regular_file_is_an_error_from_build() {
    let dir = TempDir::new("builder-outputs");
    let blocker = dir.path().join("not-a-dir");
    std::fs::write(&blocker, "").expect("seed");
    let path = blocker.join("app.jsonl");
    let err = taskwire::builder()
        .json_file(&path)
        .build()
        .expect_err("a path under a regular file cannot be opened");
    assert!(err.to_string().contains("app.jsonl"), "{err}");
    assert!(err.source().is_some(), "{err:?}");
    assert!(!path.exists());
}

#[test]
fn invalid_default_filter_is_an_error_from_build() {
    let err = taskwire::builder()
        .json(Capture::default())
        .default_filter("=[")
        .build()
        .expect_err("`=[` is not a filter");
    assert!(!err.to_string().is_empty());
    assert!(err.source().is_some(), "{err:?}");
}

/// A writer that always fails.
#[derive(Clone, Copy)]
struct Broken;

impl io::Write for Broken {
    fn write(&mut self, _: &[u8]) -> io::Result<usize> {
        Err(io::Error::other("disk on fire"))
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[test]
fn failing_writes_are_counted_by_the_guard_not_panicked_on() {
    let (dispatch, guard) = taskwire::builder().json(|| Broken).build().expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        for _ in 0..3 {
            tracing::error!("lost");
        }
    });
    assert_eq!(guard.write_errors(), 3);
}

#[test]
fn guard_flush_writes_the_file_and_the_output_keeps_working() {
    let dir = TempDir::new("builder-outputs");
    let path = dir.path().join("flushed.jsonl");
    let (dispatch, guard) = taskwire::builder().json_file(&path).build().expect("build");
    let count = || {
        let out = std::fs::read_to_string(&path).expect("the file exists");
        json_line::split_lines(&out).len()
    };
    tracing::dispatcher::with_default(&dispatch, || tracing::info!("first"));
    guard.flush();
    assert_eq!(count(), 1, "flush() waits until the line is in the file");
    tracing::dispatcher::with_default(&dispatch, || tracing::info!("second"));
    guard.flush();
    assert_eq!(count(), 2, "the output keeps working after a flush");
    drop(guard);
}
