//! Reaching a span's [`SpanData`] from outside the layers, through the `Dispatch` that owns it
//! (middleware marking a task failed, importing a remote parent, reading a task's context).
//!
//! These functions find the data through `Dispatch::downcast_ref::<Registry>()`, so they work
//! on subscribers built on tracing-subscriber's `Registry` and return `None` on any other.

use std::sync::Arc;

use tracing_core::dispatcher::Dispatch;
use tracing_core::span::Id;
use tracing_subscriber::registry::LookupSpan;

use crate::propagation::Extracted;

use super::data::{note_unsampled, SpanData};
use super::stack;

/// Reads the [`SpanData`] of span `id` with `f`. Returns `None` without a taskwire layer, for a
/// disabled span, or on a subscriber not built on `Registry`. Takes the span's lock for
/// reading only.
pub fn read_span_data<R>(
    dispatch: &Dispatch,
    id: &Id,
    f: impl FnOnce(&SpanData) -> R,
) -> Option<R> {
    let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
    let span = registry.span(id)?;
    let ext = span.extensions();
    ext.get::<SpanData>().map(f)
}

/// Runs `f` on the [`SpanData`] of span `id` (to mark it failed: [`SpanData::fail`]).
/// Returns `None` as [`read_span_data`] does.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry().with(taskwire_core::span::capture());
/// tracing::subscriber::with_default(subscriber, || {
///     let span = tracing::info_span!("charge");
///     span.with_subscriber(|(id, dispatch)| {
///         taskwire_core::span::with_span_data(dispatch, id, |d| d.fail("card declined"))
///     });
///     let failure = span.with_subscriber(|(id, dispatch)| {
///         taskwire_core::span::read_span_data(dispatch, id, |d| d.failure().map(str::to_owned))
///     });
///     assert_eq!(failure.flatten().flatten().as_deref(), Some("card declined"));
/// });
/// ```
pub fn with_span_data<R>(
    dispatch: &Dispatch,
    id: &Id,
    f: impl FnOnce(&mut SpanData) -> R,
) -> Option<R> {
    let registry = dispatch.downcast_ref::<tracing_subscriber::Registry>()?;
    let span = registry.span(id)?;
    let mut ext = span.extensions_mut();
    ext.get_mut::<SpanData>().map(f)
}

/// Re-parents a span that was just created (before it is entered or has children) under the
/// remote task described by `remote`: the span joins the remote trace, its parent is the
/// remote span, and it takes the remote sampled and random flags and `tracestate`. Returns
/// whether the span was re-parented. An `Extracted` without a parent leaves the span a root.
pub fn set_remote_parent(dispatch: &Dispatch, id: &Id, remote: &Extracted) -> bool {
    let Some(parent) = remote.parent else {
        return false;
    };
    let state = (!remote.state.is_empty()).then(|| Arc::from(remote.state.as_str()));
    // Only the thread that created a span holds it in its just-created slot. Created here (the
    // usual request span), the slot is filled again below; created elsewhere, whichever thread
    // created it sees the edit before it next enters a just-created span (handing the span over
    // to it orders the two). So the shared counter is written only in the second case.
    let just_created_here = stack::is_just_created(id);
    if !just_created_here {
        stack::note_lineage_edit();
    }
    with_span_data(dispatch, id, |d| {
        d.set_remote_parent(parent, state);
        if !parent.sampled {
            note_unsampled();
        }
        if just_created_here {
            // Imported right after its creation on this thread (the usual request span): it
            // stays just created, with its new lineage.
            stack::refill_just_created(id, d);
        }
    })
    .is_some()
}

/// Records on the current span of the default subscriber that its context was sent to another
/// process ([`SpanData::note_exported`]): called by whatever writes the current task into an
/// outgoing request. Does nothing outside spans or without a taskwire layer.
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry().with(taskwire_core::span::capture());
/// tracing::subscriber::with_default(subscriber, || {
///     let span = tracing::info_span!("call");
///     let _entered = span.enter();
///     taskwire_core::span::note_current_exported();
///     let exported = span.with_subscriber(|(id, dispatch)| {
///         taskwire_core::span::read_span_data(dispatch, id, |d| d.exported())
///     });
///     assert_eq!(exported.flatten(), Some(true));
/// });
/// ```
pub fn note_current_exported() {
    tracing_core::dispatcher::get_default(|dispatch| {
        if let Some(id) = dispatch.current_span().id() {
            with_span_data(dispatch, id, SpanData::note_exported);
        }
    });
}
