//! `taskwire tail FILES [QUERY]` without `-f`: every record of the real front/back fixtures as
//! one readable line, the query of `tree` as its filter, raw lines with `--json`, lines that
//! are not JSON passed through, and values that would drive a terminal shown escaped.

mod support;

use support::*;

#[test]
fn each_record_of_both_services_is_one_readable_line() {
    let out = taskwire(&["tail", &fixture("back.log")], b"");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "\
10:00:00.000 INFO  back back: listening addr=0.0.0.0:9090
10:00:00.016 ✓     back db.query 3.00ms db.statement=\"SELECT balance FROM cards WHERE id = $1\" [4bf92f35]
10:00:00.022 WARN  back back: fraud score high score=0.93 [4bf92f35]
10:00:00.024 ✓     back fraud check 4.00ms [4bf92f35]
10:00:00.036 ERROR back back: error={\"message\":\"card declined\",\"source\":[\"issuer said no\"]} [4bf92f35]
10:00:00.037 ✗     back POST /charge 25.0ms card declined [4bf92f35]
10:00:02.001 ✓     back POST /refund 1.23ms [5d693dad]
"
    );
}

#[test]
fn the_query_of_tree_filters_records() {
    let out = taskwire(
        &[
            "tail",
            "level>=warn",
            &fixture("back.log"),
            &fixture("front.log"),
        ],
        b"",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let lines: Vec<String> = stdout(&out).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 4, "{lines:#?}");
    assert!(lines
        .iter()
        .all(|l| l.contains(" WARN ") || l.contains(" ERROR ")));

    let out = taskwire(
        &["tail", "failed", "service=front", &fixture("front.log")],
        b"",
    );
    let shown = stdout(&out);
    assert_eq!(
        shown.lines().collect::<Vec<_>>(),
        [
            "10:00:00.040 ✗     front POST back/charge 30.0ms charge returned 402 [4bf92f35]",
            "10:00:00.050 ✗     front GET /checkout 50.0ms checkout failed: payment declined [4bf92f35]",
        ]
    );
}

#[test]
fn json_passes_the_matching_lines_through_raw() {
    let log = std::fs::read_to_string(fixture("back.log")).expect("the fixture");
    let want: Vec<&str> = log.lines().filter(|l| l.contains("\"WARN\"")).collect();
    let out = taskwire(&["tail", "--json", "level=warn", &fixture("back.log")], b"");
    assert_eq!(stdout(&out).lines().collect::<Vec<_>>(), want);
    // without a query, every record and nothing else
    let input = format!("panic: not json\n{}\n", want[0]);
    let out = taskwire(&["tail", "--json"], input.as_bytes());
    assert_eq!(stdout(&out), format!("{}\n", want[0]));
}

#[test]
fn lines_that_are_not_json_pass_through_unchanged() {
    let input =
        b"thread 'main' panicked at src/main.rs:3:5\n{\"msg\":\"ok\",\"level\":\"INFO\"}\n\n";
    let out = taskwire(&["tail", "-"], input);
    assert_eq!(
        stdout(&out),
        "thread 'main' panicked at src/main.rs:3:5\n--:--:--.--- INFO  ok\n\n"
    );
}

#[test]
fn escape_sequences_in_records_never_reach_the_terminal() {
    let input = br#"{"ts":"2026-11-21T10:00:00Z","level":"ERROR","msg":"\u001b]0;pwned\u0007\u001b[2J","user":"\u009b31m","target":"x\ny"}
"#;
    for color in ["never", "always"] {
        let out = taskwire(&["tail", "--color", color], input);
        let text = stdout(&out);
        assert!(text.contains(r"\u{1b}]0;pwned\u{7}\u{1b}[2J"), "{text:?}");
        assert!(text.contains(r#""\u{9b}31m""#), "{text:?}");
        assert!(text.contains(r"x\ny:"), "{text:?}");
        assert!(
            !text.contains('\u{7}') && !text.contains('\u{9b}'),
            "{text:?}"
        );
        assert!(
            !text.contains("\x1b]") && !text.contains("\x1b[2J"),
            "{text:?}"
        );
    }
}

#[test]
fn colors_follow_the_flag_and_no_color() {
    let line = b"{\"level\":\"WARN\",\"msg\":\"slow\"}\n";
    let plain = taskwire(&["tail"], line); // not a terminal
    assert!(!stdout(&plain).contains('\x1b'));
    let colored = taskwire(&["tail", "--color", "always"], line);
    assert!(
        stdout(&colored).contains("\x1b[33mWARN\x1b[0m"),
        "{:?}",
        stdout(&colored)
    );
    let off = taskwire(&["tail", "--color", "always", "--no-color"], line);
    assert!(!stdout(&off).contains('\x1b'));
}
