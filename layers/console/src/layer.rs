//! [`ConsoleLayer`]: the layer, its settings and its writer.

use std::io::{self, IsTerminal};

use taskwire_core::line::{self, LineWriter};
use taskwire_core::span::{CapturingLayer, LayerCapture, Needs};
use taskwire_core::write_errors::WriteErrors;
use taskwire_core::Redactor;
use tracing_core::{Event, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::color::ColorWhen;
use crate::render::{render_event, with_scratch};
use crate::settings::{Settings, Style, TraceIdFormat};

/// Writes events as text for people: see the [crate docs](crate) for the line.
///
/// Built with [`layer()`](crate::layer) and configured with consuming `with_*` setters.
pub struct ConsoleLayer<W = fn() -> io::Stdout> {
    out: LineWriter<W>,
    capture: LayerCapture,
    settings: Settings,
    color: ColorWhen,
    terminal: bool,
}

impl Default for ConsoleLayer {
    /// Writes to stdout, in colour when stdout is a terminal (see [`ColorWhen`]).
    fn default() -> Self {
        let terminal = io::stdout().is_terminal();
        ConsoleLayer {
            out: LineWriter::new(io::stdout, "taskwire-console"),
            capture: LayerCapture::new(Needs::default().with_fields(true)),
            settings: Settings {
                ansi: ColorWhen::Auto.enabled(terminal),
                ..Settings::default()
            },
            color: ColorWhen::Auto,
            terminal,
        }
    }
}

impl<W> std::fmt::Debug for ConsoleLayer<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleLayer")
            .field("settings", &self.settings)
            .field("color", &self.color)
            .field("terminal", &self.terminal)
            .finish_non_exhaustive()
    }
}

impl<W> ConsoleLayer<W> {
    /// Sends lines to `make_writer` (stderr, a file, a tracing-appender writer, …), each
    /// with one `write_all` call. The layer then takes the writer for something other than a
    /// terminal: with [`ColorWhen::Auto`], tell it otherwise with
    /// [`ConsoleLayer::with_terminal`].
    ///
    /// ```
    /// use std::io::IsTerminal;
    /// let layer = taskwire_console::layer()
    ///     .with_writer(std::io::stderr)
    ///     .with_terminal(std::io::stderr().is_terminal());
    /// ```
    #[must_use]
    pub fn with_writer<W2>(self, make_writer: W2) -> ConsoleLayer<W2>
    where
        W2: for<'w> MakeWriter<'w> + 'static,
    {
        ConsoleLayer {
            out: self.out.with_writer(make_writer),
            capture: self.capture,
            settings: self.settings,
            color: self.color,
            terminal: false,
        }
        .recolor()
    }

    /// Whether the writer is a terminal, for [`ColorWhen::Auto`]. [`layer()`](crate::layer)
    /// asks stdout; [`ConsoleLayer::with_writer`] assumes not.
    #[must_use]
    pub fn with_terminal(mut self, is_terminal: bool) -> Self {
        self.terminal = is_terminal;
        self.recolor()
    }

    /// When to write colour (default [`ColorWhen::Auto`]: on a terminal, unless `NO_COLOR`
    /// says otherwise; `FORCE_COLOR` forces it). The environment is read when this is set.
    ///
    /// ```
    /// use taskwire_console::ColorWhen;
    /// let layer = taskwire_console::layer().with_color(ColorWhen::Never);
    /// ```
    #[must_use]
    pub fn with_color(mut self, when: ColorWhen) -> Self {
        self.color = when;
        self.recolor()
    }

    fn recolor(mut self) -> Self {
        self.settings.ansi = self.color.enabled(self.terminal);
        self.settings.renew();
        self
    }

    /// One line per event ([`Style::Compact`], the default) or multi-line fields
    /// ([`Style::Pretty`]).
    ///
    /// ```
    /// use taskwire_console::Style;
    /// let layer = taskwire_console::layer().with_style(Style::Pretty);
    /// ```
    #[must_use]
    pub fn with_style(mut self, style: Style) -> Self {
        self.settings.style = style;
        self.settings.renew();
        self
    }

    /// Indents each line by its task depth, two spaces a level, like tracing-tree (default:
    /// off). A task's `✓`/`✗` line sits at its parent's depth.
    #[must_use]
    pub fn with_indent(mut self, enabled: bool) -> Self {
        self.settings.indent = enabled;
        self
    }

    /// Whether the time (`HH:MM:SS.mmm`, UTC) starts the line (default: yes).
    #[must_use]
    pub fn with_time(mut self, enabled: bool) -> Self {
        self.settings.time = enabled;
        self
    }

    /// Whether the event's target is written (default: yes).
    #[must_use]
    pub fn with_target(mut self, enabled: bool) -> Self {
        self.settings.target = enabled;
        self.settings.renew();
        self
    }

    /// Whether the trace id is written (default: yes), in the
    /// [`with_trace_id_format`](Self::with_trace_id_format) chosen.
    #[must_use]
    pub fn with_trace_id(mut self, enabled: bool) -> Self {
        self.settings.trace_id = enabled;
        self
    }

    /// How much of the trace id is written (default: [`TraceIdFormat::Short`], its first 8
    /// hex digits, which `taskwire tree --trace` takes as they are).
    ///
    /// ```
    /// use taskwire_console::TraceIdFormat;
    /// let layer = taskwire_console::layer().with_trace_id_format(TraceIdFormat::Full);
    /// ```
    #[must_use]
    pub fn with_trace_id_format(mut self, format: TraceIdFormat) -> Self {
        self.settings.trace_id_format = format;
        self
    }

    /// Whether the fields of the enclosing spans (innermost first) follow the event's own
    /// (default: yes).
    #[must_use]
    pub fn with_span_fields(mut self, enabled: bool) -> Self {
        self.settings.span_fields = enabled;
        self
    }

    /// Writes `[redacted]` for the values of the keys `redactor` calls sensitive, instead of
    /// the default key list's: in the event's fields, and in span fields when this layer
    /// captures spans itself (with a capture layer below it, that layer's redactor applies to
    /// span fields, widened with this one; see [`taskwire_core::span`]).
    ///
    /// ```
    /// use taskwire_core::Redactor;
    /// let layer = taskwire_console::layer().with_redactor(Redactor::default().with_key("ssn"));
    /// ```
    #[must_use]
    pub fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.capture = self.capture.with_redactor(redactor);
        self.settings.renew();
        self
    }

    /// Whether this layer writes colour, as decided from its settings, the terminal and the
    /// environment.
    pub fn colored(&self) -> bool {
        self.settings.ansi
    }

    /// A handle on the count of lines that could not be written.
    pub fn write_errors(&self) -> WriteErrors {
        self.out.write_errors()
    }
}

impl<S, W> Layer<S> for ConsoleLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a> + 'static,
    W: for<'w> MakeWriter<'w> + 'static,
{
    taskwire_core::line_layer_callbacks!(S, capture, out);

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let scope = line::event_scope(&self.capture, event, &ctx);
        self.out.with_event(event, |e| {
            with_scratch(|s| {
                render_event(&self.settings, self.capture.redactor(), e, scope, s);
                self.out.write(e.meta, &s.line);
            });
        });
    }
}

impl<W: 'static> CapturingLayer for ConsoleLayer<W> {
    fn layer_capture(&self) -> &LayerCapture {
        &self.capture
    }
}
