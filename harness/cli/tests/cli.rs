//! The `miplcheck` command as a user meets it: exit status, messages that name file, line and
//! field, the reports it writes, and the emulator it serves.

mod common;
use common::{miplcheck, root};

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

fn text(o: &Output) -> (String, String) {
    (String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

#[test]
fn the_readme_run_passes_every_config_case_and_writes_junit() {
    let out = tempfile::tempdir().unwrap();
    let o = miplcheck(&[
        "run",
        "--rig",
        "rigs/emulator-bc39.toml",
        "--suite",
        "config",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    let (stdout, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("36 passed, 0 failed"), "{stdout}");
    let junit = std::fs::read_to_string(out.path().join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 36);
    assert!(junit.contains(r#"<property name="dialect" value="bc39"/>"#), "{junit}");
    assert!(junit.contains(r#"<property name="firmware" value="Revision: BC39NBR01A04_ONT"/>"#), "{junit}");
    assert!(junit.contains(r#"<property name="imei" value="86697103*******"/>"#), "masked: {junit}");
    assert!(!junit.contains("866971030000001"), "the IMEI is masked everywhere");
    assert!(junit.contains(r#"name="latency.step1""#), "latencies are recorded");
    assert!(junit.contains("(window 300 ms)") && junit.contains("(window 3 s)"), "windows are recorded");
    assert!(!junit.contains("FhyvhmgIRQrde4In") && !junit.contains("Quectel123"), "secrets are redacted");
    let t = std::fs::read_to_string(out.path().join("transcripts/config/manual-5-1.txt")).unwrap();
    assert!(t.contains("TE→UE") && t.contains("+MIPLCONFIG:2,9"), "{t}");
}

#[test]
fn a_failing_case_exits_1_and_names_its_step_and_line() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("suites")).unwrap();
    std::fs::write(
        dir.path().join("suites/x.yaml"),
        "suite: x\ncases:\n  - id: wrong\n    spec: BC39 §3.2.4\n    steps:\n      - send: AT+MIPLVER?\n        expect: [\"+MIPLVER: 1.0\"]\n",
    )
    .unwrap();
    let rig = root().join("rigs/emulator-bc39.toml");
    let o = miplcheck(&[
        "run",
        "--rig",
        rig.to_str().unwrap(),
        "--suites",
        dir.path().join("suites").to_str().unwrap(),
        "--golden",
        dir.path().join("golden").to_str().unwrap(),
        "--out",
        dir.path().join("out").to_str().unwrap(),
    ]);
    let (stdout, _) = text(&o);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL x/wrong"), "{stdout}");
    assert!(
        stdout.contains("x.yaml:6): information line 1 should match `+MIPLVER: 1.0`, got `+MIPLVER: 2.3.0`"),
        "{stdout}"
    );
    assert!(dir.path().join("out/junit.xml").exists());
}

#[test]
fn a_malformed_rig_exits_2_naming_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let rig = dir.path().join("bad.toml");
    std::fs::write(&rig, "kind = \"serial\"\ndialect = \"bc39\"\n[serial]\nport = \"/dev/ttyUSB0\"\nbaud = \"fast\"\n")
        .unwrap();
    let o = miplcheck(&["run", "--rig", rig.to_str().unwrap()]);
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad.toml:5: field `serial.baud`: invalid type"), "{stderr}");
}

#[test]
fn a_malformed_suite_exits_2_naming_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.yaml"),
        "suite: x\ncases:\n  - id: a\n    spec: BC39 §3.2.1\n    steps:\n      - send: AT\n        finall: OK\n",
    )
    .unwrap();
    let o = miplcheck(&["run", "--rig", "rigs/emulator-bc39.toml", "--suites", dir.path().to_str().unwrap()]);
    let (_, stderr) = text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad.yaml:7: field `cases[0].steps[0].finall`: unknown field `finall`"), "{stderr}");
}

#[test]
fn bad_arguments_exit_2() {
    let o = miplcheck(&["run", "--rig", "rigs/no-such-rig.toml"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("rigs/no-such-rig.toml: cannot read the rig file"), "{}", text(&o).1);
    let o = miplcheck(&["run", "--rig", "rigs/emulator-bc39.toml", "--suite", "nope"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("no suite named \"nope\""));
    let o = miplcheck(&["run"]);
    assert_eq!(o.status.code(), Some(2), "clap's own usage errors are exit 2 too");
    let o = miplcheck(&["emulate", "--dialect", "sim800", "--pty"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).1.contains("unknown dialect"), "{}", text(&o).1);
}

/// Starts `miplcheck emulate …` and returns the child and the first line it prints.
fn emulate(args: &[&str]) -> (std::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_miplcheck"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    (child, line.trim().to_string())
}

#[test]
fn emulate_on_a_pty_answers_through_the_serial_code() {
    use miplcheck_transport::{serial, Port, Received};
    let (mut child, path) = emulate(&["emulate", "--dialect", "bc39", "--pty"]);
    assert!(path.starts_with("/dev/"), "{path}");
    let mut port = serial::open(&serial::SerialSettings::at_path(&path)).unwrap();
    port.write(b"AT+MIPLVER?\r").unwrap();
    let deadline = port.now() + Duration::from_secs(20);
    let mut got = Vec::new();
    while !String::from_utf8_lossy(&got).contains("OK\r\n") {
        match port.read_until(deadline) {
            Received::Data(c) => got.extend(c.bytes),
            other => panic!("{other:?} after {:?}", String::from_utf8_lossy(&got)),
        }
    }
    assert_eq!(String::from_utf8_lossy(&got), "AT+MIPLVER?\r\r\n+MIPLVER: 2.3.0\r\n\r\nOK\r\n");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn emulate_on_tcp() {
    let (mut child, banner) = emulate(&["emulate", "--dialect", "bc39", "--tcp", "127.0.0.1:0", "--no-echo"]);
    let addr = banner.rsplit(' ').next().unwrap().to_string();
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(b"AT+CGSN=1\r").unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 256];
    while !String::from_utf8_lossy(&got).contains("OK\r\n") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed early");
        got.extend_from_slice(&buf[..n]);
    }
    assert_eq!(String::from_utf8_lossy(&got), "\r\n+CGSN: 866971030000001\r\n\r\nOK\r\n");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn platform_serves_coap_and_prints_what_it_sees() {
    // Any free port: bind one, let it go, and hand it to the platform.
    let port = std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (mut child, banner) = emulate(&["platform", "--listen", &format!("127.0.0.1:{port}")]);
    assert!(banner.contains(&format!("coap://127.0.0.1:{port}")), "{banner}");
    // A CoAP ping (empty CON) must be answered with RST.
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.send_to(&[0x40, 0x00, 0x12, 0x34], ("127.0.0.1", port)).unwrap();
    let mut buf = [0u8; 64];
    let (n, _) = s.recv_from(&mut buf).unwrap();
    assert_eq!(&buf[..n], &[0x70, 0x00, 0x12, 0x34], "RST with the same MID");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    assert!(line.contains("UE→PF CON mid=4660"), "{line}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn captures_are_written_as_pcapng_without_secrets() {
    let out = tempfile::tempdir().unwrap();
    let o = miplcheck(&[
        "run",
        "--rig",
        "rigs/emulator-bc39.toml",
        "--case",
        "register/register-with-auth-code",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o).0);
    let cap = std::fs::read(out.path().join("captures/register/register-with-auth-code.pcapng")).unwrap();
    assert_eq!(&cap[..4], &[0x0A, 0x0D, 0x0D, 0x0A], "a pcapng section header");
    assert!(!cap.windows(10).any(|w| w == b"Quectel123"), "the auth code is masked");
    assert!(cap.windows(10).any(|w| w == b"**********"), "masked in place, same length");
    let t = std::fs::read_to_string(out.path().join("transcripts/register/register-with-auth-code.txt")).unwrap();
    assert!(t.contains("auth-code") && !t.contains("Quectel123"), "{t}");
}
