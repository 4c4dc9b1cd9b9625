//! A sample's `fields`, `spans` and `errors` are JSON that parses (`JsonText`): what the layer
//! writes is JSON, and text in the database that is not (a row edited by hand) reads back as a
//! JSON string holding it, never as text a reader must guess about.

mod support;

use support::{samples, tickets, TempDir, TicketsDb};
use taskwire_tickets::Sqlite;
use tracing_subscriber::prelude::*;

#[test]
fn every_json_field_of_a_sample_parses_even_after_a_hand_edit() {
    let dir = TempDir::new("json-text");
    let (layer, guard) = taskwire_tickets::layer(Sqlite::open(dir.db()).unwrap()).build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let _span = tracing::info_span!("order", id = 7).entered();
        tracing::error!(amount = 12.5, "payment declined");
    });
    guard.flush().unwrap();
    let ticket = tickets(&dir.db()).remove(0);
    let written = samples(&dir.db(), &ticket).remove(0).sample;
    let fields: serde_json::Value = serde_json::from_str(written.fields.as_str()).unwrap();
    assert_eq!(fields["amount"], 12.5);
    let spans: serde_json::Value = serde_json::from_str(written.spans.as_str()).unwrap();
    assert_eq!(spans[0]["name"], "order", "{spans}");

    let raw = rusqlite::Connection::open(dir.db()).unwrap();
    raw.execute(
        "UPDATE taskwire_occurrences SET fields = 'amount=12.5', spans = '', errors = '[1,'",
        [],
    )
    .unwrap();
    drop(raw);
    let edited = samples(&dir.db(), &ticket).remove(0).sample;
    for (json, stored) in [
        (&edited.fields, "amount=12.5"),
        (&edited.spans, ""),
        (&edited.errors, "[1,"),
    ] {
        let back: String = serde_json::from_str(json.as_str()).unwrap();
        assert_eq!(back, stored);
    }
}
