//! The colour decision on a real terminal: a pseudo-terminal's follower side is a terminal,
//! so `ColorWhen::Auto` colours it and the ANSI codes reach the terminal; `NO_COLOR` turns that
//! off, and `FORCE_COLOR` turns it on for a writer that is not a terminal.
//!
//! This file's one test sets `NO_COLOR` and `FORCE_COLOR`, so it has a test binary of its own.

use std::fs::{File, OpenOptions};
use std::io::{IsTerminal, Read};
use std::sync::Mutex;

use rustix::pty::{grantpt, openpt, ptsname, unlockpt, OpenptFlags};
use taskwire_console::ColorWhen;
use taskwire_test_support::Capture;
use tracing_subscriber::prelude::*;

/// A new pseudo-terminal: (leader, follower).
fn pty() -> (File, File) {
    let leader = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).expect("openpt");
    grantpt(&leader).expect("grantpt");
    unlockpt(&leader).expect("unlockpt");
    let name = ptsname(&leader, Vec::new()).expect("ptsname");
    let path = name.to_str().expect("a UTF-8 pty path").to_owned();
    let follower = OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)
        .expect("open the follower side");
    (File::from(leader), follower)
}

/// Reads what the terminal received, up to the end of the first line.
fn read_line(leader: &mut File) -> String {
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while !got.contains(&b'\n') {
        let n = leader.read(&mut buf).expect("read the pty");
        assert!(n > 0, "the pty closed");
        got.extend_from_slice(&buf[..n]);
    }
    String::from_utf8(got).expect("utf-8")
}

fn log_one(layer: impl tracing_subscriber::Layer<tracing_subscriber::Registry> + Send + Sync) {
    let subscriber = tracing_subscriber::registry().with(layer);
    tracing::subscriber::with_default(subscriber, || tracing::warn!("low stock"));
}

#[test]
fn colour_follows_the_terminal_no_color_and_force_color() {
    std::env::remove_var("NO_COLOR");
    std::env::remove_var("FORCE_COLOR");

    // a terminal: coloured, and the codes reach it
    let (mut leader, follower) = pty();
    assert!(follower.is_terminal());
    let writer = follower.try_clone().expect("clone the follower");
    let layer = taskwire_console::layer()
        .with_writer(Mutex::new(writer))
        .with_terminal(follower.is_terminal());
    assert!(layer.colored());
    log_one(layer);
    let line = read_line(&mut leader);
    assert!(line.contains("\x1b[33mWARN \x1b[0m"), "{line:?}");

    // NO_COLOR: not even on a terminal
    std::env::set_var("NO_COLOR", "1");
    let layer = taskwire_console::layer()
        .with_writer(Mutex::new(follower.try_clone().expect("clone")))
        .with_terminal(follower.is_terminal());
    assert!(!layer.colored());
    log_one(layer);
    let line = read_line(&mut leader);
    assert!(!line.contains('\x1b') && line.contains("WARN "), "{line:?}");

    // an explicit choice overrides NO_COLOR
    let layer = taskwire_console::layer()
        .with_writer(Mutex::new(follower.try_clone().expect("clone")))
        .with_color(ColorWhen::Always);
    assert!(layer.colored());

    // not a terminal: plain, unless FORCE_COLOR
    std::env::remove_var("NO_COLOR");
    let out = Capture::new();
    let layer = taskwire_console::layer().with_writer(out.clone());
    assert!(!layer.colored());
    std::env::set_var("FORCE_COLOR", "1");
    let layer = taskwire_console::layer().with_writer(out.clone());
    assert!(layer.colored());
    log_one(layer);
    assert!(out.text().contains("\x1b[33mWARN "), "{:?}", out.text());
    std::env::remove_var("FORCE_COLOR");
}
