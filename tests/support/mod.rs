//! Shared helpers for the integration tests: an in-memory `MakeWriter`, a JSON line parser that
//! refuses repeated keys, and a self-removing temporary directory.
//!
//! Each test binary uses a subset of these helpers.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::collections::HashSet;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::{Layer, Registry};

/// One parsed JSON record.
pub type Record = Map<String, Value>;

/// A `MakeWriter` that appends everything into a shared in-memory buffer.
#[derive(Clone, Default)]
pub struct Buf(Arc<Mutex<Vec<u8>>>);

/// The writer handed out by [`Buf`].
pub struct BufWriter(Arc<Mutex<Vec<u8>>>);

impl io::Write for BufWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Buf {
    type Writer = BufWriter;

    fn make_writer(&'a self) -> Self::Writer {
        BufWriter(Arc::clone(&self.0))
    }
}

impl Buf {
    /// Everything written so far, as UTF-8.
    pub fn contents(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).expect("output is UTF-8")
    }

    /// The lines written so far; the output must end with a newline when not empty.
    pub fn lines(&self) -> Vec<String> {
        split_lines(&self.contents())
    }

    /// Every line parsed (and checked, see [`parse_line`]).
    pub fn records(&self) -> Vec<Record> {
        self.lines().iter().map(|l| parse_line(l)).collect()
    }

    /// Forgets what was written.
    pub fn clear(&self) {
        self.0.lock().unwrap().clear();
    }
}

/// Splits output into lines, checking that it ends with a newline.
pub fn split_lines(out: &str) -> Vec<String> {
    if out.is_empty() {
        return Vec::new();
    }
    assert!(
        out.ends_with('\n'),
        "output does not end with a newline: {out:?}"
    );
    out[..out.len() - 1]
        .split('\n')
        .map(str::to_owned)
        .collect()
}

/// A JSON layer writing into `buf`.
pub fn json(buf: &Buf) -> taskwire::json::JsonLayer<Buf> {
    taskwire::json::layer().with_writer(buf.clone())
}

/// Runs `f` with `registry().with(layer)` as the thread's default subscriber.
pub fn with_layer<L, R>(layer: L, f: impl FnOnce() -> R) -> R
where
    L: Layer<Registry> + Send + Sync + 'static,
{
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), f)
}

/// Runs `f` under a default JSON layer and returns the records it wrote.
pub fn capture(f: impl FnOnce()) -> Vec<Record> {
    let buf = Buf::default();
    with_layer(json(&buf), f);
    buf.records()
}

/// Parses one JSON line: it must contain no raw line break (`\n`, `\r`, U+2028, U+2029), be a
/// JSON object, and repeat no key in any object at any depth.
pub fn parse_line(line: &str) -> Record {
    for c in ['\n', '\r', '\u{2028}', '\u{2029}'] {
        assert!(!line.contains(c), "raw {c:?} in line {line:?}");
    }
    if let Err(e) = serde_json::from_str::<NoDuplicateKeys>(line) {
        panic!("invalid JSON or repeated key ({e}) in line {line:?}");
    }
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(m)) => m,
        Ok(other) => panic!("not an object: {other}"),
        Err(e) => panic!("invalid JSON ({e}) in line {line:?}"),
    }
}

/// Deserializes any JSON value and fails on the first object that repeats a key.
/// (`serde_json::Value` silently keeps the last of repeated keys.)
pub struct NoDuplicateKeys;

impl<'de> Deserialize<'de> for NoDuplicateKeys {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NoDupVisitor)
    }
}

struct NoDupVisitor;

impl<'de> Visitor<'de> for NoDupVisitor {
    type Value = NoDuplicateKeys;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(NoDuplicateKeys)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<NoDuplicateKeys>()?.is_some() {}
        Ok(NoDuplicateKeys)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
            }
            map.next_value::<NoDuplicateKeys>()?;
        }
        Ok(NoDuplicateKeys)
    }
}

/// The top-level keys of a JSON object line, in the order they are written.
pub fn keys_in_order(line: &str) -> Vec<String> {
    struct Keys;
    impl<'de> Visitor<'de> for Keys {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut keys = Vec::new();
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<de::IgnoredAny>()?;
                keys.push(key);
            }
            Ok(keys)
        }
    }
    struct InOrder(Vec<String>);
    impl<'de> Deserialize<'de> for InOrder {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_map(Keys).map(InOrder)
        }
    }
    match serde_json::from_str::<InOrder>(line) {
        Ok(InOrder(keys)) => keys,
        Err(e) => panic!("invalid JSON object ({e}): {line:?}"),
    }
}

/// The top-level keys of a JSON object line with the raw JSON text of each value, in order.
/// (For exact float checks: serde_json's default float parser is not correctly rounded.)
pub fn raw_values(line: &str) -> Vec<(String, String)> {
    fn one<T: de::DeserializeOwned>(s: &str) -> (T, usize) {
        let mut it = serde_json::Deserializer::from_str(s).into_iter::<T>();
        match it.next() {
            Some(Ok(v)) => (v, it.byte_offset()),
            other => panic!("no JSON value ({:?}) at {s:?}", other.map(|r| r.err())),
        }
    }
    let mut rest = line.trim_start().strip_prefix('{').expect("an object");
    let mut out = Vec::new();
    loop {
        rest = rest.trim_start();
        if let Some(r) = rest.strip_prefix('}') {
            assert!(r.trim().is_empty(), "trailing text {r:?}");
            return out;
        }
        if !out.is_empty() {
            rest = rest.strip_prefix(',').expect("a comma").trim_start();
        }
        let (key, n) = one::<String>(rest);
        rest = rest[n..]
            .trim_start()
            .strip_prefix(':')
            .expect("a colon")
            .trim_start();
        let (_, n) = one::<de::IgnoredAny>(rest);
        out.push((key, rest[..n].to_owned()));
        rest = &rest[n..];
    }
}

/// Whether `s` is `len` lowercase hex digits, not all zero.
pub fn is_hex_id(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        && s.bytes().any(|b| b != b'0')
}

/// The string under `key`, or a panic naming the record.
pub fn str_of<'r>(r: &'r Record, key: &str) -> &'r str {
    match r.get(key) {
        Some(Value::String(s)) => s,
        other => panic!("{key:?} is {other:?}, not a string, in {r:?}"),
    }
}

/// A temporary directory removed on drop.
pub struct TempDir(PathBuf);

impl TempDir {
    pub fn new() -> Self {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let dir = std::env::temp_dir().join(format!(
            "taskwire-test-{}-{}-{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The environment variable that tells a test binary it runs as a child of [`run_child`].
pub const CHILD_ENV: &str = "TASKWIRE_TEST_CHILD";

/// Whether this process is a child started by [`run_child`] for the test `name`.
pub fn is_child(name: &str) -> bool {
    std::env::var(CHILD_ENV).is_ok_and(|v| v == name)
}

/// Runs the test `name` of this test binary in a child process with `env` set (and
/// `RUST_LOG` removed unless `env` sets it), and returns its output once it has exited.
pub fn run_child(name: &str, env: &[(&str, &str)]) -> std::process::Output {
    let exe = std::env::current_exe().expect("the test binary's path");
    let mut cmd = std::process::Command::new(exe);
    cmd.args([
        name,
        "--exact",
        "--nocapture",
        "--include-ignored",
        "--test-threads=1",
    ])
    .env(CHILD_ENV, name)
    .env_remove("RUST_LOG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("the child test process starts");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "the child test {name} did not run and pass:\nstdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `target/<profile>/examples/<name>`, built by `cargo test` (or
/// `cargo build --examples`); a panic that says how to build it when it is missing or older
/// than its source.
pub fn example_binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile = exe
        .parent()
        .and_then(Path::parent)
        .expect("the test runs from target/<profile>/deps");
    let bin = profile
        .join("examples")
        .join(format!("{name}{}", std::env::consts::EXE_SUFFIX));
    let how = "Build it with `cargo build -p taskwire --examples`, or run `./scripts/test`";
    let built = std::fs::metadata(&bin)
        .and_then(|m| m.modified())
        .unwrap_or_else(|e| panic!("{} is missing ({e}). {how}.", bin.display()));
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("examples/{name}.rs"));
    if let Ok(edited) = std::fs::metadata(&source).and_then(|m| m.modified()) {
        assert!(
            built >= edited,
            "{} is older than its source. {how}.",
            bin.display()
        );
    }
    bin
}
