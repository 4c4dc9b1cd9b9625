//! `taskwire tree --trace` (and `trace=` in a query) takes the first 8 to 31 hex digits of a
//! trace id, as the console layer prints them: a prefix that one trace starts with shows it; a
//! prefix several start with shows them all and says so on stderr.

mod support;

use support::*;

const CHECKOUT: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CART: &str = "4bf92f35aaaaaaaaaaaaaaaaaaaaaaaa";

/// A log written by the real layers: two requests whose callers sent these trace ids, and one
/// that starts its own trace.
fn shop_log() -> Vec<u8> {
    process_log("shop", taskwire_tasks::layer(), || {
        for (trace, name) in [(CHECKOUT, "GET /checkout"), (CART, "GET /cart")] {
            let header = format!("00-{trace}-00f067aa0ba902b7-01");
            let span = tracing::info_span!("request", task.name = name);
            let span = taskwire_tasks::import(&header, span);
            let _entered = span.enter();
            tracing::info!("served");
        }
        let _health = tracing::info_span!("request", task.name = "GET /health").entered();
    })
}

fn roots(out: &std::process::Output) -> Vec<String> {
    let mut names: Vec<String> = json_lines(out)
        .iter()
        .map(|t| t["roots"][0]["name"].as_str().unwrap_or("?").to_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_prefix_one_trace_starts_with_shows_that_trace() {
    let log = shop_log();
    let (by_flag, by_query, upper) = with_log_files(&[("shop.log", &log)], |logs| {
        (
            taskwire(
                &["tree", "--json", "--trace", &CHECKOUT[..10], logs[0]],
                b"",
            ),
            taskwire(&["tree", "--json", "trace=4bf92f35a", logs[0]], b""),
            taskwire(
                &[
                    "tree",
                    "--json",
                    "--trace",
                    &CHECKOUT[..31].to_uppercase(),
                    logs[0],
                ],
                b"",
            ),
        )
    });
    for (out, want) in [
        (&by_flag, "GET /checkout"),
        (&by_query, "GET /cart"),
        (&upper, "GET /checkout"),
    ] {
        assert!(out.status.success(), "{}", stderr(out));
        assert_eq!(stderr(out), "");
        assert_eq!(roots(out), [want]);
    }
}

#[test]
fn a_prefix_several_traces_start_with_shows_them_all_and_says_how_many() {
    let log = shop_log();
    let (json, text) = with_log_files(&[("shop.log", &log)], |logs| {
        (
            taskwire(&["tree", "--json", "--trace", "4BF92F35", logs[0]], b""),
            taskwire(&["tree", "--trace", "4bf92f35", logs[0]], b""),
        )
    });
    assert!(json.status.success(), "{}", stderr(&json));
    assert_eq!(roots(&json), ["GET /cart", "GET /checkout"]);
    let err = stderr(&json);
    assert!(
        err.starts_with("taskwire: 2 traces start with 4bf92f35"),
        "{err}"
    );
    assert!(err.contains(CHECKOUT) && err.contains(CART), "{err}");
    // as text: both trees, no results list in between
    assert!(text.status.success(), "{}", stderr(&text));
    let text = stdout(&text);
    assert!(line_with(&text, "GET /checkout").contains("GET /checkout"));
    assert!(line_with(&text, "GET /cart").contains("GET /cart"));
    assert!(!text.contains("GET /health"), "{text}");
}

#[test]
fn a_prefix_no_trace_starts_with_finds_nothing_and_fails() {
    let log = shop_log();
    let out = with_log_files(&[("shop.log", &log)], |logs| {
        taskwire(&["tree", "--trace", "4bf92f36", logs[0]], b"")
    });
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "");
    assert!(
        stderr(&out).contains("no trace id starts with 4bf92f36"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn fewer_than_eight_digits_are_not_a_trace_id() {
    let out = taskwire(&["tree", "--trace", "4bf92f3"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("its first 8 or more"),
        "{}",
        stderr(&out)
    );
}
