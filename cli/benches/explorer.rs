//! The explorer's targets over ~1 GB, beside ripgrep:
//!
//! ```text
//! cargo bench -p taskwire-cli --bench explorer
//! ```
//!
//! It writes ~1 GB (`TASKWIRE_BENCH_MB`, default 1000) of the `tree` bench's logs from two
//! services into the target's temporary folder (delete it when done: it is not cleaned up, so
//! that later runs reuse it), then, files in the page cache, runs each `taskwire tree` command
//! and its `rg` counterpart in turn for `TASKWIRE_BENCH_ROUNDS` rounds (default 5), printing the
//! median times (wall-clock, and CPU: user + system of all threads) and the median of the
//! per-round ratios, then the time of `taskwire serve`'s page of one trace, and the peak memory
//! of the full tree (`/usr/bin/time -f %M`). Rounds alternate the two commands so that both
//! meet the same load. The second row is the floor of the one-trace job without `mmap`
//! (`support::floor`: `read()` in blocks, one thread per file, `memmem`), which this bench runs
//! as its own binary.
#![allow(missing_docs)]

mod support;

use std::io::{Read as _, Seek as _, SeekFrom};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::Input;

fn main() {
    support::floor::run_if_asked();
    let mb = std::env::var("TASKWIRE_BENCH_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let rounds: usize = std::env::var("TASKWIRE_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let input = Input::generate_mb(Some(mb));
    let (b, f) = (input.back_str(), input.front_str());
    let trace = trace_in_the_middle(&input.front);
    let taskwire = env!("CARGO_BIN_EXE_taskwire");
    let rg = Command::new("rg").arg("--version").output().is_ok();
    if !rg {
        println!("rg is not installed: taskwire's times only");
    }
    let duration_re = r#""task.duration_us":(2[5-9]\d{4}|[3-9]\d{5}|\d{7,})[,}]"#;
    println!(
        "{:<44} {:>9} {:>9} {:>7} {:>9} {:>9}",
        "command (wall: median; ratio: median of rounds)",
        "taskwire",
        "rg",
        "ratio",
        "CPU",
        "rg CPU"
    );
    let floor_exe = std::env::current_exe().expect("the bench's own path");
    let floor_exe = floor_exe.to_str().expect("a UTF-8 path");
    // each row: the commands run in turn in every round, the last being ripgrep's
    let rows: [(&str, Vec<Vec<&str>>); 6] = [
        (
            "tree --trace ID / rg -F ID",
            vec![
                vec![taskwire, "tree", "--trace", &trace, b, f],
                vec!["rg", "-F", &trace, b, f],
            ],
        ),
        (
            "floor: read() + memmem ID / rg -F ID",
            vec![vec![floor_exe, b, f], vec!["rg", "-F", &trace, b, f]],
        ),
        (
            "tree order_id=13 / rg -F '\"order_id\":13,'",
            vec![
                vec![taskwire, "tree", "order_id=13", b, f],
                vec!["rg", "-F", "\"order_id\":13,", b, f],
            ],
        ),
        (
            "tree customer=cust-13 / rg -F",
            vec![
                vec![taskwire, "tree", "customer=cust-13", b, f],
                vec!["rg", "-F", "\"customer\":\"cust-13\"", b, f],
            ],
        ),
        (
            "tree failed --list / rg -F outcome failed",
            vec![
                vec![taskwire, "tree", "failed", "--list", b, f],
                vec!["rg", "-F", "\"task.outcome\":\"failed\"", b, f],
            ],
        ),
        (
            "tree duration>250ms / rg duration regex",
            vec![
                vec![taskwire, "tree", "duration>250ms", b, f],
                vec!["rg", duration_re, b, f],
            ],
        ),
    ];
    for (label, cmds) in rows {
        let (ours, theirs) = (&cmds[0], &cmds[1]);
        let floor_id = (ours[0] == floor_exe).then_some(trace.as_str());
        let mut pairs = Vec::new();
        for _ in 0..rounds {
            let a = time(ours[0], &ours[1..], floor_id);
            let r = if rg {
                time(theirs[0], &theirs[1..], None)
            } else {
                a
            };
            pairs.push((a, r));
        }
        let median = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        let a = median(pairs.iter().map(|p| ms(p.0.wall)).collect());
        let r = median(pairs.iter().map(|p| ms(p.1.wall)).collect());
        let ratio = median(pairs.iter().map(|p| ms(p.0.wall) / ms(p.1.wall)).collect());
        let a_cpu = median(pairs.iter().map(|p| ms(p.0.cpu)).collect());
        let r_cpu = median(pairs.iter().map(|p| ms(p.1.cpu)).collect());
        println!(
            "{label:<44} {a:>6.0} ms {r:>6.0} ms {ratio:>6.2}× {a_cpu:>6.0} ms {r_cpu:>6.0} ms"
        );
    }
    let page = trace_page_times(&input, &trace, rounds);
    println!(
        "{:<44} {:>6.0} ms (median of {rounds}; first {:.0} ms)",
        "serve: GET /traces?trace=ID (server time)", page.median, page.first
    );
    let peak = Command::new("/usr/bin/time")
        .args(["-f", "%M", taskwire, "tree", "--no-color", b, f])
        .env_remove("TASKWIRE_CONFIG")
        .stdout(Stdio::null())
        .output();
    match peak {
        Ok(out) => {
            let err = String::from_utf8_lossy(&out.stderr);
            let kb = err.lines().last().unwrap_or("?");
            println!("peak memory of `tree --no-color back.log front.log`: {kb} KB");
        }
        Err(e) => println!("/usr/bin/time: {e}"),
    }
}

/// Runs `program` with `args` (output to /dev/null) and times it; a taskwire query that finds
/// nothing and rg without a match both exit 1, so the status is not checked. With `floor_id`,
/// `program` is this bench run as the floor for that id.
fn time(program: &str, args: &[&str], floor_id: Option<&str>) -> Timing {
    let mut cmd = Command::new(program);
    if let Some(id) = floor_id {
        cmd.env(support::floor::ENV, id);
    }
    let cpu_before = children_cpu();
    let start = Instant::now();
    let status = cmd
        .args(args)
        .env_remove("TASKWIRE_CONFIG")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let wall = start.elapsed();
    assert!(status.code().is_some_and(|c| c <= 1), "{program} {args:?}");
    Timing {
        wall,
        cpu: children_cpu().saturating_sub(cpu_before),
    }
}

/// A command's wall-clock time and CPU time (user + system, all its threads).
#[derive(Clone, Copy)]
struct Timing {
    wall: Duration,
    cpu: Duration,
}

/// The user + system time of this process's waited-for children so far (`cutime` and
/// `cstime` of /proc/self/stat, in ticks of 10 ms); zero where there is no /proc.
fn children_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // fields after the command name, which is in parentheses and may hold spaces
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let ticks: u64 = rest
        .split(' ')
        .skip(13)
        .take(2)
        .filter_map(|f| f.parse::<u64>().ok())
        .sum();
    Duration::from_millis(ticks * 10)
}

/// How long `taskwire serve`'s trace page takes for one trace over the logs, in ms.
struct PageTimes {
    /// The first request's.
    first: f64,
    /// The median of `rounds` requests after it.
    median: f64,
}

/// Starts `taskwire serve` over the logs (and an empty tickets database) on a free port and
/// times `GET /traces?trace=ID` from the request's first byte to the response's last: the
/// server's time, the connection being local.
fn trace_page_times(input: &Input, trace: &str, rounds: usize) -> PageTimes {
    use std::io::{BufRead as _, BufReader, Write as _};
    let dir = input.front.parent().expect("the input folder");
    let db = dir.join("tickets.db");
    drop(taskwire_tickets::Sqlite::open(&db).expect("the tickets database is created"));
    let mut server = Command::new(env!("CARGO_BIN_EXE_taskwire"))
        .args(["serve", "--bind", "127.0.0.1:0", "--db"])
        .arg(&db)
        .arg("--logs")
        .args([&input.back, &input.front])
        .env_remove("TASKWIRE_CONFIG")
        .env_remove("TASKWIRE_TOKEN")
        .stdout(Stdio::piped())
        .spawn()
        .expect("taskwire serve starts");
    // kept open until the server is stopped: it prints more lines
    let mut stdout = BufReader::new(server.stdout.take().expect("the server's output"));
    let mut first_line = String::new();
    stdout
        .read_line(&mut first_line)
        .expect("the server prints its address");
    let addr = first_line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .expect("an address in the first line")
        .to_owned();
    let get = || {
        let start = Instant::now();
        let mut conn = std::net::TcpStream::connect(&addr).expect("the server answers");
        write!(
            conn,
            "GET /traces?trace={trace} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
        )
        .expect("the request is sent");
        let mut page = String::new();
        conn.read_to_string(&mut page).expect("the page is read");
        let elapsed = start.elapsed().as_secs_f64() * 1e3;
        assert!(
            page.starts_with("HTTP/1.1 200"),
            "{}",
            &page[..page.len().min(300)]
        );
        assert!(
            page.contains("GET /checkout"),
            "the trace's root is on the page"
        );
        elapsed
    };
    let first = get();
    let mut times: Vec<f64> = (0..rounds).map(|_| get()).collect();
    let _ = server.kill();
    let _ = server.wait();
    drop(stdout);
    times.sort_by(f64::total_cmp);
    PageTimes {
        first,
        median: times[times.len() / 2],
    }
}

/// A trace id from the middle of `front`.
fn trace_in_the_middle(front: &std::path::Path) -> String {
    let mut file = std::fs::File::open(front).expect("front.log opens");
    let len = file.metadata().expect("front.log's size").len();
    file.seek(SeekFrom::Start(len / 2)).expect("seek");
    let mut buf = vec![0; 1 << 16];
    file.read_exact(&mut buf).expect("front.log is long enough");
    let text = String::from_utf8_lossy(&buf);
    let at = text.find("\"trace_id\":\"").expect("a trace id") + 12;
    text[at..at + 32].to_owned()
}
