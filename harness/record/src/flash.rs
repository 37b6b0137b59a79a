//! What a run says of the firmware it flashed before its first case (`miplcheck run --firmware`):
//! the file by name, size and SHA-256, how it was put on the modem, the revision expected and the
//! revisions `AT+CGMR` reported before and after, and how it ended. Data only: the runner's flash
//! strategy fills it in, already redacted; nothing here reads a file or talks to a modem.

use serde::{Deserialize, Serialize};

/// The firmware a run flashed, and how that went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flash {
    /// The firmware file's name, without its folder.
    pub file: String,
    /// Its size in bytes.
    pub size: u64,
    /// `sha256:<hex>` of the whole file.
    pub sha256: String,
    /// How it went onto the modem: ``command `tool ${firmware}` `` or `fota` (the mock
    /// platform's FOTA job).
    pub via: String,
    /// The revision the modem must report afterwards.
    pub expected: String,
    /// Where that came from: `--expect-revision` or `package` (the package's own header).
    pub expected_from: String,
    /// What `AT+CGMR` said before the flash, or why it could not be read.
    pub before: Option<String>,
    /// What `AT+CGMR` said after it, or why it could not be read; absent when the flash failed.
    pub after: Option<String>,
    /// How it ended.
    pub outcome: FlashOutcome,
    /// Why, when it did not qualify: `wrong firmware: expected X, modem reports Y`, or the flash
    /// command's or FOTA job's failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The evidence file in the run's folder (the command's output, the FOTA exchange).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// How long the flash and the wait for the modem took.
    pub duration_ms: f64,
}

/// How a flash ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FlashOutcome {
    /// The modem reports the expected revision: the cases run on it.
    Qualified,
    /// The modem reports another revision: no case runs.
    WrongFirmware,
    /// The flash itself failed (the command failed or overran, the FOTA job failed): a fault of
    /// the bench, not of the firmware; no case runs.
    Failed,
}

impl FlashOutcome {
    /// `qualified`, `wrong-firmware`, `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            FlashOutcome::Qualified => "qualified",
            FlashOutcome::WrongFirmware => "wrong-firmware",
            FlashOutcome::Failed => "failed",
        }
    }
}

impl Flash {
    /// `name (size bytes, sha256:…)`, for a page or a property.
    pub fn describe_file(&self) -> String {
        format!("{} ({} bytes, {})", self.file, self.size, self.sha256)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_are_spelt_as_the_record_spells_them() {
        for o in [FlashOutcome::Qualified, FlashOutcome::WrongFirmware, FlashOutcome::Failed] {
            assert_eq!(serde_json::to_string(&o).unwrap(), format!("\"{}\"", o.as_str()));
        }
    }
}
