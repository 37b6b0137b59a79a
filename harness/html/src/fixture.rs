//! Run records for the HTML tests: one of each kind of case a report has to show (passed with
//! latencies, failed with a reason and a snapshot diff, skipped without steps, markup in a
//! transcript), an empty run, and a rack of three rigs (healthy, unhealthy, flaky and quarantined).

use miplcheck_record::{
    CaseRecord, Class, Dir, FailedAt, Firmware, Health, HealthCheck, HealthState, Line, RackRecord, RigInfo, RunRecord,
    SnapshotResult, StepRecord, Totals, Verdict, SCHEMA,
};

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
        firmware: Firmware {
            revision: "Revision: BC39NBR01A04_ONT".into(),
            imei: Some("86697103*******".into()),
            note: None,
            flash: None,
        },
        summary: Totals::default(),
        cases: vec![],
        incomplete: None,
        health: None,
        suites: None,
        partition: None,
        merged_from: vec![],
    }
}

pub fn step(label: &str, command: &str, latency: Option<f64>, window: f64) -> StepRecord {
    StepRecord {
        label: label.into(),
        line: 20,
        what: format!("send AT{command}=0"),
        command: Some(command.into()),
        latency_ms: latency,
        response_ms: None,
        serial_line: None,
        judged_on: None,
        window_ms: Some(window),
        failure: None,
    }
}

pub fn entry(at: f64, dir: Dir, class: Option<Class>, text: &str) -> Line {
    Line::entry(at, dir, class, text)
}

pub fn case(suite: &str, name: &str, verdict: Verdict, steps: Vec<StepRecord>) -> CaseRecord {
    CaseRecord {
        suite: suite.into(),
        case: name.into(),
        spec: "BC39 §3.2.4".into(),
        title: Some(format!("{name} does its thing")),
        verdict,
        failed_at: None,
        line: None,
        reason: None,
        duration_ms: 4.2,
        steps,
        snapshot: SnapshotResult::Matched,
        snapshot_diff: None,
        warnings: vec![],
        transcript: vec![],
        suite_file: None,
        attempts: vec![],
        quarantine: None,
    }
}

/// A record whose only case has these steps.
pub fn with_steps(steps: Vec<StepRecord>) -> RunRecord {
    let mut r = empty();
    r.cases.push(case("s", "c", Verdict::Passed, steps));
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
        Verdict::Passed,
        vec![step("step 1", "+MIPLOPEN", Some(210.5), 3000.0), step("step 2", "+MIPLCLOSE", Some(0.2), 300.0)],
    );
    pass.transcript = vec![
        Line::step("step 1", "send AT+MIPLOPEN=0,600,60"),
        entry(0.0, Dir::TeToUe, None, r"AT+MIPLOPEN=0,600,60\r"),
        entry(1.0, Dir::UeToPf, Some(Class::Coap), "CON POST /rd?ep=86697103*******"),
        entry(2.0, Dir::PfToUe, Some(Class::Coap), "ACK 2.01 location=/rd/1"),
        entry(3.0, Dir::UeToTe, Some(Class::Final), r"OK\r\n"),
        entry(4.0, Dir::UeToTe, Some(Class::Urc), r"\r\n+MIPLEVENT: 0,6\r\n"),
        entry(5.0, Dir::UeToTe, Some(Class::Info), r#"+MIPLREAD: "<script>alert('x & y')</script>"\r\n"#),
    ];
    let mut fail = case("session", "update", Verdict::Failed, vec![step("step 1", "+MIPLUPDATE", Some(412.0), 300.0)]);
    fail.failed_at = Some(FailedAt::Step("step 1".into()));
    fail.line = Some(31);
    fail.reason = Some("OK came after 412 ms, past the 300 ms window".into());
    fail.snapshot = SnapshotResult::Changed;
    fail.snapshot_diff = Some(" AT+MIPLUPDATE=0,600,0\\r\n-+MIPLEVENT: 0,11\n++MIPLEVENT: 0,12\n…\n".into());
    fail.warnings = vec!["URC ahead of OK (tolerated)".into()];
    fail.transcript =
        vec![entry(0.0, Dir::TeToUe, None, r"AT+MIPLUPDATE=0,600,0\r"), Line::note(412.0, "step 1 failed: late")];
    let mut skip = case("sota", "sota-info", Verdict::Skipped, vec![]);
    skip.reason = Some("the rig lacks capability `sota`".into());
    r.cases = vec![pass, fail, skip];
    r.summary = Totals { passed: 1, failed: 1, skipped: 1, ..Totals::default() };
    r
}

/// A rack run: `bench-1` is [`run`] (a pass, a failure, a skip) and healthy; `bench-<2>` went
/// unhealthy after its first case, so its rack is incomplete; `lab-3`, in a folder named like a
/// script URL, ran two cases: one flaky, one quarantined with markup in its reason.
pub fn rack() -> RackRecord {
    let check = |when: &str, ok: bool, rungs: &[&str]| HealthCheck {
        when: when.into(),
        ok,
        rungs: rungs.iter().map(|r| r.to_string()).collect(),
        duration_ms: 1500.0,
    };

    let mut one = run();
    one.rig.name = "bench-1".into();
    one.health = Some(Health {
        state: HealthState::Good,
        reason: None,
        checks: vec![check("before the first case", true, &["AT: OK"])],
    });

    let mut two = empty();
    two.rig.name = "bench-<2>".into();
    two.rig.dialect = "m5310a".into();
    two.firmware = Firmware {
        revision: "M5310-A_V1.2.7".into(),
        imei: None,
        note: Some("the IMEI probe timed out".into()),
        flash: None,
    };
    let err = |name: &str, why: &str| {
        let mut c = case("session", name, Verdict::Error, vec![]);
        c.failed_at = Some(FailedAt::Prepare);
        c.reason = Some(why.into());
        c
    };
    let mut only = err("x", "not run: the rig is unhealthy");
    only.suite = "register".into();
    only.case = "only-on-bench-2".into();
    let mut sota = err("x", "not run: the rig is unhealthy");
    sota.suite = "sota".into();
    sota.case = "sota-info".into();
    two.cases = vec![
        err("open-close", "sync: no OK to AT in 5 tries"),
        only,
        err("update", "not run: the rig is unhealthy"),
        sota,
    ];
    two.summary = Totals::of(&two.cases);
    two.incomplete = Some("bench-<2> was found unhealthy".into());
    two.health = Some(Health {
        state: HealthState::Unhealthy,
        reason: Some("no OK to AT after reset and power cycle".into()),
        checks: vec![
            check("before the first case", true, &["AT: OK"]),
            check(
                "after session/open-close (infrastructure error)",
                false,
                &[
                    "AT: sync: no OK in 5 tries",
                    "reset AT+QRST=1: no RDY within 10 s",
                    "power cycle (uhubctl -a cycle -p 2): no OK",
                ],
            ),
        ],
    });

    let mut three = empty();
    three.rig.name = "lab-3".into();
    three.rig.target = "tcp <img onerror=alert(1)>".into();
    let mut flaky = case("session", "open-close", Verdict::Passed, vec![]);
    let mut first = flaky.clone();
    first.verdict = Verdict::Failed;
    first.reason = Some("no OK within 300 ms".into());
    flaky.attempts = vec![first];
    let mut quarantined = case("session", "update", Verdict::Failed, vec![]);
    quarantined.reason = Some("+MIPLEVENT: 0,11 never came".into());
    quarantined.quarantine = Some("JIRA-9: <script>alert(1)</script>".into());
    three.cases = vec![flaky, quarantined];
    three.summary = Totals::of(&three.cases);
    three.health = Some(Health::default());

    RackRecord::of(
        "nightly",
        "0.1.0",
        "2026-12-02T01:00:00Z",
        3_725_000,
        [(&one, "bench-1"), (&two, "bench-2"), (&three, "javascript:alert(1)")],
    )
}
