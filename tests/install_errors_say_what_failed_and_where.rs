//! An `InstallError` says what failed and where: a bad filter directive is named, with
//! whether it came from `RUST_LOG`, `default_filter` or `span_filter`; its `Debug` (what
//! `fn main() -> Result<(), InstallError>` prints) is the message and its sources, not a
//! struct dump. Directives that are not directives (`debug;warn`) are rejected instead of
//! silently enabling an impossible target.

use taskwire_test_support::process;

use proptest::prelude::*;

fn filter_error(default_filter: &str) -> taskwire::InstallError {
    taskwire::builder()
        .json(std::io::sink)
        .default_filter(default_filter)
        .build()
        .expect_err("an invalid directive")
}

#[test]
fn a_semicolon_list_is_rejected_and_named() {
    if process::is_child("child_rust_log_is_named") {
        return;
    }
    let err = filter_error("debug;warn");
    let msg = err.to_string();
    assert!(
        msg.starts_with("invalid filter directive `debug;warn` in default_filter"),
        "{msg}"
    );
    assert!(msg.contains("separated by commas"), "{msg}");
}

#[test]
fn the_bad_directive_is_named_among_good_ones() {
    let err = filter_error("info, my_app=loud ,hyper=warn");
    assert!(
        err.to_string()
            .starts_with("invalid filter directive `my_app=loud` in default_filter"),
        "{err}"
    );
    assert!(std::error::Error::source(&err).is_some(), "{err:?}");
}

#[test]
fn debug_is_the_readable_message_with_its_source() {
    let err = filter_error("info,my_app=loud");
    let debug = format!("{err:?}");
    assert!(debug.starts_with(&err.to_string()), "{debug}");
    assert!(
        debug.len() > err.to_string().len(),
        "the source is appended: {debug}"
    );
    assert!(!debug.contains("InstallError"), "{debug}");
    assert!(!debug.contains("kind"), "{debug}");
}

#[test]
fn a_bad_span_filter_is_named() {
    let err = taskwire::builder()
        .span_filter("info,[span]=debug")
        .build()
        .expect_err("span filters take target=level only");
    assert!(err.to_string().contains("in span_filter"), "{err}");
}

#[test]
fn whitespace_around_directives_is_ignored() {
    let _built = taskwire::builder()
        .json(std::io::sink)
        .default_filter(" warn , my_app::db=debug ")
        .build()
        .expect("valid directives with spaces around them");
}

#[test]
#[ignore = "a child process of `a_bad_rust_log_is_named_as_rust_log`"]
fn child_rust_log_is_named() {
    if !process::is_child("child_rust_log_is_named") {
        return;
    }
    assert_eq!(std::env::var("RUST_LOG").as_deref(), Ok("debug;warn"));
    let err = filter_error("info");
    assert!(
        err.to_string()
            .starts_with("invalid filter directive `debug;warn` in RUST_LOG"),
        "{err}"
    );
}

#[test]
fn a_bad_rust_log_is_named_as_rust_log() {
    process::run_child("child_rust_log_is_named", &[("RUST_LOG", "debug;warn")]);
}

proptest! {
    /// Any text as directives: `build()` returns, and an error names where it came from.
    #[test]
    fn any_directives_build_or_fail_with_a_named_directive(s in "\\PC{0,40}") {
        match taskwire::builder().json(std::io::sink).default_filter(s.as_str()).build() {
            Ok(_) => {}
            Err(e) => {
                let msg = e.to_string();
                prop_assert!(msg.starts_with("invalid filter directive `"), "{}", msg);
                prop_assert!(msg.contains("` in default_filter"), "{}", msg);
            }
        }
    }

    /// Well-formed `target=level` lists are accepted.
    #[test]
    fn target_level_lists_are_accepted(
        dirs in prop::collection::vec(
            ("[a-z_][a-z0-9_]{0,8}(::[a-z_][a-z0-9_]{0,8}){0,2}",
             prop::sample::select(vec!["trace", "debug", "info", "warn", "error", "off"])),
            0..5,
        )
    ) {
        let s = dirs.iter().map(|(t, l)| format!("{t}={l}")).collect::<Vec<_>>().join(",");
        prop_assert!(
            taskwire::builder().json(std::io::sink).default_filter(s.as_str()).build().is_ok(),
            "{}", s
        );
    }
}
