//! `report.html`: the run as one self-contained page (see `miplcheck_html`), written beside
//! `run.json` when the run ends. It builds the same record the JSON reporter writes rather than
//! reading `run.json` back, so it works whichever order the reporters run in.

use super::json::RecordBuilder;
use super::{Event, Reporter};
use std::path::PathBuf;

pub struct HtmlReport {
    path: PathBuf,
    builder: RecordBuilder,
}

impl HtmlReport {
    /// `path` is the file to write, normally `<out>/report.html`.
    pub fn new(path: PathBuf) -> Self {
        HtmlReport { path, builder: RecordBuilder::new() }
    }
}

impl Reporter for HtmlReport {
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        if let Some(record) = self.builder.on(event)? {
            super::atomic::write(&self.path, miplcheck_html::render(&record).as_bytes())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miplcheck_record::{Firmware, RigInfo};

    #[test]
    fn an_empty_run_still_writes_a_page() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("out/report.html");
        let mut r = HtmlReport::new(path.clone());
        let info = RigInfo {
            name: "r".into(),
            dialect: "bc39".into(),
            target: "emulator".into(),
            capabilities: vec![],
            window_scale: 1.0,
            secrets: vec![],
        };
        let firmware = Firmware::default();
        let started = Event::RunStarted { rig: &info, firmware: &firmware, cases: 0, suites: None, partition: None };
        r.on(&started).unwrap();
        r.on(&Event::RunFinished(&crate::Summary::default())).unwrap();
        let html = std::fs::read_to_string(path).unwrap();
        assert!(html.contains("0 passed, 0 failed, 0 skipped") && html.contains("This run has no cases."));
    }
}
