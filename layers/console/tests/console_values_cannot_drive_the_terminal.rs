//! Whatever a field value, message, key or task name holds (quotes, newlines, ANSI escape
//! sequences, C1 controls, any `char`), rendering it never panics, every event stays one line
//! (compact style), and the output holds no control byte from user data: the only escape
//! sequences in it are the layer's own colour codes.

use proptest::prelude::*;
use taskwire_console::{ColorWhen, Style};
use taskwire_test_support::hostile::tricky_string;
use taskwire_test_support::Capture;
use tracing_subscriber::prelude::*;

/// The SGR codes the layer writes itself.
const OWN_CODES: [&str; 10] = [
    "\x1b[0m",
    "\x1b[2m",
    "\x1b[1m",
    "\x1b[31m",
    "\x1b[32m",
    "\x1b[33m",
    "\x1b[34m",
    "\x1b[35m",
    "\x1b[36m",
    "\x1b[1;31m",
];

fn hostile() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => tricky_string(),
        1 => Just("\x1b[2J\x1b[H".to_owned()),
        1 => Just("\u{9b}31mred\r\nFAKE LINE".to_owned()),
        1 => Just("\x1b]0;title\x07".to_owned()),
    ]
}

#[derive(Debug)]
struct Shown(String);

impl std::fmt::Display for Shown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn render(style: Style, message: &str, value: &str, task_name: &str, failure: &str) -> String {
    let out = Capture::new();
    let subscriber = tracing_subscriber::registry()
        .with(taskwire_core::span::capture())
        .with(taskwire_tasks::layer())
        .with(
            taskwire_console::layer()
                .with_writer(out.clone())
                .with_color(ColorWhen::Always)
                .with_style(style),
        );
    tracing::subscriber::with_default(subscriber, || {
        let _s = tracing::info_span!("task", task.name = task_name, span_value = value).entered();
        tracing::info!(
            s = value,
            d = ?value,
            shown = %Shown(value.to_owned()),
            "{message}"
        );
        tracing::info_span!("inner").in_scope(|| tracing::error!("{failure}"));
    });
    out.text()
}

fn strip_own_codes(text: &str) -> String {
    let mut t = text.to_owned();
    for code in OWN_CODES {
        t = t.replace(code, "");
    }
    t
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn compact_lines_hold_no_raw_control_from_user_data(
        message in hostile(),
        value in hostile(),
        task_name in hostile(),
        failure in hostile(),
    ) {
        let text = render(Style::Compact, &message, &value, &task_name, &failure);
        let plain = strip_own_codes(&text);
        prop_assert!(
            !plain.chars().any(|c| c.is_control() && c != '\n'),
            "a raw control character in {plain:?}"
        );
        // the event, the error, the inner task's end, the outer task's end
        prop_assert_eq!(plain.lines().count(), 4, "{:?}", plain);
    }

    #[test]
    fn pretty_lines_hold_no_raw_control_from_user_data(
        message in hostile(),
        value in hostile(),
    ) {
        let text = render(Style::Pretty, &message, &value, "task", "failed");
        let plain = strip_own_codes(&text);
        prop_assert!(
            !plain.chars().any(|c| c.is_control() && c != '\n'),
            "a raw control character in {plain:?}"
        );
        // each field line starts with the field indentation, never with user text
        for line in plain.lines().filter(|l| !l.is_empty()) {
            let first = line.chars().next().unwrap_or(' ');
            prop_assert!(first == ' ' || first.is_ascii_digit(), "{line:?}");
        }
    }
}
