//! A rack of rigs in one run, as a qualification engineer drives it: the shipped demo rack of eight
//! emulated modems (rigs/rack/), with a dead serial server, a modem that wedges half-way, a flaky
//! command and a quarantined quirked firmware; and the options rack users type.

mod common;
use common::miplcheck;

use miplcheck_record::{HealthState, RackRecord, RunRecord, Verdict};
use std::process::Output;

/// `miplcheck run ARGS --out OUT`.
fn run_into(out: &std::path::Path, args: &[&str]) -> Output {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.extend(["--out", out.to_str().unwrap()]);
    miplcheck(&all)
}

fn text(o: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn the_demo_rack_runs_every_rig_and_says_infrastructure() {
    let out = tempfile::tempdir().unwrap();
    let o =
        run_into(out.path(), &["--rack", "rigs/rack/nightly.toml", "--suite", "config", "--suite", "m5310a-device"]);
    let said = text(&o);
    assert_eq!(o.status.code(), Some(4), "the dead rigs make it an infrastructure run: {said}");

    let rack = RackRecord::load(out.path()).unwrap();
    assert_eq!(rack.rigs.len(), 8, "{said}");
    assert_eq!(rack.summary.failed, 0, "{said}");
    let rig = |name: &str| rack.rigs.iter().find(|r| r.name == name).unwrap_or_else(|| panic!("no rig {name}"));

    // A serial server that is not there: given up on before its first case, at once.
    let dead = rig("dead-tcp");
    assert_eq!(dead.health.state, HealthState::Unhealthy);
    assert!(dead.health.checks[0].duration_ms < 10_000.0, "{:?}", dead.health);
    assert!(dead.cases.iter().all(|c| matches!(c.verdict, Verdict::Error | Verdict::Skipped)), "{:?}", dead.summary);
    assert!(dead.summary.passed == 0 && dead.summary.errors > 0);

    // A modem that wedges half-way: its first cases pass, then it is given up on.
    let wedged = rig("bc39-wedged");
    assert_eq!(wedged.health.state, HealthState::Unhealthy, "{:?}", wedged.health);
    assert!(wedged.summary.passed > 5 && wedged.summary.errors > 5, "{:?}", wedged.summary);
    let not_run = wedged.cases.iter().filter(|c| c.reason.as_deref().is_some_and(|r| r.contains("rig unhealthy")));
    assert!(not_run.count() > 5);
    // Cases it would skip anyway stay skips.
    assert!(wedged.cases.iter().any(|c| c.name.starts_with("m5310a-device/") && c.verdict == Verdict::Skipped));

    // The others are good.
    for name in ["emulator-bc39", "emulator-m5310a", "bc39-b", "bc39-flaky", "m5310a-tolerant", "m5310a-loose-firmware"]
    {
        let r = rig(name);
        assert_eq!(r.health.state, HealthState::Good, "{name}: {:?}", r.health);
        assert_eq!((r.summary.failed, r.summary.errors), (0, 0), "{name}: {:?}", r.summary);
    }

    // A command that fails once: the case is flaky, both attempts kept.
    let flaky = rig("bc39-flaky").cases.iter().find(|c| c.name == "config/sdk-version").unwrap();
    assert!(flaky.flaky && flaky.attempts == 2 && flaky.verdict == Verdict::Passed, "{flaky:?}");
    let run = RunRecord::load(&out.path().join("bc39-flaky")).unwrap();
    let case = run.cases.iter().find(|c| c.case == "sdk-version").unwrap();
    assert_eq!(case.attempts.len(), 1);
    assert!(case.attempts[0].transcript.iter().any(|l| l.text.contains("ERROR")), "{:?}", case.attempts[0]);
    let first =
        std::fs::read_to_string(out.path().join("bc39-flaky/transcripts/config/sdk-version.attempt1.txt")).unwrap();
    assert!(first.contains("FAILED at step 1") && first.contains("ERROR"), "{first}");
    assert!(said.contains("[bc39-flaky] FLAKY config/sdk-version"), "{said}");

    // The quirked firmware's failures are quarantined: counted, reasoned, not failing the run.
    let loose = rig("m5310a-loose-firmware");
    assert!(loose.summary.quarantined > 0, "{:?}", loose.summary);
    assert!(loose.cases.iter().any(|c| c.quarantine.as_deref().is_some_and(|q| q.starts_with("QUIRK-17"))));

    // The rack's JUnit: a testsuite per rig, the rig in every class, errors apart from failures.
    let junit = std::fs::read_to_string(out.path().join("junit.xml")).unwrap();
    for r in &rack.rigs {
        assert!(junit.contains(&format!("<testsuite name=\"{}\"", r.name)), "{}", r.name);
    }
    assert!(junit.contains("classname=\"bc39-flaky.config\"") && junit.contains("<flakyFailure"));
    assert!(junit.contains("type=\"not-run\"") && junit.contains("type=\"quarantined\""));
    assert!(junit.contains("<property name=\"health\" value=\"unhealthy\"/>"));
    assert!(!junit.contains("failures=\"1"), "no firmware failure: {junit}");

    // The page: every rig, each linking into its own report.
    let page = std::fs::read_to_string(out.path().join("rack.html")).unwrap();
    for r in &rack.rigs {
        assert!(page.contains(&r.name) && out.path().join(&r.folder).join("report.html").is_file(), "{}", r.name);
    }
    assert!(page.contains("./bc39-flaky/report.html"));
}

#[test]
fn list_shows_each_rigs_plan_without_touching_a_modem() {
    let out = tempfile::tempdir().unwrap();
    let o = miplcheck(&["run", "--rack", "rigs/rack/nightly.toml", "--list", "--suite", "config", "--out"]);
    assert_eq!(o.status.code(), Some(2), "--out needs a value: {}", text(&o));
    let o = miplcheck(&[
        "run",
        "--rack",
        "rigs/rack/nightly.toml",
        "--list",
        "--suite",
        "config",
        "--exclude",
        "config/mode*",
        "--out",
        out.path().join("never").to_str().unwrap(),
    ]);
    let said = text(&o);
    assert_eq!(o.status.code(), Some(0), "{said}");
    assert!(said.contains("rig dead-tcp (bc39,") && said.contains("rig emulator-m5310a (m5310a,"), "{said}");
    assert!(said.contains("  run  config/sdk-version") && !said.contains("config/mode0"), "{said}");
    assert!(said.contains("  skip config/sdk-version: for bc39 only"), "{said}");
    assert!(!out.path().join("never").exists(), "a plan writes nothing");
    // A glob in quotes is expanded by miplcheck, sorted.
    let o = miplcheck(&["run", "--rig", "rigs/rack/bc39-*.toml", "--list", "--suite", "config"]);
    let said = text(&o);
    let rigs: Vec<&str> = said.lines().filter(|l| l.starts_with("rig ")).collect();
    assert_eq!(rigs.len(), 3, "{said}");
    assert!(rigs[0].starts_with("rig bc39-b ") && rigs[2].starts_with("rig bc39-wedged "), "{said}");
}

#[test]
fn max_fail_stops_starting_cases_and_says_so() {
    let out = tempfile::tempdir().unwrap();
    let o = run_into(
        out.path(),
        &["--rig", "rigs/quirks/m5310a-loose-firmware.toml", "--suite", "m5310a-device", "--max-fail", "1"],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let run = RunRecord::load(out.path()).unwrap();
    assert!(run.incomplete.as_deref().is_some_and(|w| w.contains("--max-fail 1")), "{:?}", run.incomplete);
    assert_eq!(run.summary.failed, 1, "{:?}", run.summary);
    let not_run = run.cases.iter().filter(|c| c.reason.as_deref().is_some_and(|r| r.starts_with("not run:")));
    assert!(not_run.count() > 0);
}

#[test]
fn retrying_only_infrastructure_leaves_a_firmware_failure_failed() {
    let out = tempfile::tempdir().unwrap();
    let o = run_into(
        out.path(),
        &[
            "--rig",
            "rigs/rack/bc39-flaky.toml",
            "--case",
            "config/sdk-version",
            "--retries",
            "2",
            "--retry-on",
            "infrastructure",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let run = RunRecord::load(out.path()).unwrap();
    assert_eq!((run.cases[0].verdict, run.cases[0].attempts.len()), (Verdict::Failed, 0));
    // Retried on any failure, the same case is flaky and the run passes.
    let o =
        run_into(out.path(), &["--rig", "rigs/rack/bc39-flaky.toml", "--case", "config/sdk-version", "--retries", "1"]);
    let said = text(&o);
    assert_eq!(o.status.code(), Some(0), "{said}");
    assert!(said.contains("FLAKY config/sdk-version") && said.contains("(1 flaky)"), "{said}");
}

#[test]
fn status_level_pass_hides_skip_lines_but_counts_them() {
    let out = tempfile::tempdir().unwrap();
    let o = run_into(
        out.path(),
        &[
            "--rig",
            "rigs/emulator-m5310a.toml",
            "--suite",
            "config",
            "--suite",
            "m5310a-device",
            "--status-level",
            "pass",
        ],
    );
    let said = text(&o);
    assert_eq!(o.status.code(), Some(0), "{said}");
    assert!(!said.contains("SKIP ") && said.contains("PASS m5310a-device/"), "{said}");
    assert!(said.contains("36 skipped (not shown; --status-level skip shows them)"), "{said}");
}

#[test]
fn two_rigs_with_one_name_and_a_bad_rack_file_are_bad_input() {
    let o = miplcheck(&["run", "--rig", "rigs/emulator-bc39.toml", "--rig", "rigs/emulator-bc39.toml", "--list"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("rig name \"emulator-bc39\" is also"), "{}", text(&o));
    let dir = tempfile::tempdir().unwrap();
    let rack = dir.path().join("r.toml");
    std::fs::write(&rack, "name = \"x\"\nrigs = [\"*.nothing\"]\n").unwrap();
    let o = miplcheck(&["run", "--rack", rack.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("r.toml:2: field `rigs[0]`: no rig file matches"), "{}", text(&o));
}

#[test]
fn run_help_gives_examples_and_the_exit_statuses() {
    let o = miplcheck(&["run", "--help"]);
    let said = text(&o);
    assert_eq!(o.status.code(), Some(0));
    for want in ["--rack <FILE>", "--jobs <N>", "--retries <N>", "--quarantine <FILE>", "--max-fail <N>", "--list"] {
        assert!(said.contains(want), "{want}: {said}");
    }
    assert!(said.contains("Examples:") && said.contains("rigs/rack/nightly.toml"), "{said}");
    assert!(said.contains("4  infrastructure") && said.contains("130, 143"), "{said}");
}
