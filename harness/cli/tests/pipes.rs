//! Output to pipes and terminals: a reader that closes early (`| head -1`) ends the output
//! quietly; untrusted text never reaches the terminal raw; logs carry no colour codes when
//! standard error is not a terminal. The built binary, real pipes, real UDP on loopback.

mod common;

use common::root;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_miplcheck"));
    c.current_dir(root()).env("CI", "true").env_remove("MIPLCHECK_LOG");
    c
}

/// Waits for the child at most `limit`, killing it if it is still running.
fn wait(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let end = Instant::now() + limit;
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > end {
            child.kill().unwrap();
            panic!("still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `miplcheck run` of one case into `out`, both output streams piped.
fn run_into(out: &std::path::Path) -> std::process::Child {
    bin()
        .args(["run", "--rig", "rigs/emulator-bc39.toml", "--case", "config/sdk-version", "--out"])
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn a_run_piped_into_a_reader_that_closes_early_ends_quietly_with_its_own_status() {
    let out = tempfile::tempdir().unwrap();
    let mut child = run_into(out.path());
    // `| head -1`: one line, then the reader is gone before the rest is written.
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    drop(stdout);
    let status = wait(&mut child, Duration::from_secs(120));
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(first.starts_with("miplcheck: rig emulator-bc39"), "{first}");
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
    assert!(out.path().join("run.json").exists(), "the run still writes its record");
}

#[test]
fn a_run_whose_stdout_is_closed_from_the_start_does_not_panic() {
    let out = tempfile::tempdir().unwrap();
    let mut child = run_into(out.path());
    drop(child.stdout.take());
    let status = wait(&mut child, Duration::from_secs(120));
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
}

#[test]
fn other_commands_with_a_closed_stdout_end_quietly() {
    // `platform` would serve forever; with nobody reading, it ends at once.
    let mut child = bin()
        .args(["platform", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let status = wait(&mut child, Duration::from_secs(30));
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // `coverage` prints a long listing.
    let mut child = bin().args(["coverage"]).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    drop(child.stdout.take());
    let status = wait(&mut child, Duration::from_secs(60));
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(!stderr.contains("panicked") && status.code() != Some(101), "{status:?} {stderr}");
}

#[test]
fn the_platform_shows_a_datagrams_control_characters_escaped() {
    let mut child = bin()
        .args(["platform", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut banner = String::new();
    stdout.read_line(&mut banner).unwrap();
    let addr = banner.split("coap://").nth(1).and_then(|r| r.split(' ').next()).unwrap().to_string();
    // CON POST /rd?ep=ESC[31mRED
    let mut dgram = vec![0x40, 0x02, 0x00, 0x01, 0xB2, b'r', b'd', 0x4B];
    dgram.extend_from_slice(b"ep=\x1b[31mRED");
    let s = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    s.send_to(&dgram, &addr).unwrap();
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(line.contains("UE→PF CON POST /rd?ep=\\x1B[31mRED"), "{line:?}");
    assert!(!line.contains('\x1b'), "{line:?}");
}

#[test]
fn logs_to_a_pipe_carry_no_colour_codes() {
    // A serial server that hangs up at once: preparing fails and is logged as a warning.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let _ = listener.accept();
    });
    let dir = tempfile::tempdir().unwrap();
    let rig = dir.path().join("hangs-up.toml");
    std::fs::write(&rig, format!("kind = \"tcp\"\ndialect = \"bc39\"\n[tcp]\naddress = \"{addr}\"\n")).unwrap();
    let o = bin()
        .args(["run", "--case", "config/sdk-version", "--rig"])
        .arg(&rig)
        .arg("--out")
        .arg(dir.path().join("out"))
        .stdout(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("WARN") && stderr.contains("health check before the first case failed"), "{stderr}");
    assert!(!stderr.contains('\x1b'), "{stderr:?}");
}
