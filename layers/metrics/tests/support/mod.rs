//! Test support: a strict parser of the Prometheus text exposition format (0.0.4) and a tiny
//! HTTP server and client over std sockets.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;

/// One sample line.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Sample {
    pub(crate) name: String,
    pub(crate) labels: Vec<(String, String)>,
    pub(crate) value: f64,
}

impl Sample {
    pub(crate) fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One metric family: its `# TYPE`, and its samples in order.
#[derive(Clone, Debug)]
pub(crate) struct Family {
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) samples: Vec<Sample>,
}

fn is_name(s: &str, colons: bool) -> bool {
    let mut chars = s.chars();
    let ok_first = |c: char| c.is_ascii_alphabetic() || c == '_' || (colons && c == ':');
    chars.next().is_some_and(ok_first)
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || (colons && c == ':'))
}

fn parse_value(s: &str) -> Result<f64, String> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => s
            .parse::<f64>()
            .map_err(|e| format!("bad value {s:?}: {e}")),
    }
}

fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .find(['{', ' '])
        .ok_or_else(|| format!("no value: {line:?}"))?;
    let name = &line[..name_end];
    if !is_name(name, true) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(r) = rest.strip_prefix('{') {
        rest = r;
        loop {
            if let Some(r) = rest.strip_prefix('}') {
                rest = r;
                break;
            }
            let eq = rest.find('=').ok_or("label without '='")?;
            let key = &rest[..eq];
            if !is_name(key, false) {
                return Err(format!("bad label name {key:?}"));
            }
            rest = rest[eq + 1..]
                .strip_prefix('"')
                .ok_or("label value not quoted")?;
            let mut value = String::new();
            let mut chars = rest.char_indices();
            let end = loop {
                match chars.next() {
                    Some((_, '\\')) => match chars.next() {
                        Some((_, '\\')) => value.push('\\'),
                        Some((_, '"')) => value.push('"'),
                        Some((_, 'n')) => value.push('\n'),
                        other => return Err(format!("bad escape {other:?}")),
                    },
                    Some((i, '"')) => break i,
                    Some((_, '\n')) => return Err("raw newline in label value".into()),
                    Some((_, c)) => value.push(c),
                    None => return Err("unterminated label value".into()),
                }
            };
            if labels.iter().any(|(k, _): &(String, String)| k == key) {
                return Err(format!("label {key} repeated"));
            }
            labels.push((key.to_owned(), value));
            rest = &rest[end + 1..];
            if let Some(r) = rest.strip_prefix(',') {
                rest = r;
            } else if !rest.starts_with('}') {
                return Err(format!("expected ',' or '}}' in {line:?}"));
            }
        }
    }
    let rest = rest.strip_prefix(' ').ok_or("no space before value")?;
    let mut parts = rest.split(' ');
    let value = parse_value(parts.next().ok_or("no value")?)?;
    if let Some(ts) = parts.next() {
        ts.parse::<i64>()
            .map_err(|_| format!("bad timestamp {ts:?}"))?;
    }
    if parts.next().is_some() {
        return Err(format!("trailing text in {line:?}"));
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value,
    })
}

/// The family a sample belongs to, given the family's type.
fn belongs(family: &Family, sample: &str) -> bool {
    let n = family.name.as_str();
    match family.kind.as_str() {
        "histogram" => [
            format!("{n}_bucket"),
            format!("{n}_sum"),
            format!("{n}_count"),
        ]
        .iter()
        .any(|s| s == sample),
        "summary" => sample == n || sample == format!("{n}_sum") || sample == format!("{n}_count"),
        _ => sample == n,
    }
}

/// Parses a whole exposition, strictly: every sample after its family's `# TYPE`, families
/// not repeated, histogram buckets cumulative with a `+Inf` bucket equal to `_count`.
pub(crate) fn parse(text: &str) -> Result<Vec<Family>, String> {
    let mut families: Vec<Family> = Vec::new();
    for (no, line) in text.lines().enumerate() {
        let err = |e: String| format!("line {}: {e}: {line:?}", no + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(c) = line.strip_prefix('#') {
            let mut words = c.trim_start().splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("TYPE"), Some(name), Some(kind)) => {
                    if !is_name(name, true) {
                        return Err(err("bad family name".into()));
                    }
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                        return Err(err(format!("bad type {kind}")));
                    }
                    if families.iter().any(|f| f.name == name) {
                        return Err(err("family repeated".into()));
                    }
                    families.push(Family {
                        name: name.to_owned(),
                        kind: kind.to_owned(),
                        samples: Vec::new(),
                    });
                }
                (Some("HELP"), Some(name), _) if !is_name(name, true) => {
                    return Err(err("bad family name".into()));
                }
                _ => {}
            }
            continue;
        }
        let s = parse_sample(line).map_err(err)?;
        let family = families
            .last_mut()
            .filter(|f| belongs(f, &s.name))
            .ok_or_else(|| err("sample outside its family".into()))?;
        family.samples.push(s);
    }
    for f in families.iter().filter(|f| f.kind == "histogram") {
        check_histogram(f)?;
    }
    Ok(families)
}

/// The label set of a sample without `le`/`quantile`.
pub(crate) fn series_labels(s: &Sample) -> Vec<(String, String)> {
    s.labels
        .iter()
        .filter(|(k, _)| k != "le" && k != "quantile")
        .cloned()
        .collect()
}

fn check_histogram(f: &Family) -> Result<(), String> {
    let mut series: Vec<Vec<(String, String)>> = Vec::new();
    for s in &f.samples {
        let l = series_labels(s);
        if !series.contains(&l) {
            series.push(l);
        }
    }
    for l in series {
        let of = |suffix: &str| {
            f.samples
                .iter()
                .filter(|s| s.name == format!("{}{suffix}", f.name) && series_labels(s) == l)
                .collect::<Vec<_>>()
        };
        let buckets = of("_bucket");
        let count = of("_count");
        let sum = of("_sum");
        if count.len() != 1 || sum.len() != 1 || buckets.is_empty() {
            return Err(format!(
                "{} {l:?}: needs buckets, one _sum, one _count",
                f.name
            ));
        }
        let mut last_le = f64::NEG_INFINITY;
        let mut last_n = 0.0;
        for b in &buckets {
            let le = parse_value(b.label("le").ok_or("bucket without le")?)?;
            if le <= last_le || b.value < last_n {
                return Err(format!(
                    "{} {l:?}: buckets not ascending/cumulative",
                    f.name
                ));
            }
            last_le = le;
            last_n = b.value;
        }
        if last_le != f64::INFINITY || last_n != count[0].value {
            return Err(format!("{} {l:?}: +Inf bucket {last_n} != _count", f.name));
        }
    }
    Ok(())
}

/// Serves `body()` for every request on 127.0.0.1 (port chosen by the system); returns the
/// address. The thread lives until the test process ends.
pub(crate) fn serve(body: impl Fn(&str) -> (String, String) + Send + Sync + 'static) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let body = Arc::new(body);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let body = body.clone();
            std::thread::spawn(move || {
                let mut reader = BufReader::new(&stream);
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    return;
                }
                let path = request_line.split(' ').nth(1).unwrap_or("/").to_owned();
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let (content_type, text) = body(&path);
                let mut stream = &stream;
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                    text.len()
                );
            });
        }
    });
    addr
}

/// `GET path` over HTTP/1.1; returns the body of a 200 response.
pub(crate) fn get(addr: SocketAddr, path: &str) -> Result<String, String> {
    let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).map_err(|e| e.to_string())?;
    let (head, body) = raw.split_once("\r\n\r\n").ok_or("no header end")?;
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("status: {head}"));
    }
    Ok(body.to_owned())
}

#[test]
fn parser_is_strict() {
    assert!(parse("# TYPE a counter\na 1\n").is_ok());
    assert!(parse("a 1\n").is_err(), "sample without TYPE");
    assert!(parse("# TYPE a counter\na{b=\"x} 1\n").is_err());
    assert!(parse("# TYPE a counter\na{1b=\"x\"} 1\n").is_err());
    assert!(parse("# TYPE a counter\na 1 2 3\n").is_err());
    assert!(parse(
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n"
    )
    .is_err());
    assert!(parse(
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n"
    )
    .is_ok());
    assert!(
        parse("# TYPE a counter\na{b=\"q\\\"\\n\"} 1\n").unwrap()[0].samples[0].labels[0].1
            == "q\"\n"
    );
}
