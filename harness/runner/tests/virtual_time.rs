//! Two-sided cases in virtual time: the shipped virtual rigs run the real suites against their
//! dialect's golden snapshots (the same ones the pty rigs match), and the manuals' timers on both
//! sides elapse on the one clock to the millisecond — the registration time-out, a lifetime
//! running out, CoAP's back-off, the DTLS handshake time-out, OneNET's re-send.

use miplcheck_record::{Line, LineKind, SnapshotResult, Verdict};
use miplcheck_runner::rig::{EmulatorLink, Target as RigTarget};
use miplcheck_runner::{target, CaseResult, Plan, Selection};
use rstest::rstest;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Runs `suite/case` on the shipped rig `rig` and checks it passed on its golden snapshot.
fn run(rig: &str, suite: &str, case: &str) -> CaseResult {
    let root = root();
    let plan = Plan::load(&root.join(rig), &root.join("suites"), &root.join("golden"), Selection::default()).unwrap();
    assert!(matches!(plan.rig.target, RigTarget::Emulator { link: EmulatorLink::Virtual, .. }), "{rig}");
    let s = plan.suites.iter().find(|s| s.name == suite).unwrap_or_else(|| panic!("no suite {suite}"));
    let c = s.cases.iter().find(|c| c.id == case).unwrap_or_else(|| panic!("no case {suite}/{case}"));
    let mut t = target::open(&plan.rig).unwrap();
    let r = plan.run_one(t.as_mut(), s, c);
    assert_eq!(r.record.verdict, Verdict::Passed, "{:?}\n{}", r.record.reason, r.transcript_text());
    assert_eq!(r.record.snapshot, SnapshotResult::Matched, "{:?}", r.record.snapshot_diff);
    r
}

/// When (ms since the case's first entry) the first entry containing `text` came.
fn at(lines: &[Line], text: &str) -> f64 {
    lines
        .iter()
        .filter(|l| l.kind == LineKind::Entry)
        .find(|l| l.text.contains(text))
        .and_then(|l| l.at_ms)
        .unwrap_or_else(|| panic!("no line with {text:?}: {lines:#?}"))
}

#[rstest]
// BC39 §3.2.7: no answer to the registration within `AT+MIPLOPEN`'s 30 s <timeout>: event 8.
#[case(
    "rigs/virtual-bc39.toml",
    "register",
    "registration-timeout",
    "AT+MIPLOPEN=0,600,30\\r",
    "+MIPLEVENT: 0,8",
    30_000.0
)]
// A 20 s lifetime: event 14 with 10 s left, then event 9 when it has run out (BC39 §4.7).
#[case(
    "rigs/virtual-bc39.toml",
    "register",
    "lifetime-runs-out",
    "AT+MIPLOPEN=0,20,30\\r",
    "+MIPLEVENT: 0,9",
    20_000.0
)]
// A wrong PSK is met with silence; the handshake gives up after 4 × ACK_TIMEOUT (2 s): event 5.
#[case("rigs/virtual-bc39.toml", "register", "wrong-psk", "AT+MIPLOPEN=0,600,60\\r", "+MIPLEVENT: 0,5", 8_000.0)]
fn the_manuals_timers_elapse_exactly_on_the_virtual_clock(
    #[case] rig: &str,
    #[case] suite: &str,
    #[case] case: &str,
    #[case] from: &str,
    #[case] to: &str,
    #[case] ms: f64,
) {
    let r = run(rig, suite, case);
    let t = &r.record.transcript;
    assert_eq!(at(t, to) - at(t, from), ms, "{}", r.transcript_text());
}

#[test]
fn an_update_nobody_answers_is_given_up_after_coaps_back_off_on_both_sides() {
    // RFC 7252 §4.8: the update is sent 1 + MAX_RETRANSMIT (4) times, and given up on when the
    // last wait ends: at least 2 + 4 + 8 + 16 + 32 = 62 s after it first went out at ACK_TIMEOUT
    // 2 s, at most 1.5 times that (ACK_RANDOM_FACTOR).
    let r = run("rigs/virtual-bc39.toml", "notify", "update-unanswered");
    let t = &r.record.transcript;
    let gave_up = at(t, "+MIPLEVENT: 0,13") - at(t, "AT+MIPLUPDATE=0,600,0\\r");
    assert!((62_000.0..=93_000.0).contains(&gave_up), "{gave_up} ms");
    let sent: Vec<f64> = t
        .iter()
        .filter(|l| l.kind == LineKind::Entry && l.text.starts_with("CON POST /rd/"))
        .filter_map(|l| l.at_ms)
        .collect();
    assert_eq!(sent.len(), 5, "the update and its four re-sends, as the platform saw them: {t:#?}");
    let waits: Vec<f64> = sent.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(waits.windows(2).all(|w| w[1] == 2.0 * w[0]), "each wait doubles: {waits:?}");
}

#[test]
fn late_answers_after_onenets_resend_are_timed_on_the_virtual_clock() {
    // BC39 §4.3: OneNET re-sends a read the module has not answered, and the answer that comes
    // after the re-send still counts. Its latency is on the virtual clock, not the machine's.
    let r = run("rigs/virtual-bc39.toml", "rwx", "late-answer");
    assert!(r.record.duration_ms >= 3_500.0, "{}", r.record.duration_ms);
    let r = run("rigs/virtual-m5310a.toml", "m5310a-register", "lifetime-left");
    assert!(r.record.duration_ms < 1_000.0, "nothing in this case waits: {}", r.record.duration_ms);
}
