//! A batch cut off half-way (its tickets written, or its samples, or everything but the reply)
//! and written again counts once: the MongoDB store recognises the retried batch and reuses its
//! token, ids and decisions, and reports the tickets the batch created. The failure is
//! injected at each stage.

use taskwire_tickets::store::mongodb::FailAfter;
use taskwire_tickets::store::{
    Batch, Change, GroupUpdate, Level, OccurrenceQuery, Sample, TagCount, TicketReader, TicketSeed,
    TicketWriter, Timestamp,
};
use taskwire_tickets::MongoDb;

fn batch(fps: &[&str], at: i64) -> Batch {
    let groups = fps
        .iter()
        .map(|fp| {
            let t = Timestamp::from_micros(1_700_000_000_000_000 + at);
            let mut u = GroupUpdate::new(*fp, TicketSeed::new(Level::ERROR, "app"), 7, t, t);
            u.title = Some(format!("{fp} failed"));
            for k in 0..3 {
                let mut s = Sample::new(Timestamp::from_micros(t.as_micros() + k));
                s.message = format!("{fp} {at} {k}");
                u.samples.push(s);
            }
            u.tags = vec![
                TagCount {
                    key: "host".into(),
                    value: "h1".into(),
                    count: 7,
                },
                TagCount {
                    key: "route".into(),
                    value: format!("/r{at}"),
                    count: 7,
                },
            ];
            u
        })
        .collect();
    let mut b = Batch::new(groups);
    b.samples_per_ticket = 4;
    b.max_tag_values = 3;
    b
}

/// What SQLite keeps for the same batches, without failures: the reference.
fn sqlite_reference() -> (Vec<String>, Vec<TagCount>) {
    let mut s = taskwire_tickets::Sqlite::open_in_memory().expect("the store opens");
    for b in [
        batch(&["a", "b"], 0),
        batch(&["a", "b", "c"], 10),
        batch(&["a"], 20),
    ] {
        s.write(&b).expect("the write succeeds");
    }
    let a = s
        .find("a")
        .expect("the store answers")
        .expect("the store answers");
    let occ = s
        .occurrences(a.id, &OccurrenceQuery::oldest().with_limit(100))
        .expect("the store answers");
    (
        occ.into_iter().map(|o| o.sample.message).collect(),
        s.tags(a.id).expect("the store answers"),
    )
}

#[test]
fn a_batch_failed_at_any_stage_and_retried_counts_once() {
    let (want_msgs, want_tags) = sqlite_reference();
    for stage in [FailAfter::Tickets, FailAfter::Samples, FailAfter::Tags] {
        let uri = taskwire_test_support::services::fresh_mongodb_uri(&format!("retry{stage:?}"));
        let mut store = MongoDb::open(&uri).unwrap();
        // An earlier batch, so the retried one updates existing documents too.
        store.write(&batch(&["a", "b"], 0)).unwrap();
        let b = batch(&["a", "b", "c"], 10);
        store.inject_failure_after(stage);
        assert!(store.write(&b).is_err(), "stage {stage:?}");
        // The retry reports what the batch did, the failed attempt's part included: `c` is
        // new (once), `a` and `b` are not.
        let changes: Vec<_> = store
            .write(&b)
            .unwrap()
            .tickets()
            .iter()
            .map(|w| w.change)
            .collect();
        assert_eq!(
            changes,
            [None, None, Some(Change::Created)],
            "stage {stage:?}"
        );
        // And once more after that, as usual.
        store.write(&batch(&["a"], 20)).unwrap();

        let fresh = MongoDb::open(&uri).unwrap();
        let count = |fp: &str| fresh.find(fp).unwrap().map(|t| t.count);
        assert_eq!(count("a"), Some(21), "stage {stage:?}");
        assert_eq!(count("b"), Some(14), "stage {stage:?}");
        assert_eq!(count("c"), Some(7), "stage {stage:?}");
        let a = fresh.find("a").unwrap().unwrap();
        let occ = fresh
            .occurrences(a.id, &OccurrenceQuery::oldest().with_limit(100))
            .unwrap();
        let msgs: Vec<&str> = occ.iter().map(|o| o.sample.message.as_str()).collect();
        // The first sample, then the newest 4 (no duplicates from the retry).
        assert_eq!(
            msgs,
            ["a 0 0", "a 10 2", "a 20 0", "a 20 1", "a 20 2"],
            "stage {stage:?}"
        );
        assert_eq!(msgs, want_msgs, "stage {stage:?}: as on SQLite");
        let tags = fresh.tags(a.id).unwrap();
        assert_eq!(tags, want_tags, "stage {stage:?}: as on SQLite");
        let host: u64 = tags
            .iter()
            .filter(|t| t.key == "host")
            .map(|t| t.count)
            .sum();
        assert_eq!(host, 21, "stage {stage:?}: {tags:?}");
        let routes: Vec<(String, u64)> = tags
            .iter()
            .filter(|t| t.key == "route")
            .map(|t| (t.value.clone(), t.count))
            .collect();
        assert_eq!(
            routes,
            [("/r0".into(), 7), ("/r10".into(), 7), ("/r20".into(), 7)],
            "stage {stage:?}"
        );
    }
}
