//! Two real processes, one task tree: `examples/front.rs` (axum, `taskwire::tower` server
//! middleware, `taskwire::reqwest` client) calls `examples/back.rs` (actix-web,
//! `taskwire::actix`); each writes its own JSON log. From the two files alone, back's request
//! task is a child of front's client task, the trace ids agree, a request that fails in back is
//! failed in both services, and `taskwire tree` prints it as one tree. With back's clock set 2 s
//! behind (its log's times moved), the tree puts back's tasks inside front's call again and
//! flags the adjustment. Both services count their errors into one SQLite tickets store: each
//! ERROR line names its ticket's fingerprint, and with a `taskwire.toml` naming the store and
//! the logs, `taskwire tree` shows the ticket next to each error and `taskwire tickets show N
//! --trace` opens the failed request's tree.
//!
//! The example binaries and the `taskwire` binary are taken from the target directory of this
//! test (`cargo test --workspace --all-features`, i.e. `./scripts/test`, builds them all).
#![cfg(all(feature = "axum", feature = "actix", feature = "reqwest"))]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

/// How long any one step (start, request, stop) may take before the test fails.
const PATIENCE: Duration = Duration::from_secs(60);

/// `target/<profile>`: this test runs as `target/<profile>/deps/<name>-<hash>`.
fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    exe.parent()
        .and_then(Path::parent)
        .unwrap_or_else(|| panic!("{} is not in target/<profile>/deps", exe.display()))
        .to_owned()
}

/// A binary built next to this test, or a panic that says how to build it.
fn binary(relative: &str, how_to_build: &str) -> PathBuf {
    let path = profile_dir().join(format!("{relative}{}", std::env::consts::EXE_SUFFIX));
    assert!(
        path.is_file(),
        "{} is missing. {how_to_build}, or run `./scripts/test` \
         (`cargo test --workspace --all-features`), which builds it.",
        path.display()
    );
    path
}

/// Panics if `binary` is older than the example source it was built from: `cargo test --test`
/// alone does not rebuild examples, and an old binary would test old code.
fn assert_fresh(binary: &Path, source: &str) {
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join(source);
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    if let (Some(built), Some(edited)) = (modified(binary), modified(&source)) {
        assert!(
            built >= edited,
            "{} is older than {}. Rebuild it with \
             `cargo build -p taskwire --all-features --examples`, or run `./scripts/test`.",
            binary.display(),
            source.display()
        );
    }
}

/// One example service, run as a child process with piped stdin, stdout and stderr.
struct Service {
    name: &'static str,
    child: Child,
    /// Closing it (end of file) stops the service: both examples run with `--stop-on-eof`.
    stdin: Option<ChildStdin>,
    /// stdout, line by line, from a reader thread; disconnects when the process closes it.
    stdout: Receiver<String>,
    stderr: Arc<Mutex<String>>,
    addr: SocketAddr,
}

impl Service {
    /// Starts `exe` and waits for its first stdout line, `listening on 127.0.0.1:PORT`.
    fn start(name: &'static str, exe: &Path, args: &[&str]) -> Service {
        let mut child = Command::new(exe)
            .args(args)
            .arg("--stop-on-eof")
            .env_remove("RUST_LOG")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", exe.display()));
        let stdin = child.stdin.take();
        let out = child.stdout.take().expect("piped stdout");
        let err = child.stderr.take().expect("piped stderr");
        let (tx, stdout) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let sink = Arc::clone(&stderr);
        thread::spawn(move || {
            let mut buf = String::new();
            let _ = BufReader::new(err).read_to_string(&mut buf);
            sink.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push_str(&buf);
        });
        let mut service = Service {
            name,
            child,
            stdin,
            stdout,
            stderr,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let first = match service.stdout.recv_timeout(PATIENCE) {
            Ok(line) => line,
            Err(e) => {
                let _ = service.child.kill();
                let status = service.child.wait();
                panic!(
                    "{name} printed no `listening on` line ({e:?}; exit: {status:?}); stderr:\n{}",
                    service.stderr()
                );
            }
        };
        service.addr = first
            .strip_prefix("listening on ")
            .and_then(|a| a.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name}'s first line is not `listening on ADDR`: {first}"));
        service
    }

    fn stderr(&self) -> String {
        self.stderr
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Closes stdin and waits for a clean exit: the process closes stdout when it ends, and
    /// its exit status must be success (the guard flushed the log file on the way out).
    fn stop(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + PATIENCE;
        loop {
            match self
                .stdout
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(_) => {}
                Err(RecvTimeoutError::Disconnected) => break,
                Err(RecvTimeoutError::Timeout) => panic!(
                    "{} did not stop within {PATIENCE:?} of its stdin closing; stderr:\n{}",
                    self.name,
                    self.stderr()
                ),
            }
        }
        let status = self.child.wait().expect("wait for the service");
        assert!(
            status.success(),
            "{} exited with {status}; stderr:\n{}",
            self.name,
            self.stderr()
        );
    }
}

impl Drop for Service {
    /// A failing test must not leave its services running.
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A plain HTTP/1.1 GET with `Connection: close`: (status, body).
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect_timeout(&addr, PATIENCE)
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    stream.set_read_timeout(Some(PATIENCE)).expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("GET {path}: not an HTTP response: {response:?}"));
    let body = response
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

/// Every line of a log file, each of which must be a JSON object (a complete log).
fn read_log(path: &Path) -> Vec<Value> {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    text.lines()
        .map(|l| {
            serde_json::from_str(l)
                .unwrap_or_else(|e| panic!("{}: a line is not JSON ({e}): {l}", path.display()))
        })
        .collect()
}

/// The one `task.end` record named `name` whose `key` is `value`.
fn task_end<'a>(log: &'a [Value], file: &str, name: &str, key: &str, value: &str) -> &'a Value {
    let found: Vec<&Value> = log
        .iter()
        .filter(|r| r["msg"] == "task.end" && r["task.name"] == name && r[key] == value)
        .collect();
    assert_eq!(
        found.len(),
        1,
        "{file}: expected one task.end named {name:?} with {key} = {value:?}, found {found:#?}"
    );
    found[0]
}

/// The messages of the ERROR events of task `span_id`.
fn errors_in(log: &[Value], span_id: &Value) -> Vec<String> {
    log.iter()
        .filter(|r| r["level"] == "ERROR" && r["span_id"] == *span_id)
        .map(|r| r["msg"].as_str().unwrap_or_default().to_owned())
        .collect()
}

/// The three tasks that one `GET /checkout/{order}` leaves in the two logs.
struct Checkout<'a> {
    /// front's request task (the root: the test sent no `traceparent`)
    front: &'a Value,
    /// front's client task for the call to back
    client: &'a Value,
    /// back's request task
    back: &'a Value,
}

fn checkout<'a>(
    front: &'a [Value],
    back: &'a [Value],
    back_addr: SocketAddr,
    order: u64,
) -> Checkout<'a> {
    let c = Checkout {
        front: task_end(
            front,
            "front.log",
            "GET /checkout/{order}",
            "url.path",
            &format!("/checkout/{order}"),
        ),
        client: task_end(
            front,
            "front.log",
            "GET 127.0.0.1",
            "url.full",
            &format!("http://{back_addr}/charge/{order}"),
        ),
        back: task_end(
            back,
            "back.log",
            "GET /charge/{order}",
            "url.path",
            &format!("/charge/{order}"),
        ),
    };
    let ctx = format!(
        "order {order}:\nfront {:#}\nclient {:#}\nback {:#}",
        c.front, c.client, c.back
    );
    assert_eq!(c.front["service"], "front", "{ctx}");
    assert_eq!(c.client["service"], "front", "{ctx}");
    assert_eq!(c.back["service"], "back", "{ctx}");
    // front: a root request task, parent of the client task
    assert!(c.front.get("parent_span_id").is_none(), "{ctx}");
    assert!(c.front.get("task.remote_parent").is_none(), "{ctx}");
    assert_eq!(c.client["parent_span_id"], c.front["span_id"], "{ctx}");
    assert!(c.client.get("task.remote_parent").is_none(), "{ctx}");
    // back: its request task's parent is front's CLIENT task, in the other process
    assert_eq!(c.back["parent_span_id"], c.client["span_id"], "{ctx}");
    assert_eq!(c.back["task.remote_parent"], true, "{ctx}");
    // one trace across both files
    assert!(
        c.front["trace_id"].as_str().is_some_and(|t| t.len() == 32),
        "{ctx}"
    );
    assert_eq!(c.client["trace_id"], c.front["trace_id"], "{ctx}");
    assert_eq!(c.back["trace_id"], c.front["trace_id"], "{ctx}");
    c
}

/// One task line of `taskwire tree`: (depth, service, name, mark).
type TreeLine = (usize, String, String, char);

/// The task lines of the tree of `trace_id` in `taskwire tree`'s text output; panics unless
/// exactly one tree has that id.
fn tree_of(output: &str, trace_id: &str) -> (String, Vec<TreeLine>) {
    let blocks: Vec<&str> = output
        .split("\ntrace ")
        .filter(|b| b.trim_start_matches("trace ").starts_with(trace_id))
        .collect();
    assert_eq!(
        blocks.len(),
        1,
        "expected one tree for trace {trace_id} in:\n{output}"
    );
    let mut lines = blocks[0].lines();
    let header = lines.next().unwrap_or_default().to_owned();
    let tasks = lines
        .filter_map(|line| {
            let chars: Vec<char> = line.chars().collect();
            let at = chars
                .windows(2)
                .position(|w| (w[0] == '└' || w[0] == '├') && w[1] == '─')?;
            let rest: String = chars[at + 2..].iter().collect();
            let mut words = rest.split_whitespace();
            let service = words.next()?.to_owned();
            let words: Vec<&str> = words.collect();
            let mark = words.last()?.chars().next()?;
            // name, then the duration, then the mark
            let name = words[..words.len().saturating_sub(2)].join(" ");
            Some((at / 3, service, name, mark))
        })
        .collect();
    (header, tasks)
}

fn line(depth: usize, service: &str, name: &str, mark: char) -> TreeLine {
    (depth, service.to_owned(), name.to_owned(), mark)
}

/// The tree of one checkout, back's tasks nested under front's client task, with the tasks'
/// outcome marks in this order. At the default record policy the quick `price_cart` and a
/// `write_ledger` that succeeded are summarised in their request task's record; a failed
/// `write_ledger` has its own.
fn checkout_tree(marks: &[char]) -> Vec<TreeLine> {
    let mut tasks = vec![
        (0, "front", "GET /checkout/{order}"),
        (1, "front", "GET 127.0.0.1"),
        (2, "back", "GET /charge/{order}"),
    ];
    if marks.len() == 4 {
        tasks.push((3, "back", "write_ledger"));
    }
    tasks
        .into_iter()
        .zip(marks.iter().copied())
        .map(|((depth, service, name), mark)| line(depth, service, name, mark))
        .collect()
}

#[test]
fn two_processes_share_one_task_tree() {
    let started = Instant::now();
    let front_exe = binary(
        "examples/front",
        "Build it with `cargo build -p taskwire --all-features --examples`",
    );
    let back_exe = binary(
        "examples/back",
        "Build it with `cargo build -p taskwire --all-features --examples`",
    );
    let taskwire = binary("taskwire", "Build it with `cargo build -p taskwire-cli`");
    for exe in [&front_exe, &back_exe] {
        assert_fresh(exe, "examples/support/shutdown.rs");
    }
    assert_fresh(&front_exe, "examples/front.rs");
    assert_fresh(&back_exe, "examples/back.rs");

    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let dir = std::env::temp_dir().join(format!(
        "taskwire-two-processes-{}-{nanos}",
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("create the temp dir");
    let front_log = dir.join("front.log");
    let back_log = dir.join("back.log");
    let tickets_db = dir.join("tickets.db");
    let path = |p: &Path| p.to_str().expect("a UTF-8 temp path").to_owned();

    let back = Service::start(
        "back",
        &back_exe,
        &[
            "--port",
            "0",
            "--log",
            &path(&back_log),
            "--tickets",
            &path(&tickets_db),
        ],
    );
    let back_addr = back.addr;
    let back_url = format!("http://{back_addr}");
    let front = Service::start(
        "front",
        &front_exe,
        &[
            "--port",
            "0",
            "--back",
            &back_url,
            "--log",
            &path(&front_log),
            "--tickets",
            &path(&tickets_db),
        ],
    );

    let (status, body) = get(front.addr, "/checkout/42");
    assert_eq!(status, 200, "GET /checkout/42: {body}");
    let (status, body) = get(front.addr, "/checkout/13");
    assert_eq!(status, 502, "GET /checkout/13 fails in back: {body}");

    // front first: it holds pooled connections to back.
    front.stop();
    back.stop();

    let front_records = read_log(&front_log);
    let back_records = read_log(&back_log);

    let paid = checkout(&front_records, &back_records, back_addr, 42);
    for task in [paid.front, paid.client, paid.back] {
        assert_eq!(task["task.outcome"], "succeeded", "{task:#}");
    }

    let failed = checkout(&front_records, &back_records, back_addr, 13);
    assert_ne!(failed.front["trace_id"], paid.front["trace_id"]);
    // back: a 500 and the handler's ERROR
    assert_eq!(failed.back["task.outcome"], "failed", "{:#}", failed.back);
    assert_eq!(failed.back["http.response.status_code"], 500);
    assert_eq!(
        errors_in(&back_records, &failed.back["span_id"]),
        ["charge failed"]
    );
    // front: the client task saw the 500; the request task logged an ERROR and answered 502
    assert_eq!(
        failed.client["task.outcome"], "failed",
        "{:#}",
        failed.client
    );
    assert_eq!(failed.client["http.response.status_code"], 500);
    assert_eq!(
        failed.client["task.failure"],
        "HTTP 500 Internal Server Error"
    );
    assert_eq!(failed.front["task.outcome"], "failed", "{:#}", failed.front);
    assert_eq!(failed.front["http.response.status_code"], 502);
    assert_eq!(failed.front["task.failed_children"], 1);
    assert_eq!(
        errors_in(&front_records, &failed.front["span_id"]),
        ["payment service failed"]
    );

    // The real command line, logs in the "wrong" order: one tree per trace across both files.
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(&taskwire)
        .arg("tree")
        .arg("--no-color")
        .arg(&back_log)
        .arg(&front_log)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", taskwire.display()));
    let out = String::from_utf8_lossy(&stdout);
    assert!(
        status.success(),
        "taskwire tree exited with {status}; stderr:\n{}\nstdout:\n{out}",
        String::from_utf8_lossy(&stderr)
    );
    assert!(!out.contains("orphan"), "no task lost its parent:\n{out}");

    let failed_trace = failed.front["trace_id"].as_str().expect("trace id");
    let (header, tree) = tree_of(&out, failed_trace);
    assert!(
        header.contains("services: back, front") && header.contains("failed"),
        "{header}"
    );
    assert_eq!(
        tree,
        checkout_tree(&['✗', '✗', '✗', '✗']),
        "the failing trace, back nested under front's client task:\n{out}"
    );
    for message in ["payment service failed", "charge failed"] {
        assert!(
            out.contains(&format!("error: {message}")),
            "{message}:\n{out}"
        );
    }

    let paid_trace = paid.front["trace_id"].as_str().expect("trace id");
    let (_, tree) = tree_of(&out, paid_trace);
    assert_eq!(tree, checkout_tree(&['✓'; 3]), "the paid trace:\n{out}");
    assert!(
        out.contains("+1 child: price_cart ×1 ("),
        "the summarised tasks are shown:\n{out}"
    );

    // back's host clock 2 s behind front's: the same logs, back's times moved back by 2 s,
    // are put on one clock again, and the tree says what it adjusted
    let skewed_back = dir.join("back-skewed.log");
    let back_text = std::fs::read_to_string(&back_log).expect("read back's log");
    let shift = |ts: &str, by: i64| {
        let us = taskwire_core::time::parse_rfc3339_us(ts).expect("an RFC 3339 ts");
        taskwire_core::time::Rfc3339(us + by).to_string()
    };
    let skewed_text = taskwire_test_support::json_line::shift_times(&back_text, -2_000_000, shift);
    std::fs::write(&skewed_back, skewed_text).expect("write the log");
    let skewed = |args: &[&str]| {
        let out = Command::new(&taskwire)
            .arg("tree")
            .args(args)
            .arg(failed_trace)
            .arg(&skewed_back)
            .arg(&front_log)
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", taskwire.display()));
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let text = skewed(&["--waterfall", "--no-color"]);
    let flag = text.lines().nth(1).unwrap_or_default();
    assert!(
        flag.starts_with("! back: clock 2.") && flag.ends_with("s behind front, adjusted"),
        "the skew is flagged under the header:\n{text}"
    );
    let json: Value = serde_json::from_str(&skewed(&["--json"])).expect("one JSON trace");
    assert!(
        json["duration_us"].as_u64().is_some_and(|d| d < 1_000_000),
        "{json:#}"
    );
    let offset = json["skews"][0]["offset_us"].as_i64().unwrap_or(0);
    assert!((1_900_000..2_100_000).contains(&offset), "{json:#}");
    let client = &json["roots"][0]["children"][0];
    let server = &client["children"][0];
    assert_eq!(server["service"], "back", "{json:#}");
    let us = |task: &Value, key: &str| task[key].as_u64().unwrap_or(u64::MAX);
    assert!(
        us(server, "offset_us") >= us(client, "offset_us")
            && us(server, "offset_us") + us(server, "duration_us")
                <= us(client, "offset_us") + us(client, "duration_us"),
        "back's request lies inside front's call again:\n{text}"
    );

    #[cfg(feature = "tickets")]
    tickets_link_errors_and_traces(&taskwire, &dir, &front_records, &back_records, failed_trace);

    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("two processes, one tree: {:?}", started.elapsed());
}

/// Every ERROR line of both logs names a ticket of the shared store; `taskwire tree` in a
/// folder with a `taskwire.toml` shows it next to each error (`[ticket #N]`), and
/// `taskwire tickets show N --trace` opens the failed request's tree in one command.
#[cfg(feature = "tickets")]
fn tickets_link_errors_and_traces(
    taskwire: &Path,
    dir: &Path,
    front: &[Value],
    back: &[Value],
    failed_trace: &str,
) {
    use taskwire::tickets::{Sqlite, TicketReader};

    let store = Sqlite::builder(dir.join("tickets.db"))
        .open_read_only()
        .expect("the services wrote the tickets store");
    let mut ids = std::collections::BTreeMap::new();
    for r in front.iter().chain(back).filter(|r| r["level"] == "ERROR") {
        let msg = r["msg"].as_str().unwrap_or_default().to_owned();
        let fp = r["ticket.fingerprint"]
            .as_str()
            .unwrap_or_else(|| panic!("an ERROR line without its ticket: {r:#}"));
        let ticket = store
            .find(fp)
            .expect("query the store")
            .unwrap_or_else(|| panic!("no ticket has the fingerprint {fp} of {r:#}"));
        ids.insert(msg, ticket.id.0);
    }
    assert!(front
        .iter()
        .chain(back)
        .filter(|r| r["level"] != "ERROR" && r["level"] != "WARN")
        .all(|r| r.get("ticket.fingerprint").is_none()));
    let charge = ids["charge failed"];
    let payment = ids["payment service failed"];
    assert_ne!(charge, payment, "two call sites, two tickets: {ids:?}");

    std::fs::write(
        dir.join("taskwire.toml"),
        "[tickets]\nstore = \"tickets.db\"\n\n[services.front]\nlogs = [\"front.log\"]\n\n\
         [services.back]\nlogs = [\"back.log\"]\n",
    )
    .expect("write taskwire.toml");
    let run = |args: &[&str]| -> String {
        let Output {
            status,
            stdout,
            stderr,
        } = Command::new(taskwire)
            .args(args)
            .current_dir(dir)
            .env_remove("TASKWIRE_DB")
            .env_remove("TASKWIRE_CONFIG")
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("run {}: {e}", taskwire.display()));
        let out = String::from_utf8_lossy(&stdout).into_owned();
        assert!(
            status.success(),
            "taskwire {args:?} exited with {status}; stderr:\n{}\nstdout:\n{out}",
            String::from_utf8_lossy(&stderr)
        );
        out
    };
    let out = run(&["tree", "--no-color"]);
    for (message, id) in [
        ("charge failed", charge),
        ("payment service failed", payment),
    ] {
        assert!(
            out.contains(&format!("error: {message}  [ticket #{id}]")),
            "{message} shows its ticket #{id}:\n{out}"
        );
    }
    let out = run(&[
        "tickets",
        "show",
        &charge.to_string(),
        "--trace",
        "--color",
        "never",
    ]);
    assert!(
        out.starts_with(&format!("trace {failed_trace}")),
        "the failed request's tree, and only it:\n{out}"
    );
    assert!(
        out.contains(&format!("error: charge failed  [ticket #{charge}]")),
        "{out}"
    );
    assert_eq!(out.matches("\ntrace ").count(), 0, "one tree:\n{out}");
}
