//! Reading callbacks the way the harness does: a header it could not parse fails the case as it
//! would there.

/// A callback's `traceparent`, as the harness's `Traceparent.from_string` accepts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Traceparent {
    /// 32 lowercase hex digits.
    pub trace_id: String,
    /// 16 lowercase hex digits.
    pub parent_id: String,
    /// The trace-flags byte.
    pub trace_flags: u8,
}

fn is_lower_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(&c))
}

/// `get_traceparent`: exactly one `traceparent` header (any case), version `00`, four fields,
/// lowercase hex of the right lengths, neither id all zeros.
pub fn traceparent(headers: &[(String, String)]) -> Result<Traceparent, String> {
    let found: Vec<&str> = headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("traceparent"))
        .map(|(_, v)| v.as_str())
        .collect();
    let [value] = found[..] else {
        return Err(format!("expect one traceparent header, got {found:?}"));
    };
    let parts: Vec<&str> = value.split('-').collect();
    let [version, trace_id, parent_id, flags] = parts[..] else {
        return Err(format!("traceparent {value:?} does not have four fields"));
    };
    if version != "00" {
        return Err(format!("unsupported version in {value:?}"));
    }
    if !is_lower_hex(trace_id, 32) || trace_id.bytes().all(|c| c == b'0') {
        return Err(format!("bad trace_id in {value:?}"));
    }
    if !is_lower_hex(parent_id, 16) || parent_id.bytes().all(|c| c == b'0') {
        return Err(format!("bad parent_id in {value:?}"));
    }
    if !is_lower_hex(flags, 2) {
        return Err(format!("bad trace_flags in {value:?}"));
    }
    Ok(Traceparent {
        trace_id: trace_id.to_owned(),
        parent_id: parent_id.to_owned(),
        trace_flags: u8::from_str_radix(flags, 16).map_err(|e| e.to_string())?,
    })
}

/// A callback's `tracestate`, as the harness's `Tracestate` holds it: members in order, the
/// first value of a repeated key kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracestate(Vec<(String, String)>);

impl Tracestate {
    /// `tracestate[key]`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// `key in tracestate`.
    pub fn contains(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// `len(tracestate)`.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// `str(tracestate)`.
    pub fn to_header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// The harness's key grammar at acab820: `[0-9a-z][_0-9a-z\-\*\/@]{0,255}`.
fn harness_key(k: &str) -> bool {
    let b = k.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b[1..].iter().all(|&c| {
            c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || matches!(c, b'_' | b'-' | b'*' | b'/' | b'@')
        })
}

/// The harness's value grammar: up to 256 of 0x20-0x7e but `,` and `=`, not ending in a space.
fn harness_value(v: &str) -> bool {
    let nblk = |c: u8| matches!(c, 0x21..=0x2b | 0x2d..=0x3c | 0x3e..=0x7e);
    let b = v.as_bytes();
    !b.is_empty()
        && b.len() <= 256
        && b.iter().all(|&c| c == 0x20 || nblk(c))
        && nblk(b[b.len() - 1])
}

/// `get_tracestate`: every `tracestate` header (any case) in order, split on commas with the
/// spaces and tabs around them; a member that does not match the grammar is an error (the
/// harness raises), a repeated key keeps its first value.
pub fn tracestate(headers: &[(String, String)]) -> Result<Tracestate, String> {
    let mut out = Tracestate::default();
    for (_, value) in headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("tracestate"))
    {
        let pieces: Vec<&str> = value.split(',').collect();
        let last = pieces.len() - 1;
        for (i, piece) in pieces.iter().enumerate() {
            let mut m = *piece;
            if i > 0 {
                m = m.trim_start_matches([' ', '\t']);
            }
            if i < last {
                m = m.trim_end_matches([' ', '\t']);
            }
            if m.is_empty() {
                continue;
            }
            let Some((k, v)) = m.split_once('=') else {
                return Err(format!("illegal key-value format {m:?}"));
            };
            if !harness_key(k) || !harness_value(v) {
                return Err(format!("illegal key-value format {m:?}"));
            }
            if !out.contains(k) {
                out.0.push((k.to_owned(), v.to_owned()));
            }
        }
    }
    Ok(out)
}
