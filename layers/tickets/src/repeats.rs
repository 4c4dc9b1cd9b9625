//! An error reported again by an enclosing span is the same occurrence.
//!
//! `#[instrument(err)]` on nested functions reports one error once per level: the innermost
//! function's span emits `error = %e`, then each enclosing instrumented function that returns
//! the same error emits it again from its own call site, which would count one failure several
//! times, in several tickets with the same title. The rule, as Sentry's "one exception, one
//! event": an event whose `error` field renders exactly like the `error` of an event counted
//! earlier inside one of its span's descendants is that occurrence reported again, and is not
//! counted. A noted error absorbs one repeat in each enclosing span (the same text reported
//! by several descendants is one note).
//!
//! How: when an event with an `error` field is counted inside a span, the hash of the error's
//! rendering is noted in every enclosing span's registry extensions ([`ReportedBelow`], keyed
//! by the tickets layer, so two tickets layers keep their own notes), with the fingerprint of
//! the ticket it was counted in. An event in a span whose notes hold its error's hash takes the
//! note and is skipped; its JSON line names the noted ticket (the occurrence it reports again).
//! Events without an `error` field pay one look at their call site's field names; nothing is
//! kept for spans without errors.

use std::fmt::{self, Write as _};
use std::hash::{DefaultHasher, Hasher};

use tracing_core::field::{Field, Visit};
use tracing_core::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;

/// The field `#[instrument(err)]` puts the error in.
const ERROR_FIELD: &str = "error";

/// Notes kept per span, at most this many (the oldest goes first).
const MAX_NOTES: usize = 32;

/// Errors counted inside a span's descendants: (tickets layer id, hash of the error's text,
/// fingerprint of the ticket it was counted in).
struct ReportedBelow(Vec<(u64, u64, u64)>);

/// What [`check`] found.
pub(crate) enum Check {
    /// The event repeats an error counted below: not counted again; the fingerprint of the
    /// ticket the first report was counted in.
    Repeat(u64),
    /// A new occurrence; the hash of its `error`, to [`note`] once counted.
    New(Option<u64>),
}

/// Whether `event` repeats an error counted inside a descendant of its span (then the note is
/// taken).
pub(crate) fn check<S>(layer: u64, event: &Event<'_>, ctx: &Context<'_, S>) -> Check
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if event.metadata().fields().field(ERROR_FIELD).is_none() {
        return Check::New(None);
    }
    let mut v = ErrorHash(None);
    event.record(&mut v);
    let Some(hash) = v.0 else {
        return Check::New(None);
    };
    let Some(span) = ctx.event_span(event) else {
        return Check::New(None);
    };
    let mut ext = span.extensions_mut();
    if let Some(ReportedBelow(notes)) = ext.get_mut::<ReportedBelow>() {
        if let Some(i) = notes.iter().position(|n| (n.0, n.1) == (layer, hash)) {
            return Check::Repeat(notes.remove(i).2);
        }
    }
    Check::New(Some(hash))
}

/// Notes an error `event` carried (its hash from [`check`]), counted in the ticket of
/// `fingerprint`, in the spans enclosing its span.
pub(crate) fn note<S>(
    layer: u64,
    hash: u64,
    fingerprint: u64,
    event: &Event<'_>,
    ctx: &Context<'_, S>,
) where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(span) = ctx.event_span(event) else {
        return;
    };
    for ancestor in span.scope().skip(1) {
        let mut ext = ancestor.extensions_mut();
        match ext.get_mut::<ReportedBelow>() {
            Some(ReportedBelow(notes)) => {
                if !notes.iter().any(|n| (n.0, n.1) == (layer, hash)) {
                    if notes.len() >= MAX_NOTES {
                        notes.remove(0);
                    }
                    notes.push((layer, hash, fingerprint));
                }
            }
            None => ext.insert(ReportedBelow(vec![(layer, hash, fingerprint)])),
        }
    }
}

/// Hashes the text of the `error` field (its `Display`, as `error = %e` renders it).
struct ErrorHash(Option<u64>);

/// Feeds formatted text to a hasher without building a string.
struct HashWriter(DefaultHasher);

impl fmt::Write for HashWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.0.write(s.as_bytes());
        Ok(())
    }
}

impl ErrorHash {
    fn hash(&mut self, field: &Field, args: fmt::Arguments<'_>) {
        if field.name() != ERROR_FIELD {
            return;
        }
        let mut w = HashWriter(DefaultHasher::new());
        // A failing `Display` leaves a partial text: still the same for the same value.
        let _ = w.write_fmt(args);
        self.0 = Some(w.0.finish());
    }
}

impl Visit for ErrorHash {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.hash(field, format_args!("{value}"));
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.hash(field, format_args!("{value}"));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // `%e` arrives here as a value whose `Debug` is the error's `Display`.
        self.hash(field, format_args!("{value:?}"));
    }
}
