//! The copytruncate overlap: the live file starts again with the last lines of its rotation.
//! Each record is counted once, ERROR events included, whatever white space ends its line.

use taskwire_explore::dedup::Seen;

#[test]
fn a_copytruncate_overlap_counts_each_record_once() {
    let records: Vec<String> = (0..10)
        .map(|i| {
            let level = if i % 3 == 0 { "ERROR" } else { "INFO" };
            format!(r#"{{"ts":"2026-11-21T10:00:00.00000{i}Z","level":"{level}","msg":"m","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","span_id":"00f067aa0ba902b7"}}"#)
        })
        .collect();
    let rotated = &records[..];
    let live: Vec<String> = records[7..].iter().map(|r| format!("{r}\r")).collect();
    let mut seen = Seen::default();
    let (mut kept, mut errors) = (0, 0);
    for line in rotated.iter().chain(&live) {
        if seen.first(line.as_bytes()) {
            kept += 1;
            errors += usize::from(line.contains("\"ERROR\""));
        }
    }
    assert_eq!((kept, errors, seen.len()), (10, 4, 10));
}

#[test]
fn two_records_that_differ_in_one_byte_are_both_kept() {
    let mut seen = Seen::default();
    assert!(seen.first(br#"{"ts":"2026-11-21T10:00:00.000001Z","msg":"m"}"#));
    assert!(seen.first(br#"{"ts":"2026-11-21T10:00:00.000002Z","msg":"m"}"#));
    assert!(!seen.is_empty());
}
