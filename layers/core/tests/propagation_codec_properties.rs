//! Property tests of the W3C codec: it never panics on any input, valid values round-trip,
//! and tracestate never affects traceparent.

use proptest::prelude::*;
use taskwire_core::propagation::{extract, TraceParent, TraceState};
use taskwire_core::{SpanId, TraceId};

proptest! {
    #[test]
    fn traceparent_parse_never_panics(s in ".{0,200}", bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = TraceParent::parse(&s);
        let _ = TraceParent::parse(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn valid_ids_round_trip(trace in 1u128.., span in 1u64.., sampled: bool, pad in "[ \t]{0,3}") {
        let tp = TraceParent { trace_id: TraceId::from_u128(trace), span_id: SpanId::from_u64(span), sampled };
        let text = tp.to_string();
        prop_assert_eq!(text.len(), 55);
        prop_assert_eq!(&text, &text.to_lowercase());
        prop_assert_eq!(TraceParent::parse(&format!("{pad}{text}{pad}")), Some(tp));
    }

    #[test]
    fn any_flags_keep_only_the_sampled_bit(flags: u8) {
        let text = format!("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-{flags:02x}");
        let tp = TraceParent::parse(&text).unwrap();
        prop_assert_eq!(tp.sampled, flags & 1 == 1);
        let back = tp.to_string();
        let suffix = if flags & 1 == 1 { "-01" } else { "-00" };
        prop_assert!(back.ends_with(suffix));
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
