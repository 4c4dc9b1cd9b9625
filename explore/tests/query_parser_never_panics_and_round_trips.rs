//! The query parser never panics, whatever the text, and reads back what a query displays.

use proptest::prelude::*;
use taskwire_explore::query::{Cmp, FieldOp, Query, Term, Time, TracePrefix};
use tracing_core::Level;

fn cmp() -> impl Strategy<Value = Cmp> {
    prop_oneof![
        Just(Cmp::Eq),
        Just(Cmp::Gt),
        Just(Cmp::Ge),
        Just(Cmp::Lt),
        Just(Cmp::Le)
    ]
}

/// Any text, quotes, backslashes and spaces included.
fn value() -> impl Strategy<Value = String> {
    prop_oneof!["[a-zA-Z0-9/{}._:-]{1,12}", ".{0,12}", r#"[ "\\a=~<>]{0,8}"#,]
}

/// Field names that are not the keys with terms of their own.
fn key() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_.-]{0,10}".prop_filter("a key with its own term", |k| {
        !matches!(
            k.as_str(),
            "service" | "task" | "trace" | "request_id" | "duration" | "level" | "since" | "until"
        )
    })
}

fn term() -> impl Strategy<Value = Term> {
    let level = prop_oneof![
        Just(Level::ERROR),
        Just(Level::WARN),
        Just(Level::INFO),
        Just(Level::DEBUG),
        Just(Level::TRACE)
    ];
    let time = prop_oneof![
        any::<u64>().prop_map(Time::Ago),
        // year 0000 to 9999
        (-62_167_219_200_000_000i64..253_402_300_800_000_000).prop_map(Time::At),
    ];
    prop_oneof![
        any::<u128>().prop_map(Term::TraceId),
        (any::<u8>(), any::<u128>(), any::<u64>(), any::<u8>()).prop_map(
            |(version, trace, span, flags)| Term::TraceParent {
                version,
                trace,
                span,
                flags
            }
        ),
        "[0-9a-fA-F]{8,31}".prop_filter_map("a prefix", |p| TracePrefix::parse(&p)
            .map(Term::TracePrefix)),
        any::<u64>().prop_map(Term::SpanId),
        value().prop_map(Term::RequestId),
        (key(), any::<bool>(), value()).prop_map(|(key, eq, value)| Term::Field {
            key,
            op: if eq { FieldOp::Eq } else { FieldOp::Contains },
            value
        }),
        value().prop_map(Term::Service),
        value().prop_map(Term::Task),
        Just(Term::Failed),
        (cmp(), any::<u64>()).prop_map(|(c, us)| Term::Duration(c, us)),
        (cmp(), level).prop_map(|(c, l)| Term::Level(c, l)),
        time.clone().prop_map(Term::Since),
        time.prop_map(Term::Until),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn any_text_parses_or_fails_without_panicking(s in ".{0,80}") {
        let _ = s.parse::<Query>();
    }

    #[test]
    fn query_like_text_parses_or_fails_without_panicking(
        s in r#"([a-z._]{0,6}(=|~|>|>=|<|<=)?("|\\|[0-9a-f]{0,32}|-|ms|h|warn| )*){0,6}"#
    ) {
        if let Err(e) = s.parse::<Query>() {
            // the position is inside the text, on a character boundary
            prop_assert!(e.position() <= s.len() && s.is_char_boundary(e.position()), "{e}");
        }
    }

    #[test]
    fn a_displayed_query_parses_back_to_itself(terms in prop::collection::vec(term(), 0..6)) {
        let q = Query::new(terms);
        let text = q.to_string();
        let back = text.parse::<Query>().map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(back, q, "{}", text);
    }
}
