//! `taskwire tickets --db mongodb://…/dbname` lists, shows and triages tickets that the layer
//! wrote to MongoDB, on the server scripts/test starts (`TASKWIRE_TEST_MONGODB_URI`).

mod support;

use std::process::Output;

use serde_json::Value;
use support::{assert_shows_the_payment_ticket, tickets, write_shop_tickets};
use taskwire_test_support::services::fresh_mongodb_uri;

fn json(o: &Output) -> Value {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("the output is JSON")
}

#[test]
fn list_show_and_resolve_tickets_in_mongodb() {
    let db = fresh_mongodb_uri("triage");
    write_shop_tickets(taskwire_tickets::MongoDb::open(&db).unwrap());

    let v = json(&tickets(&[
        "--db", &db, "list", "--json", "--sort", "count",
    ]));
    assert_eq!(v["total"], 2, "{v}");
    assert_eq!(v["tickets"][0]["title"], "payment for order <num> declined");
    assert_eq!(v["tickets"][0]["count"], 3);
    let id = v["tickets"][0]["id"].as_i64().unwrap().to_string();

    let v = json(&tickets(&["--db", &db, "show", &id, "--json"]));
    assert_shows_the_payment_ticket(&v);

    let out = tickets(&["--db", &db, "resolve", &id, "--release", "1.0"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json(&tickets(&[
        "--db", &db, "list", "--json", "--status", "resolved",
    ]));
    assert_eq!(v["total"], 1);
    assert_eq!(v["tickets"][0]["resolved_in_release"], "1.0");

    let table = tickets(&["--db", &db, "list", "--status", "all"]);
    let text = String::from_utf8(table.stdout).unwrap();
    assert!(text.contains("stock low for <ip>"), "{text}");
}

#[test]
fn an_unreachable_server_is_a_clear_error() {
    let out = tickets(&["--db", "mongodb://127.0.0.1:1/none", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("127.0.0.1:1"), "{err}");
}
