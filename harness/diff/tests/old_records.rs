//! Records written by miplcheck 0.1.0, before the record was typed, still compare as 0.1.0
//! compared them, byte for byte — but for the latency gate of issue 14, whose rule and verdicts
//! the expected file was brought up to (`AT+MIPLADDOBJ`'s p95 spike among 20 equal medians is no
//! longer a regression; `AT+MIPLOPEN`'s +250 ms still is).

use miplcheck_record::RunRecord;
use std::path::Path;

#[test]
fn two_0_1_0_records_diff_as_they_did() {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../record/tests/data/v1");
    let a = RunRecord::load(&data.join("m5310a-register")).unwrap();
    let b = RunRecord::load(&data.join("m5310a-loose")).unwrap();
    let c = miplcheck_diff::compare(&a, &b, miplcheck_diff::Options::default());
    let then = std::fs::read_to_string(data.join("register-vs-loose.diff.md")).unwrap();
    let now = miplcheck_diff::markdown::render(&c);
    let first = now.lines().zip(then.lines()).position(|(x, y)| x != y);
    assert!(
        first.is_none() && now.lines().count() == then.lines().count(),
        "diff.md differs from 0.1.0's at line {}:\n  0.1.0: {:?}\n  now:   {:?}",
        first.map_or(0, |i| i + 1),
        first.and_then(|i| then.lines().nth(i)),
        first.and_then(|i| now.lines().nth(i)),
    );
    assert_eq!(miplcheck_diff::summary::verdict(&c).0, 1, "the loose firmware regresses");
}
