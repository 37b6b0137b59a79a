//! How the runner judges windows and survives a misbehaving modem. Timing runs in virtual time
//! (the emulator's SimPort, or a scripted port), so 250 ms vs 350 ms against a 300 ms window is
//! exact on any machine.

use miplcheck_record::{SnapshotResult, Verdict};
use miplcheck_runner::report::Fanout;
use miplcheck_runner::rig::Rig;
use miplcheck_runner::suite::Suite;
use miplcheck_runner::target::{Target, TargetError};
use miplcheck_runner::{target, CaseResult, Plan, Selection};
use miplcheck_transport::{Chunk, Port, Received};
use rstest::rstest;
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// Where and why a case failed (or errored, for a reason of the bench), or a panic showing what
/// it came to.
fn failure(r: &CaseResult) -> (String, Option<usize>, String) {
    let c = &r.record;
    assert!(matches!(c.verdict, Verdict::Failed | Verdict::Error), "{c:?}");
    (c.failed_at.as_ref().map(ToString::to_string).unwrap_or_default(), c.line, c.reason.clone().unwrap_or_default())
}

/// A plan over one inline suite and an inline rig, snapshots in a temporary folder.
fn plan(rig: &str, suite: &str, golden: &Path) -> Plan {
    let rig = Rig::parse(Path::new("rigs/test.toml"), rig).unwrap();
    let suite = Suite::parse(Path::new("suites/test.yaml"), suite).unwrap();
    Plan::new(rig, std::sync::Arc::new(vec![suite]), golden.to_path_buf())
}

const VIRTUAL_BC39: &str = "kind = \"emulator\"\ndialect = \"bc39\"\n[emulator]\nlink = \"virtual\"\necho = false\n";

const VER_SUITE: &str = "suite: t\ncases:\n  - id: ver\n    spec: BC39 §3.2.4\n    steps:\n      - send: AT+MIPLVER?\n        expect: [\"+MIPLVER: {_}\"]\n";

#[rstest]
#[case::well_inside(250, true)]
#[case::on_the_edge(300, true)]
#[case::late(350, false)]
fn a_response_is_judged_against_its_window(#[case] delay_ms: u64, #[case] passes: bool) {
    let golden = tempfile::tempdir().unwrap();
    let rig = format!("{VIRTUAL_BC39}delays = {{ \"+MIPLVER\" = \"{delay_ms}ms\" }}\n");
    let p = plan(&rig, VER_SUITE, golden.path());
    let mut t = target::open(&p.rig).unwrap();
    let r = p.run_one(t.as_mut(), &p.suites[0], &p.suites[0].cases[0]);
    let step = &r.record.steps[0];
    assert_eq!(step.latency_ms, Some(delay_ms as f64), "measured exactly in virtual time");
    assert_eq!(step.window_ms, Some(300.0), "BC39 §3.2.4 最大响应时间");
    let (at, _, reason) = failure(&r);
    if passes {
        // It passes the window; the snapshot is missing in the empty golden folder.
        assert_eq!(at, "snapshot");
    } else {
        assert_eq!(at, "step 1");
        assert!(reason.contains("answered in 350 ms, after its 300 ms window"), "{reason}");
        assert!(reason.contains("BC39 §3.2.4"), "{reason}");
    }
}

#[test]
fn a_window_scale_widens_windows() {
    let golden = tempfile::tempdir().unwrap();
    let rig = format!("{VIRTUAL_BC39}delays = {{ \"+MIPLVER\" = \"350ms\" }}\n[timing]\nwindow_scale = 2.0\n");
    let p = plan(&rig, VER_SUITE, golden.path());
    let mut t = target::open(&p.rig).unwrap();
    let r = p.run_one(t.as_mut(), &p.suites[0], &p.suites[0].cases[0]);
    assert_eq!(r.record.steps[0].window_ms, Some(600.0));
    assert!(r.record.steps[0].failure.is_none());
}

#[test]
fn a_silent_modem_fails_the_case_when_its_window_closes_and_the_run_goes_on() {
    let golden = tempfile::tempdir().unwrap();
    let rig = format!("{VIRTUAL_BC39}silent = [\"+CGMR\"]\n");
    let suite = "suite: t\ncases:\n  - id: hung\n    spec: 3GPP TS 27.007\n    steps:\n      - send: AT\n      - send: AT+CGMR\n  - id: next\n    spec: 3GPP TS 27.007\n    steps:\n      - send: AT\n";
    let p = plan(&rig, suite, golden.path());
    let mut t = target::open(&p.rig).unwrap();
    let mut events = Fanout::new();
    let summary = p.execute_on(t.as_mut(), &mut events);
    assert_eq!(summary.totals.failed, 2, "hung fails on its step, next only on its missing snapshot");
    let r = p.run_one(t.as_mut(), &p.suites[0], &p.suites[0].cases[0]);
    let (at, line, reason) = failure(&r);
    assert_eq!((at.as_str(), line), ("step 2", Some(7)));
    assert!(reason.contains("no final result code within the 300 ms window"), "{reason}");
    assert!(reason.contains("received nothing"), "{reason}");
    assert!(r.transcript_text().contains("AT+CGMR\\r"), "the transcript is kept:\n{}", r.transcript_text());
    let next = p.run_one(t.as_mut(), &p.suites[0], &p.suites[0].cases[1]);
    assert!(next.record.steps.iter().all(|s| s.failure.is_none()), "the next case runs normally");
}

/// A modem that answers from a script, at virtual times, and may hang up.
struct Scripted {
    now: Duration,
    answers: VecDeque<Script>,
    pending: VecDeque<Chunk>,
    closed: bool,
    /// How long `write` takes to return (a loaded machine): the answer may come before it does.
    write_takes: Duration,
}

enum Script {
    Answer(Vec<(u64, &'static [u8])>),
    HangUp,
}

impl Port for Scripted {
    fn describe(&self) -> String {
        "scripted".into()
    }
    fn now(&self) -> Duration {
        self.now
    }
    fn write(&mut self, _bytes: &[u8]) -> std::io::Result<Duration> {
        if self.closed {
            return Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "gone"));
        }
        match self.answers.pop_front() {
            Some(Script::Answer(parts)) => {
                for (ms, b) in parts {
                    self.pending.push_back(Chunk { at: self.now + Duration::from_millis(ms), bytes: b.to_vec() });
                }
            }
            Some(Script::HangUp) => self.closed = true,
            None => {}
        }
        self.now += self.write_takes;
        Ok(self.now)
    }
    fn read_until(&mut self, deadline: Duration) -> Received {
        match self.pending.front() {
            Some(c) if c.at <= deadline => {
                let c = self.pending.pop_front().unwrap();
                self.now = self.now.max(c.at);
                Received::Data(c)
            }
            _ if self.closed => Received::Closed("device disconnected".into()),
            _ => {
                self.now = self.now.max(deadline);
                Received::Timeout
            }
        }
    }
}

impl Target for Scripted {
    fn describe(&self) -> String {
        "scripted".into()
    }
    fn port(&mut self) -> &mut dyn Port {
        self
    }
    fn prepare(&mut self) -> Result<(), TargetError> {
        Ok(())
    }
}

fn scripted(answers: Vec<Script>) -> Scripted {
    Scripted {
        now: Duration::ZERO,
        answers: answers.into(),
        pending: VecDeque::new(),
        closed: false,
        write_takes: Duration::ZERO,
    }
}

#[test]
fn a_command_is_stamped_when_it_began_to_go_out_so_a_fast_answer_never_comes_before_it() {
    let golden = tempfile::tempdir().unwrap();
    let p = plan(VIRTUAL_BC39, TWO_ATS, golden.path());
    let mut t = scripted(vec![
        Script::Answer(vec![(1, b"AT\r"), (2, b"\r\nOK\r\n")]),
        Script::Answer(vec![(1, b"AT\r"), (2, b"\r\nOK\r\n")]),
    ]);
    t.write_takes = Duration::from_millis(5);
    let r = p.run_one(&mut t, &p.suites[0], &p.suites[0].cases[0]);
    let entries: Vec<(f64, String)> =
        r.record.transcript.iter().filter_map(|l| Some((l.at_ms?, l.text.clone()))).collect();
    assert_eq!(entries[0], (0.0, "AT\\r".to_string()), "{entries:?}");
    assert!(entries.windows(2).all(|w| w[0].0 <= w[1].0), "in time order: {entries:?}");
}

const TWO_ATS: &str =
    "suite: t\ncases:\n  - id: c\n    spec: 3GPP TS 27.007\n    steps:\n      - send: AT\n      - send: AT\n";

#[test]
fn garbage_on_the_line_is_kept_and_fails_the_case_without_a_panic() {
    let golden = tempfile::tempdir().unwrap();
    let p = plan(VIRTUAL_BC39, TWO_ATS, golden.path());
    let mut t = scripted(vec![
        Script::Answer(vec![(5, b"\r\nOK\r\n")]),
        Script::Answer(vec![(3, b"\xff\xfe\x00\x1b[31m noise"), (7, b"\r\n\r\nOK\r\n")]),
    ]);
    let r = p.run_one(&mut t, &p.suites[0], &p.suites[0].cases[0]);
    let (at, _, reason) = failure(&r);
    assert_eq!(at, "step 2");
    assert!(reason.contains("unexpected information line"), "{reason}");
    assert!(r.transcript_text().contains("\\xFF\\xFE\\x00\\x1B[31m noise"), "{}", r.transcript_text());
}

#[test]
fn a_link_that_dies_mid_case_fails_it_with_the_reason_and_keeps_the_transcript() {
    let golden = tempfile::tempdir().unwrap();
    let p = plan(VIRTUAL_BC39, TWO_ATS, golden.path());
    let mut t = scripted(vec![Script::Answer(vec![(5, b"\r\nOK\r\n")]), Script::HangUp]);
    let r = p.run_one(&mut t, &p.suites[0], &p.suites[0].cases[0]);
    let (at, _, reason) = failure(&r);
    assert_eq!(at, "step 2");
    assert_eq!(r.record.verdict, Verdict::Error, "a link that dies is the bench's failure, not the firmware's");
    assert!(reason.contains("the link closed") && reason.contains("device disconnected"), "{reason}");
    assert!(
        r.transcript_text().contains("OK\\r\\n") && r.transcript_text().contains("link closed"),
        "{}",
        r.transcript_text()
    );
    // The next case cannot write at all, and says so.
    let r = p.run_one(&mut t, &p.suites[0], &p.suites[0].cases[0]);
    let (_, _, reason) = failure(&r);
    assert!(reason.contains("cannot write to scripted"), "{reason}");
}

#[test]
fn a_serial_port_that_does_not_exist_is_an_unhealthy_rig_not_a_failing_firmware() {
    let golden = tempfile::tempdir().unwrap();
    let rig = "kind = \"serial\"\ndialect = \"bc39\"\n[serial]\nport = \"/dev/miplcheck-no-such-port\"\n";
    let p = plan(rig, TWO_ATS, golden.path());
    let summary = p.execute(&mut Fanout::new());
    let t = summary.totals;
    assert_eq!((t.passed, t.failed, t.errors), (0, 0, 1));
    let health = summary.health.unwrap();
    assert_eq!(health.state, miplcheck_record::HealthState::Unhealthy);
    assert!(health.reason.unwrap().contains("/dev/miplcheck-no-such-port"));
}

#[test]
fn a_changed_emulator_response_fails_the_snapshot_with_a_readable_diff() {
    // The real golden of config/sdk-version, copied so the test leaves nothing behind.
    let golden = tempfile::tempdir().unwrap();
    std::fs::copy(root().join("golden/bc39/config__sdk-version.snap"), golden.path().join("config__sdk-version.snap"))
        .unwrap();
    let mut p = Plan::load(
        &root().join("rigs/emulator-bc39.toml"),
        &root().join("suites"),
        &root().join("golden"),
        Selection::suite("config").case("sdk-version"),
    )
    .unwrap();
    p.golden_dir = golden.path().to_path_buf();
    let same = p.clone();
    if let miplcheck_runner::rig::Target::Emulator { options, .. } = &mut p.rig.target {
        options.sdk_version = "9.9.9".into();
    }
    let (suite, case) = (&p.suites[0], p.suites[0].cases.iter().find(|c| c.id == "sdk-version").unwrap());
    let mut t = target::open(&same.rig).unwrap();
    assert_eq!(same.run_one(t.as_mut(), suite, case).record.snapshot, SnapshotResult::Matched);
    let mut t = target::open(&p.rig).unwrap();
    let r = p.run_one(t.as_mut(), suite, case);
    assert_eq!(r.record.snapshot, SnapshotResult::Changed);
    let diff = r.record.snapshot_diff.as_deref().unwrap();
    assert!(diff.contains("-UE→TE info   +MIPLVER: 2.3.0\\r\\n"), "{diff}");
    assert!(diff.contains("+UE→TE info   +MIPLVER: 9.9.9\\r\\n"), "{diff}");
    let (at, _, reason) = failure(&r);
    assert_eq!(at, "snapshot");
    assert!(reason.contains("cargo insta review"), "{reason}");
}

/// A case that sends one command and then waits for URCs as the suite says.
fn urc_case(step: &str) -> String {
    format!("suite: t\ncases:\n  - id: u\n    spec: BC39 §4.7\n    steps:\n      - send: AT+MIPLOPEN=0,600,60\n{step}")
}

fn run_scripted(suite: &str, answer: Vec<(u64, &'static [u8])>) -> CaseResult {
    let golden = tempfile::tempdir().unwrap();
    let p = plan(VIRTUAL_BC39, suite, golden.path());
    let mut t = scripted(vec![Script::Answer(answer)]);
    p.run_one(&mut t, &p.suites[0], &p.suites[0].cases[0])
}

const OPEN_THEN_EVENTS: [(u64, &[u8]); 4] = [
    (5, b"\r\nOK\r\n"),
    (40, b"\r\n+MIPLEVENT: 0,1\r\n"),
    (90, b"\r\n+MIPLEVENT: 0,4\r\n"),
    (130, b"\r\n+MIPLEVENT: 0,6\r\n"),
];

#[test]
fn ordered_urcs_are_timed_from_the_command() {
    let r = run_scripted(
        &urc_case(
            "      - urcs: [\"+MIPLEVENT: 0,1\", \"+MIPLEVENT: 0,4\", \"+MIPLEVENT: 0,6\"]\n        window: 1s\n",
        ),
        OPEN_THEN_EVENTS.to_vec(),
    );
    assert_eq!(r.record.steps[1].failure, None);
    assert_eq!(r.record.steps[1].latency_ms, Some(130.0));
}

#[test]
fn ordered_urcs_out_of_order_fail_and_say_so() {
    let r = run_scripted(
        &urc_case("      - urcs: [\"+MIPLEVENT: 0,6\", \"+MIPLEVENT: 0,4\"]\n        window: 1s\n"),
        OPEN_THEN_EVENTS.to_vec(),
    );
    let why = r.record.steps[1].failure.as_deref().unwrap();
    assert!(why.contains("no `+MIPLEVENT: 0,4` within 1 s") && why.contains("in the listed order"), "{why}");
}

#[test]
fn an_unordered_set_finds_the_pairing_a_greedy_match_would_miss() {
    // The general pattern could take `0,6` first and leave the specific one nothing.
    let r = run_scripted(
        &urc_case("      - unordered: [\"+MIPLEVENT: 0,{e}\", \"+MIPLEVENT: 0,6\"]\n        window: 1s\n"),
        vec![(5, b"\r\nOK\r\n"), (10, b"\r\n+MIPLEVENT: 0,6\r\n"), (20, b"\r\n+MIPLEVENT: 0,4\r\n")],
    );
    assert_eq!(r.record.steps[1].failure, None, "{}", r.transcript_text());
}

#[test]
fn a_urc_after_its_window_fails_with_the_measured_time() {
    let r =
        run_scripted(&urc_case("      - urc: \"+MIPLEVENT: 0,6\"\n        window: 100ms\n"), OPEN_THEN_EVENTS.to_vec());
    let why = r.record.steps[1].failure.as_deref().unwrap();
    assert!(why.contains("arrived 130 ms after the command, after its 100 ms window"), "{why}");
}

#[test]
fn a_urc_from_before_the_command_is_not_claimed() {
    let golden = tempfile::tempdir().unwrap();
    let suite = "suite: t\ncases:\n  - id: u\n    spec: BC39 §4.7\n    steps:\n      - send: AT\n      - wait: 50ms\n      - send: AT\n      - urc: \"+MIPLEVENT: 0,15\"\n        window: 200ms\n";
    let p = plan(VIRTUAL_BC39, suite, golden.path());
    let mut t = scripted(vec![
        Script::Answer(vec![(5, b"\r\nOK\r\n"), (6, b"\r\n+MIPLEVENT: 0,15\r\n")]),
        Script::Answer(vec![(5, b"\r\nOK\r\n")]),
    ]);
    let r = p.run_one(&mut t, &p.suites[0], &p.suites[0].cases[0]);
    let why = r.record.steps[3].failure.as_deref().unwrap();
    assert!(why.contains("unclaimed lines: `+MIPLEVENT: 0,15`"), "{why}");
}

#[test]
fn an_answer_stamped_before_the_command_was_written_is_not_its_answer() {
    let golden = tempfile::tempdir().unwrap();
    let suite = "suite: t\ncases:\n  - id: c\n    spec: 3GPP TS 27.007\n    steps:\n      - send: AT\n      - send: AT+NOPE\n        final: ERROR\n";
    let p = plan(VIRTUAL_BC39, suite, golden.path());
    // A second OK that the reader had stamped (t = 4 ms) before the next command was written
    // (t = 5 ms), but that the engine only reads afterwards.
    let mut t = scripted(vec![
        Script::Answer(vec![(5, b"\r\nOK\r\n"), (4, b"\r\nOK\r\n")]),
        Script::Answer(vec![(3, b"\r\nERROR\r\n")]),
    ]);
    let r = p.run_one(&mut t, &p.suites[0], &p.suites[0].cases[0]);
    assert!(r.record.steps.iter().all(|s| s.failure.is_none()), "{:?}\n{}", r.record.steps, r.transcript_text());
    assert!(r.transcript_text().contains("stale"), "{}", r.transcript_text());
}

#[test]
fn a_case_using_a_secret_the_rig_lacks_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("s.yaml"),
        "suite: s\nsetup:\n  - send: AT+MIPLCONFIG=5,1,\"${secret.nope}\"\ncases:\n  - id: a\n    spec: BC39 §3.2.1\n    steps:\n      - send: AT\n",
    )
    .unwrap();
    let e =
        Plan::load(&root().join("rigs/emulator-bc39.toml"), dir.path(), dir.path(), Selection::default()).unwrap_err();
    let shown = e.to_string();
    assert!(shown.contains("s.yaml:5") && shown.contains("${secret.nope}") && shown.contains("[secrets]"), "{shown}");
}

#[test]
fn every_shipped_rig_parses() {
    // The serial example takes its secrets from the environment.
    std::env::set_var("MIPL_AUTH_CODE", "example-code");
    std::env::set_var("MIPL_PSK", "example-psk-0123");
    for entry in std::fs::read_dir(root().join("rigs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|x| x == "toml") {
            Rig::load(&path).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}

#[test]
fn without_a_platform_network_cases_are_skipped_not_refused() {
    let dir = tempfile::tempdir().unwrap();
    let rig = dir.path().join("r.toml");
    std::fs::write(&rig, "kind = \"emulator\"\ndialect = \"bc39\"\n[emulator]\nlink = \"virtual\"\n[secrets]\nauth_code = \"Quectel123\"\npsk = \"FhyvhmgIRQrde4In\"\n").unwrap();
    let p = Plan::load(&rig, &root().join("suites"), &root().join("golden"), Selection::default()).unwrap();
    let (s, c) = p.selected().find(|(s, _)| s.name == "register").unwrap();
    assert_eq!(p.skip_reason(s, c).as_deref(), Some("the rig has no [platform] for the network side"));
    let (s, c) = p.selected().find(|(s, _)| s.name == "config").unwrap();
    assert_eq!(p.skip_reason(s, c), None);
}

/// A case that sets the emulator's event codes (`emulator-events`) has no meaning on a bench
/// modem: skipped there, run on the emulator.
#[test]
fn a_case_with_emulator_events_runs_on_the_emulator_only() {
    let plan =
        |rig: &Path| Plan::load(rig, &root().join("suites"), &root().join("golden"), Selection::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let serial = dir.path().join("bench.toml");
    std::fs::write(
        &serial,
        "kind = \"serial\"\ndialect = \"m5310a\"\n[serial]\nport = \"/dev/ttyUSB9\"\n[platform]\nlisten = \"127.0.0.1:0\"\nadvertise = \"127.0.0.1\"\n[secrets]\nauth_code = \"cmiot1234\"\npsk = \"abcdefge\"\nserver_psk = \"cPYxj0cTs9qMVL72\"\n",
    )
    .unwrap();
    let case = "close-as-section-5-3-4-prints-it";
    let bench = plan(&serial);
    let (s, c) = bench.selected().find(|(_, c)| c.id == case).unwrap();
    let why = bench.skip_reason(s, c).unwrap();
    assert!(why.contains("for emulator rigs only"), "{why}");
    let emulator = plan(&root().join("rigs/virtual-m5310a.toml"));
    let (s, c) = emulator.selected().find(|(_, c)| c.id == case).unwrap();
    assert_eq!(emulator.skip_reason(s, c), None);
}
