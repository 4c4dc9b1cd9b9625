//! Byte-level checks of a raw line, before it is parsed: a value the query compares with a key
//! (`order_id=13`, `failed`, `duration>250ms`) is looked for right after that key, so a line
//! where `13` only appears in a timestamp is skipped without being parsed.
//!
//! A check answers "may match" or "cannot match", and must never say "cannot" for a line the
//! parsed record matches: every value it cannot read for sure (an escaped string, a number
//! written with a fraction or an exponent, an object) counts as "may".

use memchr::memmem::Finder;

use super::Cmp;

/// Where a key's value may be: after each occurrence of the key's pattern and a colon.
pub(super) struct KeyValue {
    /// `"key"` for a top-level key; `last"` for a field path (`http.route` may be the key
    /// `http.route` or `route` inside `http`: both end with `route"`).
    key: Finder<'static>,
    want: Want,
}

pub(super) enum Want {
    /// The value's text (a string's contents, or a scalar as written) equals this.
    Text(String),
    /// An unsigned integer that compares to this.
    Number(Cmp, u64),
}

/// Characters JSON escapes in a string: a pattern holding one may be written otherwise.
fn plain(s: &str) -> bool {
    !s.is_empty() && !s.contains(|c: char| c == '"' || c == '\\' || c.is_control())
}

impl KeyValue {
    /// A check of the top-level `key`.
    pub(super) fn top_level(key: &str, want: Want) -> Option<KeyValue> {
        plain(key).then(|| KeyValue {
            key: Finder::new(format!("\"{key}\"").as_bytes()).into_owned(),
            want,
        })
    }

    /// A check of `key` as the query's fields are looked up: the whole key, or a path.
    pub(super) fn field(key: &str, want: Want) -> Option<KeyValue> {
        if !plain(key) {
            return None;
        }
        if let Want::Text(t) = &want {
            if !plain(t) {
                return None;
            }
        }
        let pattern = match key.rsplit_once('.') {
            Some((_, last)) if !last.is_empty() => format!("{last}\""),
            _ => format!("\"{key}\""),
        };
        Some(KeyValue {
            key: Finder::new(pattern.as_bytes()).into_owned(),
            want,
        })
    }

    /// Whether some value of the key in `line` may be the one wanted.
    pub(super) fn may_hold(&self, line: &[u8]) -> bool {
        let mut rest = line;
        while let Some(at) = self.key.find(rest) {
            rest = &rest[at + self.key.needle().len()..];
            let Some(value) = rest.trim_ascii_start().strip_prefix(b":") else {
                continue;
            };
            if self.value_may_hold(value.trim_ascii_start()) {
                return true;
            }
        }
        false
    }

    fn value_may_hold(&self, value: &[u8]) -> bool {
        match value.first() {
            None => false,
            Some(b'"') => {
                let body = &value[1..];
                let Some(end) = memchr::memchr2(b'"', b'\\', body) else {
                    return false;
                };
                if body[end] == b'\\' {
                    return true; // escaped: not read here
                }
                match &self.want {
                    Want::Text(t) => &body[..end] == t.as_bytes(),
                    Want::Number(..) => false,
                }
            }
            Some(b'{' | b'[') => true,
            Some(_) => {
                let end = value
                    .iter()
                    .position(|&c| matches!(c, b',' | b'}' | b']') || c.is_ascii_whitespace())
                    .unwrap_or(value.len());
                let token = &value[..end];
                let digits = token.iter().all(u8::is_ascii_digit);
                // a number serde_json may print otherwise than it is written
                let unsure = !digits
                    && token
                        .first()
                        .is_some_and(|c| *c == b'-' || c.is_ascii_digit())
                    || digits && (token.len() > 18 || token.len() > 1 && token[0] == b'0');
                if unsure {
                    return true;
                }
                match &self.want {
                    Want::Text(t) => token == t.as_bytes(),
                    Want::Number(cmp, want) => std::str::from_utf8(token)
                        .ok()
                        .and_then(|t| t.parse::<u64>().ok())
                        .is_some_and(|d| cmp.holds(d, *want)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(key: &str, v: &str) -> KeyValue {
        KeyValue::field(key, Want::Text(v.to_owned())).expect("plain")
    }

    #[test]
    fn a_value_is_read_right_after_its_key() {
        let order = text("order_id", "13");
        assert!(order.may_hold(br#"{"ts":"13","order_id":13}"#));
        assert!(order.may_hold(br#"{"order_id" : 13 , "x":1}"#));
        assert!(order.may_hold(br#"{"order_id":"13"}"#));
        assert!(!order.may_hold(br#"{"ts":"13","order_id":130}"#));
        assert!(!order.may_hold(br#"{"msg":"order_id","x":13}"#));
        // written otherwise than serde_json prints it: left to the parser
        assert!(order.may_hold(br#"{"order_id":1.3e1}"#));
        assert!(order.may_hold(br#"{"order_id":"1\u0033"}"#));
    }

    #[test]
    fn a_path_is_found_whole_or_nested() {
        let route = text("http.route", "/orders/{id}");
        assert!(route.may_hold(br#"{"http.route":"/orders/{id}"}"#));
        assert!(route.may_hold(br#"{"http":{"route":"/orders/{id}"}}"#));
        assert!(!route.may_hold(br#"{"http.route":"/carts/{id}"}"#));
    }

    #[test]
    fn numbers_compare() {
        let slow =
            KeyValue::top_level("task.duration_us", Want::Number(Cmp::Gt, 250_000)).expect("plain");
        assert!(slow.may_hold(br#"{"task.duration_us":250001}"#));
        assert!(!slow.may_hold(br#"{"task.duration_us":250000}"#));
        assert!(slow.may_hold(br#"{"task.duration_us":2.5e6}"#));
    }
}
