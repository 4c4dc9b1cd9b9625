//! The source tree stays a set of small modules that do not import each other in circles.
//!
//! 1. No `.rs` file under `layers/`, `integrations/`, `cli/`, `explore/`, `src/`, `tests/` or
//!    `benches/` is longer than [`MAX_LINES`].
//! 2. No two modules of one crate depend on each other, directly or through others.
//!
//! How the module graph is read (from the text, without compiling): every file under a
//! package's `src/` is a module (`a.rs` and `a/mod.rs` are `a`, `a/b.rs` is `a::b`), and so is
//! every inline `mod name { … }`. A module depends on the module a path names when the path
//! starts with `crate::`, `$crate::`, `super::` or `self::`, in a `use` (groups such as
//! `use crate::{a, b::c}` included, whatever the visibility: `pub(crate) use` counts) or in an
//! expression; a path names the longest module prefix it has. References between a module and
//! its ancestors or descendants are not sibling dependencies (a `mod.rs` that re-exports its
//! children, a child that uses its parent's types): the others are lifted to the two children
//! of the modules' closest common ancestor (`crate::store::mongodb` using `crate::writer::x`
//! is `store` → `writer`), and a cycle is a strongly connected group of those siblings.
//!
//! Items under `#[cfg(test)]` (an in-file `mod tests`, a test-only helper or `use`) are not
//! read: a unit test may reach into a sibling to check it without making the production code
//! depend on it. Comments, strings and character literals are skipped, so a path in a doc
//! comment or a JSON fixture is not a dependency.
//!
//! Both checks start from an allowlist of the offenders the tree has today, each with the
//! reason it is there; an entry that no longer offends fails the test too, so the lists only
//! shrink.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

mod source_tree;

use source_tree::{cycles, packages, relative, rust_files, scan};

/// The longest a source file may be.
const MAX_LINES: usize = 700;

/// The folders whose `.rs` files are measured, relative to the workspace root.
const MEASURED: [&str; 7] = [
    "layers",
    "integrations",
    "cli",
    "explore",
    "src",
    "tests",
    "benches",
];

/// Files over [`MAX_LINES`] today, relative to the workspace root.
const LONG_FILES_ALLOWED: &[&str] = &[];

/// Cycles today: the package folder and the sibling modules of the cycle (sorted).
const CYCLES_ALLOWED: &[(&str, &[&str])] = &[];

#[test]
fn no_source_file_is_over_the_line_limit() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut long = BTreeMap::new();
    for dir in MEASURED {
        for file in rust_files(&root.join(dir)) {
            let text = fs::read_to_string(&file).unwrap_or_default();
            let lines = text.lines().count();
            if lines > MAX_LINES {
                long.insert(relative(root, &file), lines);
            }
        }
    }
    let mut problems = String::new();
    for (file, lines) in &long {
        if !LONG_FILES_ALLOWED.contains(&file.as_str()) {
            let _ = writeln!(
                problems,
                "{file}: {lines} lines (at most {MAX_LINES}): split it by concern"
            );
        }
    }
    for allowed in LONG_FILES_ALLOWED {
        if !long.contains_key(*allowed) {
            let _ = writeln!(
                problems,
                "{allowed}: allowed to be long but is not any more (or is gone): remove it from \
                 LONG_FILES_ALLOWED"
            );
        }
    }
    assert!(problems.is_empty(), "\n{problems}");
}

#[test]
fn no_crate_has_a_module_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut problems = String::new();
    let mut found = BTreeSet::new();
    for package in packages(root) {
        let pkg = relative(root, &package);
        let pkg = if pkg.is_empty() { ".".to_owned() } else { pkg };
        for cycle in cycles(root, &package.join("src")) {
            let names: Vec<&str> = cycle.modules.iter().map(String::as_str).collect();
            let allowed = CYCLES_ALLOWED
                .iter()
                .any(|(p, m)| *p == pkg && *m == names.as_slice());
            found.insert((pkg.clone(), cycle.modules.clone()));
            if !allowed {
                let _ = writeln!(
                    problems,
                    "{pkg}: modules {} depend on each other (under `{}`):",
                    names.join(", "),
                    cycle.parent
                );
                for line in &cycle.evidence {
                    let _ = writeln!(problems, "    {line}");
                }
            }
        }
    }
    for (pkg, modules) in CYCLES_ALLOWED {
        let key = (
            (*pkg).to_owned(),
            modules.iter().map(|m| (*m).to_owned()).collect::<Vec<_>>(),
        );
        if !found.contains(&key) {
            let _ = writeln!(
                problems,
                "{pkg}: the cycle {} is allowed but not found any more: remove it from \
                 CYCLES_ALLOWED",
                modules.join(", ")
            );
        }
    }
    assert!(problems.is_empty(), "\n{problems}");
}

/// The reader itself, on small sources whose answer is known.
#[test]
fn the_reader_sees_groups_visibility_super_and_skips_tests_comments_and_strings() {
    let refs = |text: &str, module: &[&str]| {
        let module: Vec<String> = module.iter().map(|s| (*s).to_owned()).collect();
        let scan = scan(text, &module);
        scan.refs
            .into_iter()
            .map(|r| r.path.join("::"))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        refs("pub(crate) use crate::{a, b::{c, d as e}, f::*};", &["x"]),
        ["a", "b::c", "b::d", "f"]
    );
    assert_eq!(
        refs(
            "fn f() { super::super::y::g(); self::z::h(); }",
            &["p", "q", "r"]
        ),
        ["p::y::g", "p::q::r::z::h"]
    );
    assert_eq!(
        refs("pub(super) fn f() -> Self { Self::new() }", &["p"]),
        Vec::<String>::new()
    );
    assert_eq!(
        refs(
            "// use crate::a;\n/* crate::b */ const S: &str = \"crate::c\"; \
             const R: &str = r#\"crate::d\"#; const C: char = '{'; const Q: [char; 2] = ['\\'', '}']; \
             const B: u8 = b'\\''; fn f<'a>(x: &'a u8) {}\n\
             #[cfg(test)]\nmod tests { use crate::e; }\n#[cfg(test)] use crate::f;\n\
             #[cfg(test)] fn g() { crate::h(); }\nuse crate::i;",
            &["x"]
        ),
        ["i"]
    );
    // Inside an inline module, `super` is the file's module.
    let scan = scan(
        "mod inner { use super::super::k; }",
        &["p".to_owned(), "q".to_owned()],
    );
    assert_eq!(scan.refs[0].path, ["p", "k"]);
    assert_eq!(scan.refs[0].from, ["p", "q", "inner"]);
    assert_eq!(
        scan.inline,
        [vec!["p".to_owned(), "q".to_owned(), "inner".to_owned()]]
    );
}
