//! A bench rig behind a real serial server, rehearsed with the emulator as a new user would: the
//! emulator on a pty (`miplcheck emulate --rig … --pty`, a process of its own), Debian's ser2net
//! in front of it (RFC 2217 and raw TCP accepters), and a rig of `kind = "rfc2217"` or
//! `kind = "tcp"` reaching it. Its verdicts must be those of the pty rig, against the same
//! golden snapshots; killing ser2net mid-run costs the case in flight and no more.
//!
//! Skipped when ser2net is not installed, unless `MIPLCHECK_REQUIRE_SER2NET=1` (CI).

mod common;

use common::{miplcheck, root};
use miplcheck_transport::ser2net_fixture::{self, Accepter, Ser2net};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn have_ser2net() -> bool {
    if ser2net_fixture::available() {
        return true;
    }
    assert!(!ser2net_fixture::required(), "MIPLCHECK_REQUIRE_SER2NET=1 but ser2net is not installed");
    eprintln!("skipped: ser2net is not installed (apt-get install ser2net)");
    false
}

/// `miplcheck emulate --rig rigs/emulator-bc39.toml --pty`, killed (by its PID) when dropped.
struct Emulator {
    child: Child,
    pty: PathBuf,
}

impl Emulator {
    fn start() -> Emulator {
        let mut child = Command::new(env!("CARGO_BIN_EXE_miplcheck"))
            .args(["emulate", "--rig", "rigs/emulator-bc39.toml", "--pty"])
            .current_dir(root())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
        let pty = PathBuf::from(line.trim());
        assert!(pty.starts_with("/dev/pts"), "emulate printed {line:?}");
        Emulator { child, pty }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The pty rig's file with its target swapped for a serial server at `address`: the same
/// capabilities, secrets and platform, and the BC39's own reset command with its ready line as
/// the bench reset (`AT+QRST=1` until `RDY`, as `rigs/serial-bc39.example.toml` has it), since
/// nothing else can reset a modem behind a serial server.
fn rig_behind(dir: &Path, name: &str, target: &str) -> PathBuf {
    let restart = &miplcheck_at::dialect::BC39.restart;
    let text = std::fs::read_to_string(root().join("rigs/emulator-bc39.toml")).unwrap();
    let start = text.find("[emulator]").unwrap();
    let end = text.find("[secrets]").unwrap();
    let text = format!(
        "{}{target}\n[reset]\ncommand = \"{}\"\nready = \"{}\"\n\n{}",
        text[..start]
            .replace("kind = \"emulator\"", "")
            .replace("name = \"emulator-bc39\"", &format!("name = \"{name}\"")),
        restart.command,
        restart.ready(),
        &text[end..]
    );
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).unwrap();
    path
}

fn rfc2217_rig(dir: &Path, address: &str) -> PathBuf {
    rig_behind(
        dir,
        "bc39-rfc2217",
        &format!(
            "kind = \"rfc2217\"\n\n[rfc2217]\naddress = \"{address}\"\nign_set_control = true\n\n[serial]\nbaud = 115200\n"
        ),
    )
}

fn run_json(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap()
}

/// Each case's `suite/case` and verdict, in order.
fn verdicts(run: &Value) -> Vec<(String, String)> {
    run["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                format!("{}/{}", c["suite"].as_str().unwrap(), c["case"].as_str().unwrap()),
                c["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn run(rig: &Path, out: &Path) -> (i32, Value) {
    let o = miplcheck(&[
        "run",
        "--rig",
        rig.to_str().unwrap(),
        "--suite",
        "basics",
        "--suite",
        "config",
        "--out",
        out.to_str().unwrap(),
    ]);
    let status = o.status.code().unwrap_or(-1);
    assert!(out.join("run.json").is_file(), "no run.json; stderr:\n{}", String::from_utf8_lossy(&o.stderr));
    (status, run_json(out))
}

#[test]
fn basics_and_config_over_rfc2217_and_raw_tcp_give_the_pty_rigs_verdicts() {
    if !have_ser2net() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (status, pty_run) = run(&root().join("rigs/emulator-bc39.toml"), &dir.path().join("pty"));
    assert_eq!(status, 0, "the pty rig passes");
    let want = verdicts(&pty_run);
    assert!(want.len() >= 40, "{want:?}");

    for (accepter, label) in [(Accepter::Rfc2217, "rfc2217"), (Accepter::Raw, "tcp")] {
        let emulator = Emulator::start();
        let server = Ser2net::start(&emulator.pty, accepter).unwrap();
        let rig = match accepter {
            Accepter::Rfc2217 => rfc2217_rig(dir.path(), &server.address()),
            Accepter::Raw => rig_behind(
                dir.path(),
                "bc39-tcp",
                &format!("kind = \"tcp\"\n\n[tcp]\naddress = \"{}\"\n", server.address()),
            ),
        };
        let out = dir.path().join(label);
        let (status, got) = run(&rig, &out);
        assert_eq!(verdicts(&got), want, "{label}: the same cases with the same verdicts");
        assert_eq!(status, 0, "{label}: {:?}", got["summary"]);
        assert!(got["rig"]["target"].as_str().unwrap().starts_with(label), "{:?}", got["rig"]["target"]);
        // Nothing was left for review: every snapshot matched the pty rig's goldens.
        assert!(!out.join("snapshots").exists(), "{label}: snapshots differ from the goldens");
    }
}

#[test]
fn a_baud_set_through_rfc2217_is_the_ptys_baud() {
    if !have_ser2net() {
        return;
    }
    use nix::sys::termios::{cfgetospeed, tcgetattr, BaudRate};
    let emulator = Emulator::start();
    let server = Ser2net::start(&emulator.pty, Accepter::Rfc2217).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rig = rfc2217_rig(dir.path(), &server.address());
    let text = std::fs::read_to_string(&rig).unwrap().replace("baud = 115200", "baud = 9600");
    std::fs::write(&rig, text).unwrap();
    // While the rig's link is open, ser2net holds the pty at the rig's baud (it puts the pty's
    // settings back when the client goes).
    let rig = miplcheck_runner::rig::Rig::load(&rig).unwrap();
    let mut target = miplcheck_runner::target::open(&rig).unwrap();
    target.prepare().unwrap();
    assert!(target.describe().contains("@9600 8N1"), "{}", target.describe());
    let tty = std::fs::File::open(&emulator.pty).unwrap();
    let speed = cfgetospeed(&tcgetattr(&tty).unwrap());
    assert_eq!(speed, BaudRate::B9600);
}

/// Cases finished so far, from the run's journal.
fn finished(out: &Path) -> usize {
    std::fs::read_to_string(out.join("journal.jsonl"))
        .map(|j| j.lines().filter(|l| l.starts_with("{\"case\"")).count())
        .unwrap_or(0)
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let t0 = Instant::now();
    while !done() {
        assert!(t0.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `miplcheck run --suite config` on the rig, in the background, once it has finished five cases.
fn config_run_after_five_cases(rig: &Path, out: &Path) -> Child {
    let child = Command::new(env!("CARGO_BIN_EXE_miplcheck"))
        .args(["run", "--rig", rig.to_str().unwrap(), "--suite", "config", "--out", out.to_str().unwrap()])
        .current_dir(root())
        .env("CI", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for("five cases", Duration::from_secs(120), || finished(out) >= 5);
    child
}

#[test]
fn a_serial_server_killed_mid_run_costs_the_case_in_flight_and_the_health_check_takes_over() {
    if !have_ser2net() {
        return;
    }
    let emulator = Emulator::start();
    let mut server = Ser2net::start(&emulator.pty, Accepter::Rfc2217).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let rig = rfc2217_rig(dir.path(), &server.address());
    let out = dir.path().join("run");
    let mut child = config_run_after_five_cases(&rig, &out);
    server.kill();
    let t0 = Instant::now();
    let status = child.wait().unwrap();
    let took = t0.elapsed();
    let got = run_json(&out);
    let cases = got["cases"].as_array().unwrap();
    let by = |v: &str| cases.iter().filter(|c| c["verdict"] == v).count();
    assert_eq!(status.code(), Some(4), "an infrastructure error, not a firmware failure: {:?}", got["summary"]);
    assert_eq!(by("failed"), 0, "no case is blamed on the firmware");
    assert!(by("passed") >= 5);
    let errors: Vec<&Value> = cases.iter().filter(|c| c["verdict"] == "error").collect();
    let in_flight: Vec<&&Value> = errors.iter().filter(|c| c["failed_at"] != "not-run").collect();
    assert_eq!(in_flight.len(), 1, "only the case in flight ran and failed: {errors:?}");
    let not_run = errors.len() - 1;
    assert_eq!(by("passed") + errors.len() + by("skipped"), cases.len());
    assert!(not_run > 0, "the rest is not run: the rig is unhealthy");
    assert_eq!(got["health"]["state"], "unhealthy", "{:?}", got["health"]);
    // A dead server costs seconds: refused connections, a bounded backoff.
    assert!(took < Duration::from_secs(60), "the run went on for {took:?} after the kill");
}

#[test]
fn a_serial_server_back_after_a_restart_is_reconnected_and_the_rest_passes() {
    if !have_ser2net() {
        return;
    }
    let emulator = Emulator::start();
    let mut server = Ser2net::start(&emulator.pty, Accepter::Rfc2217).unwrap();
    let address = server.address();
    let dir = tempfile::tempdir().unwrap();
    let rig = rfc2217_rig(dir.path(), &address);
    let out = dir.path().join("run");
    let mut child = config_run_after_five_cases(&rig, &out);
    server.kill();
    server = Ser2net::start_at(&emulator.pty, Accepter::Rfc2217, &address).unwrap();
    let status = child.wait().unwrap();
    drop(server);
    let got = run_json(&out);
    let cases = got["cases"].as_array().unwrap();
    let errors: Vec<&Value> = cases.iter().filter(|c| c["verdict"] == "error").collect();
    assert!(errors.len() <= 1, "at most the case in flight: {errors:?}");
    assert_eq!(cases.iter().filter(|c| c["verdict"] == "failed").count(), 0);
    assert!(cases.last().unwrap()["verdict"] == "passed", "the run went on to the end");
    assert_eq!(status.code(), Some(if errors.is_empty() { 0 } else { 4 }), "{:?}", got["summary"]);
}
