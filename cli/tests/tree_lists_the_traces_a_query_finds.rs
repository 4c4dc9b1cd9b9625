//! A query that finds several traces lists them first (root, services, start, duration, tasks,
//! failures), sorted and limited as asked; `--list` prints only the list, `--json` carries the
//! same.
#![allow(clippy::unwrap_used)]

mod support;

use serde_json::Value;
use support::*;

fn run(args: &[&str]) -> (String, String, Option<i32>) {
    let (front, back) = (fixture("front.log"), fixture("back.log"));
    let mut all = vec!["tree"];
    all.extend_from_slice(args);
    all.extend([front.as_str(), back.as_str()]);
    let out = taskwire(&all, b"");
    (stdout(&out), stderr(&out), out.status.code())
}

#[test]
fn several_traces_found_are_listed_before_their_trees() {
    let (out, err, code) = run(&["level>=info"]);
    assert_eq!((err.as_str(), code), ("", Some(0)));
    let list = "\
3 traces match `level>=info`, by start
  START                        DURATION  TASKS  FAILED  ROOT           TRACE                             SERVICES
  2026-11-21T10:00:00.000000Z    50.0ms      6       3  GET /checkout  4bf92f3577b34da6a3ce929d0e0e4736  back, front
  2026-11-21T10:00:01.000000Z     800µs      1       0  GET /health    0af7651916cd43dd8448eb211c80319c  front
  2026-11-21T10:00:02.000000Z    1.23ms      1       0  POST /refund   5d693dad140be44054ba2a4482cfd822  back
";
    assert_eq!(
        out,
        format!("{list}\n{CHECKOUT_TREE}\n{HEALTH_TREE}\n{REFUND_TREE}")
    );
}

#[test]
fn one_trace_found_shows_its_tree_without_a_list() {
    let (out, _, code) = run(&["cart_id=c-42"]);
    assert_eq!((out.as_str(), code), (CHECKOUT_TREE, Some(0)));
}

#[test]
fn sort_and_limit_choose_the_traces_listed_and_shown() {
    let (out, _, code) = run(&["level>=info", "--sort", "duration", "--limit", "2"]);
    assert_eq!(code, Some(0));
    let (list, trees) = out.split_once("\n\n").unwrap();
    let roots: Vec<&str> = list
        .lines()
        .skip(2)
        .map(|l| {
            l.split("  ")
                .filter(|c| !c.is_empty())
                .nth(4)
                .unwrap()
                .trim()
        })
        .collect();
    assert_eq!(roots, ["GET /checkout", "POST /refund"]);
    assert!(
        list.starts_with("3 traces match `level>=info`, by duration (longest first), showing 2\n")
    );
    assert_eq!(trees, format!("{CHECKOUT_TREE}\n{REFUND_TREE}"));
}

#[test]
fn list_alone_prints_only_the_list() {
    let (out, _, _) = run(&["--list", "--sort", "duration"]);
    assert!(out.starts_with("3 traces, by duration"), "{out}");
    assert_eq!(out.lines().count(), 5, "{out}");
    assert!(!out.contains("└─"), "{out}");
}

#[test]
fn json_carries_the_list_and_the_summaries() {
    let (out, _, _) = run(&["--list", "--json", "--sort", "duration", "--limit", "2"]);
    let rows: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(rows[0]["root"], "GET /checkout");
    assert_eq!(rows[0]["services"], serde_json::json!(["back", "front"]));
    assert_eq!(rows[0]["duration_us"], 50_000);
    assert_eq!(
        (rows[0]["tasks"].as_u64(), rows[0]["failed"].as_u64()),
        (Some(6), Some(3))
    );
    assert_eq!(rows[0]["start"], "2026-11-21T10:00:00.000000Z");
    assert_eq!(rows[1]["root"], "POST /refund");

    // the trees in JSON follow the same order and limit, and name their root
    let (out, _, _) = run(&[
        "level>=info",
        "--json",
        "--sort",
        "duration",
        "--limit",
        "2",
    ]);
    let trees: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let roots: Vec<&str> = trees.iter().map(|t| t["root"].as_str().unwrap()).collect();
    assert_eq!(roots, ["GET /checkout", "POST /refund"]);
}

#[test]
fn a_sort_that_is_not_known_is_a_usage_error() {
    let (_, err, code) = run(&["--sort", "name"]);
    assert_eq!(code, Some(2));
    assert!(err.contains("sort by `start` or `duration`"), "{err}");
}
