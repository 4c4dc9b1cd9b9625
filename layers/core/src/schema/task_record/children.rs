//! The children summary of a task record: the descendant tasks that wrote no record of their
//! own (the tasks layer's default record policy writes roots, process hops, failed and slow
//! tasks), counted in the record of their nearest ancestor that has one.
//!
//! Two keys carry it, written only when there is something to summarise:
//!
//! - [`CHILDREN`](super::keys::CHILDREN) (`task.children`): how many descendants are
//!   summarised;
//! - [`CHILDREN_SUMMARY`](super::keys::CHILDREN_SUMMARY) (`task.children_summary`): the same
//!   by span name, one group per name, `name:count:total_us:max_us`, groups separated by `;`,
//!   in the order the names were first seen. At most [`MAX_NAMES`] names are kept; the rest
//!   are added up in one group named [`OTHER`]. A `;` in a span name is written as `_`; a
//!   name may contain `:` (the three numbers are the last three `:`-separated parts).
//!
//! ```
//! use taskwire_core::task_record::children::{self, Children, Group};
//!
//! let mut c = Children::default();
//! c.note("validate", 400);
//! c.note("db.query", 2_000);
//! c.note("validate", 800);
//! assert_eq!(c.count(), 3);
//! let text = c.to_string();
//! assert_eq!(text, "validate:2:1200:800;db.query:1:2000:2000");
//! let groups: Vec<Group<'_>> = children::parse(&text).collect();
//! assert_eq!(groups[0], Group { name: "validate", count: 2, total_us: 1_200, max_us: 800 });
//! ```

use std::cell::RefCell;
use std::fmt;

/// Names kept apart in a summary; the others are added up under [`OTHER`].
pub const MAX_NAMES: usize = 8;

/// The name of the group that adds up the names beyond the first [`MAX_NAMES`].
pub const OTHER: &str = "(other)";

/// One group of a children summary: the summarised tasks of one span name.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Group<'a> {
    /// The span name ([`OTHER`] for the names beyond the first [`MAX_NAMES`]).
    pub name: &'a str,
    /// How many tasks.
    pub count: u64,
    /// Their durations (wall time), added up, µs.
    pub total_us: u64,
    /// The longest duration, µs.
    pub max_us: u64,
}

impl Group<'_> {
    fn add(&mut self, count: u64, total_us: u64, max_us: u64) {
        self.count = self.count.saturating_add(count);
        self.total_us = self.total_us.saturating_add(total_us);
        self.max_us = self.max_us.max(max_us);
    }
}

/// The summary a task gathers of its descendants that write no record: a count, and groups by
/// span name (bounded: [`MAX_NAMES`] names, then [`OTHER`]). Its [`Display`](fmt::Display) is
/// the value of `task.children_summary`.
#[derive(Clone, Default)]
pub struct Children {
    count: u64,
    len: usize,
    groups: [Group<'static>; MAX_NAMES],
    other: Group<'static>,
}

impl fmt::Debug for Children {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Children")
            .field("count", &self.count)
            .field("groups", &self.groups().collect::<Vec<_>>())
            .finish()
    }
}

impl Children {
    /// Counts one task named `name` that took `duration_us`.
    pub fn note(&mut self, name: &'static str, duration_us: u64) {
        self.count = self.count.saturating_add(1);
        self.group(name).add(1, duration_us, duration_us);
    }

    /// Adds up the tasks `other` summarises (a summarised task's own summary, folded into its
    /// ancestor's).
    pub fn merge(&mut self, other: &Children) {
        self.count = self.count.saturating_add(other.count);
        for g in other.groups() {
            self.group(g.name).add(g.count, g.total_us, g.max_us);
        }
    }

    /// How many tasks are summarised.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Whether no task is summarised.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The groups, in the order their names were first seen, [`OTHER`] last when used.
    pub fn groups(&self) -> impl Iterator<Item = Group<'static>> + '_ {
        self.groups[..self.len]
            .iter()
            .chain((self.other.count > 0).then_some(&self.other))
            .copied()
    }

    /// Forgets everything, keeping the memory (the groups beyond the count in use are never
    /// read, so they are left as they are).
    pub fn clear(&mut self) {
        self.count = 0;
        self.len = 0;
        self.other = Group::default();
    }

    /// The value of `task.children_summary` as a [`Display`](fmt::Display) that renders the
    /// text the first time a subscriber formats it, into a per-thread buffer, and writes it in
    /// one piece from then on: a task record formatted by several outputs renders it once, and
    /// a record nobody formats (no writer in the stack) renders nothing.
    ///
    /// ```
    /// use taskwire_core::task_record::children::Children;
    ///
    /// let mut c = Children::default();
    /// c.note("db;query", 1_500);
    /// let shown = c.display_once();
    /// assert_eq!(shown.to_string(), "db_query:1:1500:1500");
    /// assert_eq!(shown.to_string(), c.to_string());
    /// ```
    pub fn display_once(&self) -> Rendered<'_> {
        Rendered { children: self }
    }

    /// Writes the summary's text to `out`, integers through `itoa`.
    fn write_to(&self, out: &mut impl fmt::Write) -> fmt::Result {
        let mut digits = itoa::Buffer::new();
        for (i, g) in self.groups().enumerate() {
            if i > 0 {
                out.write_str(";")?;
            }
            for (j, part) in g.name.split(';').enumerate() {
                if j > 0 {
                    out.write_str("_")?;
                }
                out.write_str(part)?;
            }
            for n in [g.count, g.total_us, g.max_us] {
                out.write_str(":")?;
                out.write_str(digits.format(n))?;
            }
        }
        Ok(())
    }

    fn group(&mut self, name: &'static str) -> &mut Group<'static> {
        if let Some(i) = self.groups[..self.len].iter().position(|g| g.name == name) {
            return &mut self.groups[i];
        }
        if self.len < MAX_NAMES && name != OTHER {
            self.groups[self.len] = Group {
                name,
                ..Group::default()
            };
            self.len += 1;
            return &mut self.groups[self.len - 1];
        }
        self.other.name = OTHER;
        &mut self.other
    }
}

impl fmt::Display for Children {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_to(f)
    }
}

thread_local! {
    /// The text of the [`Rendered`] summary alive on this thread, keyed by its summary's address
    /// (0: none).
    static TEXT: RefCell<(usize, String)> = const { RefCell::new((0, String::new())) };
}

/// A summary's text, rendered when first formatted ([`Children::display_once`]).
#[derive(Debug)]
pub struct Rendered<'a> {
    children: &'a Children,
}

impl fmt::Display for Rendered<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = std::ptr::from_ref(self.children) as usize;
        let cached = TEXT
            .try_with(|t| {
                let mut t = t.try_borrow_mut().ok()?;
                if t.0 != key {
                    t.1.clear();
                    // writing into a `String` cannot fail
                    let _ = self.children.write_to(&mut t.1);
                    t.0 = key;
                }
                Some(f.write_str(&t.1))
            })
            .ok()
            .flatten();
        // the buffer busy (a summary formatted while another one is) or gone: render directly
        cached.unwrap_or_else(|| self.children.write_to(f))
    }
}

impl Drop for Rendered<'_> {
    fn drop(&mut self) {
        // a recycled summary may come back at the same address with other groups
        let _ = TEXT.try_with(|t| {
            if let Ok(mut t) = t.try_borrow_mut() {
                t.0 = 0;
            }
        });
    }
}

/// The groups of a `task.children_summary` value; malformed groups are skipped.
///
/// ```
/// use taskwire_core::task_record::children::parse;
/// let names: Vec<&str> = parse("a::b:1:5:5;junk;c:2:9:7").map(|g| g.name).collect();
/// assert_eq!(names, ["a::b", "c"]);
/// ```
pub fn parse(text: &str) -> impl Iterator<Item = Group<'_>> {
    text.split(';').filter_map(|group| {
        let mut parts = group.rsplitn(4, ':');
        let max_us = parts.next()?.parse().ok()?;
        let total_us = parts.next()?.parse().ok()?;
        let count = parts.next()?.parse().ok()?;
        let name = parts.next()?;
        Some(Group {
            name,
            count,
            total_us,
            max_us,
        })
    })
}

/// Summaries kept per thread for reuse, so that a task gathering one allocates only until the
/// thread has a few.
const POOLED: usize = 32;

thread_local! {
    // Boxes, not values: a task holds its summary as a `Box<Children>`, and the pool hands back
    // the allocation itself.
    #[allow(clippy::vec_box)]
    static POOL: RefCell<Vec<Box<Children>>> = const { RefCell::new(Vec::new()) };
}

/// An empty summary, reused from this thread's pool when it has one.
pub fn boxed() -> Box<Children> {
    POOL.try_with(|p| p.try_borrow_mut().ok().and_then(|mut p| p.pop()))
        .ok()
        .flatten()
        .unwrap_or_default()
}

/// Gives `children` back for reuse by [`boxed`] on this thread.
pub fn recycle(mut children: Box<Children>) {
    children.clear();
    let _ = POOL.try_with(|p| {
        if let Ok(mut p) = p.try_borrow_mut() {
            if p.len() < POOLED {
                p.push(children);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_summary_reused_at_the_same_address_is_rendered_anew() {
        let mut c = Children::default();
        c.note("a", 1);
        assert_eq!(c.display_once().to_string(), "a:1:1:1");
        c.clear();
        c.note("b", 2);
        assert_eq!(c.display_once().to_string(), "b:1:2:2");
    }

    #[test]
    fn summaries_formatted_in_turn_keep_their_own_text() {
        let (mut a, mut b) = (Children::default(), Children::default());
        a.note("a", 1);
        b.note("b", 2);
        let (shown_a, shown_b) = (a.display_once(), b.display_once());
        for _ in 0..2 {
            assert_eq!(shown_a.to_string(), "a:1:1:1");
            assert_eq!(shown_b.to_string(), "b:1:2:2");
        }
    }

    #[test]
    fn names_beyond_the_cap_are_added_up_as_other() {
        const NAMES: [&str; 10] = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
        let mut c = Children::default();
        for (i, n) in NAMES.iter().enumerate() {
            c.note(n, i as u64 + 1);
        }
        c.note("a", 100);
        let groups: Vec<Group<'_>> = c.groups().collect();
        assert_eq!(groups.len(), MAX_NAMES + 1);
        assert_eq!(
            groups[0],
            Group {
                name: "a",
                count: 2,
                total_us: 101,
                max_us: 100
            }
        );
        assert_eq!(
            groups[MAX_NAMES],
            Group {
                name: OTHER,
                count: 2,
                total_us: 9 + 10,
                max_us: 10
            }
        );
        assert_eq!(c.count(), 11);
    }

    #[test]
    fn merging_adds_counts_and_keeps_the_longest() {
        let mut inner = Children::default();
        inner.note("db", 30);
        inner.note("db", 10);
        let mut outer = Children::default();
        outer.note("db", 20);
        outer.note("handler", 70);
        outer.merge(&inner);
        assert_eq!(outer.to_string(), "db:3:60:30;handler:1:70:70");
        assert_eq!(outer.count(), 4);
    }

    #[test]
    fn the_written_summary_parses_back_whatever_the_names() {
        let mut c = Children::default();
        c.note("a;b", 1);
        c.note("x:y", 2);
        let text = c.to_string();
        let back: Vec<(&str, u64)> = parse(&text).map(|g| (g.name, g.total_us)).collect();
        assert_eq!(back, [("a_b", 1), ("x:y", 2)]);
    }

    #[test]
    fn a_recycled_summary_comes_back_empty() {
        let mut b = boxed();
        b.note("a", 1);
        recycle(b);
        let b = boxed();
        assert!(b.is_empty());
        assert_eq!(b.groups().count(), 0);
    }
}
