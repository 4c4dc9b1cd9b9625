//! [`SpanFields`]: a span's fields, typed, and rendered as JSON once per change.
//!
//! A span keeps its string values back to back in one text buffer (no allocation per value),
//! and when the span closes its buffers go to a small per-thread pool that the next spans
//! created on the thread take from: in steady state, capturing and rendering a span's fields
//! allocates nothing.

use std::cell::RefCell;
use std::fmt::{self, Write as _};
use std::sync::OnceLock;

use tracing_core::callsite::Identifier;
use tracing_core::field::Field;
use tracing_core::Metadata;

use crate::redact::Redactor;
use crate::value::{ErrorValue, FieldRef, FieldSink, FieldValue};

pub use super::plan::CONTROL_FIELDS;
use super::plan::{FieldPlan, PLANNED_FIELDS};

/// [`SpanFields::control`] bits of `task.name` and `otel.name`.
const CONTROL_NAMES: u8 = 0b011;
/// [`SpanFields::control`] bit of `outcome`.
const CONTROL_OUTCOME: u8 = 0b100;

/// A span's fields, typed, and rendered as JSON values when first read after a change, never
/// per event. Read with [`SpanFields::get`], [`SpanFields::iter`] (values borrowed as
/// [`FieldRef`]) and [`SpanFields::rendered`].
#[derive(Default)]
pub struct SpanFields {
    entries: Vec<Entry>,
    /// The string values, back to back; [`Stored::Str`] says where each one lies.
    text: String,
    /// Bytes of `text` no entry points to any more (values replaced by `Span::record`).
    dead: usize,
    /// The JSON rendering of `entries`; emptied by every change.
    rendered: OnceLock<Rendered>,
    /// Which of [`CONTROL_FIELDS`] are recorded (bit `i`: `CONTROL_FIELDS[i]`), so the
    /// questions every close asks (the task's name, a recorded outcome) skip the search when
    /// the answer is no.
    control: u8,
}

impl fmt::Debug for SpanFields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

struct Entry {
    name: &'static str,
    value: Stored,
}

/// A value as a span keeps it: a string as a range of [`SpanFields::text`], any other value
/// as the [`FieldValue`] itself.
enum Stored {
    /// Start and length in `text`.
    Str(u32, u32),
    /// A value that is not a string (never a [`FieldValue::Str`]).
    Other(FieldValue),
}

impl Stored {
    #[inline]
    fn view<'a>(&'a self, text: &'a str) -> FieldRef<'a> {
        match self {
            Stored::Str(start, len) => {
                let start = *start as usize;
                FieldRef::Str(text.get(start..start + *len as usize).unwrap_or_default())
            }
            Stored::Other(v) => v.view(),
        }
    }

    /// Keeps `value`, its string (if any) appended to `text`.
    fn keep(value: FieldValue, text: &mut String) -> Stored {
        match value {
            FieldValue::Str(s) => Stored::text(text, |t| t.push_str(&s)),
            other => Stored::Other(other),
        }
    }

    /// A string value `write` appends to `text`.
    #[inline]
    fn text(text: &mut String, write: impl FnOnce(&mut String)) -> Stored {
        let start = text.len();
        write(text);
        let len = text.len() - start;
        Stored::Str(
            u32::try_from(start).unwrap_or(u32::MAX),
            u32::try_from(len).unwrap_or(0),
        )
    }
}

/// The JSON rendering of every value, back to back, and where each one lies.
#[derive(Debug, Default)]
struct Rendered {
    json: Vec<u8>,
    ranges: Vec<(u32, u32)>,
}

/// Buffers of closed spans kept per thread for the next spans, at most this many of each kind.
const SPARE_MAX: usize = 64;
/// Buffers larger than these are freed rather than kept.
const SPARE_MAX_ENTRIES: usize = 64;
const SPARE_MAX_BYTES: usize = 4096;

thread_local! {
    /// Entry and text buffers of closed spans' fields.
    static SPARE_FIELDS: RefCell<Vec<(Vec<Entry>, String)>> = const { RefCell::new(Vec::new()) };
    /// Rendering buffers of closed spans' fields, and of renderings dropped by a change.
    static SPARE_RENDERINGS: RefCell<Vec<Rendered>> = const { RefCell::new(Vec::new()) };
}

/// Keeps `item` in `pool` for reuse, when there is room (and the thread is not exiting).
fn spare<T>(pool: &'static std::thread::LocalKey<RefCell<Vec<T>>>, item: T) {
    let _ = pool.try_with(|p| {
        if let Ok(mut p) = p.try_borrow_mut() {
            if p.len() < SPARE_MAX {
                p.push(item);
            }
        }
    });
}

/// A buffer from `pool`, if it holds one.
fn reuse<T>(pool: &'static std::thread::LocalKey<RefCell<Vec<T>>>) -> Option<T> {
    pool.try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.pop()))
        .ok()
        .flatten()
}

impl Rendered {
    /// Back to the pool, emptied.
    fn spare(mut self) {
        if self.json.capacity() <= 4 * SPARE_MAX_BYTES
            && self.ranges.capacity() <= SPARE_MAX_ENTRIES
        {
            self.json.clear();
            self.ranges.clear();
            spare(&SPARE_RENDERINGS, self);
        }
    }
}

impl Drop for SpanFields {
    fn drop(&mut self) {
        self.drop_rendering();
        if self.entries.capacity() == 0 && self.text.capacity() == 0 {
            return;
        }
        let mut entries = std::mem::take(&mut self.entries);
        let mut text = std::mem::take(&mut self.text);
        if entries.capacity() <= SPARE_MAX_ENTRIES && text.capacity() <= SPARE_MAX_BYTES {
            entries.clear();
            text.clear();
            spare(&SPARE_FIELDS, (entries, text));
        }
    }
}

impl SpanFields {
    /// Fields for a span that declares `n` of them, in buffers a closed span left when there
    /// are some.
    #[inline]
    pub(crate) fn with_capacity(n: usize) -> Self {
        let (entries, text) = if n == 0 {
            (Vec::new(), String::new())
        } else {
            reuse(&SPARE_FIELDS).unwrap_or_else(|| (Vec::with_capacity(n), String::new()))
        };
        SpanFields {
            entries,
            text,
            dead: 0,
            rendered: OnceLock::new(),
            control: 0,
        }
    }

    /// The number of recorded fields.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no field is recorded.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The value recorded under `name`.
    pub fn get(&self, name: &str) -> Option<FieldRef<'_>> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.value.view(&self.text))
    }

    /// Fields in the order they were first recorded, with typed values.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, FieldRef<'_>)> + '_ {
        self.entries
            .iter()
            .map(|e| (e.name, e.value.view(&self.text)))
    }

    /// Fields with their values rendered as JSON (redacted, escaped, typed). The rendering is
    /// made on the first call after the fields changed and reused until they change again.
    pub fn rendered(&self) -> impl Iterator<Item = (&'static str, &[u8])> + '_ {
        let r = self.rendered.get_or_init(|| self.render());
        self.entries
            .iter()
            .zip(&r.ranges)
            .map(|(e, &(start, end))| {
                (
                    e.name,
                    r.json.get(start as usize..end as usize).unwrap_or_default(),
                )
            })
    }

    /// Renders every value as JSON; reads the fields, changes nothing.
    fn render(&self) -> Rendered {
        let mut r = reuse(&SPARE_RENDERINGS).unwrap_or_else(|| Rendered {
            json: Vec::with_capacity(self.entries.len() * 12),
            ranges: Vec::with_capacity(self.entries.len()),
        });
        for e in &self.entries {
            let start = u32::try_from(r.json.len()).unwrap_or(u32::MAX);
            crate::json::write_field(&mut r.json, e.value.view(&self.text));
            let end = u32::try_from(r.json.len()).unwrap_or(u32::MAX);
            r.ranges.push((start, end));
        }
        r
    }

    /// Whether a `task.name` or `otel.name` field is recorded.
    #[inline]
    pub(crate) fn has_name(&self) -> bool {
        self.control & CONTROL_NAMES != 0
    }

    /// Whether an `outcome` field is recorded.
    #[inline]
    pub(crate) fn has_outcome(&self) -> bool {
        self.control & CONTROL_OUTCOME != 0
    }

    /// Sets a field to the value `keep` makes (appending a string to the text buffer). An
    /// earlier value under the same name is replaced when `replace` (a `Span::record`), kept
    /// otherwise (a name repeated at creation: the first wins, as for events; `keep` is not
    /// called). The rendering is dropped, so the next reader renders the new values.
    fn set(&mut self, name: &'static str, replace: bool, keep: impl FnOnce(&mut String) -> Stored) {
        self.mark_control(name);
        match self.entries.iter().position(|e| e.name == name) {
            Some(i) if replace => {
                let value = keep(&mut self.text);
                if let Stored::Str(_, len) = std::mem::replace(&mut self.entries[i].value, value) {
                    self.dead += len as usize;
                    if self.dead > 256 && self.dead * 2 > self.text.len() {
                        self.compact();
                    }
                }
            }
            Some(_) => return,
            None => {
                let value = keep(&mut self.text);
                self.entries.push(Entry { name, value });
            }
        }
        self.drop_rendering();
    }

    /// Gives the rendering back to the pool, so the next reader renders the current values;
    /// looked at first, since most spans are never rendered.
    #[inline]
    fn drop_rendering(&mut self) {
        if self.rendered.get().is_some() {
            if let Some(r) = self.rendered.take() {
                r.spare();
            }
        }
    }

    /// Notes `name` in [`SpanFields::control`] when it is a control field.
    #[inline]
    fn mark_control(&mut self, name: &str) {
        if let Some(i) = CONTROL_FIELDS.iter().position(|c| *c == name) {
            self.control |= 1 << i;
        }
    }

    /// Appends a field that is not a control field to fields nothing rendered yet, whose
    /// call site declares no other field under `name`.
    #[inline]
    fn append(&mut self, name: &'static str, keep: impl FnOnce(&mut String) -> Stored) {
        let value = keep(&mut self.text);
        self.entries.push(Entry { name, value });
    }

    /// Adds a field of a new span whose call site declares no other field under `name` (its
    /// [`FieldPlan`] says so, and whether `name` is a control field): no earlier value to
    /// look for.
    #[inline]
    fn add_unique(
        &mut self,
        name: &'static str,
        control: bool,
        keep: impl FnOnce(&mut String) -> Stored,
    ) {
        if control {
            self.mark_control(name);
        }
        self.append(name, keep);
        self.drop_rendering();
    }

    /// Copies the live strings to a new text buffer, leaving out replaced values.
    #[cold]
    fn compact(&mut self) {
        let old = std::mem::take(&mut self.text);
        self.text = String::with_capacity(old.len() - self.dead);
        for e in &mut self.entries {
            if let Stored::Str(start, len) = e.value {
                let s = old
                    .get(start as usize..start as usize + len as usize)
                    .unwrap_or_default();
                e.value = Stored::text(&mut self.text, |t| t.push_str(s));
            }
        }
        self.dead = 0;
    }
}

/// Records span fields into [`SpanFields`], redacting sensitive keys.
pub(crate) struct FieldCollector<'a> {
    pub(crate) fields: &'a mut SpanFields,
    pub(crate) redactor: &'a Redactor,
    /// A `Span::record` (replaces earlier values) rather than the span's creation.
    pub(crate) replace: bool,
    /// Keep only the fields taskwire itself acts on ([`CONTROL_FIELDS`]).
    pub(crate) only_control: bool,
    /// The plan of the new span's call site (identified by the first member), which decides
    /// its fields without a look at their names; `None` for a `Span::record`.
    pub(crate) plan: Option<(Identifier, FieldPlan)>,
    /// The plan's fields that are simply appended (bit `i`: field `i`): a new span's field
    /// that is neither sensitive nor a control field, of a call site without repeated names,
    /// in fields nothing rendered yet.
    pub(crate) plain: u64,
}

impl<'a> FieldCollector<'a> {
    /// A collector of a new span's fields, made with `meta`'s plan.
    pub(crate) fn new_span(
        fields: &'a mut SpanFields,
        redactor: &'a Redactor,
        only_control: bool,
        meta: &'static Metadata<'static>,
    ) -> FieldCollector<'a> {
        let plan = FieldPlan::of(meta, redactor);
        let plain = if only_control || !plan.unique || fields.rendered.get().is_some() {
            0
        } else {
            !(plan.sensitive | plan.control)
        };
        FieldCollector {
            fields,
            redactor,
            replace: false,
            only_control,
            plan: Some((meta.callsite(), plan)),
            plain,
        }
    }

    /// The plan's bit of `field`, when the plan covers it.
    #[inline]
    fn planned(&self, field: &Field) -> Option<(u64, &FieldPlan)> {
        let (site, plan) = self.plan.as_ref()?;
        let i = field.index();
        (i < PLANNED_FIELDS && field.callsite() == *site).then(|| (1u64 << i, plan))
    }

    /// Sets `field` to what `keep` makes, or to `[redacted]` when its name is sensitive.
    #[inline]
    fn set(&mut self, field: &Field, keep: impl FnOnce(&mut String) -> Stored) {
        let name = field.name();
        if let Some((bit, plan)) = self.planned(field) {
            if self.plain & bit != 0 {
                self.fields.append(name, keep);
                return;
            }
            let control = plan.control & bit != 0;
            let (sensitive, unique) = (plan.sensitive & bit != 0, plan.unique);
            if self.only_control && !control {
                return;
            }
            let keep = |text: &mut String| {
                if sensitive {
                    Stored::Other(FieldValue::Redacted)
                } else {
                    keep(text)
                }
            };
            if unique && !self.replace {
                self.fields.add_unique(name, control, keep);
            } else {
                self.fields.set(name, self.replace, keep);
            }
            return;
        }
        if self.only_control && !CONTROL_FIELDS.contains(&name) {
            return;
        }
        if self.redactor.is_sensitive_field(name) {
            self.fields
                .set(name, self.replace, |_| Stored::Other(FieldValue::Redacted));
        } else {
            self.fields.set(name, self.replace, keep);
        }
    }
}

impl FieldSink for FieldCollector<'_> {
    #[inline]
    fn wants(&mut self, field: &Field) -> bool {
        if !self.only_control {
            return true;
        }
        match self.planned(field) {
            Some((bit, plan)) => plan.control & bit != 0,
            None => CONTROL_FIELDS.contains(&field.name()),
        }
    }

    fn put(&mut self, field: &Field, value: FieldValue) {
        self.set(field, |text| Stored::keep(value, text));
    }

    fn put_str(&mut self, field: &Field, value: &str) {
        self.set(field, |text| Stored::text(text, |t| t.push_str(value)));
    }

    fn put_string(&mut self, field: &Field, value: String) {
        self.put_str(field, &value);
    }

    fn put_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        // A failing `Debug` impl keeps what it wrote.
        self.set(field, |text| {
            Stored::text(text, |t| {
                let _ = write!(t, "{value:?}");
            })
        });
    }

    fn put_error(&mut self, field: &Field, value: ErrorValue) {
        self.set(field, |_| Stored::Other(FieldValue::Error(Box::new(value))));
    }
}

/// Call sites [`has_control_fields`] remembers per thread.
const KNOWN_SITES: usize = 64;

/// Whether a span call site declares any of [`CONTROL_FIELDS`], remembered per thread
/// ([`SiteSlots`](crate::cache::SiteSlots)).
#[inline]
pub(crate) fn has_control_fields(meta: &'static Metadata<'static>) -> bool {
    thread_local! {
        static KNOWN: crate::cache::SiteSlots<bool, KNOWN_SITES> =
            const { crate::cache::SiteSlots::new() };
    }
    crate::cache::with_slot(&KNOWN, 0, meta, || declares_control_fields(meta))
}

/// Whether `meta` declares any of [`CONTROL_FIELDS`].
#[cold]
fn declares_control_fields(meta: &'static Metadata<'static>) -> bool {
    meta.fields()
        .iter()
        .any(|f| CONTROL_FIELDS.contains(&f.name()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &str) -> impl FnOnce(&mut String) -> Stored + '_ {
        move |t| Stored::text(t, |t| t.push_str(s))
    }

    #[test]
    fn a_name_repeated_at_creation_keeps_the_first_value() {
        let mut f = SpanFields::with_capacity(2);
        f.set("a", false, text("first"));
        f.set("a", false, text("second"));
        assert_eq!(f.len(), 1);
        assert_eq!(f.get("a"), Some(FieldRef::Str("first")));
    }

    #[test]
    fn recorded_values_replace_earlier_ones_and_the_text_stays_bounded() {
        let mut f = SpanFields::with_capacity(2);
        f.set("a", false, text("first"));
        f.set("b", false, text("kept"));
        for i in 0..1_000 {
            f.set("a", true, |t| {
                Stored::text(t, |t| {
                    let _ = write!(t, "value number {i}");
                })
            });
        }
        assert_eq!(f.get("a"), Some(FieldRef::Str("value number 999")));
        assert_eq!(f.get("b"), Some(FieldRef::Str("kept")));
        assert!(f.text.len() < 1_024, "{} bytes kept", f.text.len());
        let rendered: Vec<_> = f.rendered().collect();
        assert_eq!(
            rendered,
            [
                ("a", &br#""value number 999""#[..]),
                ("b", &br#""kept""#[..])
            ]
        );
    }

    #[test]
    fn a_change_renders_the_new_values() {
        let mut f = SpanFields::with_capacity(1);
        f.set("n", false, |_| Stored::Other(FieldValue::I64(1)));
        assert_eq!(f.rendered().next(), Some(("n", &b"1"[..])));
        f.set("n", true, text("two"));
        assert_eq!(f.rendered().next(), Some(("n", &br#""two""#[..])));
        assert_eq!(format!("{f:?}"), r#"{"n": Str("two")}"#);
    }
}
