//! `onenet:` steps end to end on the pty BC39 emulator with real UDP and the platform's HTTP API:
//! the call and its envelope are transcript lines, the api-key appears nowhere in the record, and
//! a rig that claims the capability without the secret is an input error (exit 2).

use miplcheck_record::Verdict;
use miplcheck_runner::dispatch::{Plan, Selection};
use miplcheck_runner::privacy::Privacy;
use miplcheck_runner::target;
use std::path::{Path, PathBuf};

const KEY: &str = "miplcheck-test-api-key";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn the_exchange_is_in_the_transcript_and_the_key_is_not() {
    let root = root();
    let plan = Plan::load(
        &root.join("rigs/emulator-bc39.toml"),
        &root.join("suites"),
        &root.join("golden"),
        Selection::suite("onenet-api"),
    )
    .unwrap();
    assert_eq!(plan.rig.secrets["api_key"], KEY, "the rig's test key");
    let suite = plan.suites.iter().find(|s| s.name == "onenet-api").unwrap();
    let case = suite.cases.iter().find(|c| c.id == "bc39").unwrap();
    let mut t = target::open(&plan.rig).unwrap();
    let r = plan.run_one(t.as_mut(), suite, case);
    let json = serde_json::to_string(&r.record).unwrap();
    assert_eq!(r.record.verdict, Verdict::Passed, "{json}");
    assert!(json.contains("HTTP GET /nbiot?imei="), "{json}");
    assert!(json.contains("HTTP → errno 0 succ"), "{json}");
    assert!(!json.contains(KEY), "the api-key reached the record");
    // Were it ever written down, the rig's secret is redacted like any other.
    assert_eq!(Privacy::new(&plan.rig.secrets).text(&format!("api-key: {KEY}")), "api-key: <secret:api_key>");
}

#[test]
fn a_rig_without_the_api_key_is_an_input_error() {
    let dir = tempfile::tempdir().unwrap();
    let rig = dir.path().join("rig.toml");
    // A rig that says it can reach an API (the live service, one day) but gives no key.
    std::fs::write(&rig, "kind = \"emulator\"\ndialect = \"bc39\"\ncapabilities = [\"onenet-http\"]\n[platform]\n")
        .unwrap();
    let root = root();
    let e = Plan::load(&rig, &root.join("suites"), &root.join("golden"), Selection::suite("onenet-api")).unwrap_err();
    assert!(e.to_string().contains("no `api_key` in [secrets]"), "{e}");
    assert!(e.to_string().contains("onenet-api.yaml"), "{e}");
}
