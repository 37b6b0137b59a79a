//! Recording a live MCU ↔ modem session as a suite case (`miplcheck record`).
//!
//! `forward` sits between the MCU software (a pty or a TCP connection it is offered) and the
//! rig's target, opened as a run opens it, and passes bytes both ways, stamping each chunk on the
//! modem port's clock; `session` reads the chunks with the AT lexer and classifier into commands
//! (their information lines, final result codes and latencies) and URCs; `case` writes them as a
//! suite file the loader accepts, generalising what is volatile (captures and `${…}`) and what
//! must not be written (rig secrets, the modem's IMEI and IMSI).
//!
//! Nothing here judges the firmware or writes a snapshot: the CLI replays the written case
//! through the dispatcher for that, so the snapshot is made exactly as a later run makes it.

pub mod case;
pub mod forward;
mod generalise;
pub mod replay;
pub mod session;

pub use generalise::Known;

use crate::rig::{EmulatorLink, Rig, Target as RigTarget};
use crate::target::{Target, TargetError};
use miplcheck_transport::Port;
use std::path::Path;
use std::time::Duration;

/// Why a recording could not be made or written.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// The rig's modem could not be opened or brought to its power-on state.
    #[error("the rig's modem: {0}")]
    Target(#[from] TargetError),
    /// The mock platform could not be started.
    #[error("cannot start the mock platform on {listen}: {source}")]
    Platform { listen: std::net::SocketAddr, source: std::io::Error },
    /// Nothing to write.
    #[error(transparent)]
    Case(#[from] case::CaseError),
    /// The case file could not be written.
    #[error("cannot write {path}: {source}")]
    Write { path: String, source: std::io::Error },
}

/// The modem side of a recording, open and at its power-on state, with what the case must not
/// spell out.
pub struct Recorder {
    rig: Rig,
    target: Box<dyn Target>,
    platform: Option<miplcheck_platform::udp::Handle>,
    pub known: Known,
}

impl Recorder {
    /// Opens the rig's target as a run does (an emulator rig on a pty, in real time, since an MCU
    /// is on the other side), prepares it, learns the modem's identities (an emulator's from the
    /// rig, a bench modem's by asking), and with `platform` starts the rig's mock platform.
    pub fn open(mut rig: Rig, platform: bool) -> Result<Recorder, RecordError> {
        if let RigTarget::Emulator { link, .. } = &mut rig.target {
            *link = EmulatorLink::Pty;
        }
        let mut target = crate::target::open(&rig)?;
        target.prepare()?;
        let (mut imei, mut imsi) = rig.declared_identities();
        if imei.is_none() {
            let plan = crate::Plan::new(rig.clone(), Default::default(), Default::default());
            let (i, s, notes) = plan.ask_identities(target.port());
            for n in notes {
                tracing::warn!("{}; it is not masked in the recorded case", miplcheck_record::printable(&n));
            }
            (imei, imsi) = (i, s);
            // What was asked is no part of the MCU's session.
            target.prepare()?;
        }
        let mut known = Known { platform: None, secrets: rig.secrets.clone(), imei, imsi };
        let platform = match (platform, &rig.platform, rig.platform_options()) {
            (true, Some(p), Some(opts)) => {
                let epoch = target.port().epoch().unwrap_or_else(std::time::Instant::now);
                let h = miplcheck_platform::udp::spawn(p.listen, opts, epoch)
                    .map_err(|source| RecordError::Platform { listen: p.listen, source })?;
                known.platform = Some((p.advertise.clone(), h.addr.port()));
                Some(h)
            }
            _ => None,
        };
        Ok(Recorder { rig, target, platform, known })
    }

    /// The mock platform's address as the MCU should be told it (`host:port`), when one runs.
    pub fn platform(&self) -> Option<String> {
        self.known.platform.as_ref().map(|(h, p)| format!("{h}:{p}"))
    }

    /// Forwards between `mcu` and the modem until the session ends.
    pub fn forward(&mut self, mcu: &mut dyn Port) -> forward::Session {
        forward::forward(self.target.port(), mcu)
    }

    /// Closes the modem link and the platform, and writes the case read from `session` to `out`
    /// (through a temporary file): the warnings on what was left out.
    pub fn write(
        self,
        session: &forward::Session,
        naming: &case::Naming,
        out: &Path,
    ) -> Result<Vec<String>, RecordError> {
        let Recorder { rig, target, platform, known } = self;
        // A serial port is opened exclusively: the replay opens it again.
        drop(target);
        drop(platform);
        let said = session::read(rig.dialect, &session.chunks);
        let (text, mut warnings) = case::write(rig.dialect, &said, &known, naming)?;
        if session.truncated {
            warnings.push(format!(
                "the session went past {MAX_RECORDED_BYTES} bytes; the rest was forwarded, not recorded"
            ));
        }
        crate::report::atomic::write(out, text.as_bytes())
            .map_err(|source| RecordError::Write { path: out.display().to_string(), source })?;
        Ok(warnings)
    }
}

/// Which way bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dir {
    /// From the MCU to the modem (TE→UE).
    FromTe,
    /// From the modem to the MCU (UE→TE).
    ToTe,
}

/// Bytes as the recorder passed them on, stamped on the modem port's clock: TE bytes when their
/// write to the modem returned (as the engine times a command), UE bytes when they arrived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub at: Duration,
    pub dir: Dir,
    pub bytes: Vec<u8>,
}

/// The most a recording keeps (both ways together): past it the session is still forwarded but
/// no longer recorded, so a chatty or hostile peer cannot grow memory without bound.
pub const MAX_RECORDED_BYTES: usize = 8 * 1024 * 1024;
