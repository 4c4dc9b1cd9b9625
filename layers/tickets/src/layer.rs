//! [`TicketsLayer`]: the layer, its settings, and its hot path.
//!
//! On the caller's thread an event at or above the threshold costs: a level check, the
//! fingerprint (cached per thread and call site when it depends on the call site alone,
//! otherwise a hash of a few strings and a read-locked map lookup), one atomic add in a
//! per-thread stripe of the group's counters, and, only while the group may still send a
//! sample in the writer's current period, building that sample and a non-blocking send to the
//! writer's bounded queue. Nothing on this path waits for the store.

use std::sync::{Arc, OnceLock};

use taskwire_core::event_ticket;
use taskwire_core::event_time::EventClock;
use taskwire_core::schema::level_index;
use taskwire_core::span::{CapturingLayer, LayerCapture};
use taskwire_core::suppress;
use tracing_core::{Event, Level, Metadata, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

use crate::fingerprint::{
    KeyHasher, FINGERPRINT_FIELD, MODE_EXPLICIT, MODE_LINE, MODE_OVERFLOW, MODE_SPAN,
};
use crate::groups::{with_site, Group, Site};
use crate::repeats;
use crate::sample::{self, Lookup, SampleContext};
use crate::store::{TicketSeed, Timestamp};
use crate::writer::{Shared, Stats};
use crate::Grouping;

/// The target of the tasks layer's own records (`task.start`, `task.end`), which never make
/// tickets.
pub const TASKS_TARGET: &str = taskwire_core::task_record::TARGET;

/// Groups events at or above a level into tickets in a store. Built with
/// [`layer()`](crate::layer())`…`[`.build()`](crate::TicketsBuilder::build); see the
/// [crate docs](crate).
pub struct TicketsLayer {
    pub(crate) id: u64,
    pub(crate) capture: LayerCapture,
    pub(crate) min_level: Level,
    pub(crate) grouping: Grouping,
    /// `fingerprint`, then the grouping fields.
    pub(crate) group_names: Vec<Arc<str>>,
    pub(crate) tag_fields: Vec<Arc<str>>,
    pub(crate) max_tag_values: usize,
    pub(crate) sample_cx: SampleContext,
    pub(crate) budget: u32,
    pub(crate) shared: Arc<Shared>,
    pub(crate) overflow: OnceLock<Arc<Group>>,
    /// The event's time, shared with the other taskwire layers (one event, one time).
    pub(crate) clock: EventClock,
}

impl std::fmt::Debug for TicketsLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketsLayer")
            .field("min_level", &self.min_level)
            .field("grouping", &self.grouping)
            .field("tag_fields", &self.tag_fields)
            .field("service", &self.sample_cx.service)
            .field("release", &self.sample_cx.release)
            .finish_non_exhaustive()
    }
}

impl TicketsLayer {
    /// A handle on this layer's counters.
    pub fn stats(&self) -> Stats {
        Stats {
            inner: self.shared.stats.clone(),
        }
    }

    fn seed(&self, meta: &Metadata<'_>) -> TicketSeed {
        let mut seed = TicketSeed::new(*meta.level(), meta.target());
        seed.service = self.sample_cx.service.as_deref().map(str::to_owned);
        seed.module = meta.module_path().map(str::to_owned);
        seed.file = meta.file().map(str::to_owned);
        seed.line = meta.line();
        // A panic's ticket points at the panic, not at the hook that reported it.
        if meta.target() == taskwire_core::panic::TARGET {
            if let Some(report) = taskwire_core::panic::current() {
                seed.file = Some(report.location().file().to_owned());
                seed.line = Some(report.location().line());
            }
        }
        seed
    }

    fn tag_cap(&self) -> Option<usize> {
        (!self.tag_fields.is_empty()).then_some(self.max_tag_values)
    }

    /// The grouping key's hash for the call-site parts, span name and field values.
    fn key(&self, meta: &Metadata<'_>, span_name: Option<&str>, values: &[Option<String>]) -> u64 {
        let service = self.sample_cx.service.as_deref();
        let mut h = KeyHasher::new(if self.grouping.by_line {
            MODE_LINE
        } else {
            MODE_SPAN
        });
        h.opt(service);
        h.part(meta.target());
        if self.grouping.by_line {
            h.opt(meta.file());
            h.num(u64::from(meta.line().unwrap_or(0)));
        } else {
            match span_name {
                Some(name) => {
                    h.num(1);
                    h.part(name);
                }
                None => {
                    h.num(0);
                    h.opt(meta.file());
                }
            }
        }
        h.part(meta.level().as_str());
        for v in values {
            h.opt(v.as_deref());
        }
        h.finish()
    }

    fn site(&self, meta: &'static Metadata<'static>, now: i64) -> Site {
        let is_log = meta.fields().field("log.target").is_some();
        if !self.grouping.is_static() || is_log || meta.fields().field(FINGERPRINT_FIELD).is_some()
        {
            return Site::Dynamic;
        }
        let hash = self.key(meta, None, &[]);
        let cap = self.tag_cap();
        let g = self.shared.groups.insert(
            hash,
            || Group::new(hash, self.seed(meta), now, cap, true),
            Arc::clone,
        );
        Site::Static(g)
    }

    /// Counts one occurrence in `g`, its tags, and sends a sample if the group may.
    fn occurred<S>(&self, g: &Arc<Group>, seen: &Seen<'_, '_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Seen {
            event,
            meta,
            is_log,
            now,
        } = *seen;
        g.bump(level_index(meta.level()), now);
        // for the JSON layer's line (see `taskwire_core::event_ticket`)
        event_ticket::set(event, Some(g.hash));
        if let Some(tags) = &g.tags {
            let mut lookup = Lookup::new(&self.tag_fields, &self.sample_cx.redactor);
            event.record(&mut lookup);
            lookup.fill_from_spans(event, ctx);
            if let Ok(mut t) = tags.lock() {
                for (name, value) in self.tag_fields.iter().zip(&lookup.values) {
                    if let Some(v) = value {
                        t.add(name, v);
                    }
                }
            }
        }
        if g.take_sample_slot(self.budget) && self.shared.has_room() {
            let (s, has_backtrace) = sample::build(&self.sample_cx, event, meta, is_log, ctx, now);
            let backtrace = self.sample_cx.backtrace(meta, has_backtrace);
            self.shared.send_sample(g.clone(), s, backtrace);
        }
    }

    fn dynamic<S>(&self, event: &Event<'_>, ctx: &Context<'_, S>, now: i64)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let normalized = event.normalized_metadata();
        let is_log = normalized.is_some();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        if is_log && meta.target().starts_with(TASKS_TARGET) {
            return;
        }
        let seen = Seen {
            event,
            meta,
            is_log,
            now,
        };
        let mut lookup = Lookup::new(&self.group_names, &self.sample_cx.redactor);
        event.record(&mut lookup);
        // The explicit fingerprint comes from the event only.
        let explicit = lookup.values[0].replace(String::new());
        let hash = match explicit {
            Some(fp) => {
                let mut h = KeyHasher::new(MODE_EXPLICIT);
                h.opt(self.sample_cx.service.as_deref());
                h.part(&fp);
                h.finish()
            }
            None => {
                if self.group_names.len() > 1 {
                    lookup.fill_from_spans(event, ctx);
                }
                let span = if self.grouping.by_line {
                    None
                } else {
                    ctx.event_span(event)
                };
                self.key(meta, span.as_ref().map(|s| s.name()), &lookup.values[1..])
            }
        };
        let cap = self.tag_cap();
        let make = || Group::new(hash, self.seed(meta), now, cap, false);
        let done = self.shared.groups.with_group(hash, make, |g| {
            self.occurred(g, &seen, ctx);
        });
        if done.is_none() {
            let g = self.overflow.get_or_init(|| {
                let mut h = KeyHasher::new(MODE_OVERFLOW);
                h.opt(self.sample_cx.service.as_deref());
                let hash = h.finish();
                self.shared.groups.insert(
                    hash,
                    || {
                        let mut seed = TicketSeed::new(Level::ERROR, "taskwire::tickets");
                        seed.service = self.sample_cx.service.as_deref().map(str::to_owned);
                        let mut g = Group::new(hash, seed, now, cap, true);
                        g.fixed_title = Some(
                            "too many distinct fingerprints in memory at once: counted here".into(),
                        );
                        g
                    },
                    Arc::clone,
                )
            });
            self.occurred(g, &seen, ctx);
        }
    }
}

/// One event being counted.
#[derive(Clone, Copy)]
struct Seen<'a, 'b> {
    event: &'a Event<'b>,
    meta: &'a Metadata<'a>,
    is_log: bool,
    now: i64,
}

/// Samples a group may send per writer period: the kept ones plus the first.
pub(crate) fn budget(samples_per_ticket: usize) -> u32 {
    u32::try_from(samples_per_ticket.saturating_add(1)).unwrap_or(u32::MAX)
}

impl CapturingLayer for TicketsLayer {
    fn layer_capture(&self) -> &LayerCapture {
        &self.capture
    }
}

impl<S> Layer<S> for TicketsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a> + 'static,
{
    taskwire_core::layer_capture_callbacks!(S, capture);

    fn event_enabled(&self, event: &Event<'_>, _ctx: Context<'_, S>) -> bool {
        if *event.metadata().level() <= self.min_level {
            self.clock.mark(event);
            // A new event: whatever the slot held was another's (the same call site in a loop
            // has the same address), also for a JSON layer that runs before this one's
            // `on_event`.
            event_ticket::set(event, None);
        }
        true
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if suppress::is_suppressed() {
            return;
        }
        let meta = event.metadata();
        // `Level` orders verbosity: ERROR is the smallest.
        if *meta.level() > self.min_level || meta.target().starts_with(TASKS_TARGET) {
            return;
        }
        // in no ticket until counted below
        event_ticket::set(event, None);
        let error = match repeats::check(self.id, event, &ctx) {
            repeats::Check::Repeat(fingerprint) => {
                // the occurrence reported again: its line names the first report's ticket
                event_ticket::set(event, Some(fingerprint));
                return;
            }
            repeats::Check::New(error) => error,
        };
        let now = Timestamp::from(self.clock.time(event)).as_micros();
        with_site(
            self.id,
            meta,
            || self.site(meta, now),
            |site| match site {
                Site::Static(g) => {
                    let seen = Seen {
                        event,
                        meta,
                        is_log: false,
                        now,
                    };
                    self.occurred(g, &seen, &ctx);
                }
                Site::Dynamic => self.dynamic(event, &ctx, now),
            },
        );
        if let (Some(hash), Some(fingerprint)) = (error, event_ticket::get(event)) {
            repeats::note(self.id, hash, fingerprint, event, &ctx);
        }
    }
}
