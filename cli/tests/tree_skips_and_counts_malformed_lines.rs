//! Lines that are not JSON records are skipped, counted and reported once on stderr; the good
//! lines around them still make the tree.

mod support;

use std::io::Write;

use support::*;

fn dirty_log() -> Vec<u8> {
    let clean = std::fs::read(fixture("front.log")).expect("the file can be read");
    let lines: Vec<&[u8]> = clean
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .collect();
    let mut log = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        log.extend_from_slice(line);
        log.push(b'\n');
        match i {
            0 => log.extend_from_slice(&[0xff, 0xfe, 0x00, 0x9c, b'{', 0x80, b'}', b'\n']), // binary junk
            1 => log.extend_from_slice(b"\n\n   \n"), // empty and blank lines
            2 => {
                // a record cut in the middle (a crash mid-write)
                log.extend_from_slice(&line[..line.len() / 2]);
                log.push(b'\n');
            }
            3 => {
                // a 1 MB line of junk, and a truncated 1 MB task record
                log.extend(std::iter::repeat_n(b'x', 1 << 20));
                log.push(b'\n');
                log.extend_from_slice(br#"{"target":"taskwire::tasks","msg":"task.end","big":""#);
                log.extend(std::iter::repeat_n(b'y', 1 << 20));
                log.push(b'\n');
            }
            4 => {
                // a task record whose ids are not W3C ids
                let s = String::from_utf8(line.to_vec()).expect("the output is UTF-8");
                log.extend_from_slice(
                    s.replace("\"span_id\":\"1000000000000", "\"span_id\":\"zz")
                        .as_bytes(),
                );
                log.push(b'\n');
            }
            _ => {}
        }
    }
    log
}

#[test]
fn malformed_lines_are_skipped_and_counted() {
    let dir = std::env::temp_dir().join(format!("taskwire-malformed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("front-dirty.log");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&dirty_log())
        .unwrap();
    let clean = taskwire(&["tree", &fixture("front.log")], b"");
    let dirty = taskwire(&["tree", path.to_str().unwrap()], b"");
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(dirty.status.success());
    assert_eq!(stdout(&dirty), stdout(&clean));
    // junk, 2 empty lines, a blank line, a cut record, 1 MB junk, 1 MB cut record, bad ids
    assert_eq!(stderr(&dirty), "taskwire: skipped 8 malformed lines\n");
}

#[test]
fn counts_are_given_per_file_when_several_are_read() {
    let out = taskwire(
        &["tree", &fixture("front.log"), "-", &fixture("back.log")],
        b"not json\n{\"truncated\":\n",
    );
    assert!(out.status.success());
    assert_eq!(stderr(&out), "taskwire: skipped 2 malformed lines (-: 2)\n");
}

#[test]
fn a_valid_one_megabyte_task_record_is_read() {
    let big = format!(
        r#"{{"ts":"2026-11-21T10:00:00.500000Z","level":"INFO","target":"taskwire::tasks","msg":"task.end","payload":"{}","task.name":"big","task.outcome":"succeeded","task.duration_us":10,"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}}"#,
        "z".repeat(1 << 20)
    );
    let out = taskwire(&["tree"], big.as_bytes());
    assert!(out.status.success());
    assert!(
        stdout(&out).contains("└─ big    10µs ✓\n"),
        "{}",
        stdout(&out)
    );
    assert_eq!(stderr(&out), "");
}
