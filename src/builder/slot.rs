//! [`Slot`]: one optional layer of the builder's stack.
//!
//! The builder composes its layers as one static type (`registry().with(Slot(tasks))
//! .with(Slot(metrics))…`), so each callback is a direct, inlinable call into each layer, as in a
//! stack composed by hand; boxed layers would cost a virtual call per layer per callback.
//! `Option<L>` is the usual way to leave a layer out, but it does not forward
//! `on_register_dispatch`, which the tasks and metrics layers need (they send their records to
//! their own subscriber). A `Slot` is an `Option<L>` that does. It does not forward
//! `downcast_raw` (the crate has no unsafe code): nothing downcasts a dispatcher to one of the
//! builder's layers, and none of them carries a per-layer filter.

use tracing::level_filters::LevelFilter;
use tracing::span::{Attributes, Id, Record};
use tracing::subscriber::Interest;
use tracing::{Dispatch, Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

/// A layer that may be absent: `Option<L>`, forwarding `on_register_dispatch` as well.
pub(super) struct Slot<L>(pub(super) Option<L>);

impl<S, L> Layer<S> for Slot<L>
where
    L: Layer<S>,
    S: Subscriber,
{
    fn on_register_dispatch(&self, subscriber: &Dispatch) {
        if let Some(l) = &self.0 {
            l.on_register_dispatch(subscriber);
        }
    }

    fn on_layer(&mut self, subscriber: &mut S) {
        self.0.on_layer(subscriber);
    }

    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        self.0.register_callsite(metadata)
    }

    fn enabled(&self, metadata: &Metadata<'_>, ctx: Context<'_, S>) -> bool {
        self.0.enabled(metadata, ctx)
    }

    fn max_level_hint(&self) -> Option<LevelFilter> {
        // An empty slot has no opinion. (`Option::None` answers `OFF` and relies on
        // tracing-subscriber recognising it through `downcast_raw`, which a `Slot` does not
        // forward: `OFF` here would turn the whole stack off.)
        self.0.as_ref().and_then(Layer::<S>::max_level_hint)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        self.0.on_new_span(attrs, id, ctx);
    }

    fn on_record(&self, span: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        self.0.on_record(span, values, ctx);
    }

    fn on_follows_from(&self, span: &Id, follows: &Id, ctx: Context<'_, S>) {
        self.0.on_follows_from(span, follows, ctx);
    }

    fn event_enabled(&self, event: &Event<'_>, ctx: Context<'_, S>) -> bool {
        self.0.event_enabled(event, ctx)
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        self.0.on_event(event, ctx);
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        self.0.on_enter(id, ctx);
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        self.0.on_exit(id, ctx);
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        self.0.on_close(id, ctx);
    }

    fn on_id_change(&self, old: &Id, new: &Id, ctx: Context<'_, S>) {
        self.0.on_id_change(old, new, ctx);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use tracing_subscriber::layer::SubscriberExt;

    use super::*;

    /// Counts the dispatchers it is registered with and the events it sees.
    #[derive(Clone, Default)]
    struct Counter {
        registered: Arc<AtomicUsize>,
        events: Arc<AtomicUsize>,
    }

    impl<S: Subscriber> Layer<S> for Counter {
        fn on_register_dispatch(&self, _: &Dispatch) {
            self.registered.fetch_add(1, Ordering::Relaxed);
        }

        fn on_event(&self, _: &Event<'_>, _: Context<'_, S>) {
            self.events.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn a_filled_slot_forwards_the_dispatch_and_events() {
        let c = Counter::default();
        let d = Dispatch::new(tracing_subscriber::registry().with(Slot(Some(c.clone()))));
        tracing::dispatcher::with_default(&d, || tracing::info!("one"));
        assert_eq!(c.registered.load(Ordering::Relaxed), 1);
        assert_eq!(c.events.load(Ordering::Relaxed), 1);
    }

    /// An empty slot must not lower the stack's maximum level (`LevelFilter::current()`),
    /// which would disable every callsite of the process.
    #[test]
    fn an_empty_slot_leaves_the_other_layers_enabled() {
        let c = Counter::default();
        let d = Dispatch::new(
            tracing_subscriber::registry()
                .with(Slot::<Counter>(None))
                .with(c.clone()),
        );
        tracing::dispatcher::with_default(&d, || tracing::info!("one"));
        assert_eq!(c.events.load(Ordering::Relaxed), 1);
    }
}
