//! A trace's tasks are put on one clock: a service whose clock disagrees with its caller's is
//! moved so its task lies inside the calling task (and flagged); within one service a start
//! derived as `ts − duration` never precedes the parent's; an outgoing call whose callee's log
//! was not read is marked.
#![allow(clippy::unwrap_used)]

use taskwire_core::time::Rfc3339;
use taskwire_explore::trace::{build, Forest, Keep, Reader};

const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
/// 2026-11-21T10:00:00Z in µs since the epoch.
const T0: i64 = 1_795_255_200_000_000;

/// A task record ending at `T0 + end_us` that lasted `dur_us`.
fn task(
    service: &str,
    span: u64,
    parent: Option<u64>,
    name: &str,
    end_us: i64,
    dur_us: u64,
) -> String {
    let parent = parent.map_or(String::new(), |p| {
        format!(r#","parent_span_id":"{p:016x}""#)
    });
    let remote = service == "back" && parent.contains("10000000");
    format!(
        r#"{{"ts":"{}","level":"INFO","target":"taskwire::tasks","msg":"task.end","task.name":"{name}","task.outcome":"succeeded","task.duration_us":{dur_us},"task.remote_parent":{remote},"trace_id":"{TRACE}","span_id":"{span:016x}"{parent},"service":"{service}"}}"#,
        Rfc3339(T0 + end_us)
    )
}

/// front: GET /checkout [0, 50 ms] calls back [10, 40 ms]; back (its clock `back_shift` µs
/// off) serves POST /charge [12, 37 ms] with a db.query [13, 16 ms].
fn checkout(back_shift: i64, with_back: bool) -> Forest {
    let front = [
        task(
            "front",
            0x1000_0000_0000_0001,
            None,
            "GET /checkout",
            50_000,
            50_000,
        ),
        task(
            "front",
            0x1000_0000_0000_0003,
            Some(0x1000_0000_0000_0001),
            "POST back/charge",
            40_000,
            30_000,
        )
        .replace(
            r#""task.name""#,
            r#""url.full":"http://back/charge","task.name""#,
        ),
    ];
    let back = [
        task(
            "back",
            0x2000_0000_0000_0002,
            Some(0x2000_0000_0000_0001),
            "db.query",
            16_000 + back_shift,
            3_000,
        ),
        task(
            "back",
            0x2000_0000_0000_0001,
            Some(0x1000_0000_0000_0003),
            "POST /charge",
            37_000 + back_shift,
            25_000,
        ),
    ];
    let mut reader = Reader::new();
    let mut log = front.join("\n");
    if with_back {
        log = format!("{}\n{log}", back.join("\n"));
    }
    reader.read_lines(log.as_bytes()).unwrap();
    build(reader.finish(), Keep::default())
}

/// (name, start offset from the trace's start in µs) of each task, in tree order.
fn offsets(f: &Forest) -> Vec<(String, i64)> {
    let t = f.traces().next().unwrap();
    t.nodes()
        .map(|n| (n.name().to_owned(), n.start_us() - t.start_us()))
        .collect()
}

#[test]
fn a_service_whose_clock_is_behind_is_moved_inside_the_calling_task_and_flagged() {
    let f = checkout(-2_000_000, true);
    let t = f.traces().next().unwrap();
    let skews = t.skews();
    assert_eq!(skews.len(), 1);
    assert_eq!(
        (
            skews[0].service(),
            skews[0].relative_to(),
            skews[0].offset_us()
        ),
        ("back", "front", 2_000_500)
    );
    // centred in the 30 ms call: 2.5 ms of network each side
    assert_eq!(
        offsets(&f),
        [
            ("GET /checkout".into(), 0),
            ("POST back/charge".into(), 10_000),
            ("POST /charge".into(), 12_500),
            ("db.query".into(), 13_500),
        ]
    );
    // the trace lasts what front measured, not two seconds
    assert_eq!(t.duration_us(), 50_000);
    assert_eq!(t.start_us(), T0);
}

#[test]
fn a_service_whose_clock_is_ahead_is_moved_back() {
    let f = checkout(3_000_000, true);
    let t = f.traces().next().unwrap();
    assert_eq!(t.skews()[0].offset_us(), -2_999_500);
    assert_eq!(t.duration_us(), 50_000);
    assert_eq!(offsets(&f)[2], ("POST /charge".into(), 12_500));
}

#[test]
fn a_message_consumed_after_its_producer_ended_leaves_the_clocks_alone() {
    // front publishes [0, 5 ms]; back consumes it 20 ms later, on the same clock
    let log = [
        task("front", 1, None, "publish order", 5_000, 5_000)
            .replace(r#""task.name""#, r#""otel.kind":"producer","task.name""#),
        task("back", 2, Some(1), "consume order", 30_000, 5_000),
    ]
    .join("\n");
    let mut reader = Reader::new();
    reader.read_lines(log.as_bytes()).unwrap();
    let f = build(reader.finish(), Keep::default());
    let t = f.traces().next().unwrap();
    assert!(t.skews().is_empty());
    assert_eq!(offsets(&f)[1], ("consume order".into(), 25_000));
    // the consumer, in back's log, is the message's callee
    assert!(t.nodes().all(|n| !n.calls_unread_service()));
}

#[test]
fn a_callee_inside_its_caller_leaves_the_clocks_alone() {
    let f = checkout(0, true);
    let t = f.traces().next().unwrap();
    assert!(t.skews().is_empty());
    assert_eq!(offsets(&f)[2], ("POST /charge".into(), 12_000));
}

#[test]
fn a_start_before_the_parent_in_one_service_is_clamped_to_the_parent() {
    // the child's ts − duration lands 10 µs before its parent's start (rounding in the log)
    let log = [
        task("front", 1, None, "GET /x", 1_000, 990),
        task("front", 2, Some(1), "child", 500, 500),
    ]
    .join("\n");
    let mut reader = Reader::new();
    reader.read_lines(log.as_bytes()).unwrap();
    let f = build(reader.finish(), Keep::default());
    let t = f.traces().next().unwrap();
    let child = t.nodes().nth(1).unwrap();
    assert!(child.start_clamped());
    assert_eq!(child.start_us(), t.nodes().next().unwrap().start_us());
    assert_eq!(child.duration_us(), 500, "the recorded duration is kept");
    assert!(!t.nodes().next().unwrap().start_clamped());
}

#[test]
fn a_call_whose_callee_log_was_not_read_is_marked() {
    let alone = checkout(0, false);
    let marked: Vec<(String, bool)> = alone
        .traces()
        .next()
        .unwrap()
        .nodes()
        .map(|n| (n.name().to_owned(), n.calls_unread_service()))
        .collect();
    assert_eq!(
        marked,
        [
            ("GET /checkout".into(), false),
            ("POST back/charge".into(), true)
        ]
    );
    let both = checkout(0, true);
    assert!(both
        .traces()
        .next()
        .unwrap()
        .nodes()
        .all(|n| !n.calls_unread_service()));
}
