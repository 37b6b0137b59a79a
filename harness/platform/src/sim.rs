//! The platform in virtual time: the same sans-I/O server and DTLS links as the UDP driver, with
//! datagrams and the time handed in by whoever owns the clock — the emulator's virtual-time port,
//! through the runner. A case whose manual timers run for minutes (a registration never
//! answered, CoAP's back-off, a lifetime running out) then costs no wall time, and the records it
//! makes are stamped on the same clock as the AT side.
//!
//! Nothing here sleeps, binds a socket or starts a thread; addresses are names, never bound.
//! [`SimPlatform`] is a cheap clone of one shared platform: the clock's owner delivers datagrams
//! and polls timers through one clone, the engine operates it through another ([`Control`]).

use crate::control::Control;
use crate::dtls_link::{dtls_addr_for, Links};
use crate::handover::Taken;
use crate::record::WireRecord;
use crate::server::{
    Device, Fault, Interface, Note, OpId, OpOutcome, OperateError, Operation, Platform, PlatformOptions,
};
use crate::sota::SotaReport;
use miplcheck_lwm2m::endpoint::Datagram;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A datagram the platform sends to a device: from which of its addresses, to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub from: SocketAddr,
    pub to: SocketAddr,
    pub bytes: Vec<u8>,
}

/// The mock platform on a virtual clock.
#[derive(Clone)]
pub struct SimPlatform {
    addr: SocketAddr,
    dtls_addr: Option<SocketAddr>,
    inner: Arc<Mutex<Inner>>,
}

struct Inner {
    pf: Platform<SocketAddr>,
    links: Links,
    /// The latest time anyone handed in: operations the engine starts happen then.
    now: Duration,
    outbox: VecDeque<Delivery>,
    taken: Taken,
}

impl SimPlatform {
    /// A platform that answers at `addr` (and, on loopback, its DTLS port, as the UDP driver
    /// derives it). `{port}` in `opts.server_uri` becomes `addr`'s port.
    pub fn new(addr: SocketAddr, mut opts: PlatformOptions) -> SimPlatform {
        opts.server_uri = opts.server_uri.replace("{port}", &addr.port().to_string());
        let inner = Inner {
            pf: Platform::new(opts),
            links: Links::default(),
            now: Duration::ZERO,
            outbox: VecDeque::new(),
            taken: Taken::default(),
        };
        SimPlatform { addr, dtls_addr: dtls_addr_for(addr), inner: Arc::new(Mutex::new(inner)) }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a datagram sent to `to` reaches this platform.
    pub fn listens_on(&self, to: SocketAddr) -> bool {
        to == self.addr || Some(to) == self.dtls_addr
    }

    /// A datagram from a device at `now`, sent to `to` (one of [`SimPlatform::listens_on`]'s
    /// addresses; anything else is lost, as on a network with nobody there).
    pub fn receive(&self, from: SocketAddr, to: SocketAddr, bytes: &[u8], now: Duration) {
        if !self.listens_on(to) {
            return;
        }
        let secure = Some(to) == self.dtls_addr;
        let mut g = self.inner();
        let now = g.advance(now);
        let (flights, plain) = g.links.receive(secure, from, bytes);
        g.outbox.extend(flights.into_iter().map(|bytes| Delivery { from: to, to: from, bytes }));
        let out: Vec<Datagram<SocketAddr>> = plain.iter().flat_map(|p| g.pf.on_datagram(from, p, now)).collect();
        g.send(out, self.addr, self.dtls_addr);
    }

    /// When the platform next has something to do: now, if datagrams wait to go out.
    pub fn next_deadline(&self) -> Option<Duration> {
        let g = self.inner();
        if g.outbox.is_empty() {
            g.pf.next_deadline()
        } else {
            Some(g.now)
        }
    }

    /// Runs the timers due by `now` (re-sends, lapsed registrations, jobs) and hands over every
    /// datagram waiting to go out, in order.
    pub fn poll(&self, now: Duration) -> Vec<Delivery> {
        let mut g = self.inner();
        let now = g.advance(now);
        if g.pf.next_deadline().is_some_and(|t| t <= now) {
            let out = g.pf.poll(now);
            g.send(out, self.addr, self.dtls_addr);
        }
        g.outbox.drain(..).collect()
    }

    /// Runs `f` on the platform at the current time and sends what it returns.
    fn act<T>(&self, f: impl FnOnce(&mut Platform<SocketAddr>, Duration) -> (T, Vec<Datagram<SocketAddr>>)) -> T {
        let mut g = self.inner();
        let now = g.now;
        let (t, out) = f(&mut g.pf, now);
        g.send(out, self.addr, self.dtls_addr);
        t
    }
}

impl Inner {
    /// Moves what the platform recorded into the bounded hand-over.
    fn collect(&mut self) {
        self.taken.extend(&mut self.pf);
    }

    /// Time never runs backwards here, whatever a caller hands in.
    fn advance(&mut self, now: Duration) -> Duration {
        self.now = self.now.max(now);
        self.now
    }

    /// Records first (as the UDP driver does, so a cause is recorded before its effect can be
    /// seen), then each datagram sealed for its device and queued from the port it speaks on.
    fn send(&mut self, out: Vec<Datagram<SocketAddr>>, main: SocketAddr, dtls: Option<SocketAddr>) {
        self.collect();
        for d in out {
            let (secure, sealed) = self.links.seal(d.peer, d.bytes, dtls.is_some());
            let from = if secure { dtls.unwrap_or(main) } else { main };
            self.outbox.extend(sealed.into_iter().map(|bytes| Delivery { from, to: d.peer, bytes }));
        }
    }
}

impl Control for SimPlatform {
    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn dtls_addr(&self) -> Option<SocketAddr> {
        self.dtls_addr
    }

    fn operate(&self, device: Option<&str>, op: Operation) -> Result<OpId, OperateError> {
        self.act(|pf, now| match pf.operate(device, op, now) {
            Ok((id, out)) => (Ok(id), out),
            Err(e) => (Err(e), vec![]),
        })
    }

    fn outcome(&self, id: OpId) -> OpOutcome {
        self.inner().pf.outcome(id)
    }

    fn sota_report(&self, id: OpId) -> Option<SotaReport> {
        self.inner().pf.sota_report(id)
    }

    fn devices(&self) -> Vec<Device<SocketAddr>> {
        self.inner().pf.devices().to_vec()
    }

    fn set_auto_observe(&self, on: bool) {
        self.inner().pf.set_auto_observe(on);
    }

    fn set_dtls(&self, psk: Option<Vec<u8>>) {
        self.inner().links.set_key(psk);
    }

    fn set_auth_code(&self, code: Option<String>) {
        self.inner().pf.set_auth_code(code);
    }

    fn assign_psk(&self, assigned: Option<(String, Vec<u8>)>) {
        let mut g = self.inner();
        g.links.assign(assigned.as_ref().map(|(_, k)| k.clone()));
        g.pf.set_assigned_psk(assigned);
    }

    fn delete_device(&self, device: Option<&str>) -> Result<(), OperateError> {
        self.act(|pf, now| (pf.delete_device(device, now), vec![]))
    }

    fn set_fault(&self, what: Interface, fault: Option<Fault>) {
        self.inner().pf.set_fault(what, fault);
    }

    fn take_records(&self) -> Vec<WireRecord> {
        let mut g = self.inner();
        g.collect();
        std::mem::take(&mut g.taken.records).into()
    }

    fn take_notes(&self) -> Vec<Note> {
        let mut g = self.inner();
        g.collect();
        std::mem::take(&mut g.taken.notes).into()
    }

    fn records_dropped(&self) -> u64 {
        self.inner().taken.dropped
    }
}
