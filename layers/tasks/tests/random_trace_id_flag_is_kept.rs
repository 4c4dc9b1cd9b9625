//! W3C Trace Context Level 2's random-trace-id flag (`0x02`) belongs to the trace id: it is set
//! on the traces taskwire starts (their ids are random), kept as it arrived on imported
//! traces, inherited by local children, and left alone by sampling decisions.

use taskwire_tasks::{Sampler, SpanExt};
use tracing_subscriber::prelude::*;

const TRACE: &str = "12345678901234567890123456789012";

/// The flags byte of the `traceparent` the current task sends on.
fn outgoing_flags() -> String {
    let mut out: Vec<(String, String)> = Vec::new();
    assert!(taskwire_tasks::inject_current(&mut out), "inside a task");
    let (_, tp) = out
        .iter()
        .find(|(k, _)| k == "traceparent")
        .expect("a traceparent goes out");
    tp[53..].to_owned()
}

#[test]
fn imported_flags_go_out_unchanged_through_children() {
    let subscriber = tracing_subscriber::registry().with(taskwire_tasks::layer());
    tracing::subscriber::with_default(subscriber, || {
        for flags in ["00", "01", "02", "03"] {
            let header = format!("00-{TRACE}-1234567890123456-{flags}");
            let span = taskwire_tasks::import(&header, tracing::info_span!("request"));
            let _request = span.enter();
            assert_eq!(outgoing_flags(), flags, "the imported task sends {flags}");
            let ctx = taskwire_tasks::current().expect("inside a task");
            assert_eq!(ctx.random(), flags == "02" || flags == "03");
            let _child = tracing::info_span!("child").entered();
            assert_eq!(
                outgoing_flags(),
                flags,
                "a child of the imported task sends {flags}"
            );
            assert_eq!(
                taskwire_tasks::current()
                    .expect("inside a task")
                    .trace_id()
                    .to_string(),
                TRACE
            );
        }
    });
}

#[test]
fn reserved_flag_bits_are_dropped_and_the_random_bit_is_kept() {
    let subscriber = tracing_subscriber::registry().with(taskwire_tasks::layer());
    tracing::subscriber::with_default(subscriber, || {
        for (incoming, outgoing) in [("06", "02"), ("07", "03"), ("fe", "02"), ("05", "01")] {
            let header = format!("00-{TRACE}-1234567890123456-{incoming}");
            let span = taskwire_tasks::import(&header, tracing::info_span!("request"));
            let _request = span.enter();
            assert_eq!(outgoing_flags(), outgoing, "{incoming}");
        }
    });
}

#[test]
fn traces_taskwire_starts_are_marked_random() {
    let subscriber = tracing_subscriber::registry().with(taskwire_tasks::layer());
    tracing::subscriber::with_default(subscriber, || {
        let _root = tracing::info_span!("root").entered();
        assert!(taskwire_tasks::current().expect("inside a task").random());
        assert_eq!(outgoing_flags(), "03");
        let _child = tracing::info_span!("child").entered();
        assert_eq!(outgoing_flags(), "03");
    });
}

#[test]
fn an_unsampled_root_keeps_the_random_flag() {
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer().with_sampler(Sampler::ratio(0.0)));
    tracing::subscriber::with_default(subscriber, || {
        let _root = tracing::info_span!("root").entered();
        assert_eq!(outgoing_flags(), "02");
        // An import keeps the caller's sampled flag, whatever the local ratio, and its random flag.
        let span = taskwire_tasks::import(
            &format!("00-{TRACE}-1234567890123456-03"),
            tracing::info_span!("request"),
        );
        let _request = span.enter();
        assert_eq!(outgoing_flags(), "03");
    });
}

#[test]
fn sampling_decided_by_a_later_tasks_layer_keeps_the_random_flag() {
    // The JSON layer captures first; the tasks layer, further out, decides sampling of roots.
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_json::layer().with_writer(std::io::sink))
        .with(taskwire_tasks::layer().with_sampler(Sampler::ratio(0.0)));
    tracing::subscriber::with_default(subscriber, || {
        let root = tracing::info_span!("root");
        let ctx = root.task_context().expect("captured");
        assert!(!ctx.sampled());
        assert!(ctx.random());
        let _root = root.entered();
        assert_eq!(outgoing_flags(), "02");
    });
}
