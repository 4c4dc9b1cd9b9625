//! [`OtelLayer`]: copies each finished task (and, optionally, each record) out of the span
//! and queues it for the export thread.

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use taskwire_core::event_time::EventClock;
use taskwire_core::span::{CapturingLayer, LayerCapture, Needs, Timing};
use taskwire_core::value::Typed;
use taskwire_core::{Redactor, SpanData};
use tracing_core::span::Id;
use tracing_core::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::record::{
    bounded, truncate, FieldVisitor, Fields, FinishedSpan, Limits, LogItem, SpanEvent,
};
use crate::worker::{ExportStats, Shared};

/// Exports taskwire's tasks as OpenTelemetry spans. Built with
/// [`layer()`](crate::layer)`.build()`, which also returns the [`OtelGuard`](crate::OtelGuard)
/// that flushes the export.
///
/// On the application's thread the layer only copies what it needs out of the span (ids,
/// name, times, outcome, fields: already redacted by taskwire's capture) into a bounded queue;
/// the OpenTelemetry data is built and sent by a background thread. A full queue drops and
/// counts; the caller never waits on the network.
///
/// Install it beside [`taskwire_tasks::layer()`](https://docs.rs/taskwire-tasks), which keeps
/// the outcomes (error counts, failure reasons) the spans' statuses come from.
pub struct OtelLayer {
    capture: LayerCapture,
    shared: Arc<Shared>,
    limits: Limits,
    events: bool,
    logs: bool,
    /// The event's time, shared with the other taskwire layers (one event, one time).
    clock: EventClock,
}

impl fmt::Debug for OtelLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtelLayer")
            .field("limits", &self.limits)
            .field("events", &self.events)
            .field("logs", &self.logs)
            .field("stats", &self.shared.stats())
            .finish_non_exhaustive()
    }
}

impl OtelLayer {
    pub(crate) fn new(
        redactor: Redactor,
        shared: Arc<Shared>,
        limits: Limits,
        events: bool,
        logs: bool,
    ) -> Self {
        OtelLayer {
            capture: LayerCapture::new(
                Needs::default()
                    .with_timing(Timing::Sampled)
                    .with_fields(true),
            )
            .with_redactor(redactor),
            shared,
            limits,
            events,
            logs,
            clock: EventClock::default(),
        }
    }

    /// What was exported and dropped so far (the same counts as the guard's).
    pub fn stats(&self) -> ExportStats {
        self.shared.stats()
    }
}

impl CapturingLayer for OtelLayer {
    fn layer_capture(&self) -> &LayerCapture {
        &self.capture
    }
}

/// Events recorded inside a span, kept in its extensions until it closes.
#[derive(Default)]
struct SpanEvents {
    events: Vec<SpanEvent>,
    dropped: u32,
}

impl<S> Layer<S> for OtelLayer
where
    S: Subscriber + for<'a> LookupSpan<'a> + 'static,
{
    taskwire_core::layer_capture_callbacks!(S, capture);

    fn event_enabled(&self, event: &Event<'_>, _ctx: Context<'_, S>) -> bool {
        if self.logs || self.events {
            self.clock.mark(event);
        }
        true
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        // Exporting spans only (the default): events matter to no signal.
        if !self.logs && !self.events {
            return;
        }
        let meta = event.metadata();
        // Task records describe the span itself: never repeated as span events.
        let is_task_record = taskwire_core::task_record::is_record(meta);
        // Without logs, only events that become span events matter (not the tasks layer's
        // own records, one per task: checked before any lookup).
        if !self.logs && (!self.events || is_task_record) {
            return;
        }
        if taskwire_core::suppress::is_suppressed() || on_exporter_thread() {
            return;
        }
        let at = self.clock.time(event);
        let span = ctx.event_span(event);
        let mut fields = Fields::default();
        let mut visited = false;
        let visit = |fields: &mut Fields| {
            event.record(&mut Typed(FieldVisitor {
                fields,
                redactor: self.capture.redactor(),
                limits: &self.limits,
            }));
        };
        if self.logs {
            visit(&mut fields);
            visited = true;
            let mut ids = None;
            let mut span_fields = Vec::new();
            let mut site = meta;
            if let Some(span) = &span {
                if is_task_record {
                    site = span.metadata();
                }
                for s in span.scope() {
                    let ext = s.extensions();
                    let Some(d) = ext.get::<SpanData>() else {
                        continue;
                    };
                    if ids.is_none() {
                        ids = Some((d.trace_id(), d.span_id(), d.flags()));
                    }
                    for (k, v) in d.fields().iter() {
                        if span_fields.len() >= self.limits.max_attributes {
                            break;
                        }
                        if !span_fields.iter().any(|(o, _)| *o == k) {
                            span_fields.push((k, bounded(v, self.limits.max_value_len)));
                        }
                    }
                }
            }
            let item = LogItem {
                metadata: meta,
                at,
                site,
                ids,
                fields: if self.events && !is_task_record {
                    // The span event gets the fields; the log record a copy.
                    Fields {
                        message: fields.message.clone(),
                        values: fields.values.iter().map(|(k, v)| (*k, v.clone())).collect(),
                        dropped: fields.dropped,
                    }
                } else {
                    std::mem::take(&mut fields)
                },
                span_fields,
            };
            self.shared.push_log(item);
        }
        if !self.events || is_task_record {
            return;
        }
        let Some(span) = span else { return };
        let mut ext = span.extensions_mut();
        if !ext.get_mut::<SpanData>().is_some_and(|d| d.sampled()) {
            return;
        }
        if !visited {
            visit(&mut fields);
        }
        let e = SpanEvent {
            metadata: meta,
            at,
            fields,
        };
        match ext.get_mut::<SpanEvents>() {
            Some(list) if list.events.len() >= self.limits.max_events => {
                list.dropped = list.dropped.saturating_add(1);
            }
            Some(list) => list.events.push(e),
            None => ext.insert(SpanEvents {
                events: vec![e],
                dropped: 0,
            }),
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let mut ext = span.extensions_mut();
        let Some(d) = ext.get_mut::<SpanData>() else {
            return;
        };
        let d = &*d;
        if !d.sampled() {
            return;
        }
        // The end is the start plus the wall time, added on the export thread.
        let (start, wall, busy) = match (d.created(), d.elapsed()) {
            (Some(created), Some((wall, busy))) => (created, wall, busy),
            _ => (Instant::now(), Default::default(), Default::default()),
        };
        let max = self.limits.max_value_len;
        let failed = d.failed();
        let failure = d.failure().map(|f| {
            if f.len() > max {
                truncate(f, max).into_boxed_str()
            } else {
                f.into()
            }
        });
        let (trace_id, span_id, parent_span_id, remote_parent, flags) = (
            d.trace_id(),
            d.span_id(),
            d.parent_span_id(),
            d.remote_parent(),
            d.flags(),
        );
        let (errors, failed_children, tracestate) =
            (d.errors(), d.failed_children(), d.tracestate().cloned());
        let Some(mut q) = self.shared.reserve_span() else {
            return;
        };
        // The fields go straight into the queue's arena: no allocation per span.
        let (fields, dropped_fields) =
            q.arena
                .push_fields(d.fields().iter(), d.fields().len(), &self.limits);
        // Without span events, none were kept: no lookup.
        let events = if self.events {
            ext.remove::<SpanEvents>()
                .map(|list| Box::new((list.events, list.dropped)))
        } else {
            None
        };
        self.shared.commit_span(
            q,
            FinishedSpan {
                trace_id,
                span_id,
                parent_span_id,
                remote_parent,
                flags,
                failed,
                errors,
                failed_children,
                dropped_fields,
                fields,
                tracestate,
                metadata: span.metadata(),
                start,
                wall,
                busy,
                failure,
                events,
            },
        );
    }
}

/// Whether this is the thread of the blocking HTTP client's own runtime (reqwest runs one per
/// client): events raised there come from the export itself and would loop back into it.
fn on_exporter_thread() -> bool {
    taskwire_core::process::with_thread_name(|n| n == "reqwest-internal-sync-runtime")
}
