//! Property tests of the W3C codec: it never panics on any input, valid values round-trip
//! with both Level 2 flags, a `tracestate` keeps the first member of each key in order, and
//! tracestate never affects traceparent.

use proptest::prelude::*;
use taskwire_core::propagation::{extract, TraceParent, TraceState};
use taskwire_core::{SpanId, TraceId};

/// A W3C Trace Context Level 2 `tracestate` key (short, so duplicates happen).
const KEY: &str = "[a-z0-9][a-z0-9_*/@\\-]{0,3}";
/// A `tracestate` value: printable ASCII but `,` and `=`, not ending in a space.
const VALUE: &str = "[\\x20-\\x2b\\x2d-\\x3c\\x3e-\\x7e]{0,6}[\\x21-\\x2b\\x2d-\\x3c\\x3e-\\x7e]";

proptest! {
    #[test]
    fn traceparent_parse_never_panics(s in ".{0,200}", bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = TraceParent::parse(&s);
        let _ = TraceParent::parse(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn valid_ids_round_trip(trace in 1u128.., span in 1u64.., sampled: bool, random: bool, pad in "[ \t]{0,3}") {
        let tp = TraceParent { trace_id: TraceId::from_u128(trace), span_id: SpanId::from_u64(span), sampled, random };
        let text = tp.to_string();
        prop_assert_eq!(text.len(), 55);
        prop_assert_eq!(&text, &text.to_lowercase());
        prop_assert_eq!(TraceParent::parse(&format!("{pad}{text}{pad}")), Some(tp));
    }

    #[test]
    fn any_flags_keep_the_sampled_and_random_bits(flags: u8) {
        let text = format!("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-{flags:02x}");
        let tp = TraceParent::parse(&text).unwrap();
        prop_assert_eq!(tp.sampled, flags & 1 == 1);
        prop_assert_eq!(tp.random, flags & 2 == 2);
        let back = tp.to_string();
        let suffix = format!("-{:02x}", flags & 0x03);
        prop_assert!(back.ends_with(&suffix), "{} -> {}", text, back);
    }

    #[test]
    fn tracestate_keeps_the_first_value_of_each_key_in_order(
        members in proptest::collection::vec((KEY, VALUE), 1..=32),
        split in 1usize..=4,
    ) {
        let mut expected: Vec<(String, String)> = Vec::new();
        for (k, v) in &members {
            if !expected.iter().any(|(e, _)| e == k) {
                expected.push((k.clone(), v.clone()));
            }
        }
        let rendered: Vec<String> = members.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let headers: Vec<String> = rendered.chunks(split).map(|c| c.join(" ,\t")).collect();
        let ts = TraceState::parse_headers(headers.iter().map(String::as_str)).expect("valid members");
        let want: Vec<String> = expected.iter().map(|(k, v)| format!("{k}={v}")).collect();
        prop_assert_eq!(ts.as_str(), want.join(","));
        for (k, v) in &expected {
            prop_assert_eq!(ts.get(k), Some(v.as_str()));
        }
    }

    #[test]
    fn one_invalid_key_drops_the_whole_tracestate(
        members in proptest::collection::vec((KEY, VALUE), 0..8),
        bad in "[@_*/.A-Z-][a-z0-9@]{0,8}",
        at in 0usize..8,
    ) {
        let mut rendered: Vec<String> = members.iter().map(|(k, v)| format!("{k}={v}")).collect();
        rendered.insert(at.min(rendered.len()), format!("{bad}=1"));
        prop_assert_eq!(TraceState::parse_headers([rendered.join(",").as_str()]), None);
    }

    #[test]
    fn tracestate_never_panics_and_is_canonical(headers in proptest::collection::vec(".{0,80}", 0..5)) {
        let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
        if let Some(ts) = TraceState::parse_headers(refs) {
            // What we emit, we accept again, unchanged.
            prop_assert_eq!(TraceState::parse_headers([ts.as_str()]), Some(ts.clone()));
            prop_assert!(ts.as_str().split(',').filter(|m| !m.is_empty()).count() <= 32);
        }
    }

    #[test]
    fn tracestate_never_changes_the_parent(state in ".{0,100}") {
        let tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
        let pairs = [("traceparent", tp), ("tracestate", state.as_str())];
        let e = extract(&pairs[..]);
        prop_assert_eq!(e.parent, TraceParent::parse(tp));
    }
}
