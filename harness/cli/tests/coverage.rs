//! `miplcheck coverage` as a user meets it: on the repository's own suites and snapshots, and on
//! small folders made here to show what it says about odd evidence and bad paths.

mod common;
use common::{miplcheck, root};

use std::process::{Command, Output};

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// The verbose listing's row for an item: `    command  AT+MIPLVER?  BC39 §3.2.4  covered  …`.
fn row<'a>(out: &'a str, label: &str) -> &'a str {
    out.lines()
        .skip_while(|l| !l.starts_with("  every item:"))
        .find(|l| {
            let rest = l.trim_start().split_once(' ').map_or("", |(_, r)| r.trim_start());
            rest.strip_prefix(label).is_some_and(|r| r.starts_with(' '))
        })
        .unwrap_or_else(|| panic!("no row for {label}:\n{out}"))
}

#[test]
fn the_repositorys_bc39_snapshots_cover_the_commands_they_send() {
    let o = miplcheck(&["coverage", "--dialect", "bc39", "--verbose"]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.starts_with("bc39: commands "), "{stdout}");
    assert!(!stdout.contains("m5310a:"), "one dialect asked for");
    for (label, section, case) in [
        ("AT+MIPLCREATE", "BC39 §3.2.2", "config/create-instance"),
        ("AT+MIPLVER?", "BC39 §3.2.4", "config/sdk-version"),
        ("AT+MIPLCONFIG?", "BC39 §3.2.1", "config/config-defaults"),
        ("AT+MIPLOPEN=…", "BC39 §3.2.7", "register/update"),
        ("AT+MIPLUPDATE=…", "BC39 §3.2.16", "register/update"),
        ("+MIPLWRITE", "BC39 §4.4", "rwx/refusals-map-to-coap-codes"),
        ("6", "BC39 §4.7", "register/update"),
        ("10", "BC39 §4.7", "register/radio-off-stops-the-instance"),
        ("21", "BC39 §4.7", "rwx/answer-past-10s-goes-separately"),
        ("+CME ERROR: 50", "BC39 §6 table 3", "register/update"),
    ] {
        let r = row(&stdout, label);
        assert!(r.contains(section) && r.contains(" covered ") && r.contains(case), "{label}: {r}");
    }
    // Every event of §4.7 has a case now: none is left to tell apart as not produced.
    assert!(!stdout.contains("not produced by the emulator"), "{stdout}");
    // The refusal case sends a <result> the manual does not list, on purpose.
    assert!(stdout.contains("seen but not in the manual"), "{stdout}");
    assert!(stdout.contains("result   99") && stdout.contains("rwx/refusals-map-to-coap-codes"), "{stdout}");
}

#[test]
fn markdown_names_sections_and_json_parses_as_a_list_of_dialects() {
    let o = miplcheck(&["coverage", "--dialect", "bc39", "--format", "markdown"]);
    let (md, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stderr}");
    assert!(md.contains("| `AT+MIPLCREATE` | create a OneNET suite instance | BC39 §3.2.2 | covered |"), "{md}");
    assert!(md.contains("### Event codes"), "{md}");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("coverage.json");
    let o = miplcheck(&["coverage", "--dialect", "bc39", "--format", "json", "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{:?}", text(&o));
    assert!(o.stdout.is_empty(), "--out takes the report");
    let json = std::fs::read_to_string(out).unwrap();
    assert!(json.trim_start().starts_with('[') && json.contains("\"label\": \"AT+MIPLCREATE\""), "{json}");
}

/// A folder with one bc39 suite and the snapshots given.
fn fixture(snaps: &[(&str, &str)]) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(d.path().join("suites")).unwrap();
    std::fs::create_dir_all(d.path().join("golden/bc39")).unwrap();
    std::fs::write(
        d.path().join("suites/odd.yaml"),
        "\
suite: odd
dialects: [bc39]
cases:
  - id: event
    spec: BC39 §4.7
    steps:
      - send: AT+MIPLOPEN=0,600,60
",
    )
    .unwrap();
    for (name, body) in snaps {
        std::fs::write(d.path().join("golden/bc39").join(name), body).unwrap();
    }
    d
}

fn in_fixture(d: &tempfile::TempDir, args: &[&str]) -> Output {
    let suites = d.path().join("suites");
    let golden = d.path().join("golden");
    let mut all = vec!["coverage", "--suites", suites.to_str().unwrap(), "--golden", golden.to_str().unwrap()];
    all.extend_from_slice(args);
    miplcheck(&all)
}

/// A snapshot as `golden.rs` writes it, with an event code (99) no manual lists.
const ODD: &str = r"---
source: harness/runner/src/golden.rs
---
# odd/event — BC39 §4.7
── step 1: send AT+MIPLOPEN=0,600,60
TE→UE        AT+MIPLOPEN=0,600,60\r
UE→TE final  OK\r\n
UE→TE urc    \r\n+MIPLEVENT: 0,6\r\n
UE→TE urc    \r\n+MIPLEVENT: 0,99\r\n
";

#[test]
fn an_event_the_manual_does_not_list_is_reported_as_not_in_the_manual() {
    let d = fixture(&[("odd__event.snap", ODD)]);
    let o = in_fixture(&d, &["--dialect", "bc39"]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.lines().next().unwrap().ends_with("; 1 seen but not in the manual"), "{stdout}");
    let unlisted: Vec<&str> = stdout.lines().skip_while(|l| !l.contains("seen but not in the manual:")).collect();
    assert!(
        unlisted
            .iter()
            .any(|l| l.contains("event    99") && l.contains("not an event code") && l.contains("odd/event")),
        "{stdout}"
    );
    assert!(!unlisted.iter().any(|l| l.contains("event    6 ")), "event 6 is in the manual: {stdout}");
}

#[test]
fn require_complete_fails_while_goals_are_uncovered() {
    let d = fixture(&[("odd__event.snap", ODD)]);
    let o = in_fixture(&d, &["--dialect", "bc39", "--require-complete"]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("command  AT+MIPLCREATE") && stdout.contains("BC39 §3.2.2"), "{stdout}");
    assert!(stderr.contains("not complete"), "{stderr}");
}

#[test]
fn a_dialect_without_snapshots_is_said_in_words() {
    let d = fixture(&[]);
    let o = in_fixture(&d, &["--dialect", "m5310a"]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stderr.contains("no snapshots in") && stderr.contains("m5310a yet"), "{stderr}");
    assert!(stderr.contains("miplcheck run --rig rigs/emulator-m5310a.toml"), "{stderr}");
    assert!(stdout.starts_with("m5310a: commands 0/"), "{stdout}");
}

#[test]
fn bad_paths_exit_2_and_name_the_folder() {
    let d = fixture(&[]);
    let missing = d.path().join("missing");
    let o = miplcheck(&["coverage", "--golden", missing.to_str().unwrap()]);
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("missing") && stderr.contains("--golden"), "{stderr}");
    let o = in_fixture(&d, &["--out", d.path().join("no/such/dir/x.md").to_str().unwrap()]);
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--out"), "{stderr}");
    let o = miplcheck(&["coverage", "--suites", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{:?}", text(&o));
    assert!(text(&o).1.contains("--suites"), "{:?}", text(&o));
}

#[test]
fn a_run_writes_its_coverage_and_says_it_in_one_line() {
    let out = tempfile::tempdir().unwrap();
    let o = Command::new(env!("CARGO_BIN_EXE_miplcheck"))
        .args(["run", "--rig", "rigs/emulator-bc39.toml", "--suite", "config", "--out", out.path().to_str().unwrap()])
        .current_dir(root())
        .env("CI", "true") // no .snap.new files from this run
        .output()
        .unwrap();
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    let lines: Vec<&str> = stdout.lines().filter(|l| l.starts_with("coverage: ")).collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(lines[0].starts_with("coverage: bc39: commands "), "{stdout}");
    let md = std::fs::read_to_string(out.path().join("coverage.md")).unwrap();
    assert!(md.contains("| `AT+MIPLVER?` | OneNET SDK version | BC39 §3.2.4 | covered | config/sdk-version |"), "{md}");
    // The config suite never registers, so no request URC is covered by this run.
    assert!(md.contains("| `+MIPLREAD` | read request | BC39 §4.3 | uncovered | — |"), "{md}");
    assert!(std::fs::read_to_string(out.path().join("coverage.json")).unwrap().contains("\"dialect\": \"bc39\""));
}
