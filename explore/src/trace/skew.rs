//! One clock per trace: clock-skew adjustment across services, and starts clamped within one.
//!
//! Each service writes times from its own host's clock. When a task continued from another
//! service (its parent is a task of another service) starts before its parent or ends after it,
//! the two clocks disagree: the child really ran inside its parent, with the network's share of
//! the parent's time split evenly before and after it. As in Jaeger's adjuster, the child's
//! service gets the offset that centres the child in its parent (`offset = parent_mid −
//! child_mid`), and every task of that service in the trace is moved by it. One offset per
//! service and trace: the first crossing met in the walk (parents before children, so a chain
//! front → back → ledger settles front's clock before back's and back's before ledger's).
//! A child that already lies inside its parent leaves its service's clock alone, and so does the
//! consumer of a message (its parent's `otel.kind` is `producer`): it may well run after the
//! producer ended.
//!
//! Within one service, a task's start is its record's `ts` minus its duration; rounding of the
//! two can place a child a few µs before its parent. Such a start is clamped to the parent's
//! start (the duration shown stays the recorded one).

use super::build::Node;
use super::records::Task;
use super::strings::Sym;

/// A clock offset found in one trace and applied to one service's tasks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skew {
    service: Box<str>,
    relative_to: Box<str>,
    offset_us: i64,
}

impl Skew {
    /// The service whose times were moved.
    pub fn service(&self) -> &str {
        &self.service
    }

    /// The service of the parent task its offset was measured against.
    pub fn relative_to(&self) -> &str {
        &self.relative_to
    }

    /// µs added to the service's times: positive when its clock is behind.
    pub fn offset_us(&self) -> i64 {
        self.offset_us
    }
}

/// Moves each node's start and end onto the trace's clock and returns the offsets applied.
pub(crate) fn adjust(nodes: &mut [Node], tasks: &[Task], strings: &[Box<str>]) -> Vec<Skew> {
    // (service, offset): a handful per trace, so a vector beats a map
    let mut offsets: Vec<(Option<Sym>, i64)> = Vec::new();
    let offset_of = |offsets: &[(Option<Sym>, i64)], s: Option<Sym>| {
        offsets.iter().find(|(k, _)| *k == s).map(|&(_, o)| o)
    };
    let mut skews = Vec::new();
    for i in 0..nodes.len() {
        let Some(p) = nodes[i].parent() else {
            continue;
        };
        let (child, parent) = (&tasks[nodes[i].task()], &tasks[nodes[p].task()]);
        if child.service == parent.service
            || parent.producer
            || offset_of(&offsets, child.service).is_some()
        {
            continue;
        }
        let shift = offset_of(&offsets, parent.service).unwrap_or(0);
        let (p_start, p_end) = (parent.start_us() + shift, parent.end_us + shift);
        let (c_start, c_end) = (child.start_us(), child.end_us);
        if c_start >= p_start && c_end <= p_end {
            continue;
        }
        let mid = |a: i64, b: i64| a + (b - a) / 2;
        let offset = mid(p_start, p_end) - mid(c_start, c_end);
        offsets.push((child.service, offset));
        let name = |s: Option<Sym>| -> Box<str> {
            s.and_then(|s| strings.get(s.index()))
                .map_or_else(|| "(no service)".into(), Clone::clone)
        };
        skews.push(Skew {
            service: name(child.service),
            relative_to: name(parent.service),
            offset_us: offset,
        });
    }
    for i in 0..nodes.len() {
        let t = &tasks[nodes[i].task()];
        let shift = offset_of(&offsets, t.service).unwrap_or(0);
        nodes[i].start_us = t.start_us() + shift;
        nodes[i].end_us = t.end_us + shift;
        if let Some(p) = nodes[i].parent() {
            let same_service = tasks[nodes[p].task()].service == t.service;
            if same_service && nodes[i].start_us < nodes[p].start_us {
                nodes[i].start_us = nodes[p].start_us;
                nodes[i].clamped = true;
            }
        }
    }
    skews
}
