//! The drivers: the emulator in virtual time or on a pty, and a bench modem on a serial port or
//! behind a TCP serial server.

use super::sync::{drain, drain_to_marker, fresh_marker, sync, sync_after};
use super::{reset, Target, TargetError};
use crate::rig::{Reset, Rig};
use crate::transcript::Transcript;
use miplcheck_emulator::serve::PtyModem;
use miplcheck_emulator::sim::SimPort;
use miplcheck_transport::stream::StreamPort;
use miplcheck_transport::Port;
use std::time::Duration;

/// Each try of a health check's `AT`: a modem that is up answers within milliseconds.
const PING_TRY: Duration = Duration::from_secs(1);

pub(super) struct VirtualEmulator {
    pub(super) port: SimPort,
    /// How many platforms this target has started: each case's gets a port of its own, as on UDP.
    platforms: u16,
}

impl VirtualEmulator {
    pub(super) fn new(port: SimPort) -> Self {
        VirtualEmulator { port, platforms: 0 }
    }
}

impl Target for VirtualEmulator {
    fn describe(&self) -> String {
        self.port.describe()
    }
    fn port(&mut self) -> &mut dyn Port {
        &mut self.port
    }
    fn case_events(&mut self, events: &std::collections::BTreeMap<String, u16>) {
        self.port.modem().set_case_events(events.clone());
    }
    fn prepare(&mut self) -> Result<(), TargetError> {
        self.port.reset();
        Ok(())
    }
    fn ping(&mut self, tries: u32) -> Result<(), TargetError> {
        sync(&mut self.port, "\r", tries, PING_TRY, &mut Transcript::default())
    }
    fn reset(&mut self) -> Option<Result<String, TargetError>> {
        self.port.reset();
        Some(Ok("emulator reset".into()))
    }
    fn keep_firmware(&mut self) {
        self.port.modem().keep_firmware();
    }
    fn start_platform(
        &mut self,
        rig: &crate::rig::PlatformRig,
        opts: miplcheck_platform::PlatformOptions,
    ) -> Option<Box<dyn miplcheck_platform::Control>> {
        self.platforms = self.platforms.wrapping_add(1);
        let addr = super::virtual_net::platform_addr(rig, self.platforms);
        let pf = miplcheck_platform::sim::SimPlatform::new(addr, opts);
        self.port.attach(Box::new(super::virtual_net::PlatformNet::new(pf.clone())));
        Some(Box::new(pf))
    }
}

pub(super) struct PtyEmulator {
    pub(super) pty: PtyModem,
    pub(super) port: StreamPort,
    pub(super) prepared: Transcript,
}

impl Target for PtyEmulator {
    fn describe(&self) -> String {
        format!("emulator on {}", self.pty.path.display())
    }
    fn port(&mut self) -> &mut dyn Port {
        &mut self.port
    }
    fn case_events(&mut self, events: &std::collections::BTreeMap<String, u16>) {
        self.pty.running.case_events(events.clone());
    }
    fn prepare(&mut self) -> Result<(), TargetError> {
        self.pty.running.reset();
        // The reset drops the answers still in flight, and the marker comes after everything
        // the modem wrote before it, so reading up to the marker leaves nothing of the previous
        // case on the line, without waiting for a quiet spell; the AT/OK exchange then proves
        // the modem answers. Its OK is the only thing the fresh modem sends, so no quiet spell
        // after it either.
        self.prepared = Transcript::default();
        let marker = fresh_marker();
        self.pty.running.mark(&marker);
        drain_to_marker(&mut self.port, &marker, Duration::from_secs(10))?;
        sync_after(&mut self.port, "\r", 3, Duration::from_secs(5), Duration::ZERO, &mut self.prepared)
    }
    fn preparation(&mut self) -> Transcript {
        std::mem::take(&mut self.prepared)
    }
    fn ping(&mut self, tries: u32) -> Result<(), TargetError> {
        // Nothing is reset, so an answer the modem scheduled for later may still follow the OK.
        // A ping only tells whether the modem answers: a prepare (reset, marker) comes before
        // any case and drops what it left, so no quiet spell is waited for here either.
        let marker = fresh_marker();
        self.pty.running.mark(&marker);
        drain_to_marker(&mut self.port, &marker, Duration::from_secs(2))?;
        sync_after(&mut self.port, "\r", tries, PING_TRY, Duration::ZERO, &mut self.prepared)
    }
    fn reset(&mut self) -> Option<Result<String, TargetError>> {
        self.pty.running.reset();
        Some(Ok("emulator reset".into()))
    }
    fn keep_firmware(&mut self) {
        self.pty.running.keep_firmware();
    }
}

/// A physical modem (serial) or one behind a TCP or RFC 2217 serial server.
pub(super) struct Remote {
    port: Box<dyn Port>,
    reset: Option<Reset>,
    line_ending: String,
    prepared: Transcript,
}

impl Remote {
    pub(super) fn new(port: Box<dyn Port>, rig: &Rig) -> Self {
        Remote { port, reset: rig.reset.clone(), line_ending: rig.line_ending.clone(), prepared: Transcript::default() }
    }
}

impl Target for Remote {
    fn describe(&self) -> String {
        self.port.describe()
    }
    fn port(&mut self) -> &mut dyn Port {
        self.port.as_mut()
    }
    fn prepare(&mut self) -> Result<(), TargetError> {
        self.prepared = Transcript::default();
        // An RFC 2217 server drops what its UART buffers hold (PURGE-DATA); other links have
        // nothing to purge and only drain.
        self.port.purge().map_err(|e| TargetError::Closed(format!("purge: {e}")))?;
        drain(self.port.as_mut(), Duration::from_millis(100), Duration::from_secs(5))?;
        if let Some(r) = &self.reset {
            reset::run(self.port.as_mut(), r, &self.line_ending, &mut self.prepared)?;
        }
        sync(self.port.as_mut(), &self.line_ending, 5, Duration::from_secs(1), &mut self.prepared)
    }
    fn preparation(&mut self) -> Transcript {
        std::mem::take(&mut self.prepared)
    }
    fn ping(&mut self, tries: u32) -> Result<(), TargetError> {
        drain(self.port.as_mut(), Duration::from_millis(100), Duration::from_secs(2))?;
        sync(self.port.as_mut(), &self.line_ending, tries, PING_TRY, &mut self.prepared)
    }
    fn reset(&mut self) -> Option<Result<String, TargetError>> {
        let r = self.reset.as_ref()?;
        Some(
            drain(self.port.as_mut(), Duration::from_millis(100), Duration::from_secs(2))
                .and_then(|()| reset::run(self.port.as_mut(), r, &self.line_ending, &mut self.prepared)),
        )
    }
}
