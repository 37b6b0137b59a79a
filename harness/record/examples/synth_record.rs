//! A big run record for benchmarks of the tools that read records (`miplcheck diff`, `miplcheck
//! report`, JUnit): N cases shaped like an emulator run of the BC39 suites — config, notify and
//! register flows with echoes, URCs, the platform's datagrams (message IDs, tokens, a port per
//! case), send steps with latencies and windows — mostly passing, a few failing (a late answer, a
//! changed snapshot with its diff), a few skipped.
//!
//! ```text
//! cargo run --release -p miplcheck-record --example synth_record -- N OUT [a|b]
//! ```
//!
//! Variant `b` is "the next firmware" of `a` (the default): its own ports, message IDs and
//! tokens (volatile, so no difference to a diff), a few verdicts and answers changed, and
//! `+MIPLNOTIFY` answered 30 % slower. OUT is a run folder (`run.json` inside) or a `.json` file.

use miplcheck_record::{
    CaseRecord, Class, Dir, FailedAt, Firmware, Line, RigInfo, RunRecord, SnapshotResult, StepRecord, Totals, Verdict,
    SCHEMA,
};
use std::path::PathBuf;

/// A small deterministic generator: the same N and variant give the same record.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// A latency around `ms`, ±25 %, to the microsecond.
    fn around(&mut self, ms: f64) -> f64 {
        let f = 0.75 + self.below(500) as f64 / 1000.0;
        (ms * f * 1000.0).round() / 1000.0
    }
}

/// One case being built: its transcript and step records, and the clock of its lines.
struct Case {
    lines: Vec<Line>,
    steps: Vec<StepRecord>,
    at: f64,
    setup: usize,
    step: usize,
    mid: u32,
    token: u32,
}

impl Case {
    fn new(rng: &mut Rng) -> Case {
        Case {
            lines: vec![],
            steps: vec![],
            at: 0.0,
            setup: 0,
            step: 0,
            mid: 20_000 + rng.below(40_000) as u32,
            token: rng.next() as u32,
        }
    }

    fn label(&mut self, setup: bool) -> String {
        if setup {
            self.setup += 1;
            format!("setup {}", self.setup)
        } else {
            self.step += 1;
            format!("step {}", self.step)
        }
    }

    /// A send step: the header (with the template), the command, its echo, its answers (the last
    /// one the final result code) and the step's record.
    #[allow(clippy::too_many_arguments)]
    fn send(&mut self, rng: &mut Rng, setup: bool, template: &str, sent: &str, answers: &[&str], ms: f64) -> f64 {
        let label = self.label(setup);
        self.lines.push(Line::step(&label, &format!("send {template}")));
        self.lines.push(Line::entry(self.at, Dir::TeToUe, None, format!("{sent}\\r")));
        self.lines.push(Line::entry(self.at, Dir::UeToTe, Some(Class::Echo), format!("{sent}\\r\\r\\n")));
        let latency = rng.around(ms);
        for (i, a) in answers.iter().enumerate() {
            let class = if i + 1 == answers.len() { Class::Final } else { Class::Info };
            let text = if class == Class::Final && answers.len() > 1 {
                format!("\\r\\n{a}\\r\\n")
            } else {
                format!("{a}\\r\\n")
            };
            self.lines.push(Line::entry(self.at + latency, Dir::UeToTe, Some(class), text));
        }
        self.at += latency + rng.around(0.2);
        let name = sent.strip_prefix("AT").unwrap_or(sent).split(['=', '?']).next().unwrap_or_default();
        self.steps.push(StepRecord {
            label,
            line: 10 + self.steps.len() * 2,
            what: format!("send {template}"),
            command: Some(name.to_string()),
            latency_ms: Some(latency),
            response_ms: None,
            serial_line: None,
            judged_on: None,
            window_ms: Some(300.0),
            failure: None,
        });
        latency
    }

    /// A waiting step for URCs that came; a `{name}` in the header's patterns captures what
    /// the URC at that place says.
    fn urcs(&mut self, rng: &mut Rng, urcs: &[String]) {
        let label = self.label(false);
        let what = format!("urcs {}", urcs.iter().map(|u| captured(u)).collect::<Vec<_>>().join(" · "));
        self.lines.push(Line::step(&label, &what));
        let latency = rng.around(1.5);
        for u in urcs {
            self.at += rng.around(0.4);
            self.lines.push(Line::entry(self.at, Dir::UeToTe, Some(Class::Urc), format!("\\r\\n{u}\\r\\n")));
        }
        self.steps.push(StepRecord {
            label,
            line: 10 + self.steps.len() * 2,
            what,
            command: None,
            latency_ms: Some(latency),
            response_ms: None,
            serial_line: None,
            judged_on: None,
            window_ms: Some(10_000.0),
            failure: None,
        });
    }

    /// A datagram: `dir` and its decoded text, with a message ID and token of this case.
    fn wire(&mut self, dir: Dir, head: &str, new_exchange: bool, tail: &str) {
        if new_exchange {
            self.mid = self.mid.wrapping_add(1);
            self.token = self.token.wrapping_add(1);
        }
        let text = format!("{head} mid={} token={:08X}{tail}", self.mid, self.token);
        self.lines.push(Line::entry(self.at, dir, Some(Class::Coap), text));
    }
}

/// The pattern a suite writes for a URC: an observe's message ID is captured as `{obs}`.
fn captured(urc: &str) -> String {
    match urc.strip_prefix("+MIPLOBSERVE: 0,").and_then(|r| r.split_once(',')) {
        Some((_, rest)) => format!("+MIPLOBSERVE: 0,{{obs}},{rest}"),
        None => urc.to_string(),
    }
}

/// What makes variant `b` differ from `a`, case by case.
#[derive(Clone, Copy, PartialEq)]
enum Variant {
    A,
    B,
}

fn config_case(rng: &mut Rng, i: usize, v: Variant) -> Case {
    let mut c = Case::new(rng);
    c.send(rng, true, "AT+CMEE=1", "AT+CMEE=1", &["OK"], 0.3);
    let port = 40_000 + rng.below(20_000);
    c.send(
        rng,
        true,
        "AT+MIPLCONFIG=0,${platform.host},${platform.port}",
        &format!("AT+MIPLCONFIG=0,127.0.0.1,{port}"),
        &["OK"],
        0.4,
    );
    c.send(rng, false, "AT+MIPLCREATE", "AT+MIPLCREATE", &["+MIPLCREATE:0", "OK"], 0.5);
    let changed = v == Variant::B && i % 250 == 7;
    let version = if changed { "+MIPLVER:2.3.1" } else { "+MIPLVER:2.3.0" };
    c.send(rng, false, "AT+MIPLVER?", "AT+MIPLVER?", &[version, "OK"], 0.3);
    c.send(rng, false, "AT+MIPLADDOBJ=0,3303,2,\"11\",4,2", "AT+MIPLADDOBJ=0,3303,2,\"11\",4,2", &["OK"], 0.2);
    c.send(rng, false, "AT+MIPLDELOBJ=0,3303", "AT+MIPLDELOBJ=0,3303", &["OK"], 0.2);
    c.send(rng, false, "AT+MIPLDELETE=0", "AT+MIPLDELETE=0", &["OK"], 0.3);
    c
}

fn notify_case(rng: &mut Rng, i: usize, v: Variant) -> Case {
    let mut c = Case::new(rng);
    let port = 40_000 + rng.below(20_000);
    c.send(rng, true, "AT+CMEE=1", "AT+CMEE=1", &["OK"], 0.3);
    c.send(
        rng,
        true,
        "AT+MIPLCONFIG=0,${platform.host},${platform.port}",
        &format!("AT+MIPLCONFIG=0,127.0.0.1,{port}"),
        &["OK"],
        0.4,
    );
    c.send(rng, true, "AT+MIPLCREATE", "AT+MIPLCREATE", &["+MIPLCREATE:0", "OK"], 0.5);
    c.send(rng, true, "AT+MIPLADDOBJ=0,3303,2,\"11\",4,2", "AT+MIPLADDOBJ=0,3303,2,\"11\",4,2", &["OK"], 0.2);
    c.send(rng, true, "AT+MIPLOPEN=0,600,60", "AT+MIPLOPEN=0,600,60", &["OK"], 0.8);
    c.wire(
        Dir::UeToPf,
        "CON POST /rd?lwm2m=1.0&ep=86697103*******;46000*********&b=U&lt=600",
        true,
        " cf=link-format </>;rt=\"oma.lwm2m\",</3303/0>,</3303/1>",
    );
    c.wire(Dir::PfToUe, "ACK 2.01", false, " location=/rd/1");
    let obs = 100_000 + rng.below(900_000);
    c.urcs(rng, &["+MIPLEVENT: 0,4".into(), "+MIPLEVENT: 0,6".into(), format!("+MIPLOBSERVE: 0,{obs},1,3303,0,-1")]);
    c.wire(Dir::PfToUe, "CON GET /3303/0", true, " observe=0");
    c.wire(Dir::UeToPf, "ACK 2.05", false, " observe=0");
    c.send(rng, false, "AT+CSCON=1", "AT+CSCON=1", &["OK"], 0.2);
    let slower = if v == Variant::B { 1.3 } else { 1.0 };
    for (res, value) in [(5700, "4,4,170.1"), (5701, "1,3,\"Cel\""), (5601, "4,4,106.1"), (5602, "4,4,660.9")] {
        let template = format!("AT+MIPLNOTIFY=0,${{obs}},3303,0,{res},{value},0,0,257,0x400");
        let cmd = format!("AT+MIPLNOTIFY=0,{obs},3303,0,{res},{value},0,0,257,0x400");
        c.send(rng, false, &template, &cmd, &["OK"], 30.0 * slower);
    }
    let answer = if v == Variant::B && i % 300 == 11 { "+CME ERROR: 3" } else { "OK" };
    c.send(rng, false, "AT+MIPLUPDATE=0,600,1", "AT+MIPLUPDATE=0,600,1", &[answer], 25.0);
    c.wire(Dir::UeToPf, "CON POST /rd/1", true, " lt=600");
    c.wire(Dir::PfToUe, "ACK 2.04", false, "");
    c.urcs(rng, &["+CSCON:1".into(), "+MIPLEVENT: 0,26,257".into(), "+CSCON:0".into()]);
    c.wire(
        Dir::UeToPf,
        "CON 2.05",
        true,
        " observe=1 cf=tlv-old(1542) 5700=[43 2A 19 9A], 5701=\"Cel\", 5601=[42 D4 33 33], 5602=[44 25 39 9A]",
    );
    c.wire(Dir::PfToUe, "ACK", false, "");
    c
}

fn register_case(rng: &mut Rng, _i: usize, _v: Variant) -> Case {
    let mut c = Case::new(rng);
    let port = 40_000 + rng.below(20_000);
    c.send(
        rng,
        true,
        "AT+MIPLCONFIG=1,${platform.host},${platform.port}",
        &format!("AT+MIPLCONFIG=1,127.0.0.1,{port}"),
        &["OK"],
        0.4,
    );
    c.send(rng, true, "AT+MIPLCREATE", "AT+MIPLCREATE", &["+MIPLCREATE:0", "OK"], 0.5);
    c.send(rng, true, "AT+MIPLADDOBJ=0,3200,1,\"1\",0,1", "AT+MIPLADDOBJ=0,3200,1,\"1\",0,1", &["OK"], 0.2);
    c.send(rng, false, "AT+MIPLOPEN=0,3000,30", "AT+MIPLOPEN=0,3000,30", &["OK"], 0.7);
    c.wire(
        Dir::UeToPf,
        "CON POST /bs?ep=86697103*******;46000*********",
        true,
        &format!(" uri=coap://127.0.0.1:{port}"),
    );
    c.wire(Dir::PfToUe, "ACK 2.04", false, "");
    c.wire(Dir::PfToUe, "CON PUT /0/1", true, " cf=tlv 0=\"coap://127.0.0.1:5683\", 1=false, 2=3");
    c.wire(Dir::UeToPf, "ACK 2.04", false, "");
    c.wire(Dir::PfToUe, "CON POST /bs", true, "");
    c.wire(Dir::UeToPf, "ACK 2.04", false, "");
    c.wire(
        Dir::UeToPf,
        "CON POST /rd?lwm2m=1.0&ep=86697103*******;46000*********&b=U&lt=3000",
        true,
        " cf=link-format </>;rt=\"oma.lwm2m\",</3200/0>",
    );
    c.wire(Dir::PfToUe, "ACK 2.01", false, " location=/rd/1");
    c.urcs(
        rng,
        &["+MIPLEVENT: 0,1".into(), "+MIPLEVENT: 0,2".into(), "+MIPLEVENT: 0,4".into(), "+MIPLEVENT: 0,6".into()],
    );
    c.send(rng, false, "AT+MIPLCLOSE=0", "AT+MIPLCLOSE=0", &["OK"], 0.6);
    c.wire(Dir::UeToPf, "CON DELETE /rd/1", true, "");
    c.wire(Dir::PfToUe, "ACK 2.02", false, "");
    c.urcs(rng, &["+MIPLEVENT: 0,15".into()]);
    c
}

/// A flow that builds case `i` of a variant.
type Flow = fn(&mut Rng, usize, Variant) -> Case;

fn case(i: usize, v: Variant) -> CaseRecord {
    // The case's content is the same in both variants; what a run cannot repeat (ports, message
    // IDs, tokens, exact latencies) is the variant's own.
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ (i as u64) << 1 ^ if v == Variant::B { 0xB } else { 0xA });
    let (suite, spec, build): (&str, &str, Flow) = match i % 3 {
        0 => ("config", "BC39 §5.1", config_case),
        1 => ("notify", "BC39 §5.8.7", notify_case),
        _ => ("register", "BC39 §5.3, §6.2", register_case),
    };
    let mut record = CaseRecord {
        suite: suite.into(),
        case: format!("{suite}-{i:05}"),
        spec: spec.into(),
        title: Some(format!("Synthetic case {i} of the {suite} flow")),
        verdict: Verdict::Passed,
        failed_at: None,
        line: None,
        reason: None,
        duration_ms: 0.0,
        steps: vec![],
        snapshot: SnapshotResult::Matched,
        snapshot_diff: None,
        warnings: vec![],
        transcript: vec![],
        suite_file: Some(format!("suites/{suite}.yaml")),
        attempts: vec![],
        quarantine: None,
    };
    if i % 41 == 40 {
        record.verdict = Verdict::Skipped;
        record.snapshot = SnapshotResult::NotCompared;
        record.reason = Some("the rig lacks capability `sota`".into());
        return record;
    }
    let mut c = build(&mut rng, i, v);
    record.duration_ms = (c.at * 1000.0).round() / 1000.0;
    let late = i % 97 == 13 || (v == Variant::B && i % 500 == 250);
    let changed = i % 89 == 5 || (v == Variant::B && i % 300 == 11 && i % 3 == 1);
    if late {
        let step = c.steps.last_mut().expect("every flow sends");
        step.latency_ms = Some(412.0);
        step.failure = Some("OK came after 412 ms, past the 300 ms window".into());
        let (label, line) = (step.label.clone(), step.line);
        c.lines.push(Line::note(c.at + 412.0, format!("{label} failed: OK came after 412 ms, past the 300 ms window")));
        record.verdict = Verdict::Failed;
        record.failed_at = Some(FailedAt::Step(label));
        record.line = Some(line);
        record.reason = Some("OK came after 412 ms, past the 300 ms window".into());
        record.snapshot = SnapshotResult::NotCompared;
    } else if changed {
        record.verdict = Verdict::Failed;
        record.failed_at = Some(FailedAt::Snapshot);
        record.reason =
            Some("the transcript differs from golden/bc39/".to_string() + suite + "__" + &record.case + ".snap");
        record.snapshot = SnapshotResult::Changed;
        record.snapshot_diff = Some(
            "  ── step 2: send AT+MIPLUPDATE=0,600,1\n  TE→UE        AT+MIPLUPDATE=0,600,1\\r\n-UE→TE final  OK\\r\\n\n+UE→TE final  +CME ERROR: 3\\r\\n\n…\n"
                .into(),
        );
    }
    record.steps = c.steps;
    record.transcript = c.lines;
    record
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: synth_record N OUT [a|b]";
    let (Some(n), Some(out)) = (args.first().and_then(|n| n.parse::<usize>().ok()), args.get(1)) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let variant = match args.get(2).map(String::as_str) {
        None | Some("a") => Variant::A,
        Some("b") => Variant::B,
        Some(other) => {
            eprintln!("{usage}: no variant {other:?}");
            std::process::exit(2);
        }
    };
    let cases: Vec<CaseRecord> = (0..n).map(|i| case(i, variant)).collect();
    let duration: f64 = cases.iter().map(|c| c.duration_ms + 50.0).sum();
    let record = RunRecord {
        schema: SCHEMA.into(),
        tool: env!("CARGO_PKG_VERSION").into(),
        started: if variant == Variant::A { "2026-12-01T21:00:00Z" } else { "2026-12-02T21:00:00Z" }.into(),
        duration_ms: duration as u64,
        rig: RigInfo {
            name: "emulator-bc39".into(),
            dialect: "bc39".into(),
            target: "emulator on /dev/pts/3".into(),
            capabilities: vec!["dtls".into(), "rai".into()],
            window_scale: 1.0,
            secrets: vec!["auth_code".into(), "psk".into()],
        },
        firmware: Firmware {
            revision: if variant == Variant::A { "Revision:BC39R01A01" } else { "Revision:BC39R01A02" }.into(),
            imei: Some("86697103*******".into()),
            note: None,
            flash: None,
        },
        summary: Totals::of(&cases),
        cases,
        incomplete: None,
        health: None,
        suites: None,
        partition: None,
        merged_from: vec![],
    };
    let mut path = PathBuf::from(out);
    if path.extension().is_none_or(|e| e != "json") {
        path = path.join("run.json");
    }
    if let Err(e) = record.save(&path) {
        eprintln!("{e}");
        std::process::exit(1);
    }
    let t = record.summary;
    println!("{}: {n} cases ({} passed, {} failed, {} skipped)", path.display(), t.passed, t.failed, t.skipped);
}
