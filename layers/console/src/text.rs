//! Text from user data as the terminal may see it: control characters escaped, so a field value
//! can neither break a line nor drive the terminal (an ANSI escape sequence in a value is
//! written `\u{1b}[31m`, the form `taskwire tail` uses), values quoted when they would read
//! ambiguously, durations with units.
//!
//! Everything writes into a `Vec<u8>` through [`fmt::Write`], so `Debug` and `Display` values
//! render straight into the line without an intermediate `String`.

use std::fmt::{self, Write as _};

/// False when `s` has no control character (U+0000–U+001F, U+007F–U+009F); true may be wrong.
#[inline]
fn may_have_control(b: &[u8]) -> bool {
    // U+0080–U+009F are encoded as 0xC2 0x80..=0x9F
    b.iter().any(|&b| b < 0x20 || b == 0x7f || b == 0xc2)
}

/// A [`fmt::Write`] into a line that escapes control characters (and, when `quoted`, `"` and
/// `\`): what it appends never holds a raw control byte.
pub(crate) struct Escaped<'a> {
    pub(crate) out: &'a mut Vec<u8>,
    pub(crate) quoted: bool,
}

impl fmt::Write for Escaped<'_> {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let b = s.as_bytes();
        let needs_quote_escape = self.quoted && b.iter().any(|&c| c == b'"' || c == b'\\');
        if !needs_quote_escape && !may_have_control(b) {
            self.out.extend_from_slice(b);
            return Ok(());
        }
        for c in s.chars() {
            match c {
                '"' | '\\' if self.quoted => {
                    self.out.push(b'\\');
                    self.out.push(c as u8);
                }
                c if c.is_control() => {
                    for e in c.escape_default() {
                        let mut buf = [0u8; 4];
                        self.out
                            .extend_from_slice(e.encode_utf8(&mut buf).as_bytes());
                    }
                }
                c => {
                    let mut buf = [0u8; 4];
                    self.out
                        .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
        Ok(())
    }
}

/// Appends `s` with control characters escaped.
#[inline]
pub(crate) fn put(out: &mut Vec<u8>, s: &str) {
    let _ = Escaped { out, quoted: false }.write_str(s);
}

/// Appends `args`, formatted, with control characters escaped.
#[inline]
pub(crate) fn put_fmt(out: &mut Vec<u8>, args: fmt::Arguments<'_>) {
    // Writing into a Vec cannot fail; a Debug or Display impl that returns Err leaves what it
    // wrote.
    let _ = Escaped { out, quoted: false }.write_fmt(args);
}

/// Whether `s` reads back unambiguously without quotes: not empty, no space, quote, `=`,
/// backslash or control character.
#[inline]
fn is_bare(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b > b' ' && b != b'"' && b != b'=' && b != b'\\' && b != 0x7f && b != 0xc2)
        && (s.is_ascii() || !s.chars().any(char::is_whitespace))
}

/// Appends a string value: bare when it reads back unambiguously, else in double quotes with
/// `"`, `\` and control characters escaped.
#[inline]
pub(crate) fn put_str_value(out: &mut Vec<u8>, s: &str) {
    if is_bare(s) {
        out.extend_from_slice(s.as_bytes());
    } else {
        out.push(b'"');
        let _ = Escaped { out, quoted: true }.write_str(s);
        out.push(b'"');
    }
}

/// Appends an integer.
#[inline]
pub(crate) fn put_int(out: &mut Vec<u8>, v: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}

/// Appends a float in `Display`'s form (shortest digits that read back, no exponent), with
/// zmij's shortest-digits search where its form is `Display`'s: `0.75`, `1` (`1.0` from zmij,
/// the `.0` dropped), `-0`. Exponent forms (`1e20`, `1e-7`), NaN and infinities go through
/// `Display`. The digits are `Display`'s except on an exact tie in the last of 17 digits, where
/// the two may round the other way (`-180163469579131.625` is written `…131.62`, `Display`
/// writes `…131.63`): both read back as the same float and have as many digits.
#[inline]
pub(crate) fn put_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        let mut buf = zmij::Buffer::new();
        let s = buf.format_finite(v).as_bytes();
        if !s.contains(&b'e') {
            out.extend_from_slice(s.strip_suffix(b".0").unwrap_or(s));
            return;
        }
    }
    put_fmt(out, format_args!("{v}"));
}

/// Appends a duration in microseconds with three significant digits and a unit: `850µs`,
/// `1.23ms`, `12.3ms`, `123ms`, `4.56s`, `75.0s`, then `2m05s` and `1h02m`.
pub(crate) fn put_duration(out: &mut Vec<u8>, us: u64) {
    // integer arithmetic, rounding half up
    let scaled = |unit: u64, out: &mut Vec<u8>, suffix: &str| {
        // three significant digits: 1.23, 12.3 or 123 units
        let hundredths = (us * 100 + unit / 2) / unit;
        let tenths = (us * 10 + unit / 2) / unit;
        let (int, frac, digits) = if hundredths < 1000 {
            (hundredths / 100, hundredths % 100, 2)
        } else if tenths < 1000 {
            (tenths / 10, tenths % 10, 1)
        } else {
            ((us + unit / 2) / unit, 0, 0)
        };
        put_int(out, int);
        if digits > 0 {
            out.push(b'.');
            if digits == 2 && frac < 10 {
                out.push(b'0');
            }
            put_int(out, frac);
        }
        out.extend_from_slice(suffix.as_bytes());
    };
    match us {
        0..=999 => {
            put_int(out, us);
            out.extend_from_slice("µs".as_bytes());
        }
        1_000..=999_499 => scaled(1_000, out, "ms"),
        999_500..=99_949_999 => scaled(1_000_000, out, "s"),
        _ => {
            let secs = us.saturating_add(500_000) / 1_000_000;
            let (big, small, units) = if secs < 3600 {
                (secs / 60, secs % 60, ["m", "s"])
            } else {
                let mins = (secs + 30) / 60;
                (mins / 60, mins % 60, ["h", "m"])
            };
            put_int(out, big);
            out.extend_from_slice(units[0].as_bytes());
            if small < 10 {
                out.push(b'0');
            }
            put_int(out, small);
            out.extend_from_slice(units[1].as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut v = Vec::new();
        f(&mut v);
        String::from_utf8(v).expect("utf-8")
    }

    #[test]
    fn control_characters_never_reach_the_terminal_raw() {
        assert_eq!(s(|o| put(o, "a\x1b[2Jb\n")), "a\\u{1b}[2Jb\\n");
        assert_eq!(s(|o| put(o, "\u{9b}31m")), "\\u{9b}31m");
        assert_eq!(s(|o| put_fmt(o, format_args!("{:?}", 'x'))), "'x'");
    }

    #[test]
    fn string_values_are_quoted_when_they_would_read_ambiguously() {
        assert_eq!(s(|o| put_str_value(o, "plain")), "plain");
        assert_eq!(s(|o| put_str_value(o, "two words")), "\"two words\"");
        assert_eq!(s(|o| put_str_value(o, "")), "\"\"");
        assert_eq!(s(|o| put_str_value(o, "a\"b\\c")), "\"a\\\"b\\\\c\"");
        assert_eq!(s(|o| put_str_value(o, "k=v")), "\"k=v\"");
        assert_eq!(s(|o| put_str_value(o, "é")), "é");
    }

    #[test]
    fn floats_read_as_display_writes_them() {
        for v in [
            0.75,
            1.0,
            -0.0,
            0.1,
            1e-7,
            1e15,
            1e16,
            1e20,
            123.456,
            f64::MAX,
            f64::MIN_POSITIVE,
            5e-324,
            f64::NAN,
            f64::INFINITY,
            -f64::INFINITY,
            0.30000000000000004,
        ] {
            assert_eq!(s(|o| put_f64(o, v)), format!("{v}"), "{v:e}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_float_reads_as_display_writes_it(bits in proptest::num::u64::ANY) {
            let v = f64::from_bits(bits);
            let (out, display) = (s(|o| put_f64(o, v)), format!("{v}"));
            if out != display {
                // only an exact tie in the last digit may round the other way
                proptest::prop_assert_eq!(out.len(), display.len(), "{} vs {}", out, display);
                proptest::prop_assert_eq!(out.parse::<f64>().ok(), Some(v));
                proptest::prop_assert!(differ_in_the_last_digit_by_one(&out, &display), "{} vs {}", out, display);
            }
        }
    }

    fn differ_in_the_last_digit_by_one(a: &str, b: &str) -> bool {
        let (a, b) = (a.as_bytes(), b.as_bytes());
        let n = a.len();
        n == b.len() && a[..n - 1] == b[..n - 1] && a[n - 1].abs_diff(b[n - 1]) == 1
    }

    #[test]
    fn a_tie_in_the_last_digit_reads_back_as_the_same_float() {
        // exactly -180163469579131.625: halfway between ...62 and ...63
        let v = f64::from_bits(14_043_485_269_540_368_244);
        let out = s(|o| put_f64(o, v));
        assert_eq!(out, "-180163469579131.62");
        assert_eq!(format!("{v}"), "-180163469579131.63");
        assert_eq!(out.parse::<f64>().ok(), Some(v));
    }

    #[test]
    fn durations_keep_three_significant_digits() {
        for (us, want) in [
            (0, "0µs"),
            (850, "850µs"),
            (1_234, "1.23ms"),
            (1_005, "1.01ms"),
            (12_345, "12.3ms"),
            (123_456, "123ms"),
            (999_499, "999ms"),
            (999_500, "1.00s"),
            (9_995, "10.0ms"),
            (4_560_000, "4.56s"),
            (75_000_000, "75.0s"),
            (125_000_000, "2m05s"),
            (3_720_000_000, "1h02m"),
        ] {
            assert_eq!(s(|o| put_duration(o, us)), want, "{us}");
        }
    }
}
