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

/// A case's transcript file: a header with its verdict, then the transcript line by line.
fn text(r: &miplcheck_record::CaseRecord) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "# {} — {}", r.full_name(), r.spec);
    if let Some(t) = &r.title {
        let _ = writeln!(text, "# {t}");
    }
    let reason = r.reason.as_deref().unwrap_or("");
    let verdict = match (r.verdict, &r.failed_at) {
        (Verdict::Failed, Some(at)) => format!("FAILED at {at}: {reason}"),
        (Verdict::Failed, None) => format!("FAILED: {reason}"),
        (Verdict::Error, Some(at)) => format!("ERROR (infrastructure) at {at}: {reason}"),
        (v, _) => v.to_string(),
    };
    let _ = writeln!(text, "# {verdict}");
    if !r.attempts.is_empty() {
        let _ = writeln!(
            text,
            "# attempt {} of {}; the earlier ones are beside this file",
            r.attempt_count(),
            r.attempt_count()
        );
    }
    text.push('\n');
    for l in &r.transcript {
        let _ = writeln!(text, "{l}");
    }
    text
}

impl Reporter for TranscriptFiles {
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        let Event::CaseFinished(result) = event else { return Ok(()) };
        let r = &result.record;
        if r.verdict == Verdict::Skipped {
            return Ok(());
        }
        let dir = self.dir.join("transcripts").join(&r.suite);
        super::atomic::write(&dir.join(format!("{}.txt", r.case)), text(r).as_bytes())?;
        // Every attempt's evidence is kept, not only the last one's.
        for (i, a) in r.attempts.iter().enumerate() {
            super::atomic::write(&dir.join(format!("{}.attempt{}.txt", r.case, i + 1)), text(a).as_bytes())?;
        }
        if let Some(c) = result.capture.as_ref().filter(|c| !c.records.is_empty()) {
            let mut pcap = Vec::new();
            miplcheck_platform::pcapng::write(&mut pcap, &c.records, &c.platform, c.started)?;
            let path = self.dir.join("captures").join(&r.suite).join(format!("{}.pcapng", r.case));
            super::atomic::write(&path, &pcap)?;
        }
        Ok(())
    }
}
