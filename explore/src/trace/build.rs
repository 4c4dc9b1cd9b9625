//! Building: task records from any number of files into one forest of traces.
//!
//! Tasks are sorted once by (trace, start, end, span), so every trace is a contiguous run and
//! every list of children is already in start order. Within a trace, parents are found by span
//! id; a task whose parent is absent becomes a root marked as an orphan, and parent cycles (only
//! possible in corrupt input) are broken so that every task is shown exactly once. The walk is
//! iterative, so a chain of a million tasks does not overflow the stack. Each trace's times are
//! then put on one clock ([`super::skew`]).

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::ops::Range;

use super::records::{Attributes, Collected, Event, Task};
use super::skew::{self, Skew};
use super::strings::{FxBuild, Sym};

/// Why a task is shown as a root although it has a parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Orphan {
    /// Its parent (in the same process) has no task record in the input.
    Parent(u64),
    /// Its parent lives in another process whose log is not in the input.
    RemoteParent(u64),
    /// Its parent chain loops back to it (corrupt input).
    Cycle(u64),
}

/// One task in a trace's pre-order walk. Indices are `u32` (a forest of four billion tasks
/// would not fit in memory anyway): a node is 40 bytes, one per task read. What can be found
/// again from its task is not stored: its events (a binary search of [`Forest::events`] by
/// trace and span) and an orphan's parent id (its task's).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Node {
    /// Index into [`Forest::tasks`].
    task: u32,
    /// Index of its parent in the trace's walk; `u32::MAX` for none.
    parent: u32,
    /// 0 for roots.
    depth: u32,
    /// The last of its siblings.
    pub(crate) last: bool,
    /// The next node is its first child.
    pub(crate) has_children: bool,
    /// The start was clamped to the parent's (same process).
    pub(crate) clamped: bool,
    /// An outgoing call whose callee has no task record in the input.
    pub(crate) calls_unread: bool,
    orphan: OrphanKind,
    /// Start and end on the trace's clock (µs since the epoch): the record's, moved by its
    /// service's clock offset, the start clamped to its parent's start.
    pub(crate) start_us: i64,
    pub(crate) end_us: i64,
}

/// [`Orphan`] without the parent id, which is the task's own parent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum OrphanKind {
    No,
    Parent,
    RemoteParent,
    Cycle,
}

/// An index as stored in a [`Node`].
fn ix(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl Node {
    pub(crate) fn new(task: usize, depth: usize, orphan: Option<Orphan>) -> Node {
        Node {
            task: ix(task),
            parent: u32::MAX,
            depth: ix(depth),
            last: false,
            has_children: false,
            clamped: false,
            calls_unread: false,
            orphan: match orphan {
                None => OrphanKind::No,
                Some(Orphan::Parent(_)) => OrphanKind::Parent,
                Some(Orphan::RemoteParent(_)) => OrphanKind::RemoteParent,
                Some(Orphan::Cycle(_)) => OrphanKind::Cycle,
            },
            start_us: 0,
            end_us: 0,
        }
    }

    /// Index into [`Forest::tasks`].
    pub(crate) fn task(&self) -> usize {
        self.task as usize
    }

    /// Index of its parent in the trace's walk.
    pub(crate) fn parent(&self) -> Option<usize> {
        (self.parent != u32::MAX).then_some(self.parent as usize)
    }

    /// 0 for roots.
    pub(crate) fn depth(&self) -> usize {
        self.depth as usize
    }

    /// Why it is a root although it has a parent: `task` is its task.
    pub(crate) fn orphan(&self, task: &Task) -> Option<Orphan> {
        let parent = task.parent().unwrap_or(0);
        match self.orphan {
            OrphanKind::No => None,
            OrphanKind::Parent => Some(Orphan::Parent(parent)),
            OrphanKind::RemoteParent => Some(Orphan::RemoteParent(parent)),
            OrphanKind::Cycle => Some(Orphan::Cycle(parent)),
        }
    }

    fn is_orphan(&self) -> bool {
        self.orphan != OrphanKind::No
    }
}

/// One trace: what a summary shows of it, and where its tasks are. Its tree (the tasks as a
/// pre-order walk, roots in start order: [`Forest::nodes_of`]) is walked again each time it
/// is looked at rather than kept, which would take 40 bytes a task for the whole input while
/// a front end shows one tree at a time.
#[derive(Clone, Debug)]
pub(crate) struct Trace {
    pub(crate) id: u128,
    pub(crate) start_us: i64,
    pub(crate) end_us: i64,
    pub(crate) failed: usize,
    /// Distinct services, sorted by name: an index into [`Forest::service_sets`] (traces
    /// share a handful of sets).
    pub(crate) services: u32,
    /// Its records: a run of [`Forest::tasks`].
    run: (u32, u32),
    /// How many tasks its tree has (its records less the repeated span ids).
    pub(crate) len: u32,
    /// The first root's task (an index into [`Forest::tasks`]).
    pub(crate) root: u32,
    /// Events of this trace whose span has no task record (indices into [`Forest::events`]).
    pub(crate) unattached: Vec<usize>,
    /// The clock offsets found and applied, one per adjusted service.
    pub(crate) skews: Vec<Skew>,
}

/// Every trace of the input: what [`build`] makes of a [`Collected`]. Read it through
/// [`Forest::traces`].
#[derive(Debug, Default)]
pub struct Forest {
    pub(crate) tasks: Vec<Task>,
    pub(crate) events: Vec<Event>,
    /// Task attributes, sorted by (trace, span).
    pub(crate) attributes: Vec<Attributes>,
    pub(crate) strings: Vec<Box<str>>,
    /// Traces in order of their first task's start.
    pub(crate) traces: Vec<Trace>,
    /// The sets of services of the traces ([`Trace::services`]).
    pub(crate) service_sets: Vec<Box<[Sym]>>,
    /// Task records seen more than once (same trace and span id), ignored after the first.
    pub(crate) duplicates: u64,
}

impl Forest {
    /// The text of an interned string.
    pub(crate) fn str(&self, s: Sym) -> &str {
        self.strings.get(s.index()).map_or("", |b| b)
    }

    /// The tree of `trace`: its tasks as a pre-order walk, on the trace's clock.
    pub(crate) fn nodes_of(&self, trace: &Trace) -> Vec<Node> {
        let run = trace.run.0 as usize..trace.run.1 as usize;
        walk_trace(&self.tasks, run, &self.strings, &mut Scratch::default()).0
    }

    /// Task records seen more than once (same trace and span id, different lines), ignored
    /// after the first.
    pub fn duplicates(&self) -> u64 {
        self.duplicates
    }
}

/// Which traces to keep.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct Keep {
    /// Only traces with at least one failed task.
    pub failed_only: bool,
}

impl Keep {
    /// Every trace, or only those with a failed task.
    pub fn failed_only(failed_only: bool) -> Keep {
        Keep { failed_only }
    }
}

/// Builds the forest from everything read.
pub fn build(c: Collected, keep: Keep) -> Forest {
    let Collected {
        mut tasks,
        mut events,
        mut attributes,
        strings,
        ..
    } = c;
    sort_tasks(&mut tasks);
    attach_to_recorded_ancestors(&tasks, &mut events);
    events.sort_by_key(|e| (e.trace, e.span, e.ts_us));
    attributes.sort_by_key(|a| (a.trace, a.span));

    let mut traces = Vec::new();
    let mut duplicates = 0;
    let mut scratch = Scratch::default();
    let mut at = 0;
    while at < tasks.len() {
        let trace = tasks[at].trace;
        let len = tasks[at..].partition_point(|t| t.trace == trace);
        let run = at..at + len;
        at += len;
        if keep.failed_only && !tasks[run.clone()].iter().any(|t| t.failed) {
            continue;
        }
        let (t, dups) = build_trace(&tasks, run, &events, &strings, &mut scratch);
        duplicates += dups;
        traces.push(t);
    }
    // unstable: ids differ, so the order is total, and no copy of the traces is made
    traces.sort_unstable_by_key(|t| (t.start_us, t.id));
    let mut service_sets: Vec<(u32, Box<[Sym]>)> =
        scratch.sets.into_iter().map(|(set, i)| (i, set)).collect();
    service_sets.sort_unstable_by_key(|(i, _)| *i);
    Forest {
        service_sets: service_sets.into_iter().map(|(_, set)| set).collect(),
        tasks,
        events,
        attributes,
        strings,
        traces,
        duplicates,
    }
}

/// Moves each event whose span has no task record (a task the record policy summarised in an
/// ancestor's record) to the nearest ancestor that has one: by the parent span ids the events
/// themselves carry when they lead to a task with a record, else to the shortest task of its
/// trace whose time span holds the event (the nearest enclosing task, unless tasks ran
/// concurrently). An event of a trace without tasks stays unattached.
///
/// `tasks` are sorted by trace.
fn attach_to_recorded_ancestors(tasks: &[Task], events: &mut [Event]) {
    /// Parent links followed at most (a cycle in corrupt input ends there).
    const MAX_HOPS: usize = 64;
    // an event without a parent span is in a root, which always has a record
    if !events.iter().any(|e| e.parent.is_some()) {
        return;
    }
    // the tasks of the traces such events are in (not every task: at 1 GB of logs a set of
    // them all would take ~26 MB)
    let traces: std::collections::HashSet<u128, FxBuild> = events
        .iter()
        .filter(|e| e.parent.is_some())
        .map(|e| e.trace)
        .collect();
    let recorded: std::collections::HashSet<(u128, u64), FxBuild> = tasks
        .iter()
        .filter(|t| traces.contains(&t.trace))
        .map(|t| (t.trace, t.span))
        .collect();
    let mut parent_of: HashMap<(u128, u64), u64, FxBuild> = HashMap::default();
    for e in events.iter() {
        if let Some(p) = e.parent {
            if !recorded.contains(&(e.trace, e.span)) {
                parent_of.entry((e.trace, e.span)).or_insert(p);
            }
        }
    }
    if parent_of.is_empty() {
        return;
    }
    for e in events.iter_mut() {
        if recorded.contains(&(e.trace, e.span)) {
            continue;
        }
        let mut at = e.parent;
        let mut found = None;
        for _ in 0..MAX_HOPS {
            let Some(span) = at else { break };
            if recorded.contains(&(e.trace, span)) {
                found = Some(span);
                break;
            }
            at = parent_of.get(&(e.trace, span)).copied();
        }
        if found.is_none() && e.parent.is_some() {
            let trace = range_of(tasks, |t| t.trace.cmp(&e.trace));
            found = tasks[trace]
                .iter()
                .filter(|t| t.start_us() <= e.ts_us && e.ts_us <= t.end_us)
                .min_by_key(|t| t.duration_us)
                .map(|t| t.span);
        }
        if let Some(span) = found {
            e.span = span;
        }
    }
}

/// Sorts by (trace, start, end, span id), in place: no key or second copy of the tasks is
/// held (at 1 GB of logs the tasks take ~80 MB, a key per task ~40 MB more).
pub(super) fn sort_tasks(tasks: &mut [Task]) {
    tasks.sort_unstable_by(|a, b| {
        (a.trace, a.start_us(), a.end_us, a.span).cmp(&(b.trace, b.start_us(), b.end_us, b.span))
    });
}

/// Buffers reused from trace to trace.
#[derive(Default)]
struct Scratch {
    services: Vec<Sym>,
    /// The distinct sets of services met, each with its index.
    sets: HashMap<Box<[Sym]>, u32, FxBuild>,
    by_span: HashMap<u64, usize, FxBuild>,
    members: Vec<usize>,
    parent_of: Vec<Option<usize>>,
    child_start: Vec<usize>,
    children: Vec<usize>,
    visited: Vec<bool>,
    /// Per member: its index in the walk; per walk index: its member.
    node_of: Vec<usize>,
    member_at: Vec<usize>,
    stack: Vec<(usize, usize, Option<Orphan>)>,
}

/// Summarises the trace of the tasks `run`: its times on one clock, failures, services and the
/// events no task of it holds; returns it and how many records repeated a span id.
fn build_trace(
    tasks: &[Task],
    run: Range<usize>,
    events: &[Event],
    strings: &[Box<str>],
    s: &mut Scratch,
) -> (Trace, u64) {
    let id = tasks[run.start].trace;
    let (nodes, skews, dups) = walk_trace(tasks, run.clone(), strings, s);
    s.services.clear();
    s.services
        .extend(nodes.iter().filter_map(|n| tasks[n.task()].service));
    s.services.sort_unstable();
    s.services.dedup();
    s.services
        .sort_by(|a, b| strings.get(a.index()).cmp(&strings.get(b.index())));
    let services = match s.sets.get(s.services.as_slice()) {
        Some(&i) => i,
        None => {
            let i = ix(s.sets.len());
            s.sets.insert(s.services.as_slice().into(), i);
            i
        }
    };
    let trace_events = range_of(events, |e| e.trace.cmp(&id));
    let unattached = trace_events
        .filter(|&e| !s.by_span.contains_key(&events[e].span))
        .collect();
    let trace = Trace {
        id,
        start_us: nodes.iter().map(|n| n.start_us).min().unwrap_or(0),
        end_us: nodes.iter().map(|n| n.end_us).max().unwrap_or(0),
        failed: s.members.iter().filter(|&&g| tasks[g].failed).count(),
        services,
        run: (ix(run.start), ix(run.end)),
        len: ix(nodes.len()),
        root: nodes.first().map_or(u32::MAX, |n| n.task),
        unattached,
        skews,
    };
    (trace, dups)
}

/// The tree of the trace of the tasks `run` (one trace, sorted): its pre-order walk with each
/// node on the trace's clock, the clock offsets applied, and how many records repeated a span
/// id (the first is kept). Leaves `s.by_span` and `s.members` filled for the trace.
fn walk_trace(
    tasks: &[Task],
    run: Range<usize>,
    strings: &[Box<str>],
    s: &mut Scratch,
) -> (Vec<Node>, Vec<Skew>, u64) {
    s.by_span.clear();
    s.members.clear();
    let mut dups = 0;
    for g in run.clone() {
        match s.by_span.entry(tasks[g].span) {
            // keep the first (earliest start) record of a span id
            Entry::Occupied(_) => dups += 1,
            Entry::Vacant(v) => {
                v.insert(s.members.len());
                s.members.push(g);
            }
        }
    }
    let n = s.members.len();

    // parents, then children in compressed rows (start order is kept: members are sorted)
    s.parent_of.clear();
    s.parent_of.extend(
        s.members
            .iter()
            .map(|&g| tasks[g].parent().and_then(|p| s.by_span.get(&p).copied())),
    );
    s.child_start.clear();
    s.child_start.resize(n + 1, 0);
    for p in s.parent_of.iter().flatten() {
        s.child_start[p + 1] += 1;
    }
    for i in 0..n {
        s.child_start[i + 1] += s.child_start[i];
    }
    s.children.clear();
    s.children.resize(s.child_start[n], 0);
    let mut fill = s.child_start.clone();
    for (child, p) in s.parent_of.iter().enumerate() {
        if let Some(p) = *p {
            s.children[fill[p]] = child;
            fill[p] += 1;
        }
    }

    // walk from the roots, then from whatever a cycle left unvisited
    s.visited.clear();
    s.visited.resize(n, false);
    s.node_of.clear();
    s.node_of.resize(n, 0);
    s.member_at.clear();
    let mut nodes = Vec::with_capacity(n);
    let roots: Vec<(usize, Option<Orphan>)> = (0..n)
        .filter(|&i| s.parent_of[i].is_none())
        .map(|i| {
            let t = &tasks[s.members[i]];
            let orphan = t.parent().map(|p| {
                if t.remote_parent {
                    Orphan::RemoteParent(p)
                } else {
                    Orphan::Parent(p)
                }
            });
            (i, orphan)
        })
        .collect();
    for (root, orphan) in roots {
        walk(root, orphan, tasks, s, &mut nodes);
    }
    for i in 0..n {
        if !s.visited[i] {
            let parent = tasks[s.members[i]].parent().unwrap_or(0);
            walk(i, Some(Orphan::Cycle(parent)), tasks, s, &mut nodes);
        }
    }
    mark_last_and_children(&mut nodes);
    link_parents(&mut nodes, tasks, s);
    let skews = skew::adjust(&mut nodes, tasks, strings);
    (nodes, skews, dups)
}

/// Sets each node's parent (its index in the walk) and whether it is an outgoing call that no
/// task of another process answers in the input.
fn link_parents(nodes: &mut [Node], tasks: &[Task], s: &Scratch) {
    for i in 0..nodes.len() {
        let m = s.member_at[i];
        if !nodes[i].is_orphan() {
            nodes[i].parent = s.parent_of[m].map_or(u32::MAX, |p| ix(s.node_of[p]));
        }
        let t = &tasks[nodes[i].task()];
        if t.client {
            let kids = &s.children[s.child_start[m]..s.child_start[m + 1]];
            let answered = kids.iter().any(|&c| {
                let k = &tasks[s.members[c]];
                k.remote_parent || k.service != t.service
            });
            nodes[i].calls_unread = !answered;
        }
    }
}

/// Pre-order walk from `root`, skipping visited tasks.
fn walk(
    root: usize,
    orphan: Option<Orphan>,
    tasks: &[Task],
    s: &mut Scratch,
    nodes: &mut Vec<Node>,
) {
    s.stack.clear();
    s.stack.push((root, 0, orphan));
    while let Some((i, depth, orphan)) = s.stack.pop() {
        if s.visited[i] {
            continue;
        }
        s.visited[i] = true;
        let g = s.members[i];
        let t = &tasks[g];
        s.node_of[i] = nodes.len();
        s.member_at.push(i);
        let mut node = Node::new(g, depth, orphan);
        node.start_us = t.start_us();
        node.end_us = t.end_us;
        nodes.push(node);
        let kids = &s.children[s.child_start[i]..s.child_start[i + 1]];
        for &c in kids.iter().rev() {
            if !s.visited[c] {
                s.stack.push((c, depth + 1, None));
            }
        }
    }
}

/// The range of sorted `items` for which `cmp` is `Equal`.
fn range_of<T>(items: &[T], cmp: impl Fn(&T) -> std::cmp::Ordering) -> Range<usize> {
    let lo = items.partition_point(|e| cmp(e).is_lt());
    let hi = lo + items[lo..].partition_point(|e| cmp(e).is_eq());
    lo..hi
}

/// Sets `last` (no later sibling) and `has_children` from the depths of a pre-order walk.
fn mark_last_and_children(nodes: &mut [Node]) {
    let mut sibling_after = Vec::<bool>::new();
    for i in (0..nodes.len()).rev() {
        let d = nodes[i].depth();
        nodes[i].has_children = nodes.get(i + 1).is_some_and(|n| n.depth() > d);
        sibling_after.truncate(d + 1);
        if sibling_after.len() <= d {
            sibling_after.resize(d + 1, false);
        }
        nodes[i].last = !sibling_after[d];
        sibling_after[d] = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::trace::read::Reader;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

    fn rec(span: &str, parent: Option<&str>, name: &str, end: &str, dur: u64) -> String {
        let parent = parent.map_or(String::new(), |p| format!(r#","parent_span_id":"{p}""#));
        format!(
            r#"{{"ts":"2026-01-01T00:00:{end}Z","level":"INFO","target":"taskwire::tasks","msg":"task.end","task.name":"{name}","task.outcome":"succeeded","task.duration_us":{dur},"trace_id":"{TRACE}","span_id":"{span}"{parent}}}"#
        )
    }

    fn forest(lines: &[String]) -> Forest {
        let mut r = Reader::new();
        let _ = r.read_from(lines.join("\n").as_bytes());
        build(r.finish(), Keep::default())
    }

    fn shape(f: &Forest) -> Vec<(usize, &str, bool)> {
        f.nodes_of(&f.traces[0])
            .iter()
            .map(|n| (n.depth(), f.str(f.tasks[n.task()].name), n.last))
            .collect()
    }

    #[test]
    fn children_are_sorted_by_start_not_by_end_or_file_order() {
        // c ends first but started last; b ends last but started first
        let f = forest(&[
            rec(
                "000000000000000c",
                Some("000000000000000a"),
                "c",
                "05",
                1_000_000,
            ),
            rec("000000000000000a", None, "a", "10", 9_000_000),
            rec(
                "000000000000000b",
                Some("000000000000000a"),
                "b",
                "08",
                6_000_000,
            ),
            rec(
                "000000000000000d",
                Some("000000000000000a"),
                "d",
                "06",
                3_000_000,
            ),
        ]);
        assert_eq!(
            shape(&f),
            [
                (0, "a", true),
                (1, "b", false),
                (1, "d", false),
                (1, "c", true)
            ]
        );
    }

    #[test]
    fn orphans_become_marked_roots() {
        let mut remote = rec("000000000000000e", Some("00000000000000ff"), "e", "03", 1);
        remote = remote.replace(r#""task.name""#, r#""task.remote_parent":true,"task.name""#);
        let f = forest(&[
            rec("000000000000000a", None, "a", "01", 1),
            rec("000000000000000b", Some("0000000000000077"), "b", "02", 1),
            remote,
        ]);
        let orphans: Vec<_> = f
            .nodes_of(&f.traces[0])
            .iter()
            .map(|n| (n.depth(), n.orphan(&f.tasks[n.task()])))
            .collect();
        assert_eq!(
            orphans,
            [
                (0, None),
                (0, Some(Orphan::Parent(0x77))),
                (0, Some(Orphan::RemoteParent(0xff)))
            ]
        );
    }

    #[test]
    fn cycles_and_duplicates_show_every_task_once() {
        let f = forest(&[
            rec("000000000000000a", Some("000000000000000b"), "a", "01", 1),
            rec("000000000000000b", Some("000000000000000a"), "b", "02", 1),
            rec("000000000000000c", Some("000000000000000c"), "c", "03", 1),
            // the same ids again in a different record (an identical line is a repeat, dropped
            // when read)
            rec("000000000000000c", Some("000000000000000c"), "c", "03", 2),
        ]);
        assert_eq!(shape(&f), [(0, "a", false), (1, "b", true), (0, "c", true)]);
        assert_eq!(f.duplicates, 1);
        assert!(matches!(
            f.nodes_of(&f.traces[0])[0].orphan(&f.tasks[f.nodes_of(&f.traces[0])[0].task()]),
            Some(Orphan::Cycle(0xb))
        ));
    }

    #[test]
    fn a_deep_chain_does_not_overflow_the_stack() {
        let lines: Vec<String> = (1..=100_000u64)
            .map(|i| {
                let parent = format!("{:016x}", i - 1);
                rec(
                    &format!("{i:016x}"),
                    (i > 1).then_some(&*parent),
                    "t",
                    "01",
                    1,
                )
            })
            .collect();
        let f = forest(&lines);
        let nodes = f.nodes_of(&f.traces[0]);
        assert_eq!(nodes.len(), 100_000);
        assert_eq!(nodes[99_999].depth(), 99_999);
    }

    #[test]
    fn last_and_has_children_follow_the_depths() {
        let mut nodes: Vec<Node> = [0, 1, 2, 1, 0]
            .iter()
            .map(|&depth| Node::new(0, depth, None))
            .collect();
        mark_last_and_children(&mut nodes);
        let got: Vec<_> = nodes.iter().map(|n| (n.last, n.has_children)).collect();
        assert_eq!(
            got,
            [
                (false, true),
                (false, true),
                (true, false),
                (true, false),
                (true, false)
            ]
        );
    }
}
