//! A collector that is absent at start, killed mid-run and restarted: the application's spans
//! never wait on it, export resumes by itself once it is back, and every span is accounted
//! for: exported (and received by the collector) or dropped and counted. Uses a collector of
//! its own (rotel-agent from `scripts/test`), on a fixed port so it can come back at the same
//! URL.

mod support;

use std::collections::HashSet;
use std::time::{Duration, Instant};

use tracing_subscriber::prelude::*;

/// Creates, enters and closes `n` tasks; returns their span ids and the slowest lifecycle.
fn tasks(phase: &'static str, n: usize) -> (Vec<String>, Duration) {
    let mut ids = Vec::with_capacity(n);
    let mut slowest = Duration::ZERO;
    for i in 0..n {
        let t0 = Instant::now();
        {
            let _t = tracing::info_span!("outage.task", phase, i).entered();
            ids.push(
                taskwire_tasks::current()
                    .expect("task")
                    .span_id()
                    .to_string(),
            );
        }
        slowest = slowest.max(t0.elapsed());
    }
    (ids, slowest)
}

#[test]
fn collector_absent_killed_and_restarted_the_application_never_waits() {
    let mut collector = support::OwnCollector::new("otel-outage");
    let (otel, guard) = taskwire_otel::layer()
        .with_endpoint(collector.url())
        .with_service_name("otel-outage")
        .with_export_interval(Duration::from_millis(50))
        .with_batch_size(64)
        .with_timeout(Duration::from_secs(2))
        .build()
        .expect("a collector that is down is no error at start");
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer())
        .with(otel);
    let flush = || {
        assert!(
            guard.flush_within(Duration::from_secs(20)),
            "flush timed out"
        )
    };
    let mut all = 0_u64;
    let mut received_ids: HashSet<String> = HashSet::new();
    let mut check_received = |ids: &[String], collector: &support::OwnCollector, want: bool| {
        let got = support::wait_for(
            &collector.log,
            Duration::from_secs(if want { 10 } else { 1 }),
            |r| !want || ids.iter().all(|id| r.span(id).is_some()),
        );
        let here: Vec<_> = ids.iter().filter(|id| got.span(id).is_some()).collect();
        received_ids.extend(here.iter().map(|s| (*s).clone()));
        here.len()
    };

    // One phase of `n` tasks: none of them may wait on the collector; then the queue is flushed.
    let mut phase = |name: &'static str, n: usize| {
        let (ids, slowest) = tasks(name, n);
        all += n as u64;
        assert!(
            slowest < Duration::from_millis(250),
            "{name}: a task waited {slowest:?}"
        );
        flush();
        ids
    };

    tracing::subscriber::with_default(subscriber, || {
        // 1. Absent at start.
        phase("absent", 300);
        let s = guard.stats();
        assert_eq!(s.spans_exported, 0, "{s}");
        assert_eq!(s.spans_dropped(), 300, "{s}");
        assert!(s.export_errors > 0 && s.last_error.is_some(), "{s}");

        // 2. It starts: export resumes by itself.
        collector.start();
        let ids = phase("up", 200);
        let s = guard.stats();
        assert_eq!(s.spans_exported, 200, "{s}");
        assert_eq!(check_received(&ids, &collector, true), 200);

        // 3. Killed mid-run: spans keep flowing, the losses are counted.
        collector.kill();
        phase("killed", 200);
        let s = guard.stats();
        assert_eq!(s.spans_exported, 200, "{s}");
        assert_eq!(s.spans_dropped(), 500, "{s}");

        // 4. Restarted at the same address: export resumes. (The first request may still
        // meet a connection to the killed process and fail; that batch is counted.)
        collector.start();
        let mut resumed = 0;
        for _ in 0..5 {
            let ids = phase("restarted", 100);
            resumed = check_received(&ids, &collector, true);
            if resumed == 100 {
                break;
            }
        }
        assert_eq!(resumed, 100, "export resumed after the restart");
    });

    let s = guard.shutdown();
    // Every span is accounted for, and what was counted as exported is what the collector
    // received.
    assert_eq!(s.spans_exported + s.spans_dropped(), all, "{s}");
    let log = support::Received::read(&collector.log);
    let ours = log
        .spans
        .iter()
        .filter(|sp| sp.resource_attr("service.name") == Some("Str(otel-outage)"))
        .map(|sp| sp.id.clone())
        .collect::<HashSet<_>>();
    assert_eq!(ours.len() as u64, s.spans_exported, "{s}");
    assert!(received_ids.is_subset(&ours));
}
