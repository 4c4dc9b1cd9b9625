//! Logs written by the real taskwire-tasks + taskwire-json layers, in two "processes" (two
//! subscribers, the second importing the first one's `traceparent`), make one tree.
//! Every task writes its record here (`all_tasks()`); the default record policy is checked in
//! `tree_shows_summarised_children_and_every_failed_task.rs`.

mod support;

use std::io;

use support::*;

/// Runs `f` as the process `service`; returns its log.
fn process(service: &str, f: impl FnOnce()) -> Vec<u8> {
    process_log(service, taskwire_tasks::layer().all_tasks(), f)
}

#[test]
fn real_logs_of_two_processes_make_one_tree() {
    let mut back = Vec::new();
    let front = process("front", || {
        let _request = tracing::info_span!("request", task.name = "GET /checkout").entered();
        {
            let _cart = tracing::info_span!("load cart").entered();
            tracing::info!(items = 3, "cart loaded");
        }
        let _client = tracing::info_span!("client", task.name = "POST back/charge").entered();
        let header = taskwire_tasks::current().unwrap().traceparent();
        // the "back" process serves the call
        back = process("back", || {
            let server = tracing::info_span!("server", task.name = "POST /charge");
            let server = taskwire_tasks::import(&header, server);
            let _server = server.enter();
            {
                let _db = tracing::info_span!("db.query").entered();
                tracing::debug!("select");
            }
            let err = io::Error::other("card declined");
            tracing::error!(error = &err as &(dyn std::error::Error + 'static));
        });
        tracing::error!(status = 402, "charge returned 402");
    });

    let (json, text, text_reversed) =
        with_log_files(&[("front.log", &front), ("back.log", &back)], |logs| {
            let (f, b) = (logs[0], logs[1]);
            (
                taskwire(&["tree", "--json", b, f], b""),
                taskwire(&["tree", f, b], b""),
                taskwire(&["tree", b, f], b""),
            )
        });

    assert!(json.status.success(), "{}", stderr(&json));
    assert_eq!(stderr(&json), "");
    let traces = json_lines(&json);
    assert_eq!(traces.len(), 1, "{}", stdout(&json));
    let root = &traces[0]["roots"][0];
    assert_eq!(traces[0]["roots"].as_array().unwrap().len(), 1);
    assert_eq!(root["name"], "GET /checkout");
    assert_eq!(root["service"], "front");
    assert_eq!(root["outcome"], "succeeded");
    let kids = root["children"].as_array().unwrap();
    assert_eq!(kids[0]["name"], "load cart");
    assert_eq!(kids[1]["name"], "POST back/charge");
    assert_eq!(kids[1]["outcome"], "failed");
    assert_eq!(kids[1]["errors"][0]["msg"], "charge returned 402");
    let server = &kids[1]["children"][0];
    assert_eq!(server["name"], "POST /charge");
    assert_eq!(server["service"], "back");
    assert_eq!(server["remote_parent"], true);
    assert_eq!(server["outcome"], "failed");
    assert_eq!(server["errors"][0]["msg"], "card declined");
    assert_eq!(server["children"][0]["name"], "db.query");

    assert_eq!(stdout(&text), stdout(&text_reversed));
    let text = stdout(&text);
    let line = |needle: &str| line_with(&text, needle);
    assert!(line("GET /checkout").starts_with("└─ front  GET /checkout"));
    assert!(line("GET /checkout").ends_with('✓'));
    assert!(line("POST back/charge").starts_with("   └─ front  POST back/charge"));
    assert!(line("POST back/charge").ends_with('✗'));
    assert!(line("POST /charge ").starts_with("      └─ back   POST /charge"));
    assert!(line("card declined").starts_with("         │  error: card declined"));
}
