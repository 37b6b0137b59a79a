//! `miplcheck diff` as a user meets it: two real runs of the `basics` suite (one per emulator rig)
//! compared, a run compared with itself and with a slowed-down copy of itself, and a record of an
//! unknown schema.

mod common;
use common::miplcheck;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// One `basics` run per emulator rig, made once for all tests here.
fn runs() -> &'static (tempfile::TempDir, PathBuf, PathBuf) {
    static RUNS: OnceLock<(tempfile::TempDir, PathBuf, PathBuf)> = OnceLock::new();
    RUNS.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let run = |rig: &str, name: &str| {
            let out = dir.path().join(name);
            let o = miplcheck(&["run", "--rig", rig, "--suite", "basics", "--out", out.to_str().unwrap()]);
            let (stdout, stderr) = text(&o);
            assert_eq!(o.status.code(), Some(0), "{rig}: {stdout}\n{stderr}");
            assert!(out.join("run.json").exists());
            out
        };
        let a = run("rigs/emulator-bc39.toml", "bc39");
        let b = run("rigs/emulator-m5310a.toml", "m5310a");
        (dir, a, b)
    })
}

fn diff(a: &Path, b: &Path, out: &Path, extra: &[&str]) -> (Option<i32>, String, String) {
    let mut args = vec!["diff", a.to_str().unwrap(), b.to_str().unwrap(), "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = miplcheck(&args);
    let (stdout, stderr) = text(&o);
    (o.status.code(), stdout, stderr)
}

/// Multiplies every `"latency_ms": <n>` in a run record's text by `factor`.
fn slowed(json: &str, factor: f64) -> String {
    let key = "\"latency_ms\":";
    let mut out = String::new();
    let mut rest = json;
    while let Some(i) = rest.find(key) {
        let (head, tail) = rest.split_at(i + key.len());
        out.push_str(head);
        let spaces = tail.len() - tail.trim_start().len();
        out.push_str(&tail[..spaces]);
        let tail = &tail[spaces..];
        let end = tail.find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-' || c == 'e')).unwrap_or(tail.len());
        match tail[..end].parse::<f64>() {
            Ok(v) => out.push_str(&format!("{}", v * factor + 10.0)),
            Err(_) => out.push_str(&tail[..end]),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[test]
fn bc39_against_m5310a_names_the_manuals_differences() {
    let (dir, a, b) = runs();
    let out = dir.path().join("vendor");
    // A generous threshold: sub-millisecond latencies of two emulators are not what this checks.
    let (code, stdout, stderr) = diff(a, b, &out, &["--threshold", "10s"]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("cases: 14 compared"), "{stdout}");
    assert!(stdout.contains("diff.md") && stdout.contains("diff.html"), "{stdout}");
    let md = std::fs::read_to_string(out.join("diff.md")).unwrap();
    // DISCOVERRSP: answered per request on BC39, declared per object on M5310-A.
    assert!(md.contains("### AT+MIPLDISCOVERRSP"), "{md}");
    assert!(md.contains("`<msgId>` on BC39 where M5310-A has `<objid>`"), "{md}");
    assert!(md.contains("BC39 answers each request") && md.contains("M5310-A declares per object"), "{md}");
    // RAI: a parameter on BC39, flag bits on M5310-A.
    assert!(md.contains("RAI on AT+MIPLNOTIFY: BC39 asks for it with a `<raiMode>` parameter"), "{md}");
    // Error family.
    assert!(md.contains("Error family: BC39 answers `+CME ERROR: <n>` (BC39 §6 table 3), M5310-A answers `+CIS ERROR: <n>` (M5310-A §3.1)"), "{md}");
    // Event codes: the same deregistration code, and a code that means different things.
    assert!(md.contains("| 15 | deregistered (BC39 §4.7) | deregistered (M5310-A §4.2) |"), "{md}");
    assert!(md.contains("| 10 | stopped (BC39 §4.7) | lifetime update succeeded"), "{md}");
    assert!(md.contains("same code, different meaning"), "{md}");
    // Commands of one side only.
    assert!(md.contains("**AT+QSOTAINFO**: only BC39 has AT+QSOTAINFO"), "{md}");
    // The cases both ran, aligned: the firmware revisions differ.
    assert!(md.contains("### basics/revision"), "{md}");
    let html = std::fs::read_to_string(out.join("diff.html")).unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && !html.contains("https://"), "self-contained");
}

#[test]
fn a_run_against_itself_is_equal_and_exits_0() {
    let (dir, a, _) = runs();
    let out = dir.path().join("same");
    let (code, stdout, stderr) = diff(a, &a.join("run.json"), &out, &[]);
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("15 compared, 0 differ, 0 verdict regression(s)"), "{stdout}");
    assert!(stdout.contains("commands: 0 of"), "{stdout}");
    assert!(stdout.contains("latency: 0 regression(s) beyond 20%"), "{stdout}");
    let md = std::fs::read_to_string(out.join("diff.md")).unwrap();
    assert!(md.contains("Every case that ran in both runs has the same transcript"), "{md}");
}

#[test]
fn a_slower_b_exits_1_and_the_threshold_decides() {
    let (dir, a, _) = runs();
    let json = std::fs::read_to_string(a.join("run.json")).unwrap();
    let b = dir.path().join("slow");
    std::fs::create_dir_all(&b).unwrap();
    std::fs::write(b.join("run.json"), slowed(&json, 3.0)).unwrap();
    let out = dir.path().join("slow-diff");
    let (code, stdout, stderr) = diff(a, &b, &out, &[]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("Regression (exit status 1): AT") && stdout.contains(" is slower in B: median "),
        "{stdout}"
    );
    let md = std::fs::read_to_string(out.join("diff.md")).unwrap();
    assert!(md.contains("**regression**"), "{md}");
    // The same slowdown within an absolute threshold passes; too few samples are not judged.
    let (code, _, stderr) = diff(a, &b, &out, &["--threshold", "1h"]);
    assert_eq!(code, Some(2), "a threshold is a percentage or a time in ms or s: {stderr}");
    let (code, stdout, _) = diff(a, &b, &out, &["--threshold", "60000ms"]);
    assert_eq!(code, Some(0), "{stdout}");
    let (code, stdout, _) = diff(a, &b, &out, &["--min-samples", "1000"]);
    assert_eq!(code, Some(0), "{stdout}");
}

#[test]
fn an_unknown_schema_exits_2_naming_the_file() {
    let (dir, a, _) = runs();
    let bad = dir.path().join("future");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("run.json"), r#"{"schema":"miplcheck-run/9","cases":[]}"#).unwrap();
    let (code, stdout, stderr) = diff(a, &bad, &dir.path().join("x"), &[]);
    assert_eq!(code, Some(2), "{stdout}\n{stderr}");
    let file = bad.join("run.json");
    assert!(
        stderr.contains(&format!("error: {}: field `RUN_B`: schema \"miplcheck-run/9\"", file.display())),
        "{stderr}"
    );
    let (code, _, stderr) = diff(&dir.path().join("nowhere"), a, &dir.path().join("x"), &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("nowhere") && stderr.contains("cannot read"), "{stderr}");
}
