//! The logs the `taskwire` benches read: ~200 MB (or `TASKWIRE_BENCH_MB`) from two services (a `front` whose client
//! tasks are the remote parents of `back`'s request tasks; ~30 % of lines are `task.end`
//! records, 2 % of traces fail with ERROR events, the rest are INFO/DEBUG events), generated
//! deterministically into the target's temporary folder once and shared by every bench.
// Each bench uses a part of this module.
#![allow(dead_code)]

pub(crate) mod floor;

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The generated logs, described once on standard output.
pub(crate) struct Input {
    pub(crate) front: PathBuf,
    pub(crate) back: PathBuf,
    /// Both files' size.
    pub(crate) bytes: u64,
    /// Both files' lines.
    pub(crate) lines: usize,
}

impl Input {
    /// Generates the logs (once) and prints their size and the build's kind.
    pub(crate) fn generate() -> Input {
        Input::generate_mb(None)
    }

    /// Generates about `mb` MB of logs (default: `TASKWIRE_BENCH_MB`, or 200), once per size.
    pub(crate) fn generate_mb(mb: Option<usize>) -> Input {
        let mb = mb.unwrap_or_else(|| {
            std::env::var("TASKWIRE_BENCH_MB")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(TARGET_MB)
        });
        let (front, back) = generate(mb * 1_000_000);
        let bytes = std::fs::metadata(&front).expect("front.log").len()
            + std::fs::metadata(&back).expect("back.log").len();
        let lines = count_lines(&front) + count_lines(&back);
        println!(
            "input: {:.1} MB in {lines} lines ({} bytes/line), {}",
            bytes as f64 / 1e6,
            bytes as usize / lines,
            if cfg!(debug_assertions) {
                "DEBUG build: numbers are meaningless"
            } else {
                "release build"
            }
        );
        Input {
            front,
            back,
            bytes,
            lines,
        }
    }

    pub(crate) fn front_str(&self) -> &str {
        self.front.to_str().expect("a UTF-8 path")
    }

    pub(crate) fn back_str(&self) -> &str {
        self.back.to_str().expect("a UTF-8 path")
    }
}

/// The best of three runs of the `taskwire` binary with `args` (standard input from `stdin`,
/// output to /dev/null).
pub(crate) fn best_of_3(args: &[&str], stdin: Option<&Path>) -> Duration {
    (0..3)
        .map(|_| {
            let input = match stdin {
                Some(p) => Stdio::from(File::open(p).expect("the input opens")),
                None => Stdio::null(),
            };
            let start = Instant::now();
            let status = Command::new(env!("CARGO_BIN_EXE_taskwire"))
                .args(args)
                .env_remove("TASKWIRE_CONFIG")
                .stdin(input)
                .stdout(Stdio::null())
                .status()
                .expect("the taskwire binary runs");
            assert!(status.success());
            start.elapsed()
        })
        .min()
        .expect("three runs")
}

/// The default size of the generated logs, in MB.
const TARGET_MB: usize = 200;

/// Writing into a `String` cannot fail.
const WRITE: &str = "writing into a String";

/// A deterministic xorshift generator: the same logs on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn ts(us: u64) -> String {
    let (s, us) = (us / 1_000_000, us % 1_000_000);
    format!(
        "2026-11-21T{:02}:{:02}:{:02}.{us:06}Z",
        10 + s / 3600 % 12,
        s / 60 % 60,
        s % 60
    )
}

struct Log {
    service: &'static str,
    pid: u32,
    buf: String,
}

impl Log {
    /// Appends what is buffered to `file` and empties the buffer.
    fn drain_into(&mut self, file: &mut impl std::io::Write) {
        file.write_all(self.buf.as_bytes())
            .unwrap_or_else(|e| panic!("{}.log: {e}", self.service));
        self.buf.clear();
    }

    fn tail(&mut self, trace: u128, span: u64, parent: Option<u64>) {
        let b = &mut self.buf;
        write!(b, r#","trace_id":"{trace:032x}","span_id":"{span:016x}""#).expect(WRITE);
        if let Some(p) = parent {
            write!(b, r#","parent_span_id":"{p:016x}""#).expect(WRITE);
        }
        writeln!(
            b,
            r#","file":"src/handlers/checkout.rs","line":118,"module":"{0}::handlers::checkout","thread":"tokio-rt-worker","pid":{1},"host":"ip-10-0-3-17","service":"{0}","release":"1.4.2"}}"#,
            self.service, self.pid
        )
        .expect(WRITE);
    }

    fn event(
        &mut self,
        at: u64,
        level: &str,
        msg: &str,
        trace: u128,
        span: u64,
        parent: Option<u64>,
    ) {
        write!(
            self.buf,
            r#"{{"ts":"{}","level":"{level}","target":"{}::handlers","msg":"{msg}","order_id":{},"customer":"cust-{}","sku":"SKU-{:04}""#,
            ts(at),
            self.service,
            span % 100_000,
            span % 977,
            span % 31
        )
        .expect(WRITE);
        self.tail(trace, span, parent);
    }

    #[allow(clippy::too_many_arguments)]
    fn task(
        &mut self,
        start: u64,
        dur: u64,
        name: &str,
        trace: u128,
        span: u64,
        parent: Option<u64>,
        remote: bool,
        failed: bool,
    ) {
        write!(
            self.buf,
            r#"{{"ts":"{}","level":"INFO","target":"taskwire::tasks","msg":"task.end","task.name":"{name}","task.target":"{}::handlers","task.outcome":"{}","task.duration_us":{dur},"task.busy_us":{},"task.errors":{},"task.failed_children":0,"task.remote_parent":{remote}"#,
            ts(start + dur),
            self.service,
            if failed { "failed" } else { "succeeded" },
            dur / 3,
            u8::from(failed),
        )
        .expect(WRITE);
        if failed {
            self.buf.push_str(r#","task.failure":"card declined""#);
        }
        write!(
            self.buf,
            r#","order_id":{},"customer":"cust-{}""#,
            span % 100_000,
            span % 977
        )
        .expect(WRITE);
        self.tail(trace, span, parent);
    }
}

/// Writes `front.log` and `back.log` (together about `target_bytes`) into the target's
/// temporary folder, once per size; returns their paths.
fn generate(target_bytes: usize) -> (PathBuf, PathBuf) {
    // Bump the folder name when the generator changes.
    let name = match target_bytes {
        200_000_000 => "taskwire-tree-throughput-v1".to_owned(),
        n => format!("taskwire-tree-throughput-v1-{}mb", n / 1_000_000),
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    std::fs::create_dir_all(&dir).expect("the input folder can be created");
    let (front_path, back_path) = (dir.join("front.log"), dir.join("back.log"));
    if std::fs::metadata(&front_path).is_ok_and(|m| m.len() > 0)
        && std::fs::metadata(&back_path).is_ok_and(|m| m.len() > 0)
    {
        return (front_path, back_path);
    }
    let mut front_file = std::io::BufWriter::new(
        std::fs::File::create(&front_path).expect("front.log can be created"),
    );
    let mut back_file = std::io::BufWriter::new(
        std::fs::File::create(&back_path).expect("back.log can be created"),
    );
    let mut front = Log {
        service: "front",
        pid: 4242,
        buf: String::new(),
    };
    let mut back = Log {
        service: "back",
        pid: 7,
        buf: String::new(),
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut written = 0;
    let mut t = 0u64;
    while written < target_bytes {
        let trace = u128::from(rng.next()) << 64 | u128::from(rng.next());
        let [root, cart, client, render, server, db, fraud] = [(); 7].map(|()| rng.next());
        let failed = rng.next().is_multiple_of(50);
        t += 1_000 + rng.next() % 1_000;
        // front: root [0, 40ms], cart [1, 5], client [6, 30], render [31, 38]
        front.event(t + 50, "INFO", "request received", trace, root, None);
        front.event(t + 1_100, "DEBUG", "cache lookup", trace, cart, Some(root));
        front.event(t + 1_200, "INFO", "cart loaded", trace, cart, Some(root));
        front.task(
            t + 1_000,
            4_000,
            "load cart",
            trace,
            cart,
            Some(root),
            false,
            false,
        );
        front.event(
            t + 6_100,
            "DEBUG",
            "calling back",
            trace,
            client,
            Some(root),
        );
        // back: server [7, 29], db [8, 12], fraud [13, 20]
        back.event(
            t + 7_100,
            "INFO",
            "charge requested",
            trace,
            server,
            Some(client),
        );
        back.event(t + 8_100, "DEBUG", "query", trace, db, Some(server));
        back.task(
            t + 8_000,
            4_000,
            "db.query",
            trace,
            db,
            Some(server),
            false,
            false,
        );
        back.event(
            t + 13_500,
            "INFO",
            "fraud score computed",
            trace,
            fraud,
            Some(server),
        );
        back.task(
            t + 13_000,
            7_000,
            "fraud check",
            trace,
            fraud,
            Some(server),
            false,
            false,
        );
        if failed {
            back.event(
                t + 28_000,
                "ERROR",
                "card declined",
                trace,
                server,
                Some(client),
            );
            front.event(
                t + 29_500,
                "ERROR",
                "charge returned 402",
                trace,
                client,
                Some(root),
            );
        } else {
            back.event(
                t + 28_000,
                "INFO",
                "charge accepted",
                trace,
                server,
                Some(client),
            );
        }
        back.task(
            t + 7_000,
            22_000,
            "POST /charge",
            trace,
            server,
            Some(client),
            true,
            failed,
        );
        front.task(
            t + 6_000,
            24_000,
            "POST back/charge",
            trace,
            client,
            Some(root),
            false,
            failed,
        );
        front.event(t + 31_500, "INFO", "rendering", trace, render, Some(root));
        front.task(
            t + 31_000,
            7_000,
            "render",
            trace,
            render,
            Some(root),
            false,
            false,
        );
        front.event(t + 39_000, "INFO", "response sent", trace, root, None);
        front.task(t, 40_000, "GET /checkout", trace, root, None, false, false);
        if front.buf.len() > 1 << 20 {
            written += front.buf.len() + back.buf.len();
            front.drain_into(&mut front_file);
            back.drain_into(&mut back_file);
        }
    }
    front.drain_into(&mut front_file);
    back.drain_into(&mut back_file);
    front_file.flush().expect("front.log is written");
    back_file.flush().expect("back.log is written");
    (front_path, back_path)
}

/// The number of lines of the file at `path`, read in chunks.
pub(crate) fn count_lines(path: &Path) -> usize {
    use std::io::Read as _;
    let mut file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut buf = vec![0; 1 << 20];
    let mut lines = 0;
    loop {
        match file.read(&mut buf) {
            Ok(0) => return lines,
            Ok(n) => lines += buf[..n].iter().filter(|&&c| c == b'\n').count(),
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
}
