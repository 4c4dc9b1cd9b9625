//! Text as a terminal shows it.
//!
//! What the explorer prints of a log record is data from outside (a log line, a database), so
//! [`Clean`] writes control characters escaped: a record can neither break the layout nor drive
//! the terminal (an ANSI escape in a field value is shown as `\u{1b}[31m`, never sent raw).
//! [`Human`] writes a duration with three significant digits.
//!
//! ```
//! use taskwire_explore::text::{Clean, Human};
//! assert_eq!(Clean("a\x1b[2Jb").to_string(), "a\\u{1b}[2Jb");
//! assert_eq!(Human(12_345).to_string(), "12.3ms");
//! ```

use std::borrow::Cow;
use std::fmt::{self, Write as _};

/// Text as it may be shown on a terminal: control characters (newlines, escape sequences from
/// a log line) are written escaped, so a record can neither break the tree nor drive the
/// terminal.
pub struct Clean<'a>(pub &'a str);

impl fmt::Display for Clean<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !may_have_control(self.0) {
            return f.write_str(self.0);
        }
        for c in self.0.chars() {
            if c.is_control() {
                write!(f, "{}", c.escape_default())?;
            } else {
                f.write_fmt(format_args!("{c}"))?;
            }
        }
        Ok(())
    }
}

/// False when `s` has no control character (U+0000–U+001F, U+007F–U+009F); true may be wrong.
pub fn may_have_control(s: &str) -> bool {
    // U+0080–U+009F are encoded as 0xC2 0x80..=0x9F
    s.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2)
}

/// Columns `s` takes once [`Clean`]: one per char, six per escaped control character.
pub fn width(s: &str) -> usize {
    if s.is_ascii() && !may_have_control(s) {
        return s.len();
    }
    s.chars().map(|c| if c.is_control() { 6 } else { 1 }).sum()
}

/// `s` as [`Clean`] writes it, borrowed when there is nothing to escape.
pub fn clean(s: &str) -> Cow<'_, str> {
    if may_have_control(s) {
        Cow::Owned(Clean(s).to_string())
    } else {
        Cow::Borrowed(s)
    }
}

/// A duration in microseconds, shown with three significant digits and a unit:
/// `850µs`, `1.23ms`, `12.3ms`, `123ms`, `4.56s`, `2m05s`, `1h02m`.
#[derive(Clone, Copy, Debug)]
pub struct Human(pub u64);

impl fmt::Display for Human {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        let mut b = StackStr::default();
        // integer arithmetic, rounding half up: float formatting is slow and rounds half-even
        match us {
            0..=999 => write!(b, "{us}µs")?,
            1_000..=999_499 => three_digits(&mut b, us, 1_000, "ms")?,
            999_500..=59_949_999 => three_digits(&mut b, us, 1_000_000, "s")?,
            _ => {
                let secs = us.saturating_add(500_000) / 1_000_000;
                if secs < 3600 {
                    write!(b, "{}m{:02}s", secs / 60, secs % 60)?;
                } else {
                    let mins = (secs + 30) / 60;
                    write!(b, "{}h{:02}m", mins / 60, mins % 60)?;
                }
            }
        }
        f.pad(b.as_str())
    }
}

/// `us` in `unit`s (`unit_us` µs each, 1 000 or 1 000 000), with three significant digits.
fn three_digits(b: &mut StackStr, us: u64, unit_us: u64, unit: &str) -> fmt::Result {
    let milli = unit_us / 1_000; // µs per thousandth of a unit
    if us < 9_995 * milli {
        let h = (us + 5 * milli) / (10 * milli);
        write!(b, "{}.{:02}{unit}", h / 100, h % 100)
    } else if us < 99_950 * milli {
        let t = (us + 50 * milli) / (100 * milli);
        write!(b, "{}.{}{unit}", t / 10, t % 10)
    } else {
        write!(b, "{}{unit}", (us + 500 * milli) / unit_us)
    }
}

/// A short string built without allocating (a duration is at most 26 bytes: `u64::MAX` hours).
#[derive(Default)]
struct StackStr {
    buf: [u8; 32],
    len: usize,
}

impl StackStr {
    fn as_str(&self) -> &str {
        std::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }
}

impl fmt::Write for StackStr {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        self.buf
            .get_mut(self.len..end)
            .ok_or(fmt::Error)?
            .copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_for_the_terminal() {
        assert_eq!(Clean("a\nb\x1b[31m").to_string(), "a\\nb\\u{1b}[31m");
        assert_eq!(Clean("plain ünïcode").to_string(), "plain ünïcode");
        assert_eq!(Clean("\u{85}é").to_string(), "\\u{85}é");
        assert_eq!(width("ab\u{85}é"), 2 + 6 + 1);
        assert!(matches!(clean("plain"), Cow::Borrowed("plain")));
        assert_eq!(clean("a\x07b"), "a\\u{7}b");
    }

    #[test]
    fn durations_keep_three_significant_digits() {
        let cases = [
            (0, "0µs"),
            (7, "7µs"),
            (999, "999µs"),
            (1_000, "1.00ms"),
            (1_234, "1.23ms"),
            (9_994, "9.99ms"),
            (9_995, "10.0ms"),
            (9_996, "10.0ms"),
            (1_005, "1.01ms"),
            (12_345, "12.3ms"),
            (99_950, "100ms"),
            (123_456, "123ms"),
            (999_499, "999ms"),
            (999_500, "1.00s"),
            (1_500_000, "1.50s"),
            (12_340_000, "12.3s"),
            (59_949_999, "59.9s"),
            (59_950_000, "1m00s"),
            (125_000_000, "2m05s"),
            (3_599_000_000, "59m59s"),
            (3_600_000_000, "1h00m"),
            (3_720_000_000, "1h02m"),
            (86_400_000_000, "24h00m"),
        ];
        for (us, want) in cases {
            assert_eq!(Human(us).to_string(), want, "{us}µs");
        }
        // never panics, even at the extreme
        assert!(Human(u64::MAX).to_string().ends_with('m'));
    }

    #[test]
    fn durations_pad_like_strings() {
        assert_eq!(format!("{:>6}", Human(850)), " 850µs");
    }
}
