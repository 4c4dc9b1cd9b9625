//! `taskwire serve`: an address other hosts can reach is refused without a token (exit 2, the
//! message says why); with a token the real server answers only requests that show it, and
//! prints its URL but never the token.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use taskwire_test_support::TempDir;

#[test]
fn a_non_loopback_address_without_a_token_is_refused_with_exit_2() {
    for bind in ["0.0.0.0:0", "[::]:0"] {
        let o = Command::new(env!("CARGO_BIN_EXE_taskwire"))
            .args(["serve", "--db", "unused.db", "--bind", bind])
            .env_remove("TASKWIRE_TOKEN")
            .output()
            .expect("taskwire runs");
        assert_eq!(o.status.code(), Some(2), "{bind}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(
            err.contains("without an access token") && err.contains("--token"),
            "{err}"
        );
    }
}

/// Kills the server when the test ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The status line of a GET of `path` with `extra` header lines.
fn get(addr: &str, path: &str, extra: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("the server accepts");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{extra}Connection: close\r\n\r\n"
    )
    .expect("the request is sent");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("an answer");
    answer
}

#[test]
fn with_a_token_the_server_answers_only_requests_that_show_it() {
    let dir = TempDir::new("cli-serve");
    let db = dir.join("tickets.db");
    drop(taskwire_tickets::Sqlite::open(&db).expect("the database is created"));
    let token = "serve-tok-81d2";
    let mut child = Command::new(env!("CARGO_BIN_EXE_taskwire"))
        .args(["serve", "--bind", "127.0.0.1:0", "--db"])
        .arg(&db)
        .env("TASKWIRE_TOKEN", token)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("taskwire serve starts");
    let stdout = child.stdout.take().expect("stdout");
    let server = Server(child);
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a line").expect("text");
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|u| u.strip_suffix('/'))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_owned();
    let second = lines.next().expect("a line").expect("text");
    assert!(second.contains("?token="), "{second}");
    assert!(!first.contains(token) && !second.contains(token));

    let refused = get(&addr, "/tickets", "");
    assert!(refused.starts_with("HTTP/1.1 401"), "{refused}");
    assert!(!refused.contains(token));
    let ok = get(
        &addr,
        "/tickets",
        &format!("Authorization: Bearer {token}\r\n"),
    );
    assert!(
        ok.starts_with("HTTP/1.1 200"),
        "{}",
        &ok[..ok.len().min(300)]
    );
    assert!(ok.contains("<h1>Tickets</h1>"));
    let login = get(&addr, &format!("/tickets?token={token}"), "");
    assert!(login.starts_with("HTTP/1.1 303"), "{login}");
    drop(server);
}
