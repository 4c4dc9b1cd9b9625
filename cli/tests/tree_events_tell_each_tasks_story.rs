//! `--events`: under each task, its log events of every level in time order with their fields,
//! and its attributes; `--json --events` carries the same.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::{json, Value};
use support::*;

#[test]
fn every_event_shows_under_its_task_in_time_order_with_its_fields() {
    let (front, back) = (fixture("front.log"), fixture("back.log"));
    let out = taskwire(
        &[
            "tree",
            "--events",
            "4bf92f3577b34da6a3ce929d0e0e4736",
            &back,
            &front,
        ],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let want = "\
trace 4bf92f3577b34da6a3ce929d0e0e4736  2026-11-21T10:00:00.000000Z  6 tasks, 3 failed  services: back, front
└─ front  GET /checkout         50.0ms ✗
   │    +100µs INFO  request received  method=GET path=/checkout
   │   +49.0ms ERROR checkout failed: payment declined
   ├─ front  load cart          5.00ms ✓
   │     attributes: cart_id=c-42
   └─ front  POST back/charge   30.0ms ✗
      │   +10.1ms DEBUG calling back
      │   +39.0ms ERROR charge returned 402  status=402
      └─ back   POST /charge    25.0ms ✗
         │   +36.0ms ERROR card declined  error={\"message\":\"card declined\",\"source\":[\"issuer said no\"]}
         ├─ back   db.query     3.00ms ✓
         │     attributes: db.statement=\"SELECT balance FROM cards WHERE id = $1\"
         └─ back   fraud check  4.00ms ✓
                +22.0ms WARN  fraud score high  score=0.93
";
    assert_eq!(stdout(&out), want);
}

#[test]
fn json_events_carry_levels_fields_and_attributes() {
    let (front, back) = (fixture("front.log"), fixture("back.log"));
    let out = taskwire(&["tree", "--json", "--events", &front, &back], b"");
    let first: Value = serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    let root = &first["roots"][0];
    assert_eq!(
        root["events"],
        json!([
            {"ts": "2026-11-21T10:00:00.000100Z", "offset_us": 100, "level": "INFO", "msg": "request received", "fields": {"method": "GET", "path": "/checkout"}},
            {"ts": "2026-11-21T10:00:00.049000Z", "offset_us": 49000, "level": "ERROR", "msg": "checkout failed: payment declined", "fields": {}},
        ])
    );
    assert_eq!(root["attributes"], json!({}));
    assert_eq!(
        root["children"][0]["attributes"],
        json!({"cart_id": "c-42"})
    );
    let fraud = &root["children"][1]["children"][0]["children"][1];
    assert_eq!(fraud["name"], "fraud check");
    assert_eq!(fraud["events"][0]["level"], "WARN");
    assert_eq!(fraud["events"][0]["fields"], json!({"score": 0.93}));
    // the errors list stays what it is without --events
    assert_eq!(
        root["errors"][0]["msg"],
        "checkout failed: payment declined"
    );
}

#[test]
fn without_events_only_errors_show_and_json_has_no_events() {
    let (front, back) = (fixture("front.log"), fixture("back.log"));
    let text = stdout(&taskwire(&["tree", &front, &back], b""));
    assert!(
        !text.contains("request received") && !text.contains("attributes"),
        "{text}"
    );
    let json = stdout(&taskwire(&["tree", "--json", &front, &back], b""));
    assert!(
        !json.contains("\"events\"") && !json.contains("\"attributes\""),
        "{json}"
    );
}
