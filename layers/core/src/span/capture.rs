//! [`CaptureLayer`]: the one layer that writes span data, and [`LayerCapture`]: how every other
//! taskwire layer finds it (or, when none is installed, captures itself).

use std::any::TypeId;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

use tracing_core::span::{Attributes, Id, Record};
use tracing_core::Subscriber;
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::clock;
use crate::ids::{SpanId, TraceId};
use crate::propagation::TraceParent;
use crate::redact::Redactor;
use crate::value::Typed;

use super::data::{note_unsampled, LayerTiming, Lineage, SpanData, Timing};
use super::fields::{has_control_fields, FieldCollector, SpanFields};
pub use super::needs::Needs;
use super::needs::RootSampler;
use super::redactor_cell::{RedactorCell, RedactorRef};
use super::stack;

/// Captures every span once, for every taskwire layer in the stack: its W3C ids and lineage,
/// its fields (typed, redacted, rendered as JSON once per change), its wall and busy time, and
/// the thread's stack of entered spans. Install it first, below the other layers:
///
/// ```
/// use tracing_subscriber::prelude::*;
///
/// let subscriber = tracing_subscriber::registry()
///     .with(taskwire_core::span::capture())
///     .with(taskwire_core::span::capture()); // a second one stays idle
/// tracing::subscriber::with_default(subscriber, || {
///     let _span = tracing::info_span!("checkout", order = 7).entered();
///     assert!(taskwire_core::span::current().is_some());
/// });
/// ```
///
/// The layers above it declare what they read ([`Needs`]) when they are added to the stack;
/// the capture then records only that. Give it no per-layer filter: it must see every span
/// for lineage to be complete (a span it does not see gets no ids and no fields, and its
/// children name the nearest ancestor it saw as their parent).
#[derive(Debug, Default)]
pub struct CaptureLayer {
    capture: Arc<Capture>,
    /// Another capture is installed below this one, which does the work.
    idle: bool,
}

impl CaptureLayer {
    /// Redacts span fields with `redactor` (default: [`Redactor::default`]), joined with the
    /// redactors the layers above were given: a key any of them calls sensitive is redacted.
    #[must_use]
    pub fn with_redactor(self, redactor: Redactor) -> Self {
        let capture = Capture {
            redactor: RedactorCell::new(redactor),
            ..Capture::default()
        };
        capture.require(&self.capture.needs());
        CaptureLayer {
            capture: Arc::new(capture),
            ..self
        }
    }

    /// Also captures what `needs` asks for, beside what the layers above ask for.
    #[must_use]
    pub fn with_needs(self, needs: &Needs) -> Self {
        self.capture.require(needs);
        self
    }

    /// The redactor span fields are redacted with.
    pub fn redactor(&self) -> Redactor {
        self.capture.redactor().clone()
    }
}

/// The capture itself, shared by the [`CaptureLayer`] (or the taskwire layer that captures)
/// and the layers that read it, which tell it what they need.
struct Capture {
    id: u64,
    /// Widened while the stack is built (by readers), read for each span.
    redactor: RedactorCell,
    fields: AtomicBool,
    timing: AtomicU8,
    root_sampler: OnceLock<RootSampler>,
    /// The layer whose [`LayerTiming`] the capture starts in each span's data.
    layer_timing: OnceLock<u64>,
    /// Whether layers above read this capture (then it captures every span).
    has_readers: AtomicBool,
}

impl fmt::Debug for Capture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Capture")
            .field("redactor", &*self.redactor())
            .field("fields", &self.fields.load(Ordering::Relaxed))
            .field("timing", &self.timing())
            .field("root_sampler", &self.root_sampler.get().is_some())
            .finish()
    }
}

impl Default for Capture {
    fn default() -> Self {
        Capture {
            id: crate::ids::next_id().get(),
            redactor: RedactorCell::new(Redactor::default()),
            fields: AtomicBool::new(false),
            timing: AtomicU8::new(Timing::Off as u8),
            root_sampler: OnceLock::new(),
            layer_timing: OnceLock::new(),
            has_readers: AtomicBool::new(false),
        }
    }
}

/// What [`CaptureLayer::new_span`] did.
#[derive(Clone, Copy, PartialEq, Eq)]
enum NewSpan {
    Captured,
    /// Another capture had captured the span.
    AlreadyCaptured,
    /// The span is not in the registry (or is hidden from this layer).
    Unknown,
}

impl Capture {
    #[inline]
    fn redactor(&self) -> RedactorRef<'_> {
        self.redactor.get()
    }

    /// Also redacts what `redactor` calls sensitive.
    fn widen_redactor(&self, redactor: &Redactor) {
        self.redactor.widen(redactor);
    }

    /// What this capture records so far.
    fn needs(&self) -> Needs {
        Needs {
            fields: self.fields.load(Ordering::Relaxed),
            timing: self.timing(),
            root_sampler: self.root_sampler.get().cloned(),
            layer_timing: self.layer_timing.get().copied(),
        }
    }

    #[inline]
    fn timing(&self) -> Timing {
        match self.timing.load(Ordering::Relaxed) {
            0 => Timing::Off,
            1 => Timing::Sampled,
            _ => Timing::Always,
        }
    }

    /// Adds what a layer needs: fields and timing add up; the first root sampler and the first
    /// layer timing owner stay.
    fn require(&self, needs: &Needs) {
        if needs.fields {
            self.fields.store(true, Ordering::Relaxed);
        }
        self.timing.fetch_max(needs.timing as u8, Ordering::Relaxed);
        if let Some(s) = &needs.root_sampler {
            let _ = self.root_sampler.set(Arc::clone(s));
        }
        if let Some(owner) = needs.layer_timing {
            let _ = self.layer_timing.set(owner);
        }
    }

    /// Captures a new span unless some capture already did.
    fn new_span<S>(&self, attrs: &Attributes<'_>, id: &Id, ctx: &Context<'_, S>) -> NewSpan
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(span) = ctx.span(id) else {
            return NewSpan::Unknown;
        };
        // Only this span's lock is held while its ancestors' extensions are read below; a
        // span that is being created has no descendants, so no thread can wait on it while
        // holding an ancestor.
        let mut ext = span.extensions_mut();
        if ext.get_mut::<SpanData>().is_some() {
            return NewSpan::AlreadyCaptured;
        }
        let lineage = self.lineage(span.parent());
        let all_fields = self.fields.load(Ordering::Relaxed);
        let fields = self.collect(attrs, all_fields);
        let timed = self.timing().times(lineage.sampled);
        let span_id = SpanId::random();
        // The slot is filled before the data is built, so the data is built where the
        // extensions take it from (one copy of it, into its box).
        stack::remember_just_created_lineage(id, self.id, span_id, &lineage, timed);
        let created = timed.then(clock::now);
        let layer_timing = self.layer_timing.get().map(|&owner| {
            let start = created.unwrap_or_else(clock::now);
            LayerTiming::new(owner, LayerTiming::UNTAGGED, start)
        });
        ext.insert(SpanData::with_parts(
            span_id,
            lineage,
            fields,
            all_fields,
            created,
            layer_timing,
        ));
        NewSpan::Captured
    }

    /// The lineage of a span whose nearest parent in the registry is `parent`: the trace and
    /// parent context of its nearest captured ancestor, else a new root.
    fn lineage<S>(&self, parent: Option<SpanRef<'_, S>>) -> Lineage
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if let Some(p) = &parent {
            // The parent is the span entered last on this thread (the usual case): the
            // thread's copy of its context answers without reading its extensions.
            if let Some((context, tracestate)) = stack::top_context_if(p.id().into_u64(), self.id) {
                return Lineage::child_of(context, tracestate);
            }
        }
        let mut cur = parent;
        while let Some(p) = cur {
            if let Some(d) = p.extensions().get::<SpanData>() {
                return Lineage::child_of(d.traceparent(), d.tracestate().cloned());
            }
            cur = p.parent();
        }
        self.root()
    }

    /// The lineage of a new root: a random trace id, sampled as the root sampler decides.
    fn root(&self) -> Lineage {
        let trace_id = TraceId::random();
        let sampled = self.root_sampler.get().is_none_or(|f| f(trace_id));
        if !sampled {
            note_unsampled();
        }
        Lineage {
            trace_id,
            parent_span_id: None,
            sampled,
            // Every bit of a generated trace id is random: W3C Level 2's random flag holds.
            random: true,
            remote_parent: false,
            tracestate: None,
        }
    }

    /// The fields of a new span: all of them, or only the control fields (none to read when
    /// its call site declares none).
    #[inline]
    fn collect(&self, attrs: &Attributes<'_>, all: bool) -> SpanFields {
        if all || has_control_fields(attrs.metadata()) {
            self.record_new(attrs, all)
        } else {
            SpanFields::default()
        }
    }

    /// Reads the fields of a new span: all of them, or only the control fields.
    #[inline(never)]
    fn record_new(&self, attrs: &Attributes<'_>, all: bool) -> SpanFields {
        let mut fields = SpanFields::with_capacity(if all { attrs.fields().len() } else { 0 });
        attrs.record(&mut Typed(FieldCollector::new_span(
            &mut fields,
            &self.redactor(),
            !all,
            attrs.metadata(),
        )));
        fields
    }

    /// Applies a `Span::record` call.
    fn record<S>(&self, id: &Id, values: &Record<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        let Some(d) = ext.get_mut::<SpanData>() else {
            return;
        };
        let only_control = !d.has_all_fields();
        values.record(&mut Typed(FieldCollector {
            fields: d.fields_mut(),
            redactor: &self.redactor(),
            replace: true,
            only_control,
            plan: None,
            plain: 0,
        }));
    }

    /// Pushes the span on the thread's stack (for [`current`](super::current) and the
    /// lineage of its children) and starts its busy interval.
    fn enter<S>(&self, id: &Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let raw = id.into_u64();
        // Entered right after its capture on this thread: no registry lookup.
        if let Some(slot) = stack::take_just_created(raw, self.id) {
            stack::push(raw, self.id, slot.context, None, slot.timed);
            return;
        }
        self.enter_from_data(raw, id, ctx);
    }

    #[inline(never)]
    fn enter_from_data<S>(&self, raw: u64, id: &Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(span) = ctx.span(id) else { return };
        let ext = span.extensions();
        let Some(d) = ext.get::<SpanData>() else {
            return;
        };
        let (context, tracestate, timed) = (d.traceparent(), d.tracestate().cloned(), d.is_timed());
        drop(ext);
        stack::push(raw, self.id, context, tracestate, timed);
    }

    /// Pops the span from the thread's stack, adds the interval to its busy time and hands it
    /// the children summarised in its entry.
    fn exit<S>(&self, id: &Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(popped) = stack::pop(id.into_u64(), self.id) else {
            return;
        };
        let busy = popped
            .entered_at
            .map(|entered_at| clock::now().saturating_sub(entered_at));
        let Some(span) = ctx.span(id) else { return };
        let mut ext = span.extensions_mut();
        if let Some(d) = ext.get_mut::<SpanData>() {
            if let Some(busy) = busy {
                d.add_busy(busy);
            }
            if let Some(c) = popped.children {
                d.take_summary(c);
            }
        }
    }
}

impl Lineage {
    /// The lineage of a local child of the span whose own context is `parent`.
    fn child_of(parent: TraceParent, tracestate: Option<Arc<str>>) -> Self {
        Lineage {
            trace_id: parent.trace_id,
            parent_span_id: Some(parent.span_id),
            sampled: parent.sampled,
            random: parent.random,
            remote_parent: false,
            tracestate,
        }
    }
}

impl<S> Layer<S> for CaptureLayer
where
    S: Subscriber + for<'a> LookupSpan<'a> + 'static,
{
    fn on_layer(&mut self, subscriber: &mut S) {
        self.idle = find_capture(subscriber).is_some();
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if !self.idle {
            self.capture.new_span(attrs, id, &ctx);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if !self.idle {
            self.capture.record(id, values, &ctx);
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if !self.idle {
            self.capture.enter(id, &ctx);
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if !self.idle {
            self.capture.exit(id, &ctx);
        }
    }
}

/// A taskwire layer that holds a [`LayerCapture`], so that the layers above it find the
/// capture it uses (its own, or the one below it).
pub trait CapturingLayer: 'static {
    /// The layer's capture.
    fn layer_capture(&self) -> &LayerCapture;
}

/// Finds the [`LayerCapture`] of a layer of type `L` in a subscriber, if it holds one.
type Reach = for<'a> fn(&'a (dyn Subscriber + 'static)) -> Option<&'a LayerCapture>;

/// The taskwire layer types added to a stack so far (with `LayerCapture::attach`), which the
/// layers added later look for below them.
static CAPTURING_TYPES: RwLock<Vec<(TypeId, Reach)>> = RwLock::new(Vec::new());

fn reach<'a, L: CapturingLayer>(
    subscriber: &'a (dyn Subscriber + 'static),
) -> Option<&'a LayerCapture> {
    subscriber
        .downcast_ref::<L>()
        .map(CapturingLayer::layer_capture)
}

/// The capture installed in `subscriber` (below the layer asking), if any: a [`CaptureLayer`],
/// or the capture a taskwire layer below uses. Asked once per layer, when the stack is built.
fn find_capture<S: Subscriber + 'static>(subscriber: &S) -> Option<Arc<Capture>> {
    let subscriber: &(dyn Subscriber + 'static) = subscriber;
    if let Some(layer) = subscriber.downcast_ref::<CaptureLayer>() {
        return Some(Arc::clone(&layer.capture));
    }
    let types = CAPTURING_TYPES
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    types
        .iter()
        .find_map(|(_, reach)| reach(subscriber))
        .map(|below| Arc::clone(&below.capture))
}

/// Adds `L` to the types [`find_capture`] looks for.
fn register<L: CapturingLayer>() {
    let id = TypeId::of::<L>();
    let known = |types: &Vec<(TypeId, Reach)>| types.iter().any(|(t, _)| *t == id);
    if known(
        &CAPTURING_TYPES
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner),
    ) {
        return;
    }
    let mut types = CAPTURING_TYPES
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if !known(&types) {
        types.push((id, reach::<L> as Reach));
    }
}

/// The capture a taskwire layer uses: the stack's [`CaptureLayer`] when one is installed below
/// it (or another taskwire layer below captures), else its own. The layer implements
/// [`CapturingLayer`], calls [`LayerCapture::attach`] from `Layer::on_layer` and forwards its
/// span callbacks, which do nothing unless the layer captures.
pub struct LayerCapture {
    needs: Needs,
    /// The layer's redactor: its own capture's, and added to the capture below it.
    redactor: Redactor,
    /// Whether the redactor was given ([`LayerCapture::with_redactor`]) rather than the default.
    own_redactor: bool,
    capture: Arc<Capture>,
    /// Whether `capture` is this layer's own (no capture below it).
    captures: bool,
    /// The own capture met a span that another capture had captured (layers composed in a
    /// `Vec` or with `and_then` do not see each other when they are added): it stops for good.
    stopped: AtomicBool,
    /// Whether the own capture captured any span yet: until then records, enters and exits
    /// need no look at the span (see [`LayerCapture::on_new_span_if`]).
    captured_any: AtomicBool,
}

impl fmt::Debug for LayerCapture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LayerCapture")
            .field("needs", &self.needs)
            .field("captures", &self.captures)
            .finish_non_exhaustive()
    }
}

impl LayerCapture {
    /// A layer's capture with what it `needs`; it captures itself until [`Self::attach`]
    /// finds a capture below it.
    pub fn new(needs: Needs) -> Self {
        let capture = Capture::default();
        capture.require(&needs);
        LayerCapture {
            needs,
            redactor: Redactor::default(),
            own_redactor: false,
            capture: Arc::new(capture),
            captures: true,
            stopped: AtomicBool::new(false),
            captured_any: AtomicBool::new(false),
        }
    }

    /// Redacts with `redactor` the spans this layer captures itself; a capture below it also
    /// redacts what `redactor` calls sensitive.
    #[must_use]
    pub fn with_redactor(self, redactor: Redactor) -> Self {
        let capture = Capture {
            redactor: RedactorCell::new(redactor.clone()),
            ..Capture::default()
        };
        capture.require(&self.needs);
        LayerCapture {
            redactor,
            own_redactor: true,
            capture: Arc::new(capture),
            ..self
        }
    }

    /// The same capture with what `needs` asks for instead.
    #[must_use]
    pub fn with_needs(self, needs: Needs) -> Self {
        let fresh = LayerCapture::new(needs);
        if self.own_redactor {
            fresh.with_redactor(self.redactor)
        } else {
            fresh
        }
    }

    /// The layer's redactor (given with [`Self::with_redactor`]), for its event fields and
    /// the spans it captures itself.
    pub fn redactor(&self) -> &Redactor {
        &self.redactor
    }

    /// Looks for a capture below layer `L` (call it from `Layer::on_layer`): when there is
    /// one, the layer reads it and tells it what it needs; otherwise it captures itself, and
    /// the layers added above it will find its capture.
    pub fn attach<L: CapturingLayer, S: Subscriber + 'static>(&mut self, subscriber: &S) {
        if let Some(below) = find_capture(subscriber) {
            below.require(&self.needs);
            below.has_readers.store(true, Ordering::Relaxed);
            if self.own_redactor {
                below.widen_redactor(&self.redactor);
            }
            self.capture = below;
            self.captures = false;
        }
        register::<L>();
    }

    /// Asks the capture this layer uses (its own, or the one below it) for `needs` as well:
    /// for what a layer decides only once it knows whether it reads a capture below
    /// ([`Self::reads_below`]).
    pub fn require(&self, needs: &Needs) {
        self.capture.require(needs);
    }

    /// Whether this layer reads a capture below it (found by [`Self::attach`]) rather than
    /// capturing spans itself.
    pub fn reads_below(&self) -> bool {
        !self.captures
    }

    /// Whether this layer captures spans itself (no capture below it).
    pub fn captures(&self) -> bool {
        self.active().is_some()
    }

    #[inline]
    fn active(&self) -> Option<&Capture> {
        (self.captures && !self.stopped.load(Ordering::Relaxed)).then_some(&*self.capture)
    }

    /// Captures a new span, when this layer captures.
    #[inline]
    pub fn on_new_span<S>(&self, attrs: &Attributes<'_>, id: &Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        self.on_new_span_if(true, attrs, id, ctx);
    }

    /// Like [`Self::on_new_span`], for a layer that needs the data of only some spans
    /// (`needed`: this one's): while no other layer reads its capture, it captures only
    /// those, and until it captured one it skips records, enters and exits without a look at
    /// the span.
    #[inline]
    pub fn on_new_span_if<S>(
        &self,
        needed: bool,
        attrs: &Attributes<'_>,
        id: &Id,
        ctx: &Context<'_, S>,
    ) where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        let Some(own) = self.active() else { return };
        if !needed && !own.has_readers.load(Ordering::Relaxed) {
            return;
        }
        match own.new_span(attrs, id, ctx) {
            NewSpan::Captured => {
                if !self.captured_any.load(Ordering::Relaxed) {
                    self.captured_any.store(true, Ordering::Relaxed);
                }
            }
            NewSpan::AlreadyCaptured => self.stopped.store(true, Ordering::Relaxed),
            NewSpan::Unknown => {}
        }
    }

    /// The own capture, when it captured some span and has not stopped.
    #[inline]
    fn following(&self) -> Option<&Capture> {
        self.captured_any
            .load(Ordering::Relaxed)
            .then(|| self.active())
            .flatten()
    }

    /// Applies a `Span::record` call, when this layer captures.
    #[inline]
    pub fn on_record<S>(&self, id: &Id, values: &Record<'_>, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if let Some(own) = self.following() {
            own.record(id, values, ctx);
        }
    }

    /// Follows an enter, when this layer captures.
    #[inline]
    pub fn on_enter<S>(&self, id: &Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if let Some(own) = self.following() {
            own.enter(id, ctx);
        }
    }

    /// Follows an exit, when this layer captures.
    #[inline]
    pub fn on_exit<S>(&self, id: &Id, ctx: &Context<'_, S>)
    where
        S: Subscriber + for<'a> LookupSpan<'a>,
    {
        if let Some(own) = self.following() {
            own.exit(id, ctx);
        }
    }

    /// Summarises a child task named `name` that took `duration_us` (with its own summary,
    /// `grandchildren`) in its parent, the span whose own id is `parent`, when this layer
    /// captures spans itself, or reads the capture of a layer below it (a `CaptureLayer`, as the
    /// builder installs), and that span is entered on this thread: the summary is kept beside
    /// the thread's entry of the parent and reaches the parent's data ([`SpanData::children`])
    /// when the capture follows the parent's exit, which the capturing layer below does before
    /// this layer sees it, so the child's close needs no look at the parent. Returns `false`,
    /// doing nothing, otherwise: the caller then summarises in the parent's data itself
    /// ([`SpanData::summarise_child`]).
    #[inline]
    pub fn summarise_in_entered_parent(
        &self,
        parent: crate::ids::SpanId,
        name: &'static str,
        duration_us: u64,
        grandchildren: Option<&crate::task_record::children::Children>,
    ) -> bool {
        let capture = if self.captures {
            self.active()
        } else {
            Some(&*self.capture)
        };
        capture.is_some_and(|c| {
            stack::summarise_in_entered(c.id, parent, name, duration_us, grandchildren)
        })
    }

    /// The innermost span entered on this thread (not a re-entry) that the capture this layer
    /// uses saw: what the registry calls the current span, without asking it. A layer behind
    /// a per-layer filter checks that it may see the span (`Context::span`).
    #[inline]
    pub fn current_span(&self) -> Option<Id> {
        stack::current_span(self.capture.id)
    }
}
