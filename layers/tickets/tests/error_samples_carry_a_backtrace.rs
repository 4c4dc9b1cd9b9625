//! The sample of an ERROR event carries a backtrace of the code that emitted it, stored as the
//! sample's `backtrace` field; a warning carries none unless the level is lowered; the switch
//! turns it off; an event's own `backtrace` field is kept.

mod support;

use serde_json::Value;
use support::{samples, tickets, TempDir, TicketsDb};
use taskwire_tickets::{Sqlite, TicketsBuilder};
use tracing_subscriber::prelude::*;

/// The `backtrace` field of each ticket's first sample, by title.
fn backtraces(
    configure: impl FnOnce(TicketsBuilder) -> TicketsBuilder,
) -> Vec<(String, Option<String>)> {
    let dir = TempDir::new("backtrace");
    let (layer, guard) = configure(taskwire_tickets::layer(
        Sqlite::open(dir.db()).expect("the database opens"),
    ))
    .build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), emit_errors);
    guard.flush().expect("the tickets are written");
    let mut out: Vec<(String, Option<String>)> = tickets(&dir.db())
        .iter()
        .map(|t| {
            let s = &samples(&dir.db(), t)[0].sample;
            let fields: Value =
                serde_json::from_str(s.fields.as_str()).expect("the fields are JSON");
            (
                t.title.clone(),
                fields["backtrace"].as_str().map(str::to_owned),
            )
        })
        .collect();
    out.sort();
    out
}

#[inline(never)]
fn emit_errors() {
    tracing::error!("ledger refused the payment");
    tracing::warn!("stock is low");
    tracing::error!(backtrace = "0: shop::pay", "own backtrace");
}

#[test]
fn error_samples_carry_the_backtrace_of_their_caller() {
    let found = backtraces(|b| b);
    assert_eq!(found[0].0, "ledger refused the payment");
    let bt = found[0]
        .1
        .as_deref()
        .expect("an ERROR sample has a backtrace");
    assert!(
        bt.contains("emit_errors"),
        "names the emitting function: {bt}"
    );
    assert_eq!(
        found[1],
        ("own backtrace".to_owned(), Some("0: shop::pay".to_owned()))
    );
    assert_eq!(found[2], ("stock is low".to_owned(), None));
}

#[test]
fn a_lower_level_adds_backtraces_to_warnings() {
    let found = backtraces(|b| b.with_backtrace_level(tracing::Level::WARN));
    assert_eq!(found[2].0, "stock is low");
    assert!(found[2]
        .1
        .as_deref()
        .is_some_and(|bt| bt.contains("emit_errors")));
}

#[test]
fn without_backtraces_no_sample_has_one_but_its_own() {
    let found = backtraces(TicketsBuilder::without_backtraces);
    assert_eq!(found[0], ("ledger refused the payment".to_owned(), None));
    assert_eq!(found[1].1.as_deref(), Some("0: shop::pay"));
    assert_eq!(found[2].1, None);
}
