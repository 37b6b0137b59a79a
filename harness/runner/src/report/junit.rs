//! JUnit XML for CI (quick-junit): one testsuite per suite file, one testcase per case, each
//! windowed step's measured latency and window as properties, the transcript as system-out. It
//! renders the case records as they come, already redacted and masked.

use super::{Event, Reporter};
use miplcheck_record::{CaseRecord, FailedAt, Verdict};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::path::PathBuf;

pub struct Junit {
    path: PathBuf,
    props: Vec<(String, String)>,
    suites: Vec<TestSuite>,
}

impl Junit {
    pub fn new(path: PathBuf) -> Self {
        Junit { path, props: vec![], suites: vec![] }
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

impl Reporter for Junit {
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        match event {
            Event::RunStarted { rig, firmware, .. } => {
                self.props = vec![
                    ("rig".into(), rig.name.clone()),
                    ("dialect".into(), rig.dialect.clone()),
                    ("target".into(), rig.target.clone()),
                    ("firmware".into(), firmware.revision.clone()),
                ];
                if let Some(imei) = &firmware.imei {
                    self.props.push(("imei".into(), imei.clone()));
                }
            }
            Event::CaseStarted { .. } => {}
            Event::CaseFinished(result) => {
                let r = &result.record;
                if self.suites.last().map(|s| s.name.as_str() != r.suite).unwrap_or(true) {
                    let mut s = TestSuite::new(r.suite.as_str());
                    for (k, v) in &self.props {
                        s.add_property(Property::new(k.as_str(), v.as_str()));
                    }
                    self.suites.push(s);
                }
                let s = self.suites.last_mut().expect("pushed above");
                s.add_test_case(Self::case(r));
            }
            Event::RunFinished(summary) => {
                let mut report = Report::new("miplcheck");
                report.set_time(summary.duration);
                report.add_test_suites(std::mem::take(&mut self.suites));
                if let Some(dir) = self.path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let f = std::io::BufWriter::new(std::fs::File::create(&self.path)?);
                report.serialize(f).map_err(std::io::Error::other)?;
            }
        }
        Ok(())
    }
}
