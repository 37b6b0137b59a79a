//! What a suite's `platform:` step may say, read at load time so a typo is an exit-2 error:
//!
//! ```text
//! read /3311/0/5805            discover /3311          observe /3311/0      cancel /3311/0
//! write /3311/0/5706 text hello        write /3311/0/5706 opaque 68656C6C6F
//! write /3311/0 tlv 5706="hello";5850=1      execute /3303/0/5605 reset
//! replace /3311/0 tlv 5706="hello" (PUT: the whole instance, OneNET's write mode 1)
//! attributes /3303/0/5700 pmin=2&pmax=190    auto-observe off       dtls on     auth-code on
//! bootstrap-psk on (hand out secrets.server_psk for the DTLS port)
//! refuse bootstrap (4.03)      ignore register (no answer)      accept update (behave again)
//! ignore response (a separate CON response never ACKed)   refuse response (RST)
//! delete-device (the registration deleted, as OneNET's console does; `delete-device <name>`)
//! sota suites/data/mcu_sw_v2.bin from MCU_SW_V1 block 512
//! fota suites/data/fw_bc39_v2.bin block 256 fault link-lost-at 50%
//! ```
//!
//! The platform console (`miplcheck platform`) reads the same words with the device first
//! ([`parse_for_device`]): `read 866971030000001 /3311/0/5700`.
//!
//! `sota <package-file> [from <version>] [block <size>]` pushes a software package as BC39 §5.10
//! does (see `miplcheck_platform::sota`). The file is read here, so a missing one is an input
//! error too; its path is relative to the repository root, the parent of the suite's folder
//! (`suites/data/…` from `suites/sota.yaml`), and like the version it has no blanks.
//!
//! `fota <package-file> [block <size>] [fault <fault>]` delivers the module's own firmware
//! (`miplcheck_platform::fota`); the revision it must leave the module on is the package's own
//! (`miplcheck_platform::package_revision`). The faults: `link-lost-at <N>%`, `corrupt`,
//! `too-large`, `erase-while-updating`. A package file over `fota::MAX_PACKAGE` is refused
//! unread.

use miplcheck_lwm2m::path::PathError;
use miplcheck_lwm2m::tlv::{self, Tlv};
use miplcheck_lwm2m::{ContentFormat, Path};
use miplcheck_platform::{Fault, FotaFault, FotaJob, Interface, Operation, SotaJob};

#[derive(Debug, Clone, PartialEq)]
pub enum PlatformStep {
    Operate(Operation),
    AutoObserve(bool),
    /// DTLS with the rig's `secrets.psk`, or plain CoAP.
    Dtls(bool),
    /// Require the rig's `secrets.auth_code` in registrations, or not.
    AuthCode(bool),
    /// The bootstrap server hands out the rig's `secrets.server_psk` for the DTLS port, or not.
    BootstrapPsk(bool),
    /// `refuse bootstrap` (4.03), `ignore update` (no answer at all), `accept register` (behave).
    Fault(Interface, Option<Fault>),
    /// `delete-device [<name>]`: the platform deletes the registration (of the device whose
    /// endpoint name contains `<name>`, or of the first), telling the device nothing.
    DeleteDevice(Option<String>),
}

/// What [`sota`] says when its words are not `<file> [from <version>] [block <size>]`.
const SOTA_USAGE: &str = "sota takes a package file, then optionally `from <version>` and `block <size>`";

/// What [`fota`] says when its words are not `<file> [block <size>] [fault <fault>]`.
const FOTA_USAGE: &str = "fota takes a package file, then optionally `block <size>` and `fault link-lost-at <N>%|corrupt|too-large|erase-while-updating`";

/// Why a suite's `platform:` step cannot be read ([`parse`]).
#[derive(Debug, thiserror::Error)]
pub enum PlatformStepError {
    /// A switch (`auth-code`, `bootstrap-psk`, `dtls`, `auto-observe`) given neither `on` nor `off`.
    #[error("{0} takes on or off")]
    OnOff(
        /// The switch.
        &'static str,
    ),
    /// `refuse`, `ignore` or `accept` given no interface it knows.
    #[error("{0} takes bootstrap, register, update, notify or response")]
    FaultInterface(
        /// The verb.
        String,
    ),
    /// The operation's path is not a LwM2M path.
    #[error(transparent)]
    Path(#[from] PathError),
    /// `attributes` with nothing after the path.
    #[error("attributes needs a query like pmin=2&pmax=190")]
    NoQuery,
    /// `write` with a content format it does not know.
    #[error("write takes text, opaque or tlv, then the value")]
    WriteFormat,
    /// A verb that is no platform operation.
    #[error(
        "{0:?} is not a platform operation; use read, discover, observe, cancel, write, replace, execute, attributes, sota, fota or auto-observe"
    )]
    UnknownVerb(
        /// The verb.
        String,
    ),
    /// A console operation without the device it is for.
    #[error("{0} needs the device (its endpoint name or IMEI) and then {1}")]
    NoDevice(
        /// The verb.
        String,
        /// What follows the device.
        &'static str,
    ),
    /// `sota` with no package file.
    #[error("{SOTA_USAGE}")]
    SotaUsage,
    /// A `sota` keyword (`from`, `block`) with nothing after it.
    #[error("{0:?} needs a value; {SOTA_USAGE}")]
    SotaNoValue(
        /// The keyword.
        String,
    ),
    /// A word after the `sota` package file that is neither `from` nor `block`.
    #[error("{0:?}: {SOTA_USAGE}")]
    SotaKeyword(
        /// The word.
        String,
    ),
    /// A `sota` keyword given twice.
    #[error("{0} is given twice")]
    SotaTwice(
        /// The keyword.
        String,
    ),
    /// The SOTA package file cannot be read.
    #[error("cannot read the SOTA package {file} (looked for {}): {source}", .looked.display())]
    SotaPackage {
        /// The file as the step names it.
        file: String,
        /// Where it was looked for (under the repository root).
        looked: std::path::PathBuf,
        /// Why reading it failed.
        source: std::io::Error,
    },
    /// `block` followed by something that is not a number.
    #[error("block size {0:?} is not a number")]
    BlockNotNumber(
        /// What followed `block`.
        String,
    ),
    /// The SOTA job the step describes is refused by the platform (`miplcheck_platform::sota`), in its words.
    #[error(transparent)]
    SotaJob(#[from] miplcheck_platform::SotaError),
    /// `fota` words that do not read as [`FOTA_USAGE`] says.
    #[error("{0}: {FOTA_USAGE}")]
    FotaUsage(
        /// What was wrong.
        String,
    ),
    /// The FOTA job the step describes is refused by the platform (`miplcheck_platform::fota`).
    #[error(transparent)]
    FotaJob(#[from] miplcheck_platform::FotaError),
    /// An `opaque` value, or a TLV value after `0x`, that is not hexadecimal bytes.
    #[error("{0:?} is not hexadecimal bytes")]
    NotHex(
        /// The value.
        String,
    ),
    /// A TLV entry without `=`.
    #[error("{0:?} should be <resource>=<value>")]
    NotResource(
        /// The entry.
        String,
    ),
    /// A TLV entry whose resource ID is not a number 0–65535.
    #[error("{0:?} is not a resource ID")]
    NotResourceId(
        /// What stood before `=`.
        String,
    ),
    /// A TLV value that is neither quoted text, an integer nor `0x…` bytes.
    #[error("{0:?} is not \"text\", an integer or 0x…")]
    TlvValue(
        /// The value.
        String,
    ),
}

/// Reads a step; files it names are found under `root`, the repository root.
pub fn parse(text: &str, root: &std::path::Path) -> Result<PlatformStep, PlatformStepError> {
    let text = text.trim();
    let (verb, rest) = text.split_once(' ').unwrap_or((text, ""));
    let rest = rest.trim();
    if verb == "sota" {
        return sota(rest, root).map(|job| PlatformStep::Operate(Operation::Sota(job)));
    }
    if verb == "fota" {
        return fota(rest, root).map(|job| PlatformStep::Operate(Operation::Fota(job)));
    }
    if verb == "auth-code" {
        return match rest {
            "on" => Ok(PlatformStep::AuthCode(true)),
            "off" => Ok(PlatformStep::AuthCode(false)),
            _ => Err(PlatformStepError::OnOff("auth-code")),
        };
    }
    if let Some(fault) = match verb {
        "refuse" => Some(Some(Fault::Refuse)),
        "ignore" => Some(Some(Fault::Ignore)),
        "accept" => Some(None),
        _ => None,
    } {
        let what = match rest {
            "bootstrap" => Interface::Bootstrap,
            "register" => Interface::Register,
            "update" => Interface::Update,
            "notify" => Interface::Notify,
            "response" => Interface::Response,
            _ => return Err(PlatformStepError::FaultInterface(verb.to_string())),
        };
        return Ok(PlatformStep::Fault(what, fault));
    }
    if verb == "delete-device" {
        return Ok(PlatformStep::DeleteDevice((!rest.is_empty()).then(|| rest.to_string())));
    }
    if verb == "bootstrap-psk" {
        return match rest {
            "on" => Ok(PlatformStep::BootstrapPsk(true)),
            "off" => Ok(PlatformStep::BootstrapPsk(false)),
            _ => Err(PlatformStepError::OnOff("bootstrap-psk")),
        };
    }
    if verb == "dtls" {
        return match rest {
            "on" => Ok(PlatformStep::Dtls(true)),
            "off" => Ok(PlatformStep::Dtls(false)),
            _ => Err(PlatformStepError::OnOff("dtls")),
        };
    }
    if verb == "auto-observe" {
        return match rest {
            "on" => Ok(PlatformStep::AutoObserve(true)),
            "off" => Ok(PlatformStep::AutoObserve(false)),
            _ => Err(PlatformStepError::OnOff("auto-observe")),
        };
    }
    // An unknown verb is named as such, not as a bad path after it (`list`, `reed /3311`).
    if !DEVICE_VERBS.iter().any(|(v, _)| *v == verb) {
        return Err(PlatformStepError::UnknownVerb(verb.to_string()));
    }
    let (path_text, args) = rest.split_once(' ').unwrap_or((rest, ""));
    let path: Path = path_text.parse()?;
    let args = args.trim();
    let op = match verb {
        "read" => Operation::Read(path),
        "discover" => Operation::Discover(path),
        "observe" => Operation::Observe(path),
        "cancel" => Operation::CancelObserve(path),
        "execute" => Operation::Execute { path, args: args.to_string() },
        "attributes" => {
            if args.is_empty() {
                return Err(PlatformStepError::NoQuery);
            }
            Operation::WriteAttributes { path, query: args.to_string() }
        }
        "write" => {
            let (format, payload) = content(args)?;
            Operation::Write { path, format, payload }
        }
        "replace" => {
            let (format, payload) = content(args)?;
            Operation::Replace { path, format, payload }
        }
        _ => return Err(PlatformStepError::UnknownVerb(verb.to_string())),
    };
    Ok(PlatformStep::Operate(op))
}

/// The verbs that act on one device, and what follows the device in each.
const DEVICE_VERBS: &[(&str, &str)] = &[
    ("read", "a path"),
    ("discover", "a path"),
    ("observe", "a path"),
    ("cancel", "a path"),
    ("write", "a path, text|opaque|tlv and the value"),
    ("replace", "a path, text|opaque|tlv and the value"),
    ("execute", "a path and optional arguments"),
    ("attributes", "a path and a query like pmin=2&pmax=190"),
    ("sota", "a package file"),
];

/// Reads a console command: an operation with the device it is for (`read EP /3311/0/5700`; a
/// part of the endpoint name is enough, the IMEI), or a setting as [`parse`] reads it
/// (`auto-observe off`). The device may be left out before a path (`read /3311/0/5700`): the
/// operation then goes to the only device, or the first registered.
pub fn parse_for_device(
    text: &str,
    root: &std::path::Path,
) -> Result<(Option<String>, PlatformStep), PlatformStepError> {
    let text = text.trim();
    let (verb, rest) = text.split_once(' ').unwrap_or((text, ""));
    let Some((_, after)) = DEVICE_VERBS.iter().find(|(v, _)| *v == verb) else {
        return Ok((None, parse(text, root)?));
    };
    let rest = rest.trim_start();
    if rest.starts_with('/') && verb != "sota" {
        return Ok((None, parse(text, root)?));
    }
    let (device, rest) = rest.split_once(' ').unwrap_or((rest, ""));
    if device.is_empty() || rest.trim().is_empty() {
        return Err(PlatformStepError::NoDevice(verb.to_string(), after));
    }
    Ok((Some(device.to_string()), parse(&format!("{verb} {rest}"), root)?))
}

/// A write's content: `text hello`, `opaque 68656C6C6F`, `tlv 5706="hello";5850=1`.
fn content(args: &str) -> Result<(ContentFormat, Vec<u8>), PlatformStepError> {
    let (format, value) = args.split_once(' ').unwrap_or((args, ""));
    let value = value.trim();
    match format {
        "text" => Ok((ContentFormat::Text, value.as_bytes().to_vec())),
        "opaque" => Ok((ContentFormat::Opaque, unhex(value)?)),
        "tlv" => Ok((ContentFormat::Tlv, tlv::encode(&resources(value)?))),
        _ => Err(PlatformStepError::WriteFormat),
    }
}

/// `suites/data/mcu_sw_v2.bin from MCU_SW_V1 block 512`.
fn sota(args: &str, root: &std::path::Path) -> Result<SotaJob, PlatformStepError> {
    let mut words = args.split_whitespace();
    let file = words.next().ok_or(PlatformStepError::SotaUsage)?;
    let (mut from, mut block) = (None, None);
    while let Some(key) = words.next() {
        let value = words.next().ok_or_else(|| PlatformStepError::SotaNoValue(key.to_string()))?;
        let slot = match key {
            "from" => &mut from,
            "block" => &mut block,
            _ => return Err(PlatformStepError::SotaKeyword(key.to_string())),
        };
        if slot.replace(value).is_some() {
            return Err(PlatformStepError::SotaTwice(key.to_string()));
        }
    }
    let package = read_package(file, root, usize::MAX)?;
    let mut job = SotaJob::new(package);
    if let Some(v) = from {
        job = job.with_from(v);
    }
    if let Some(b) = block {
        let size = b.parse().map_err(|_| PlatformStepError::BlockNotNumber(b.to_string()))?;
        job = job.with_block_size(size)?;
    }
    job.check()?;
    Ok(job)
}

/// A package file under `root`, refused unread when it is over `limit` bytes.
fn read_package(file: &str, root: &std::path::Path, limit: usize) -> Result<Vec<u8>, PlatformStepError> {
    use std::io::Read;
    let path = root.join(file);
    let failed = |source| PlatformStepError::SotaPackage { file: file.to_string(), looked: path.clone(), source };
    let f = std::fs::File::open(&path).map_err(failed)?;
    let mut package = vec![];
    f.take(limit.saturating_add(1) as u64).read_to_end(&mut package).map_err(failed)?;
    Ok(package)
}

/// `suites/data/fw_bc39_v2.bin block 256 fault link-lost-at 50%`.
fn fota(args: &str, root: &std::path::Path) -> Result<FotaJob, PlatformStepError> {
    let usage = |why: String| PlatformStepError::FotaUsage(why);
    let mut words = args.split_whitespace();
    let file = words.next().ok_or_else(|| usage("no package file".into()))?;
    let (mut block, mut fault) = (None, None);
    while let Some(key) = words.next() {
        let value = words.next().ok_or_else(|| usage(format!("{key:?} needs a value")))?;
        let f = match (key, value) {
            ("block", b) => {
                let size: usize = b.parse().map_err(|_| PlatformStepError::BlockNotNumber(b.to_string()))?;
                if block.replace(size).is_some() {
                    return Err(PlatformStepError::SotaTwice("block".into()));
                }
                continue;
            }
            ("fault", "corrupt") => FotaFault::Corrupt,
            ("fault", "too-large") => FotaFault::TooLarge,
            ("fault", "erase-while-updating") => FotaFault::EraseWhileUpdating,
            ("fault", "link-lost-at") => {
                let share = words.next().ok_or_else(|| usage("link-lost-at needs a share like 50%".into()))?;
                let n = share.strip_suffix('%').and_then(|n| n.parse().ok());
                FotaFault::LinkLostAt(n.ok_or_else(|| usage(format!("{share:?} is not a share like 50%")))?)
            }
            ("fault", other) => return Err(usage(format!("no fault {other:?}"))),
            (other, _) => return Err(usage(format!("{other:?}"))),
        };
        if fault.replace(f).is_some() {
            return Err(PlatformStepError::SotaTwice("fault".into()));
        }
    }
    let package = read_package(file, root, miplcheck_platform::fota::MAX_PACKAGE)?;
    let revision = miplcheck_platform::package_revision(&package)?;
    let mut job = FotaJob::new(package, revision);
    if let Some(b) = block {
        job = job.with_block_size(b)?;
    }
    if let Some(f) = fault {
        job = job.with_fault(f)?;
    }
    job.check()?;
    Ok(job)
}

fn unhex(s: &str) -> Result<Vec<u8>, PlatformStepError> {
    miplcheck_lwm2m::wire::unhex(s).ok_or_else(|| PlatformStepError::NotHex(s.to_string()))
}

/// `5706="hello";5850=1;5851=0x00000002DFDC1C3E`: strings quoted, integers, or hex bytes.
fn resources(s: &str) -> Result<Vec<Tlv>, PlatformStepError> {
    s.split(';')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (id, v) = p.split_once('=').ok_or_else(|| PlatformStepError::NotResource(p.to_string()))?;
            let id: u16 = id.trim().parse().map_err(|_| PlatformStepError::NotResourceId(id.to_string()))?;
            let v = v.trim();
            let bytes = if let Some(q) = v.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
                q.as_bytes().to_vec()
            } else if let Some(h) = v.strip_prefix("0x") {
                unhex(h)?
            } else {
                tlv::int_bytes(v.parse().map_err(|_| PlatformStepError::TlvValue(v.to_string()))?)
            };
            Ok(Tlv::resource(id, bytes))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("read /3311/0/5805")]
    #[case("discover /3311")]
    #[case("observe /3311/0")]
    #[case("cancel /3311/0")]
    #[case("write /3311/0/5706 text hello")]
    #[case("write /3311/0/5706 opaque 68656C6C6F")]
    #[case("write /3311/0 tlv 5706=\"hello\";5850=1;5851=0x00000002DFDC1C3E")]
    #[case("replace /3311/0 tlv 5706=\"hello\"")]
    #[case("execute /3303/0/5605 reset")]
    #[case("attributes /3303/0/5700 pmin=2&pmax=190")]
    #[case("auto-observe off")]
    #[case("dtls on")]
    #[case("auth-code on")]
    #[case("sota suites/data/mcu_sw_v2.bin")]
    fn reads(#[case] s: &str) {
        parse(s, &root()).unwrap();
    }

    /// The repository root, from where cargo runs this crate's tests.
    fn root() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
    }

    #[test]
    fn a_fota_job_reads_its_package_and_the_revision_in_it() {
        let step = parse("fota suites/data/fw_bc39_v2.bin block 256 fault link-lost-at 50%", &root()).unwrap();
        let PlatformStep::Operate(Operation::Fota(job)) = step else { panic!("{step:?}") };
        assert_eq!(job.revision, "BC39NBR01A05_ONT");
        assert_eq!((job.package.len(), job.block_size, job.fault), (3133, 256, Some(FotaFault::LinkLostAt(50))));
    }

    #[rstest]
    #[case("delete-device", None)]
    #[case("delete-device 869975030000461", Some("869975030000461"))]
    fn delete_device_names_the_device_or_none(#[case] s: &str, #[case] device: Option<&str>) {
        assert_eq!(parse(s, &root()).unwrap(), PlatformStep::DeleteDevice(device.map(str::to_string)));
    }

    #[test]
    fn a_sota_job_reads_its_package() {
        let step = parse("sota suites/data/mcu_sw_v2.bin from MCU_SW_V1 block 1024", &root()).unwrap();
        let PlatformStep::Operate(Operation::Sota(job)) = step else { panic!("{step:?}") };
        assert_eq!((job.package.len(), job.from.as_deref(), job.block_size), (10_000, Some("MCU_SW_V1"), 1024));
        let PlatformStep::Operate(Operation::Sota(job)) = parse("sota suites/data/mcu_sw_v2.bin", &root()).unwrap()
        else {
            panic!()
        };
        assert_eq!((job.from, job.block_size), (None, 512));
    }

    #[rstest]
    #[case("reed /3311", "not a platform operation")]
    #[case("read 3311/x", "not a LwM2M path")]
    #[case("write /3311/0/5706 json {}", "text, opaque or tlv")]
    #[case("write /3311/0/5706 opaque 6", "not hexadecimal")]
    #[case("write /3311/0 tlv 5706", "<resource>=<value>")]
    #[case("attributes /3303/0/5700", "needs a query")]
    #[case("auto-observe maybe", "on or off")]
    #[case("sota", "takes a package file")]
    #[case("sota suites/data/none.bin", "cannot read the SOTA package suites/data/none.bin")]
    #[case("sota suites/data/mcu_sw_v2.bin from", "needs a value")]
    #[case("sota suites/data/mcu_sw_v2.bin to V2", "\"to\"")]
    #[case("sota suites/data/mcu_sw_v2.bin block 500", "block size 500")]
    #[case("sota suites/data/mcu_sw_v2.bin block big", "not a number")]
    #[case("sota suites/data/mcu_sw_v2.bin from A from B", "twice")]
    #[case("fota", "no package file")]
    #[case("fota suites/data/mcu_sw_v2.bin", "not a FOTA package")]
    #[case("fota suites/data/fw_bc39_v2.bin fault", "needs a value")]
    #[case("fota suites/data/fw_bc39_v2.bin fault melt", "no fault \"melt\"")]
    #[case("fota suites/data/fw_bc39_v2.bin fault link-lost-at", "needs a share")]
    #[case("fota suites/data/fw_bc39_v2.bin fault link-lost-at half", "not a share")]
    #[case("fota suites/data/fw_bc39_v2.bin fault link-lost-at 100%", "1% to 99%")]
    #[case("fota suites/data/fw_bc39_v2.bin fault corrupt fault corrupt", "twice")]
    #[case("fota suites/data/fw_bc39_v2.bin block 500", "block size 500")]
    #[case("fota suites/data/fw_bc39_v2.bin from V1", "\"from\"")]
    fn refuses(#[case] s: &str, #[case] says: &str) {
        let e = parse(s, &root()).unwrap_err().to_string();
        assert!(e.contains(says), "{e}");
    }

    #[rstest]
    #[case("read 866971030000001 /3311/0/5700", Some("866971030000001"), "read /3311/0/5700")]
    #[case("read /3311/0/5700", None, "read /3311/0/5700")]
    #[case("write 8669 /3311/0/5706 text hi there", Some("8669"), "write /3311/0/5706 text hi there")]
    #[case("execute dev /3303/0/5605", Some("dev"), "execute /3303/0/5605")]
    #[case("attributes dev /3303/0/5700 pmin=2&pmax=9", Some("dev"), "attributes /3303/0/5700 pmin=2&pmax=9")]
    #[case("auto-observe off", None, "auto-observe off")]
    #[case("refuse register", None, "refuse register")]
    #[case("ignore response", None, "ignore response")]
    fn a_console_command_is_a_step_with_its_device(
        #[case] line: &str,
        #[case] device: Option<&str>,
        #[case] step: &str,
    ) {
        let (d, s) = parse_for_device(line, &root()).unwrap();
        assert_eq!((d.as_deref(), s), (device, parse(step, &root()).unwrap()));
    }

    #[rstest]
    #[case("read", "read needs the device")]
    #[case("read 8669", "read needs the device (its endpoint name or IMEI) and then a path")]
    #[case("write 8669 /3311/0/5706 json {}", "text, opaque or tlv")]
    #[case("sota suites/data/mcu_sw_v2.bin", "a package file")]
    #[case("list", "not a platform operation")]
    fn a_console_command_without_its_device_says_so(#[case] line: &str, #[case] says: &str) {
        let e = parse_for_device(line, &root()).unwrap_err().to_string();
        assert!(e.contains(says), "{e}");
    }

    #[test]
    fn step_errors_read_as_before() {
        let e = parse("sota suites/data/mcu_sw_v2.bin to V2", &root()).unwrap_err();
        assert!(matches!(&e, PlatformStepError::SotaKeyword(k) if k == "to"), "{e:?}");
        assert_eq!(
            e.to_string(),
            "\"to\": sota takes a package file, then optionally `from <version>` and `block <size>`"
        );
        let e = parse("reed /3311", &root()).unwrap_err().to_string();
        assert_eq!(
            e,
            "\"reed\" is not a platform operation; use read, discover, observe, cancel, write, replace, execute, attributes, sota, fota or auto-observe"
        );
        assert_eq!(
            parse("write /3311/0 tlv 5706=x", &root()).unwrap_err().to_string(),
            "\"x\" is not \"text\", an integer or 0x…"
        );
    }
}
