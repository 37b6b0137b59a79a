//! The firmware file of `miplcheck run --firmware FILE [--expect-revision REV]`: read once, its
//! size and SHA-256 taken, and the revision the modem must report after the flash settled —
//! `--expect-revision`, else the package's own (`miplcheck_lwm2m::package`), else (a vendor image
//! that is not a package) none, which is refused with what to add. It must not flash anything or
//! talk to a modem: the flash strategy and the dispatcher do.

use crate::input_error::InputError;
use crate::rig::{FlashRig, Rig};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The largest firmware file taken (a module image is a few MiB).
pub const MAX_FIRMWARE: u64 = 256 << 20;

/// A firmware file to flash before the first case.
#[derive(Clone, PartialEq, Eq)]
pub struct FirmwareFile {
    /// As given, made absolute (a flash command runs in the same folder, but says it in full).
    pub path: PathBuf,
    /// The file's name, for the record (no folder: a home directory says who ran it).
    pub name: String,
    pub bytes: Vec<u8>,
    /// `sha256:<hex>`.
    pub sha256: String,
    /// The revision `AT+CGMR` must report after the flash.
    pub expected: String,
    /// `--expect-revision` or `package`.
    pub expected_from: &'static str,
    /// The revision the package's header names, when the file is one.
    pub package_revision: Option<String>,
}

impl std::fmt::Debug for FirmwareFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FirmwareFile")
            .field("path", &self.path)
            .field("size", &self.bytes.len())
            .field("sha256", &self.sha256)
            .field("expected", &self.expected)
            .finish()
    }
}

impl FirmwareFile {
    /// Reads `path` and settles the expected revision.
    pub fn load(path: &Path, expect: Option<&str>) -> Result<FirmwareFile, InputError> {
        let bad = |m: String| InputError::new(path, m).field("--firmware");
        let meta = std::fs::metadata(path).map_err(|e| bad(format!("cannot read the firmware file: {e}")))?;
        if !meta.is_file() {
            return Err(bad("is not a file".into()));
        }
        if meta.len() > MAX_FIRMWARE {
            return Err(bad(format!("{} bytes: larger than the {MAX_FIRMWARE} a firmware file may be", meta.len())));
        }
        let bytes = std::fs::read(path).map_err(|e| bad(format!("cannot read the firmware file: {e}")))?;
        // A file that starts as a package but whose header does not read is a damaged package,
        // not a vendor image: saying "not a package" would send the user the wrong way.
        let header = match miplcheck_lwm2m::package::parse(&bytes) {
            Ok(h) => Some(h),
            Err(miplcheck_lwm2m::package::PackageError::Magic) => None,
            Err(e) => return Err(bad(format!("starts as a miplcheck package but does not read as one: {e}"))),
        };
        // A package that does not match its own header is a bad file, not a failed flash.
        if let Some(h) = header.as_ref().filter(|h| !h.verifies(&bytes[h.len..])) {
            return Err(bad(format!(
                "is a package for {} {} whose image does not match its header's SHA-256: a damaged copy?",
                h.model, h.revision
            )));
        }
        let package_revision = header.map(|h| h.revision);
        let (expected, expected_from) = match (expect.map(str::trim), &package_revision) {
            (Some(""), _) => {
                return Err(InputError::new(path, "must name a revision").field("--expect-revision"));
            }
            (Some(e), _) => (e.to_string(), "--expect-revision"),
            (None, Some(r)) => (r.clone(), "package"),
            (None, None) => {
                return Err(bad(
                    "is not a miplcheck package (docs/dialects.md \"FOTA\"), so its revision is unknown: give \
                     --expect-revision REV, the revision AT+CGMR must report once it is flashed"
                        .into(),
                ))
            }
        };
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        // `sha256:<hex>`, as the provenance hashes are spelt.
        let sha256 = crate::partition::hex(&Sha256::digest(&bytes));
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        Ok(FirmwareFile { path, name, bytes, sha256, expected, expected_from, package_revision })
    }

    /// Whether `rig` can flash it: a `[flash]` table, and for `via = "fota"` a package the
    /// platform's FOTA job can deliver to this model (another model's would only be refused by
    /// the module, so it is refused here, before anything touches the modem).
    pub fn check_rig(&self, rig: &Rig) -> Result<(), InputError> {
        let Some(flash) = &rig.flash else {
            return Err(InputError::new(
                &rig.path,
                format!(
                    "--firmware needs the rig to say how to flash: add a [flash] table with \
                     `command = \"<tool> ${{firmware}}\"` and `timeout = \"120s\"`, or `via = \"fota\"` (the mock \
                     platform's FOTA job) to {}",
                    rig.path.display()
                ),
            )
            .field("flash"));
        };
        if let FlashRig::Fota { .. } = flash {
            miplcheck_platform::FotaJob::new(self.bytes.clone(), self.expected.clone()).check().map_err(|e| {
                InputError::new(&self.path, format!("cannot go through the FOTA job of [flash] via = \"fota\": {e}"))
                    .field("--firmware")
            })?;
            let model = miplcheck_lwm2m::package::parse(&self.bytes).map(|h| h.model).unwrap_or_default();
            if model != rig.dialect.model {
                return Err(InputError::new(
                    &self.path,
                    format!(
                        "is a package for {model}, but {} is a {} ({}): its FOTA job would be refused",
                        rig.path.display(),
                        rig.dialect.model,
                        rig.dialect.name
                    ),
                )
                .field("--firmware"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../suites/data").join(name)
    }

    #[test]
    fn a_package_names_its_revision() {
        let f = FirmwareFile::load(&data("fw_bc39_v2.bin"), None).unwrap();
        assert_eq!(
            (f.name.as_str(), f.expected.as_str(), f.expected_from),
            ("fw_bc39_v2.bin", "BC39NBR01A05_ONT", "package")
        );
        assert_eq!(f.bytes.len(), 3133);
        // As `sha256sum suites/data/fw_bc39_v2.bin` says.
        assert_eq!(f.sha256, "sha256:8dc008508584f88930ef21fa87e871da4aaed81db683aeb6654a3ec1645ee3ef");
        let f = FirmwareFile::load(&data("fw_bc39_v2.bin"), Some("BC39NBR01A09_ONT")).unwrap();
        assert_eq!((f.expected.as_str(), f.expected_from), ("BC39NBR01A09_ONT", "--expect-revision"));
        assert_eq!(f.package_revision.as_deref(), Some("BC39NBR01A05_ONT"));
    }

    #[test]
    fn a_package_whose_header_does_not_read_is_named_as_such() {
        let good = std::fs::read(data("fw_bc39_v2.bin")).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let cut = dir.path().join("cut.bin");
        // The header without the blank line that ends it.
        let end = good.windows(2).position(|w| w == b"\n\n").unwrap();
        std::fs::write(&cut, &good[..end]).unwrap();
        let e = FirmwareFile::load(&cut, Some("BC39NBR01A05_ONT")).unwrap_err().to_string();
        assert!(e.contains("cut.bin") && e.contains("does not read as one"), "{e}");
        let vendor = dir.path().join("vendor.bin");
        std::fs::write(&vendor, b"\x7fELF vendor image").unwrap();
        assert!(FirmwareFile::load(&vendor, Some("V2")).is_ok());
        let e = FirmwareFile::load(&vendor, None).unwrap_err().to_string();
        assert!(e.contains("--expect-revision"), "{e}");
    }

    #[test]
    fn a_rig_must_say_how_to_flash_and_fota_takes_only_its_model_s_package() {
        let rig = |flash: &str| {
            let text =
                format!("kind = \"emulator\"\ndialect = \"bc39\"\n[platform]\nlisten = \"127.0.0.1:0\"\n{flash}");
            Rig::parse(Path::new("rigs/bench.toml"), &text).unwrap()
        };
        let bc39 = FirmwareFile::load(&data("fw_bc39_v2.bin"), None).unwrap();
        let m5310a = FirmwareFile::load(&data("fw_m5310a_v2.bin"), None).unwrap();
        let e = bc39.check_rig(&rig("")).unwrap_err();
        assert!(e.to_string().contains("add a [flash] table") && e.field.as_deref() == Some("flash"), "{e}");
        let fota = rig("[flash]\nvia = \"fota\"\n");
        assert!(bc39.check_rig(&fota).is_ok());
        let e = m5310a.check_rig(&fota).unwrap_err();
        assert!(e.to_string().contains("a package for M5310-A, but rigs/bench.toml is a BC39"), "{e}");
        // A command flashes whatever the vendor's tool takes; the revision check judges it after.
        assert!(m5310a.check_rig(&rig("[flash]\ncommand = \"true ${firmware}\"\n")).is_ok());
    }

    #[test]
    fn a_vendor_image_needs_the_revision_named() {
        let e = FirmwareFile::load(&data("mcu_sw_v2.bin"), None).unwrap_err();
        assert!(e.to_string().contains("give --expect-revision REV"), "{e}");
        assert_eq!(e.field.as_deref(), Some("--firmware"));
        let f = FirmwareFile::load(&data("mcu_sw_v2.bin"), Some("MCU_V2")).unwrap();
        assert_eq!(f.expected, "MCU_V2");
        let dir = tempfile::tempdir().unwrap();
        let mut damaged = std::fs::read(data("fw_bc39_v2.bin")).unwrap();
        *damaged.last_mut().unwrap() ^= 0xFF;
        std::fs::write(dir.path().join("fw.bin"), &damaged).unwrap();
        let e = FirmwareFile::load(&dir.path().join("fw.bin"), Some("BC39NBR01A05_ONT")).unwrap_err();
        assert!(e.to_string().contains("does not match its header's SHA-256"), "{e}");
        let e = FirmwareFile::load(&data("nothing.bin"), None).unwrap_err();
        assert!(e.to_string().contains("cannot read the firmware file"), "{e}");
    }
}
