//! Which request id a request task keeps: the caller's when it sent exactly one valid id,
//! else one minted from the task's own span id.

use crate::SpanId;

/// Longest incoming request id that is reused.
pub const MAX_REQUEST_ID: usize = 128;

/// Whether an incoming request id may be reused: 1 to 128 bytes of visible ASCII (`!` to `~`),
/// nothing that could split a log line, smuggle a header or blow up an index.
///
/// ```
/// use taskwire_core::http::valid_request_id;
/// assert!(valid_request_id(b"req-0042.A~b"));
/// assert!(!valid_request_id(b""));
/// assert!(!valid_request_id(b"has space"));
/// assert!(!valid_request_id(&[b'a'; 129]));
/// ```
pub fn valid_request_id(v: &[u8]) -> bool {
    !v.is_empty() && v.len() <= MAX_REQUEST_ID && v.iter().all(|c| (0x21..=0x7e).contains(c))
}

/// The incoming request id to keep, from every value of the request id header in order: the
/// only one when there is exactly one and it is [valid](valid_request_id); `None` when there
/// is none, more than one (which one would be meant?) or an invalid one. Takes any value type
/// that shows its bytes (`HeaderValue`, `&[u8]`, `&str`) and hands the kept one back.
///
/// ```
/// use taskwire_core::http::incoming_request_id;
/// assert_eq!(incoming_request_id(["abc"]), Some("abc"));
/// assert_eq!(incoming_request_id(["abc", "def"]), None);
/// assert_eq!(incoming_request_id(["a b"]), None);
/// assert_eq!(incoming_request_id::<&str>([]), None);
/// ```
pub fn incoming_request_id<V: AsRef<[u8]>>(values: impl IntoIterator<Item = V>) -> Option<V> {
    let mut values = values.into_iter();
    match (values.next(), values.next()) {
        (Some(v), None) if valid_request_id(v.as_ref()) => Some(v),
        _ => None,
    }
}

/// The request id given to a request without a valid one: the request task's span id in hex
/// (one id to search for in logs and traces), or a random span id's when the task has no ids
/// (no taskwire layer in the subscriber). Always [valid](valid_request_id).
///
/// ```
/// use taskwire_core::http::{minted_request_id, valid_request_id};
/// use taskwire_core::SpanId;
/// assert_eq!(&minted_request_id(Some(SpanId::from_u64(0xab))), b"00000000000000ab");
/// assert!(valid_request_id(&minted_request_id(None)));
/// ```
pub fn minted_request_id(task: Option<SpanId>) -> [u8; 16] {
    task.unwrap_or_else(SpanId::random).to_hex()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn request_id_rules() {
        assert!(valid_request_id(b"abc-123_XYZ.~"));
        assert!(valid_request_id(&[b'a'; 128]));
        assert!(!valid_request_id(&[b'a'; 129]));
        assert!(!valid_request_id(b""));
        assert!(!valid_request_id(b"has space"));
        assert!(!valid_request_id(b"tab\there"));
        assert!(!valid_request_id(b"caf\xc3\xa9"));
        assert!(!valid_request_id(b"nul\x00"));
    }

    #[test]
    fn one_valid_value_is_kept() {
        let bytes: [&[u8]; 1] = [b"id-1"];
        assert_eq!(incoming_request_id(bytes), Some(&b"id-1"[..]));
        assert_eq!(incoming_request_id(["ok", "ok"]), None);
        assert_eq!(incoming_request_id([""]), None);
        assert_eq!(incoming_request_id(["x".repeat(129)]), None);
    }

    proptest! {
        /// Whatever a client sends as request ids, a kept id is the single one sent, and it is
        /// safe to log and to echo in a header.
        #[test]
        fn kept_ids_are_single_and_visible_ascii(
            values in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..140), 0..3),
        ) {
            if let Some(kept) = incoming_request_id(values.iter().map(Vec::as_slice)) {
                prop_assert_eq!(values.len(), 1);
                prop_assert!(!kept.is_empty() && kept.len() <= MAX_REQUEST_ID);
                prop_assert!(kept.iter().all(u8::is_ascii_graphic));
            }
        }

        #[test]
        fn minted_ids_are_valid(id in any::<u64>()) {
            let minted = minted_request_id(Some(SpanId::from_u64(id)));
            prop_assert!(valid_request_id(&minted));
        }
    }
}
