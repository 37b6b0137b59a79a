//! Run records for the HTML tests: one of each kind of case a report has to show (passed with
//! latencies, failed with a reason and a snapshot diff, skipped without steps, markup in a
//! transcript), and an empty run.

use crate::record::{CaseRecord, Firmware, Line, RigInfo, RunRecord, StepRecord, Totals, SCHEMA};

pub fn empty() -> RunRecord {
    RunRecord {
        schema: SCHEMA.into(),
        tool: "0.1.0".into(),
        started: "2026-11-21T11:20:05Z".into(),
        duration_ms: 0,
        rig: RigInfo {
            name: "bench-<1>".into(),
            dialect: "bc39".into(),
            target: "serial on /dev/ttyUSB0".into(),
            capabilities: vec!["dtls".into()],
            window_scale: 1.0,
            secrets: vec!["psk".into()],
        },
        firmware: Firmware { revision: "Revision: BC39NBR01A04_ONT".into(), imei: Some("86697103*******".into()) },
        summary: Totals::default(),
        cases: vec![],
    }
}

pub fn step(label: &str, command: &str, latency: Option<f64>, window: f64) -> StepRecord {
    StepRecord {
        label: label.into(),
        line: 20,
        what: format!("send AT{command}=0"),
        command: Some(command.into()),
        latency_ms: latency,
        window_ms: Some(window),
        failure: None,
    }
}

pub fn entry(at: f64, dir: &str, class: Option<&str>, text: &str) -> Line {
    Line {
        kind: "entry".into(),
        at_ms: Some(at),
        dir: Some(dir.into()),
        class: class.map(Into::into),
        text: text.into(),
    }
}

pub fn case(suite: &str, name: &str, verdict: &str, steps: Vec<StepRecord>) -> CaseRecord {
    CaseRecord {
        suite: suite.into(),
        case: name.into(),
        spec: "BC39 §3.2.4".into(),
        title: Some(format!("{name} does its thing")),
        verdict: verdict.into(),
        failed_at: None,
        line: None,
        reason: None,
        duration_ms: 4.2,
        steps,
        snapshot: "matched".into(),
        snapshot_diff: None,
        warnings: vec![],
        transcript: vec![],
    }
}

/// A record whose only case has these steps.
pub fn with_steps(steps: Vec<StepRecord>) -> RunRecord {
    let mut r = empty();
    r.cases.push(case("s", "c", "passed", steps));
    r.summary.passed = 1;
    r
}

/// Three suites' worth: a pass, a failure with a diff, a skip, and a transcript with markup in it.
pub fn run() -> RunRecord {
    let mut r = empty();
    r.duration_ms = 1218;
    let mut pass = case(
        "session",
        "open-close",
        "passed",
        vec![step("step 1", "+MIPLOPEN", Some(210.5), 3000.0), step("step 2", "+MIPLCLOSE", Some(0.2), 300.0)],
    );
    pass.transcript = vec![
        Line {
            kind: "step".into(),
            at_ms: None,
            dir: None,
            class: None,
            text: "step 1: send AT+MIPLOPEN=0,600,60".into(),
        },
        entry(0.0, "TE→UE", None, r"AT+MIPLOPEN=0,600,60\r"),
        entry(1.0, "UE→PF", Some("coap"), "CON POST /rd?ep=86697103*******"),
        entry(2.0, "PF→UE", Some("coap"), "ACK 2.01 location=/rd/1"),
        entry(3.0, "UE→TE", Some("final"), r"OK\r\n"),
        entry(4.0, "UE→TE", Some("urc"), r"\r\n+MIPLEVENT: 0,6\r\n"),
        entry(5.0, "UE→TE", Some("info"), r#"+MIPLREAD: "<script>alert('x & y')</script>"\r\n"#),
    ];
    let mut fail = case("session", "update", "failed", vec![step("step 1", "+MIPLUPDATE", Some(412.0), 300.0)]);
    fail.failed_at = Some("step 1".into());
    fail.line = Some(31);
    fail.reason = Some("OK came after 412 ms, past the 300 ms window".into());
    fail.snapshot = "changed".into();
    fail.snapshot_diff = Some(" AT+MIPLUPDATE=0,600,0\\r\n-+MIPLEVENT: 0,11\n++MIPLEVENT: 0,12\n…\n".into());
    fail.warnings = vec!["URC ahead of OK (tolerated)".into()];
    fail.transcript = vec![
        entry(0.0, "TE→UE", None, r"AT+MIPLUPDATE=0,600,0\r"),
        Line { kind: "note".into(), at_ms: Some(412.0), dir: None, class: None, text: "## step 1 failed: late".into() },
    ];
    let mut skip = case("sota", "sota-info", "skipped", vec![]);
    skip.reason = Some("the rig lacks capability `sota`".into());
    r.cases = vec![pass, fail, skip];
    r.summary = Totals { passed: 1, failed: 1, skipped: 1 };
    r
}
