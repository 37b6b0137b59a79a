//! A run that is stopped keeps its evidence: real SIGINT, SIGTERM and SIGKILL sent to the real
//! binary mid-run. The first SIGINT/SIGTERM lets the step in progress finish, records that case
//! as interrupted and writes every report for what finished, marked incomplete (exit 130/143); a
//! second signal ends the run at once; after SIGKILL, `miplcheck report` rebuilds the reports from
//! the journal.

mod common;
use common::root;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Two quick cases around one that waits: the signal is sent while the middle one waits.
fn suite(wait: &str) -> String {
    format!(
        "suite: slow\ndialects: [bc39]\ncases:\n  - id: first\n    spec: 3GPP TS 27.007\n    steps:\n      - send: AT\n  \
         - id: waits\n    spec: 3GPP TS 27.007\n    steps:\n      - wait: {wait}\n      - send: AT\n  \
         - id: never-runs\n    spec: 3GPP TS 27.007\n    steps:\n      - send: AT\n"
    )
}

struct Run {
    child: Child,
    lines: mpsc::Receiver<String>,
    out: PathBuf,
    _dirs: tempfile::TempDir,
}

fn start(wait: &str) -> Run {
    start_on(wait, &["rigs/emulator-bc39.toml"])
}

/// The slow suite on these rigs: one, or a rack of them.
fn start_on(wait: &str, rigs: &[&str]) -> Run {
    let dirs = tempfile::tempdir().unwrap();
    let suites = dirs.path().join("suites");
    std::fs::create_dir_all(&suites).unwrap();
    std::fs::write(suites.join("slow.yaml"), suite(wait)).unwrap();
    let golden = dirs.path().join("golden");
    std::fs::create_dir_all(&golden).unwrap();
    let out = dirs.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_miplcheck"))
        .arg("run")
        .args(rigs.iter().flat_map(|r| ["--rig", r]))
        .arg("--suites")
        .arg(&suites)
        .arg("--golden")
        .arg(&golden)
        .arg("--out")
        .arg(&out)
        .current_dir(root())
        .env("CI", "true")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    Run { child, lines, out, _dirs: dirs }
}

impl Run {
    /// Waits (generously: the machine may be loaded) for the first case to finish, then long
    /// enough for the next to be inside its wait step (it starts within milliseconds).
    fn during_the_second_case(&self) {
        loop {
            let line = self.lines.recv_timeout(Duration::from_secs(120)).expect("the first case finishes");
            if line.contains("slow/first") {
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(1500));
    }

    fn signal(&self, s: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), s).unwrap();
    }

    fn wait(mut self) -> (std::process::ExitStatus, PathBuf, tempfile::TempDir) {
        let status = self.child.wait().unwrap();
        (status, self.out, self._dirs)
    }
}

fn record(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap()
}

fn case_ids(r: &serde_json::Value) -> Vec<String> {
    r["cases"].as_array().unwrap().iter().map(|c| c["case"].as_str().unwrap().to_string()).collect()
}

#[test]
fn sigint_stops_after_the_step_and_writes_every_report_marked_incomplete() {
    let run = start("5s");
    run.during_the_second_case();
    run.signal(Signal::SIGINT);
    let (status, out, _dirs) = run.wait();
    assert_eq!(status.code(), Some(130));
    let r = record(&out);
    assert_eq!(case_ids(&r), ["first", "waits"], "the case in progress is recorded; the next never starts");
    let waits = &r["cases"][1];
    assert_eq!(waits["failed_at"], "interrupted");
    assert!(waits["reason"].as_str().unwrap().contains("SIGINT"), "{waits}");
    assert_eq!(waits["steps"].as_array().unwrap().len(), 1, "the wait finished; the send never started");
    assert!(r["incomplete"].as_str().unwrap().contains("interrupted by SIGINT (Ctrl-C) after 2 of 3 cases"));
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("name=\"incomplete\"") && junit.contains("waits"), "{junit}");
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("Incomplete run"));
    assert!(!out.join(".miplcheck.lock").exists(), "the folder is released");
}

#[test]
fn sigint_stops_every_rig_of_a_rack_and_the_rack_reports_say_so() {
    let run = start_on("5s", &["rigs/emulator-bc39.toml", "rigs/rack/bc39-b.toml"]);
    run.during_the_second_case();
    run.signal(Signal::SIGINT);
    let (status, out, _dirs) = run.wait();
    assert_eq!(status.code(), Some(130));
    let rack: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("rack.json")).unwrap()).unwrap();
    let why = rack["incomplete"].as_str().unwrap();
    assert!(why.contains("emulator-bc39: interrupted by SIGINT") && why.contains("bc39-b: interrupted"), "{why}");
    for rig in ["emulator-bc39", "bc39-b"] {
        let r = record(&out.join(rig));
        assert!(r["incomplete"].as_str().unwrap().contains("SIGINT"), "{rig}: {r}");
        assert!(!case_ids(&r).contains(&"never-runs".to_string()), "{rig}");
    }
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains("<testsuite name=\"bc39-b\"") && junit.contains("name=\"incomplete\""), "{junit}");
    assert!(std::fs::read_to_string(out.join("rack.html")).unwrap().contains("bc39-b"));
}

#[test]
fn sigterm_exits_143_with_its_reports() {
    let run = start("5s");
    run.during_the_second_case();
    run.signal(Signal::SIGTERM);
    let (status, out, _dirs) = run.wait();
    assert_eq!(status.code(), Some(143));
    assert!(record(&out)["incomplete"].as_str().unwrap().contains("SIGTERM"));
}

/// After a second signal (or SIGKILL) nothing more is written; the journal has what finished.
fn rebuilt_from_the_journal(out: &Path) {
    assert!(!out.join("run.json").exists(), "the run did not get to write its record");
    let o = Command::new(env!("CARGO_BIN_EXE_miplcheck")).arg("report").arg(out).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let r = record(out);
    assert_eq!(case_ids(&r), ["first"]);
    assert!(r["incomplete"].as_str().unwrap().contains("rebuilt from its journal"), "{r}");
    for f in ["junit.xml", "report.html", "coverage.md", "coverage.json"] {
        assert!(out.join(f).exists(), "{f} rebuilt");
    }
}

#[test]
fn a_second_sigint_stops_at_once_and_the_journal_keeps_what_finished() {
    let run = start("60s");
    run.during_the_second_case();
    run.signal(Signal::SIGINT);
    std::thread::sleep(Duration::from_millis(300));
    run.signal(Signal::SIGINT);
    let started = std::time::Instant::now();
    let (status, out, _dirs) = run.wait();
    assert_eq!(status.code(), Some(130));
    assert!(started.elapsed() < Duration::from_secs(45), "it did not wait out the 60 s step");
    rebuilt_from_the_journal(&out);
}

#[test]
fn after_sigkill_report_rebuilds_every_report_from_the_journal() {
    let run = start("60s");
    run.during_the_second_case();
    run.signal(Signal::SIGKILL);
    let (status, out, _dirs) = run.wait();
    assert_eq!(status.code(), None, "killed");
    rebuilt_from_the_journal(&out);
}
