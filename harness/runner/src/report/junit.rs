//! JUnit XML for CI (quick-junit): one testsuite per suite file, one testcase per case, each
//! windowed step's measured latency and window as properties, the transcript as system-out. A
//! renderer of the run record ([`render`]), so `miplcheck report` can write it again from
//! `run.json` or a journal; the reporter writes it when the run ends.

use super::json::RecordBuilder;
use super::{Event, Reporter};
use miplcheck_record::{CaseRecord, FailedAt, RunRecord, Verdict};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::path::PathBuf;

pub struct Junit {
    path: PathBuf,
    builder: RecordBuilder,
}

impl Junit {
    pub fn new(path: PathBuf) -> Self {
        Junit { path, builder: RecordBuilder::new() }
    }

    fn case(r: &CaseRecord) -> TestCase {
        let status = match r.verdict {
            Verdict::Passed => TestCaseStatus::success(),
            Verdict::Skipped => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(r.reason.as_deref().unwrap_or(""));
                s
            }
            Verdict::Failed => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                s.set_message(format!("{}: {}", r.place().unwrap_or_default(), r.reason.as_deref().unwrap_or("")));
                s.set_type(if r.failed_at == Some(FailedAt::Snapshot) { "snapshot" } else { "step" });
                if let Some(diff) = &r.snapshot_diff {
                    s.set_description(diff.as_str());
                }
                s
            }
        };
        let mut tc = TestCase::new(r.case.as_str(), status);
        tc.set_classname(r.suite.as_str());
        tc.set_time(std::time::Duration::from_secs_f64(r.duration_ms.max(0.0) / 1000.0));
        tc.add_property(Property::new("spec", r.spec.as_str()));
        for st in &r.steps {
            if let Some(w) = st.window_ms {
                let latency = st.latency_ms.map(ms).unwrap_or_else(|| "none".into());
                tc.add_property(Property::new(
                    format!("latency.{}", st.label.replace(' ', "")),
                    format!("{latency} (window {}) {}", ms(w), st.what),
                ));
            }
        }
        tc.set_system_out(r.transcript.iter().map(|l| format!("{l}\n")).collect::<String>());
        tc
    }
}

/// `1 ms`, `412.5 ms`: as the engine words latencies.
fn ms(v: f64) -> String {
    crate::engine::ms(std::time::Duration::from_secs_f64(v.max(0.0) / 1000.0))
}

/// The run as JUnit: one testsuite per suite, in the order the cases ran, each with the run's
/// properties (rig, dialect, target, firmware, IMEI as the record shows it, and `incomplete` when
/// the run did not finish).
pub fn render(record: &RunRecord) -> Report {
    let mut props = vec![
        ("rig", record.rig.name.clone()),
        ("dialect", record.rig.dialect.clone()),
        ("target", record.rig.target.clone()),
        ("firmware", record.firmware.revision.clone()),
    ];
    if let Some(imei) = &record.firmware.imei {
        props.push(("imei", imei.clone()));
    }
    if let Some(why) = &record.incomplete {
        props.push(("incomplete", why.clone()));
    }
    let mut suites: Vec<TestSuite> = vec![];
    for c in &record.cases {
        if suites.last().map(|s| s.name.as_str() != c.suite).unwrap_or(true) {
            let mut s = TestSuite::new(c.suite.as_str());
            for (k, v) in &props {
                s.add_property(Property::new(*k, v.as_str()));
            }
            suites.push(s);
        }
        suites.last_mut().expect("pushed above").add_test_case(Junit::case(c));
    }
    let mut report = Report::new("miplcheck");
    report.set_time(std::time::Duration::from_millis(record.duration_ms));
    report.add_test_suites(suites);
    report
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
