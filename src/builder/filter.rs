//! The builder's filter: `RUST_LOG` (or `default_filter`) decides which *events* are written,
//! while spans the span filter keeps (default: INFO and above) are tracked whatever it says,
//! so a quieter `RUST_LOG` never takes the task ids, span fields and task tree away from the
//! errors that are still written.
//!
//! [`StackFilter`] is the outermost layer of the builder's subscriber, a global filter like
//! tracing-subscriber's `EnvFilter`, which it wraps. Every decision is taken once per callsite,
//! in `register_callsite`: a callsite the filters enable gets `Interest::always`, one they
//! disable `Interest::never`, so neither its spans nor its events cost a filter check. Only
//! directives that select spans or field values (`[..]`, "dynamic" in `EnvFilter`'s terms) need
//! to follow which spans are entered: with such a directive the filter forwards span
//! notifications to `EnvFilter` (so they work as usual, at the price of `EnvFilter`'s locks on
//! every span callback); without one it ignores them, and costs nothing per span.
//!
//! When some other subscriber of the process makes a callsite's interest "sometimes", the
//! filter is asked `enabled` on every span and event of that callsite. Directives that give
//! every target the same level (the default `info`, `RUST_LOG=debug`) answer that from the
//! level alone; others from a per-thread cache of the callsite's decision.

use std::cell::RefCell;

use taskwire_core::cache::{self, SiteCache};
use taskwire_core::ids::next_id;
use tracing::callsite::Identifier;
use tracing::level_filters::LevelFilter;
use tracing::subscriber::Interest;
use tracing::{Metadata, Subscriber};
use tracing_subscriber::filter::{Directive, Targets};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

use super::error::{ErrorKind, FilterOrigin, InstallError};

/// The default span filter: spans at INFO and above are tracked whatever `RUST_LOG` says.
pub(super) const DEFAULT_SPAN_FILTER: &str = "info";

/// Events by `RUST_LOG`/`default_filter`; spans by that or by the span filter.
pub(super) struct StackFilter {
    events: EnvFilter,
    spans: Targets,
    /// Whether an event directive selects spans or field values (`[..]`): then `events` must
    /// see span notifications, and decisions depend on the entered spans.
    dynamic: bool,
    /// This filter's key in the per-thread decision cache ([`DECISIONS`]).
    id: u64,
    /// When neither filter depends on the target: the levels they enable, so `enabled` needs
    /// no lookup.
    uniform: Option<Uniform>,
}

/// The levels of filters that give every target the same level.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Uniform {
    events: LevelFilter,
    spans: LevelFilter,
}

/// The name of the metadata `tracing-log` builds for each `log` record.
const LOG_RECORD: &str = "log record";

thread_local! {
    /// The decisions of static filters, by (filter id, callsite), per thread. A filter never
    /// changes once built, so its decisions never go stale; each filter has an id of its own
    /// for the life of the process, so one built later never reads another's answers.
    static DECISIONS: RefCell<SiteCache<(u64, Identifier), bool>> =
        const { RefCell::new(SiteCache::new(1024)) };
}

/// What the builder's filter settings become.
pub(super) struct FilterSettings<'a> {
    /// `RUST_LOG`, read once by the builder (`None` when unset or blank).
    pub(super) rust_log: Option<&'a str>,
    pub(super) default_filter: &'a str,
    pub(super) span_filter: &'a str,
    /// Whether a tasks layer is installed, so its records' target must be enabled.
    pub(super) tasks: bool,
}

impl StackFilter {
    pub(super) fn new(s: &FilterSettings<'_>) -> Result<StackFilter, InstallError> {
        // `default_filter` must be valid even when `RUST_LOG` overrides it, so a typo in code
        // does not wait for the day `RUST_LOG` is unset.
        let default = checked(s.default_filter, FilterOrigin::DefaultFilter)?;
        let (directives, origin, text) = match s.rust_log {
            Some(v) => (checked(v, FilterOrigin::RustLog)?, FilterOrigin::RustLog, v),
            None => (default, FilterOrigin::DefaultFilter, s.default_filter),
        };
        let mut events = EnvFilter::builder()
            .parse(&directives)
            .map_err(|e| whole_error(text, origin, e))?;
        let mut event_directives = directives.clone();
        if s.tasks && !directives.contains(taskwire_tasks::TARGET) {
            let tasks = format!("{}=info", taskwire_tasks::TARGET);
            let d: Directive = tasks.parse().map_err(|e| whole_error(text, origin, e))?;
            events = events.add_directive(d);
            if !event_directives.is_empty() {
                event_directives.push(',');
            }
            event_directives.push_str(&tasks);
        }
        let span_directives = checked(s.span_filter, FilterOrigin::SpanFilter)?;
        let spans = if span_directives.is_empty() {
            Targets::new()
        } else {
            span_directives
                .parse::<Targets>()
                .map_err(|e| whole_error(s.span_filter, FilterOrigin::SpanFilter, e))?
        };
        let uniform = uniform_level(&event_directives).and_then(|events| {
            let spans = if span_directives.is_empty() {
                Some(LevelFilter::OFF)
            } else {
                uniform_level(&span_directives)
            };
            spans.map(|spans| Uniform { events, spans })
        });
        Ok(StackFilter {
            events,
            spans,
            dynamic: directives.contains('['),
            id: next_id().get(),
            uniform,
        })
    }

    /// The most verbose level any event can pass: the `log` bridge's maximum.
    pub(super) fn event_max_level(&self) -> Option<LevelFilter> {
        self.events.max_level_hint()
    }

    fn keeps_span(&self, meta: &Metadata<'_>) -> bool {
        meta.is_span() && self.spans.would_enable(meta.target(), meta.level())
    }

    /// `enabled` for filters whose answer depends on the target. Without dynamic directives
    /// the answer depends on the callsite alone: remembered per thread. A `log` record's
    /// metadata shares one callsite per level whatever its target: never remembered.
    #[inline(never)]
    fn enabled_by_callsite<S>(&self, meta: &Metadata<'_>, ctx: Context<'_, S>) -> bool
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let decide =
            || self.keeps_span(meta) || <EnvFilter as Layer<S>>::enabled(&self.events, meta, ctx);
        if self.dynamic || meta.name() == LOG_RECORD {
            return decide();
        }
        cache::with_entry(&DECISIONS, (self.id, meta.callsite()), decide, |e| *e)
    }
}

/// The level `directives` enable for every target, when they are static (no `[..]`), set a
/// default level, and give each target they name that same level: then, as the most specific
/// matching directive decides, every callsite gets that level whatever its target.
fn uniform_level(directives: &str) -> Option<LevelFilter> {
    if directives.contains('[') {
        return None;
    }
    let targets: Targets = directives.parse().ok()?;
    let default = targets.default_level()?;
    targets
        .iter()
        .all(|(_, level)| level == default)
        .then_some(default)
}

/// `directives` with each comma-separated directive trimmed, or an error naming the first one
/// that is not a directive. `tracing_subscriber` takes any word as a target name, so
/// `RUST_LOG='debug;warn'` would silently enable an impossible target `debug;warn`; a target is
/// made of letters, digits, `_`, `-`, `.` and `::` here.
fn checked(directives: &str, origin: FilterOrigin) -> Result<String, InstallError> {
    let mut out = String::with_capacity(directives.len());
    for d in directives
        .split(',')
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        let target_end = d.find(['[', '=']).unwrap_or(d.len());
        let target = &d[..target_end];
        let reason = if origin == FilterOrigin::SpanFilter
            && target_end < d.len()
            && d[target_end..].starts_with('[')
        {
            Some("span_filter takes `target=level` directives and levels, without span selectors")
        } else if !target.chars().all(is_target_char) {
            Some(
                "a directive is `target=level`, `target[span{field=value}]=level` or a level, \
                 separated by commas; a target is made of letters, digits, `_`, `-`, `.` and `::`",
            )
        } else if d.ends_with('=') {
            Some("the level is missing after `=`")
        } else {
            None
        };
        if reason.is_some() {
            return Err(InstallError::new(
                ErrorKind::Filter {
                    directive: d.to_owned(),
                    origin,
                    reason,
                },
                None,
            ));
        }
        if let Err(e) = d.parse::<Directive>() {
            return Err(InstallError::new(
                ErrorKind::Filter {
                    directive: d.to_owned(),
                    origin,
                    reason: None,
                },
                Some(Box::new(e)),
            ));
        }
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(d);
    }
    Ok(out)
}

fn is_target_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')
}

fn whole_error(
    directives: &str,
    origin: FilterOrigin,
    e: impl std::error::Error + Send + Sync + 'static,
) -> InstallError {
    InstallError::new(
        ErrorKind::Filter {
            directive: directives.to_owned(),
            origin,
            reason: None,
        },
        Some(Box::new(e)),
    )
}

impl<S> Layer<S> for StackFilter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, meta: &'static Metadata<'static>) -> Interest {
        // Always asked first: `EnvFilter` remembers span callsites its span directives match.
        let events = <EnvFilter as Layer<S>>::register_callsite(&self.events, meta);
        if self.keeps_span(meta) {
            Interest::always()
        } else {
            events
        }
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        let spans = self
            .spans
            .iter()
            .map(|(_, level)| level)
            .chain(self.spans.default_level())
            .max()
            .unwrap_or(LevelFilter::OFF);
        self.events.max_level_hint().map(|e| e.max(spans))
    }

    #[inline]
    fn enabled(&self, meta: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        // Asked when some subscriber of the process (another dispatcher, a per-layer filter,
        // a layer that sends its own records) made a callsite's interest "sometimes".
        // Filters that give every target one level answer from the level.
        match self.uniform {
            Some(u) => {
                let level = meta.level();
                u.events >= *level || (meta.is_span() && u.spans >= *level)
            }
            None => self.enabled_by_callsite(meta, ctx),
        }
    }

    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        if self.dynamic {
            self.events.on_new_span(attrs, id, ctx);
        }
    }

    fn on_record(
        &self,
        id: &tracing::span::Id,
        values: &tracing::span::Record<'_>,
        ctx: Context<'_, S>,
    ) {
        if self.dynamic {
            self.events.on_record(id, values, ctx);
        }
    }

    fn on_enter(&self, id: &tracing::span::Id, ctx: Context<'_, S>) {
        if self.dynamic {
            self.events.on_enter(id, ctx);
        }
    }

    fn on_exit(&self, id: &tracing::span::Id, ctx: Context<'_, S>) {
        if self.dynamic {
            self.events.on_exit(id, ctx);
        }
    }

    fn on_close(&self, id: tracing::span::Id, ctx: Context<'_, S>) {
        if self.dynamic {
            self.events.on_close(id, ctx);
        }
    }
}

#[cfg(test)]
mod tests {
    use tracing::callsite::Callsite;
    use tracing::field::FieldSet;
    use tracing::metadata::Kind;
    use tracing::Level;
    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    struct Site;

    impl Callsite for Site {
        fn set_interest(&self, _: Interest) {}

        fn metadata(&self) -> &Metadata<'_> {
            unreachable!("the tests build their metadata themselves")
        }
    }

    static SITE: Site = Site;

    fn filter(events: &str, spans: &str, tasks: bool) -> StackFilter {
        StackFilter::new(&FilterSettings {
            rust_log: None,
            default_filter: events,
            span_filter: spans,
            tasks,
        })
        .expect("valid directives")
    }

    #[test]
    fn directives_that_name_no_other_level_need_no_lookup() {
        let levels = |e, s, t| filter(e, s, t).uniform.map(|u| (u.events, u.spans));
        let (info, debug) = (LevelFilter::INFO, LevelFilter::DEBUG);
        assert_eq!(levels("info", "info", true), Some((info, info)));
        assert_eq!(
            levels("debug", "off", false),
            Some((debug, LevelFilter::OFF))
        );
        assert_eq!(
            levels("debug", "", true),
            None,
            "the tasks' records at INFO"
        );
        assert_eq!(levels("info", "", false), Some((info, LevelFilter::OFF)));
        assert_eq!(levels("info,hyper=warn", "info", false), None);
        assert_eq!(levels("info", "info,noisy=off", false), None);
        assert_eq!(
            levels("hyper=warn", "info", false),
            None,
            "no default level"
        );
        assert_eq!(levels("info,[checkout]=debug", "info", false), None);
    }

    /// The level-only answer is the one the filters give callsite by callsite.
    #[test]
    fn the_level_only_answer_is_the_filters_answer() {
        let sets = [
            ("info", "info", true),
            ("info", "info", false),
            ("debug", "off", false),
            ("warn", "info", false),
            ("trace,app=trace", "", false),
            ("off", "info", false),
            ("info", "", true),
        ];
        let targets = ["app", "app::db", "hyper::client", "taskwire::tasks", "log"];
        for (events, spans, tasks) in sets {
            let fast = filter(events, spans, tasks);
            assert!(fast.uniform.is_some(), "{events} / {spans}");
            let mut slow = filter(events, spans, tasks);
            // Straight to the filters, without the per-thread cache.
            (slow.uniform, slow.dynamic) = (None, true);
            let fast = tracing_subscriber::registry().with(fast);
            let slow = tracing_subscriber::registry().with(slow);
            for target in targets {
                for level in [
                    Level::TRACE,
                    Level::DEBUG,
                    Level::INFO,
                    Level::WARN,
                    Level::ERROR,
                ] {
                    for span in [true, false] {
                        let kind = if span { Kind::SPAN } else { Kind::EVENT };
                        let meta = Metadata::new(
                            "site",
                            target,
                            level,
                            None,
                            None,
                            None,
                            FieldSet::new(&[], Identifier(&SITE)),
                            kind,
                        );
                        assert_eq!(
                            fast.enabled(&meta),
                            slow.enabled(&meta),
                            "{events} / {spans} / tasks {tasks}: {target} {level} span {span}"
                        );
                    }
                }
            }
        }
    }
}
