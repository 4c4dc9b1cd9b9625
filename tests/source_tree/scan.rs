//! What one source file says about other modules: the paths it names, its inline modules
//! and its test-only modules.

use super::tokens::{is_ident, is_punct, tokens, Tok};

/// One path a module names: where (module, line) and the absolute path.
#[derive(Debug)]
pub(crate) struct Ref {
    pub(crate) from: Vec<String>,
    pub(crate) line: usize,
    pub(crate) path: Vec<String>,
}

/// What one file says: its references, its inline modules, and its `#[cfg(test)] mod x;`
/// declarations (whose files are test code).
#[derive(Debug, Default)]
pub(crate) struct Scan {
    pub(crate) refs: Vec<Ref>,
    pub(crate) inline: Vec<Vec<String>>,
    pub(crate) test_modules: Vec<Vec<String>>,
}

/// Whether the attribute starting at `i` (`#`) is `#[cfg(test)]` or `#[cfg(all(test, …))]`;
/// returns the index after it either way (`None`: not an attribute).
pub(crate) fn attribute(toks: &[(Tok, usize)], i: usize) -> Option<(bool, usize)> {
    let mut j = i + 1;
    if is_punct(toks.get(j), '!') {
        j += 1;
    }
    if !is_punct(toks.get(j), '[') {
        return None;
    }
    let body = j + 1;
    let test = is_ident(toks.get(body), "cfg")
        && is_punct(toks.get(body + 1), '(')
        && ((is_ident(toks.get(body + 2), "test") && is_punct(toks.get(body + 3), ')'))
            || (is_ident(toks.get(body + 2), "all")
                && is_punct(toks.get(body + 3), '(')
                && is_ident(toks.get(body + 4), "test")));
    let mut depth = 0usize;
    while j < toks.len() {
        match toks[j].0 {
            Tok::Punct('[') => depth += 1,
            Tok::Punct(']') => {
                depth -= 1;
                if depth == 0 {
                    return Some((test, j + 1));
                }
            }
            _ => {}
        }
        j += 1;
    }
    Some((test, j))
}

/// The index after the item starting at `i`: after its `;` or its `{ … }` body.
pub(crate) fn skip_item(toks: &[(Tok, usize)], mut i: usize) -> usize {
    let mut nest = 0usize;
    while i < toks.len() {
        match toks[i].0 {
            Tok::Punct('(' | '[') => nest += 1,
            Tok::Punct(')' | ']') => nest = nest.saturating_sub(1),
            Tok::Punct(';') if nest == 0 => return i + 1,
            Tok::Punct('{') if nest == 0 => {
                let mut depth = 0usize;
                while i < toks.len() {
                    match toks[i].0 {
                        Tok::Punct('{') => depth += 1,
                        Tok::Punct('}') => {
                            depth -= 1;
                            if depth == 0 {
                                return i + 1;
                            }
                        }
                        _ => {}
                    }
                    i += 1;
                }
                return i;
            }
            _ => {}
        }
        i += 1;
    }
    i
}

/// The paths of the use tree (or expression path) starting at `i`, each with `prefix` in
/// front; returns them and the index after the tree.
pub(crate) fn use_tree(
    toks: &[(Tok, usize)],
    mut i: usize,
    prefix: &[String],
) -> (Vec<Vec<String>>, usize) {
    let mut segments = prefix.to_vec();
    loop {
        match toks.get(i).map(|t| &t.0) {
            Some(Tok::Ident(name)) => {
                segments.push(name.clone());
                i += 1;
            }
            Some(Tok::Punct('*')) => {
                i += 1;
                break;
            }
            Some(Tok::Punct('{')) => {
                i += 1;
                let mut out = Vec::new();
                while i < toks.len() {
                    match toks[i].0 {
                        Tok::Punct('}') => {
                            i += 1;
                            break;
                        }
                        Tok::Punct(',') => i += 1,
                        _ => {
                            let (sub, next) = use_tree(toks, i, &segments);
                            out.extend(sub);
                            // `a as b`: the alias is not a path.
                            i = if is_ident(toks.get(next), "as") {
                                next + 2
                            } else {
                                next.max(i + 1)
                            };
                        }
                    }
                }
                return (out, i);
            }
            _ => break,
        }
        if matches!(toks.get(i).map(|t| &t.0), Some(Tok::Colons)) {
            i += 1;
        } else {
            break;
        }
    }
    (vec![segments], i)
}

/// Reads one file of module `module`.
pub(crate) fn scan(text: &str, module: &[String]) -> Scan {
    let toks = tokens(text);
    let mut out = Scan::default();
    // Inline modules open in this file: (path, brace depth outside them).
    let mut inline: Vec<(Vec<String>, usize)> = Vec::new();
    let mut depth = 0usize;
    let mut i = 0;
    let current = |inline: &[(Vec<String>, usize)]| {
        inline
            .last()
            .map_or_else(|| module.to_vec(), |(p, _)| p.clone())
    };
    while i < toks.len() {
        let (tok, line) = &toks[i];
        match tok {
            Tok::Punct('#') => {
                let Some((test, next)) = attribute(&toks, i) else {
                    i += 1;
                    continue;
                };
                i = next;
                if test {
                    // More attributes may follow before the item.
                    while is_punct(toks.get(i), '#') {
                        match attribute(&toks, i) {
                            Some((_, n)) => i = n,
                            None => break,
                        }
                    }
                    // `#[cfg(test)] mod name;`: that file is test code.
                    let mut j = i;
                    while matches!(toks.get(j).map(|t| &t.0), Some(Tok::Ident(w)) if w == "pub") {
                        j += 1;
                        if is_punct(toks.get(j), '(') {
                            while j < toks.len() && !is_punct(toks.get(j), ')') {
                                j += 1;
                            }
                            j += 1;
                        }
                    }
                    if let (true, Some((Tok::Ident(name), _)), true) = (
                        is_ident(toks.get(j), "mod"),
                        toks.get(j + 1),
                        is_punct(toks.get(j + 2), ';'),
                    ) {
                        let mut p = current(&inline);
                        p.push(name.clone());
                        out.test_modules.push(p);
                    }
                    i = skip_item(&toks, i);
                }
            }
            Tok::Punct('{') => {
                depth += 1;
                i += 1;
            }
            Tok::Punct('}') => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                i += 1;
            }
            Tok::Ident(w) if w == "mod" => {
                if let (Some((Tok::Ident(name), _)), true) =
                    (toks.get(i + 1), is_punct(toks.get(i + 2), '{'))
                {
                    let mut p = current(&inline);
                    p.push(name.clone());
                    out.inline.push(p.clone());
                    inline.push((p, depth));
                    i += 2;
                } else {
                    i += 1;
                }
            }
            Tok::Ident(w)
                if matches!(w.as_str(), "crate" | "$crate" | "super" | "self")
                    && matches!(toks.get(i + 1).map(|t| &t.0), Some(Tok::Colons))
                    && !matches!(i.checked_sub(1).map(|p| &toks[p].0), Some(Tok::Colons)) =>
            {
                let from = current(&inline);
                let (paths, next) = use_tree(&toks, i, &[]);
                for path in paths {
                    if let Some(abs) = absolute(&path, &from) {
                        out.refs.push(Ref {
                            from: from.clone(),
                            line: *line,
                            path: abs,
                        });
                    }
                }
                i = next.max(i + 1);
            }
            _ => i += 1,
        }
    }
    out
}

/// `path` (starting with `crate`, `super` or `self`) from module `from`, as a path from the
/// crate root.
pub(crate) fn absolute(path: &[String], from: &[String]) -> Option<Vec<String>> {
    let mut it = path.iter().peekable();
    let mut base = match it.next()?.as_str() {
        "crate" | "$crate" => Vec::new(),
        "self" => from.to_vec(),
        "super" => {
            let mut b = from.to_vec();
            b.pop()?;
            while it.peek().is_some_and(|s| *s == "super") {
                it.next();
                b.pop()?;
            }
            b
        }
        _ => return None,
    };
    base.extend(it.filter(|s| *s != "self").cloned());
    Some(base)
}
