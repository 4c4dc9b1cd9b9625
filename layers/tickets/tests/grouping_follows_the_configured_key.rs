//! Which events share a ticket: the call site by default (never the message), the span name
//! when lines are left out, configured fields, and an explicit `fingerprint` field.

mod support;

use support::{tickets, TempDir, TicketsDb};
use taskwire_tickets::{Grouping, Sqlite, TicketsBuilder};
use tracing_subscriber::prelude::*;

fn run(dir: &TempDir, configure: impl FnOnce(TicketsBuilder) -> TicketsBuilder, f: impl FnOnce()) {
    let (layer, guard) = configure(taskwire_tickets::layer(
        Sqlite::open(dir.db()).expect("the store opens"),
    ))
    .build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), f);
    guard.flush().expect("the writer flushes");
}

fn site_a(i: u32) {
    tracing::error!(i, "order {i} failed");
}

fn site_b(i: u32) {
    tracing::error!(i, "order {i} failed");
}

#[test]
fn one_call_site_with_different_messages_is_one_ticket() {
    let dir = TempDir::new("one-site");
    run(
        &dir,
        |l| l,
        || {
            for i in 0..50 {
                site_a(i);
            }
        },
    );
    let t = tickets(&dir.db());
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].count, 50);
    assert_eq!(t[0].title, "order <num> failed");
    assert_eq!(t[0].seed.level, tracing::Level::ERROR);
    assert_eq!(t[0].seed.file.as_deref(), Some(file!()));
    assert!(t[0].seed.line.is_some());
    assert_eq!(t[0].seed.target, module_path!());
}

#[test]
fn two_call_sites_are_two_tickets() {
    let dir = TempDir::new("two-sites");
    run(
        &dir,
        |l| l,
        || {
            for i in 0..10 {
                site_a(i);
                site_b(i);
                site_b(i);
            }
        },
    );
    let t = tickets(&dir.db());
    assert_eq!(t.iter().map(|t| t.count).collect::<Vec<_>>(), [20, 10]);
    assert_ne!(t[0].seed.line, t[1].seed.line);
}

#[test]
fn levels_below_the_threshold_and_task_records_make_no_ticket() {
    let dir = TempDir::new("threshold");
    run(
        &dir,
        |l| l.with_min_level(tracing::Level::ERROR),
        || {
            tracing::info!("not an error");
            tracing::warn!("only a warning");
            tracing::error!(target: "taskwire::tasks", "task.end");
            tracing::error!("counted");
        },
    );
    let t = tickets(&dir.db());
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].title, "counted");

    let dir = TempDir::new("threshold-default");
    run(
        &dir,
        |l| l,
        || {
            tracing::info!("not an error");
            tracing::warn!("a warning counts by default");
        },
    );
    assert_eq!(tickets(&dir.db()).len(), 1);
}

#[test]
fn a_fingerprint_field_overrides_the_call_site() {
    let dir = TempDir::new("fingerprint");
    run(
        &dir,
        |l| l,
        || {
            tracing::error!(fingerprint = "payment-provider-down", "stripe timeout");
            tracing::warn!(fingerprint = "payment-provider-down", "adyen timeout");
            tracing::error!(fingerprint = "db-down", "pool exhausted");
            tracing::error!("no fingerprint here");
        },
    );
    let t = tickets(&dir.db());
    let counts: Vec<_> = t.iter().map(|t| (t.title.as_str(), t.count)).collect();
    assert_eq!(counts.len(), 3, "{counts:?}");
    assert_eq!(counts[0], ("stripe timeout", 2));
}

#[test]
fn grouping_by_a_field_splits_one_site_by_its_value() {
    let dir = TempDir::new("by-field");
    run(
        &dir,
        |l| l.with_grouping(Grouping::default().with_field("http.route")),
        || {
            for route in ["/pay", "/pay", "/cart", "/pay"] {
                let _s = tracing::info_span!("request", http.route = route).entered();
                site_a(1);
            }
            // An event field wins over the span's.
            let _s = tracing::info_span!("request", http.route = "/pay").entered();
            tracing::error!(http.route = "/cart", "explicit route");
            // Without the field at all: its own group.
            drop(_s);
            site_a(2);
        },
    );
    let t = tickets(&dir.db());
    let counts: Vec<_> = t.iter().map(|t| t.count).collect();
    assert_eq!(counts, [3, 1, 1, 1], "{t:#?}");
}

#[test]
fn without_lines_the_span_name_groups_several_sites() {
    let dir = TempDir::new("by-span");
    run(
        &dir,
        |l| l.with_grouping(Grouping::default().without_line()),
        || {
            {
                let _s = tracing::info_span!("charge_card").entered();
                site_a(1);
                site_b(2);
            }
            {
                let _s = tracing::info_span!("ship_order").entered();
                site_a(3);
            }
            site_a(4);
            site_b(5);
        },
    );
    let t = tickets(&dir.db());
    let counts: Vec<_> = t.iter().map(|t| t.count).collect();
    // charge_card (2), outside any span: same file (2), ship_order (1).
    assert_eq!(counts, [2, 2, 1], "{t:#?}");
}

#[test]
fn log_records_group_by_their_own_call_site() {
    let dir = TempDir::new("log");
    run(
        &dir,
        |l| l,
        || {
            for line in [10, 10, 20] {
                tracing_log::format_trace(
                    &log::Record::builder()
                        .args(format_args!("legacy failure {line}"))
                        .level(log::Level::Error)
                        .target("legacy::db")
                        .file(Some("src/legacy.rs"))
                        .line(Some(line))
                        .module_path(Some("legacy::db"))
                        .build(),
                )
                .unwrap();
            }
        },
    );
    let t = tickets(&dir.db());
    assert_eq!(t.len(), 2, "{t:#?}");
    assert_eq!(t[0].count, 2);
    assert_eq!(t[0].seed.target, "legacy::db");
    assert_eq!(t[0].seed.file.as_deref(), Some("src/legacy.rs"));
    assert_eq!(t[0].seed.line, Some(10));
    assert_eq!(t[0].title, "legacy failure <num>");
}

#[test]
fn the_layer_works_boxed_optional_and_filtered() {
    use tracing_subscriber::filter::LevelFilter;
    use tracing_subscriber::Layer;
    let dir = TempDir::new("compose");
    let (layer, guard) = taskwire_tickets::layer(Sqlite::open(dir.db()).unwrap()).build();
    let boxed: Box<dyn Layer<tracing_subscriber::Registry> + Send + Sync> =
        Box::new(Some(layer.with_filter(LevelFilter::ERROR)));
    tracing::subscriber::with_default(tracing_subscriber::registry().with(boxed), || {
        tracing::warn!("filtered out");
        tracing::error!("kept");
    });
    guard.flush().unwrap();
    let t = tickets(&dir.db());
    assert_eq!(t.len(), 1);
    assert_eq!(t[0].title, "kept");
}
