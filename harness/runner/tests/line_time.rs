//! Response times over a real serial line at 9600 baud: the emulator on a pty, the harness on
//! another, and a relay between them that lets each byte through no sooner than a UART at 9600
//! 8N1 would (1.04 ms a character), both ways.
//!
//! `AT+MIPLCONFIG?` (BC39 §3.2.2) is answered with six information lines and OK: 127 bytes with
//! their CR LFs, the 126 up to OK's `\r` (when the line is stamped) 131.3 ms on the wire, and the
//! command's 15 bytes take 15.6 ms more. With the emulator thinking 180 ms the raw latency cannot
//! be below 180 + 15.6 + 131.3 = 326.9 ms
//! whatever the load (the relay is
//! never early), past a 300 ms window; the modem's own time, 180 ms, is well inside it. A modem
//! that thinks 350 ms is late on either figure. The echo is off so that neither way of echoing
//! (as characters arrive, or with the answer) moves these margins.

#[path = "support/paced_line.rs"]
mod paced_line;

use miplcheck_emulator::{Modem, Options};
use miplcheck_record::{JudgedOn, Verdict};
use miplcheck_runner::rig::Rig;
use miplcheck_runner::suite::Suite;
use miplcheck_runner::{target, CaseResult, Plan};
use std::path::Path;
use std::time::Duration;

const WINDOW_MS: f64 = 300.0;

const SUITE: &str =
    "suite: t\ncases:\n  - id: config\n    spec: BC39 §3.2.2\n    steps:\n      - send: AT+MIPLCONFIG?\n        \
     expect: [\"+MIPLCONFIG:1,183.230.40.39,5683\", \"+MIPLCONFIG:2,2\", \"+MIPLCONFIG:3,1\", \"+MIPLCONFIG:4,0\", \
     \"+MIPLCONFIG:5,0\", \"+MIPLCONFIG:6,0\"]\n        window: 300ms\n";

/// Runs the case once through a 9600 8N1 relay, the emulator taking `delay` over `+MIPLCONFIG`.
fn run(delay: Duration, timing: &str) -> CaseResult {
    let mut o = Options::for_dialect("bc39");
    o.echo = false;
    o.delays = [(miplcheck_emulator::options::command_key("+MIPLCONFIG"), delay)].into_iter().collect();
    let modem = miplcheck_emulator::serve::on_pty(Modem::new(o).unwrap()).unwrap();
    let line = paced_line::PacedLine::start(&modem.path, paced_line::char_time(9600, 10)).unwrap();
    let rig = format!(
        "kind = \"serial\"\ndialect = \"bc39\"\n[serial]\nport = \"{}\"\nbaud = 9600\n{timing}",
        line.path.display()
    );
    let rig = Rig::parse(Path::new("rigs/paced.toml"), &rig).unwrap();
    let suite = Suite::parse(Path::new("suites/test.yaml"), SUITE).unwrap();
    let golden = tempfile::tempdir().unwrap();
    let p = Plan::new(rig, std::sync::Arc::new(vec![suite]), golden.path().to_path_buf());
    let mut t = target::open(&p.rig).unwrap();
    p.run_one(t.as_mut(), &p.suites[0], &p.suites[0].cases[0])
}

fn reason(r: &CaseResult) -> (String, String) {
    let c = &r.record;
    assert!(matches!(c.verdict, Verdict::Failed | Verdict::Error), "{c:?}");
    (c.failed_at.as_ref().map(ToString::to_string).unwrap_or_default(), c.reason.clone().unwrap_or_default())
}

#[test]
fn an_answer_slow_only_on_the_wire_passes_on_the_corrected_figure() {
    let r = run(Duration::from_millis(180), "");
    let s = &r.record.steps[0];
    let (latency, response) = (s.latency_ms.unwrap(), s.response_ms.unwrap());
    assert_eq!(s.window_ms, Some(WINDOW_MS));
    assert_eq!((s.serial_line.as_deref(), s.judged_on), (Some("9600 8N1"), Some(JudgedOn::Corrected)));
    assert!(latency > WINDOW_MS, "raw {latency} ms: the line alone takes 148 ms");
    assert!((180.0..WINDOW_MS).contains(&response), "corrected {response} ms");
    // At least the answer's bytes up to OK's \r came off (126), and no more than they and the
    // command's 15.
    assert!((131.2..=146.9).contains(&(latency - response)), "{latency} − {response}");
    // It passed its window; the snapshot is missing in the empty golden folder.
    assert_eq!(reason(&r).0, "snapshot", "{:?}", r.record.reason);
}

#[test]
fn the_same_answer_judged_raw_is_late_and_says_both_figures() {
    let r = run(Duration::from_millis(180), "[timing]\nresponse_time = \"raw\"\n");
    assert_eq!(r.record.steps[0].judged_on, Some(JudgedOn::Raw));
    let (at, why) = reason(&r);
    assert_eq!(at, "step 1");
    assert!(why.contains("(judged raw; ") && why.contains("corrected for 9600 8N1), after its 300 ms window"), "{why}");
}

#[test]
fn a_modem_late_by_its_own_time_fails_on_the_corrected_figure() {
    let r = run(Duration::from_millis(350), "");
    let s = &r.record.steps[0];
    assert!(s.response_ms.unwrap() >= 350.0, "{s:?}");
    let (at, why) = reason(&r);
    assert_eq!(at, "step 1");
    assert!(
        why.starts_with("answered in ") && why.contains("corrected for 9600 8N1), after its 300 ms window"),
        "{why}"
    );
}
