//! Hostile input: a modem that floods a case with URCs, or prints one enormous line. The run must
//! finish, the explanation must say what happened, and what is shown (reasons, diffs, the
//! console, JUnit) must stay small while the transcript keeps everything. The modem is a scripted
//! port in virtual time, so nothing here depends on the machine's speed.

use miplcheck_at::dialect::BC39;
use miplcheck_record::{SnapshotResult, Verdict};
use miplcheck_runner::engine::{run_case, Context};
use miplcheck_runner::report::junit::Junit;
use miplcheck_runner::report::terminal::Terminal;
use miplcheck_runner::report::{Event, Reporter};
use miplcheck_runner::rig::Rig;
use miplcheck_runner::suite::Suite;
use miplcheck_runner::target::{Target, TargetError};
use miplcheck_runner::transcript::Redactor;
use miplcheck_runner::{explain, CaseResult, Plan, Summary};
use miplcheck_transport::{Chunk, Port, Received};
use std::collections::VecDeque;
use std::path::Path;
use std::time::{Duration, Instant};

/// A modem that answers each write from a script, at virtual times.
struct Scripted {
    now: Duration,
    answers: VecDeque<Vec<(u64, Vec<u8>)>>,
    pending: VecDeque<Chunk>,
}

impl Scripted {
    fn new(answers: Vec<Vec<(u64, Vec<u8>)>>) -> Self {
        Scripted { now: Duration::ZERO, answers: answers.into(), pending: VecDeque::new() }
    }
}

impl Port for Scripted {
    fn describe(&self) -> String {
        "scripted".into()
    }
    fn now(&self) -> Duration {
        self.now
    }
    fn write(&mut self, _bytes: &[u8]) -> std::io::Result<Duration> {
        for (us, bytes) in self.answers.pop_front().unwrap_or_default() {
            self.pending.push_back(Chunk { at: self.now + Duration::from_micros(us), bytes });
        }
        Ok(self.now)
    }
    fn read_until(&mut self, deadline: Duration) -> Received {
        match self.pending.front() {
            Some(c) if c.at <= deadline => {
                let c = self.pending.pop_front().unwrap();
                self.now = self.now.max(c.at);
                Received::Data(c)
            }
            _ => {
                self.now = self.now.max(deadline);
                Received::Timeout
            }
        }
    }
}

impl Target for Scripted {
    fn describe(&self) -> String {
        "scripted".into()
    }
    fn port(&mut self) -> &mut dyn Port {
        self
    }
    fn prepare(&mut self) -> Result<(), TargetError> {
        Ok(())
    }
}

const RIG: &str = "kind = \"emulator\"\ndialect = \"bc39\"\n[emulator]\nlink = \"virtual\"\necho = false\n";

fn plan(suite: &str, golden: &Path) -> Plan {
    let rig = Rig::parse(Path::new("rigs/test.toml"), RIG).unwrap();
    let suite = Suite::parse(Path::new("suites/test.yaml"), suite).unwrap();
    Plan::new(rig, std::sync::Arc::new(vec![suite]), golden.to_path_buf())
}

/// Runs the plan's one case against `script` once to write its golden snapshot.
fn write_golden(p: &Plan, script: Vec<Vec<(u64, Vec<u8>)>>) {
    let (suite, case) = (&p.suites[0], &p.suites[0].cases[0]);
    let ctx = Context {
        dialect: p.rig.dialect,
        timing: &p.rig.timing,
        line_ending: &p.rig.line_ending,
        secrets: &p.rig.secrets,
        platform: None,
        onenet: None,
        tolerate: &p.rig.tolerate,
        progress: None,
    };
    let run = run_case(&mut Scripted::new(script), &ctx, suite, case);
    assert!(run.failure.is_none(), "{:?}", run.failure);
    let content = format!(
        "# {}/{} — {}\n{}",
        suite.name,
        case.id,
        case.spec,
        run.transcript.normalized(&Redactor::new(&p.rig.secrets))
    );
    let name = format!("{}__{}", suite.name, case.id);
    std::fs::write(p.golden_dir.join(format!("{name}.snap")), format!("---\nsource: x\n---\n{content}")).unwrap();
}

/// What the console and JUnit show of one finished case.
fn shown(r: &CaseResult) -> (String, String) {
    let mut console = Vec::new();
    Terminal::new(&mut console, false).on(&Event::CaseFinished(r)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junit.xml");
    let mut j = Junit::new(path.clone());
    let rig = miplcheck_record::RigInfo {
        name: "r".into(),
        dialect: "bc39".into(),
        target: "t".into(),
        capabilities: vec![],
        window_scale: 1.0,
        secrets: vec![],
    };
    let firmware = miplcheck_record::Firmware::default();
    j.on(&Event::RunStarted { rig: &rig, firmware: &firmware, cases: 1, suites: None, partition: None }).unwrap();
    j.on(&Event::CaseFinished(r)).unwrap();
    j.on(&Event::RunFinished(&Summary::default())).unwrap();
    let xml = std::fs::read_to_string(&path).unwrap();
    (String::from_utf8(console).unwrap(), xml)
}

/// JUnit's failure message: the `message` attribute of `<failure>`.
fn junit_message(xml: &str) -> &str {
    let at = xml.find("<failure").expect("a failure element");
    let rest = &xml[at..];
    let m = rest.find("message=\"").expect("a message") + "message=\"".len();
    let end = rest[m..].find('"').unwrap();
    &rest[m..m + end]
}

const FLOOD_SUITE: &str = "suite: t\ncases:\n  - id: flood\n    spec: BC39 §4.7\n    steps:\n      - send: AT+MIPLOPEN=0,600,60\n      - send: AT+MIPLCLOSE=0\n";

/// `AT+MIPLOPEN` answered with `n` events (the same URC, codes varying) before its `OK`, then
/// `AT+MIPLCLOSE` with `OK`.
fn flood_script(n: usize) -> Vec<Vec<(u64, Vec<u8>)>> {
    let codes = [1, 2, 4, 6, 11];
    let mut open: Vec<(u64, Vec<u8>)> =
        (0..n).map(|k| (100 + k as u64, format!("\r\n+MIPLEVENT: 0,{}\r\n", codes[k % 5]).into_bytes())).collect();
    open.push((100 + n as u64 + 50, b"\r\nOK\r\n".to_vec()));
    vec![open, vec![(500, b"\r\nOK\r\n".to_vec())]]
}

#[test]
fn ten_thousand_urcs_in_one_case_are_named_a_flood_and_shown_in_part() {
    let golden = tempfile::tempdir().unwrap();
    let p = plan(FLOOD_SUITE, golden.path());
    write_golden(&p, flood_script(3));
    let (suite, case) = (&p.suites[0], &p.suites[0].cases[0]);
    let few = p.run_one(&mut Scripted::new(flood_script(3)), suite, case);
    assert_eq!(few.record.snapshot, SnapshotResult::Matched, "{:?}", few.record.reason);

    let t = Instant::now();
    let r = p.run_one(&mut Scripted::new(flood_script(10_000)), suite, case);
    // Generous: debug build, loaded machine. Before the bound it took minutes.
    assert!(t.elapsed() < Duration::from_secs(20), "took {:?}", t.elapsed());
    let c = &r.record;
    assert_eq!((c.verdict, c.snapshot), (Verdict::Failed, SnapshotResult::Changed));
    let reason = c.reason.as_deref().unwrap();
    assert!(reason.contains("a flood: 9,997 more `+MIPLEVENT` lines than the golden transcript"), "{reason}");
    assert!(!reason.contains("printed again"), "{reason}");
    let diff = c.snapshot_diff.as_deref().unwrap();
    assert!(diff.lines().count() <= 41, "{diff}");
    assert!(diff.ends_with("more lines (the whole transcript is in the report)\n"), "{diff}");
    // The transcript keeps every line.
    assert_eq!(r.transcript_text().matches("+MIPLEVENT: 0,").count(), 10_000);
    let (console, xml) = shown(&r);
    assert!(console.len() < 8 * 1024, "{} bytes on the console:\n{console}", console.len());
    assert!(console.contains("a flood: 9,997 more"), "{console}");
    assert!(junit_message(&xml).len() < 4 * 1024 && junit_message(&xml).contains("a flood"), "{}", junit_message(&xml));
}

const BIG: usize = 64_000;

#[test]
fn a_64_kb_line_is_cut_in_reasons_diffs_the_console_and_junit_but_kept_in_the_transcript() {
    let big = || format!("\r\n+MIPLVER: {}\r\n", "7".repeat(BIG)).into_bytes();
    let ver = "suite: t\ncases:\n  - id: ver\n    spec: BC39 §3.2.4\n    steps:\n      - send: AT+MIPLVER?\n        expect: [\"+MIPLVER: {_}\"]\n";
    let golden = tempfile::tempdir().unwrap();

    // As an unexpected information line: the step's failure quotes it.
    let p = plan(ver, golden.path());
    let (suite, case) = (&p.suites[0], &p.suites[0].cases[0]);
    let script = vec![vec![(100, b"\r\n+MIPLVER: 2.3.0\r\n".to_vec()), (200, big()), (300, b"\r\nOK\r\n".to_vec())]];
    let r = p.run_one(&mut Scripted::new(script), suite, case);
    let reason = r.record.reason.as_deref().unwrap();
    assert!(reason.starts_with("unexpected information line `+MIPLVER: 777"), "{reason}");
    assert!(reason.len() < 1024 && reason.contains("more bytes)"), "{} bytes", reason.len());
    assert!(r.record.steps[0].failure.as_deref().unwrap().len() < 1024);
    assert!(r.transcript_text().contains(&"7".repeat(BIG)), "the transcript keeps the whole line");
    let (console, xml) = shown(&r);
    assert!(console.len() < 4 * 1024, "{} bytes on the console", console.len());
    assert!(junit_message(&xml).len() < 2 * 1024, "{} bytes in JUnit's message", junit_message(&xml).len());

    // As the answer itself, against a golden `2.3.0`: the diff and the explanation quote it.
    write_golden(&p, vec![vec![(100, b"\r\n+MIPLVER: 2.3.0\r\n".to_vec()), (300, b"\r\nOK\r\n".to_vec())]]);
    let r = p.run_one(&mut Scripted::new(vec![vec![(200, big()), (300, b"\r\nOK\r\n".to_vec())]]), suite, case);
    assert_eq!(r.record.snapshot, SnapshotResult::Changed);
    let reason = r.record.reason.as_deref().unwrap();
    assert!(reason.contains("`+MIPLVER: 2.3.0` is now `+MIPLVER: 777"), "{reason}");
    assert!(reason.len() < 2 * 1024, "{} bytes", reason.len());
    let diff = r.record.snapshot_diff.as_deref().unwrap();
    assert!(diff.len() < 4 * 1024 && diff.contains("more bytes)"), "{} bytes", diff.len());
    assert!(r.transcript_text().contains(&"7".repeat(BIG)), "the transcript keeps the whole line");
    let (console, xml) = shown(&r);
    assert!(console.len() < 8 * 1024, "{} bytes on the console", console.len());
    assert!(junit_message(&xml).len() < 4 * 1024, "{} bytes in JUnit's message", junit_message(&xml).len());
}

const HEAD: &str =
    "# t/flood — BC39 §4.7\n── step 1: send AT+MIPLOPEN=0,600,60\nTE→UE        AT+MIPLOPEN=0,600,60\\r\n";
const TAIL: &str = "UE→TE final  \\r\\nOK\\r\\n\n── step 2: send AT+MIPLCLOSE=0\nTE→UE        AT+MIPLCLOSE=0\\r\nUE→TE final  \\r\\nOK\\r\\n\n";

/// A golden transcript with three events, and one with `n` (the same URC, codes varying).
fn flood_texts(n: usize) -> (String, String) {
    let event = |code: usize| format!("UE→TE urc    \\r\\n+MIPLEVENT: 0,{code}\\r\\n\n");
    let codes = [1, 2, 4, 6, 11];
    let golden = format!("{HEAD}{}{}{}{TAIL}", event(1), event(2), event(6));
    let new = format!("{HEAD}{}{TAIL}", (0..n).map(|k| event(codes[k % codes.len()])).collect::<String>());
    (golden, new)
}

/// The figures in docs/benchmarks.md: the snapshot explanation and diff of a flood, timed.
/// `cargo test -p miplcheck-runner --test hostile -- --ignored --nocapture flood_timings`
#[test]
#[ignore]
fn flood_timings() {
    for n in [2_500, 5_000, 10_000] {
        let (golden, new) = flood_texts(n);
        let t = Instant::now();
        let d = explain::differences(&golden, &new, &BC39);
        let explained = t.elapsed();
        let t = Instant::now();
        let diff = miplcheck_runner::golden::diff(&golden, &new);
        let diffed = t.elapsed();
        println!(
            "{n} URCs: explanation {:.3} s ({} differences, first: {}), diff {:.3} s ({} bytes)",
            explained.as_secs_f64(),
            d.len(),
            d.first().map(|d| d.says.as_str()).unwrap_or(""),
            diffed.as_secs_f64(),
            diff.len()
        );
    }
}

/// Ten thousand lines on each side, one URC with its codes in two different cycles: many lines
/// match, out of order. The explanation stays bounded in time and in length.
#[test]
fn two_long_transcripts_that_differ_everywhere_are_explained_in_bounded_time() {
    let n = 10_000;
    let golden: String = (0..n).map(|k| format!("UE→TE urc    \\r\\n+MIPLEVENT: 0,{}\\r\\n\n", k % 7)).collect();
    let new: String = (0..n).map(|k| format!("UE→TE urc    \\r\\n+MIPLEVENT: 0,{}\\r\\n\n", k % 11)).collect();
    let t = Instant::now();
    let d = explain::differences(&golden, &new, &BC39);
    let diff = miplcheck_runner::golden::diff(&golden, &new);
    // Generous: debug build, loaded machine; it takes well under a second.
    assert!(t.elapsed() < Duration::from_secs(20), "took {:?}", t.elapsed());
    assert!(d.len() <= explain::MAX_EXPLAINED + 1, "{} differences", d.len());
    assert!(d.iter().map(|d| d.says.len()).sum::<usize>() < 64 * 1024);
    assert!(diff.lines().count() <= 41 && diff.len() < 4 * 1024, "{diff}");
}
