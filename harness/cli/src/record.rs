//! `miplcheck record`: sits between the MCU software and the rig's modem, forwards both ways, and
//! when the session ends (Ctrl-C/SIGTERM, or the MCU's TCP connection closing) writes it as a suite
//! case and replays that case once against the rig for its golden snapshot. The work is the
//! runner's (`miplcheck_runner::recorder`); this module reads arguments and says what happened.

use crate::exit::{Error, Exit};
use crate::say;
use clap::Args;
use miplcheck_runner::recorder::replay::{replay, Replayed};
use miplcheck_runner::recorder::{case::Naming, forward, RecordError, Recorder};
use miplcheck_runner::rig::Rig;
use std::path::{Path, PathBuf};

/// `miplcheck record --help`'s examples.
pub const EXAMPLES: &str = "Examples:
  miplcheck record --rig rigs/emulator-bc39.toml --platform --pty --out suites/my-driver.yaml
      prints the pty for the MCU software (first line) and the platform to configure it with;
      Ctrl-C ends the session, writes the case and golden/bc39/my-driver__recorded.snap
  miplcheck record --rig rigs/bench/bc39.toml --tcp 127.0.0.1:7000 --out suites/boot.yaml --case-id boot
      the MCU software connects to 127.0.0.1:7000; its hang-up ends the session
  miplcheck run --rig rigs/emulator-bc39.toml --suite my-driver    the recorded case, as any other

The session ends on SIGINT/SIGTERM or when the MCU side closes (a TCP hang-up; a pty cannot tell
a program that closed it from one that has not opened it yet, so a pty session ends on a signal).
Exit 0 when the case and its snapshot were written; 1 when the MCU sent no answered command (nothing
is written) or the written case did not pass against the rig once more; 4 when the rig's modem could
not be reached.";

#[derive(Args)]
pub struct RecordArgs {
    /// The rig whose modem the MCU talks to (any kind: serial, RFC 2217, TCP, emulator).
    #[arg(long, value_name = "RIG")]
    rig: PathBuf,
    /// The suite file to write (one case); it must not exist yet.
    #[arg(long, value_name = "CASE.yaml")]
    out: PathBuf,
    /// Offer the MCU software a new pseudo-terminal; its path is the first line of stdout.
    #[arg(long, conflicts_with = "tcp", required_unless_present = "tcp")]
    pty: bool,
    /// Offer the MCU software a TCP port (e.g. 127.0.0.1:7000); one connection is recorded.
    #[arg(long, value_name = "ADDR")]
    tcp: Option<String>,
    /// Start the rig's mock platform (`[platform]`) for the modem to register with; its address
    /// is printed for the MCU's configuration, and becomes `${platform.host}`/`${platform.port}`.
    #[arg(long)]
    platform: bool,
    /// The suite's name (`suite:`); the file's stem by default.
    #[arg(long, value_name = "NAME")]
    suite_name: Option<String>,
    /// The case's id.
    #[arg(long, value_name = "ID", default_value = "recorded")]
    case_id: String,
    /// The golden snapshots folder the snapshot goes to, under the rig's dialect.
    #[arg(long, default_value = "golden")]
    golden: PathBuf,
    /// Windows are the measured times × this, where they exceed the manual's.
    #[arg(long, value_name = "FACTOR", default_value_t = 3.0)]
    margin: f64,
}

/// A name the suite loader takes for a suite or case.
fn name_ok(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn usage(field: &str, why: String) -> Error {
    Error::Usage(format!("{field}: {why}"))
}

pub fn run(a: RecordArgs) -> Result<Exit, Error> {
    let suite = match &a.suite_name {
        Some(s) => s.clone(),
        None => a.out.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default(),
    };
    if !name_ok(&suite) {
        return Err(usage("--suite-name", format!("{suite:?} must be letters, digits, - or _")));
    }
    if !name_ok(&a.case_id) {
        return Err(usage("--case-id", format!("{:?} must be letters, digits, - or _", a.case_id)));
    }
    if !(1.0..=1000.0).contains(&a.margin) {
        return Err(usage("--margin", format!("{} must be between 1 and 1000", a.margin)));
    }
    if a.out.exists() {
        return Err(usage("--out", format!("{} exists; recording never overwrites a case", a.out.display())));
    }
    let rig = Rig::load(&a.rig)?;
    let snapshot = a.golden.join(&rig.golden).join(format!("{suite}__{}.snap", a.case_id));
    if snapshot.exists() {
        return Err(usage("--out", format!("the golden snapshot {} exists already", snapshot.display())));
    }
    if a.platform && rig.platform.is_none() {
        return Err(usage("--platform", format!("{} has no [platform] table", a.rig.display())));
    }
    let listener = match &a.tcp {
        Some(addr) => Some(
            std::net::TcpListener::bind(addr).map_err(|e| usage("--tcp", format!("cannot listen on {addr}: {e}")))?,
        ),
        None => None,
    };
    miplcheck_runner::interrupt::install().map_err(|e| Error::Failed(format!("cannot handle signals: {e}")))?;
    let mut recorder = match Recorder::open(rig.clone(), a.platform) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}", miplcheck_record::printable(&e.to_string()));
            return Ok(Exit::Infrastructure);
        }
    };
    let mut mcu: Box<dyn miplcheck_transport::Port> = match &listener {
        None => {
            let (path, port) =
                forward::offer_pty().map_err(|e| Error::Failed(format!("cannot open a pseudo-terminal: {e}")))?;
            say!("{}", path.display());
            Box::new(port)
        }
        Some(l) => {
            let local = l.local_addr().map(|a| a.to_string()).unwrap_or_default();
            crate::out::warn_if_wide(
                "the recorder's MCU port",
                l.local_addr().map_err(|e| Error::Failed(e.to_string()))?,
            );
            say!("tcp {local}");
            match forward::accept_tcp(l).map_err(|e| Error::Failed(format!("--tcp {local}: {e}")))? {
                Some(port) => Box::new(port),
                None => {
                    eprintln!("stopped before the MCU connected; nothing written");
                    return Ok(Exit::Failed);
                }
            }
        }
    };
    if let Some(pf) = recorder.platform() {
        say!("mock OneNET platform on coap://{pf}");
    }
    eprintln!("recording {} ↔ {} (Ctrl-C ends the session and writes {})", mcu.describe(), rig.name, a.out.display());
    let session = recorder.forward(mcu.as_mut());
    drop(mcu);
    eprintln!("session ended: {}", ended(&session.end));
    let naming = Naming { suite: suite.clone(), case: a.case_id.clone(), rig: rig.name.clone(), margin: a.margin };
    match recorder.write(&session, &naming, &a.out) {
        Ok(warnings) => warnings.iter().for_each(|w| eprintln!("warning: {}", miplcheck_record::printable(w))),
        Err(e @ RecordError::Case(_)) => return Err(Error::Failed(format!("{e}; {} not written", a.out.display()))),
        Err(e) => return Err(Error::Failed(e.to_string())),
    }
    say!("case: {}", a.out.display());
    // The session's end was asked for; the replay must not take it as a request to stop.
    miplcheck_runner::interrupt::clear();
    report(replay(rig, &a.out, &a.golden)?, &a, &suite)
}

fn ended(end: &forward::End) -> String {
    match end {
        forward::End::Signal(s) => s.name().to_string(),
        forward::End::McuClosed(why) => format!("the MCU side closed ({})", miplcheck_record::printable(why)),
        forward::End::ModemClosed(why) => format!("the modem's link closed ({})", miplcheck_record::printable(why)),
    }
}

fn report(replayed: Replayed, a: &RecordArgs, suite: &str) -> Result<Exit, Error> {
    let suites = a.out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    match replayed {
        Replayed::Snapshot(p) | Replayed::Matched(p) => {
            say!("snapshot: {}", p.display());
            say!(
                "run it: miplcheck run --rig {} --suites {} --golden {} --suite {suite}",
                a.rig.display(),
                suites.display(),
                a.golden.display()
            );
            Ok(Exit::Ok)
        }
        Replayed::Failed { verdict, reason } => {
            eprintln!(
                "error: the recorded case did not pass against {} once more ({verdict:?}): {}; {} is kept to edit",
                a.rig.display(),
                miplcheck_record::printable(&reason),
                a.out.display()
            );
            Ok(if verdict == miplcheck_record::Verdict::Error { Exit::Infrastructure } else { Exit::Failed })
        }
    }
}
