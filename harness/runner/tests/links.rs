//! Links that fail: a TCP server that drops SYNs, a modem that never answers its sync. Real TCP on
//! loopback only.

use miplcheck_record::{FailedAt, Verdict};
use miplcheck_runner::rig::Rig;
use miplcheck_runner::suite::Suite;
use miplcheck_runner::{target, Plan};
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::time::{Duration, Instant};

fn plan(rig: &str, golden: &Path) -> Plan {
    let rig = Rig::parse(Path::new("rigs/test.toml"), rig).unwrap();
    let suite = "suite: t\ncases:\n  - id: c\n    spec: 3GPP TS 27.007\n    steps:\n      - send: AT\n";
    let suite = Suite::parse(Path::new("suites/test.yaml"), suite).unwrap();
    Plan::new(rig, std::sync::Arc::new(vec![suite]), golden.to_path_buf())
}

#[test]
fn a_tcp_server_that_drops_syns_fails_the_case_within_the_rigs_connect_timeout() {
    // A loopback listener whose accept queue is full, so further SYNs go unanswered.
    let (_l, _fill, addr) = miplcheck_transport::ser2net_fixture::silent_listener();
    let golden = tempfile::tempdir().unwrap();
    let rig = format!("kind = \"tcp\"\ndialect = \"bc39\"\n[tcp]\naddress = \"{addr}\"\nconnect_timeout = \"1s\"\n");
    let p = plan(&rig, golden.path());
    let mut t = target::Reopening::new(p.rig.clone());
    let t0 = Instant::now();
    let r = p.run_one(&mut t, &p.suites[0], &p.suites[0].cases[0]);
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(20), "took {took:?}");
    let c = &r.record;
    assert_eq!((c.verdict, c.failed_at.clone()), (Verdict::Error, Some(FailedAt::Prepare)));
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
    // The time is measured: on a loaded machine the five tries take a little longer than 5 s.
    assert!(why.contains("no OK to AT after 5 tries over 5.") && why.ends_with(" s; nothing came back"), "{why}");
    assert!((5000.0..9000.0).contains(&c.duration_ms), "measured, once: {}", c.duration_ms);
    let sent: Vec<&str> =
        c.transcript.iter().filter(|l| l.dir == Some(miplcheck_record::Dir::TeToUe)).map(|l| l.text.as_str()).collect();
    assert_eq!(sent, ["AT\\r"; 5], "the sync's exchange is the case's transcript");
    drop(t);
    drop(server);
}

/// A loopback modem that answers `OK` to everything but what `script` answers otherwise (by the
/// command line and how many times it came).
fn scripted_modem(script: fn(&str, usize) -> Option<&'static [u8]>) -> SocketAddr {
    use std::io::{BufRead, BufReader, Write};
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let Ok((s, _)) = listener.accept() else { return };
        let mut out = s.try_clone().unwrap();
        let mut seen = std::collections::HashMap::<String, usize>::new();
        let mut lines = BufReader::new(s).split(b'\r');
        while let Some(Ok(l)) = lines.next() {
            let l = String::from_utf8_lossy(&l).trim().to_string();
            let n = seen.entry(l.clone()).or_default();
            *n += 1;
            let answer = script(&l, *n).unwrap_or(b"\r\nOK\r\n");
            if out.write_all(answer).is_err() {
                return;
            }
        }
    });
    addr
}

fn tcp_rig(addr: SocketAddr) -> String {
    format!("kind = \"tcp\"\ndialect = \"bc39\"\n[tcp]\naddress = \"{addr}\"\n[timing]\nlate_grace = \"100ms\"\n")
}

#[test]
fn a_reboot_mid_case_is_named_as_one() {
    // The sync's AT is the first; the case's is the second.
    let addr = scripted_modem(|l, n| (l == "AT" && n == 2).then_some(b"\x00\xffBoot: Unsigned\r\n\r\nRDY\r\n"));
    let golden = tempfile::tempdir().unwrap();
    let p = plan(&tcp_rig(addr), golden.path());
    let mut t = target::Reopening::new(p.rig.clone());
    let r = p.run_one(&mut t, &p.suites[0], &p.suites[0].cases[0]);
    let why = r.record.reason.clone().unwrap();
    assert!(why.starts_with("the modem rebooted mid-case (`Boot: Unsigned` at "), "{why}");
    assert!(why.contains("no final result code"), "the step's own failure follows: {why}");
    assert_eq!(r.record.steps[0].failure.as_deref(), Some(why.as_str()));
}

#[test]
fn a_reboot_during_the_identity_probe_is_a_note_in_the_record() {
    let addr = scripted_modem(|l, _| match l {
        "AT+CGMR" => Some(b"\r\nRevision: BC39NBR01A04_ONT\r\n\r\nOK\r\n"),
        "AT+CGSN=1" => Some(b"\r\nRDY\r\n"),
        "AT+CIMI" => Some(b"\r\n460041234567890\r\n\r\nOK\r\n"),
        _ => None,
    });
    let dir = tempfile::tempdir().unwrap();
    let p = plan(&tcp_rig(addr), dir.path());
    let run_json = dir.path().join("run.json");
    let mut events = miplcheck_runner::report::Fanout::new()
        .add("run record", Box::new(miplcheck_runner::report::json::JsonRecord::new(run_json.clone())));
    p.execute(&mut events);
    let rec = miplcheck_record::RunRecord::load(&run_json).unwrap();
    assert_eq!(rec.firmware.imei, None);
    let note = rec.firmware.note.clone().unwrap_or_default();
    assert!(note.contains("IMEI unknown: the modem rebooted while answering `AT+CGSN=1` (`RDY`)"), "{note}");
    assert!(!note.contains("IMSI"), "{note}");
}

#[test]
fn the_terminal_shows_control_characters_from_the_modem_escaped() {
    use miplcheck_runner::report::{terminal::Terminal, Event, Reporter};
    let suite = Suite::parse(
        Path::new("suites/test.yaml"),
        "suite: t\ncases:\n  - id: c\n    spec: 3GPP TS 27.007\n    steps:\n      - send: AT\n",
    )
    .unwrap();
    let reason = "got `\x1b[31mRED\x1b[0m`\r\x07".to_string();
    let record = miplcheck_runner::handoff::unrun(
        &suite,
        &suite.cases[0],
        Verdict::Failed,
        Some(FailedAt::Prepare),
        reason,
        Duration::from_millis(3),
    );
    let result = miplcheck_runner::CaseResult { record, capture: None };
    let mut out = Vec::new();
    Terminal::new(&mut out, false).on(&Event::CaseFinished(&result)).unwrap();
    let shown = String::from_utf8(out).unwrap();
    assert!(!shown.contains('\x1b') && !shown.contains('\r') && !shown.contains('\x07'), "{shown:?}");
    assert!(shown.contains("got `\\x1B[31mRED\\x1B[0m`\\r\\x07"), "{shown}");
    assert!(shown.contains("FAIL t/c (3GPP TS 27.007) 3 ms"), "{shown}");
}
