//! The latency gate of `miplcheck diff` on real runs (issue 14): the same emulator rig run twice
//! compares equal, whatever spikes the host's load put into either run, and the same rig with
//! `+MIPLCONFIG` answered 50 ms later fails the gate naming that command, and only that one.
//!
//! The diffs here take `--min-delta 25ms` rather than the default 5 ms. On a 2-core host busy
//! with other builds a whole run's answers can come a scheduler tick or several late (4–20 ms,
//! seen at load 13), and no statistic tells a host slower throughout a run from a slower
//! firmware: only the size of the shift does. The spikes (up to 60 ms, seen) are what the rule
//! itself must survive, and the old gate (p95 of 3 samples, the slowest) fails on them at any
//! floor below their size.

mod common;
use common::{miplcheck, root};

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The `basics` and `config` suites: some fifty cases, `AT+MIPLCONFIG` sent some eighty times.
const SUITES: [&str; 4] = ["--suite", "basics", "--suite", "config"];

struct Runs {
    dir: tempfile::TempDir,
    a: PathBuf,
    b: PathBuf,
    slow: PathBuf,
}

fn run(rig: &Path, out: &Path) {
    let mut args =
        vec!["run", "--rig", rig.to_str().unwrap(), "--status-level", "fail", "--out", out.to_str().unwrap()];
    args.extend_from_slice(&SUITES);
    let o = miplcheck(&args);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}: {}\n{}",
        rig.display(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(out.join("run.json").exists());
}

/// Two runs of the pty rig as it is, and one of a copy that answers `+MIPLCONFIG` 50 ms later.
fn runs() -> &'static Runs {
    static RUNS: OnceLock<Runs> = OnceLock::new();
    RUNS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let rig = root().join("rigs/emulator-bc39.toml");
        let text = std::fs::read_to_string(&rig).unwrap();
        assert!(text.contains("\n[emulator]\n") && !text.contains("\ndelays"), "the rig changed: {text}");
        let slowed = text.replace("\n[emulator]\n", "\n[emulator]\ndelays = { \"+MIPLCONFIG\" = \"50ms\" }\n");
        let slow_rig = dir.path().join("emulator-bc39-slow.toml");
        std::fs::write(&slow_rig, slowed).unwrap();
        let (a, b, slow) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("slow"));
        run(&rig, &a);
        run(&rig, &b);
        run(&slow_rig, &slow);
        Runs { dir, a, b, slow }
    })
}

fn diff(a: &Path, b: &Path, out: &Path) -> (Option<i32>, String) {
    let (a, b, out) = (a.to_str().unwrap(), b.to_str().unwrap(), out.to_str().unwrap());
    let o = miplcheck(&["diff", a, b, "--out", out, "--min-delta", "25ms"]);
    let text = format!("{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    (o.status.code(), text)
}

#[test]
fn the_same_rig_run_twice_compares_equal_both_ways() {
    let r = runs();
    for (x, y, name) in [(&r.a, &r.b, "a-b"), (&r.b, &r.a, "b-a")] {
        let out = r.dir.path().join(name);
        let (code, text) = diff(x, y, &out);
        assert_eq!(code, Some(0), "{text}");
        assert!(text.contains("latency: 0 regression(s) beyond 20% (and at least 25 ms)"), "{text}");
        // Most commands are sent a few times per run: judged on the bulk of their answers only.
        assert!(text.contains("; p95 not judged for "), "{text}");
        let md = std::fs::read_to_string(out.join("diff.md")).unwrap();
        assert!(md.contains("| p95 not judged: ") && md.contains(" samples, needs 20 |"), "{md}");
        assert!(md.contains("95% lower bound of the shift"), "{md}");
    }
}

#[test]
fn fifty_ms_more_on_one_command_fails_the_gate_naming_it() {
    let r = runs();
    let out = r.dir.path().join("a-slow");
    let (code, text) = diff(&r.a, &r.slow, &out);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("latency: 1 regression(s)"), "only AT+MIPLCONFIG was slowed: {text}");
    assert!(text.contains("Regression (exit status 1): AT+MIPLCONFIG is slower in B: median "), "{text}");
    // Eighty samples a side: the p95 is judged, and moved too.
    let line = text.lines().find(|l| l.starts_with("Regression")).unwrap();
    assert!(line.contains(", p95 ") && line.contains("with 95% confidence"), "{line}");
    let md = std::fs::read_to_string(out.join("diff.md")).unwrap();
    let latency = md.split("## Latency per command").nth(1).expect("a latency section");
    let row = latency.lines().find(|l| l.starts_with("| AT+MIPLCONFIG |")).expect("a row for AT+MIPLCONFIG");
    assert!(row.ends_with("| **regression** |"), "{row}");
    // Faster is never a regression.
    let (code, text) = diff(&r.slow, &r.a, &r.dir.path().join("slow-a"));
    assert_eq!(code, Some(0), "{text}");
}
