//! Each case's timed transcript as a file, `DIR/transcripts/<suite>/<case>.txt`, and its
//! datagrams as `DIR/captures/<suite>/<case>.pcapng` for Wireshark; kept for passes and failures
//! alike so nothing seen on the wire is lost.

use super::{Event, Reporter};
use crate::outcome::Verdict;
use std::fmt::Write as _;
use std::path::PathBuf;

pub struct TranscriptFiles {
    dir: PathBuf,
}

impl TranscriptFiles {
    pub fn new(dir: PathBuf) -> Self {
        TranscriptFiles { dir }
    }
}

impl Reporter for TranscriptFiles {
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        let Event::CaseFinished(r) = event else { return Ok(()) };
        if matches!(r.verdict, Verdict::Skipped(_)) {
            return Ok(());
        }
        let dir = self.dir.join("transcripts").join(&r.suite);
        std::fs::create_dir_all(&dir)?;
        let mut text = String::new();
        let _ = writeln!(text, "# {} — {}", r.full_name(), r.spec);
        if let Some(t) = &r.title {
            let _ = writeln!(text, "# {t}");
        }
        let verdict = match &r.verdict {
            Verdict::Passed => "passed".to_string(),
            Verdict::Failed { at, reason, .. } => format!("FAILED at {at}: {reason}"),
            Verdict::Skipped(w) => format!("skipped: {w}"),
        };
        let _ = writeln!(text, "# {verdict}\n");
        text.push_str(&r.transcript);
        std::fs::write(dir.join(format!("{}.txt", r.case)), text)?;
        if let Some(c) = r.capture.as_ref().filter(|c| !c.records.is_empty()) {
            let dir = self.dir.join("captures").join(&r.suite);
            std::fs::create_dir_all(&dir)?;
            let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join(format!("{}.pcapng", r.case)))?);
            miplcheck_platform::pcapng::write(&mut f, &c.records, &c.platform, c.started)?;
            std::io::Write::flush(&mut f)?;
        }
        Ok(())
    }
}
