//! [`FieldPlan`]: what the fields of a span call site become (redacted or kept, steering
//! taskwire or not, possibly repeated), decided once per call site and redactor rather than
//! per field of every span.

use tracing_core::Metadata;

use crate::cache::{self, SiteSlots};
use crate::redact::Redactor;
use crate::schema;

/// Fields that steer taskwire (a task's name, a recorded outcome), captured even when no layer
/// in the stack reads span fields.
pub const CONTROL_FIELDS: [&str; 3] = [schema::TASK_NAME, schema::OTEL_NAME, schema::OUTCOME];

/// Fields at this index or beyond are decided one by one, as without a plan.
pub(crate) const PLANNED_FIELDS: usize = 64;

/// Plans remembered per thread (one per call site and redactor).
const KNOWN_PLANS: usize = 64;

/// The fields of one span call site as a given redactor sees them. Bit `i` of each mask is the
/// call site's field of index `i` (`Field::index`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct FieldPlan {
    /// Fields whose key is sensitive: their values are never read.
    pub(crate) sensitive: u64,
    /// Fields that are control fields (`task.name`, `otel.name`, `outcome`).
    pub(crate) control: u64,
    /// No two fields of the call site share a name, so a new span's field needs no search
    /// for an earlier value under its name.
    pub(crate) unique: bool,
}

impl FieldPlan {
    /// The plan of `meta`'s fields for `redactor`: from the thread's table when it was made
    /// before, else made and remembered.
    #[inline]
    pub(crate) fn of(meta: &'static Metadata<'static>, redactor: &Redactor) -> FieldPlan {
        thread_local! {
            static KNOWN: SiteSlots<FieldPlan, KNOWN_PLANS> = const { SiteSlots::new() };
        }
        cache::with_slot(&KNOWN, redactor.id(), meta, || {
            FieldPlan::make(meta, redactor)
        })
    }

    #[cold]
    #[inline(never)]
    fn make(meta: &'static Metadata<'static>, redactor: &Redactor) -> FieldPlan {
        let mut plan = FieldPlan {
            sensitive: 0,
            control: 0,
            unique: true,
        };
        let fields = meta.fields();
        for (i, field) in fields.iter().enumerate() {
            let name = field.name();
            if fields.iter().take(i).any(|f| f.name() == name) {
                plan.unique = false;
            }
            if i >= PLANNED_FIELDS {
                continue;
            }
            if redactor.is_sensitive(name) {
                plan.sensitive |= 1 << i;
            }
            if CONTROL_FIELDS.contains(&name) {
                plan.control |= 1 << i;
            }
        }
        plan
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_marks_sensitive_control_and_repeated_fields() {
        struct Site;
        impl tracing_core::Callsite for Site {
            fn set_interest(&self, _: tracing_core::Interest) {}
            fn metadata(&self) -> &Metadata<'_> {
                &META
            }
        }
        static SITE: Site = Site;
        static META: Metadata<'static> = tracing_core::metadata!(
            name: "s",
            target: "t",
            level: tracing_core::Level::INFO,
            fields: &["user", "password", "task.name", "user"],
            callsite: &SITE,
            kind: tracing_core::metadata::Kind::SPAN,
        );
        let plan = FieldPlan::of(&META, &Redactor::default());
        assert_eq!(plan.sensitive, 0b0010);
        assert_eq!(plan.control, 0b0100);
        assert!(!plan.unique);
        let none = FieldPlan::of(&META, &Redactor::none());
        assert_eq!(none.sensitive, 0);
    }
}
