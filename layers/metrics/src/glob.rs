//! Allow and forbid lists of glob patterns (Python scales' `allow("**")` / `forbid(...)`),
//! matched against series ids such as
//! `taskwire_span_duration_seconds{name="checkout",target="shop",outcome="succeeded"}`.

/// Allow and forbid lists. Empty allow list: everything is allowed. A forbid wins.
#[derive(Clone, Debug, Default)]
pub(crate) struct Globs {
    allow: Vec<String>,
    forbid: Vec<String>,
}

impl Globs {
    pub(crate) fn allow<I, K>(&mut self, globs: I)
    where
        I: IntoIterator<Item = K>,
        K: AsRef<str>,
    {
        self.allow
            .extend(globs.into_iter().map(|g| g.as_ref().to_owned()));
    }

    pub(crate) fn forbid<I, K>(&mut self, globs: I)
    where
        I: IntoIterator<Item = K>,
        K: AsRef<str>,
    {
        self.forbid
            .extend(globs.into_iter().map(|g| g.as_ref().to_owned()));
    }

    /// Whether nothing is filtered out.
    pub(crate) fn is_open(&self) -> bool {
        self.allow.is_empty() && self.forbid.is_empty()
    }

    /// Whether the series with this id is listed.
    pub(crate) fn admits(&self, id: &str) -> bool {
        (self.allow.is_empty() || self.allow.iter().any(|g| matches(g, id)))
            && !self.forbid.iter().any(|g| matches(g, id))
    }
}

/// Whether `text` matches `pattern`: `*` any run of characters, `?` one character, anything
/// else itself. Linear backtracking on the last `*`, so no pattern is slow.
pub(crate) fn matches(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(matches("*", ""));
        assert!(matches("**", "anything"));
        assert!(matches(
            "taskwire_span_*",
            "taskwire_span_duration_seconds{}"
        ));
        assert!(!matches("taskwire_span_*", "taskwire_events_total{}"));
        assert!(matches("a?c", "abc"));
        assert!(!matches("a?c", "ac"));
        assert!(matches(
            r#"*name="GET /health"*"#,
            r#"x{name="GET /health",y="1"}"#
        ));
        assert!(matches("*a*b*c", "xxaxxbxxbxc"));
    }

    #[test]
    fn forbid_wins() {
        let mut g = Globs::default();
        assert!(g.admits("x"));
        g.allow(["taskwire_*"]);
        g.forbid(["*failed*"]);
        assert!(g.admits("taskwire_a"));
        assert!(!g.admits("taskwire_failed"));
        assert!(!g.admits("other"));
    }
}
