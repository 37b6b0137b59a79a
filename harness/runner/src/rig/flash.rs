//! `[flash]`: how the bench puts a firmware file on the modem (`miplcheck run --firmware FILE`).
//! A passive description, checked when the rig is read; the flash strategy
//! (`crate::target::flash`) acts on it. It must not run anything or read the firmware file.
//!
//! ```toml
//! [flash]
//! command = "qflash --port $MIPLCHECK_PORT ${firmware}"   # sh -c, ${firmware} one quoted word
//! timeout = "120s"                                        # then its process group is killed
//! ```
//! or
//! ```toml
//! [flash]
//! via = "fota"     # the mock platform's FOTA job delivers the package (needs [platform])
//! block = 512      # optional: the Block1 size
//! ```

use serde::Deserialize;
use std::time::Duration;

/// The table as written.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FlashTable {
    command: Option<String>,
    #[serde(default, with = "humantime_serde")]
    timeout: Option<Duration>,
    via: Option<String>,
    block: Option<usize>,
}

/// How a firmware file goes onto the modem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlashRig {
    /// A command (a vendor tool, `probe-rs download`, a script), run with `sh -c` in a process
    /// group of its own, `${firmware}` replaced by the file's path as one quoted shell word (also
    /// in `MIPLCHECK_FIRMWARE`); killed with its group at `timeout`.
    Command { command: String, timeout: Duration },
    /// The mock platform's FOTA job, over the rig's `[platform]`.
    Fota { block: Option<usize> },
}

/// A flash command's time-out when the rig names none.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

impl FlashRig {
    /// ``command `…` `` or `fota`, as the record says how the firmware went on.
    pub fn describe(&self) -> String {
        match self {
            FlashRig::Command { command, .. } => format!("command `{command}`"),
            FlashRig::Fota { block: None } => "fota".into(),
            FlashRig::Fota { block: Some(b) } => format!("fota (block {b})"),
        }
    }
}

/// The table checked: the key at fault (empty for the table itself) and why, or the strategy.
pub(super) fn check(t: &FlashTable, has_platform: bool) -> Result<FlashRig, (&'static str, String)> {
    match (&t.command, &t.via) {
        (Some(_), Some(_)) => Err(("via", "give either `command` or `via`, not both".into())),
        (None, None) => Err(("", "needs `command = \"… ${firmware}\"` (with `timeout`) or `via = \"fota\"`".into())),
        (Some(command), None) => {
            if t.block.is_some() {
                return Err(("block", "only with `via = \"fota\"`".into()));
            }
            if command.trim().is_empty() {
                return Err(("command", "must not be empty".into()));
            }
            if let Some(other) = holes(command).into_iter().find(|h| h != "firmware") {
                return Err((
                    "command",
                    format!("`${{{other}}}` is not known here; only `${{firmware}}` is filled in"),
                ));
            }
            let timeout = t.timeout.unwrap_or(DEFAULT_TIMEOUT);
            if timeout.is_zero() || timeout > super::MAX_DURATION {
                return Err(("timeout", "must be above 0 and at most a day".into()));
            }
            Ok(FlashRig::Command { command: command.clone(), timeout })
        }
        (None, Some(via)) => {
            if via != "fota" {
                return Err(("via", format!("{via:?} is not a way to flash; the one known is \"fota\"")));
            }
            if t.timeout.is_some() {
                return Err(("timeout", "only with `command`; the FOTA job keeps its own time-outs".into()));
            }
            if !has_platform {
                return Err((
                    "via",
                    "`via = \"fota\"` needs the rig's [platform] (the mock OneNET runs the job)".into(),
                ));
            }
            if let Some(b) = t.block {
                miplcheck_platform::FotaJob::new(vec![], "")
                    .with_block_size(b)
                    .map_err(|e| ("block", e.to_string()))?;
            }
            Ok(FlashRig::Fota { block: t.block })
        }
    }
}

/// The `${name}`s a command names.
fn holes(command: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = command;
    while let Some(i) = rest.find("${") {
        let after = &rest[i + 2..];
        match after.find('}') {
            Some(j) => {
                out.push(after[..j].to_string());
                rest = &after[j + 1..];
            }
            None => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_holes() {
        assert_eq!(holes("a ${firmware} ${x} $HOME ${"), ["firmware", "x"]);
    }
}
