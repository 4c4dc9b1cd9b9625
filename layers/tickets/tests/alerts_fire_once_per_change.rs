//! Alerts against a real HTTP server on 127.0.0.1: one per new ticket however many threads
//! raise it at once, one per regression, none while muted, the rate rule once per window, a
//! server that is down retried then counted, a full queue dropped and counted.

use std::sync::mpsc;
use std::time::Duration;

use taskwire_test_support::{HttpSink, TempDir};
use taskwire_tickets::alerts::{AlertKind, Alerts};
use taskwire_tickets::store::{ListQuery, Mute, TicketReader, TicketTriage, Timestamp};
use taskwire_tickets::{Sqlite, TicketsGuard};
use tracing::Dispatch;
use tracing_subscriber::prelude::*;

/// A layer on a fresh SQLite file with `alerts`, as a dispatch every thread can use.
fn setup(dir: &TempDir, alerts: Alerts) -> (Dispatch, TicketsGuard) {
    let store = Sqlite::open(dir.join("tickets.db")).expect("the store opens");
    let (layer, guard) = taskwire_tickets::layer(store)
        .with_service("checkout")
        .with_release("1.0")
        .with_alerts(alerts)
        .build();
    (
        Dispatch::new(tracing_subscriber::registry().with(layer)),
        guard,
    )
}

fn declined(order: u64) {
    tracing::error!(order, "payment for order {order} declined");
}

fn fast(alerts: Alerts) -> Alerts {
    alerts
        .with_min_interval(Duration::ZERO)
        .with_backoff(Duration::from_millis(1))
}

#[test]
fn an_8_thread_burst_of_one_new_error_posts_exactly_one_alert() {
    let dir = TempDir::new("alerts-burst");
    let sink = HttpSink::start(&[]);
    let (tx, rx) = mpsc::channel();
    let alerts = Alerts::webhook(&sink.url("/hook"))
        .unwrap()
        .with_callback(move |a| {
            let name = std::thread::current().name().map(str::to_owned);
            let _ = tx.send((a.kind, name));
        });
    let (dispatch, guard) = setup(&dir, alerts);
    std::thread::scope(|s| {
        for t in 0..8 {
            let d = dispatch.clone();
            s.spawn(move || {
                tracing::dispatcher::with_default(&d, || {
                    for i in 0..100 {
                        declined(t * 1000 + i);
                    }
                })
            });
        }
    });
    let stats = guard.shutdown();
    let posts = sink.stop();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let body = posts[0].json();
    assert_eq!(posts[0].method, "POST");
    assert_eq!(posts[0].path, "/hook");
    assert_eq!(posts[0].content_type.as_deref(), Some("application/json"));
    assert_eq!(body["type"], "ticket.created");
    assert_eq!(body["ticket"]["title"], "payment for order <num> declined");
    assert_eq!(body["ticket"]["level"], "ERROR");
    assert_eq!(body["ticket"]["status"], "open");
    assert_eq!(body["service"], "checkout");
    assert_eq!(body["release"], "1.0");
    let stored = Sqlite::open(dir.join("tickets.db")).unwrap();
    let tickets = stored.list(&ListQuery::default()).unwrap();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0].count, 800);
    assert_eq!(body["ticket"]["id"], tickets[0].id.0);
    // The callback ran once, on the delivery thread, not on a thread that logged.
    let called: Vec<_> = rx.try_iter().collect();
    assert_eq!(
        called,
        vec![(AlertKind::Created, Some("taskwire-alerts".to_owned()))]
    );
    assert_eq!(stats.alerts_raised(), 1);
    assert_eq!(stats.alerts_delivered(), 2);
    assert_eq!(stats.alert_failures(), 0);
}

#[test]
fn each_regression_posts_one_alert_and_a_muted_ticket_none() {
    let dir = TempDir::new("alerts-regress");
    let sink = HttpSink::start(&[]);
    let (dispatch, guard) = setup(&dir, fast(Alerts::webhook(&sink.url("/")).unwrap()));
    let mut triage = Sqlite::open(dir.join("tickets.db")).unwrap();
    let emit = |n: u64| {
        tracing::dispatcher::with_default(&dispatch, || (0..n).for_each(declined));
        guard.flush().unwrap();
    };
    emit(3); // created
    emit(3); // open: nothing
    let id = triage.list(&ListQuery::default()).unwrap()[0].id;
    for _ in 0..2 {
        triage.resolve(id, None, Timestamp::now()).unwrap();
        emit(2); // regressed
        emit(2); // open again: nothing
    }
    triage.mute(id, Mute::Forever).unwrap();
    emit(5);
    emit(5);
    let stats = guard.shutdown();
    let kinds: Vec<_> = sink
        .stop()
        .iter()
        .map(|p| p.json()["type"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        kinds,
        ["ticket.created", "ticket.regressed", "ticket.regressed"]
    );
    assert_eq!(stats.alerts_raised(), 3);
    assert_eq!(triage.get(id).unwrap().unwrap().count, 24);
}

#[test]
fn the_rate_rule_fires_once_per_window() {
    let dir = TempDir::new("alerts-rate");
    let sink = HttpSink::start(&[]);
    let alerts = fast(Alerts::webhook(&sink.url("/")).unwrap())
        .on_created(false)
        .on_rate(10, Duration::from_secs(3600));
    let (dispatch, guard) = setup(&dir, alerts);
    for n in [5, 4, 1, 20, 30] {
        tracing::dispatcher::with_default(&dispatch, || (0..n).for_each(declined));
        guard.flush().unwrap();
    }
    drop(guard);
    let posts = sink.stop();
    assert_eq!(posts.len(), 1, "{posts:?}");
    let body = posts[0].json();
    assert_eq!(body["type"], "ticket.rate");
    assert_eq!(body["rate"]["count"], 10);
    assert_eq!(body["rate"]["window_secs"], 3600.0);
}

#[test]
fn a_server_that_is_down_is_retried_then_counted_and_the_app_goes_on() {
    let dir = TempDir::new("alerts-down");
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let alerts = fast(Alerts::webhook(&format!("http://127.0.0.1:{port}/hook")).unwrap())
        .with_retries(2)
        .with_timeout(Duration::from_secs(2));
    let (dispatch, guard) = setup(&dir, alerts);
    tracing::dispatcher::with_default(&dispatch, || (0..3).for_each(declined));
    guard.flush().unwrap();
    tracing::dispatcher::with_default(&dispatch, || (0..3).for_each(declined));
    let stats = guard.shutdown();
    assert_eq!(stats.alerts_raised(), 1);
    assert_eq!(stats.alert_retries(), 2);
    assert_eq!(stats.alert_failures(), 1);
    assert_eq!(stats.alerts_delivered(), 0);
    assert_eq!(stats.events_stored(), 6);
}

#[test]
fn a_5xx_is_retried_until_the_server_takes_the_alert() {
    let dir = TempDir::new("alerts-5xx");
    let sink = HttpSink::start(&[503, 500]);
    let (dispatch, guard) = setup(&dir, fast(Alerts::webhook(&sink.url("/")).unwrap().slack()));
    tracing::dispatcher::with_default(&dispatch, || declined(1));
    let stats = guard.shutdown();
    let posts = sink.stop();
    let statuses: Vec<_> = posts.iter().map(|p| p.status).collect();
    assert_eq!(statuses, [503, 500, 200]);
    let text = posts[2].json()["text"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        text.starts_with(
            "New ticket #1 [ERROR] in checkout (1.0): payment for order &lt;num&gt; declined"
        ),
        "{text}"
    );
    assert_eq!(stats.alert_retries(), 2);
    assert_eq!(stats.alerts_delivered(), 1);
    assert_eq!(stats.alert_failures(), 0);
}

#[test]
fn a_full_queue_drops_and_counts_alerts() {
    let dir = TempDir::new("alerts-full");
    let (entered_tx, entered) = mpsc::channel();
    let (release, wait) = mpsc::channel::<()>();
    let wait = std::sync::Mutex::new(wait);
    let alerts = Alerts::callback(move |_| {
        let _ = entered_tx.send(());
        let _ = wait.lock().map(|w| w.recv());
    })
    .with_queue_capacity(1);
    let (dispatch, guard) = setup(&dir, alerts);
    tracing::dispatcher::with_default(&dispatch, || tracing::error!("first"));
    guard.flush().unwrap();
    // The delivery thread holds the first alert, in the callback.
    entered.recv().unwrap();
    tracing::dispatcher::with_default(&dispatch, || {
        tracing::error!("second");
        tracing::error!("third");
        tracing::error!("fourth");
    });
    guard.flush().unwrap();
    for _ in 0..4 {
        let _ = release.send(());
    }
    let stats = guard.shutdown();
    assert_eq!(stats.alerts_raised(), 2);
    assert_eq!(stats.alerts_dropped(), 2);
    assert_eq!(stats.alerts_delivered(), 2);
}

#[test]
fn two_writers_on_one_store_raise_one_alert_for_a_ticket_they_both_see_first() {
    let dir = TempDir::new("alerts-two-writers");
    let (tx, rx) = mpsc::channel();
    let writers: Vec<(Dispatch, TicketsGuard)> = (0..2)
        .map(|_| {
            let tx = tx.clone();
            setup(
                &dir,
                fast(Alerts::callback(move |a| {
                    let _ = tx.send(a.kind);
                })),
            )
        })
        .collect();
    drop(tx);
    // Both count the new error before either commits: the store says which one created it.
    std::thread::scope(|s| {
        for (d, _) in &writers {
            s.spawn(move || tracing::dispatcher::with_default(d, || (0..50).for_each(declined)));
        }
    });
    std::thread::scope(|s| {
        for (_, g) in &writers {
            s.spawn(move || g.flush().unwrap());
        }
    });
    let raised: u64 = writers
        .into_iter()
        .map(|(_, g)| g.shutdown().alerts_raised())
        .sum();
    assert_eq!(raised, 1);
    assert_eq!(rx.iter().collect::<Vec<_>>(), [AlertKind::Created]);
}
