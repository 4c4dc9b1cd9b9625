//! `taskwire serve --logs FILE…`: the real server's live tail follows the files it is given
//! and its metrics page counts their `task.end` records; its traces page finds a trace by the
//! short id a console line shows; without `--logs`, taskwire.toml's log sources are used.

mod support;

use std::process::Command;

use support::{fixture, get, Server};
use taskwire_test_support::TempDir;

/// Starts `taskwire serve` in `dir` with `args`; the server and its address.
fn serve(dir: &std::path::Path, args: &[&str]) -> (Server, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_taskwire"));
    cmd.current_dir(dir)
        .args(["serve", "--bind", "127.0.0.1:0"])
        .args(args)
        .env_remove("TASKWIRE_TOKEN")
        .env_remove("TASKWIRE_DB");
    let mut s = support::start_serve(cmd);
    let second = s.lines.next().expect("a line").expect("text");
    assert!(second.contains("over 2 log sources"), "{second}");
    (s.server, s.addr)
}

/// Starts `taskwire serve` in `dir` with a fresh tickets store and the front and back
/// fixtures given with `--logs`.
fn serve_fixtures(dir: &TempDir) -> (Server, String) {
    let db = dir.join("tickets.db");
    drop(taskwire_tickets::Sqlite::open(&db).expect("the database is created"));
    serve(
        dir.path(),
        &[
            "--db",
            &db.display().to_string(),
            "--logs",
            &fixture("front.log"),
            &fixture("back.log"),
        ],
    )
}

#[test]
fn logs_on_the_command_line_feed_the_live_tail_and_the_metrics() {
    let dir = TempDir::new("cli-serve-logs");
    let (_server, addr) = serve_fixtures(&dir);
    let metrics = get(&addr, "/api/metrics", "");
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    assert!(metrics.contains("\"name\":\"fraud check\""), "{metrics}");
    let live = get(&addr, "/live", "");
    assert!(live.contains("following 2 files"), "{live}");
}

#[test]
fn the_traces_page_finds_a_trace_by_its_first_eight_digits() {
    let dir = TempDir::new("cli-serve-prefix");
    let (_server, addr) = serve_fixtures(&dir);
    let page = get(&addr, "/traces?q=trace%3D4BF92F35", "");
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("4bf92f3577b34da6a3ce929d0e0e4736"), "{page}");
    assert!(!page.contains("0af7651916cd43dd8448eb211c80319c"), "{page}");
}

#[test]
fn without_logs_the_sources_of_taskwire_toml_are_used() {
    let dir = TempDir::new("cli-serve-toml");
    std::fs::write(
        dir.join("taskwire.toml"),
        format!(
            "[tickets]\nstore = \"tickets.db\"\n\n[services.front]\nlogs = [{:?}]\n\n[services.back]\nlogs = [{:?}]\n",
            fixture("front.log"),
            fixture("back.log")
        ),
    )
    .unwrap();
    drop(taskwire_tickets::Sqlite::open(dir.join("tickets.db")).expect("the database is created"));
    let (_server, addr) = serve(dir.path(), &[]);
    let metrics = get(&addr, "/api/metrics", "");
    assert!(metrics.contains("\"name\":\"fraud check\""), "{metrics}");
}
