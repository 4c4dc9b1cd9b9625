//! When the console writes colour ([`ColorWhen`]), and the ANSI codes it writes ([`Paint`]).

use std::ffi::OsStr;

/// When a [`ConsoleLayer`](crate::ConsoleLayer) writes ANSI colour.
///
/// With [`ColorWhen::Auto`] (the default), the rules, first match wins:
///
/// 1. `FORCE_COLOR` set and not empty: colour, unless it is `0` or `false`;
/// 2. `NO_COLOR` set and not empty: no colour (<https://no-color.org>);
/// 3. otherwise colour exactly when the writer is a terminal.
///
/// [`ColorWhen::Always`] and [`ColorWhen::Never`] ignore the environment and the terminal.
///
/// ```
/// use std::ffi::OsStr;
/// use taskwire_console::ColorWhen;
///
/// let auto = ColorWhen::Auto;
/// assert!(auto.decide(true, None, None));
/// assert!(!auto.decide(false, None, None));
/// assert!(!auto.decide(true, Some(OsStr::new("1")), None));
/// assert!(auto.decide(false, Some(OsStr::new("1")), Some(OsStr::new("1"))));
/// assert!(!ColorWhen::Never.decide(true, None, Some(OsStr::new("1"))));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ColorWhen {
    /// Colour on a terminal, as `NO_COLOR` and `FORCE_COLOR` allow.
    #[default]
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

impl ColorWhen {
    /// Whether to colour a writer that is (or is not) a terminal, reading `NO_COLOR` and
    /// `FORCE_COLOR` from the environment now.
    ///
    /// ```
    /// use std::io::IsTerminal;
    /// let color = taskwire_console::ColorWhen::Auto.enabled(std::io::stderr().is_terminal());
    /// # let _ = color;
    /// ```
    pub fn enabled(self, is_terminal: bool) -> bool {
        self.decide(
            is_terminal,
            std::env::var_os("NO_COLOR").as_deref(),
            std::env::var_os("FORCE_COLOR").as_deref(),
        )
    }

    /// The rule itself, given whether the writer is a terminal and the values of `NO_COLOR`
    /// and `FORCE_COLOR` (`None` when unset).
    pub fn decide(
        self,
        is_terminal: bool,
        no_color: Option<&OsStr>,
        force_color: Option<&OsStr>,
    ) -> bool {
        match self {
            ColorWhen::Always => true,
            ColorWhen::Never => false,
            ColorWhen::Auto => {
                if let Some(force) = force_color.filter(|v| !v.is_empty()) {
                    return force != "0" && force != "false";
                }
                if no_color.is_some_and(|v| !v.is_empty()) {
                    return false;
                }
                is_terminal
            }
        }
    }
}

/// ANSI SGR codes, or nothing when colour is off.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Paint(pub(crate) bool);

impl Paint {
    #[inline]
    pub(crate) fn on(self, code: &'static [u8]) -> &'static [u8] {
        if self.0 {
            code
        } else {
            b""
        }
    }

    #[inline]
    pub(crate) fn reset(self) -> &'static [u8] {
        self.on(RESET)
    }
}

pub(crate) const RESET: &[u8] = b"\x1b[0m";
pub(crate) const DIM: &[u8] = b"\x1b[2m";
pub(crate) const BOLD: &[u8] = b"\x1b[1m";
pub(crate) const RED: &[u8] = b"\x1b[31m";
pub(crate) const GREEN: &[u8] = b"\x1b[32m";
pub(crate) const YELLOW: &[u8] = b"\x1b[33m";
pub(crate) const BLUE: &[u8] = b"\x1b[34m";
pub(crate) const MAGENTA: &[u8] = b"\x1b[35m";
pub(crate) const CYAN: &[u8] = b"\x1b[36m";
pub(crate) const BOLD_RED: &[u8] = b"\x1b[1;31m";

#[cfg(test)]
mod tests {
    use super::ColorWhen;
    use std::ffi::OsStr;

    fn os(s: &str) -> Option<&OsStr> {
        Some(OsStr::new(s))
    }

    #[test]
    fn auto_colours_a_terminal_only() {
        assert!(ColorWhen::Auto.decide(true, None, None));
        assert!(!ColorWhen::Auto.decide(false, None, None));
    }

    #[test]
    fn no_color_turns_colour_off_unless_empty() {
        assert!(!ColorWhen::Auto.decide(true, os("1"), None));
        assert!(!ColorWhen::Auto.decide(true, os("anything"), None));
        assert!(ColorWhen::Auto.decide(true, os(""), None));
    }

    #[test]
    fn force_color_wins_over_no_color_and_the_terminal() {
        assert!(ColorWhen::Auto.decide(false, None, os("1")));
        assert!(ColorWhen::Auto.decide(false, os("1"), os("3")));
        assert!(!ColorWhen::Auto.decide(true, None, os("0")));
        assert!(!ColorWhen::Auto.decide(true, None, os("false")));
        assert!(!ColorWhen::Auto.decide(false, None, os("")));
    }

    #[test]
    fn an_explicit_choice_ignores_environment_and_terminal() {
        for (tty, no, force) in [(true, None, None), (false, os("1"), os("1"))] {
            assert!(ColorWhen::Always.decide(tty, no, force));
            assert!(!ColorWhen::Never.decide(tty, no, force));
        }
    }
}
