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

/// How much of the trace id a line shows ([`ConsoleLayer::with_trace_id_format`](crate::ConsoleLayer::with_trace_id_format)).
///
/// ```
/// use taskwire_console::TraceIdFormat;
/// assert_eq!(TraceIdFormat::default(), TraceIdFormat::Short);
/// assert_eq!((TraceIdFormat::Short.digits(), TraceIdFormat::Full.digits()), (8, 32));
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TraceIdFormat {
    /// The first 8 hex digits (`4bf92f35`): enough to tell the traces of a session apart, and
    /// what `taskwire tree --trace` and a `trace=` query take.
    #[default]
    Short,
    /// All 32 hex digits, for tools that take only whole ids.
    Full,
}

impl TraceIdFormat {
    /// How many hex digits are written.
    pub fn digits(self) -> usize {
        match self {
            TraceIdFormat::Short => 8,
            TraceIdFormat::Full => 32,
        }
    }
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
    pub(crate) trace_id_format: TraceIdFormat,
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
            trace_id_format: TraceIdFormat::Short,
            span_fields: true,
        }
    }
}
