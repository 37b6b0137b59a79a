//! Progress on a terminal, plain lines in a log: the same run seen both ways.

mod common;
use common::root;

use std::process::Command;

#[test]
fn a_log_gets_plain_lines_only() {
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_miplcheck"))
        .args(["run", "--rig", "rigs/emulator-bc39.toml", "--suite", "basics", "--out"])
        .arg(out.path())
        .current_dir(root())
        .env("CI", "true")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("PASS basics/attention"), "{text}");
    assert!(!text.contains('\u{1b}') && !text.contains("cases,"), "no bars or escapes in a log: {text}");
}

/// util-linux `script` gives the run a pseudo-terminal, as a person at a bench has.
#[test]
fn a_terminal_gets_bars_for_the_rig_and_the_case_being_run() {
    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: util-linux `script` is not installed");
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let cmd = format!(
        "{} run --rig rigs/emulator-bc39.toml --suite basics --out {}",
        env!("CARGO_BIN_EXE_miplcheck"),
        out.path().display()
    );
    let o = Command::new("script")
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .current_dir(root())
        .env("CI", "true")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("emulator-bc39 (bc39)") && text.contains("/16 cases"), "{text}");
    assert!(text.contains("suite basics: "), "the case being run: {text}");
    assert!(text.contains("PASS basics/attention") && text.contains("15 passed, 0 failed"), "{text}");
}
