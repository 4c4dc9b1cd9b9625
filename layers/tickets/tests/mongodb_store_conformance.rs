//! The MongoDB store passes the same conformance suite as SQLite, on the server scripts/test
//! starts (`TASKWIRE_TEST_MONGODB_URI`), each check in a database of its own.

use taskwire_tickets::{conformance, MongoDb, Store};

#[test]
fn every_rule() {
    conformance::run_all(&|| {
        Box::new(
            MongoDb::open(taskwire_test_support::services::fresh_mongodb_uri(
                "conformance",
            ))
            .unwrap(),
        ) as Box<dyn Store>
    });
}

#[test]
fn every_rule_with_a_custom_prefix() {
    conformance::run_all(&|| {
        Box::new(
            MongoDb::builder(taskwire_test_support::services::fresh_mongodb_uri("prefix"))
                .with_prefix("errors_")
                .open()
                .unwrap(),
        ) as Box<dyn Store>
    });
}

#[test]
fn concurrent_writers() {
    let uri = taskwire_test_support::services::fresh_mongodb_uri("concurrent");
    conformance::concurrent_writers_add_up(&|| {
        Box::new(MongoDb::open(&uri).unwrap()) as Box<dyn Store>
    });
}
