//! Property tests: a malformed rig file, suite file or pattern is an error, never a panic.

use miplcheck_runner::pattern::{Pattern, Template};
use miplcheck_runner::rig::Rig;
use miplcheck_runner::suite::Suite;
use proptest::prelude::*;
use std::path::Path;

/// `default` cases per property in CI; `PROPTEST_CASES` overrides it (`with_cases` alone would
/// ignore it).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

const SUITE: &str = "suite: config\ndialects: [bc39]\nsetup:\n  - send: AT+CMEE=1\ncases:\n  - id: a\n    spec: BC39 §3.2.2\n    steps:\n      - send: AT+MIPLCREATE\n        expect: [\"+MIPLCREATE: {ref}\"]\n      - send: AT+MIPLDELETE=${ref}\n        window: 3s\n      - urcs: [\"+MIPLEVENT: 0,{e:\\\\d+}\"]\n      - wait: 10ms\n";
const RIG: &str = "kind = \"emulator\"\ndialect = \"bc39\"\n[emulator]\nlink = \"virtual\"\ndelays = { \"*\" = \"1ms\" }\n[secrets]\npsk = \"abc\"\n[timing]\nwindow_scale = 2.0\n";

/// A valid document with one span replaced by junk: reaches deep into the parsers.
fn mutated(base: &'static str) -> impl Strategy<Value = String> {
    (any::<prop::sample::Index>(), 0usize..12, "\\PC{0,12}").prop_map(move |(at, len, junk)| {
        let chars: Vec<char> = base.chars().collect();
        let start = at.index(chars.len());
        let end = (start + len).min(chars.len());
        chars[..start].iter().collect::<String>() + &junk + &chars[end..].iter().collect::<String>()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(1500)))]

    #[test]
    fn suites_never_panic(text in prop_oneof![mutated(SUITE), "\\PC{0,200}"]) {
        if let Err(e) = Suite::parse(Path::new("s.yaml"), &text) {
            prop_assert!(e.to_string().starts_with("s.yaml"));
        }
    }

    #[test]
    fn rigs_never_panic(text in prop_oneof![mutated(RIG), "\\PC{0,200}"]) {
        if let Err(e) = Rig::parse(Path::new("r.toml"), &text) {
            prop_assert!(e.to_string().starts_with("r.toml"));
        }
    }

    #[test]
    fn patterns_never_panic(p in "[{}$:,_a-z0-9\\\\ .*+()?\\[\\]]{0,24}", line in "\\PC{0,30}") {
        if let Ok(p) = Pattern::new(&p) {
            let _ = p.captures(&line);
        }
        let _ = Template::new(&p).map(|t| t.holes());
    }
}
