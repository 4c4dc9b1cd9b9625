#![allow(dead_code, unreachable_pub)]
//! Runs the real `taskwire` binary.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

/// Path of a file in `tests/fixtures`.
pub fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

/// `taskwire <args>` with `stdin` piped in; colors off unless asked for.
pub fn taskwire(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_taskwire"))
        .args(args)
        .env_remove("NO_COLOR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the child process starts");
    let mut input = child.stdin.take().expect("it was set up");
    let stdin = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        // the binary may stop reading early (a usage error): ignore a broken pipe
        let _ = input.write_all(&stdin);
    });
    let out = child
        .wait_with_output()
        .expect("the child process can be waited for");
    writer
        .join()
        .expect("the thread finished without panicking");
    out
}

/// `taskwire tickets <args>` with `TASKWIRE_DB` unset, run to its end.
pub fn tickets(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_taskwire"))
        .arg("tickets")
        .args(args)
        .env_remove("TASKWIRE_DB")
        .output()
        .expect("the taskwire binary runs")
}

/// Writes into `store`, through the tickets layer of service `shop` release `1.0`, the two
/// tickets the tickets tests read: 3 payment errors inside a request, 1 stock warning.
pub fn write_shop_tickets(store: impl taskwire_tickets::TicketWriter + 'static) {
    use tracing_subscriber::prelude::*;
    let (layer, guard) = taskwire_tickets::layer(store)
        .with_service("shop")
        .with_release("1.0")
        .build();
    tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
        for order in [7, 8, 9] {
            let _s = tracing::info_span!("request", http.route = "/pay").entered();
            tracing::error!(order, "payment for order {order} declined");
        }
        tracing::warn!(sku = "A-1", "stock low for 10.0.0.7");
    });
    drop(guard);
}

/// Checks what `tickets show --json` prints for the payment ticket [`write_shop_tickets`] writes.
pub fn assert_shows_the_payment_ticket(v: &serde_json::Value) {
    assert_eq!(v["count"], 3, "{v}");
    assert_eq!(v["tags"]["service"][0]["value"], "shop");
    let samples = v["samples"].as_array().expect("samples");
    assert_eq!(samples.len(), 3);
    assert_eq!(samples[0]["message"], "payment for order 9 declined");
    assert_eq!(samples[0]["fields"]["order"], 9);
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("the output is UTF-8")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("the output is UTF-8")
}

/// The tree of the checkout trace in `front.log` + `back.log`, without colors.
pub const CHECKOUT_TREE: &str = "\
trace 4bf92f3577b34da6a3ce929d0e0e4736  2026-11-21T10:00:00.000000Z  6 tasks, 3 failed  services: back, front
└─ front  GET /checkout         50.0ms ✗
   │  error: checkout failed: payment declined
   ├─ front  load cart          5.00ms ✓
   └─ front  POST back/charge   30.0ms ✗
      │  error: charge returned 402
      └─ back   POST /charge    25.0ms ✗
         │  error: card declined
         ├─ back   db.query     3.00ms ✓
         └─ back   fraud check  4.00ms ✓
";

pub const HEALTH_TREE: &str = "\
trace 0af7651916cd43dd8448eb211c80319c  2026-11-21T10:00:01.000000Z  1 task  services: front
└─ front  GET /health   800µs ✓
";

pub const REFUND_TREE: &str = "\
trace 5d693dad140be44054ba2a4482cfd822  2026-11-21T10:00:02.000000Z  1 task  services: back
└─ back  POST /refund  1.23ms ✓  [orphan: remote parent ffff000000000001 not in these logs]
";

/// `bytes`, gzip-compressed.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).expect("gzip into memory");
    enc.finish().expect("gzip into memory")
}

/// The lines of a fixture, each with its newline.
pub fn fixture_lines(name: &str) -> Vec<String> {
    std::fs::read_to_string(fixture(name))
        .expect("the fixture is readable")
        .lines()
        .map(|l| format!("{l}\n"))
        .collect()
}

/// `taskwire tree FILES…` on the two fixtures, as the reference output.
pub fn plain_tree() -> String {
    stdout(&taskwire(
        &["tree", &fixture("front.log"), &fixture("back.log")],
        b"",
    ))
}

/// Kills the server when the test ends, however it ends.
pub struct Server(pub std::process::Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The whole answer (status line, headers, body) to a GET of `path` with `extra` header lines.
pub fn get(addr: &str, path: &str, extra: &str) -> String {
    let mut s = std::net::TcpStream::connect(addr).expect("the server accepts");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n"
    )
    .expect("the request is sent");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("an answer");
    answer
}

/// A started `taskwire serve`: the process (killed on drop), its address and the lines it
/// printed after the first.
pub struct Serving {
    pub server: Server,
    pub addr: String,
    pub first: String,
    pub lines: std::io::Lines<std::io::BufReader<std::process::ChildStdout>>,
}

/// Starts `cmd` (a `taskwire serve` with `--bind 127.0.0.1:0`) and reads the address from the
/// first line it prints.
pub fn start_serve(mut cmd: Command) -> Serving {
    use std::io::BufRead;
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("taskwire serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server(child);
    let mut lines = std::io::BufReader::new(stdout).lines();
    let first = lines.next().expect("a line").expect("text");
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|u| u.strip_suffix('/'))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_owned();
    Serving {
        server,
        addr,
        first,
        lines,
    }
}

/// The lines of a fixture with every `ts` moved by `shift_us` µs: the log of a host whose
/// clock is off by that much.
pub fn shifted(name: &str, shift_us: i64) -> String {
    let log = std::fs::read_to_string(fixture(name)).expect("the fixture is readable");
    taskwire_test_support::json_line::shift_times(&log, shift_us, shift_ts)
}

/// An RFC 3339 time moved by `by_us` µs.
pub fn shift_ts(ts: &str, by_us: i64) -> String {
    let us = taskwire_core::time::parse_rfc3339_us(ts).expect("an RFC 3339 time");
    taskwire_core::time::Rfc3339(us + by_us).to_string()
}

/// Runs `f` as the process `service` with the real tasks layer `tasks` and the JSON layer;
/// returns its log.
pub fn process_log(service: &str, tasks: taskwire_tasks::TasksLayer, f: impl FnOnce()) -> Vec<u8> {
    use tracing_subscriber::prelude::*;
    let log = taskwire_test_support::Capture::default();
    let subscriber = tracing_subscriber::registry().with(tasks).with(
        taskwire_json::layer()
            .with_service(service)
            .with_writer(log.clone()),
    );
    tracing::subscriber::with_default(subscriber, f);
    log.bytes()
}

/// Writes each `(file name, log)` into a fresh folder, calls `f` with the files' paths (in the
/// same order), then removes the folder.
pub fn with_log_files<T>(logs: &[(&str, &[u8])], f: impl FnOnce(&[&str]) -> T) -> T {
    let dir = taskwire_test_support::TempDir::new("cli-logs");
    let paths: Vec<String> = logs
        .iter()
        .map(|(name, log)| {
            let path = dir.join(name);
            std::fs::write(&path, log).expect("the log is written");
            path.display().to_string()
        })
        .collect();
    let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
    f(&paths)
}

/// Each line of what `out` printed, parsed as JSON.
pub fn json_lines(out: &Output) -> Vec<serde_json::Value> {
    stdout(out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// The first line of `text` that contains `needle`.
pub fn line_with<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no {needle:?} in\n{text}"))
}
