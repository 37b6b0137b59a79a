//! JUnit XML for CI (quick-junit): one testsuite per suite file, one testcase per case, each
//! windowed step's measured latency and window as properties, the transcript as system-out. A
//! renderer of the run record ([`render`]), so `miplcheck report` can write it again from
//! `run.json` or a journal; the reporter writes it when the run ends.

use super::json::RecordBuilder;
use super::{Event, Reporter};
use miplcheck_record::{CaseRecord, FailedAt, Flash, RunRecord, Verdict};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestRerun, TestSuite};
use std::path::PathBuf;

pub struct Junit {
    path: PathBuf,
    builder: RecordBuilder,
}

impl Junit {
    pub fn new(path: PathBuf) -> Self {
        Junit { path, builder: RecordBuilder::new() }
    }

    /// One testcase, its class `<rig>.<suite>` so several rigs' reports never collide: a
    /// failure is `<failure>`, an infrastructure error `<error>`, a quarantined failure
    /// `<skipped>` with the entry's reason, and earlier attempts `<flakyFailure>` (when the last
    /// passed) or `<rerunFailure>`, each with its own transcript.
    fn case(rig: &str, r: &CaseRecord) -> TestCase {
        let why = || format!("{}: {}", r.place().unwrap_or_default(), r.reason.as_deref().unwrap_or(""));
        let mut status = match (r.verdict, &r.quarantine) {
            (Verdict::Passed, _) => TestCaseStatus::success(),
            (Verdict::Skipped, _) => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(r.reason.as_deref().unwrap_or(""));
                s
            }
            (Verdict::Failed | Verdict::Error, Some(ticket)) => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(format!("quarantined ({ticket}); {} {}", r.verdict, why()));
                s.set_type("quarantined");
                s
            }
            (Verdict::Failed, None) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(why());
                s.set_type(if r.failed_at == Some(FailedAt::Snapshot) { "snapshot" } else { "step" });
                if let Some(diff) = &r.snapshot_diff {
                    s.set_description(diff.as_str());
                }
                s
            }
            (Verdict::Error, None) => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
                s.set_message(why());
                s.set_type(if r.failed_at == Some(FailedAt::NotRun) { "not-run" } else { "infrastructure" });
                s
            }
        };
        status.add_reruns(r.attempts.iter().map(|a| {
            let kind = if a.verdict == Verdict::Error { NonSuccessKind::Error } else { NonSuccessKind::Failure };
            let mut rerun = TestRerun::new(kind);
            rerun.set_message(format!("{}: {}", a.place().unwrap_or_default(), a.reason.as_deref().unwrap_or("")));
            rerun.set_time(std::time::Duration::from_secs_f64(a.duration_ms.max(0.0) / 1000.0));
            rerun.set_system_out(transcript(a));
            rerun
        }));
        let mut tc = TestCase::new(r.case.as_str(), status);
        tc.set_classname(format!("{rig}.{}", r.suite));
        tc.set_time(std::time::Duration::from_secs_f64(r.duration_ms.max(0.0) / 1000.0));
        tc.add_property(Property::new("spec", r.spec.as_str()));
        tc.add_property(Property::new("attempt", r.attempt_count().to_string()));
        if r.flaky() {
            tc.add_property(Property::new("flaky", "true"));
        }
        if let Some(ticket) = &r.quarantine {
            tc.add_property(Property::new("quarantine", ticket.as_str()));
        }
        for st in &r.steps {
            if let Some(w) = st.window_ms {
                let latency = st.latency_ms.map(ms).unwrap_or_else(|| "none".into());
                tc.add_property(Property::new(
                    format!("latency.{}", st.label.replace(' ', "")),
                    format!("{latency} (window {}) {}", ms(w), st.what),
                ));
            }
        }
        tc.set_system_out(transcript(r));
        tc
    }
}

fn transcript(r: &CaseRecord) -> String {
    r.transcript.iter().map(|l| format!("{l}\n")).collect()
}

/// `1 ms`, `412.5 ms`: as the engine words latencies.
fn ms(v: f64) -> String {
    crate::engine::ms(std::time::Duration::from_secs_f64(v.max(0.0) / 1000.0))
}

/// The properties every testsuite of a rig carries: rig, dialect, target, firmware, the IMEI as
/// the record shows it, its health when it ended unhealthy, and `incomplete` when the run did not
/// finish.
fn rig_properties(record: &RunRecord) -> Vec<Property> {
    let mut props = vec![
        ("rig", record.rig.name.clone()),
        ("dialect", record.rig.dialect.clone()),
        ("target", record.rig.target.clone()),
        ("firmware", record.firmware.revision.clone()),
    ];
    if let Some(imei) = &record.firmware.imei {
        props.push(("imei", imei.clone()));
    }
    if let Some(f) = &record.firmware.flash {
        props.extend(flash_properties(f));
    }
    if let Some(h) = &record.health {
        props.push(("health", h.state.as_str().to_string()));
        if let Some(why) = &h.reason {
            props.push(("health.reason", why.clone()));
        }
    }
    if let Some(why) = &record.incomplete {
        props.push(("incomplete", why.clone()));
    }
    props.into_iter().map(|(k, v)| Property::new(k, v)).collect()
}

/// `run --firmware`: the file flashed (name, size, SHA-256), how, the revision expected and the
/// revisions before and after, and how it ended (`qualified`, `wrong-firmware`, `failed`).
fn flash_properties(f: &Flash) -> Vec<(&'static str, String)> {
    let unknown = || "unknown".to_string();
    let mut props = vec![
        ("firmware.file", f.file.clone()),
        ("firmware.size", f.size.to_string()),
        ("firmware.sha256", f.sha256.clone()),
        ("firmware.via", f.via.clone()),
        ("firmware.expected", format!("{} ({})", f.expected, f.expected_from)),
        ("firmware.before", f.before.clone().unwrap_or_else(unknown)),
        ("firmware.after", f.after.clone().unwrap_or_else(unknown)),
        ("firmware.flash", f.outcome.as_str().to_string()),
    ];
    if let Some(why) = &f.reason {
        props.push(("firmware.flash.reason", why.clone()));
    }
    props
}

/// The run as JUnit: one testsuite per suite, in the order the cases ran, each with the rig's
/// properties.
pub fn render(record: &RunRecord) -> Report {
    let props = rig_properties(record);
    let mut suites: Vec<TestSuite> = vec![];
    for c in &record.cases {
        if suites.last().map(|s| s.name.as_str() != c.suite).unwrap_or(true) {
            let mut s = TestSuite::new(c.suite.as_str());
            s.add_properties(props.iter().cloned());
            suites.push(s);
        }
        suites.last_mut().expect("pushed above").add_test_case(Junit::case(&record.rig.name, c));
    }
    let mut report = Report::new("miplcheck");
    report.set_time(std::time::Duration::from_millis(record.duration_ms));
    report.add_test_suites(suites);
    report
}

/// A rack as JUnit: one testsuite per rig, named after the rig, with its properties; its cases'
/// classes are `<rig>.<suite>`.
pub fn render_rack(name: &str, duration: std::time::Duration, records: &[RunRecord]) -> Report {
    let mut report = Report::new(name);
    report.set_time(duration);
    for record in records {
        let mut s = TestSuite::new(record.rig.name.as_str());
        s.add_properties(rig_properties(record));
        s.set_time(std::time::Duration::from_millis(record.duration_ms));
        s.add_test_cases(record.cases.iter().map(|c| Junit::case(&record.rig.name, c)));
        report.add_test_suite(s);
    }
    report
}

/// A rack's `junit.xml` as bytes.
pub fn rack_to_bytes(name: &str, duration: std::time::Duration, records: &[RunRecord]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    render_rack(name, duration, records).serialize(&mut out).map_err(std::io::Error::other)?;
    Ok(out)
}

/// `junit.xml` as bytes.
pub fn to_bytes(record: &RunRecord) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    render(record).serialize(&mut out).map_err(std::io::Error::other)?;
    Ok(out)
}

impl Reporter for Junit {
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        if let Some(record) = self.builder.on(event)? {
            super::atomic::write(&self.path, &to_bytes(&record)?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miplcheck_record::FlashOutcome;

    #[test]
    fn a_flash_is_said_as_firmware_properties() {
        let f = Flash {
            file: "fw_bc39_v2.bin".into(),
            size: 3133,
            sha256: "sha256:ab12".into(),
            via: "fota".into(),
            expected: "BC39NBR01A09_ONT".into(),
            expected_from: "--expect-revision".into(),
            before: Some("BC39NBR01A04_ONT".into()),
            after: Some("BC39NBR01A05_ONT".into()),
            outcome: FlashOutcome::WrongFirmware,
            reason: Some("wrong firmware: expected BC39NBR01A09_ONT, modem reports BC39NBR01A05_ONT".into()),
            evidence: None,
            duration_ms: 1.0,
        };
        let props = flash_properties(&f);
        let get = |k: &str| props.iter().find(|(n, _)| *n == k).map(|(_, v)| v.as_str());
        assert_eq!(get("firmware.file"), Some("fw_bc39_v2.bin"));
        assert_eq!(get("firmware.size"), Some("3133"));
        assert_eq!(get("firmware.sha256"), Some("sha256:ab12"));
        assert_eq!(get("firmware.expected"), Some("BC39NBR01A09_ONT (--expect-revision)"));
        assert_eq!(
            (get("firmware.before"), get("firmware.after")),
            (Some("BC39NBR01A04_ONT"), Some("BC39NBR01A05_ONT"))
        );
        assert_eq!(get("firmware.flash"), Some("wrong-firmware"));
        assert!(get("firmware.flash.reason").is_some_and(|r| r.starts_with("wrong firmware: expected")));
        let failed = Flash { after: None, reason: None, outcome: FlashOutcome::Failed, ..f };
        let props = flash_properties(&failed);
        assert!(props.contains(&("firmware.after", "unknown".into())) && props.len() == 8, "{props:?}");
    }
}
