//! Logs written by the real layers at their default record policy: quick tasks write no record
//! and are summarised in their nearest recorded ancestor, which `taskwire tree` shows
//! (`+N children: name ×count (total)`, and in `--json`); a failed task deep under quick
//! helpers is still shown under its parent (the helpers on its way up write records); the
//! process hop links the two logs; the events of summarised tasks are shown under the nearest
//! task with a record.

mod support;

use support::*;

/// Runs `f` as the process `service` with the default layers; returns its log.
fn process(service: &str, f: impl FnOnce()) -> Vec<u8> {
    process_log(service, taskwire_tasks::layer(), f)
}

#[test]
fn summarised_children_failed_tasks_and_hops_are_all_shown() {
    let mut back = Vec::new();
    let front = process("front", || {
        let _request = tracing::info_span!("request", task.name = "GET /checkout").entered();
        for _ in 0..3 {
            let _v = tracing::info_span!("validate").entered();
            let _inner = tracing::info_span!("rule").entered();
            tracing::info!(rule = "stock", "rule checked");
        }
        let _client = tracing::info_span!("client", task.name = "POST back/charge").entered();
        let mut headers = std::collections::HashMap::new();
        assert!(taskwire_tasks::inject_current(&mut headers));
        let header = headers["traceparent"].clone();
        back = process("back", || {
            let server = tracing::info_span!("server", task.name = "POST /charge");
            let server = taskwire_tasks::import(&header, server);
            let _server = server.enter();
            let _charge = tracing::info_span!("charge").entered();
            {
                let _t = tracing::info_span!("tokenize").entered();
            }
            let _bank = tracing::info_span!("call_bank").entered();
            tracing::error!("card declined");
        });
    });

    let (json, text, events) =
        with_log_files(&[("front.log", &front), ("back.log", &back)], |logs| {
            let (f, b) = (logs[0], logs[1]);
            (
                taskwire(&["tree", "--json", f, b], b""),
                taskwire(&["tree", f, b], b""),
                taskwire(&["tree", "--events", f, b], b""),
            )
        });

    assert!(json.status.success(), "{}", stderr(&json));
    let traces = json_lines(&json);
    assert_eq!(traces.len(), 1, "{}", stdout(&json));
    let root = &traces[0]["roots"][0];
    assert_eq!(root["name"], "GET /checkout");
    assert_eq!(root["summarised_children"], 6);
    let groups: Vec<(&str, u64)> = root["children_summary"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["name"].as_str().unwrap(), g["count"].as_u64().unwrap()))
        .collect();
    assert_eq!(groups, [("validate", 3), ("rule", 3)]);
    let client = &root["children"][0];
    assert_eq!(client["name"], "POST back/charge");
    let server = &client["children"][0];
    assert_eq!(
        (server["name"].as_str(), server["service"].as_str()),
        (Some("POST /charge"), Some("back"))
    );
    let charge = &server["children"][0];
    assert_eq!(charge["name"], "charge");
    assert_eq!(charge["outcome"], "succeeded");
    assert_eq!(charge["failed_children"], 1);
    assert_eq!(charge["children_summary"][0]["name"], "tokenize");
    let bank = &charge["children"][0];
    assert_eq!(bank["name"], "call_bank");
    assert_eq!(bank["outcome"], "failed");
    assert_eq!(bank["errors"][0]["msg"], "card declined");
    assert!(bank.get("orphan").is_none());

    let text = stdout(&text);
    let line = |needle: &str| line_with(&text, needle);
    assert!(
        line("+6 children")
            .trim_start_matches(['│', ' '])
            .starts_with("+6 children: validate ×3 ("),
        "{text}"
    );
    assert!(line("+6 children").contains(", rule ×3 ("), "{text}");
    assert!(line("+1 child:").contains("tokenize ×1 ("), "{text}");
    assert!(line("call_bank").ends_with('✗'), "{text}");
    assert!(!text.contains("orphan"), "{text}");

    // the events of the summarised `rule` tasks are shown under the request
    let events = stdout(&events);
    assert!(!events.contains("no task record"), "{events}");
    let request_at = events.find("GET /checkout").unwrap();
    let client_at = events.find("POST back/charge").unwrap();
    let rules: Vec<usize> = events
        .match_indices("rule checked")
        .map(|(i, _)| i)
        .collect();
    assert_eq!(rules.len(), 3, "{events}");
    assert!(
        rules.iter().all(|&i| request_at < i && i < client_at),
        "{events}"
    );
}
