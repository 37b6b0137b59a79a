//! A record written by miplcheck 0.1.0, before the record was typed, still renders as 0.1.0
//! rendered it, byte for byte.

use miplcheck_record::RunRecord;
use std::path::Path;

#[test]
fn a_0_1_0_record_renders_as_it_did() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../record/tests/data/v1/m5310a-loose");
    let record = RunRecord::load(&dir).unwrap();
    let then = std::fs::read_to_string(dir.join("report.html")).unwrap();
    let now = miplcheck_html::render(&record);
    if now != then {
        let at = now.bytes().zip(then.bytes()).position(|(a, b)| a != b).unwrap_or(now.len().min(then.len()));
        let around = |s: &str| s.get(at.saturating_sub(80)..(at + 80).min(s.len())).unwrap_or_default().to_string();
        panic!("report.html differs at byte {at}:\n  0.1.0: {}\n  now:   {}", around(&then), around(&now));
    }
}
