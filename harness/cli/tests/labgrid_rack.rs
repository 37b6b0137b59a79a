//! A rack of labgrid places, end to end against real labgrid on loopback: a coordinator, an
//! exporter whose ser2net serves two emulated BC39s' ptys, and `miplcheck run --rack` leasing
//! both places, running, and releasing them — after a run that ended, after one that was
//! interrupted, and with a third place that does not exist (that rig unhealthy, the others run).
//! Without labgrid each test says it skipped and passes, unless `MIPLCHECK_REQUIRE_LABGRID=1`.

mod common;

#[path = "../../runner/tests/support/labgrid_fixture.rs"]
mod labgrid_fixture;

use common::root;
use labgrid_fixture::{labgrid_or_skip, serial_group, Lab};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The emulator the pty rig runs (rigs/emulator-bc39.toml), so the goldens hold.
fn bc39_options() -> miplcheck_emulator::Options {
    let rig = miplcheck_runner::rig::Rig::load(&root().join("rigs/emulator-bc39.toml")).unwrap();
    match rig.target {
        miplcheck_runner::rig::Target::Emulator { options, .. } => options,
        other => panic!("{other:?}"),
    }
}

/// A rig for `place`: the pty rig's capabilities, secrets and platform, its reset the emulator's
/// `AT+CFUN=1,1`.
fn place_rig(dir: &Path, coordinator: &str, place: &str) -> PathBuf {
    let text = std::fs::read_to_string(root().join("rigs/emulator-bc39.toml")).unwrap();
    let shared = &text[text.find("[secrets]").unwrap()..];
    let rig = format!(
        "name = \"{place}\"\nkind = \"labgrid\"\ndialect = \"bc39\"\ncapabilities = [\"dtls\", \"rai\", \"sota\"]\n\n\
         [labgrid]\ncoordinator = \"{coordinator}\"\nplace = \"{place}\"\nreserve_wait = \"20s\"\n\n\
         [reset]\ncommand = \"AT+CFUN=1,1\"\n\n{shared}"
    );
    let path = dir.join(format!("{place}.toml"));
    std::fs::write(&path, rig).unwrap();
    path
}

fn lab_with_two_places() -> Lab {
    let mut lab = Lab::start();
    let a = lab.emulated_modem_with(bc39_options());
    let b = lab.emulated_modem_with(bc39_options());
    lab.export("shelf", &(serial_group("modem-a", &a) + &serial_group("modem-b", &b)));
    lab.create_place("bc39-a", &["shelf/modem-a/*"]);
    lab.create_place("bc39-b", &["shelf/modem-b/*"]);
    lab
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))).unwrap()
}

fn assert_free(lab: &Lab, places: &[&str]) {
    for p in places {
        assert_eq!(lab.holder(p), None, "{p} released");
    }
    let reservations = lab.reservations();
    assert!(!reservations.contains("allocated") && !reservations.contains("waiting"), "{reservations}");
}

#[test]
fn a_rack_of_two_places_runs_and_releases_them_and_a_missing_place_is_an_unhealthy_rig() {
    if !labgrid_or_skip("a_rack_of_two_places_runs_and_releases_them") {
        return;
    }
    let lab = lab_with_two_places();
    let dir = tempfile::tempdir().unwrap();
    for p in ["bc39-a", "bc39-b", "bc39-gone"] {
        place_rig(dir.path(), &lab.coordinator, p);
    }
    std::fs::write(
        dir.path().join("rack.toml"),
        "name = \"lab\"\nrigs = [\"bc39-a.toml\", \"bc39-b.toml\", \"bc39-gone.toml\"]\n",
    )
    .unwrap();
    let out = dir.path().join("out");
    let t0 = Instant::now();
    let o = Command::new(env!("CARGO_BIN_EXE_miplcheck"))
        .args(["run", "--rack", dir.path().join("rack.toml").to_str().unwrap(), "--suite", "config"])
        .args(["--suite", "basics", "--out", out.to_str().unwrap()])
        .current_dir(root())
        .env("CI", "true")
        .output()
        .unwrap();
    eprintln!("the rack took {:?}", t0.elapsed());
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(4), "one rig unhealthy: infrastructure\n{stderr}");
    for place in ["bc39-a", "bc39-b"] {
        let run = json(&out.join(place).join("run.json"));
        let s = &run["summary"];
        assert_eq!((s["failed"].as_u64(), s["errors"].as_u64()), (Some(0), None), "{place}: {s}");
        assert!(s["passed"].as_u64().unwrap() >= 40, "{place}: {s}");
        let target = run["rig"]["target"].as_str().unwrap();
        assert!(target.starts_with(&format!("labgrid place {place}: rfc2217 127.0.0.1:")), "{target}");
    }
    let gone = json(&out.join("bc39-gone").join("run.json"));
    assert_eq!(gone["health"]["state"], "unhealthy");
    let reason = gone["health"]["reason"].as_str().unwrap();
    assert!(reason.contains("place bc39-gone does not exist"), "{reason}");
    assert!(gone["cases"].as_array().unwrap().iter().all(|c| c["verdict"] == "error" || c["verdict"] == "skipped"));
    assert_free(&lab, &["bc39-a", "bc39-b"]);
}

#[test]
fn an_interrupted_run_releases_its_place() {
    if !labgrid_or_skip("an_interrupted_run_releases_its_place") {
        return;
    }
    use nix::sys::signal::{kill, Signal};
    use nix::unistd::Pid;
    let lab = lab_with_two_places();
    let dir = tempfile::tempdir().unwrap();
    let rig = place_rig(dir.path(), &lab.coordinator, "bc39-a");
    let out = dir.path().join("out");
    let mut child = Command::new(env!("CARGO_BIN_EXE_miplcheck"))
        .args(["run", "--rig", rig.to_str().unwrap(), "--suite", "config", "--out", out.to_str().unwrap()])
        .current_dir(root())
        .env("CI", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !std::fs::read_to_string(out.join("journal.jsonl")).is_ok_and(|j| j.contains("{\"case\"")) {
        assert!(t0.elapsed() < Duration::from_secs(120), "no case finished");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(lab.holder("bc39-a").is_some(), "held while it runs");
    kill(Pid::from_raw(child.id() as i32), Signal::SIGINT).unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));
    let run = json(&out.join("run.json"));
    assert!(run["incomplete"].as_str().unwrap().contains("SIGINT"), "{:?}", run["incomplete"]);
    assert_free(&lab, &["bc39-a"]);
}
