//! An error reported again by an enclosing span is the same occurrence: nested
//! `#[instrument(err)]` functions that return one error make one ticket counted once per
//! failure, however deep the nesting; a different error, the same text in a sibling span, and
//! the same text reported by a span none of whose descendants reported it, still count.

mod support;

use support::{tickets, TempDir, TicketsDb};
use taskwire_tickets::Sqlite;
use tracing_subscriber::prelude::*;

#[derive(Debug)]
struct Declined(u32);

impl std::fmt::Display for Declined {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "payment for order {} declined", self.0)
    }
}

#[derive(Debug)]
struct CheckoutFailed;

impl std::fmt::Display for CheckoutFailed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("checkout failed")
    }
}

#[tracing::instrument(err)]
fn charge(order: u32) -> Result<(), Declined> {
    Err(Declined(order))
}

#[tracing::instrument(err)]
fn pay(order: u32) -> Result<(), Declined> {
    charge(order)
}

#[tracing::instrument(err)]
fn checkout(order: u32) -> Result<(), Declined> {
    pay(order)
}

#[tracing::instrument(err)]
fn checkout_mapped(order: u32) -> Result<(), CheckoutFailed> {
    pay(order).map_err(|_| CheckoutFailed)
}

#[tracing::instrument(err)]
fn decline_directly(order: u32) -> Result<(), Declined> {
    Err(Declined(order))
}

/// Runs `f` under a tickets layer on a fresh database and returns (title, count) per ticket.
fn run(f: impl FnOnce()) -> Vec<(String, u64)> {
    let dir = TempDir::new("repeats");
    let (layer, guard) = taskwire_tickets::layer(Sqlite::open(dir.db()).expect("opens")).build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), f);
    drop(guard);
    let mut t: Vec<_> = tickets(&dir.db())
        .into_iter()
        .map(|t| (t.title, t.count))
        .collect();
    t.sort();
    t
}

#[test]
fn nested_instrument_err_functions_make_one_ticket_counted_once_per_failure() {
    let got = run(|| {
        for order in [7, 8, 9] {
            let _ = pay(order);
        }
    });
    assert_eq!(got, [("payment for order <num> declined".to_owned(), 3)]);
}

#[test]
fn three_levels_inside_an_outer_task_still_make_one_occurrence() {
    let got = run(|| {
        let _request = tracing::info_span!("request").entered();
        for order in [7, 8] {
            let _ = checkout(order);
        }
    });
    assert_eq!(got, [("payment for order <num> declined".to_owned(), 2)]);
}

#[test]
fn an_enclosing_span_reporting_another_error_is_its_own_occurrence() {
    let got = run(|| {
        let _ = checkout_mapped(7);
    });
    assert_eq!(
        got,
        [
            ("checkout failed".to_owned(), 1),
            ("payment for order <num> declined".to_owned(), 1)
        ]
    );
}

#[test]
fn sibling_and_unrelated_reports_of_the_same_text_all_count() {
    let got = run(|| {
        let _request = tracing::info_span!("request").entered();
        // Two siblings fail with the same text: two failures.
        let _ = charge(7);
        let _ = charge(7);
        // The enclosing span reports it again once: absorbed by one of them.
        tracing::error!(error = %Declined(7));
        // A span reporting the text with no descendant having reported it: counted.
        let _ = decline_directly(7);
    });
    let total: u64 = got.iter().map(|(_, c)| c).sum();
    assert_eq!(total, 3, "{got:?}");
}

#[test]
fn two_tickets_layers_each_count_the_failure_once() {
    let (a, b) = (TempDir::new("repeats-a"), TempDir::new("repeats-b"));
    let (la, ga) = taskwire_tickets::layer(Sqlite::open(a.db()).expect("opens")).build();
    let (lb, gb) = taskwire_tickets::layer(Sqlite::open(b.db()).expect("opens")).build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(la).with(lb), || {
        let _ = checkout(7);
    });
    drop((ga, gb));
    for dir in [a, b] {
        let t = tickets(&dir.db());
        assert_eq!(t.len(), 1, "{t:?}");
        assert_eq!(t[0].count, 1);
    }
}
