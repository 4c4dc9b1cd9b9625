//! What a [`ConsoleLayer`](crate::ConsoleLayer) renders with: its [`Style`] and the settings
//! its `with_*` setters change.

/// How a [`ConsoleLayer`](crate::ConsoleLayer) lays out an event.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Style {
    /// One line per event: time, level, target, message, `key=value` fields, then the task
    /// path and trace id in brackets.
    #[default]
    Compact,
    /// The time, level, target and message on the first line, then one `key: value` line per
    /// field and an `in task › path · trace …` line.
    Pretty,
}

/// The settings a line is rendered with.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    pub(crate) style: Style,
    pub(crate) ansi: bool,
    pub(crate) indent: bool,
    pub(crate) time: bool,
    pub(crate) target: bool,
    pub(crate) trace_id: bool,
    pub(crate) span_fields: bool,
    /// Identifies these settings (and the layer's redactor) in the per-thread plan caches:
    /// renewed by every change ([`Settings::renew`]).
    pub(crate) id: u64,
}

impl Settings {
    /// A new id, after a change that plans depend on.
    pub(crate) fn renew(&mut self) {
        self.id = taskwire_core::ids::next_id().get();
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            id: taskwire_core::ids::next_id().get(),
            style: Style::Compact,
            ansi: false,
            indent: false,
            time: true,
            target: true,
            trace_id: true,
            span_fields: true,
        }
    }
}
