//! Links that fail: a TCP server that drops SYNs, a modem that never answers its sync. Real TCP on
//! loopback only.

use miplcheck_record::{FailedAt, Verdict};
use miplcheck_runner::rig::Rig;
use miplcheck_runner::suite::Suite;
use miplcheck_runner::{target, Plan, Selection};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

fn plan(rig: &str, golden: &Path) -> Plan {
    let rig = Rig::parse(Path::new("rigs/test.toml"), rig).unwrap();
    let suite = "suite: t\ncases:\n  - id: c\n    spec: 3GPP TS 27.007\n    steps:\n      - send: AT\n";
    let suite = Suite::parse(Path::new("suites/test.yaml"), suite).unwrap();
    Plan { golden_dir: golden.to_path_buf(), rig, suites: vec![suite], selection: Selection::default() }
}

/// A loopback listener whose accept queue is full, so further SYNs go unanswered.
fn unanswering() -> (TcpListener, Vec<TcpStream>, SocketAddr) {
    use std::os::fd::AsRawFd;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    assert_eq!(unsafe { libc::listen(listener.as_raw_fd(), 0) }, 0);
    let addr = listener.local_addr().unwrap();
    let mut fill = Vec::new();
    for _ in 0..16 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            Ok(s) => fill.push(s),
            Err(_) => return (listener, fill, addr),
        }
    }
    panic!("the backlog never filled");
}

#[test]
fn a_tcp_server_that_drops_syns_fails_the_case_within_the_rigs_connect_timeout() {
    let (_l, _fill, addr) = unanswering();
    let golden = tempfile::tempdir().unwrap();
    let rig = format!("kind = \"tcp\"\ndialect = \"bc39\"\n[tcp]\naddress = \"{addr}\"\nconnect_timeout = \"1s\"\n");
    let p = plan(&rig, golden.path());
    let mut t = target::Reopening::new(p.rig.clone());
    let t0 = Instant::now();
    let r = p.run_one(&mut t, &p.suites[0], &p.suites[0].cases[0]);
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let c = &r.record;
    assert_eq!((c.verdict, c.failed_at.clone()), (Verdict::Failed, Some(FailedAt::Prepare)));
    let why = c.reason.clone().unwrap();
    assert!(why.contains(&addr.to_string()) && why.contains("within 1.0 s"), "{why}");
    assert!(c.duration_ms >= 900.0, "{}", c.duration_ms);
}

#[test]
fn a_modem_that_never_answers_its_sync_is_reported_with_the_time_spent() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts and keeps the connection open, saying nothing.
    let server = std::thread::spawn(move || {
        let (s, _) = listener.accept().unwrap();
        std::thread::sleep(Duration::from_secs(15));
        drop(s);
    });
    let golden = tempfile::tempdir().unwrap();
    let p = plan(&format!("kind = \"tcp\"\ndialect = \"bc39\"\n[tcp]\naddress = \"{addr}\"\n"), golden.path());
    let mut t = target::Reopening::new(p.rig.clone());
    let r = p.run_one(&mut t, &p.suites[0], &p.suites[0].cases[0]);
    let c = &r.record;
    assert_eq!(c.failed_at, Some(FailedAt::Prepare));
    let why = c.reason.clone().unwrap();
    assert!(why.contains("no OK to AT after 5 tries over 5.0 s; nothing came back"), "{why}");
    assert!((5000.0..9000.0).contains(&c.duration_ms), "measured, once: {}", c.duration_ms);
    drop(t);
    drop(server);
}
