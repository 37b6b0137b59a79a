//! Drivers and strategies: a rig's passive description turned into a live [`Port`], and the
//! strategy that brings the modem to its power-on state before every case.

use crate::pattern::PatternError;
use crate::rig::{EmulatorLink, Rig, Target as RigTarget};
use crate::transcript::{Dir, Entry, Transcript};
use miplcheck_emulator::serve::{on_pty, PtyModem};
use miplcheck_emulator::sim::SimPort;
use miplcheck_emulator::{Modem, OptionsError};
use miplcheck_transport::serial::{self, SerialError, SerialSettings};
use miplcheck_transport::stream::StreamPort;
use miplcheck_transport::{Port, Received};
use std::io;
use std::time::Duration;

/// Something the runner can run cases against.
pub trait Target: Send {
    fn describe(&self) -> String;
    fn port(&mut self) -> &mut dyn Port;
    /// Brings the modem to its power-on state with nothing left on the line.
    fn prepare(&mut self) -> Result<(), TargetError>;
    /// What the last [`Target::prepare`] exchanged with the modem (its AT/OK sync), taken: a case
    /// that could not be prepared keeps it as its transcript.
    fn preparation(&mut self) -> Transcript {
        Transcript::default()
    }
    /// The health check (LAVA's word), after a case failed for a reason of the bench: AT → OK;
    /// failing that the rig's reset strategy, then AT → OK; failing that its power strategy, then
    /// AT → OK. Bounded in time by the rig's timeouts; each rung tried is said in the report.
    fn health_check(&mut self) -> HealthReport {
        match self.prepare() {
            Ok(()) => HealthReport { ok: true, rungs: vec!["AT: OK".into()] },
            Err(e) => HealthReport { ok: false, rungs: vec![format!("AT: {e}")] },
        }
    }
}

/// What a health check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReport {
    /// The modem answered `OK` to `AT` in the end: it is ready for the next case.
    pub ok: bool,
    /// Each rung tried, in order, and what it gave (`AT: sync: no OK …`, `reset AT+QRST=1: RDY`,
    /// `power cycle (uhubctl …): ok`).
    pub rungs: Vec<String>,
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
    /// The rig's TCP serial server could not be reached.
    #[error("cannot connect to {address}: {source}")]
    Connect {
        /// The rig's `[tcp] address`.
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
}

/// Opens the rig's target.
pub fn open(rig: &Rig) -> Result<Box<dyn Target>, TargetError> {
    match &rig.target {
        RigTarget::Emulator { options, link } => {
            let modem = Modem::new(options.clone())?;
            match link {
                EmulatorLink::Virtual => Ok(Box::new(VirtualEmulator { port: SimPort::new(modem) })),
                EmulatorLink::Pty => {
                    let pty = on_pty(modem).map_err(TargetError::Pty)?;
                    let port = serial::open(&SerialSettings::at_path(pty.path.to_string_lossy()))
                        .map_err(TargetError::PtyPort)?;
                    Ok(Box::new(PtyEmulator { pty, port, prepared: Transcript::default() }))
                }
            }
        }
        RigTarget::Serial(s) => {
            let port = serial::open(s)?;
            Ok(Box::new(Remote {
                port,
                reset: rig.reset.clone(),
                line_ending: rig.line_ending.clone(),
                prepared: Transcript::default(),
            }))
        }
        RigTarget::Tcp { address, connect_timeout } => {
            let port = StreamPort::tcp_within(address, *connect_timeout)
                .map_err(|source| TargetError::Connect { address: address.clone(), source })?;
            Ok(Box::new(Remote {
                port,
                reset: rig.reset.clone(),
                line_ending: rig.line_ending.clone(),
                prepared: Transcript::default(),
            }))
        }
    }
}

/// Reads and drops whatever arrives until the line has been quiet for `quiet`.
fn drain(port: &mut dyn Port, quiet: Duration, limit: Duration) -> Result<(), TargetError> {
    let end = port.now() + limit;
    loop {
        let deadline = (port.now() + quiet).min(end);
        match port.read_until(deadline) {
            Received::Data(_) if port.now() < end => {}
            Received::Data(_) => return Err(TargetError::NotQuiet(limit)),
            Received::Timeout => return Ok(()),
            Received::Closed(why) => return Err(TargetError::Closed(why)),
        }
    }
}

/// Sends `AT` until the modem answers `OK`, dropping everything before that answer: after it, the
/// line holds nothing from before. Modems that autobaud or just booted may miss the first tries.
/// The exchange goes to `log`.
fn sync(
    port: &mut dyn Port,
    line_ending: &str,
    tries: u32,
    per_try: Duration,
    log: &mut Transcript,
) -> Result<(), TargetError> {
    log.step("prepare", format!("sync: AT until OK, {tries} tries of {}", crate::engine::ms(per_try)));
    let began = port.now();
    let mut heard: Vec<u8> = Vec::new();
    for _ in 0..tries {
        let at = format!("AT{line_ending}").into_bytes();
        let sent = port.write(&at).map_err(TargetError::SyncWrite)?;
        log.entry(Entry { at: sent, dir: Dir::TeToUe, class: None, bytes: at, marks: vec![] });
        let deadline = port.now() + per_try;
        let mut lexer = miplcheck_at::Lexer::new();
        loop {
            match port.read_until(deadline) {
                Received::Data(c) => {
                    log.entry(Entry { at: c.at, dir: Dir::UeToTe, class: None, bytes: c.bytes.clone(), marks: vec![] });
                    if heard.len() < SYNC_HEARD {
                        heard.extend_from_slice(&c.bytes[..c.bytes.len().min(SYNC_HEARD - heard.len())]);
                    }
                    if lexer.push(&c.bytes, c.at).iter().any(|f| f.text().trim() == "OK") {
                        // An echo or a second OK may still be on its way only if the modem
                        // answered an earlier try late; a short quiet spell takes it.
                        return drain(port, Duration::from_millis(5), Duration::from_secs(5));
                    }
                }
                Received::Timeout => break,
                Received::Closed(why) => {
                    log.note(port.now(), format!("the link closed: {why}"));
                    return Err(TargetError::SyncClosed(why));
                }
            }
        }
    }
    let received = miplcheck_record::escape(&heard);
    Err(TargetError::NoOk { tries, spent: port.now().saturating_sub(began), received })
}

/// How many bytes heard during a failed sync its error quotes.
const SYNC_HEARD: usize = 120;

struct VirtualEmulator {
    port: SimPort,
}

impl Target for VirtualEmulator {
    fn describe(&self) -> String {
        self.port.describe()
    }
    fn port(&mut self) -> &mut dyn Port {
        &mut self.port
    }
    fn prepare(&mut self) -> Result<(), TargetError> {
        self.port.reset();
        Ok(())
    }
}

struct PtyEmulator {
    pty: PtyModem,
    port: miplcheck_transport::stream::StreamPort,
    prepared: Transcript,
}

impl Target for PtyEmulator {
    fn describe(&self) -> String {
        format!("emulator on {}", self.pty.path.display())
    }
    fn port(&mut self) -> &mut dyn Port {
        &mut self.port
    }
    fn prepare(&mut self) -> Result<(), TargetError> {
        self.pty.running.reset();
        // Output of the previous case still in flight goes first, then an AT/OK exchange proves
        // the line holds nothing older.
        self.prepared = Transcript::default();
        drain(&mut self.port, Duration::from_millis(20), Duration::from_secs(10))?;
        sync(&mut self.port, "\r", 3, Duration::from_secs(5), &mut self.prepared)
    }
    fn preparation(&mut self) -> Transcript {
        std::mem::take(&mut self.prepared)
    }
}

/// A physical modem (serial) or one behind a TCP serial server.
struct Remote {
    port: StreamPort,
    reset: Option<crate::rig::Reset>,
    line_ending: String,
    prepared: Transcript,
}

impl Target for Remote {
    fn describe(&self) -> String {
        self.port.describe()
    }
    fn port(&mut self) -> &mut dyn Port {
        &mut self.port
    }
    fn prepare(&mut self) -> Result<(), TargetError> {
        self.prepared = Transcript::default();
        drain(&mut self.port, Duration::from_millis(100), Duration::from_secs(5))?;
        if let Some(reset) = self.reset.clone() {
            self.power_cycle(&reset)?;
        }
        sync(&mut self.port, &self.line_ending, 5, Duration::from_secs(1), &mut self.prepared)
    }
    fn preparation(&mut self) -> Transcript {
        std::mem::take(&mut self.prepared)
    }
}

impl Remote {
    /// Sends the rig's reset command and waits for its `ready` line.
    fn power_cycle(&mut self, reset: &crate::rig::Reset) -> Result<(), TargetError> {
        let line = format!("{}{}", reset.command, self.line_ending);
        self.port
            .write(line.as_bytes())
            .map_err(|source| TargetError::ResetWrite { command: reset.command.clone(), source })?;
        let Some(ready) = &reset.ready else { return Ok(()) };
        let pat = crate::pattern::Pattern::new(ready).map_err(TargetError::ReadyPattern)?;
        let deadline = self.port.now() + reset.timeout;
        let mut lexer = miplcheck_at::Lexer::new();
        loop {
            match self.port.read_until(deadline) {
                Received::Data(c) => {
                    if lexer.push(&c.bytes, c.at).iter().any(|f| pat.matches(&f.text())) {
                        return Ok(());
                    }
                }
                Received::Timeout => {
                    return Err(TargetError::NotReady {
                        ready: ready.clone(),
                        timeout: reset.timeout,
                        command: reset.command.clone(),
                    })
                }
                Received::Closed(why) => return Err(TargetError::ResetClosed(why)),
            }
        }
    }
}

/// Opens the rig's target on first use and again whenever preparing it fails: a USB modem that
/// re-enumerated or a serial server that dropped the connection is found again, and a port that
/// stays dead fails each case with the reason instead of stopping the run.
pub struct Reopening {
    rig: Rig,
    inner: Option<Box<dyn Target>>,
    last_error: Option<String>,
    /// The exchange of a target that was opened again and still could not be prepared.
    failed: Transcript,
}

impl Reopening {
    /// Opens the target now, so the run can say what it is talking to; a failure is kept and
    /// retried at the first case.
    pub fn new(rig: Rig) -> Self {
        let (inner, last_error) = match open(&rig) {
            Ok(t) => (Some(t), None),
            Err(e) => (None, Some(e.to_string())),
        };
        Reopening { rig, inner, last_error, failed: Transcript::default() }
    }
}

impl Target for Reopening {
    fn describe(&self) -> String {
        match &self.inner {
            Some(t) => t.describe(),
            None => {
                let what = match &self.rig.target {
                    RigTarget::Emulator { .. } => "emulator".to_string(),
                    RigTarget::Serial(s) => {
                        format!("serial {}", s.port.clone().unwrap_or_else(|| "(by USB IDs)".into()))
                    }
                    RigTarget::Tcp { address, .. } => format!("tcp {address}"),
                };
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
                // The link works and the modem is silent: opening it again would only wait as
                // long once more.
                Err(e @ TargetError::NoOk { .. }) => return Err(e),
                Err(e) => {
                    tracing::warn!("preparing the target failed ({e}); opening it again");
                    self.inner = None;
                }
            }
        }
        let mut t = open(&self.rig).inspect_err(|e| self.last_error = Some(e.to_string()))?;
        if let Err(e) = t.prepare() {
            self.failed = t.preparation();
            return Err(e);
        }
        self.inner = Some(t);
        Ok(())
    }

    fn preparation(&mut self) -> Transcript {
        match self.inner.as_mut() {
            Some(t) => t.preparation(),
            None => std::mem::take(&mut self.failed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_errors_read_as_before() {
        let e = TargetError::NoOk { tries: 5, spent: Duration::from_millis(5012), received: String::new() };
        assert_eq!(e.to_string(), "sync: no OK to AT after 5 tries over 5.0 s; nothing came back");
        let e =
            TargetError::NotReady { ready: "RDY".into(), timeout: Duration::from_secs(10), command: "AT+NRB".into() };
        assert_eq!(e.to_string(), "reset: no `RDY` within 10s of AT+NRB");
        assert_eq!(TargetError::SyncClosed("EOF".into()).to_string(), "sync: the link closed (EOF)");
        assert_eq!(TargetError::NotQuiet(Duration::from_secs(5)).to_string(), "the line did not go quiet within 5s");
    }

    /// A port that never answers, in virtual time: every read waits out its deadline.
    struct Silent {
        now: Duration,
        garble: bool,
    }

    impl Port for Silent {
        fn describe(&self) -> String {
            "silent".into()
        }
        fn now(&self) -> Duration {
            self.now
        }
        fn write(&mut self, _: &[u8]) -> io::Result<Duration> {
            Ok(self.now)
        }
        fn read_until(&mut self, deadline: Duration) -> Received {
            if self.garble {
                self.garble = false;
                return Received::Data(miplcheck_transport::Chunk { at: self.now, bytes: b"\x1b[31m\xff".to_vec() });
            }
            self.now = self.now.max(deadline);
            Received::Timeout
        }
    }

    #[test]
    fn a_modem_that_never_syncs_is_reported_with_the_time_spent_and_what_came() {
        let mut port = Silent { now: Duration::from_secs(7), garble: true };
        let mut log = Transcript::default();
        let e = sync(&mut port, "\r", 5, Duration::from_secs(1), &mut log).unwrap_err();
        assert_eq!(e.to_string(), "sync: no OK to AT after 5 tries over 5.0 s; received `\\x1B[31m\\xFF`");
    }
}
