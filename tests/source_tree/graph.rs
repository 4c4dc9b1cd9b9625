//! The module graph of a crate, its cycles, and the files of the workspace.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

use super::scan::scan;

/// A cycle of sibling modules and the references that make it.
pub(crate) struct Cycle {
    pub(crate) parent: String,
    pub(crate) modules: Vec<String>,
    pub(crate) evidence: Vec<String>,
}

/// The module cycles of the crate whose sources are under `src`.
pub(crate) fn cycles(root: &Path, src: &Path) -> Vec<Cycle> {
    let mut modules: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut test_only: BTreeSet<Vec<String>> = BTreeSet::new();
    let mut all_refs = Vec::new();
    for file in rust_files(src) {
        let Some(module) = module_path(src, &file) else {
            continue;
        };
        let text = fs::read_to_string(&file).unwrap_or_default();
        let scan = scan(&text, &module);
        modules.insert(module.clone());
        modules.extend(scan.inline);
        test_only.extend(scan.test_modules);
        let shown = relative(root, &file);
        all_refs.extend(
            scan.refs
                .into_iter()
                .map(|r| (shown.clone(), module.clone(), r)),
        );
    }
    // Sibling edges: (parent, from, to) -> evidence.
    let mut edges: BTreeMap<(Vec<String>, String, String), Vec<String>> = BTreeMap::new();
    for (file, module, r) in all_refs {
        if test_only.iter().any(|t| module.starts_with(t)) {
            continue;
        }
        let target = (0..=r.path.len())
            .rev()
            .map(|n| &r.path[..n])
            .find(|p| p.is_empty() || modules.contains(*p))
            .unwrap_or_default();
        let common = r
            .from
            .iter()
            .zip(target)
            .take_while(|(a, b)| a == b)
            .count();
        if common == r.from.len() || common == target.len() {
            continue; // itself, an ancestor or a descendant
        }
        let key = (
            r.from[..common].to_vec(),
            r.from[common].clone(),
            target[common].clone(),
        );
        edges.entry(key).or_default().push(format!(
            "{file}:{}: `{}` uses `{}`",
            r.line,
            display_module(&r.from),
            display_module(&r.path)
        ));
    }
    // Strongly connected groups of siblings, per parent.
    let mut by_parent: BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for (parent, from, to) in edges.keys() {
        by_parent
            .entry(parent.clone())
            .or_default()
            .entry(from.clone())
            .or_default()
            .insert(to.clone());
    }
    let mut out = Vec::new();
    for (parent, graph) in by_parent {
        for group in strongly_connected(&graph) {
            if group.len() < 2 {
                continue;
            }
            let mut evidence = Vec::new();
            for ((p, from, to), lines) in &edges {
                if *p == parent && group.contains(from) && group.contains(to) {
                    evidence.extend(lines.iter().cloned());
                }
            }
            out.push(Cycle {
                parent: display_module(&parent),
                modules: group.into_iter().collect(),
                evidence,
            });
        }
    }
    out
}

pub(crate) fn display_module(path: &[String]) -> String {
    if path.is_empty() {
        "crate".to_owned()
    } else {
        format!("crate::{}", path.join("::"))
    }
}

/// Tarjan's algorithm, iterating on a small graph: the strongly connected groups.
pub(crate) fn strongly_connected(
    graph: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<BTreeSet<String>> {
    struct State<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        groups: Vec<BTreeSet<String>>,
    }
    fn visit<'g>(s: &mut State<'g>, v: &'g str) {
        let i = s.index.len();
        s.index.insert(v, i);
        s.low.insert(v, i);
        s.stack.push(v);
        s.on_stack.insert(v);
        let graph = s.graph;
        for w in graph.get(v).into_iter().flatten() {
            let w = w.as_str();
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(lw));
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low[v];
                s.low.insert(v, lv.min(iw));
            }
        }
        if s.low[v] == s.index[v] {
            let mut group = BTreeSet::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                group.insert(w.to_owned());
                if w == v {
                    break;
                }
            }
            s.groups.push(group);
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        groups: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.groups
}

/// The module of a file under `src` (`None`: a separate crate root under `src/bin`).
pub(crate) fn module_path(src: &Path, file: &Path) -> Option<Vec<String>> {
    let rel = file.strip_prefix(src).ok()?;
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.first().is_some_and(|p| p == "bin") {
        return None;
    }
    let last = parts.pop()?;
    let stem = last.strip_suffix(".rs")?;
    if parts.is_empty() && matches!(stem, "lib" | "main") {
        return Some(Vec::new());
    }
    if stem != "mod" {
        parts.push(stem.to_owned());
    }
    Some(parts)
}

/// The folders of the workspace's packages (those with a `Cargo.toml` and a `src/`).
pub(crate) fn packages(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![root.to_path_buf()];
    for group in ["layers", "integrations"] {
        let Ok(entries) = fs::read_dir(root.join(group)) else {
            continue;
        };
        for e in entries.flatten() {
            out.push(e.path());
        }
    }
    out.push(root.join("cli"));
    out.retain(|p| p.join("Cargo.toml").is_file() && p.join("src").is_dir());
    out.sort();
    out
}

/// Every `.rs` file under `dir`, skipping build output and hidden folders.
pub(crate) fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                if name != "target" && !name.starts_with('.') {
                    todo.push(path);
                }
            } else if name.ends_with(".rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// `path` relative to `root`, with `/` separators.
pub(crate) fn relative(root: &Path, path: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}
