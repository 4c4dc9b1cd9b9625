//! Every code block of README.md and docs/*.md is tagged with its language, and the Rust ones
//! are compiled: `src/lib.rs` includes every one of these files as doctests (run with the
//! features their snippets need by `cargo test --all-features`). Rust snippets are written
//! with the paths a user of the `taskwire` crate writes (`taskwire::tower::layer()`), not the
//! member crates' names (`taskwire_tower::layer()`), outside comments.

use std::path::PathBuf;

use proptest::prelude::*;

/// The info strings a code block may open with: Rust (compiled), or a language rustdoc leaves
/// alone.
const LANGUAGES: [&str; 7] = ["rust", "text", "sh", "json", "toml", "sql", "js"];

/// What may follow `rust,` in an info string: `ignore` is not allowed, a snippet that is not
/// compiled is not checked.
const RUST_ATTRIBUTES: [&str; 2] = ["no_run", "should_panic"];

/// The member crates whose names a snippet should not use in code.
const MEMBERS: [&str; 10] = [
    "taskwire_core::",
    "taskwire_json::",
    "taskwire_console::",
    "taskwire_tasks::",
    "taskwire_tickets::",
    "taskwire_metrics::",
    "taskwire_tower::",
    "taskwire_actix::",
    "taskwire_reqwest::",
    "taskwire_otel::",
];

/// One fenced code block of a Markdown file.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Block {
    /// 1-based line of the opening fence.
    line: usize,
    /// The info string, trimmed (`rust,no_run`, `text`, or empty).
    info: String,
    /// The lines between the fences.
    body: Vec<String>,
}

/// The fenced code blocks of `markdown` (CommonMark: up to three spaces of indentation, a fence
/// of three or more backticks or tildes, closed by a fence of the same character at least as
/// long with nothing after it). An unclosed block runs to the end of the text.
fn blocks(markdown: &str) -> Vec<Block> {
    let fence = |line: &str| -> Option<(char, usize, String)> {
        let indent = line.len() - line.trim_start_matches(' ').len();
        if indent > 3 {
            return None;
        }
        let rest = &line[indent..];
        let c = rest.chars().next().filter(|c| *c == '`' || *c == '~')?;
        let n = rest.chars().take_while(|x| *x == c).count();
        (n >= 3).then(|| (c, n, rest[n..].trim().to_owned()))
    };
    let mut out = Vec::new();
    let mut open: Option<(char, usize, Block)> = None;
    for (i, line) in markdown.lines().enumerate() {
        match (&mut open, fence(line)) {
            (None, Some((c, n, info))) => {
                open = Some((
                    c,
                    n,
                    Block {
                        line: i + 1,
                        info,
                        body: Vec::new(),
                    },
                ))
            }
            (Some((c, n, _)), Some((c2, n2, info))) if *c == c2 && n2 >= *n && info.is_empty() => {
                out.extend(open.take().map(|(_, _, b)| b));
            }
            (Some((_, _, b)), _) => b.body.push(line.to_owned()),
            (None, None) => {}
        }
    }
    out.extend(open.map(|(_, _, b)| b));
    out
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every docs/*.md, as paths relative to the repository root.
fn documents() -> Vec<String> {
    let mut docs: Vec<String> = std::fs::read_dir(root().join("docs"))
        .expect("docs/ exists")
        .map(|e| e.expect("a directory entry").file_name())
        .filter_map(|n| n.to_str().map(str::to_owned))
        .filter(|n| n.ends_with(".md"))
        .map(|n| format!("docs/{n}"))
        .collect();
    docs.sort();
    docs.insert(0, "README.md".to_owned());
    docs
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_code_block_is_tagged_with_a_known_language() {
    let mut wrong = Vec::new();
    for doc in documents() {
        for b in blocks(&read(&doc)) {
            let mut parts = b.info.split(',').map(str::trim);
            let language = parts.next().unwrap_or_default();
            let attributes: Vec<&str> = parts.collect();
            let ok = LANGUAGES.contains(&language)
                && (attributes.is_empty()
                    || (language == "rust"
                        && attributes.iter().all(|a| RUST_ATTRIBUTES.contains(a))));
            if !ok {
                wrong.push(format!("{doc}:{}: ```{}", b.line, b.info));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "code blocks need one of {LANGUAGES:?} (Rust may add {RUST_ATTRIBUTES:?}):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_document_is_compiled_as_doctests() {
    let lib = read("src/lib.rs");
    let missing: Vec<String> = documents()
        .into_iter()
        .filter(|doc| !lib.contains(&format!("#[doc = include_str!(\"../{doc}\")]")))
        .collect();
    assert!(
        missing.is_empty(),
        "src/lib.rs does not include these as doctests: {missing:?}"
    );
}

#[test]
fn rust_snippets_use_the_umbrella_paths() {
    let mut wrong = Vec::new();
    for doc in documents() {
        for b in blocks(&read(&doc)) {
            if !b.info.starts_with("rust") {
                continue;
            }
            for (i, line) in b.body.iter().enumerate() {
                let code = line.split("//").next().unwrap_or_default();
                if let Some(m) = MEMBERS.iter().find(|m| code.contains(*m)) {
                    wrong.push(format!(
                        "{doc}:{}: `{m}` (write `taskwire::{}::`)",
                        b.line + 1 + i,
                        &m["taskwire_".len()..m.len() - 2]
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// A Markdown line that is not a fence.
fn prose() -> impl Strategy<Value = String> {
    "[a-z #*|`~-]{0,20}".prop_filter("not a fence", |l| {
        let t = l.trim_start_matches(' ');
        !(t.starts_with("```") || t.starts_with("~~~"))
    })
}

proptest! {
    /// Blocks written out with prose around them are read back as written.
    #[test]
    fn blocks_round_trip(
        parts in proptest::collection::vec(
            (
                proptest::collection::vec(prose(), 0..3),
                prop::sample::select(vec!["", "rust", "rust,no_run", "text", "sh"]),
                prop::sample::select(vec!["```", "````", "~~~"]),
                proptest::collection::vec(prose(), 0..4),
            ),
            0..5,
        ),
    ) {
        let mut text = String::new();
        let mut want = Vec::new();
        let mut line = 0;
        for (before, info, fence, body) in &parts {
            for l in before {
                text.push_str(l);
                text.push('\n');
                line += 1;
            }
            text.push_str(&format!("{fence}{info}\n"));
            line += 1;
            want.push(Block { line, info: (*info).to_owned(), body: body.clone() });
            for l in body {
                text.push_str(l);
                text.push('\n');
                line += 1;
            }
            text.push_str(fence);
            text.push('\n');
            line += 1;
        }
        prop_assert_eq!(blocks(&text), want);
    }
}
