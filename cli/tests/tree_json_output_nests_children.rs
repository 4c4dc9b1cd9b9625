//! `--json` writes one valid JSON object per trace, with the same nesting as the tree.

mod support;

use serde_json::Value;
use support::*;

fn traces(args: &[&str]) -> Vec<Value> {
    let out = taskwire(args, b"");
    assert!(out.status.success(), "{}", stderr(&out));
    json_lines(&out)
}

fn names(children: &Value) -> Vec<&str> {
    children
        .as_array()
        .expect("an array")
        .iter()
        .map(|c| c["name"].as_str().expect("a string"))
        .collect()
}

#[test]
fn json_nests_children_across_processes() {
    let (front, back) = (fixture("front.log"), fixture("back.log"));
    let all = traces(&["tree", "--json", &back, &front]);
    assert_eq!(all.len(), 3);
    let t = &all[0];
    assert_eq!(t["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(t["tasks"], 6);
    assert_eq!(t["failed"], 3);
    assert_eq!(t["services"], serde_json::json!(["back", "front"]));
    assert_eq!(names(&t["roots"]), ["GET /checkout"]);
    let root = &t["roots"][0];
    assert_eq!(root["outcome"], "failed");
    assert_eq!(
        root["errors"][0]["msg"],
        "checkout failed: payment declined"
    );
    assert_eq!(names(&root["children"]), ["load cart", "POST back/charge"]);
    let client = &root["children"][1];
    assert_eq!(names(&client["children"]), ["POST /charge"]);
    let server = &client["children"][0];
    assert_eq!(server["service"], "back");
    assert_eq!(server["remote_parent"], true);
    assert_eq!(server["parent_span_id"], client["span_id"]);
    assert_eq!(server["errors"][0]["msg"], "card declined");
    assert_eq!(server["duration_us"], 25_000);
    assert_eq!(server["start"], "2026-11-21T10:00:00.012000Z");
    assert_eq!(names(&server["children"]), ["db.query", "fraud check"]);
    assert!(server.get("orphan").is_none());

    let refund = &all[2]["roots"][0];
    assert_eq!(refund["orphan"], "remote_parent_missing");
    assert_eq!(refund["children"], serde_json::json!([]));
}

#[test]
fn json_is_the_same_in_either_file_order_and_honours_filters() {
    let (front, back) = (fixture("front.log"), fixture("back.log"));
    assert_eq!(
        traces(&["tree", "--json", &front, &back]),
        traces(&["tree", "--json", &back, &front])
    );
    let failed = traces(&["tree", "--json", "--failed", &front, &back]);
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
}
