//! The flash strategy, before the first case of `miplcheck run --firmware FILE`: bring the
//! target into the state "runs firmware X". `AT+CGMR` before; the rig's `[flash]` (its command,
//! through `target::flash`, with the port let go; or `via = "fota"`, the mock platform's FOTA job
//! over the rig's own platform, the dialect's registration from `fota/<dialect>.yaml`); the target
//! prepared again (its reset strategy and AT/OK sync); `AT+CGMR` after, against the revision
//! expected. What it did goes into the run's `flash.log`, and into the record as a
//! [`miplcheck_record::Flash`].
//!
//! It must not decide the run's exit status (the CLI does, from the outcome), run a case of the
//! suites, or treat a failed flash as the firmware's failure: that is the bench's.

use super::Plan;
use crate::firmware::FirmwareFile;
use crate::platform_op::PlatformStep;
use crate::privacy::Privacy;
use crate::rig::FlashRig;
use crate::suite::{Action, Step, Suite};
use crate::target::Target;
use miplcheck_record::{Flash, FlashOutcome, Verdict};
use std::path::Path;
use std::time::{Duration, Instant};

/// The evidence file in the run's folder.
pub const EVIDENCE: &str = "flash.log";

/// How often, and how far apart, the target is prepared after a flash: a USB modem flashed by a
/// vendor tool may take a while to enumerate again.
const SETTLE_TRIES: u32 = 5;
const SETTLE_PAUSE: Duration = Duration::from_secs(2);

/// The registration around the FOTA job, per dialect.
fn fota_script(dialect: &str) -> Option<&'static str> {
    match dialect {
        "bc39" => Some(include_str!("fota/bc39.yaml")),
        "m5310a" => Some(include_str!("fota/m5310a.yaml")),
        _ => None,
    }
}

/// The revision in `AT+CGMR`'s lines: each without a leading `Revision:`, joined by ` / `.
pub fn revision_of(lines: &[String]) -> String {
    let words: Vec<&str> = lines.iter().map(|l| strip_revision(l)).filter(|l| !l.is_empty()).collect();
    words.join(" / ")
}

fn strip_revision(line: &str) -> &str {
    let t = line.trim();
    match t.get(..9) {
        Some(head) if head.eq_ignore_ascii_case("revision:") => t[9..].trim(),
        _ => t,
    }
}

/// Whether the modem's `AT+CGMR` names `expected` (one of its lines, `Revision:` aside).
pub fn reports(lines: &[String], expected: &str) -> bool {
    lines.iter().any(|l| strip_revision(l) == expected)
}

impl Plan {
    /// Flashes `file` with the rig's `[flash]` and says how it went.
    pub(super) fn flash(&self, target: &mut dyn Target, file: &FirmwareFile, privacy: &Privacy) -> Flash {
        let began = Instant::now();
        let mut flash = self.flash_of(file, privacy);
        let done = |mut flash: Flash, why: Option<String>| {
            flash.reason = why.map(|w| privacy.text(&w));
            flash.duration_ms = miplcheck_record::millis(began.elapsed());
            flash
        };
        let Some(strategy) = self.rig.flash.clone() else {
            return done(flash, Some("flash failed: the rig has no [flash]".into()));
        };
        flash.before = Some(match self.revision_now(target) {
            Ok(lines) => privacy.text(&revision_of(&lines)),
            Err(e) => format!("unknown: {}", privacy.text(&e)),
        });
        let (result, evidence) = match &strategy {
            FlashRig::Command { command, timeout } => {
                // A vendor tool may need the port the run holds; the prepare after opens it again.
                target.release();
                let env = crate::target::power::Env { rig: self.rig.name.clone(), port: self.port_name() };
                match crate::target::flash::run(command, *timeout, &file.path, &env) {
                    Ok(out) => (Ok(()), out),
                    Err(e) => (Err(e.to_string()), e.output().to_string()),
                }
            }
            FlashRig::Fota { block } => self.flash_by_fota(target, file, *block, privacy),
        };
        flash.evidence = self.keep_evidence(&flash, &privacy.text(&evidence));
        if let Err(why) = result {
            return done(flash, Some(format!("flash failed: {why}")));
        }
        if matches!(strategy, FlashRig::Fota { .. }) {
            target.keep_firmware();
        }
        let after = self.settled_revision(target);
        match after {
            Err(e) => {
                flash.after = Some(format!("unknown: {}", privacy.text(&e)));
                done(flash, Some(format!("flash failed: the modem did not come back after the flash: {e}")))
            }
            Ok(lines) => {
                let now = revision_of(&lines);
                flash.after = Some(privacy.text(&now));
                if reports(&lines, &file.expected) {
                    flash.outcome = FlashOutcome::Qualified;
                    done(flash, None)
                } else {
                    flash.outcome = FlashOutcome::WrongFirmware;
                    let why = format!("wrong firmware: expected {}, modem reports {now}", file.expected);
                    done(flash, Some(why))
                }
            }
        }
    }

    /// The record of a flash the rig's health did not let happen.
    pub(super) fn not_flashed(&self, file: &FirmwareFile, why: &str) -> Flash {
        let privacy = Privacy::new(&self.rig.secrets);
        let reason = Some(format!("not flashed: the rig is unhealthy ({})", privacy.text(why)));
        Flash { reason, ..self.flash_of(file, &privacy) }
    }

    /// The record of `file`'s flash before anything happened: failed until it is shown to work.
    fn flash_of(&self, file: &FirmwareFile, privacy: &Privacy) -> Flash {
        Flash {
            file: privacy.text(&file.name),
            size: file.bytes.len() as u64,
            sha256: file.sha256.clone(),
            via: self.rig.flash.as_ref().map(|f| privacy.text(&f.describe())).unwrap_or_default(),
            expected: privacy.text(&file.expected),
            expected_from: file.expected_from.to_string(),
            before: None,
            after: None,
            outcome: FlashOutcome::Failed,
            reason: None,
            evidence: None,
            duration_ms: 0.0,
        }
    }

    /// `AT+CGMR` on a prepared target.
    fn revision_now(&self, target: &mut dyn Target) -> Result<Vec<String>, String> {
        target.prepare().map_err(|e| e.to_string())?;
        self.ask(target.port(), "AT+CGMR").map_err(|e| e.to_string())
    }

    /// The target prepared again after a flash (a few tries: the port may be coming back), then
    /// `AT+CGMR`.
    fn settled_revision(&self, target: &mut dyn Target) -> Result<Vec<String>, String> {
        let mut last = String::new();
        for n in 0..SETTLE_TRIES {
            if n > 0 {
                std::thread::sleep(SETTLE_PAUSE);
            }
            match self.revision_now(target) {
                Ok(lines) => return Ok(lines),
                Err(e) => last = e,
            }
        }
        Err(format!("{last} ({SETTLE_TRIES} tries)"))
    }

    /// The port a flash command is told of (`MIPLCHECK_PORT`), as the rig names it.
    fn port_name(&self) -> Option<String> {
        match &self.rig.target {
            crate::rig::Target::Serial(s) => s.port.clone(),
            crate::rig::Target::Tcp { address, .. } => Some(address.clone()),
            crate::rig::Target::Rfc2217(r) => Some(r.address.clone()),
            crate::rig::Target::Emulator { .. } | crate::rig::Target::Labgrid { .. } => None,
        }
    }

    /// The package through the rig's platform: the dialect's registration, the FOTA job, the
    /// reboot and the registration after it, judged on its steps. Gives the exchange as text.
    fn flash_by_fota(
        &self,
        target: &mut dyn Target,
        file: &FirmwareFile,
        block: Option<usize>,
        privacy: &Privacy,
    ) -> (Result<(), String>, String) {
        let dialect = self.rig.dialect.name;
        let Some(script) = fota_script(dialect) else {
            return (Err(format!("no FOTA registration is written for {dialect}")), String::new());
        };
        let path = Path::new("<miplcheck>/flash").join(format!("fota-{dialect}.yaml"));
        let mut suite = match Suite::parse(&path, script) {
            Ok(s) => s,
            Err(e) => return (Err(format!("the built-in FOTA script: {e}")), String::new()),
        };
        let mut job = miplcheck_platform::FotaJob::new(
            file.bytes.clone(),
            file.package_revision.clone().unwrap_or_else(|| file.expected.clone()),
        );
        if let Some(b) = block {
            job = match job.with_block_size(b) {
                Ok(j) => j,
                Err(e) => return (Err(e.to_string()), String::new()),
            };
        }
        let step = Step {
            line: 0,
            action: Action::Platform(
                PlatformStep::Operate(miplcheck_platform::Operation::Fota(job)),
                format!("fota {}", file.name),
            ),
            window: None,
            note: Some("the firmware under test, by the mock platform's FOTA job".into()),
        };
        let mut case = suite.cases.remove(0);
        case.steps.insert(0, step);
        let result = self.run_unsnapshotted(target, &suite, &case, privacy);
        let text: String = result.record.transcript.iter().map(|l| format!("{l}\n")).collect();
        match result.record.verdict {
            Verdict::Passed => (Ok(()), text),
            _ => {
                let why = result.record.reason.clone().unwrap_or_else(|| "the FOTA exchange failed".into());
                let at = result.record.failed_at.map(|a| format!(" ({a})")).unwrap_or_default();
                (Err(format!("FOTA{at}: {why}")), text)
            }
        }
    }

    /// The flash's evidence written to the run's folder (none without one, as under `cargo test`).
    fn keep_evidence(&self, flash: &Flash, text: &str) -> Option<String> {
        let dir = self.run_dir.as_ref()?;
        let body = format!(
            "# miplcheck flash of {} ({} bytes, {}) by {}; expected {} ({}); before: {}\n{text}",
            flash.file,
            flash.size,
            flash.sha256,
            flash.via,
            flash.expected,
            flash.expected_from,
            flash.before.as_deref().unwrap_or("unknown"),
        );
        match crate::report::atomic::write(&dir.join(EVIDENCE), body.as_bytes()) {
            Ok(()) => Some(EVIDENCE.to_string()),
            Err(e) => {
                tracing::error!("the flash's evidence could not be written to {}: {e}", dir.join(EVIDENCE).display());
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_revision_is_read_without_its_label() {
        let lines = vec!["Revision: BC39NBR01A05_ONT".to_string()];
        assert_eq!(revision_of(&lines), "BC39NBR01A05_ONT");
        assert!(reports(&lines, "BC39NBR01A05_ONT"));
        assert!(!reports(&lines, "BC39NBR01A04_ONT"));
        assert!(reports(&["Revision:M5310-A_V1.7".to_string()], "M5310-A_V1.7"));
        assert_eq!(revision_of(&["A".into(), " ".into(), "B".into()]), "A / B");
    }

    #[test]
    fn every_dialect_has_a_fota_script_that_loads() {
        for d in miplcheck_at::Dialect::names() {
            let script = fota_script(d).unwrap_or_else(|| panic!("no FOTA script for {d}"));
            let s = Suite::parse(Path::new("<miplcheck>/flash/x.yaml"), script).unwrap();
            assert_eq!(s.cases.len(), 1, "{d}");
        }
    }
}
