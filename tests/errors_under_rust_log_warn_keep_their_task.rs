//! Under `RUST_LOG=warn` only warnings and errors are written, but the spans around them are
//! still tracked (the builder's span filter, default `info`): every ERROR line carries the
//! trace id and the fields of its enclosing spans, the failed task's `task.end` is written,
//! `taskwire tree` shows the failed request from the log file alone, and the ticket's sample
//! keeps the chain of spans.
//!
//! `RUST_LOG` is process-wide, so this file holds one test, which sets it.

use taskwire_test_support::json_line::{self, str_of};
use taskwire_test_support::{Capture, TempDir};

use serde_json::json;

#[test]
fn errors_under_rust_log_warn_carry_ids_span_fields_and_their_task() {
    std::env::set_var("RUST_LOG", "warn");
    let dir = TempDir::new("errors-under-warn");
    let path = dir.path().join("app.jsonl");
    let buf = Capture::default();
    let builder = taskwire::builder()
        .service("shop")
        .tasks(taskwire::tasks::layer())
        .json(buf.clone())
        .json_file(&path);
    #[cfg(feature = "tickets")]
    let builder = builder.tickets_db(dir.path().join("tickets.db"));
    let (dispatch, guard) = builder.build().expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        let request = tracing::info_span!("handle_order", order_id = 6, route = "/orders");
        let _r = request.enter();
        tracing::info!("not written under warn");
        {
            let _inventory = tracing::info_span!("check_inventory", items = 3).entered();
            tracing::debug!("not written either");
        }
        let _charge = tracing::info_span!("charge_card", amount = 125).entered();
        tracing::error!(reason = "insufficient funds", "payment declined");
    });
    drop(guard);

    let records = buf.records();
    let msgs: Vec<&str> = records.iter().map(|r| str_of(r, "msg")).collect();
    assert!(!msgs.contains(&"not written under warn"), "{msgs:?}");
    assert!(!msgs.contains(&"not written either"), "{msgs:?}");

    let errors: Vec<_> = records.iter().filter(|r| r["level"] == "ERROR").collect();
    assert_eq!(errors.len(), 1, "{records:?}");
    let error = errors[0];
    assert!(
        json_line::is_hex_id(str_of(error, "trace_id"), 32),
        "{error:?}"
    );
    assert!(
        json_line::is_hex_id(str_of(error, "span_id"), 16),
        "{error:?}"
    );
    assert_eq!(error["order_id"], json!(6), "{error:?}");
    assert_eq!(error["route"], json!("/orders"), "{error:?}");
    assert_eq!(error["amount"], json!(125), "{error:?}");

    let ends: Vec<_> = records.iter().filter(|r| r["msg"] == "task.end").collect();
    let charge = ends
        .iter()
        .find(|r| r["span_id"] == error["span_id"])
        .unwrap_or_else(|| panic!("no task.end for the failed task in {records:?}"));
    assert_eq!(charge["trace_id"], error["trace_id"]);
    assert_eq!(charge["task.outcome"], json!("failed"), "{charge:?}");
    // the request and the failed task write records; the quick `check_inventory` is
    // summarised in the request's (the default record policy)
    assert_eq!(ends.len(), 2, "{ends:?}");
    let request = ends
        .iter()
        .find(|r| r["task.name"] == "handle_order")
        .unwrap_or_else(|| panic!("no task.end for the request in {ends:?}"));
    assert_eq!(request["task.children"], json!(1), "{request:?}");

    // The file got the same lines, and `taskwire tree` rebuilds the failed request from it.
    let in_file = std::fs::read_to_string(&path).expect("the log file");
    assert_eq!(json_line::split_lines(&in_file), buf.lines());
    let mut tree = Vec::new();
    let skipped = taskwire_cli::tree::print_trees(std::slice::from_ref(&path), &mut tree)
        .expect("taskwire tree reads the file");
    assert_eq!(skipped, 0);
    let tree = String::from_utf8(tree).expect("UTF-8");
    assert!(tree.contains(str_of(error, "trace_id")), "{tree}");
    // two tasks with records; the quick `check_inventory` is shown as its parent's summary
    assert!(tree.contains("2 tasks, 1 failed"), "{tree}");
    assert!(tree.contains("+1 child: check_inventory"), "{tree}");
    for name in [
        "handle_order",
        "check_inventory",
        "charge_card",
        "payment declined",
    ] {
        assert!(tree.contains(name), "{name} missing from\n{tree}");
    }
}
