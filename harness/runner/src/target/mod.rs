//! Drivers and strategies (labgrid's words): a rig's passive description turned into a live
//! [`Port`] (`driver`), and the strategies that bring the modem back: before every case
//! [`Target::prepare`] (drain and AT/OK `sync`, a bench modem's `reset` command), and after a case
//! failed for a reason of the bench the health check (`health`: AT, then reset, then the rig's
//! [`power`] strategy), which [`Reopening`] runs with the port opened again as needed.

mod driver;
pub mod flash;
mod health;
pub mod place;
pub mod power;
mod reset;
mod sync;
mod virtual_net;

pub use health::HealthReport;
pub use power::PowerError;

use crate::pattern::PatternError;
use crate::rig::{EmulatorLink, Rig, Target as RigTarget};
use crate::transcript::Transcript;
use driver::{PtyEmulator, Remote, VirtualEmulator};
use miplcheck_emulator::serve::on_pty;
use miplcheck_emulator::sim::SimPort;
use miplcheck_emulator::{Modem, OptionsError};
use miplcheck_transport::rfc2217::Rfc2217Port;
use miplcheck_transport::serial::{self, SerialError, SerialSettings};
use miplcheck_transport::stream::StreamPort;
use miplcheck_transport::Port;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Something the runner can run cases against.
pub trait Target: Send {
    fn describe(&self) -> String;
    fn port(&mut self) -> &mut dyn Port;
    /// Brings the modem to its power-on state with nothing left on the line.
    fn prepare(&mut self) -> Result<(), TargetError>;
    /// The case's event codes over the emulator's own (a suite case's `emulator-events`), from
    /// the next [`Target::prepare`] on; an empty map brings back the rig's. Only the emulator
    /// has codes to change, so by default nothing is done (such cases skip other rigs).
    fn case_events(&mut self, events: &std::collections::BTreeMap<String, u16>) {
        let _ = events;
    }
    /// What the last [`Target::prepare`] exchanged with the modem (its AT/OK sync), taken: a case
    /// that could not be prepared keeps it as its transcript.
    fn preparation(&mut self) -> Transcript {
        Transcript::default()
    }
    /// The health check (LAVA's word), after a case failed for a reason of the bench: AT → OK;
    /// failing that the rig's reset strategy, then AT → OK; failing that its power strategy, then
    /// AT → OK. Bounded in time by the rig's timeouts; each rung tried is said in the report.
    ///
    /// This default knows no strategies of its own and only prepares; [`Reopening`], which the
    /// dispatcher uses, climbs the rungs.
    fn health_check(&mut self) -> HealthReport {
        match self.prepare() {
            Ok(()) => HealthReport { ok: true, rungs: vec!["AT: OK".into()] },
            Err(e) => HealthReport { ok: false, rungs: vec![format!("AT: {e}")] },
        }
    }
    /// `AT` until `OK`, `tries` tries of a second each, after a short drain; nothing reset. The
    /// health check's first rung, and how it tells a rung worked.
    fn ping(&mut self, tries: u32) -> Result<(), TargetError> {
        let _ = tries;
        self.prepare()
    }
    /// The target's reset strategy on its own: the emulator's power-on reset, a bench modem's
    /// `[reset]` command and its ready line. Gives what said the modem is back; `None` when the
    /// target has no reset strategy.
    fn reset(&mut self) -> Option<Result<String, TargetError>> {
        None
    }
    /// The bench has flashed the firmware the modem now runs (`[flash] via = "fota"`): the
    /// emulator's resets keep it from now on, as a module keeps what is in its flash. A bench
    /// modem keeps it anyway: nothing to do.
    fn keep_firmware(&mut self) {}
    /// Lets go of the link so a flash tool can take the port; the next [`Target::prepare`] opens
    /// it again. Only [`Reopening`] can.
    fn release(&mut self) {}
    /// Starts the case's mock platform on the target's own clock, where it has one: the emulator
    /// in virtual time gets a [`SimPlatform`](miplcheck_platform::sim::SimPlatform) wired to its
    /// modem. `None`: the target runs in real time and the dispatcher starts the platform on UDP.
    fn start_platform(
        &mut self,
        rig: &crate::rig::PlatformRig,
        opts: miplcheck_platform::PlatformOptions,
    ) -> Option<Box<dyn miplcheck_platform::Control>> {
        let _ = (rig, opts);
        None
    }
}

/// Why a target could not be opened or brought to its power-on state ([`open`],
/// [`Target::prepare`]); the dispatcher makes it a case's failure reason.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// The rig's emulator options are refused, or the emulator does not speak its dialect.
    #[error(transparent)]
    Emulator(#[from] OptionsError),
    /// No pseudo-terminal for the emulator.
    #[error("cannot open a pseudo-terminal: {0}")]
    Pty(#[source] io::Error),
    /// The emulator's pseudo-terminal could not be opened as a serial port.
    #[error("cannot open the emulator's pty: {0}")]
    PtyPort(#[source] SerialError),
    /// The rig's serial port could not be opened.
    #[error(transparent)]
    Serial(#[from] SerialError),
    /// The rig's TCP or RFC 2217 serial server could not be reached, or refused the line settings.
    #[error("cannot connect to {address}: {}", without_address(address, source))]
    Connect {
        /// The rig's `[tcp]` or `[rfc2217]` address.
        address: String,
        /// Why connecting failed.
        source: io::Error,
    },
    /// Bytes kept arriving while the line was being drained.
    #[error("the line did not go quiet within {0:?}")]
    NotQuiet(
        /// How long draining went on.
        Duration,
    ),
    /// The emulator did not write the sync's marker (its thread is stuck or gone).
    #[error("the emulator did not mark the line within {0:?}")]
    NotMarked(
        /// How long the marker was waited for.
        Duration,
    ),
    /// The link closed while the line was being drained.
    #[error("the link closed: {0}")]
    Closed(
        /// The port's reason.
        String,
    ),
    /// `AT` could not be written while synchronising.
    #[error("sync: cannot write AT: {0}")]
    SyncWrite(#[source] io::Error),
    /// The link closed while synchronising.
    #[error("sync: the link closed ({0})")]
    SyncClosed(
        /// The port's reason.
        String,
    ),
    /// No `OK` to `AT` after every try.
    #[error(
        "sync: no OK to AT after {tries} tries over {:.1} s; {}",
        spent.as_secs_f64(),
        if received.is_empty() { "nothing came back".to_string() } else { format!("received `{received}`") }
    )]
    NoOk {
        /// How many times `AT` was sent.
        tries: u32,
        /// How long the tries took, measured.
        spent: Duration,
        /// What came back meanwhile, escaped (the first bytes of it).
        received: String,
    },
    /// The rig's reset command could not be written.
    #[error("reset: cannot write {command}: {source}")]
    ResetWrite {
        /// The rig's `reset.command`.
        command: String,
        /// Why writing failed.
        source: io::Error,
    },
    /// The rig's `reset.ready` is not a pattern.
    #[error("reset.ready: {0}")]
    ReadyPattern(#[source] PatternError),
    /// The ready line did not come within the reset's time-out.
    #[error("reset: no `{ready}` within {timeout:?} of {command}")]
    NotReady {
        /// The rig's `reset.ready`.
        ready: String,
        /// The rig's `reset.timeout`.
        timeout: Duration,
        /// The rig's `reset.command`.
        command: String,
    },
    /// The link closed while waiting for the ready line.
    #[error("reset: the link closed ({0})")]
    ResetClosed(
        /// The port's reason.
        String,
    ),
    /// The modem refused the reset command; its ready line will not come.
    #[error("reset: {command} was answered `{answer}`")]
    ResetRefused {
        /// The rig's `reset.command`.
        command: String,
        /// The refusal as it came (`ERROR`, `+CME ERROR: 100`), escaped.
        answer: String,
    },
    /// The rig's power strategy failed.
    #[error(transparent)]
    Power(#[from] PowerError),
    /// The rig's labgrid place could not be leased (or is not leased yet).
    #[error("{0}")]
    NotLeased(
        /// Why, as the lease said it.
        String,
    ),
}

/// The connect error's text without the address it may start with (the message names it once).
fn without_address(address: &str, e: &io::Error) -> String {
    let text = e.to_string();
    // The socket address may be a resolution of the rig's (`localhost:1` → `127.0.0.1:1`).
    match text.split_once(": ") {
        Some((head, rest)) if head == address || head.parse::<std::net::SocketAddr>().is_ok() => rest.to_string(),
        _ => text,
    }
}

impl TargetError {
    /// Whether the link itself is gone (port vanished, connection refused or dropped), so opening
    /// it again may help; a modem that is there and silent or refusing is not worth re-opening.
    pub fn link_gone(&self) -> bool {
        match self {
            TargetError::Pty(_)
            | TargetError::PtyPort(_)
            | TargetError::Serial(_)
            | TargetError::Closed(_)
            | TargetError::SyncWrite(_)
            | TargetError::SyncClosed(_)
            | TargetError::ResetWrite { .. }
            | TargetError::ResetClosed(_)
            // A fresh emulator is what opening it again makes.
            | TargetError::NotMarked(_) => true,
            // A server that is there but refuses RFC 2217 or the rig's line settings will refuse
            // them again: reconnecting does not help.
            TargetError::Connect { source, .. } => !matches!(
                source.kind(),
                io::ErrorKind::Unsupported | io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput
            ),
            TargetError::Emulator(_)
            | TargetError::NotQuiet(_)
            | TargetError::NoOk { .. }
            | TargetError::ReadyPattern(_)
            | TargetError::NotReady { .. }
            | TargetError::ResetRefused { .. }
            | TargetError::Power(_)
            | TargetError::NotLeased(_) => false,
        }
    }
}

/// Opens the rig's target.
pub fn open(rig: &Rig) -> Result<Box<dyn Target>, TargetError> {
    open_under(rig, Path::new("/")).map(|(t, _)| t)
}

/// Opens the rig's target with USB IDs looked up under `sysfs` (`/` but in tests), and says which
/// port it found: the serial path, the TCP address, or nothing for an emulator.
fn open_under(rig: &Rig, sysfs: &Path) -> Result<(Box<dyn Target>, Option<String>), TargetError> {
    match &rig.target {
        RigTarget::Emulator { options, link, flash_slot } => {
            let mut modem = Modem::new(options.clone())?;
            if let Some(slot) = flash_slot {
                boot_from_slot(&mut modem, slot);
            }
            match link {
                EmulatorLink::Virtual => Ok((Box::new(VirtualEmulator::new(SimPort::new(modem))), None)),
                EmulatorLink::Pty => {
                    let pty = on_pty(modem).map_err(TargetError::Pty)?;
                    let port = serial::open(&SerialSettings::at_path(pty.path.to_string_lossy()))
                        .map_err(TargetError::PtyPort)?;
                    Ok((Box::new(PtyEmulator { pty, port, prepared: Transcript::default() }), None))
                }
            }
        }
        RigTarget::Serial(s) => {
            // The USB IDs are looked up on every open: after a power cycle the adapter may come
            // back under another name.
            let path = serial::resolve_under(s, sysfs)?;
            let port = serial::open(&SerialSettings { port: Some(path.clone()), usb: None, ..s.clone() })?;
            Ok((Box::new(Remote::new(Box::new(port), rig)), Some(path)))
        }
        RigTarget::Tcp { address, connect_timeout } => {
            let port = StreamPort::tcp_within(address, *connect_timeout)
                .map_err(|source| TargetError::Connect { address: address.clone(), source })?;
            Ok((Box::new(Remote::new(Box::new(port), rig)), Some(address.clone())))
        }
        // Leased by the dispatcher first, which makes it an Rfc2217 or Tcp rig.
        RigTarget::Labgrid { place, .. } => {
            Err(TargetError::NotLeased(format!("labgrid place {} is not leased", place.place)))
        }
        RigTarget::Rfc2217(settings) => {
            let port = Rfc2217Port::connect(settings)
                .map_err(|source| TargetError::Connect { address: settings.address.clone(), source })?;
            Ok((Box::new(Remote::new(Box::new(port), rig)), Some(settings.address.clone())))
        }
    }
}

/// The largest image read from an emulator's flash slot (the platform's own limit on a package).
const MAX_SLOT: u64 = miplcheck_platform::fota::MAX_PACKAGE as u64;

/// What the emulator's bootloader finds in its flash slot: a package there is flashed; nothing
/// there is its own firmware; an image it cannot read or refuses leaves that firmware, said in
/// the log, and the flash's revision check is what tells the run.
fn boot_from_slot(modem: &mut Modem, slot: &Path) {
    use std::io::Read;
    let image = match std::fs::File::open(slot) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return,
        Err(e) => Err(e.to_string()),
        Ok(f) => {
            let mut bytes = Vec::new();
            match f.take(MAX_SLOT + 1).read_to_end(&mut bytes) {
                Ok(_) if bytes.len() as u64 > MAX_SLOT => Err(format!("larger than {MAX_SLOT} bytes")),
                Ok(_) => Ok(bytes),
                Err(e) => Err(e.to_string()),
            }
        }
    };
    match image.and_then(|bytes| modem.flash(&bytes)) {
        Ok(revision) => tracing::info!("emulator: booted {revision} from {}", slot.display()),
        Err(why) => tracing::warn!("emulator: the image in {} is not booted: {why}", slot.display()),
    }
}

/// Opens the rig's target on first use and again whenever preparing it fails: a USB modem that
/// re-enumerated or a serial server that dropped the connection is found again, and a port that
/// stays dead fails each case with the reason instead of stopping the run. Its
/// [`Target::health_check`] climbs AT, reset and power (see `health`).
pub struct Reopening {
    rig: Rig,
    inner: Option<Box<dyn Target>>,
    last_error: Option<String>,
    /// The exchange of a target that was opened again and still could not be prepared.
    failed: Transcript,
    /// Where USB IDs are looked up (`/`).
    sysfs: PathBuf,
    /// The port last opened (serial path, TCP address), for the power commands' environment.
    port_name: Option<String>,
    /// The case's event codes ([`Target::case_events`]), handed to each target opened.
    case_events: std::collections::BTreeMap<String, u16>,
}

impl Reopening {
    /// Opens the target now, so the run can say what it is talking to; a failure is kept and
    /// retried at the first case.
    pub fn new(rig: Rig) -> Self {
        Self::with_sysfs_root(rig, PathBuf::from("/"))
    }

    /// [`Reopening::new`] with USB IDs looked up under `root` instead of `/`: a test's fake sysfs
    /// tree, where a power cycle can re-enumerate the port.
    pub fn with_sysfs_root(rig: Rig, root: PathBuf) -> Self {
        let mut r = Reopening {
            port_name: known_port(&rig),
            rig,
            inner: None,
            last_error: None,
            failed: Transcript::default(),
            sysfs: root,
            case_events: Default::default(),
        };
        if let Err(e) = r.reopen() {
            r.last_error = Some(e.to_string());
        }
        r
    }

    /// The rig this target was opened from.
    pub fn rig(&self) -> &Rig {
        &self.rig
    }

    /// Drops the target (if open) and opens it again.
    fn reopen(&mut self) -> Result<&mut Box<dyn Target>, TargetError> {
        self.inner = None;
        let (t, name) = open_under(&self.rig, &self.sysfs).inspect_err(|e| self.last_error = Some(e.to_string()))?;
        self.last_error = None;
        if name.is_some() {
            self.port_name = name;
        }
        let t = self.inner.insert(t);
        t.case_events(&self.case_events);
        Ok(t)
    }

    /// The open target, opened now if it is not.
    fn opened(&mut self) -> Result<&mut Box<dyn Target>, TargetError> {
        if self.inner.is_none() {
            self.reopen()?;
        }
        Ok(self.inner.as_mut().expect("opened"))
    }
}

/// What a rig's target is, said without opening it: `serial /dev/ttyUSB0`, `rfc2217 lab:4001`.
pub fn unopened(rig: &Rig) -> String {
    match &rig.target {
        RigTarget::Emulator { .. } => "emulator".to_string(),
        RigTarget::Serial(s) => format!("serial {}", s.port.clone().unwrap_or_else(|| "(by USB IDs)".into())),
        RigTarget::Tcp { address, .. } => format!("tcp {address}"),
        RigTarget::Rfc2217(r) => format!("rfc2217 {}", r.address),
        RigTarget::Labgrid { place, .. } => format!("labgrid place {} on {}", place.place, place.coordinator),
    }
}

/// The port a rig names before anything is opened: a path or an address, not USB IDs.
fn known_port(rig: &Rig) -> Option<String> {
    match &rig.target {
        RigTarget::Serial(s) => s.port.clone(),
        RigTarget::Tcp { address, .. } => Some(address.clone()),
        RigTarget::Rfc2217(r) => Some(r.address.clone()),
        RigTarget::Emulator { .. } | RigTarget::Labgrid { .. } => None,
    }
}

impl Target for Reopening {
    fn describe(&self) -> String {
        match &self.inner {
            Some(t) => t.describe(),
            None => {
                let what = unopened(&self.rig);
                match &self.last_error {
                    Some(e) => format!("{what} (not open: {e})"),
                    None => what,
                }
            }
        }
    }

    fn port(&mut self) -> &mut dyn Port {
        self.inner.as_mut().expect("prepare() succeeded before port() is used").port()
    }

    fn prepare(&mut self) -> Result<(), TargetError> {
        if let Some(t) = self.inner.as_mut() {
            match t.prepare() {
                Ok(()) => return Ok(()),
                // The link works and the modem is silent or refuses its reset: opening it again
                // would only get the same answer.
                Err(e @ (TargetError::NoOk { .. } | TargetError::ResetRefused { .. })) => return Err(e),
                Err(e) => {
                    tracing::warn!("preparing the target failed ({e}); opening it again");
                    self.inner = None;
                }
            }
        }
        let t = self.reopen()?;
        if let Err(e) = t.prepare() {
            let exchange = t.preparation();
            self.failed = exchange;
            self.inner = None;
            return Err(e);
        }
        Ok(())
    }

    fn case_events(&mut self, events: &std::collections::BTreeMap<String, u16>) {
        // Kept for a target opened again by the prepare that follows.
        self.case_events = events.clone();
        if let Some(t) = self.inner.as_mut() {
            t.case_events(events);
        }
    }

    fn preparation(&mut self) -> Transcript {
        match self.inner.as_mut() {
            Some(t) => t.preparation(),
            None => std::mem::take(&mut self.failed),
        }
    }

    fn health_check(&mut self) -> HealthReport {
        health::climb(self)
    }

    fn ping(&mut self, tries: u32) -> Result<(), TargetError> {
        self.opened()?.ping(tries)
    }

    fn reset(&mut self) -> Option<Result<String, TargetError>> {
        match self.opened() {
            Ok(t) => t.reset(),
            Err(e) => Some(Err(e)),
        }
    }

    fn keep_firmware(&mut self) {
        // An emulator opened again later is a fresh one on the rig's firmware: only this one keeps it.
        if let Some(t) = self.inner.as_mut() {
            t.keep_firmware();
        }
    }

    fn release(&mut self) {
        self.inner = None;
    }

    fn start_platform(
        &mut self,
        rig: &crate::rig::PlatformRig,
        opts: miplcheck_platform::PlatformOptions,
    ) -> Option<Box<dyn miplcheck_platform::Control>> {
        self.inner.as_mut()?.start_platform(rig, opts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_errors_read_as_before() {
        let e = TargetError::NoOk { tries: 5, spent: Duration::from_millis(5012), received: String::new() };
        assert_eq!(e.to_string(), "sync: no OK to AT after 5 tries over 5.0 s; nothing came back");
        let refused =
            io::Error::new(io::ErrorKind::ConnectionRefused, "127.0.0.1:1: Connection refused (os error 111)");
        let e = TargetError::Connect { address: "localhost:1".into(), source: refused };
        assert_eq!(e.to_string(), "cannot connect to localhost:1: Connection refused (os error 111)");
        let e = TargetError::Connect { address: "lab:1".into(), source: io::Error::other("rfc2217 lab:1: no answer") };
        assert_eq!(e.to_string(), "cannot connect to lab:1: rfc2217 lab:1: no answer");
        let e =
            TargetError::NotReady { ready: "RDY".into(), timeout: Duration::from_secs(10), command: "AT+NRB".into() };
        assert_eq!(e.to_string(), "reset: no `RDY` within 10s of AT+NRB");
        assert_eq!(TargetError::SyncClosed("EOF".into()).to_string(), "sync: the link closed (EOF)");
        assert_eq!(TargetError::NotQuiet(Duration::from_secs(5)).to_string(), "the line did not go quiet within 5s");
    }
}
