//! `miplcheck record` and `miplcheck emulate --rig/--log` driven as a user drives them: the real
//! binary, a scripted MCU on the real pty or TCP port it offers, real signals. A recorded session
//! is then run with `miplcheck run` (it passes) and against a quirked rig (it fails).

mod common;
use common::root;
use miplcheck_transport::{serial, stream::StreamPort, Port, Received};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Generous: the machine may be loaded.
const WAIT: Duration = Duration::from_secs(60);

/// A `miplcheck` process with its stdout lines on a channel.
struct Proc {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Proc {
    fn start(args: &[&str]) -> Proc {
        let mut child = Command::new(env!("CARGO_BIN_EXE_miplcheck"))
            .args(args)
            .current_dir(root())
            .env("CI", "true")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = mpsc::channel();
        let out = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for l in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if tx.send(l).is_err() {
                    return;
                }
            }
        });
        Proc { child, lines }
    }

    fn line(&self) -> String {
        self.lines.recv_timeout(WAIT).expect("a line from miplcheck")
    }

    /// Waits for the exit status; the rest of stdout, and stderr.
    fn finish(mut self) -> (Option<i32>, String, String) {
        let status = self.child.wait().unwrap();
        let mut err = String::new();
        std::io::Read::read_to_string(self.child.stderr.as_mut().unwrap(), &mut err).unwrap();
        let out: Vec<String> = self.lines.try_iter().collect();
        (status.code(), out.join("\n"), err)
    }

    fn signal(&self, s: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), s).unwrap();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The MCU software: commands one at a time, waiting for the final result code, URCs waited for.
struct Mcu {
    port: Box<dyn Port>,
    seen: String,
}

impl Mcu {
    fn on_pty(path: &str) -> Mcu {
        Mcu { port: Box::new(serial::open(&serial::SerialSettings::at_path(path)).unwrap()), seen: String::new() }
    }

    fn on_tcp(addr: &str) -> Mcu {
        Mcu { port: Box::new(StreamPort::tcp(addr).unwrap()), seen: String::new() }
    }

    /// Reads until `re` matches what came since the last match; its captures.
    fn wait_for(&mut self, re: &str) -> Vec<String> {
        let re = regex::Regex::new(re).unwrap();
        let deadline = self.port.now() + WAIT;
        loop {
            if let Some(c) = re.captures(&self.seen) {
                let got = c.iter().map(|m| m.map(|m| m.as_str().to_string()).unwrap_or_default()).collect();
                let end = c.get(0).unwrap().end();
                self.seen.drain(..end);
                return got;
            }
            match self.port.read_until(deadline) {
                Received::Data(c) => self.seen.push_str(&String::from_utf8_lossy(&c.bytes)),
                other => panic!("{other:?} waiting for {re} after {:?}", self.seen),
            }
        }
    }

    fn send(&mut self, command: &str) -> Vec<String> {
        self.port.write(format!("{command}\r").as_bytes()).unwrap();
        self.wait_for(r"\r\n(OK|ERROR|\+CIS ERROR: \d+)\r\n")
    }
}

/// The session of suites/register.yaml's auto-observe case, as an MCU driver would have it: the
/// discover the platform sends answered with the message ID the URC gave.
fn register_session(mcu: &mut Mcu, platform: &str) {
    let (host, port) = platform.rsplit_once(':').unwrap();
    mcu.send("AT");
    mcu.send(&format!("AT+MIPLCONFIG=0,{host},{port}"));
    mcu.send("AT+MIPLCREATE");
    mcu.send("AT+MIPLADDOBJ=0,3311,1,\"1\",4,2");
    mcu.send("AT+MIPLOPEN=0,600,60");
    let msgid = mcu.wait_for(r"\+MIPLDISCOVER: 0,(\d+),3311\r\n").remove(1);
    mcu.send(&format!("AT+MIPLDISCOVERRSP=0,{msgid},1,4,\"5850\""));
    mcu.send("AT+MIPLCLOSE=0");
    mcu.wait_for(r"\+MIPLEVENT: 0,15\r\n");
}

fn run(rig: &Path, dir: &Path, out: &str) -> (Option<i32>, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_miplcheck"))
        .arg("run")
        .arg("--rig")
        .arg(rig)
        .arg("--suites")
        .arg(dir.join("suites"))
        .arg("--golden")
        .arg(dir.join("golden"))
        .arg("--out")
        .arg(dir.join(out))
        .current_dir(root())
        .env("CI", "true")
        .output()
        .unwrap();
    (o.status.code(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

/// A temporary folder, the suite file `suites/<stem>.yaml` to record to and the golden folder.
fn places(stem: &str) -> (tempfile::TempDir, std::path::PathBuf, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join(format!("suites/{stem}.yaml"));
    let golden = dir.path().join("golden");
    (dir, case, golden)
}

/// `miplcheck record` on the BC39 emulator rig into `case` and `golden`, with `args`.
fn record(case: &Path, golden: &Path, args: &[&str]) -> Proc {
    let (case, golden) = (case.to_str().unwrap(), golden.to_str().unwrap());
    let mut all = vec!["record", "--rig", "rigs/emulator-bc39.toml", "--out", case, "--golden", golden];
    all.extend(args);
    Proc::start(&all)
}

#[test]
fn a_recorded_session_replays_and_fails_against_a_quirked_rig() {
    let (dir, case, golden) = places("driver");
    let rec = record(&case, &golden, &["--platform", "--pty"]);
    let pty = rec.line();
    assert!(pty.starts_with("/dev/"), "the pty's path first: {pty}");
    let platform = rec.line();
    let platform = platform.strip_prefix("mock OneNET platform on coap://").unwrap_or_else(|| panic!("{platform}"));
    let mut mcu = Mcu::on_pty(&pty);
    register_session(&mut mcu, platform);
    drop(mcu);
    rec.signal(Signal::SIGINT);
    let (code, out, err) = rec.finish();
    assert_eq!(code, Some(0), "{out}\n{err}");
    let yaml = std::fs::read_to_string(&case).unwrap();
    for want in [
        "suite: 'driver'",
        "spec: 'BC39 §TODO'",
        "send: AT+MIPLCONFIG=0,${platform.host},${platform.port}",
        "expect: ['+MIPLCREATE: {ref}']",
        "send: AT+MIPLADDOBJ=${ref},3311,1,\"1\",4,2",
        "urc: '+MIPLEVENT: ${ref},6'",
        "urc: '+MIPLDISCOVER: ${ref},{msgid},3311'",
        "send: AT+MIPLDISCOVERRSP=${ref},${msgid},1,4,\"5850\"",
        "urc: '+MIPLEVENT: ${ref},15'",
    ] {
        assert!(yaml.contains(want), "{want} in\n{yaml}");
    }
    assert!(!yaml.contains(platform.rsplit_once(':').unwrap().1), "the platform's port is a variable\n{yaml}");
    let snap = golden.join("bc39/driver__recorded.snap");
    let snapshot = std::fs::read_to_string(&snap).unwrap();
    assert!(
        snapshot.contains("+MIPLOBSERVE: {ref#1},{msgid#1},1,3311,0,-1")
            && snapshot.contains("+MIPLDISCOVER: {ref#1},{msgid#2},3311")
            && !snapshot.contains("866971030000001")
    );
    assert!(out.contains(&format!("snapshot: {}", snap.display())), "{out}");

    let (code, out) = run(&root().join("rigs/emulator-bc39.toml"), dir.path(), "again");
    assert_eq!(code, Some(0), "the recorded case passes on the rig it was recorded on\n{out}");
    assert!(out.contains("PASS driver/recorded"), "{out}");
    // The loose firmware: ", " after every comma of what it prints.
    let rig = std::fs::read_to_string(root().join("rigs/emulator-bc39.toml")).unwrap();
    std::fs::write(dir.path().join("quirked.toml"), rig + "\n[emulator.quirks]\ncomma-space = true\n").unwrap();
    let (code, out) = run(&dir.path().join("quirked.toml"), dir.path(), "quirked");
    assert_eq!(code, Some(1), "a firmware that spaces its commas differs from the recording\n{out}");
    assert!(out.contains("FAIL driver/recorded"), "{out}");
}

#[test]
fn a_tcp_session_ends_when_the_mcu_hangs_up_and_writes_no_identity_or_secret() {
    let (dir, case, golden) = places("ids");
    let rec = record(&case, &golden, &["--tcp", "127.0.0.1:0", "--case-id", "identities"]);
    let first = rec.line();
    let addr = first.strip_prefix("tcp ").unwrap_or_else(|| panic!("{first}"));
    let mut mcu = Mcu::on_tcp(addr);
    mcu.send("AT+CMEE=1");
    mcu.send("AT+MIPLCONFIG=4,1,\"Quectel123\"");
    mcu.send("AT+CGSN=1");
    mcu.send("AT+CIMI");
    mcu.send("AT+CGMR");
    drop(mcu);
    let (code, out, err) = rec.finish();
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(err.contains("the MCU side closed"), "{err}");
    let yaml = std::fs::read_to_string(&case).unwrap();
    let snapshot = std::fs::read_to_string(golden.join("bc39/ids__identities.snap")).unwrap();
    for text in [&yaml, &snapshot] {
        for secret in ["Quectel123", "866971030000001", "460040000000001"] {
            assert!(!text.contains(secret), "{secret} in\n{text}");
        }
    }
    assert!(yaml.contains("send: AT+MIPLCONFIG=4,1,\"${secret.auth_code}\""), "{yaml}");
    assert!(yaml.contains(r"expect: ['+CGSN: {imei:\d{15}}']"), "{yaml}");
    assert!(yaml.contains(r"expect: ['{imsi:\d{6,15}}']"), "{yaml}");
    let (code, out) = run(&root().join("rigs/emulator-bc39.toml"), dir.path(), "again");
    assert_eq!(code, Some(0), "{out}");
}

#[test]
fn a_session_without_a_command_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("empty.yaml");
    let rec = Proc::start(&["record", "--rig", "rigs/emulator-bc39.toml", "--pty", "--out", case.to_str().unwrap()]);
    assert!(rec.line().starts_with("/dev/"));
    rec.signal(Signal::SIGTERM);
    let (code, out, err) = rec.finish();
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(err.contains("the MCU sent no command that was answered"), "{err}");
    assert!(!case.exists());
}

#[test]
fn help_lists_record_and_emulate_with_examples() {
    let top = String::from_utf8(common::miplcheck(&["--help"]).stdout).unwrap();
    assert!(top.contains("record") && top.contains("emulate"), "{top}");
    // The top-level help shows each hands-on command in use, before the exit statuses.
    let examples = &top[top.find("Examples:").expect("examples in --help")..];
    for used in
        ["miplcheck emulate --rig", "miplcheck record --rig", "miplcheck platform --listen", "--http", "--firmware"]
    {
        assert!(examples.contains(used), "{used} in {examples}");
    }
    assert!(examples.find("Exit status:") > examples.find("miplcheck record"), "{examples}");
    for sub in ["record", "emulate"] {
        let o = common::miplcheck(&[sub, "--help"]);
        let help = String::from_utf8(o.stdout).unwrap();
        assert!(help.contains("Examples:") && help.contains(&format!("miplcheck {sub} --rig")), "{help}");
    }
}

#[test]
fn record_refuses_to_overwrite_a_case() {
    let dir = tempfile::tempdir().unwrap();
    let case = dir.path().join("there.yaml");
    std::fs::write(&case, "x").unwrap();
    let o =
        common::miplcheck(&["record", "--rig", "rigs/emulator-bc39.toml", "--pty", "--out", case.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--out"), "{o:?}");
    assert_eq!(std::fs::read_to_string(&case).unwrap(), "x");
}

#[test]
fn emulate_serves_the_rigs_settings() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(root().join("rigs/emulator-bc39.toml")).unwrap();
    let text = text.replace("echo = true ", "echo = false").replace(
        "[secrets]",
        "silent = [\"+CIMI\"]\ndelays = { \"+CGMR\" = \"700ms\" }\nfirmware = \"LOOSE_FW\"\n\n\
         [emulator.quirks]\ncomma-space = true\n\n[secrets]",
    );
    let text = text.replace("firmware = \"BC39NBR01A04_ONT\"\n", "");
    let rig = dir.path().join("loose.toml");
    std::fs::write(&rig, text).unwrap();
    let emu = Proc::start(&["emulate", "--rig", rig.to_str().unwrap(), "--pty"]);
    let mut mcu = Mcu::on_pty(&emu.line());
    let began = std::time::Instant::now();
    mcu.port.write(b"AT+CGMR\r").unwrap();
    mcu.wait_for(r"\r\nRevision: LOOSE_FW\r\n\r\nOK\r\n");
    assert!(began.elapsed() >= Duration::from_millis(700), "the rig's delay");
    assert!(!mcu.seen.contains("AT+CGMR"), "no echo: {:?}", mcu.seen);
    mcu.port.write(b"AT+CMEE=?\r").unwrap();
    mcu.wait_for(r"\+CMEE: \(0, 1\)\r\n\r\nOK\r\n");
    mcu.port.write(b"AT+CIMI\r").unwrap();
    let quiet = mcu.port.now() + Duration::from_secs(2);
    assert_eq!(mcu.port.read_until(quiet), Received::Timeout, "AT+CIMI is silent");
}

#[test]
fn emulate_log_prints_both_ways_with_times() {
    let emu = Proc::start(&["emulate", "--dialect", "bc39", "--pty", "--log"]);
    let mut mcu = Mcu::on_pty(&emu.line());
    mcu.send("AT+CGSN=1");
    let mut lines = Vec::new();
    while !lines.iter().any(|l: &String| l.contains("OK")) {
        lines.push(emu.line());
    }
    let time = regex::Regex::new(r"^ +\d+\.\d{3}s (TE→UE|UE→TE) ").unwrap();
    assert!(lines.iter().all(|l| time.is_match(l)), "{lines:#?}");
    assert!(lines[0].ends_with("TE→UE AT+CGSN=1\\r"), "{lines:#?}");
    assert!(lines.iter().any(|l| l.contains("UE→TE") && l.contains("+CGSN: 86697103*******")), "masked: {lines:#?}");
    assert!(!lines.join("\n").contains("866971030000001"), "{lines:#?}");
}
