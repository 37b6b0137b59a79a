//! A bench board's MCU (the host that drives the modem's AT port) reset, and flashed first when the
//! rig says so, through a debug probe: the rig's `[probe]` table ([`ProbeRig`]).
//!
//! The module is always compiled so that every build reads the same rig files and returns the same
//! [`ProbeError`]; the probe itself is only reached in a build with the `probe-rs` cargo feature
//! (`cargo build -p miplcheck --features probe-rs`). Without it [`reset`] says how to rebuild.

use crate::rig::ProbeRig;
use std::path::PathBuf;

/// The command that builds a miplcheck able to use a `[probe]`.
pub const REBUILD: &str = "cargo build -p miplcheck --features probe-rs";

/// Why a probe reset did not happen. Every variant names the selector it tried.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProbeError {
    /// This build has no probe support.
    #[error("this miplcheck was built without the probe-rs feature; rebuild with `{REBUILD}` (rig [probe] selector {selector})")]
    NotBuilt { selector: String },
    /// The selector does not parse (rig loading catches this first; kept for callers building a
    /// [`ProbeRig`] by hand).
    #[error("`{selector}` is not a debug probe selector: {message}")]
    Selector { selector: String, message: String },
    /// No attached probe matches.
    #[error("no debug probe matches {selector} (probes found: {found})")]
    NotFound { selector: String, found: String },
    /// More than one attached probe matches: the selector needs a serial number.
    #[error("{count} debug probes match {selector} ({found}); add the serial number to the selector")]
    Ambiguous { selector: String, count: usize, found: String },
    /// A matching probe the current user may not open.
    #[error("debug probe {selector} ({probe}) is attached but this user may not open it; install probe-rs' udev rules or run as a member of the group that owns the device")]
    PermissionDenied { selector: String, probe: String },
    /// The probe was found but did not open, or refused the speed.
    #[error("debug probe {selector}: cannot open it: {message}")]
    Open { selector: String, message: String },
    /// The probe opened but could not attach to the chip.
    #[error("debug probe {selector}: cannot attach to {chip}: {message}")]
    Attach { selector: String, chip: String, message: String },
    /// Flashing the firmware failed (the core was not reset).
    #[error("debug probe {selector}: flashing {} into {chip} failed: {message}", file.display())]
    Flash { selector: String, chip: String, file: PathBuf, message: String },
    /// The reset itself failed.
    #[error("debug probe {selector}: resetting core 0 of {chip} failed: {message}")]
    Reset { selector: String, chip: String, message: String },
}

impl ProbeError {
    /// The selector this error is about.
    pub fn selector(&self) -> &str {
        match self {
            ProbeError::NotBuilt { selector }
            | ProbeError::Selector { selector, .. }
            | ProbeError::NotFound { selector, .. }
            | ProbeError::Ambiguous { selector, .. }
            | ProbeError::PermissionDenied { selector, .. }
            | ProbeError::Open { selector, .. }
            | ProbeError::Attach { selector, .. }
            | ProbeError::Flash { selector, .. }
            | ProbeError::Reset { selector, .. } => selector,
        }
    }
}

/// Checks a selector's syntax, probe-rs' `DebugProbeSelector`: `VID:PID`, `VID:PID:SERIAL` or
/// `VID:PID-INTERFACE[:SERIAL]`, VID and PID in hex. With the feature it is probe-rs' own parser;
/// without, [`check_selector_syntax`], which accepts the same strings.
pub fn check_selector(selector: &str) -> Result<(), String> {
    #[cfg(feature = "probe-rs")]
    {
        use std::str::FromStr;
        probe_rs::probe::DebugProbeSelector::from_str(selector).map(|_| ()).map_err(|e| with_hint(&e.to_string()))
    }
    #[cfg(not(feature = "probe-rs"))]
    {
        check_selector_syntax(selector)
    }
}

/// The light check used without the feature: hex `VID:PID`, an optional `-INTERFACE` (0–255)
/// after the PID, an optional `:SERIAL` (anything, colons included).
pub fn check_selector_syntax(selector: &str) -> Result<(), String> {
    let mut parts = selector.splitn(3, ':');
    let vid = parts.next().unwrap_or_default();
    let Some(pid) = parts.next() else {
        return Err(with_hint("it needs at least VID:PID"));
    };
    let (pid, interface) = match pid.split_once('-') {
        Some((pid, iface)) => (pid, Some(iface)),
        None => (pid, None),
    };
    for (name, value) in [("VID", vid), ("PID", pid)] {
        if u16::from_str_radix(value, 16).is_err() {
            return Err(with_hint(&format!("the {name} `{value}` is not a hex number of at most 4 digits")));
        }
    }
    if let Some(iface) = interface.filter(|i| !i.is_empty()) {
        if iface.parse::<u8>().is_err() {
            return Err(with_hint(&format!("the interface `{iface}` is not a number from 0 to 255")));
        }
    }
    Ok(())
}

fn with_hint(why: &str) -> String {
    let why = why.trim().trim_end_matches('.');
    format!("{why}; write VID:PID[:SERIAL] in hex, e.g. \"0483:374b:066DFF485550755187034343\"")
}

/// Whether this build can reach a probe.
pub const AVAILABLE: bool = cfg!(feature = "probe-rs");

/// Checks a chip name against probe-rs' built-in targets, with close names when it is unknown.
/// Without the feature every name passes (the chip is only known to a build that has the
/// targets).
pub fn check_chip(chip: &str) -> Result<(), String> {
    if chip.trim().is_empty() {
        return Err("the chip name is empty; give probe-rs' name for it, e.g. \"STM32L476RG\"".into());
    }
    #[cfg(feature = "probe-rs")]
    {
        let registry = probe_rs::config::Registry::from_builtin_families();
        if registry.get_target_by_name(chip).is_err() {
            // The names sharing the longest prefix with the one given.
            let chars: Vec<char> = chip.chars().collect();
            let mut close: Vec<String> = (4..chars.len())
                .rev()
                .map(|n| registry.search_chips(&chars[..n].iter().collect::<String>()))
                .find(|found| !found.is_empty())
                .unwrap_or_default();
            close.dedup();
            close.truncate(8);
            let close = if close.is_empty() { String::new() } else { format!("; close names: {}", close.join(", ")) };
            return Err(format!("probe-rs does not know the chip {chip:?}{close}"));
        }
    }
    Ok(())
}

/// Attaches to the rig's probe, flashes `flash` when given, resets core 0, and says what it did.
///
/// It blocks: attaching takes a fraction of a second, flashing some seconds. Each call opens the
/// probe afresh and lets it go, so a probe unplugged between cases is found again. Without the
/// `probe-rs` feature this returns [`ProbeError::NotBuilt`], which says how to rebuild.
pub fn reset(probe: &ProbeRig) -> Result<String, ProbeError> {
    #[cfg(feature = "probe-rs")]
    {
        with_probe_rs::reset(probe)
    }
    #[cfg(not(feature = "probe-rs"))]
    {
        Err(ProbeError::NotBuilt { selector: probe.selector.clone() })
    }
}

#[cfg(feature = "probe-rs")]
mod with_probe_rs {
    use super::ProbeError;
    use crate::rig::ProbeRig;
    use probe_rs::flashing::{download_file, ElfLoader, ElfOptions, HexLoader};
    use probe_rs::probe::list::{Accessibility, Lister};
    use probe_rs::probe::{DebugProbeInfo, DebugProbeSelector};
    use probe_rs::Permissions;
    use std::str::FromStr;

    /// A probe as people read it: `STLink V2-1 0483:374b:066DFF…`.
    fn shown(info: &DebugProbeInfo) -> String {
        let mut s = format!("{} {:04x}:{:04x}", info.identifier, info.vendor_id, info.product_id);
        if let Some(i) = info.interface {
            s.push_str(&format!("-{i}"));
        }
        if let Some(serial) = info.serial_number.as_deref().filter(|s| !s.is_empty()) {
            s.push(':');
            s.push_str(serial);
        }
        s
    }

    fn listed(infos: &[DebugProbeInfo]) -> String {
        if infos.is_empty() {
            "none".into()
        } else {
            infos.iter().map(shown).collect::<Vec<_>>().join(", ")
        }
    }

    pub(super) fn reset(rig: &ProbeRig) -> Result<String, ProbeError> {
        let name = rig.selector.clone();
        let selector = DebugProbeSelector::from_str(&rig.selector)
            .map_err(|e| ProbeError::Selector { selector: name.clone(), message: e.to_string() })?;
        let lister = Lister::new();
        let matching = lister.list_with_access(Some(&selector));
        let probe_info = match matching.as_slice() {
            [] => {
                return Err(ProbeError::NotFound { selector: name, found: listed(&lister.list_all()) });
            }
            [one] => one,
            many => {
                let infos: Vec<DebugProbeInfo> = many.iter().map(|m| m.info.clone()).collect();
                return Err(ProbeError::Ambiguous { selector: name, count: many.len(), found: listed(&infos) });
            }
        };
        if probe_info.accessibility == Accessibility::PermissionDenied {
            return Err(ProbeError::PermissionDenied { selector: name, probe: shown(&probe_info.info) });
        }
        let which = shown(&probe_info.info);
        let mut probe =
            probe_info.info.open().map_err(|e| ProbeError::Open { selector: name.clone(), message: e.to_string() })?;
        let mut did = Vec::new();
        if let Some(khz) = rig.speed_khz {
            let got = probe.set_speed(khz).map_err(|e| ProbeError::Open {
                selector: name.clone(),
                message: format!("speed {khz} kHz refused: {e}"),
            })?;
            did.push(format!("at {got} kHz"));
        }
        let mut session = probe.attach(rig.chip.as_str(), Permissions::default()).map_err(|e| ProbeError::Attach {
            selector: name.clone(),
            chip: rig.chip.clone(),
            message: e.to_string(),
        })?;
        if let Some(file) = &rig.flash {
            let flash_err = |message: String| ProbeError::Flash {
                selector: name.clone(),
                chip: rig.chip.clone(),
                file: file.clone(),
                message,
            };
            let is_hex = file.extension().is_some_and(|e| e.eq_ignore_ascii_case("hex"));
            let done = if is_hex {
                download_file(&mut session, file, HexLoader)
            } else {
                download_file(&mut session, file, ElfLoader(ElfOptions::default()))
            };
            done.map_err(|e| flash_err(e.to_string()))?;
            did.push(format!("after flashing {}", file.display()));
        }
        session.core(0).and_then(|mut core| core.reset()).map_err(|e| ProbeError::Reset {
            selector: name.clone(),
            chip: rig.chip.clone(),
            message: e.to_string(),
        })?;
        let mut words = format!("reset {} core 0 through debug probe {which}", rig.chip);
        for d in did {
            words.push(' ');
            words.push_str(&d);
        }
        Ok(words)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rig(selector: &str) -> ProbeRig {
        ProbeRig { selector: selector.into(), chip: "STM32L476RG".into(), flash: None, speed_khz: None }
    }

    #[test]
    fn selector_syntax() {
        for good in [
            "0483:374b",
            "0483:374b:066DFF485550755187034343",
            "303a:1001:DC:DA:0C:D3:FE:D8",
            "1942:1337-3",
            "c251:f002:",
        ] {
            assert_eq!(check_selector_syntax(good), Ok(()), "{good}");
            assert_eq!(check_selector(good), Ok(()), "{good}");
        }
        for bad in
            ["", "0483", "0483-374b", "stlink:374b", "12345:374b", "0483:xyz:SERIAL", "0483:374b-x", "0483:374b-300"]
        {
            let e = check_selector_syntax(bad).unwrap_err();
            assert!(e.contains("VID:PID[:SERIAL]"), "{bad}: {e}");
            assert!(check_selector(bad).is_err(), "{bad}");
        }
    }

    #[cfg(not(feature = "probe-rs"))]
    #[test]
    fn without_the_feature_reset_says_how_to_rebuild() {
        let e = reset(&rig("0483:374b:SERIAL")).unwrap_err();
        let shown = e.to_string();
        assert!(shown.starts_with("this miplcheck was built without the probe-rs feature"), "{shown}");
        assert!(shown.contains("rebuild with `cargo build -p miplcheck --features probe-rs`"), "{shown}");
        assert_eq!(e.selector(), "0483:374b:SERIAL");
    }

    /// This machine has no debug probe with this serial number: the error names the selector and
    /// lists what was found.
    #[cfg(feature = "probe-rs")]
    #[test]
    fn with_the_feature_a_missing_probe_is_named() {
        let selector = "0483:374b:MIPLCHECK-NO-SUCH-PROBE";
        let e = reset(&rig(selector)).unwrap_err();
        let shown = e.to_string();
        assert!(matches!(e, ProbeError::NotFound { .. }), "{shown}");
        assert!(shown.starts_with(&format!("no debug probe matches {selector} (probes found: ")), "{shown}");
    }

    #[cfg(feature = "probe-rs")]
    #[test]
    fn with_the_feature_chips_are_checked() {
        assert_eq!(check_chip("STM32L476RG"), Ok(()));
        let e = check_chip("STM32L476XX-NOPE").unwrap_err();
        assert!(e.contains("does not know the chip \"STM32L476XX-NOPE\""), "{e}");
    }
}
