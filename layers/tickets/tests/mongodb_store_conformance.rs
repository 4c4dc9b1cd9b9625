//! The MongoDB store passes the same conformance suite as SQLite, on the server scripts/test
//! starts (`TASKWIRE_TEST_MONGODB_URI`), each check in a database of its own.
#![allow(clippy::unwrap_used)] // helpers outside #[test] fns too

mod mongo_support;

use taskwire_tickets::{conformance, MongoDb, Store};

#[test]
fn every_rule() {
    conformance::run_all(&|| {
        Box::new(MongoDb::open(mongo_support::fresh_uri("conformance")).unwrap()) as Box<dyn Store>
    });
}

#[test]
fn every_rule_with_a_custom_prefix() {
    conformance::run_all(&|| {
        Box::new(
            MongoDb::builder(mongo_support::fresh_uri("prefix"))
                .with_prefix("errors_")
                .open()
                .unwrap(),
        ) as Box<dyn Store>
    });
}

#[test]
fn concurrent_writers() {
    let uri = mongo_support::fresh_uri("concurrent");
    conformance::concurrent_writers_add_up(&|| {
        Box::new(MongoDb::open(&uri).unwrap()) as Box<dyn Store>
    });
}
