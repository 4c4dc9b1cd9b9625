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

use crate::value::{ErrorValue, FieldRef, FieldValue};

const NO: u8 = 0; // no escape
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
    let mut t = [NO; 256];
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

/// Eight copies of a byte.
const fn splat(b: u8) -> u64 {
    0x0101_0101_0101_0101 * b as u64
}

/// Whether one of the eight bytes of `w` needs attention: a control character, `"`, a backslash, or
/// 0xE2 (which may start U+2028 / U+2029). Each test is the classic "has a zero byte" /
/// "has a byte less than n" word trick; together they are exact about whether such a byte is
/// present.
#[inline]
fn word_needs_escape(w: u64) -> bool {
    const HIGH: u64 = splat(0x80);
    let has_zero = |x: u64| x.wrapping_sub(splat(1)) & !x;
    let control = w.wrapping_sub(splat(0x20)) & !w;
    (control | has_zero(w ^ splat(b'"')) | has_zero(w ^ splat(b'\\')) | has_zero(w ^ splat(0xe2)))
        & HIGH
        != 0
}

/// The index of the first byte of `bytes` that [`write_str_contents`] would not copy as is,
/// checked eight bytes at a time.
#[inline]
fn first_special(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(chunk) = bytes.get(i..i + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(chunk);
        if word_needs_escape(u64::from_le_bytes(w)) {
            return scan(bytes, i);
        }
        i += 8;
    }
    let rest = &bytes[i..];
    if rest.is_empty() {
        return None;
    }
    // The last few bytes, as one word padded with spaces (which need no escape).
    let mut w = [b' '; 8];
    for (d, &b) in w.iter_mut().zip(rest) {
        *d = b;
    }
    if word_needs_escape(u64::from_le_bytes(w)) {
        scan(bytes, i)
    } else {
        None
    }
}

/// The first byte from `from` on that needs attention, one byte at a time.
#[inline]
fn scan(bytes: &[u8], from: usize) -> Option<usize> {
    bytes[from..]
        .iter()
        .position(|&b| ESCAPE[usize::from(b)] != NO)
        .map(|p| from + p)
}

/// Appends the escaped contents of `s`, without quotes.
#[inline]
pub fn write_str_contents(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    // Runs of ordinary bytes are found a word at a time and copied in one go.
    while let Some(off) = first_special(&bytes[start..]) {
        let i = start + off;
        let b = bytes[i];
        let esc = ESCAPE[usize::from(b)];
        if esc == LS {
            // E2 80 A8 is U+2028, E2 80 A9 is U+2029; any other E2 sequence is ordinary text.
            if bytes.get(i + 1) == Some(&0x80) && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9)) {
                out.extend_from_slice(&bytes[start..i]);
                out.extend_from_slice(if bytes[i + 2] == 0xa8 {
                    b"\\u2028"
                } else {
                    b"\\u2029"
                });
                start = i + 3;
            } else {
                out.extend_from_slice(&bytes[start..=i]);
                start = i + 1;
            }
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        push_escape(out, b, esc);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// The `\u00XX` escape of control byte `b`.
#[inline]
fn unicode_escape(b: u8) -> [u8; 6] {
    [
        b'\\',
        b'u',
        b'0',
        b'0',
        HEX[usize::from(b >> 4)],
        HEX[usize::from(b & 0xf)],
    ]
}

/// Appends the escape of byte `b`, whose [`ESCAPE`] entry is `esc` (neither nothing nor LS).
#[inline]
fn push_escape(out: &mut Vec<u8>, b: u8, esc: u8) {
    if esc == UU {
        out.extend_from_slice(&unicode_escape(b));
    } else {
        out.extend_from_slice(&[b'\\', esc]);
    }
}

/// How many bytes the escape of the text at `bytes[i..]` takes, and how many input bytes it
/// consumes (U+2028 / U+2029 consume three).
#[inline]
fn escaped_len(bytes: &[u8], i: usize) -> (usize, usize) {
    let b = bytes[i];
    match ESCAPE[usize::from(b)] {
        NO => (1, 1),
        LS => {
            if bytes.get(i + 1) == Some(&0x80) && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9)) {
                (6, 3)
            } else {
                (1, 1)
            }
        }
        UU => (6, 1),
        _ => (2, 1),
    }
}

/// Escapes, in place, the text appended to `out` since `start` (valid UTF-8), exactly as
/// [`write_str_contents`] would have. The buffer grows by the escapes' extra bytes; nothing
/// else is allocated.
fn escape_in_place(out: &mut Vec<u8>, start: usize) {
    let Some(first) = first_special(&out[start..]) else {
        return;
    };
    let first = start + first;
    let old_len = out.len();
    let mut extra = 0;
    let mut i = first;
    while i < old_len {
        let (n, used) = escaped_len(out, i);
        extra += n - used;
        i += used;
    }
    if extra == 0 {
        return;
    }
    out.resize(old_len + extra, 0);
    // Back to front, so that nothing is overwritten before it is read. In UTF-8, E2 80 A8 and
    // E2 80 A9 can only be U+2028 and U+2029, so recognising them from their end is exact.
    let mut r = old_len; // read end (exclusive)
    let mut w = old_len + extra; // write end (exclusive)
    while r > first {
        let b = out[r - 1];
        let esc = ESCAPE[usize::from(b)];
        if matches!(b, 0xa8 | 0xa9) && r - first >= 3 && out[r - 3] == 0xe2 && out[r - 2] == 0x80 {
            let e: &[u8; 6] = if b == 0xa8 { b"\\u2028" } else { b"\\u2029" };
            out[w - 6..w].copy_from_slice(e);
            w -= 6;
            r -= 3;
        } else if esc == NO || esc == LS {
            out[w - 1] = b;
            w -= 1;
            r -= 1;
        } else if esc == UU {
            out[w - 6..w].copy_from_slice(&unicode_escape(b));
            w -= 6;
            r -= 1;
        } else {
            out[w - 2] = b'\\';
            out[w - 1] = esc;
            w -= 2;
            r -= 1;
        }
    }
    debug_assert_eq!(r, w);
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

/// A [`fmt::Write`] that appends as is; [`escape_in_place`] runs once afterwards, which is
/// cheaper than escaping each of the many small pieces a `Display` impl writes.
struct RawWriter<'a>(&'a mut Vec<u8>);

impl fmt::Write for RawWriter<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.extend_from_slice(s.as_bytes());
        Ok(())
    }
}

/// Appends the `Debug` rendering of `v` as a JSON string.
#[inline]
pub fn write_debug(out: &mut Vec<u8>, v: &dyn fmt::Debug) {
    write_formatted(out, format_args!("{v:?}"));
}

/// Appends the `Display` rendering of `v` as a JSON string.
#[inline]
pub fn write_display(out: &mut Vec<u8>, v: &dyn fmt::Display) {
    write_formatted(out, format_args!("{v}"));
}

/// Appends `args`, formatted, as a JSON string: written as is, then escaped in one pass.
#[inline]
fn write_formatted(out: &mut Vec<u8>, args: fmt::Arguments<'_>) {
    out.push(b'"');
    let start = out.len();
    // Writing into a Vec cannot fail; a Debug or Display impl that returns Err leaves what it
    // wrote.
    let _ = RawWriter(out).write_fmt(args);
    escape_in_place(out, start);
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
    let fits = i64::try_from(v).is_ok() || u64::try_from(v).is_ok();
    write_wide_integer(out, itoa::Buffer::new().format(v).as_bytes(), fits);
}

/// Appends a 128-bit unsigned integer: a number when it fits in 64 bits, else a decimal string.
#[inline]
pub fn write_u128(out: &mut Vec<u8>, v: u128) {
    let fits = u64::try_from(v).is_ok();
    write_wide_integer(out, itoa::Buffer::new().format(v).as_bytes(), fits);
}

/// Appends the decimal `digits` of a 128-bit integer: as a number when it `fits` in 64 bits
/// (what JSON readers parse exactly), else as a string.
#[inline]
fn write_wide_integer(out: &mut Vec<u8>, digits: &[u8], fits: bool) {
    if fits {
        out.extend_from_slice(digits);
    } else {
        out.push(b'"');
        out.extend_from_slice(digits);
        out.push(b'"');
    }
}

/// Appends a float; NaN and infinities become `null`.
#[inline]
pub fn write_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        // zmij writes the shortest representation that reads back as `v` (like ryu, whose
        // output this keeps), but marks positive exponents with `+`: `1e16`, not `1e+16`.
        let mut buf = zmij::Buffer::new();
        let s = buf.format_finite(v).as_bytes();
        match s.iter().position(|&c| c == b'+') {
            Some(p) => {
                out.extend_from_slice(&s[..p]);
                out.extend_from_slice(&s[p + 1..]);
            }
            None => out.extend_from_slice(s),
        }
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
    write_field(out, v.view());
}

/// Appends a borrowed [`FieldRef`] with its JSON type.
pub fn write_field(out: &mut Vec<u8>, v: FieldRef<'_>) {
    match v {
        FieldRef::I64(v) => write_i64(out, v),
        FieldRef::U64(v) => write_u64(out, v),
        FieldRef::I128(v) => write_i128(out, v),
        FieldRef::U128(v) => write_u128(out, v),
        FieldRef::F64(v) => write_f64(out, v),
        FieldRef::Bool(v) => write_bool(out, v),
        FieldRef::Str(s) => write_str(out, s),
        FieldRef::Error(e) => write_error_value(out, e),
        FieldRef::Redacted => write_str(out, crate::redact::REDACTED),
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

    /// The escaping rule one byte at a time, as first written: the word-at-a-time and in-place
    /// versions must agree with it on every input.
    fn reference_escape(s: &str) -> Vec<u8> {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            match ESCAPE[usize::from(b)] {
                NO => out.push(b),
                LS => {
                    if bytes.get(i + 1) == Some(&0x80)
                        && matches!(bytes.get(i + 2), Some(0xa8 | 0xa9))
                    {
                        out.extend_from_slice(if bytes[i + 2] == 0xa8 {
                            b"\\u2028"
                        } else {
                            b"\\u2029"
                        });
                        i += 3;
                        continue;
                    }
                    out.push(b);
                }
                UU => {
                    out.extend_from_slice(b"\\u00");
                    out.push(HEX[usize::from(b >> 4)]);
                    out.push(HEX[usize::from(b & 0xf)]);
                }
                esc => {
                    out.push(b'\\');
                    out.push(esc);
                }
            }
            i += 1;
        }
        out
    }

    /// A `Display` that writes its text in pieces of the given sizes (at char boundaries).
    struct Pieces<'a>(&'a str, usize);
    impl fmt::Display for Pieces<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let mut rest = self.0;
            while !rest.is_empty() {
                let mut n = self.1.clamp(1, rest.len());
                while !rest.is_char_boundary(n) {
                    n += 1;
                }
                f.write_str(&rest[..n])?;
                rest = &rest[n..];
            }
            Ok(())
        }
    }

    fn check_escaping(input: &str) {
        let want = reference_escape(input);
        let mut out = b"prefix".to_vec();
        write_str_contents(&mut out, input);
        assert_eq!(&out[6..], &want[..], "write_str_contents({input:?})");
        for piece in [1, 3, 8, 64] {
            let mut out = b"prefix".to_vec();
            write_display(&mut out, &Pieces(input, piece));
            let mut quoted = b"prefix\"".to_vec();
            quoted.extend_from_slice(&want);
            quoted.push(b'"');
            assert_eq!(out, quoted, "write_display({input:?}) in pieces of {piece}");
        }
        let mut out = Vec::new();
        write_debug(&mut out, &input);
        let mut esc = Vec::new();
        let _ = write!(EscapeWriter(&mut esc), "{input:?}");
        assert_eq!(&out[1..out.len() - 1], &esc[..], "write_debug({input:?})");
    }

    #[test]
    fn word_at_a_time_and_in_place_escaping_match_the_byte_rule() {
        for s in [
            "",
            "a",
            "plain ascii text that is longer than one word",
            "\u{2028}",
            "\u{2029}x",
            "x\u{2027}\u{2028}\u{2029}\u{20ac}\u{e2}",
            "\u{e000}\u{2028}",
            "12345678\"",
            "1234567\"8",
            "\u{1}\u{1f}\u{7f}\t\r\n\\\"",
            "éééééééé\u{2028}ééé",
            "\u{2028}\u{2028}\u{2028}",
            "abcdefgh\u{2028}",
            "abcdefg\u{2028}",
            "abcdef\u{2028}",
        ] {
            check_escaping(s);
        }
    }

    proptest::proptest! {
        #[test]
        fn escaping_matches_the_byte_rule_for_any_string(
            s in "(\\PC|[\\x00-\\x1f\"\\\\\u{2026}-\u{2030}\u{e2}])*"
        ) {
            check_escaping(&s);
        }
    }

    #[test]
    fn floats_are_written_as_before_shortest_round_trip_without_plus() {
        // What ryu wrote for these; zmij must write the same.
        for (v, want) in [
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (0.75, "0.75"),
            (0.1, "0.1"),
            (1e16, "1e16"),
            (1e15, "1000000000000000.0"),
            (123_456_789.0, "123456789.0"),
            (1e-7, "1e-7"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e308"),
            (f64::MIN_POSITIVE, "2.2250738585072014e-308"),
            (-1.098_314_662_720_401_1e-13, "-1.0983146627204011e-13"),
            (1e21, "1e21"),
            (2.5e-5, "0.000025"),
            (-4.991_110_572_515_550_4e135, "-4.9911105725155504e135"),
            (1_234_567.125, "1234567.125"),
        ] {
            assert_eq!(s(|o| write_f64(o, v)), want);
        }
    }

    proptest::proptest! {
        #[test]
        fn floats_read_back_exactly(bits in proptest::num::u64::ANY) {
            let v = f64::from_bits(bits);
            let out = s(|o| write_f64(o, v));
            if v.is_finite() {
                proptest::prop_assert!(!out.contains('+'));
                proptest::prop_assert_eq!(out.parse::<f64>().ok(), Some(v));
            } else {
                proptest::prop_assert_eq!(out, "null");
            }
        }
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
