//! Each case's timed transcript as a file, `DIR/transcripts/<suite>/<case>.txt`, and its
//! datagrams as `DIR/captures/<suite>/<case>.pcapng` for Wireshark; kept for passes and failures
//! alike so nothing seen on the wire is lost.

use super::{Event, Reporter};
use miplcheck_record::Verdict;
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
        let Event::CaseFinished(result) = event else { return Ok(()) };
        let r = &result.record;
        if r.verdict == Verdict::Skipped {
            return Ok(());
        }
        let dir = self.dir.join("transcripts").join(&r.suite);
        let mut text = String::new();
        let _ = writeln!(text, "# {} — {}", r.full_name(), r.spec);
        if let Some(t) = &r.title {
            let _ = writeln!(text, "# {t}");
        }
        let reason = r.reason.as_deref().unwrap_or("");
        let verdict = match (r.verdict, &r.failed_at) {
            (Verdict::Failed, Some(at)) => format!("FAILED at {at}: {reason}"),
            (Verdict::Failed, None) => format!("FAILED: {reason}"),
            (v, _) => v.to_string(),
        };
        let _ = writeln!(text, "# {verdict}\n");
        text.push_str(&result.transcript_text());
        super::atomic::write(&dir.join(format!("{}.txt", r.case)), text.as_bytes())?;
        if let Some(c) = result.capture.as_ref().filter(|c| !c.records.is_empty()) {
            let mut pcap = Vec::new();
            miplcheck_platform::pcapng::write(&mut pcap, &c.records, &c.platform, c.started)?;
            let path = self.dir.join("captures").join(&r.suite).join(format!("{}.pcapng", r.case));
            super::atomic::write(&path, &pcap)?;
        }
        Ok(())
    }
}
