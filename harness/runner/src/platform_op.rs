//! What a suite's `platform:` step may say, read at load time so a typo is an exit-2 error:
//!
//! ```text
//! read /3311/0/5805            discover /3311          observe /3311/0      cancel /3311/0
//! write /3311/0/5706 text hello        write /3311/0/5706 opaque 68656C6C6F
//! write /3311/0 tlv 5706="hello";5850=1      execute /3303/0/5605 reset
//! attributes /3303/0/5700 pmin=2&pmax=190    auto-observe off       dtls on     auth-code on
//! bootstrap-psk on (hand out secrets.server_psk for the DTLS port)
//! refuse bootstrap (4.03)      ignore register (no answer)      accept update (behave again)
//! sota suites/data/mcu_sw_v2.bin from MCU_SW_V1 block 512
//! ```
//!
//! `sota <package-file> [from <version>] [block <size>]` pushes a software package as BC39 §5.10
//! does (see `miplcheck_platform::sota`). The file is read here, so a missing one is an input
//! error too; its path is relative to the repository root, the parent of the suite's folder
//! (`suites/data/…` from `suites/sota.yaml`), and like the version it has no blanks.

use miplcheck_lwm2m::tlv::{self, Tlv};
use miplcheck_lwm2m::{ContentFormat, Path};
use miplcheck_platform::{Fault, Interface, Operation, SotaJob};

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
}

/// Reads a step; files it names are found under `root`, the repository root.
pub fn parse(text: &str, root: &std::path::Path) -> Result<PlatformStep, String> {
    let text = text.trim();
    let (verb, rest) = text.split_once(' ').unwrap_or((text, ""));
    let rest = rest.trim();
    if verb == "sota" {
        return sota(rest, root).map(|job| PlatformStep::Operate(Operation::Sota(job)));
    }
    if verb == "auth-code" {
        return match rest {
            "on" => Ok(PlatformStep::AuthCode(true)),
            "off" => Ok(PlatformStep::AuthCode(false)),
            _ => Err("auth-code takes on or off".into()),
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
            _ => return Err(format!("{verb} takes bootstrap, register, update or notify")),
        };
        return Ok(PlatformStep::Fault(what, fault));
    }
    if verb == "bootstrap-psk" {
        return match rest {
            "on" => Ok(PlatformStep::BootstrapPsk(true)),
            "off" => Ok(PlatformStep::BootstrapPsk(false)),
            _ => Err("bootstrap-psk takes on or off".into()),
        };
    }
    if verb == "dtls" {
        return match rest {
            "on" => Ok(PlatformStep::Dtls(true)),
            "off" => Ok(PlatformStep::Dtls(false)),
            _ => Err("dtls takes on or off".into()),
        };
    }
    if verb == "auto-observe" {
        return match rest {
            "on" => Ok(PlatformStep::AutoObserve(true)),
            "off" => Ok(PlatformStep::AutoObserve(false)),
            _ => Err("auto-observe takes on or off".into()),
        };
    }
    let (path_text, args) = rest.split_once(' ').unwrap_or((rest, ""));
    let path: Path = path_text.parse().map_err(|e| format!("{e}"))?;
    let args = args.trim();
    let op = match verb {
        "read" => Operation::Read(path),
        "discover" => Operation::Discover(path),
        "observe" => Operation::Observe(path),
        "cancel" => Operation::CancelObserve(path),
        "execute" => Operation::Execute { path, args: args.to_string() },
        "attributes" => {
            if args.is_empty() {
                return Err("attributes needs a query like pmin=2&pmax=190".into());
            }
            Operation::WriteAttributes { path, query: args.to_string() }
        }
        "write" => {
            let (format, value) = args.split_once(' ').unwrap_or((args, ""));
            let value = value.trim();
            match format {
                "text" => Operation::Write { path, format: ContentFormat::Text, payload: value.as_bytes().to_vec() },
                "opaque" => Operation::Write { path, format: ContentFormat::Opaque, payload: unhex(value)? },
                "tlv" => Operation::Write { path, format: ContentFormat::Tlv, payload: tlv::encode(&resources(value)?) },
                _ => return Err("write takes text, opaque or tlv, then the value".into()),
            }
        }
        _ => {
            return Err(format!(
                "{verb:?} is not a platform operation; use read, discover, observe, cancel, write, execute, attributes, sota or auto-observe"
            ))
        }
    };
    Ok(PlatformStep::Operate(op))
}

/// `suites/data/mcu_sw_v2.bin from MCU_SW_V1 block 512`.
fn sota(args: &str, root: &std::path::Path) -> Result<SotaJob, String> {
    const USAGE: &str = "sota takes a package file, then optionally `from <version>` and `block <size>`";
    let mut words = args.split_whitespace();
    let file = words.next().ok_or(USAGE)?;
    let (mut from, mut block) = (None, None);
    while let Some(key) = words.next() {
        let value = words.next().ok_or_else(|| format!("{key:?} needs a value; {USAGE}"))?;
        let slot = match key {
            "from" => &mut from,
            "block" => &mut block,
            _ => return Err(format!("{key:?}: {USAGE}")),
        };
        if slot.replace(value).is_some() {
            return Err(format!("{key} is given twice"));
        }
    }
    let path = root.join(file);
    let package = std::fs::read(&path)
        .map_err(|e| format!("cannot read the SOTA package {file} (looked for {}): {e}", path.display()))?;
    let mut job = SotaJob::new(package);
    if let Some(v) = from {
        job = job.with_from(v);
    }
    if let Some(b) = block {
        job = job
            .with_block_size(b.parse().map_err(|_| format!("block size {b:?} is not a number"))?)
            .map_err(|e| e.to_string())?;
    }
    job.check().map_err(|e| e.to_string())?;
    Ok(job)
}

fn unhex(s: &str) -> Result<Vec<u8>, String> {
    miplcheck_lwm2m::wire::unhex(s).ok_or_else(|| format!("{s:?} is not hexadecimal bytes"))
}

/// `5706="hello";5850=1;5851=0x00000002DFDC1C3E`: strings quoted, integers, or hex bytes.
fn resources(s: &str) -> Result<Vec<Tlv>, String> {
    s.split(';')
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let (id, v) = p.split_once('=').ok_or_else(|| format!("{p:?} should be <resource>=<value>"))?;
            let id: u16 = id.trim().parse().map_err(|_| format!("{id:?} is not a resource ID"))?;
            let v = v.trim();
            let bytes = if let Some(q) = v.strip_prefix('"').and_then(|q| q.strip_suffix('"')) {
                q.as_bytes().to_vec()
            } else if let Some(h) = v.strip_prefix("0x") {
                unhex(h)?
            } else {
                tlv::int_bytes(v.parse().map_err(|_| format!("{v:?} is not \"text\", an integer or 0x…"))?)
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
    fn refuses(#[case] s: &str, #[case] says: &str) {
        let e = parse(s, &root()).unwrap_err();
        assert!(e.contains(says), "{e}");
    }
}
