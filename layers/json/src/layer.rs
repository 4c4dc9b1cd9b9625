//! [`JsonLayer`]: the layer, its settings, and its write-error counter.

use std::io;

use taskwire_core::line::{self, LineWriter};
use taskwire_core::span::{self, CapturingLayer, LayerCapture, Needs};
/// Counts records a [`JsonLayer`] failed to write (the first failure is also reported once on
/// stderr).
pub use taskwire_core::write_errors::WriteErrors;
use taskwire_core::{FieldValue, Redactor, SpanData};
use tracing_core::span::{Id, Record};
use tracing_core::{Event, Level, Subscriber};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::format::Format;
use crate::keys::Key;
use crate::render::{render_event, with_scratch};

/// Writes one JSON object per line per event. See the [crate docs](crate) for the record.
///
/// Built with [`layer()`](crate::layer) and configured with consuming `with_*` setters.
pub struct JsonLayer<W = fn() -> io::Stdout> {
    out: LineWriter<W>,
    capture: LayerCapture,
    format: Format,
    unsampled_level: Level,
}

impl Default for JsonLayer {
    fn default() -> Self {
        JsonLayer {
            out: LineWriter::new(io::stdout, "taskwire-json"),
            capture: LayerCapture::new(Needs::default().with_fields(true)),
            format: Format::default(),
            unsampled_level: Level::WARN,
        }
    }
}

impl<W> std::fmt::Debug for JsonLayer<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonLayer")
            .field("format", &self.format)
            .field("capture", &self.capture)
            .finish_non_exhaustive()
    }
}

impl<W> JsonLayer<W> {
    /// Sends records to `make_writer`: anything implementing
    /// [`MakeWriter`](tracing_subscriber::fmt::MakeWriter), such as `std::io::stdout`,
    /// `std::io::stderr`, an `Arc<File>`, a `Mutex<W>`, or tracing-appender's rolling and
    /// non-blocking writers. Each record is written with a single `write_all` call.
    ///
    /// ```
    /// let layer = taskwire_json::layer().with_writer(std::io::stderr);
    /// ```
    #[must_use]
    pub fn with_writer<W2>(self, make_writer: W2) -> JsonLayer<W2>
    where
        W2: for<'w> MakeWriter<'w> + 'static,
    {
        JsonLayer {
            out: self.out.with_writer(make_writer),
            capture: self.capture,
            format: self.format,
            unsampled_level: self.unsampled_level,
        }
    }

    /// Adds `"service": name` to every record.
    #[must_use]
    pub fn with_service(mut self, name: impl Into<String>) -> Self {
        self.format.service = Some(name.into());
        self.format.prepare();
        self
    }

    /// Adds `"release": release` to every record.
    #[must_use]
    pub fn with_release(mut self, release: impl Into<String>) -> Self {
        self.format.release = Some(release.into());
        self.format.prepare();
        self
    }

    /// Adds a field with a fixed value to every record. Event and span fields of the same name
    /// win over it; a later static field of the same name replaces an earlier one.
    ///
    /// ```
    /// let layer = taskwire_json::layer().with_static_field("region", "eu-west-1");
    /// ```
    #[must_use]
    pub fn with_static_field(
        mut self,
        name: impl Into<String>,
        value: impl Into<FieldValue>,
    ) -> Self {
        self.format.statics.push((name.into(), value.into()));
        self.format.prepare();
        self
    }

    /// Writes a built-in key under another name (turning it on if it was off). A built-in key
    /// that already had that name is omitted, so keys never repeat.
    ///
    /// ```
    /// use taskwire_json::Key;
    /// let layer = taskwire_json::layer()
    ///     .with_key_name(Key::Message, "message")
    ///     .with_key_name(Key::Timestamp, "@timestamp");
    /// ```
    #[must_use]
    pub fn with_key_name(mut self, key: Key, name: impl AsRef<str>) -> Self {
        self.format.keys.rename(key, name.as_ref());
        self.format.prepare();
        self
    }

    /// Writes a built-in key that the default record leaves out (or that was omitted), under
    /// its default name; a key already written keeps its name. A built-in key that already
    /// had that name is omitted, so keys never repeat.
    ///
    /// ```
    /// use taskwire_json::Key;
    /// let layer = taskwire_json::layer().with_key(Key::Thread);
    /// ```
    #[must_use]
    pub fn with_key(mut self, key: Key) -> Self {
        self.format.keys.turn_on(key);
        self.format.prepare();
        self
    }

    /// Writes (`true`) or leaves out (`false`, the default) the call site's `file`, `line`
    /// and `module` ([`Key::SOURCE_LOCATION`]). A task record's location is its span's.
    ///
    /// ```
    /// let layer = taskwire_json::layer().with_source_location(true);
    /// ```
    #[must_use]
    pub fn with_source_location(self, enabled: bool) -> Self {
        self.with_keys(Key::SOURCE_LOCATION, enabled)
    }

    /// Writes (`true`) or leaves out (`false`, the default) the `thread`, `pid` and `host`
    /// keys ([`Key::PROCESS`]).
    ///
    /// ```
    /// let layer = taskwire_json::layer().with_process(true);
    /// ```
    #[must_use]
    pub fn with_process(self, enabled: bool) -> Self {
        self.with_keys(Key::PROCESS, enabled)
    }

    fn with_keys(mut self, keys: [Key; 3], enabled: bool) -> Self {
        for key in keys {
            if enabled {
                self.format.keys.turn_on(key);
            } else {
                self.format.keys.omit(key);
            }
        }
        self.format.prepare();
        self
    }

    /// Leaves a built-in key out of every record.
    ///
    /// ```
    /// use taskwire_json::Key;
    /// let layer = taskwire_json::layer().without_key(Key::ParentSpanId);
    /// ```
    #[must_use]
    pub fn without_key(mut self, key: Key) -> Self {
        self.format.keys.omit(key);
        self.format.prepare();
        self
    }

    /// Writes the enclosing spans as a `spans` list (outermost first, each
    /// `{"name": …, fields…}`) instead of flattening their fields into the record.
    #[must_use]
    pub fn with_span_list(mut self, enabled: bool) -> Self {
        self.format.span_list = enabled;
        self.format.prepare();
        self
    }

    /// Redacts event fields with `redactor` instead of the default key list, and span fields
    /// when this layer captures them itself (no capture layer below it; see
    /// [`taskwire_core::span`]).
    ///
    /// ```
    /// use taskwire_core::Redactor;
    /// let layer = taskwire_json::layer().with_redactor(Redactor::default().with_key("ssn"));
    /// ```
    #[must_use]
    pub fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.format.redactor = redactor.clone();
        self.format.prepare();
        self.capture = self.capture.with_redactor(redactor);
        self.format.touch();
        self
    }

    /// In traces that were not sampled (see taskwire-tasks' sampling), write only events at
    /// `level` or above. Default: `WARN`, so warnings and errors of every trace are written.
    ///
    /// ```
    /// let layer = taskwire_json::layer().with_unsampled_level(tracing::Level::ERROR);
    /// ```
    #[must_use]
    pub fn with_unsampled_level(mut self, level: Level) -> Self {
        self.unsampled_level = level;
        self
    }

    /// A handle on the count of records that could not be written.
    pub fn write_errors(&self) -> WriteErrors {
        self.out.write_errors()
    }
}

impl<S, W> Layer<S> for JsonLayer<W>
where
    S: Subscriber + for<'a> LookupSpan<'a> + 'static,
    W: for<'w> MakeWriter<'w> + 'static,
{
    taskwire_core::layer_capture_callbacks!(S, capture: on_layer, on_new_span, on_enter, on_exit);

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.capture.on_record(id, values, &ctx);
        // After the capture below or here applied the values: flattenings of the span's trace
        // kept per thread from before are stale. A span without data has none.
        let trace = ctx
            .span(id)
            .and_then(|s| s.extensions().get::<SpanData>().map(SpanData::trace_id));
        if let Some(trace) = trace {
            crate::flat::fields_changed(trace);
        }
    }

    fn event_enabled(&self, event: &Event<'_>, _ctx: Context<'_, S>) -> bool {
        self.out.mark(event);
        true
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        // Unsampled traces keep only their important events. The flag keeps the common case
        // (everything sampled) free of the lookup.
        if *event.metadata().level() > self.unsampled_level && span::any_unsampled() {
            let unsampled = ctx.event_scope(event).is_some_and(|mut scope| {
                scope
                    .find_map(|span| span.extensions().get::<SpanData>().map(|d| !d.sampled()))
                    .unwrap_or(false)
            });
            if unsampled {
                return;
            }
        }
        // The event's span alone: the flattening of its fields is kept per span, so its
        // ancestors are rarely needed.
        let span = line::event_span(&self.capture, event, &ctx);
        // counted by a tickets layer below this one (see `taskwire_core::event_ticket`)
        let ticket = taskwire_core::event_ticket::get(event);
        self.out.with_event(event, |e| {
            with_scratch(|s| {
                render_event(&self.format, self.capture.redactor(), e, ticket, span, s);
                self.out.write(e.meta, &s.line);
            });
        });
    }
}

impl<W: 'static> CapturingLayer for JsonLayer<W> {
    fn layer_capture(&self) -> &LayerCapture {
        &self.capture
    }
}
