//! A project's `taskwire.toml` names its tickets store and its logs: `tree`, `tail` and
//! `tickets` run without paths from any folder below it (or with `--config` /
//! `TASKWIRE_CONFIG` from elsewhere), `tree` shows the ticket of each error whose line carries
//! its fingerprint, the command line wins over the file, and a mistyped key is an error that
//! names its line.

mod support;

use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;
use support::{fixture, stderr, stdout};
use taskwire_test_support::{Capture, TempDir};
use tracing_subscriber::prelude::*;

/// `taskwire ARGS` run in `cwd`, with no input and no configuration from the environment.
fn run_in(cwd: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_taskwire"));
    c.args(args)
        .current_dir(cwd)
        .env_remove("TASKWIRE_DB")
        .env_remove("TASKWIRE_CONFIG")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("taskwire runs")
}

fn ok(o: &Output) -> String {
    assert!(
        o.status.success(),
        "exit {}: {}\n{}",
        o.status,
        stderr(o),
        stdout(o)
    );
    stdout(o)
}

/// A project: `taskwire.toml`, `var/tickets.db` with the tickets of `card declined` (back) and
/// `charge returned 402` (front), and `logs/` with the front and back fixtures whose two ERROR
/// lines carry the fingerprints the real tickets and JSON layers wrote for them. Returns the
/// folder and the two ticket ids.
fn project() -> (TempDir, i64, i64) {
    let dir = TempDir::new("taskwire-toml");
    std::fs::create_dir_all(dir.join("var")).expect("mkdir");
    std::fs::create_dir_all(dir.join("logs")).expect("mkdir");
    std::fs::create_dir_all(dir.join("src/deep")).expect("mkdir");
    let db = dir.join("var/tickets.db");
    let capture = Capture::new();
    let (tickets, guard) =
        taskwire_tickets::layer(taskwire_tickets::Sqlite::open(&db).expect("the store opens"))
            .build();
    let json = taskwire_json::layer().with_writer(capture.clone());
    tracing::subscriber::with_default(
        tracing_subscriber::registry().with(tickets).with(json),
        || {
            tracing::error!("card declined");
            tracing::error!("charge returned 402");
        },
    );
    drop(guard);
    let fingerprint = |msg: &str| -> String {
        capture
            .json_lines()
            .iter()
            .find(|r| r["msg"] == msg)
            .and_then(|r| r["ticket.fingerprint"].as_str().map(str::to_owned))
            .unwrap_or_else(|| panic!("{msg}: no fingerprint on its line"))
    };
    let (card, charge) = (
        fingerprint("card declined"),
        fingerprint("charge returned 402"),
    );
    // the fixtures' error lines, as a stack with the tickets layer writes them
    let back = std::fs::read_to_string(fixture("back.log")).expect("fixture");
    let back = back.replace(
        r#""error":{"message":"card declined","#,
        &format!(r#""ticket.fingerprint":"{card}","error":{{"message":"card declined","#),
    );
    let front = std::fs::read_to_string(fixture("front.log")).expect("fixture");
    let front = front.replace(
        r#""msg":"charge returned 402","#,
        &format!(r#""msg":"charge returned 402","ticket.fingerprint":"{charge}","#),
    );
    assert!(back.contains(&card) && front.contains(&charge));
    std::fs::write(dir.join("logs/back.log"), back).expect("write");
    std::fs::write(dir.join("logs/front.log"), front).expect("write");
    std::fs::write(
        dir.join("taskwire.toml"),
        "[tickets]\nstore = \"var/tickets.db\"\n\n[services.front]\nlogs = [\"logs/front.log\"]\n\n[services.back]\nlogs = [\"logs/\"]\n",
    )
    .expect("write");
    let store = taskwire_tickets::Sqlite::open_read_only(&db).expect("reopen");
    let id = |fp: &str| {
        taskwire_tickets::TicketReader::find(&store, fp)
            .expect("query")
            .expect("the ticket")
            .id
            .0
    };
    let (card_id, charge_id) = (id(&card), id(&charge));
    (dir, card_id, charge_id)
}

#[test]
fn tree_from_a_folder_below_reads_the_logs_and_shows_each_errors_ticket() {
    let (dir, card, charge) = project();
    let out = ok(&run_in(
        &dir.join("src/deep"),
        &["tree", "--no-color", "failed"],
        &[],
    ));
    assert!(
        out.contains(&format!("error: card declined  [ticket #{card}]")),
        "{out}"
    );
    assert!(
        out.contains(&format!("error: charge returned 402  [ticket #{charge}]")),
        "{out}"
    );
    // an error whose line names no ticket shows none
    assert!(
        out.lines()
            .any(|l| l.ends_with("error: checkout failed: payment declined")),
        "{out}"
    );

    let out = ok(&run_in(
        &dir.join("src"),
        &["tree", "--json", "failed"],
        &[],
    ));
    let trace: Value = serde_json::from_str(out.trim()).expect("one JSON trace");
    let back = &trace["roots"][0]["children"][1]["children"][0];
    assert_eq!(back["name"], "POST /charge", "{trace:#}");
    let error = &back["errors"][0];
    assert_eq!(error["msg"], "card declined");
    assert_eq!(error["ticket"], card);
    assert_eq!(error["ticket_fingerprint"].as_str().map(str::len), Some(16));
}

#[test]
fn the_file_is_named_by_flag_or_environment_from_anywhere() {
    let (dir, card, _) = project();
    let elsewhere = TempDir::new("taskwire-toml-elsewhere");
    let config = dir.join("taskwire.toml");
    let want = format!("error: card declined  [ticket #{card}]");
    let by_flag = ok(&run_in(
        elsewhere.path(),
        &[
            "tree",
            "--no-color",
            "--config",
            &config.display().to_string(),
        ],
        &[],
    ));
    assert!(by_flag.contains(&want), "{by_flag}");
    let by_env = ok(&run_in(
        elsewhere.path(),
        &["tree", "--no-color"],
        &[("TASKWIRE_CONFIG", &config)],
    ));
    assert_eq!(by_env, by_flag);
    // without it, nothing is found there: standard input (empty) is read
    let none = run_in(elsewhere.path(), &["tree"], &[]);
    assert!(
        stderr(&none).contains("no task.end records"),
        "{}",
        stderr(&none)
    );
}

#[test]
fn tail_and_tickets_use_the_file_and_the_command_line_wins() {
    let (dir, _, _) = project();
    let cwd = dir.join("src");
    let tail = ok(&run_in(
        &cwd,
        &["tail", "--color", "never", "level=error"],
        &[],
    ));
    assert_eq!(tail.lines().count(), 3, "both services' errors:\n{tail}");
    let list = ok(&run_in(&cwd, &["tickets", "list"], &[]));
    assert!(
        list.contains("card declined") && list.contains("charge returned <num>"),
        "{list}"
    );
    // --db wins over the file
    let missing = run_in(&cwd, &["tickets", "--db", "nowhere.db", "list"], &[]);
    assert!(!missing.status.success());
    assert!(
        stderr(&missing).contains("nowhere.db: no such database file"),
        "{}",
        stderr(&missing)
    );
    // files on the command line win over the file's logs
    let one = ok(&run_in(
        &cwd,
        &[
            "tail",
            "--color",
            "never",
            "level=error",
            &dir.join("logs/back.log").display().to_string(),
        ],
        &[],
    ));
    assert_eq!(one.lines().count(), 1, "{one}");
}

#[test]
fn a_mistyped_key_is_an_error_naming_its_line() {
    let dir = TempDir::new("taskwire-toml-typo");
    std::fs::write(
        dir.join("taskwire.toml"),
        "[tickets]\nstore = \"t.db\"\n\n[services.front]\nlog = [\"front.log\"]\n",
    )
    .expect("write");
    for cmd in [&["tree"][..], &["tail"], &["tickets", "list"]] {
        let out = run_in(dir.path(), cmd, &[]);
        assert_eq!(out.status.code(), Some(2), "{cmd:?}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.contains("taskwire.toml: line 5: unknown field `log`"),
            "{cmd:?}: {err}"
        );
    }
}
