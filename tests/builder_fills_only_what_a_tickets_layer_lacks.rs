//! `builder().tickets_layer(layer)` fills in the service, release and redaction only where the
//! layer has none of its own: a layer built `.with_service("x")` stores `x` whatever
//! `builder().service("y")` says, and one without a service gets `y`.

#![cfg(feature = "tickets")]

use taskwire_test_support::TempDir;

use taskwire::core::Redactor;
use taskwire::tickets::store::{ListQuery, OccurrenceQuery, Ticket};
use taskwire::tickets::{Sqlite, TicketReader};

/// Builds with `layer` behind a builder that sets service `y`, release `2` and the default
/// redaction, raises one error with a `card` and a `password` field, and returns the stored
/// ticket with its sample's fields.
fn one_ticket(
    layer: impl FnOnce(Sqlite) -> taskwire::tickets::TicketsBuilder,
) -> (Ticket, String, Option<String>) {
    let dir = TempDir::new("builder-fills-tickets");
    let db = dir.path().join("tickets.db");
    let (dispatch, guard) = taskwire::builder()
        .service("y")
        .release("2")
        .tickets_layer(layer(Sqlite::open(&db).expect("open")))
        .build()
        .expect("build");
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::error!(card = "4111", password = "hunter2", "payment failed");
    });
    guard.flush_tickets().expect("flush");
    drop(guard);
    let store = Sqlite::open(&db).expect("reopen");
    let mut tickets = store.list(&ListQuery::default()).expect("list");
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    let ticket = tickets.remove(0);
    let samples = store
        .occurrences(ticket.id, &OccurrenceQuery::newest())
        .expect("samples");
    let sample = &samples.first().expect("one sample").sample;
    (ticket, sample.fields.to_string(), sample.release.clone())
}

#[test]
fn the_layers_own_service_and_release_win() {
    let (ticket, _, release) = one_ticket(|store| {
        taskwire::tickets::layer(store)
            .with_service("x")
            .with_release("1")
    });
    assert_eq!(ticket.seed.service.as_deref(), Some("x"));
    assert_eq!(release.as_deref(), Some("1"));
}

#[test]
fn the_builder_fills_in_what_the_layer_lacks() {
    let (ticket, fields, release) = one_ticket(taskwire::tickets::layer);
    assert_eq!(ticket.seed.service.as_deref(), Some("y"));
    assert_eq!(release.as_deref(), Some("2"));
    assert!(fields.contains("4111"), "{fields}");
    assert!(
        !fields.contains("hunter2"),
        "the builder's redaction applies: {fields}"
    );
}

#[test]
fn the_layers_own_redactor_wins() {
    let (_, fields, _) = one_ticket(|store| {
        taskwire::tickets::layer(store).with_redactor(Redactor::with_keys(["card"]))
    });
    assert!(
        !fields.contains("4111"),
        "the layer redacts `card`: {fields}"
    );
    assert!(
        fields.contains("hunter2"),
        "the layer's key list replaces the default: {fields}"
    );
}
