//! With `taskwire::panic_hook()` a panic, in a thread or a tokio task, is an ERROR event inside
//! the current task: the task fails with the panic's message, and the panic is a ticket at the
//! panic's file and line, with its backtrace; panics of one place are one ticket whatever their
//! messages. Real panics, a real SQLite tickets database.
#![cfg(feature = "tickets")]

use std::path::Path;

use serde_json::Value;
use taskwire::tickets::store::{ListQuery, OccurrenceQuery, Ticket};
use taskwire::tickets::{Sqlite, TicketReader};
use taskwire_test_support::json_line::is_task_end;
use taskwire_test_support::{Capture, TempDir};
use tracing::Dispatch;

fn stack(db: &Path) -> (Dispatch, taskwire::Guard, Capture) {
    taskwire::panic_hook();
    let buf = Capture::default();
    let (dispatch, guard) = taskwire::builder()
        .tasks(taskwire::tasks::layer())
        .tickets_db(db)
        .json(buf.clone())
        .build()
        .expect("the stack builds");
    (dispatch, guard, buf)
}

fn tickets(db: &Path, guard: &taskwire::Guard) -> Vec<Ticket> {
    guard.flush_tickets().expect("the tickets are written");
    Sqlite::open(db)
        .expect("the database")
        .list(&ListQuery::default())
        .expect("the tickets")
}

fn task_end(buf: &Capture, name: &str) -> Value {
    Value::Object(buf.wait_for(&format!("task.end of {name}"), |r| {
        is_task_end(r) && r.get("task.name").and_then(Value::as_str) == Some(name)
    }))
}

#[test]
fn a_panic_in_a_thread_fails_its_task_and_is_a_ticket_at_the_panic() {
    let dir = TempDir::new("panic-in-thread");
    let db = dir.path().join("tickets.db");
    let (dispatch, guard, buf) = stack(&db);
    let line = line!() + 5;
    let d = dispatch.clone();
    let joined = std::thread::spawn(move || {
        tracing::dispatcher::with_default(&d, || {
            let _worker = tracing::info_span!("worker").entered();
            panic!("worker {} exploded", 7);
        })
    })
    .join();
    assert!(joined.is_err(), "the thread panicked");

    let end = task_end(&buf, "worker");
    assert_eq!(end["task.outcome"], "failed");
    assert_eq!(end["task.failure"], "worker 7 exploded");
    let error = buf.wait_for("the panic's ERROR line", |r| r["target"] == "panic");
    assert_eq!(error["level"], "ERROR");
    assert_eq!(error["msg"], "worker 7 exploded");
    assert_eq!(error["span_id"], end["span_id"]);
    let location = error["panic.location"].as_str().expect("panic.location");
    assert_eq!(location, format!("{}:{line}:13", file!()));

    let found = tickets(&db, &guard);
    assert_eq!(found.len(), 1, "{found:?}");
    let t = &found[0];
    assert_eq!(t.title, "worker <num> exploded");
    assert_eq!(t.seed.target, "panic");
    assert_eq!(t.seed.file.as_deref(), Some(file!()));
    assert_eq!(t.seed.line, Some(line));
    let samples = Sqlite::open(&db)
        .expect("the database")
        .occurrences(t.id, &OccurrenceQuery::default())
        .expect("the samples");
    let fields: Value = serde_json::from_str(samples[0].sample.fields.as_str()).expect("JSON");
    let backtrace = fields["backtrace"].as_str().expect("a backtrace");
    assert!(
        backtrace.contains("a_panic_in_a_thread_fails_its_task"),
        "the backtrace names the panicking function: {backtrace}"
    );
}

#[test]
fn panics_of_one_place_are_one_ticket_whatever_their_message() {
    let dir = TempDir::new("panics-one-place");
    let db = dir.path().join("tickets.db");
    let (dispatch, guard, _buf) = stack(&db);
    tracing::dispatcher::with_default(&dispatch, || {
        for order in 0..3 {
            let caught = std::panic::catch_unwind(|| {
                panic!(
                    "order {order} has no {}",
                    ["lines", "owner", "total"][order]
                );
            });
            assert!(caught.is_err());
        }
        let caught = std::panic::catch_unwind(|| panic!("another place"));
        assert!(caught.is_err());
    });
    let mut counts: Vec<(String, u64)> = tickets(&db, &guard)
        .into_iter()
        .map(|t| (t.title, t.count))
        .collect();
    counts.sort();
    assert_eq!(
        counts,
        [
            ("another place".to_owned(), 1),
            ("order <num> has no lines".to_owned(), 3),
        ]
    );
}

#[test]
fn a_panic_in_a_tokio_task_fails_its_task_and_is_a_ticket() {
    use tracing::Instrument;

    let dir = TempDir::new("panic-in-tokio-task");
    let db = dir.path().join("tickets.db");
    let (dispatch, guard, buf) = stack(&db);
    let line = line!() + 7;
    tracing::dispatcher::with_default(&dispatch, || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a runtime");
        let joined = rt.block_on(async {
            let job = tracing::info_span!("job");
            tokio::spawn(async { panic!("job {} lost its queue", 12) }.instrument(job)).await
        });
        assert!(joined.expect_err("the task panicked").is_panic());
    });

    let end = task_end(&buf, "job");
    assert_eq!(end["task.outcome"], "failed");
    assert_eq!(end["task.failure"], "job 12 lost its queue");
    let found = tickets(&db, &guard);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].title, "job <num> lost its queue");
    assert_eq!(found[0].seed.line, Some(line));
}
