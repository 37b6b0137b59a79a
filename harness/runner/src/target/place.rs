//! A rig of `kind = "labgrid"` for the length of a run: its place leased ([`Lease`]), the place's
//! serial resource made the rig's link (RFC 2217, or raw TCP) and its power resource the rig's
//! power strategy, unless the rig file has a `[power]` of its own.
//!
//! [`Unopened`] stands for a target the dispatcher does not open (a place not leased, a rig with
//! no case to run). The lease is taken and given back by the dispatcher
//! ([`crate::dispatch::Plan::execute`]); this module only turns what the place has into a rig and
//! never talks to the modem.

use super::{HealthReport, Target, TargetError};
use crate::labgrid::{Lease, SerialProtocol};
use crate::rig::{Power, Rig, Target as RigTarget};
use miplcheck_transport::rfc2217::Rfc2217Settings;
use miplcheck_transport::Port;
use std::time::Duration;

/// The rig as its leased place makes it: the exporter's serial server as the target, at the speed
/// the place's resource names (labgrid's own serial driver uses it too, and the exporter always
/// publishes one) or else `[serial]`'s; the rest of the line from `[serial]`.
pub fn leased_rig(rig: &Rig, lease: &Lease) -> Rig {
    let RigTarget::Labgrid { line, .. } = &rig.target else { return rig.clone() };
    let serial = lease.serial();
    let target = match serial.protocol {
        SerialProtocol::Rfc2217 => {
            let mut s = Rfc2217Settings::from_serial(serial.address(), line);
            if let Some(speed) = serial.speed {
                s.baud = speed;
            }
            RigTarget::Rfc2217(s)
        }
        SerialProtocol::Raw => RigTarget::Tcp {
            address: serial.address(),
            connect_timeout: miplcheck_transport::stream::DEFAULT_CONNECT_TIMEOUT,
        },
    };
    let power = rig.power.clone().or_else(|| {
        lease.power().map(|p| {
            let c = p.commands();
            Power {
                off: Some(c.off),
                on: Some(c.on),
                cycle: Some(c.cycle),
                // labgrid-client starts Python for each call: a cycle took 4.5 s on a loaded box.
                timeout: Duration::from_secs(60),
                off_time: Duration::from_secs(2),
                settle: Duration::from_secs(10),
                group: None,
            }
        })
    });
    // The line as leased: the place's speed, and none for a raw TCP server (see rig::line_time).
    let timing = crate::rig::Timing { line: crate::rig::line_time(&target), ..rig.timing.clone() };
    Rig { target, power, timing, ..rig.clone() }
}

/// The target of a rig that is not opened: a labgrid place that could not be leased (every case
/// then finds the rig unhealthy, with why), or a rig with no case to run in this shard.
pub struct Unopened {
    /// What the target is, and that it is not open: `labgrid place bc39-a on … (not leased)`.
    pub what: String,
    /// Why it is not open, as its health check says it.
    pub why: String,
    link: NoLink,
}

impl Unopened {
    pub fn new(what: String, why: String) -> Self {
        let link = NoLink(why.clone());
        Unopened { what, why, link }
    }
}

/// The link of a target that is not opened: closed from the start.
struct NoLink(String);

impl Port for NoLink {
    fn describe(&self) -> String {
        "no link".into()
    }
    fn now(&self) -> miplcheck_at::Stamp {
        miplcheck_at::Stamp::ZERO
    }
    fn write(&mut self, _: &[u8]) -> std::io::Result<miplcheck_at::Stamp> {
        Err(std::io::Error::new(std::io::ErrorKind::NotConnected, self.0.clone()))
    }
    fn read_until(&mut self, _: miplcheck_at::Stamp) -> miplcheck_transport::Received {
        miplcheck_transport::Received::Closed(self.0.clone())
    }
}

impl Target for Unopened {
    fn describe(&self) -> String {
        self.what.clone()
    }
    fn port(&mut self) -> &mut dyn Port {
        &mut self.link
    }
    fn prepare(&mut self) -> Result<(), TargetError> {
        Err(TargetError::NotLeased(self.why.clone()))
    }
    fn health_check(&mut self) -> HealthReport {
        HealthReport { ok: false, rungs: vec![self.why.clone()] }
    }
}

/// A leased place's target: the link as usual, described with the place it belongs to.
pub struct Leased<T> {
    pub inner: T,
    /// `labgrid place bc39-a`.
    pub what: String,
}

impl<T: Target> Target for Leased<T> {
    fn describe(&self) -> String {
        format!("{}: {}", self.what, self.inner.describe())
    }
    fn port(&mut self) -> &mut dyn Port {
        self.inner.port()
    }
    fn prepare(&mut self) -> Result<(), TargetError> {
        self.inner.prepare()
    }
    fn preparation(&mut self) -> crate::transcript::Transcript {
        self.inner.preparation()
    }
    fn health_check(&mut self) -> HealthReport {
        self.inner.health_check()
    }
    fn ping(&mut self, tries: u32) -> Result<(), TargetError> {
        self.inner.ping(tries)
    }
    fn reset(&mut self) -> Option<Result<String, TargetError>> {
        self.inner.reset()
    }
    fn keep_firmware(&mut self) {
        self.inner.keep_firmware()
    }
    fn release(&mut self) {
        self.inner.release()
    }
}
