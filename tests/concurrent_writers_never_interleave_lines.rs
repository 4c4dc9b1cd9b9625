//! Each record is written with a single `write_all`, so threads sharing one file never
//! interleave or lose lines: 4 threads × 25,000 events give exactly 100,000 parseable lines.

use taskwire_test_support::json_line;
use taskwire_test_support::TempDir;

use std::collections::HashMap;
use std::fs::OpenOptions;
use std::sync::Arc;

use tracing_subscriber::layer::SubscriberExt;

const THREADS: u64 = 4;
const PER_THREAD: u64 = 25_000;

#[test]
fn four_threads_append_one_hundred_thousand_whole_lines_to_one_file() {
    let dir = TempDir::new("concurrent-writers");
    let path = dir.path().join("out.jsonl");
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .expect("open");
    let layer = taskwire::json::layer().with_writer(Arc::new(file));
    let errors = layer.write_errors();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    // Long enough that a record split into several writes would interleave visibly.
    let padding = "p".repeat(300);

    std::thread::scope(|s| {
        for t in 0..THREADS {
            let dispatch = &dispatch;
            let padding = padding.as_str();
            s.spawn(move || {
                tracing::dispatcher::with_default(dispatch, || {
                    let _span = tracing::info_span!("worker", t).entered();
                    for i in 0..PER_THREAD {
                        tracing::info!(i, padding, "event");
                    }
                });
            });
        }
    });
    drop(dispatch);
    assert_eq!(errors.count(), 0);

    let out = std::fs::read_to_string(&path).expect("read");
    let lines = json_line::split_lines(&out);
    assert_eq!(lines.len() as u64, THREADS * PER_THREAD);
    let mut seen: HashMap<u64, Vec<bool>> = HashMap::new();
    for line in &lines {
        let r = json_line::parse_line(line);
        let t = r["t"].as_u64().expect("t");
        let i = r["i"].as_u64().expect("i");
        assert_eq!(r["padding"].as_str(), Some(padding.as_str()));
        let marks = seen
            .entry(t)
            .or_insert_with(|| vec![false; PER_THREAD as usize]);
        let idx = usize::try_from(i).expect("index");
        assert!(!marks[idx], "event {i} of thread {t} written twice");
        marks[idx] = true;
    }
    assert_eq!(seen.len() as u64, THREADS);
    for (t, marks) in &seen {
        let count = marks.iter().filter(|m| **m).count() as u64;
        assert_eq!(count, PER_THREAD, "thread {t}");
    }
}
