//! An error's JSON line carries the fingerprint of the ticket it was counted in
//! (`ticket.fingerprint`), so a log reader finds the ticket without recomputing the grouping
//! rule: the stored ticket has exactly that fingerprint, whatever the grouping settings. Events
//! the tickets layer does not count carry none. The link needs the tickets layer below the JSON
//! layer, as the builder composes them; the other order writes lines without it.

#![cfg(feature = "tickets")]

use taskwire_test_support::{Capture, TempDir};
use tracing_subscriber::layer::SubscriberExt;

use taskwire::tickets::{Grouping, Sqlite, TicketReader};

/// The `ticket.fingerprint` of each captured line, by message.
fn fingerprints(capture: &Capture) -> Vec<(String, Option<String>)> {
    capture
        .json_lines()
        .iter()
        .map(|r| {
            (
                r["msg"].as_str().unwrap_or_default().to_owned(),
                r.get("ticket.fingerprint")
                    .and_then(|v| v.as_str())
                    .map(str::to_owned),
            )
        })
        .collect()
}

fn raise_events() {
    tracing::info!("paid");
    for order in [17, 18] {
        tracing::error!(order, "charge failed");
    }
    tracing::warn!(route = "/a", "slow");
    tracing::error!(fingerprint = "provider-down", "provider down");
}

#[test]
fn the_builder_writes_the_stored_tickets_fingerprint_on_each_counted_event() {
    let dir = TempDir::new("ticket-fingerprint-builder");
    let db = dir.path().join("tickets.db");
    let capture = Capture::new();
    let (dispatch, guard) = taskwire::builder()
        .service("shop")
        .json(capture.clone())
        .tickets_layer(
            taskwire::tickets::layer(Sqlite::open(&db).expect("open"))
                .with_grouping(Grouping::default().with_field("route")),
        )
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, raise_events);
    guard.flush_tickets().expect("flush");
    drop(guard);

    let lines = fingerprints(&capture);
    let store = Sqlite::open(&db).expect("reopen");
    let by_msg = |m: &str| -> Vec<Option<String>> {
        lines
            .iter()
            .filter(|(msg, _)| msg == m)
            .map(|(_, fp)| fp.clone())
            .collect()
    };
    assert_eq!(by_msg("paid"), [None], "INFO is below the tickets level");
    let charge = by_msg("charge failed");
    assert_eq!(charge.len(), 2);
    assert_eq!(charge[0], charge[1], "one call site, one ticket");
    for msg in ["charge failed", "slow", "provider down"] {
        let fp = by_msg(msg)[0]
            .clone()
            .unwrap_or_else(|| panic!("{msg}: no fingerprint on its line: {lines:?}"));
        assert_eq!(fp.len(), 16, "{fp}");
        let ticket = store
            .find(&fp)
            .expect("query")
            .unwrap_or_else(|| panic!("{msg}: no ticket has the line's fingerprint {fp}"));
        assert_eq!(ticket.fingerprint, fp);
        assert!(
            ticket.title.contains(msg) || msg == "provider down",
            "{ticket:?}"
        );
    }
}

#[test]
fn a_hand_built_stack_links_only_with_tickets_below_json() {
    for tickets_first in [true, false] {
        let dir = TempDir::new("ticket-fingerprint-by-hand");
        let capture = Capture::new();
        let (tickets, guard) =
            taskwire::tickets::layer(Sqlite::open(dir.path().join("t.db")).expect("open")).build();
        let json = taskwire::json::layer().with_writer(capture.clone());
        let base = tracing_subscriber::registry().with(taskwire::capture());
        if tickets_first {
            tracing::subscriber::with_default(base.with(tickets).with(json), raise_events);
        } else {
            tracing::subscriber::with_default(base.with(json).with(tickets), raise_events);
        }
        drop(guard);
        let linked = fingerprints(&capture)
            .iter()
            .filter(|(_, fp)| fp.is_some())
            .count();
        assert_eq!(linked, if tickets_first { 4 } else { 0 }, "{tickets_first}");
    }
}

#[test]
fn an_error_reported_again_names_the_ticket_it_was_counted_in() {
    let dir = TempDir::new("ticket-fingerprint-repeat");
    let db = dir.path().join("tickets.db");
    let capture = Capture::new();
    let (dispatch, guard) = taskwire::builder()
        .json(capture.clone())
        .tickets_db(&db)
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        let _outer = tracing::info_span!("charge").entered();
        {
            let _inner = tracing::info_span!("write_ledger").entered();
            tracing::error!(error = "ledger timed out", "write failed");
        }
        // the same error, reported again by the enclosing span: one occurrence
        tracing::error!(error = "ledger timed out", "charge failed");
    });
    guard.flush_tickets().expect("flush");
    drop(guard);
    let lines = fingerprints(&capture);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].1.is_some(), "{lines:?}");
    assert_eq!(
        lines[0].1, lines[1].1,
        "the repeat names the first report's ticket"
    );
    let store = Sqlite::open(&db).expect("reopen");
    let tickets = store
        .list(&taskwire::tickets::store::ListQuery::default())
        .expect("list");
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    assert_eq!(Some(&tickets[0].fingerprint), lines[0].1.as_ref());
    assert_eq!(tickets[0].count, 1);
}
