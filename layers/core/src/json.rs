//! JSON rendering primitives shared by every taskwire layer that writes JSON.
//!
//! They append to a `Vec<u8>` and never allocate beyond growing it, so a layer that reuses its
//! buffer renders a record with no heap allocation at all.
//!
//! The rules (written down in docs/record-schema.md):
//!
//! - strings are escaped per RFC 8259; control characters become `\n`, `\t`, … or `\u00XX`, and
//!   U+2028 / U+2029 become `\u2028` / `\u2029` so a JSON line never contains a character that
//!   JavaScript or a line-oriented tool reads as a line break;
//! - integers are numbers; 128-bit integers are numbers when they fit in 64 bits and decimal
//!   strings otherwise;
//! - floats are numbers; NaN, +∞ and −∞ are `null`, so the line stays valid JSON and a numeric
//!   field never turns into a string;
//! - errors are `{"message": "...", "source": ["...", ...]}`;
//! - `Debug`- and `Display`-only values are strings.

use std::error::Error;
use std::fmt::{self, Write as _};

use crate::value::{ErrorValue, FieldValue};

const __: u8 = 0; // no escape
const UU: u8 = b'u'; // \u00XX
const BB: u8 = b'b';
const TT: u8 = b't';
const NN: u8 = b'n';
const FF: u8 = b'f';
const RR: u8 = b'r';
const QU: u8 = b'"';
const BS: u8 = b'\\';
const LS: u8 = 1; // possible start of U+2028 / U+2029

/// What each byte needs: nothing, or the letter of its escape.
static ESCAPE: [u8; 256] = {
    let mut t = [__; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = UU;
        i += 1;
    }
    t[0x08] = BB;
    t[0x09] = TT;
    t[0x0a] = NN;
    t[0x0c] = FF;
    t[0x0d] = RR;
    t[b'"' as usize] = QU;
    t[b'\\' as usize] = BS;
    t[0xe2] = LS;
    t
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `s` as a quoted, escaped JSON string.
///
/// ```
/// let mut out = Vec::new();
/// taskwire_core::json::write_str(&mut out, "a\"b\n\u{2028}");
/// assert_eq!(out, br#""a\"b\n\u2028""#);
/// ```
#[inline]
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    write_str_contents(out, s);
    out.push(b'"');
}

/// Appends the escaped contents of `s`, without quotes.
#[inline]
pub fn write_str_contents(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let esc = ESCAPE[usize::from(b)];
        if esc == __ {
            i += 1;
            continue;
        }
        if esc == LS {
            // E2 80 A8 is U+2028, E2 80 A9 is U+2029; any other E2 sequence is ordinary text.
            if bytes.get(i + 1) == Some(&0x80) && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9)) {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(if bytes[i + 2] == 0xa8 {
                    b"\\u2028"
                } else {
                    b"\\u2029"
                });
                i += 3;
                start = i;
            } else {
                i += 1;
            }
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        if esc == UU {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.push(b'\\');
            out.push(esc);
        }
        i += 1;
        start = i;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// A [`fmt::Write`] that escapes what is written into a JSON string's contents, so `Debug` and
/// `Display` output renders straight into the buffer without an intermediate `String`.
pub struct EscapeWriter<'a>(pub &'a mut Vec<u8>);

impl fmt::Write for EscapeWriter<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_str_contents(self.0, s);
        Ok(())
    }
}

/// Appends the `Debug` rendering of `v` as a JSON string.
#[inline]
pub fn write_debug(out: &mut Vec<u8>, v: &dyn fmt::Debug) {
    out.push(b'"');
    // Writing into a Vec cannot fail; a Debug impl that returns Err leaves what it wrote.
    let _ = write!(EscapeWriter(out), "{v:?}");
    out.push(b'"');
}

/// Appends the `Display` rendering of `v` as a JSON string.
#[inline]
pub fn write_display(out: &mut Vec<u8>, v: &dyn fmt::Display) {
    out.push(b'"');
    let _ = write!(EscapeWriter(out), "{v}");
    out.push(b'"');
}

/// Appends an integer.
#[inline]
pub fn write_i64(out: &mut Vec<u8>, v: i64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Appends an unsigned integer.
#[inline]
pub fn write_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Appends a 128-bit integer: a number when it fits in 64 bits, else a decimal string.
#[inline]
pub fn write_i128(out: &mut Vec<u8>, v: i128) {
    let mut buf = itoa::Buffer::new();
    let s = buf.format(v).as_bytes();
    if i64::try_from(v).is_ok() || u64::try_from(v).is_ok() {
        out.extend_from_slice(s);
    } else {
        out.push(b'"');
        out.extend_from_slice(s);
        out.push(b'"');
    }
}

/// Appends a 128-bit unsigned integer: a number when it fits in 64 bits, else a decimal string.
#[inline]
pub fn write_u128(out: &mut Vec<u8>, v: u128) {
    let mut buf = itoa::Buffer::new();
    let s = buf.format(v).as_bytes();
    if u64::try_from(v).is_ok() {
        out.extend_from_slice(s);
    } else {
        out.push(b'"');
        out.extend_from_slice(s);
        out.push(b'"');
    }
}

/// Appends a float; NaN and infinities become `null`.
#[inline]
pub fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(v).as_bytes());
    } else {
        out.extend_from_slice(b"null");
    }
}

/// Appends `true` or `false`.
#[inline]
pub fn write_bool(out: &mut Vec<u8>, v: bool) {
    out.extend_from_slice(if v { b"true" } else { b"false" });
}

/// Appends an error as `{"message":"…","source":["…",…]}`, walking its `source()` chain
/// without allocating.
pub fn write_error(out: &mut Vec<u8>, err: &(dyn Error + 'static)) {
    out.extend_from_slice(b"{\"message\":");
    write_display(out, err);
    out.extend_from_slice(b",\"source\":[");
    let mut cur = err.source();
    let mut first = true;
    // A chain longer than this is cyclic or hostile; stop rather than loop forever.
    let mut left = 64;
    while let Some(e) = cur {
        if left == 0 {
            break;
        }
        left -= 1;
        if !first {
            out.push(b',');
        }
        first = false;
        write_display(out, e);
        cur = e.source();
    }
    out.extend_from_slice(b"]}");
}

/// Appends a captured error value in the same shape as [`write_error`].
pub fn write_error_value(out: &mut Vec<u8>, err: &ErrorValue) {
    out.extend_from_slice(b"{\"message\":");
    write_str(out, &err.message);
    out.extend_from_slice(b",\"source\":[");
    for (i, s) in err.sources.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, s);
    }
    out.extend_from_slice(b"]}");
}

/// Appends a [`FieldValue`] with its JSON type.
pub fn write_value(out: &mut Vec<u8>, v: &FieldValue) {
    match v {
        FieldValue::I64(v) => write_i64(out, *v),
        FieldValue::U64(v) => write_u64(out, *v),
        FieldValue::I128(v) => write_i128(out, *v),
        FieldValue::U128(v) => write_u128(out, *v),
        FieldValue::F64(v) => write_f64(out, *v),
        FieldValue::Bool(v) => write_bool(out, *v),
        FieldValue::Str(s) => write_str(out, s),
        FieldValue::Error(e) => write_error_value(out, e),
        FieldValue::Redacted => write_str(out, crate::redact::REDACTED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).unwrap()
    }

    #[test]
    fn strings_escape_controls_and_line_separators() {
        let input = "q\"b\\\u{1}\u{1f}\t\r\n\u{8}\u{c}\u{2028}\u{2029}\u{2027}é";
        let out = s(|o| write_str(o, input));
        assert_eq!(
            out,
            r#""q\"b\\\u0001\u001f\t\r\n\b\f\u2028\u2029"#.to_owned() + "\u{2027}é\""
        );
        let back: String = serde_json::from_str(&out).unwrap();
        assert_eq!(back, input);
    }

    #[test]
    fn numbers_follow_the_documented_rules() {
        assert_eq!(s(|o| write_f64(o, f64::NAN)), "null");
        assert_eq!(s(|o| write_f64(o, f64::INFINITY)), "null");
        assert_eq!(s(|o| write_f64(o, f64::NEG_INFINITY)), "null");
        assert_eq!(s(|o| write_f64(o, 1.5)), "1.5");
        assert_eq!(s(|o| write_i128(o, -5)), "-5");
        assert_eq!(
            s(|o| write_i128(o, i128::from(u64::MAX))),
            "18446744073709551615"
        );
        assert_eq!(
            s(|o| write_u128(o, u128::MAX)),
            format!("\"{}\"", u128::MAX)
        );
        assert_eq!(
            s(|o| write_i128(o, i128::MIN)),
            format!("\"{}\"", i128::MIN)
        );
    }

    #[derive(Debug)]
    struct Outer(Inner);
    #[derive(Debug)]
    struct Inner;
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("outer \"failed\"")
        }
    }
    impl fmt::Display for Inner {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("inner")
        }
    }
    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }
    impl Error for Inner {}

    #[test]
    fn errors_carry_their_chain() {
        let e = Outer(Inner);
        let out = s(|o| write_error(o, &e));
        assert_eq!(out, r#"{"message":"outer \"failed\"","source":["inner"]}"#);
        let captured = ErrorValue::from_error(&e);
        assert_eq!(s(|o| write_error_value(o, &captured)), out);
    }
}
