//! JUnit XML for CI (quick-junit): one testsuite per suite file, one testcase per case, each
//! windowed step's measured latency and window as properties, the transcript as system-out.

use super::{Event, Reporter};
use crate::engine::ms;
use crate::outcome::{CaseResult, Verdict};
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use std::path::PathBuf;

pub struct Junit {
    path: PathBuf,
    props: Vec<(String, String)>,
    suites: Vec<TestSuite>,
    mask: crate::record::Mask,
}

impl Junit {
    pub fn new(path: PathBuf) -> Self {
        Junit { path, props: vec![], suites: vec![], mask: Default::default() }
    }

    /// The IMEI and IMSI are masked here as in every report that leaves the bench.
    fn case(r: &CaseResult, mask: &crate::record::Mask) -> TestCase {
        let status = match &r.verdict {
            Verdict::Passed => TestCaseStatus::success(),
            Verdict::Skipped(why) => {
                let mut s = TestCaseStatus::skipped();
                s.set_message(why.as_str());
                s
            }
            Verdict::Failed { at, line, reason } => {
                let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let place = line.map(|l| format!(" ({}:{l})", r.suite_file)).unwrap_or_default();
                s.set_message(mask.text(&format!("{at}{place}: {reason}")));
                s.set_type(if at == "snapshot" { "snapshot" } else { "step" });
                if let crate::golden::Snapshot::Changed { diff } = &r.snapshot {
                    s.set_description(mask.text(diff));
                }
                s
            }
        };
        let mut tc = TestCase::new(r.case.as_str(), status);
        tc.set_classname(r.suite.as_str());
        tc.set_time(r.duration);
        tc.add_property(Property::new("spec", r.spec.as_str()));
        for st in &r.steps {
            if let Some(w) = st.window {
                let latency = st.latency.map(ms).unwrap_or_else(|| "none".into());
                tc.add_property(Property::new(
                    format!("latency.{}", st.label.replace(' ', "")),
                    format!("{latency} (window {}) {}", ms(w), st.what),
                ));
            }
        }
        tc.set_system_out(mask.text(&r.transcript));
        tc
    }
}

impl Reporter for Junit {
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        match event {
            Event::RunStarted { rig, dialect, target, firmware, mask, .. } => {
                self.mask = (*mask).clone();
                self.props = vec![
                    ("rig".into(), rig.to_string()),
                    ("dialect".into(), dialect.to_string()),
                    ("target".into(), target.to_string()),
                    ("firmware".into(), firmware.revision.clone()),
                ];
                if let Some(imei) = &firmware.imei {
                    self.props.push(("imei".into(), imei.clone()));
                }
            }
            Event::CaseStarted { .. } => {}
            Event::CaseFinished(r) => {
                if self.suites.last().map(|s| s.name.as_str() != r.suite).unwrap_or(true) {
                    let mut s = TestSuite::new(r.suite.as_str());
                    for (k, v) in &self.props {
                        s.add_property(Property::new(k.as_str(), v.as_str()));
                    }
                    self.suites.push(s);
                }
                let s = self.suites.last_mut().expect("pushed above");
                s.add_test_case(Self::case(r, &self.mask));
            }
            Event::RunFinished(summary) => {
                let mut report = Report::new("miplcheck");
                report.set_time(summary.duration);
                report.add_test_suites(std::mem::take(&mut self.suites));
                if let Some(dir) = self.path.parent() {
                    std::fs::create_dir_all(dir)?;
                }
                let f = std::fs::File::create(&self.path)?;
                report.serialize(f).map_err(std::io::Error::other)?;
            }
        }
        Ok(())
    }
}
