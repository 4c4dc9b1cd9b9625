//! The tokens of Rust source that matter to the module graph.

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    Ident(String),
    /// `::`
    Colons,
    Punct(char),
}

/// The tokens of Rust source that matter here (identifiers, `::` and punctuation), with
/// their lines; comments, strings, characters and lifetimes are dropped.
pub(crate) fn tokens(text: &str) -> Vec<(Tok, usize)> {
    let c: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let (mut i, mut line) = (0, 1);
    // Skips a string body from `i` (just after the opening quote) with `hashes` closing `#`s.
    let skip_string = |i: &mut usize, line: &mut usize, raw: bool, hashes: usize| {
        while *i < c.len() {
            match c[*i] {
                '\\' if !raw => *i += 2,
                '"' if c[*i + 1..]
                    .iter()
                    .take(hashes)
                    .filter(|&&h| h == '#')
                    .count()
                    == hashes =>
                {
                    *i += 1 + hashes;
                    return;
                }
                ch => {
                    if ch == '\n' {
                        *line += 1;
                    }
                    *i += 1;
                }
            }
        }
    };
    while i < c.len() {
        let ch = c[i];
        let next = c.get(i + 1).copied();
        match ch {
            '\n' => {
                line += 1;
                i += 1;
            }
            '/' if next == Some('/') => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            '/' if next == Some('*') => {
                let mut depth = 0;
                while i < c.len() {
                    if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 2;
                    } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        if c[i] == '\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                }
            }
            '"' => {
                i += 1;
                skip_string(&mut i, &mut line, false, 0);
            }
            '\'' => {
                if next == Some('\\') {
                    // `'\n'`, `'\''`, `'\u{..}'`: past the escaped character, to the quote.
                    i += 3;
                    while i < c.len() && c[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                } else if c.get(i + 2) == Some(&'\'') {
                    i += 3;
                } else {
                    i += 1; // a lifetime: its name follows as an identifier
                }
            }
            ':' if next == Some(':') => {
                out.push((Tok::Colons, line));
                i += 2;
            }
            ch if ch.is_alphabetic() || ch == '_' || ch == '$' => {
                let start = i;
                i += 1;
                while i < c.len() && (c[i].is_alphanumeric() || c[i] == '_') {
                    i += 1;
                }
                let word: String = c[start..i].iter().collect();
                let at = c.get(i).copied();
                match (word.as_str(), at) {
                    ("r" | "br", Some('#' | '"')) => {
                        let mut hashes = 0;
                        while c.get(i) == Some(&'#') {
                            hashes += 1;
                            i += 1;
                        }
                        if c.get(i) == Some(&'"') {
                            i += 1;
                            skip_string(&mut i, &mut line, true, hashes);
                        }
                    }
                    ("b", Some('"')) => {
                        i += 1;
                        skip_string(&mut i, &mut line, false, 0);
                    }
                    ("b", Some('\'')) => {
                        // `b'x'`, `b'\''`: past the (escaped) character, to the quote.
                        i += if c.get(i + 1) == Some(&'\\') { 3 } else { 2 };
                        while i < c.len() && c[i] != '\'' {
                            i += 1;
                        }
                        i += 1;
                    }
                    _ => out.push((Tok::Ident(word), line)),
                }
            }
            ch if ch.is_whitespace() => i += 1,
            ch => {
                out.push((Tok::Punct(ch), line));
                i += 1;
            }
        }
    }
    out
}

pub(crate) fn is_ident(t: Option<&(Tok, usize)>, word: &str) -> bool {
    matches!(t, Some((Tok::Ident(w), _)) if w == word)
}

pub(crate) fn is_punct(t: Option<&(Tok, usize)>, ch: char) -> bool {
    matches!(t, Some((Tok::Punct(p), _)) if *p == ch)
}
