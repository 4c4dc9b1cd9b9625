//! The flattened fields of an event's spans (innermost first, no key twice), rendered once per
//! span and reused by its later events and by its children's.
//!
//! A span's flattening is its own fields (first of a name wins) followed by its parent's
//! flattening minus the keys the span already wrote. It is kept per thread in [`FlatSpans`],
//! keyed by the layer configuration and the span (registry id and span id), and valid while
//! the generations it depends on stand still: every `Span::record` seen by a JSON layer
//! advances the generation of its span's trace ([`fields_changed`]; trace ids share
//! [`BUCKETS`] generations), and a flattening depends on those of the traces of the spans it
//! holds (one, unless a span under a local parent was re-parented into a remote trace). A
//! record in one request leaves the flattenings of the other requests, on every thread,
//! valid. An event then writes its spans' fields with one copy, or, when one of its own keys
//! may collide with them, one copy per field it does not shadow.

use std::sync::atomic::{AtomicU64, Ordering};

use taskwire_core::{json, FieldRef, SpanData, SpanId, TraceId};
use tracing_core::{Metadata, Subscriber};
use tracing_subscriber::registry::{LookupSpan, SpanRef};

use crate::format::{write_ids, Format};
use crate::keys::KeyNames;
use crate::plan::{span_plan_for, write_key, OutKey, Plans, SpanPlan};

/// How many generations trace ids share (a power of two, at most 64: a flattening's
/// dependencies are a bit mask).
const BUCKETS: usize = 64;

/// A generation of span fields, on a cache line of its own.
#[repr(align(64))]
struct Generation(AtomicU64);

/// Advanced by every `Span::record` a JSON layer sees, after the fields changed, in the
/// bucket of the span's trace.
static GENERATIONS: [Generation; BUCKETS] = [const { Generation(AtomicU64::new(0)) }; BUCKETS];

/// The bucket of `trace` (its low bits, random for every trace id taskwire makes and for
/// W3C ids from other processes).
#[inline]
fn bucket(trace: TraceId) -> u32 {
    (trace.to_u128() as u32) & (BUCKETS as u32 - 1)
}

#[inline]
fn generation(bucket: u32) -> u64 {
    GENERATIONS[bucket as usize].0.load(Ordering::Acquire)
}

/// Marks the kept flattenings of the spans of `trace` (and of the traces sharing its bucket)
/// stale: a span's fields changed.
#[inline]
pub(crate) fn fields_changed(trace: TraceId) {
    GENERATIONS[bucket(trace) as usize]
        .0
        .fetch_add(1, Ordering::Release);
}

/// The generations a flattening was built at: which buckets (bit `i`: bucket `i`) and the sum
/// of their generations then, which grows when any of them does.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Deps {
    mask: u64,
    sum: u64,
}

impl Deps {
    /// Whether no generation in `self` moved since, and the span's trace (now in `own`
    /// bucket) is still one of them.
    #[inline]
    fn valid(&self, own: u32) -> bool {
        if self.mask & (1 << own) == 0 {
            return false;
        }
        if self.mask == 1 << own {
            return generation(own) == self.sum;
        }
        let (mut mask, mut sum) = (self.mask, 0u64);
        while mask != 0 {
            sum = sum.wrapping_add(generation(mask.trailing_zeros()));
            mask &= mask - 1;
        }
        sum == self.sum
    }

    /// `self` (the parent's) with bucket `own`, whose generation `at` was read before the span's
    /// fields were.
    #[inline]
    fn with(self, own: u32, at: u64) -> Deps {
        if self.mask & (1 << own) != 0 {
            self
        } else {
            Deps {
                mask: self.mask | 1 << own,
                sum: self.sum.wrapping_add(at),
            }
        }
    }
}

/// Kept flattenings per thread (direct-mapped by span id, which is random).
const SLOTS: usize = 32;
/// Scopes deeper than this (without a kept flattening) are written field by field.
const MAX_DEPTH: usize = 16;
/// A flattening larger than this marks the cache for trimming.
const KEEP_BYTES: usize = 4096;

/// The trace id, span id and parent span id written with an event (its innermost span's).
pub(crate) type Ids = (TraceId, SpanId, Option<SpanId>);

/// One key of a flattening: its key as written, signature and bytes (`"key":value,`).
#[derive(Clone, Copy)]
struct Entry {
    out: OutKey,
    sig: u64,
    start: u32,
    end: u32,
}

/// A span's flattened fields, each as `"key":value,`.
#[derive(Default)]
struct Flat {
    bytes: Vec<u8>,
    entries: Vec<Entry>,
    /// The OR of the entries' signatures.
    sig: u64,
    /// The span's ids as last written with an event, and their entries (`"trace_id":…,`):
    /// ids are fixed for a span but for a lineage edit, so they are compared, not trusted.
    ids: Option<Ids>,
    ids_bytes: Vec<u8>,
    /// The generations the fields are valid at.
    deps: Deps,
}

/// Whose flattening it is: the layer configuration's and the span's. `bucket`, the bucket of
/// the span's trace now, is not part of whose it is: it is what the kept flattening's
/// [`Deps`] must still cover.
#[derive(Clone, Copy)]
struct SpanKey {
    format: u64,
    span: u64,
    span_id: u64,
    bucket: u32,
}

impl SpanKey {
    /// Whether `self` and `other` name the same span under the same configuration.
    #[inline]
    fn names(&self, other: &SpanKey) -> bool {
        (self.format, self.span, self.span_id) == (other.format, other.span, other.span_id)
    }

    #[inline]
    fn slot(&self) -> usize {
        (self.span_id ^ self.span) as usize % SLOTS
    }
}

#[derive(Default)]
struct Slot {
    key: Option<SpanKey>,
    flat: Flat,
}

/// Per-thread kept flattenings, and a buffer to build the next one in.
#[derive(Default)]
pub(crate) struct FlatSpans {
    slots: Vec<Slot>,
    next: Flat,
    /// Some slot holds more than [`KEEP_BYTES`].
    large: bool,
}

impl FlatSpans {
    /// Frees the buffers of large flattenings.
    pub(crate) fn trim(&mut self) {
        if self.large {
            self.slots.clear();
            self.next = Flat::default();
            self.large = false;
        }
    }

    /// The kept flattening of `key`'s span, if it is still valid.
    #[inline]
    fn get(&self, key: &SpanKey) -> Option<&Flat> {
        let slot = self.slots.get(key.slot())?;
        let kept = slot.key.as_ref().is_some_and(|k| k.names(key));
        (kept && slot.flat.deps.valid(key.bucket)).then_some(&slot.flat)
    }

    #[inline]
    fn get_mut(&mut self, key: &SpanKey) -> Option<&mut Flat> {
        let slot = self.slots.get_mut(key.slot())?;
        let kept = slot.key.as_ref().is_some_and(|k| k.names(key));
        (kept && slot.flat.deps.valid(key.bucket)).then_some(&mut slot.flat)
    }

    /// Flattens a span: its own `fields` (named as `plan` says), then the flattening kept
    /// under `parent` without the keys already written; keeps it under `key`, valid while the
    /// generation of its bucket (`at` when the fields were read) and the parent's stand still.
    fn build<'f>(
        &mut self,
        key: SpanKey,
        at: u64,
        parent: Option<SpanKey>,
        fields: impl Iterator<Item = (&'static str, FieldRef<'f>)>,
        plan: &SpanPlan,
        keys: &KeyNames,
    ) {
        if self.slots.is_empty() {
            self.slots.resize_with(SLOTS, Slot::default);
        }
        let next = &mut self.next;
        next.bytes.clear();
        next.entries.clear();
        next.sig = 0;
        next.ids = None;
        next.deps = Deps::default().with(key.bucket, at);
        for (i, (name, value)) in fields.enumerate() {
            let start = offset(&next.bytes);
            let planned = plan.find(name, i);
            let (out, sig) = match planned {
                Some(p) => (p.out, p.sig),
                None => {
                    let out = OutKey {
                        name,
                        prefixed: keys.collides(name, false),
                    };
                    (out, out.sig())
                }
            };
            if next.sig & sig != 0 && next.entries.iter().any(|e| e.out.same_as(out)) {
                continue;
            }
            match planned {
                Some(p) => next
                    .bytes
                    .extend_from_slice(&plan.keys[p.key_start as usize..p.key_end as usize]),
                None => write_key(&mut next.bytes, out),
            }
            json::write_field(&mut next.bytes, value);
            next.bytes.push(b',');
            next.entries.push(Entry {
                out,
                sig,
                start,
                end: offset(&next.bytes),
            });
            next.sig |= sig;
        }
        let own = next.entries.len();
        let parent = parent.and_then(|p| {
            let slot = self.slots.get(p.slot())?;
            slot.key.is_some_and(|k| k.names(&p)).then_some(&slot.flat)
        });
        if let Some(parent) = parent {
            next.deps = parent.deps.with(key.bucket, at);
            let base = offset(&next.bytes);
            if next.sig & parent.sig == 0 {
                // No key of the span's can be one of its parent's: all of them, in one copy.
                next.bytes.extend_from_slice(&parent.bytes);
                next.entries.extend(parent.entries.iter().map(|e| Entry {
                    start: e.start.saturating_add(base),
                    end: e.end.saturating_add(base),
                    ..*e
                }));
            } else {
                for e in &parent.entries {
                    if next.sig & e.sig != 0
                        && next.entries[..own].iter().any(|o| o.out.same_as(e.out))
                    {
                        continue;
                    }
                    let start = offset(&next.bytes);
                    next.bytes
                        .extend_from_slice(&parent.bytes[e.start as usize..e.end as usize]);
                    next.entries.push(Entry {
                        start,
                        end: offset(&next.bytes),
                        ..*e
                    });
                }
            }
            next.sig |= parent.sig;
        }
        if next.bytes.capacity() > KEEP_BYTES {
            self.large = true;
        }
        let slot = &mut self.slots[key.slot()];
        std::mem::swap(&mut slot.flat, &mut self.next);
        slot.key = Some(key);
    }
}

#[inline]
fn offset(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.len()).unwrap_or(u32::MAX)
}

/// The key a span's flattening is kept under, and its ids; `None` without [`SpanData`].
#[inline]
fn key_of<S>(fmt: &Format, span: &SpanRef<'_, S>) -> Option<(SpanKey, Ids)>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let ext = span.extensions();
    let d = ext.get::<SpanData>()?;
    let key = SpanKey {
        format: fmt.id,
        span: span.id().into_u64(),
        span_id: d.span_id().to_u64(),
        bucket: bucket(d.trace_id()),
    };
    Some((key, (d.trace_id(), d.span_id(), d.parent_span_id())))
}

/// Writes the flattened fields of an event's spans (`first`, its innermost, and its
/// ancestors) into `line`, after the event's own fields (whose keys are in `seen` and whose
/// signatures OR to `seen_sig`), which win; adds the keys written to `seen` when the layer has
/// static fields. Then writes the ids of the innermost span with [`SpanData`]; returns the
/// innermost span's call site.
pub(crate) fn write_spans<S>(
    fmt: &Format,
    flats: &mut FlatSpans,
    span_plans: &mut Plans<SpanPlan>,
    first: SpanRef<'_, S>,
    line: &mut Vec<u8>,
    seen: &mut Vec<OutKey>,
    seen_sig: u64,
) -> &'static Metadata<'static>
where
    S: Subscriber + for<'l> LookupSpan<'l>,
{
    let site = first.metadata();
    let kept = key_of(fmt, &first).filter(|(inner, _)| {
        flats.get(inner).is_some() || keep(fmt, flats, span_plans, &first, *inner, 1).is_some()
    });
    // A span without data, or a scope too deep: field by field.
    let kept = kept.and_then(|(inner, ids)| Some((ids, flats.get_mut(&inner)?)));
    let Some((ids, flat)) = kept else {
        let ids = write_uncached(fmt, span_plans, first.scope(), line, seen, seen_sig);
        if let Some(ids) = ids {
            write_ids(line, fmt, ids);
        }
        return site;
    };
    let shadowed = |e: &Entry| seen_sig & e.sig != 0 && seen.iter().any(|s| s.same_as(e.out));
    // The signatures may match without a key in common: then all of it, in one copy.
    if seen_sig & flat.sig == 0 || !flat.entries.iter().any(shadowed) {
        line.extend_from_slice(&flat.bytes);
    } else {
        for e in flat.entries.iter().filter(|e| !shadowed(e)) {
            line.extend_from_slice(&flat.bytes[e.start as usize..e.end as usize]);
        }
    }
    // The span keys written only matter to the static fields, which they beat.
    if !fmt.statics_rendered.is_empty() {
        seen.extend(flat.entries.iter().map(|e| e.out));
    }
    if flat.ids != Some(ids) {
        flat.ids_bytes.clear();
        write_ids(&mut flat.ids_bytes, fmt, ids);
        flat.ids = Some(ids);
    }
    line.extend_from_slice(&flat.ids_bytes);
    site
}

/// Keeps the flattening of `span` (under `key`), after those of its ancestors up to the
/// innermost one already kept. `None` when a span has no [`SpanData`] or the chain to flatten
/// is deeper than [`MAX_DEPTH`].
fn keep<S>(
    fmt: &Format,
    flats: &mut FlatSpans,
    span_plans: &mut Plans<SpanPlan>,
    span: &SpanRef<'_, S>,
    key: SpanKey,
    depth: usize,
) -> Option<()>
where
    S: Subscriber + for<'l> LookupSpan<'l>,
{
    let parent = match span.parent() {
        None => None,
        Some(p) => {
            let (parent, _) = key_of(fmt, &p)?;
            if flats.get(&parent).is_none() {
                if depth == MAX_DEPTH {
                    return None;
                }
                keep(fmt, flats, span_plans, &p, parent, depth + 1)?;
            }
            Some(parent)
        }
    };
    // Read before the fields: a record after this read makes the flattening stale.
    let at = generation(key.bucket);
    let ext = span.extensions();
    let d = ext.get::<SpanData>()?;
    let plan = span_plan_for(span_plans, fmt, span.metadata());
    // Rendered straight into the flattening: the span's own cached rendering (`rendered()`)
    // would be one more buffer and copy for the same bytes.
    flats.build(key, at, parent, d.fields().iter(), plan, &fmt.keys);
    Some(())
}

/// Writes the flattened fields of `spans` (innermost first) field by field; returns the ids of
/// the innermost span with [`SpanData`].
fn write_uncached<'a, S>(
    fmt: &Format,
    span_plans: &mut Plans<SpanPlan>,
    spans: impl Iterator<Item = SpanRef<'a, S>>,
    line: &mut Vec<u8>,
    seen: &mut Vec<OutKey>,
    mut seen_sig: u64,
) -> Option<Ids>
where
    S: Subscriber + for<'l> LookupSpan<'l>,
{
    let mut ids = None;
    for span in spans {
        let ext = span.extensions();
        let Some(d) = ext.get::<SpanData>() else {
            continue;
        };
        if ids.is_none() {
            ids = Some((d.trace_id(), d.span_id(), d.parent_span_id()));
        }
        let plan = span_plan_for(span_plans, fmt, span.metadata());
        for (i, (name, value)) in d.fields().rendered().enumerate() {
            // The signature clears most keys without comparing strings.
            if let Some(p) = plan.find(name, i) {
                if seen_sig & p.sig != 0 && seen.iter().any(|s| s.same_as(p.out)) {
                    continue;
                }
                seen.push(p.out);
                seen_sig |= p.sig;
                line.extend_from_slice(&plan.keys[p.key_start as usize..p.key_end as usize]);
            } else {
                let out = OutKey {
                    name,
                    prefixed: fmt.keys.collides(name, false),
                };
                let sig = out.sig();
                if seen_sig & sig != 0 && seen.iter().any(|s| s.same_as(out)) {
                    continue;
                }
                seen.push(out);
                seen_sig |= sig;
                write_key(line, out);
            }
            line.extend_from_slice(value);
            line.push(b',');
        }
    }
    ids
}
