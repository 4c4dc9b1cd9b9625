//! Text as a terminal shows it: what the CLI prints of a log record or a stored ticket is data
//! from outside (a log line, a database), so control characters are written escaped and can
//! neither break the layout nor drive the terminal.

use std::borrow::Cow;
use std::fmt;

/// Text as it may be shown on a terminal: control characters (newlines, escape sequences from
/// a log line) are written escaped, so a record can neither break the tree nor drive the
/// terminal.
pub(crate) struct Clean<'a>(pub(crate) &'a str);

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
pub(crate) fn may_have_control(s: &str) -> bool {
    // U+0080–U+009F are encoded as 0xC2 0x80..=0x9F
    s.bytes().any(|b| b < 0x20 || b == 0x7f || b == 0xc2)
}

/// Columns `s` takes once [`Clean`]: one per char, six per escaped control character.
pub(crate) fn width(s: &str) -> usize {
    if s.is_ascii() && !may_have_control(s) {
        return s.len();
    }
    s.chars().map(|c| if c.is_control() { 6 } else { 1 }).sum()
}

/// `s` as [`Clean`] writes it, borrowed when there is nothing to escape.
pub(crate) fn clean(s: &str) -> Cow<'_, str> {
    if may_have_control(s) {
        Cow::Owned(Clean(s).to_string())
    } else {
        Cow::Borrowed(s)
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
}
