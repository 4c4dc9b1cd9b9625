//! A stored occurrence carries the event's message and fields, every enclosing span's fields,
//! the task's ids, process facts and error source chains; sensitive keys are redacted, long
//! values cut with a marker; per ticket the first sample and the newest N are kept while the
//! count stays exact; tags count level, service, host, release and configured fields.

mod support;

use serde_json::Value;
use support::{samples, tags, tickets, TempDir, TicketsDb};
use taskwire_test_support::hostile::ChainedError;
use taskwire_tickets::Sqlite;
use tracing_subscriber::prelude::*;

#[test]
fn a_sample_has_the_whole_context() {
    let dir = TempDir::new("sample");
    let (layer, guard) = taskwire_tickets::layer(Sqlite::open(dir.db()).unwrap())
        .with_service("checkout")
        .with_release("1.2.3")
        .with_tag_field("http.route")
        .with_max_field_len(64)
        .build();
    let mut ids = None;
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        let _req =
            tracing::info_span!("request", http.route = "/pay", password = "hunter2").entered();
        let _inner = tracing::info_span!("charge", attempt = 2).entered();
        ids = taskwire_core::span::current();
        let err = ChainedError::new("charge failed", "connection reset");
        tracing::error!(
            user_id = 7,
            api_token = "abc",
            big = %"x".repeat(100),
            error = &err as &(dyn std::error::Error + 'static),
            "payment {} failed",
            42
        );
    });
    guard.flush().unwrap();
    let t = &tickets(&dir.db())[0];
    assert_eq!(t.title, "payment <num> failed");
    assert_eq!(t.seed.service.as_deref(), Some("checkout"));
    let s = &samples(&dir.db(), t)[0];
    assert!(s.first);
    let s = &s.sample;
    assert_eq!(s.message, "payment 42 failed");
    let fields: Value = serde_json::from_str(s.fields.as_str()).unwrap();
    assert_eq!(fields["user_id"], 7);
    assert_eq!(fields["api_token"], "[redacted]");
    let big = fields["big"].as_str().unwrap();
    assert!(big.starts_with(&"x".repeat(64)), "{big}");
    assert!(big.ends_with("…[truncated 36 bytes]"), "{big}");
    assert_eq!(fields["error"]["message"], "charge failed");
    let spans: Value = serde_json::from_str(s.spans.as_str()).unwrap();
    assert_eq!(spans[0]["name"], "request");
    assert_eq!(spans[0]["fields"]["http.route"], "/pay");
    assert_eq!(spans[0]["fields"]["password"], "[redacted]");
    assert_eq!(spans[1]["name"], "charge");
    assert_eq!(spans[1]["fields"]["attempt"], 2);
    let errors: Value = serde_json::from_str(s.errors.as_str()).unwrap();
    assert_eq!(errors[0]["field"], "error");
    assert_eq!(errors[0]["source"][0], "connection reset");
    let ids = ids.expect("inside a task");
    assert_eq!(
        s.trace_id.as_deref(),
        Some(ids.trace_id.to_string().as_str())
    );
    assert_eq!(s.span_id.as_deref(), Some(ids.span_id.to_string().as_str()));
    assert_eq!(s.service.as_deref(), Some("checkout"));
    assert_eq!(s.release.as_deref(), Some("1.2.3"));
    assert_eq!(s.pid, std::process::id());
    assert!(!s.host.is_empty());
    assert!(!s.thread.is_empty());
    assert_eq!(s.level, Some(tracing::Level::ERROR));

    let tags: Vec<_> = tags(&dir.db(), t)
        .into_iter()
        .map(|t| (t.key, t.value, t.count))
        .collect();
    let host = taskwire_core::process::hostname().to_owned();
    assert_eq!(
        tags,
        vec![
            ("host".into(), host, 1),
            ("http.route".into(), "/pay".into(), 1),
            ("level".into(), "ERROR".into(), 1),
            ("release".into(), "1.2.3".into(), 1),
            ("service".into(), "checkout".into(), 1),
        ]
    );
}

#[test]
fn first_and_newest_samples_are_kept_and_counts_stay_exact() {
    let dir = TempDir::new("retention");
    let (layer, guard) = taskwire_tickets::layer(Sqlite::open(dir.db()).unwrap())
        .with_samples_per_ticket(3)
        .build();
    let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(layer));
    for round in 0..4 {
        tracing::dispatcher::with_default(&dispatch, || {
            for i in 0..250 {
                tracing::error!(round, i, "round {round} item {i}");
            }
        });
        guard.flush().unwrap();
    }
    let t = &tickets(&dir.db())[0];
    assert_eq!(t.count, 1000);
    let kept = samples(&dir.db(), t);
    assert_eq!(kept.len(), 4, "the first and the newest 3");
    assert!(kept[0].first);
    assert_eq!(kept[0].sample.message, "round 0 item 0");
    assert!(kept[1..]
        .iter()
        .all(|o| o.sample.message.starts_with("round 3 ")));
    let stats = guard.stats();
    assert_eq!(stats.events_stored(), 1000);
    assert_eq!(stats.samples_dropped(), 0);
}

#[test]
fn tag_values_beyond_the_cap_count_as_other() {
    let dir = TempDir::new("tag-cap");
    let (layer, guard) = taskwire_tickets::layer(Sqlite::open(dir.db()).unwrap())
        .with_tag_field("customer")
        .with_max_tag_values(2)
        .build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for c in ["a", "b", "a", "c", "d", "a"] {
            tracing::error!(customer = c, "failed");
        }
    });
    guard.flush().unwrap();
    let t = &tickets(&dir.db())[0];
    let customer: Vec<_> = tags(&dir.db(), t)
        .into_iter()
        .filter(|t| t.key == "customer")
        .map(|t| (t.value, t.count))
        .collect();
    assert_eq!(
        customer,
        vec![("a".into(), 3), ("(other)".into(), 2), ("b".into(), 1)]
    );
}
