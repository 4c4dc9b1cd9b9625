//! The table prefix reaches SQL only after validation: letters, digits and `_`, at most 32.

mod support;

use support::{TempDir, TicketsDb};
use taskwire_tickets::store::ErrorKind;
use taskwire_tickets::Sqlite;

#[test]
fn injection_through_the_prefix_is_refused() {
    let dir = TempDir::new("prefix");
    for bad in [
        "x\"; DROP TABLE users; --",
        "a b",
        "tickets.",
        "é_",
        "x'",
        &"p".repeat(33),
    ] {
        let err = Sqlite::builder(dir.db())
            .with_prefix(bad)
            .open()
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidConfig, "{bad}: {err}");
    }
    // Nothing was created.
    assert!(!dir.db().exists());
    for good in ["", "app_", "A1_", &"p".repeat(32)] {
        Sqlite::builder(dir.db()).with_prefix(good).open().unwrap();
    }
}
