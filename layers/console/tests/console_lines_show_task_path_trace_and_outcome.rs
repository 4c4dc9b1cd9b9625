//! A console line carries what taskwire adds to an event: the task path, the trace id that
//! `taskwire tree --trace` takes, and on a task's end its outcome, duration and reason; the
//! styles, redaction and indentation hold.

use taskwire_console::{ColorWhen, Style, TraceIdFormat};
use taskwire_test_support::Capture;
use tracing_subscriber::prelude::*;

/// Runs `f` under capture + tasks (every task's end written, so quick ones show too) + a
/// console layer (no colour) configured by `configure`, and returns the lines written.
fn console_lines(
    configure: impl FnOnce(
        taskwire_console::ConsoleLayer<Capture>,
    ) -> taskwire_console::ConsoleLayer<Capture>,
    f: impl FnOnce(),
) -> String {
    let out = Capture::new();
    let layer = configure(
        taskwire_console::layer()
            .with_writer(out.clone())
            .with_color(ColorWhen::Never),
    );
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_core::span::capture())
        .with(taskwire_tasks::layer().all_tasks())
        .with(layer);
    tracing::subscriber::with_default(subscriber, f);
    out.text()
}

fn current_trace() -> String {
    let tp = taskwire_core::span::current().expect("inside a span");
    format!("{:032x}", u128::from_be_bytes(tp.trace_id.to_bytes()))
}

/// The text after the time of the first line an order's retry writes, and the order's trace.
fn retry_line(format: Option<TraceIdFormat>) -> (String, String) {
    let mut trace = String::new();
    let text = console_lines(
        |l| match format {
            Some(f) => l.with_trace_id_format(f),
            None => l,
        },
        || {
            let _order = tracing::info_span!("handle_order", order_id = 42).entered();
            let _charge = tracing::info_span!("charge_card").entered();
            trace = current_trace();
            tracing::warn!(target: "checkout", attempt = 2, "card declined, retrying");
        },
    );
    let line = text.lines().next().expect("a line");
    let (time, rest) = line.split_once(' ').expect("time first");
    assert_eq!(time.len(), "18:49:51.123".len(), "{line}");
    (rest.to_owned(), trace)
}

#[test]
fn an_event_shows_level_target_message_fields_task_path_and_short_trace_id() {
    let (rest, trace) = retry_line(None);
    // the first 8 digits: what `taskwire tree --trace` takes
    assert_eq!(
        rest,
        format!(
            "WARN  checkout: card declined, retrying attempt=2 order_id=42 \
             [handle_order › charge_card {}]",
            &trace[..8]
        ),
    );
}

#[test]
fn the_full_trace_id_is_shown_when_asked_for() {
    let (rest, trace) = retry_line(Some(TraceIdFormat::Full));
    assert!(
        rest.ends_with(&format!("[handle_order › charge_card {trace}]")),
        "{rest}"
    );
}

#[test]
fn a_task_end_shows_a_check_mark_the_path_and_a_duration() {
    let text = console_lines(
        |l| l,
        || {
            let _order = tracing::info_span!("handle_order").entered();
            tracing::info_span!("charge_card").in_scope(|| {});
        },
    );
    let ends: Vec<&str> = text.lines().filter(|l| l.contains('✓')).collect();
    assert_eq!(ends.len(), 2, "{text}");
    let first = ends[0].split_once(' ').expect("time first").1;
    assert!(
        first.starts_with("✓     handle_order › charge_card "),
        "{first}"
    );
    // the duration has a unit, and the short trace id follows in brackets
    assert!(first.contains("µs [") || first.contains("ms ["), "{first}");
    let id = first.rsplit_once('[').map_or("", |(_, id)| id);
    assert!(
        id.len() == 9 && id.ends_with(']') && id[..8].bytes().all(|b| b.is_ascii_hexdigit()),
        "{first}"
    );
    assert!(ends[1].contains("✓     handle_order "), "{}", ends[1]);
}

#[test]
fn a_failed_task_shows_a_cross_and_its_reason() {
    let text = console_lines(
        |l| l.with_trace_id(false),
        || {
            let _order = tracing::info_span!("handle_order").entered();
            tracing::info_span!("charge_card").in_scope(|| {
                tracing::error!("card declined");
            });
        },
    );
    let end = text
        .lines()
        .find(|l| l.contains("✗"))
        .unwrap_or_else(|| panic!("no failed task in {text}"));
    assert!(end.contains("✗     handle_order › charge_card "), "{end}");
    assert!(end.ends_with(" card declined"), "{end}");
}

#[test]
fn colour_marks_failures_in_red() {
    let out = Capture::new();
    let layer = taskwire_console::layer()
        .with_writer(out.clone())
        .with_color(ColorWhen::Always);
    assert!(layer.colored());
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_tasks::layer())
        .with(layer);
    tracing::subscriber::with_default(subscriber, || {
        tracing::info_span!("charge_card").in_scope(|| tracing::error!("card declined"));
    });
    let text = out.text();
    assert!(text.contains("\x1b[1;31mERROR\x1b[0m"), "{text:?}");
    assert!(text.contains("\x1b[31m✗\x1b[0m"), "{text:?}");
    assert!(text.contains("\x1b[31mcard declined\x1b[0m"), "{text:?}");
}

#[test]
fn a_deep_path_shows_its_last_three_tasks() {
    let text = console_lines(
        |l| l.with_trace_id(false),
        || {
            let _a = tracing::info_span!("a").entered();
            let _b = tracing::info_span!("b", task.name = "named_b").entered();
            let _c = tracing::info_span!("c").entered();
            let _d = tracing::info_span!("d").entered();
            tracing::info!("deep");
        },
    );
    let line = text.lines().next().expect("a line");
    assert!(line.ends_with("deep [… › named_b › c › d]"), "{line}");
}

#[test]
fn sensitive_fields_are_redacted_in_events_and_spans() {
    let text = console_lines(
        |l| l,
        || {
            let _s = tracing::info_span!("login", password = "hunter2").entered();
            tracing::info!(api_token = "s3cr3t", user = "ann", "signed in");
        },
    );
    assert!(
        !text.contains("hunter2") && !text.contains("s3cr3t"),
        "{text}"
    );
    assert!(text.contains("api_token=[redacted]"), "{text}");
    assert!(text.contains("password=[redacted]"), "{text}");
    assert!(text.contains("user=ann"), "{text}");
}

#[test]
fn pretty_style_writes_one_field_per_line_and_the_task_on_its_own() {
    let text = console_lines(
        |l| {
            l.with_style(Style::Pretty)
                .with_trace_id(false)
                .with_time(false)
        },
        || {
            let _s = tracing::info_span!("handle_order", order_id = 42).entered();
            tracing::info!(target: "shop", items = 3, note = "two words", "order placed");
        },
    );
    let event: Vec<&str> = text.lines().take(4).collect();
    assert_eq!(
        event,
        [
            "INFO  shop: order placed",
            "    items: 3",
            "    note: \"two words\"",
            "    order_id: 42",
        ],
        "{text}"
    );
    assert_eq!(text.lines().nth(4), Some("    in handle_order"), "{text}");
}

#[test]
fn indentation_follows_task_depth() {
    let text = console_lines(
        |l| l.with_indent(true).with_time(false).with_trace_id(false),
        || {
            tracing::info!("top");
            let _a = tracing::info_span!("a").entered();
            tracing::info!("in a");
            tracing::info_span!("b").in_scope(|| tracing::info!("in b"));
        },
    );
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with("INFO "), "{text}");
    assert!(lines[1].starts_with("  INFO "), "{text}");
    assert!(lines[2].starts_with("    INFO "), "{text}");
    // b's end sits at a's depth, a's end at the top
    assert!(lines[3].starts_with("  ✓     a › b"), "{text}");
    assert!(lines[4].starts_with("✓     a "), "{text}");
}

#[test]
fn an_event_outside_any_span_has_no_brackets() {
    let text = console_lines(|l| l.with_time(false), || tracing::info!(n = 1, "alone"));
    assert!(text.starts_with("INFO  "), "{text}");
    assert!(text.ends_with(": alone n=1\n"), "{text}");
}

#[test]
fn a_key_is_written_once_the_event_s_value_winning_then_the_innermost_span_s() {
    let text = console_lines(
        |l| l.with_trace_id(false),
        || {
            let _order =
                tracing::info_span!("handle_order", attempt = 0, region = "eu", tier = 1).entered();
            let _charge = tracing::info_span!("charge_card", attempt = 1, tier = 2).entered();
            tracing::warn!(target: "checkout", attempt = 2, "card declined, retrying");
        },
    );
    let line = text.lines().next().expect("a line");
    let rest = line.split_once(' ').expect("time first").1;
    assert_eq!(
        rest,
        "WARN  checkout: card declined, retrying attempt=2 tier=2 region=eu \
         [handle_order › charge_card]",
    );
}

#[test]
fn layers_with_different_settings_on_one_thread_keep_their_own_keys() {
    let (compact, pretty) = (Capture::new(), Capture::new());
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_core::span::capture())
        .with(
            taskwire_console::layer()
                .with_writer(compact.clone())
                .with_color(ColorWhen::Never)
                .with_trace_id(false),
        )
        .with(
            taskwire_console::layer()
                .with_writer(pretty.clone())
                .with_color(ColorWhen::Always)
                .with_style(Style::Pretty)
                .with_target(false)
                .with_trace_id(false),
        );
    tracing::subscriber::with_default(subscriber, || {
        let _order = tracing::info_span!("handle_order", order_id = 42).entered();
        for _ in 0..2 {
            tracing::info!(target: "checkout", attempt = 2, "paid");
        }
    });
    for line in compact.text().lines() {
        let rest = line.split_once(' ').expect("time first").1;
        assert_eq!(
            rest,
            "INFO  checkout: paid attempt=2 order_id=42 [handle_order]"
        );
    }
    let text = pretty.text();
    assert_eq!(
        text.matches("\x1b[2mattempt: \x1b[0m2").count(),
        2,
        "{text:?}"
    );
    assert_eq!(
        text.matches("\x1b[32mINFO \x1b[0m paid\n").count(),
        2,
        "{text:?}"
    );
    assert!(!text.contains("checkout"), "{text:?}");
}
