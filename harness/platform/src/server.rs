//! The mock OneNET server: bootstrap, registration, auto-observe, operations.

use crate::record::{WireDir, WireRecord, AUTH_CODE_OPTION};
use crate::sota::{self, SotaError, SotaJob, SotaReport};
use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};
use miplcheck_lwm2m::endpoint::{Datagram, Endpoint, Event, Params};
use miplcheck_lwm2m::tlv::{self, Tlv};
use miplcheck_lwm2m::{link, wire, ContentFormat, Path};
use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt::Debug;
use std::time::Duration;

/// Registered devices kept at most. Past it a new registration evicts a device: one that never
/// answered the platform first, then the one registered or updated longest ago (so a flood of
/// made-up registrations cannot lock a real device out, and evicts itself).
pub const MAX_DEVICES: usize = 64;
/// Requests in flight kept per device at most; past it a new one is refused
/// ([`OperateError::Busy`]; auto-observe stops short).
pub const MAX_PENDING_PER_DEVICE: usize = 64;
/// Requests in flight at most: every device's share, so devices never starve each other.
pub const MAX_PENDING: usize = MAX_DEVICES * MAX_PENDING_PER_DEVICE;
/// Bootstraps under way at most; past it the oldest is dropped (its writes stop).
pub const MAX_BOOTSTRAPS: usize = 64;
/// Observations remembered at most; past it the oldest is forgotten.
pub const MAX_OBSERVATIONS: usize = 4096;
/// Notifications kept per observation; past it the oldest is dropped.
pub const MAX_NOTIFICATIONS: usize = 1024;
/// Outcomes of a suite's operations kept at most; past it the oldest is forgotten.
pub const MAX_OUTCOMES: usize = 4096;
/// Devices remembered as offline (deregistered, expired, evicted) at most; oldest forgotten.
pub const MAX_OFFLINE: usize = 64;
/// Wire records not yet taken, at most; past it the oldest are dropped and counted.
pub const MAX_RECORDS: usize = 100_000;
/// Notes not yet taken, at most; past it the oldest are dropped.
pub const MAX_NOTES: usize = 4096;
/// How long past its lifetime a registration is still honoured (an update under way).
pub const LIFETIME_GRACE: Duration = Duration::from_secs(5);
/// The default lifetime when a registration names none (OMA-TS-LightweightM2M-V1_0 §5.3.1).
pub const DEFAULT_LIFETIME: u32 = 86_400;

/// Why an operation could not be started on a device.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OperateError {
    /// No device (or none whose endpoint name matches) is registered.
    #[error("no device is registered with the platform")]
    NoDevice,
    /// A SOTA job reached the plain-request path; [`Platform::operate`] starts SOTA jobs.
    #[error("a SOTA job is started by operate")]
    SotaNotByRequest,
    /// The request does not encode as CoAP.
    #[error("cannot encode the request")]
    Encode,
    /// The device (this endpoint name) already has an unfinished SOTA job.
    #[error("a SOTA job is already running on {0}")]
    SotaRunning(String),
    /// The SOTA job cannot run as asked.
    #[error(transparent)]
    Sota(#[from] SotaError),
    /// The FOTA job cannot run as asked.
    #[error(transparent)]
    Fota(#[from] crate::fota::FotaError),
    /// The platform's thread is gone (see [`crate::udp::Handle::operate`]).
    #[error("the platform stopped")]
    Stopped,
    /// The device was registered but is not any more: it deregistered, its lifetime ran out, or
    /// a newer registration evicted it.
    #[error("device {endpoint} is offline: {why}")]
    Offline { endpoint: String, why: String },
    /// The device already has [`MAX_PENDING_PER_DEVICE`] requests in flight (or the platform
    /// [`MAX_PENDING`]).
    #[error("too many requests in flight to {0}")]
    Busy(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlatformOptions {
    /// Observe every object instance, discover every object and read `/3/0` right after a
    /// device registers, as OneNET does for devices created with "obsv" on.
    pub auto_observe: bool,
    /// When set, a registration must carry this auth code in option 63 (BC39 §5.2.3).
    pub auth_code: Option<String>,
    /// What the bootstrap server tells a device to register with.
    pub server_uri: String,
    pub params: Params,
    /// Fixes message IDs and tokens so transcripts are reproducible.
    pub seed: u64,
    /// The `lwm2m=` versions a registration may name (a missing one is 1.0); a dialect may narrow
    /// it. Others get `4.00`.
    pub lwm2m_versions: Vec<String>,
}

impl Default for PlatformOptions {
    fn default() -> Self {
        PlatformOptions {
            auto_observe: true,
            auth_code: None,
            server_uri: "coap://127.0.0.1:5683".into(),
            params: Params::default(),
            seed: 0x0E7,
            lwm2m_versions: vec!["1.0".into(), "1.1".into()],
        }
    }
}

/// A registered device.
#[derive(Debug, Clone, PartialEq)]
pub struct Device<P> {
    pub peer: P,
    /// `ep=` of the registration: `<IMEI>;<IMSI>` for OneNET.
    pub endpoint: String,
    /// Where updates and deregistration go: `rd/1`.
    pub location: String,
    pub lifetime: u32,
    pub objects: Vec<Path>,
    pub updates: u32,
    /// `lwm2m=` of the registration (1.0 when it named none).
    pub version: String,
    /// `b=` of the registration or the last update that named one (`U` by default).
    pub binding: String,
    /// When the registration lapses: the last registration or update plus its lifetime plus
    /// [`LIFETIME_GRACE`].
    pub expires: Duration,
    /// The device answered one of the platform's requests since it registered.
    pub answered: bool,
}

/// What a suite can ask the platform to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Operation {
    Discover(Path),
    Observe(Path),
    CancelObserve(Path),
    Read(Path),
    Write {
        path: Path,
        format: ContentFormat,
        payload: Vec<u8>,
    },
    /// A write that replaces the whole instance or resource (PUT, OneNET's write mode 1), where
    /// [`Operation::Write`] to an instance is a partial update (POST, mode 2).
    Replace {
        path: Path,
        format: ContentFormat,
        payload: Vec<u8>,
    },
    Execute {
        path: Path,
        args: String,
    },
    /// `pmin=2&pmax=190&gt=100.0`.
    WriteAttributes {
        path: Path,
        query: String,
    },
    /// A software package pushed through object 5 (see [`crate::sota`]).
    Sota(SotaJob),
    /// The module's own firmware pushed through object 5 (see [`crate::fota`]).
    Fota(crate::fota::FotaJob),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpId(pub u64);

#[derive(Debug, Clone, PartialEq)]
pub enum OpOutcome {
    Pending,
    /// The device answered: `2.05` and the decoded answer. A SOTA job ends here whatever came of
    /// it: `code` is then [`SotaReport::summary`] and `packet` the device's last answer without
    /// options or payload (nothing to add to the summary); [`Platform::sota_report`] has the rest.
    Answered {
        code: String,
        at: Duration,
        packet: Packet,
    },
    /// No ACK after every retransmission.
    TimedOut,
    Reset,
    /// The platform stopped waiting: the device deregistered, expired or was evicted.
    Cancelled(String),
}

#[derive(Debug, Clone)]
struct Pending<P> {
    /// `None` for the platform's own requests (auto-observe), whose outcome nobody asks for.
    op: Option<OpId>,
    token: Vec<u8>,
    /// An RST names only the MID.
    mid: u16,
    peer: P,
    /// The device's endpoint name: whose share of [`MAX_PENDING`] it is.
    owner: String,
}

/// Requests in flight, by token, by peer and MID (an RST names only the MID), and by device.
struct PendingSet<P> {
    by_token: HashMap<Vec<u8>, Pending<P>>,
    by_mid: BTreeMap<(P, u16), Vec<u8>>,
    by_owner: HashMap<String, Vec<Vec<u8>>>,
}

impl<P: Clone + Ord> PendingSet<P> {
    fn new() -> Self {
        PendingSet { by_token: HashMap::new(), by_mid: BTreeMap::new(), by_owner: HashMap::new() }
    }

    fn len(&self) -> usize {
        self.by_token.len()
    }

    fn owned(&self, owner: &str) -> usize {
        self.by_owner.get(owner).map_or(0, Vec::len)
    }

    fn insert(&mut self, p: Pending<P>) {
        self.by_mid.insert((p.peer.clone(), p.mid), p.token.clone());
        self.by_owner.entry(p.owner.clone()).or_default().push(p.token.clone());
        self.by_token.insert(p.token.clone(), p);
    }

    fn remove(&mut self, token: &[u8]) -> Option<Pending<P>> {
        let p = self.by_token.remove(token)?;
        self.by_mid.remove(&(p.peer.clone(), p.mid));
        if let Some(v) = self.by_owner.get_mut(&p.owner) {
            v.retain(|t| t != token);
            if v.is_empty() {
                self.by_owner.remove(&p.owner);
            }
        }
        Some(p)
    }

    fn contains(&self, token: &[u8]) -> bool {
        self.by_token.contains_key(token)
    }

    fn token_of(&self, peer: &P, mid: u16) -> Option<Vec<u8>> {
        self.by_mid.get(&(peer.clone(), mid)).cloned()
    }

    fn tokens_of(&self, owner: &str) -> Vec<Vec<u8>> {
        self.by_owner.get(owner).cloned().unwrap_or_default()
    }
}

/// Steps of the bootstrap sequence still to send to a device.
#[derive(Debug, Clone)]
struct Bootstrap {
    queue: Vec<Packet>,
    /// When it began, for [`MAX_BOOTSTRAPS`].
    seq: u64,
}

/// A device that was registered and is not any more.
#[derive(Debug, Clone)]
struct Offline {
    endpoint: String,
    why: String,
}

/// Something the platform did on its own, with no datagram to show it: a registration expired,
/// a device was evicted, requests in flight were cancelled, records were dropped. Rejected
/// registrations and updates show in their answer's payload too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub at: Duration,
    /// The device's address, when the note is about one.
    pub peer: Option<String>,
    pub text: String,
}

/// An observation: its path, its device's endpoint name, and the notifications received,
/// oldest first.
struct Observation {
    path: Path,
    owner: String,
    seq: u64,
    notes: VecDeque<Packet>,
}

pub struct Platform<P> {
    opts: PlatformOptions,
    ep: Endpoint<P>,
    devices: Vec<Device<P>>,
    /// Devices that went offline, newest last (at most [`MAX_OFFLINE`]).
    offline: VecDeque<Offline>,
    next_location: u32,
    next_op: u64,
    pending: PendingSet<P>,
    outcomes: BTreeMap<OpId, OpOutcome>,
    /// Observations by token, and the tokens in the order observed.
    observations: HashMap<Vec<u8>, Observation>,
    observation_order: VecDeque<(u64, Vec<u8>)>,
    bootstraps: BTreeMap<P, Bootstrap>,
    next_seq: u64,
    records: VecDeque<WireRecord>,
    records_dropped: u64,
    notes: VecDeque<Note>,
    /// SOTA jobs, running or finished, and the address their device is reached at.
    sota: BTreeMap<OpId, (P, sota::Run)>,
    /// Faults a suite asked for, by interface.
    faults: BTreeMap<Interface, Fault>,
    /// What the bootstrap server hands out instead of `server_uri`: a `coaps://` URI and its key.
    assigned: Option<(String, Vec<u8>)>,
}

/// What a device asks of the platform, as far as faults go.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Interface {
    Bootstrap,
    Register,
    Update,
    /// Notifications: refused with RST (RFC 7641 §3.6), or never acknowledged.
    Notify,
    /// Separate CON responses to the platform's requests (RFC 7252 §5.2.2), after the device's
    /// empty ACK: refused with RST, or never acknowledged, so the device's retransmissions run
    /// out (BC39 §4.7 event 20).
    Response,
}

/// How the platform misbehaves on an interface, so a suite can see the device's failure events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer 4.03 Forbidden.
    Refuse,
    /// Answer nothing at all, not even an ACK.
    Ignore,
}

impl<P: Clone + Ord + Debug + std::fmt::Display> Platform<P> {
    pub fn new(opts: PlatformOptions) -> Self {
        let ep = Endpoint::new(opts.params, opts.seed);
        Platform {
            opts,
            ep,
            devices: vec![],
            offline: VecDeque::new(),
            next_location: 0,
            next_op: 0,
            pending: PendingSet::new(),
            outcomes: BTreeMap::new(),
            observations: HashMap::new(),
            observation_order: VecDeque::new(),
            bootstraps: BTreeMap::new(),
            next_seq: 0,
            records: VecDeque::new(),
            records_dropped: 0,
            notes: VecDeque::new(),
            sota: BTreeMap::new(),
            faults: BTreeMap::new(),
            assigned: None,
        }
    }

    pub fn options(&self) -> &PlatformOptions {
        &self.opts
    }

    /// Switches auto-observe for registrations from now on.
    pub fn set_auto_observe(&mut self, on: bool) {
        self.opts.auto_observe = on;
    }

    /// Requires this auth code in registrations from now on, or none.
    pub fn set_auth_code(&mut self, code: Option<String>) {
        self.opts.auth_code = code;
    }

    /// From now on the bootstrap server names `uri` with PSK `key` (Security object resources 3
    /// and 5, identity the device's IMEI), as OneNET's does for DTLS (M5310-A §5.4.2.1).
    pub fn set_assigned_psk(&mut self, assigned: Option<(String, Vec<u8>)>) {
        self.assigned = assigned;
    }

    /// From now on, misbehave on `what` (`None`: behave again).
    pub fn set_fault(&mut self, what: Interface, fault: Option<Fault>) {
        match fault {
            Some(f) => self.faults.insert(what, f),
            None => self.faults.remove(&what),
        };
    }

    pub fn devices(&self) -> &[Device<P>] {
        &self.devices
    }

    /// Deletes a device's registration, as OneNET's console deletes a device: nothing is sent,
    /// and the device learns of it from the 4.04 its next update gets (M5310-A §4.2 event 31).
    pub fn delete_device(&mut self, device: Option<&str>, now: Duration) -> Result<(), OperateError> {
        self.expire_devices(now);
        let matches = |name: &str| device.is_none_or(|n| name.contains(n));
        let i = self.devices.iter().position(|d| matches(&d.endpoint)).ok_or(OperateError::NoDevice)?;
        self.remove_device(i, "deleted by the platform", now);
        Ok(())
    }

    /// Every datagram since the last call, in order (at most [`MAX_RECORDS`]; see
    /// [`Platform::records_dropped`]).
    pub fn take_records(&mut self) -> Vec<WireRecord> {
        std::mem::take(&mut self.records).into()
    }

    /// Records dropped so far because nobody took them in time.
    pub fn records_dropped(&self) -> u64 {
        self.records_dropped
    }

    /// What the platform did on its own since the last call (see [`Note`]), in order.
    pub fn take_notes(&mut self) -> Vec<Note> {
        std::mem::take(&mut self.notes).into()
    }

    /// Requests in flight (the platform's own and a suite's).
    pub fn in_flight(&self) -> usize {
        self.pending.len()
    }

    /// How much the platform holds: devices, requests in flight (its own count and its CoAP
    /// endpoint's), bootstraps, observations, outcomes, message IDs remembered. For the caps'
    /// tests and benchmarks.
    pub fn state_sizes(&self) -> [(&'static str, usize); 7] {
        [
            ("devices", self.devices.len()),
            ("pending", self.pending.len()),
            ("endpoint in flight", self.ep.in_flight()),
            ("bootstraps", self.bootstraps.len()),
            ("observations", self.observations.len()),
            ("outcomes", self.outcomes.len()),
            ("message ids", self.ep.remembered()),
        ]
    }

    fn note(&mut self, now: Duration, peer: Option<&P>, text: String) {
        if self.notes.len() >= MAX_NOTES {
            self.notes.pop_front();
        }
        self.notes.push_back(Note { at: now, peer: peer.map(|p| p.to_string()), text });
    }

    fn record(&mut self, r: WireRecord) {
        if self.records.len() >= MAX_RECORDS {
            self.records.pop_front();
            self.records_dropped += 1;
        }
        self.records.push_back(r);
    }

    pub fn outcome(&self, id: OpId) -> OpOutcome {
        self.outcomes.get(&id).cloned().unwrap_or(OpOutcome::Pending)
    }

    /// Notifications received for the observation of `path`, oldest first.
    pub fn notifications(&self, path: &Path) -> Vec<&Packet> {
        let mut obs: Vec<&Observation> = self.observations.values().filter(|o| o.path == *path).collect();
        obs.sort_by_key(|o| o.seq);
        obs.into_iter().flat_map(|o| o.notes.iter()).collect()
    }

    /// What a SOTA job came to so far; `None` for any other operation.
    pub fn sota_report(&self, id: OpId) -> Option<SotaReport> {
        self.sota.get(&id).map(|(_, run)| run.report().clone())
    }

    pub fn next_deadline(&self) -> Option<Duration> {
        self.sota
            .values()
            .filter_map(|(_, run)| run.deadline())
            .chain(self.ep.next_deadline())
            .chain(self.devices.iter().map(|d| d.expires))
            .min()
    }

    fn out(&mut self, d: Datagram<P>, now: Duration) -> Datagram<P> {
        self.record(WireRecord {
            at: now,
            dir: WireDir::PlatformToUe,
            peer: d.peer.to_string(),
            bytes: d.bytes.clone(),
        });
        d
    }

    /// Sends a CON request; `owner` (a device's endpoint name) makes it pending, to be matched
    /// with its answer and cancelled with the device.
    fn request(
        &mut self,
        peer: P,
        mut p: Packet,
        op: Option<OpId>,
        owner: Option<&str>,
        now: Duration,
    ) -> Result<(Vec<u8>, Datagram<P>), OperateError> {
        if let Some(owner) = owner {
            if self.pending.owned(owner) >= MAX_PENDING_PER_DEVICE || self.pending.len() >= MAX_PENDING {
                return Err(OperateError::Busy(owner.to_string()));
            }
        }
        p.header.set_type(MessageType::Confirmable);
        let token = self.ep.new_token();
        p.set_token(token.clone());
        let (mid, d) = self.ep.send(peer.clone(), p, now).map_err(|_| OperateError::Encode)?;
        if let Some(owner) = owner {
            self.pending.insert(Pending { op, token: token.clone(), mid, peer, owner: owner.to_string() });
        }
        Ok((token, self.out(d, now)))
    }

    pub fn on_datagram(&mut self, from: P, bytes: &[u8], now: Duration) -> Vec<Datagram<P>> {
        self.expire_devices(now);
        self.record(WireRecord { at: now, dir: WireDir::UeToPlatform, peer: from.to_string(), bytes: bytes.to_vec() });
        if let Some(fault) = self.faults.get(&Interface::Notify).copied() {
            if let Ok(p) = Packet::from_bytes(bytes) {
                let notification = matches!(p.header.code, MessageClass::Response(_))
                    && p.get_observe_value().is_some()
                    && p.header.get_type() != coap_lite::MessageType::Acknowledgement;
                if notification {
                    return match fault {
                        Fault::Ignore => vec![],
                        Fault::Refuse => {
                            let d = self.ep.reset(from, p.header.message_id);
                            vec![self.out(d, now)]
                        }
                    };
                }
            }
        }
        if let Some(fault) = self.faults.get(&Interface::Response).copied() {
            if let Ok(p) = Packet::from_bytes(bytes) {
                let separate = matches!(p.header.code, MessageClass::Response(_))
                    && p.header.get_type() == coap_lite::MessageType::Confirmable
                    && self.pending.contains(p.get_token());
                if separate {
                    let what = if fault == Fault::Ignore { "not acknowledged" } else { "refused with RST" };
                    self.note(now, Some(&from), format!("a separate response {what} (the suite's fault)"));
                    return match fault {
                        Fault::Ignore => vec![],
                        Fault::Refuse => {
                            let d = self.ep.reset(from, p.header.message_id);
                            vec![self.out(d, now)]
                        }
                    };
                }
            }
        }
        let (events, direct) = self.ep.on_datagram(from, bytes, now);
        let mut out: Vec<Datagram<P>> = direct.into_iter().map(|d| self.out(d, now)).collect();
        for e in events {
            out.extend(self.event(e, now));
        }
        out
    }

    pub fn poll(&mut self, now: Duration) -> Vec<Datagram<P>> {
        self.expire_devices(now);
        let (events, resend) = self.ep.poll(now);
        let mut out: Vec<Datagram<P>> = resend.into_iter().map(|d| self.out(d, now)).collect();
        for e in events {
            out.extend(self.event(e, now));
        }
        let due: Vec<OpId> =
            self.sota.iter().filter(|(_, (_, r))| r.deadline().is_some_and(|t| t <= now)).map(|(id, _)| *id).collect();
        for id in due {
            out.extend(self.sota_step(id, now, |run| run.poll(now)));
        }
        out
    }

    fn event(&mut self, e: Event<P>, now: Duration) -> Vec<Datagram<P>> {
        match e {
            Event::Request { from, packet } => self.serve(from, packet, now),
            Event::Response { from, packet } => self.answer(from, packet, now),
            Event::Acked { .. } | Event::Duplicate { .. } | Event::Malformed { .. } => vec![],
            Event::Reset { from, mid } => match self.pending.token_of(&from, mid) {
                Some(token) => self.no_answer(&token, "RST", OpOutcome::Reset, now),
                None => vec![],
            },
            Event::TimedOut { token, .. } => self.no_answer(&token, "no answer", OpOutcome::TimedOut, now),
        }
    }

    fn no_answer(&mut self, token: &[u8], why: &str, outcome: OpOutcome, now: Duration) -> Vec<Datagram<P>> {
        let Some(p) = self.pending.remove(token) else { return vec![] };
        let Some(op) = p.op else { return vec![] };
        if self.sota.contains_key(&op) {
            return self.sota_step(op, now, |run| run.on_no_answer(why, now));
        }
        self.set_outcome(op, outcome);
        vec![]
    }

    fn set_outcome(&mut self, id: OpId, outcome: OpOutcome) {
        self.outcomes.insert(id, outcome);
        while self.outcomes.len() > MAX_OUTCOMES {
            self.outcomes.pop_first();
        }
    }

    /// Feeds a SOTA job and sends what it asks for next, or records its outcome.
    fn sota_step(&mut self, id: OpId, now: Duration, f: impl FnOnce(&mut sota::Run) -> sota::Next) -> Vec<Datagram<P>> {
        let Some((peer, run)) = self.sota.get_mut(&id).filter(|(_, run)| !run.is_done()) else { return vec![] };
        let peer = peer.clone();
        let mut next = f(run);
        loop {
            match next {
                sota::Next::Wait => return vec![],
                sota::Next::Done => {
                    if let Some((_, run)) = self.sota.get(&id) {
                        let outcome =
                            OpOutcome::Answered { code: run.report().summary(), at: now, packet: run.last_answer() };
                        self.set_outcome(id, outcome);
                    }
                    return vec![];
                }
                sota::Next::Send(p) => {
                    let endpoint = self.sota.get(&id).map(|(_, r)| r.endpoint().to_string()).unwrap_or_default();
                    match self.request(peer.clone(), p, Some(id), Some(&endpoint), now) {
                        Ok((_, d)) => return vec![d],
                        Err(e) => match self.sota.get_mut(&id) {
                            Some((_, run)) => next = run.abandon(e.to_string(), now),
                            None => return vec![],
                        },
                    }
                }
            }
        }
    }

    /// A request from a device: bootstrap, register, update, deregister.
    fn serve(&mut self, from: P, req: Packet, now: Duration) -> Vec<Datagram<P>> {
        let path = wire::strings(&req, CoapOption::UriPath);
        let query = wire::strings(&req, CoapOption::UriQuery);
        let q = |k: &str| {
            query.iter().find_map(|x| x.strip_prefix(k).and_then(|v| v.strip_prefix('=')).map(str::to_string))
        };
        let method = match req.header.code {
            MessageClass::Request(m) => m,
            _ => return vec![],
        };
        let interface = match (method, path.iter().map(String::as_str).collect::<Vec<_>>().as_slice()) {
            (RequestType::Post, ["bs"]) => Some(Interface::Bootstrap),
            (RequestType::Post, ["rd"]) => Some(Interface::Register),
            (RequestType::Post, ["rd", _]) => Some(Interface::Update),
            _ => None,
        };
        match interface.and_then(|i| self.faults.get(&i)) {
            Some(Fault::Ignore) => return vec![],
            Some(Fault::Refuse) => {
                let mut resp = Packet::new();
                resp.header.code = MessageClass::Response(ResponseType::Forbidden);
                return match self.ep.respond(from, &req, resp, now) {
                    Ok(d) => vec![self.out(d, now)],
                    Err(_) => vec![],
                };
            }
            None => {}
        }
        // Whose registration was renewed (`update`) or made again (`registration`), for SOTA jobs.
        let mut registered: Option<(String, &str)> = None;
        // Why a request is refused: the answer's payload, and a note.
        let mut refusal: Option<String> = None;
        // Objects an update lists that its registration did not: observed like a registration's.
        let mut newly_listed: Vec<Path> = vec![];
        let (code, location) = match (method, path.iter().map(String::as_str).collect::<Vec<_>>().as_slice()) {
            (RequestType::Post, ["bs"]) => {
                let writes = self.bootstrap_writes(q("ep").as_deref().unwrap_or(""));
                self.next_seq += 1;
                self.bootstraps.insert(from.clone(), Bootstrap { queue: writes, seq: self.next_seq });
                while self.bootstraps.len() > MAX_BOOTSTRAPS {
                    let oldest = self.bootstraps.iter().min_by_key(|(_, b)| b.seq).map(|(p, _)| p.clone());
                    if let Some(p) = oldest {
                        self.bootstraps.remove(&p);
                        self.note(now, Some(&p), format!("bootstrap dropped: more than {MAX_BOOTSTRAPS} under way"));
                    }
                }
                (ResponseType::Changed, None)
            }
            (RequestType::Post, ["rd"]) => match self.register(&from, &req, &query, now) {
                Ok((loc, ep)) => {
                    registered = Some((ep, "registration"));
                    (ResponseType::Created, Some(loc))
                }
                Err((code, why)) => {
                    refusal = why;
                    (code, None)
                }
            },
            (RequestType::Post, ["rd", id]) => match self.update(id, &req, &query, now) {
                Ok((ep, listed)) => {
                    newly_listed = listed;
                    registered = Some((ep, "update"));
                    (ResponseType::Changed, None)
                }
                Err((code, why)) => {
                    refusal = Some(why);
                    (code, None)
                }
            },
            (RequestType::Delete, ["rd", id]) => {
                let loc = format!("rd/{id}");
                match self.devices.iter().position(|d| d.location == loc) {
                    Some(i) => {
                        self.remove_device(i, "deregistered", now);
                        (ResponseType::Deleted, None)
                    }
                    None => {
                        refusal = Some(format!("no registration /{loc}"));
                        (ResponseType::NotFound, None)
                    }
                }
            }
            _ => (ResponseType::NotFound, None),
        };
        let mut resp = Packet::new();
        resp.header.code = MessageClass::Response(code);
        if let Some(loc) = &location {
            for seg in loc.split('/') {
                resp.add_option(CoapOption::LocationPath, seg.as_bytes().to_vec());
            }
        }
        if let Some(why) = &refusal {
            let what = match (method, path.len()) {
                (RequestType::Delete, _) => "deregistration",
                (_, 1) => "registration",
                _ => "update",
            };
            self.note(now, Some(&from), format!("{what} refused with {}: {why}", code_text_of(code)));
            // Short diagnostics only where a client may show them: 4.00 (RFC 7252 §5.5.2).
            if code == ResponseType::BadRequest {
                resp.payload = why.as_bytes().to_vec();
            }
        }
        let mut out = vec![];
        if let Ok(d) = self.ep.respond(from.clone(), &req, resp, now) {
            out.push(self.out(d, now));
        }
        if code == ResponseType::Created && self.opts.auto_observe {
            if let Some((ep, _)) = &registered {
                let ep = ep.clone();
                out.extend(self.auto_observe(from.clone(), &ep, now));
            }
        }
        if code == ResponseType::Changed && self.opts.auto_observe && !newly_listed.is_empty() {
            if let Some((ep, _)) = &registered {
                let ep = ep.clone();
                out.extend(self.observe_listed(from.clone(), &ep, &newly_listed, now));
            }
        }
        if let Some((endpoint, how)) = registered {
            out.extend(self.sota_registered(&endpoint, &from, how, now));
        }
        if method == RequestType::Post && path == ["bs"] {
            out.extend(self.next_bootstrap_write(from, now));
        }
        out
    }

    fn register(
        &mut self,
        from: &P,
        req: &Packet,
        query: &[String],
        now: Duration,
    ) -> Result<(String, String), (ResponseType, Option<String>)> {
        let params = RegistrationParams::parse(query, true, &self.opts.lwm2m_versions, None)
            .map_err(|why| (ResponseType::BadRequest, Some(why)))?;
        let ep = params.ep.clone().unwrap_or_default();
        if let Some(want) = &self.opts.auth_code {
            let got = req.get_option(CoapOption::Unknown(AUTH_CODE_OPTION)).and_then(|l| l.front().cloned());
            if got.as_deref() != Some(want.as_bytes()) {
                return Err((ResponseType::Unauthorized, None));
            }
        }
        let objects = objects(&req.payload)
            .ok_or_else(|| (ResponseType::BadRequest, Some("the payload is not a CoRE link list".to_string())))?;
        let lifetime = params.lt.unwrap_or(DEFAULT_LIFETIME);
        // A device that registers again replaces its old registration.
        self.devices.retain(|d| d.endpoint != ep);
        self.offline.retain(|o| o.endpoint != ep);
        while self.devices.len() >= MAX_DEVICES {
            // Never answered first, then the longest since its registration or update.
            let victim = (0..self.devices.len())
                .min_by_key(|&i| (self.devices[i].answered, self.devices[i].expires - lifetime_of(&self.devices[i])))
                .unwrap_or(0);
            self.remove_device(victim, &format!("evicted: more than {MAX_DEVICES} devices registered"), now);
        }
        self.next_location += 1;
        let location = format!("rd/{}", self.next_location);
        self.devices.push(Device {
            peer: from.clone(),
            endpoint: ep.clone(),
            location: location.clone(),
            lifetime,
            objects,
            updates: 0,
            version: params.version,
            binding: params.binding.unwrap_or_else(|| "U".into()),
            expires: expiry(now, lifetime),
            answered: false,
        });
        Ok((location, ep))
    }

    fn update(
        &mut self,
        id: &str,
        req: &Packet,
        query: &[String],
        now: Duration,
    ) -> Result<(String, Vec<Path>), (ResponseType, String)> {
        let loc = format!("rd/{id}");
        let Some(i) = self.devices.iter().position(|d| d.location == loc) else {
            return Err((ResponseType::NotFound, format!("no registration /{loc} (never made, ended or expired)")));
        };
        let versions = self.opts.lwm2m_versions.clone();
        let version = self.devices[i].version.clone();
        let params = RegistrationParams::parse(query, false, &versions, Some(&version))
            .map_err(|why| (ResponseType::BadRequest, why))?;
        let objs = match req.payload.is_empty() {
            true => None,
            false => Some(
                objects(&req.payload)
                    .ok_or_else(|| (ResponseType::BadRequest, "the payload is not a CoRE link list".to_string()))?,
            ),
        };
        let d = &mut self.devices[i];
        d.updates += 1;
        if let Some(lt) = params.lt {
            d.lifetime = lt;
        }
        if let Some(b) = params.binding {
            d.binding = b;
        }
        let mut added = vec![];
        if let Some(objs) = objs {
            added = objs.iter().filter(|p| !d.objects.contains(p)).copied().collect();
            d.objects = objs;
        }
        d.expires = expiry(now, d.lifetime);
        Ok((d.endpoint.clone(), added))
    }

    /// Ends device `i`'s registration: it goes offline and its requests in flight stop (SOTA
    /// jobs keep theirs: a device that reboots to update comes back).
    fn remove_device(&mut self, i: usize, why: &str, now: Duration) {
        let d = self.devices.remove(i);
        let mut cancelled = 0;
        for token in self.pending.tokens_of(&d.endpoint) {
            let sota =
                self.pending.by_token.get(&token).and_then(|p| p.op).is_some_and(|op| self.sota.contains_key(&op));
            if sota {
                continue;
            }
            if let Some(p) = self.pending.remove(&token) {
                self.ep.cancel(&p.peer, p.mid);
                cancelled += 1;
                if let Some(op) = p.op {
                    self.set_outcome(op, OpOutcome::Cancelled(format!("device {} {why}", d.endpoint)));
                }
            }
        }
        // Its observations end with it: a notification from it now matches nothing.
        self.observations.retain(|_, o| o.owner != d.endpoint);
        let text = match cancelled {
            0 => format!("/{} ({}) {why}", d.location, d.endpoint),
            n => format!("/{} ({}) {why}; {n} requests in flight cancelled", d.location, d.endpoint),
        };
        self.note(now, Some(&d.peer), text);
        if self.offline.len() >= MAX_OFFLINE {
            self.offline.pop_front();
        }
        self.offline.push_back(Offline { endpoint: d.endpoint, why: why.to_string() });
    }

    /// Registrations whose lifetime (and grace) ran out by `now`.
    fn expire_devices(&mut self, now: Duration) {
        while let Some(i) = self.devices.iter().position(|d| d.expires <= now) {
            let why = format!("expired: lifetime {} s ran out with no update", self.devices[i].lifetime);
            self.remove_device(i, &why, now);
        }
    }

    /// OneNET's "obsv": observe each instance, discover each object, read the device object.
    fn auto_observe(&mut self, peer: P, endpoint: &str, now: Duration) -> Vec<Datagram<P>> {
        let objects =
            self.devices.iter().find(|d| d.endpoint == endpoint).map(|d| d.objects.clone()).unwrap_or_default();
        let mut ops = observe_ops(&objects);
        ops.push(Operation::Read(Path::instance(3, 0)));
        self.send_auto(peer, endpoint, ops, now)
    }

    /// The "obsv" of the objects an update newly lists (the device object was read at registration).
    fn observe_listed(&mut self, peer: P, endpoint: &str, listed: &[Path], now: Duration) -> Vec<Datagram<P>> {
        let ops = observe_ops(listed);
        self.send_auto(peer, endpoint, ops, now)
    }

    fn send_auto(&mut self, peer: P, endpoint: &str, ops: Vec<Operation>, now: Duration) -> Vec<Datagram<P>> {
        let mut out = vec![];
        for op in ops {
            match self.send_op(peer.clone(), endpoint, op, false, now) {
                Ok((_, d)) => out.push(d),
                Err(OperateError::Busy(_)) => {
                    let text =
                        format!("auto-observe of {endpoint} stopped at {MAX_PENDING_PER_DEVICE} requests in flight");
                    self.note(now, Some(&peer), text);
                    break;
                }
                Err(_) => {}
            }
        }
        out
    }

    fn bootstrap_writes(&self, endpoint: &str) -> Vec<Packet> {
        let security = match &self.assigned {
            // Security mode 0 (PSK): identity and key for the server named.
            Some((uri, key)) => vec![
                Tlv::resource(0, uri.as_bytes().to_vec()),
                Tlv::resource(1, vec![0]),
                Tlv::resource(2, vec![0]),
                Tlv::resource(3, endpoint.split(';').next().unwrap_or("").as_bytes().to_vec()),
                Tlv::resource(5, key.clone()),
                Tlv::resource(10, vec![1]),
            ],
            // Mode 3: no security.
            None => vec![
                Tlv::resource(0, self.opts.server_uri.as_bytes().to_vec()),
                Tlv::resource(1, vec![0]),
                Tlv::resource(2, vec![3]),
                Tlv::resource(10, vec![1]),
            ],
        };
        let server =
            vec![Tlv::resource(0, vec![1]), Tlv::resource(1, tlv::int_bytes(86_400)), Tlv::resource(7, b"U".to_vec())];
        let put = |path: Path, body: Vec<Tlv>| {
            let mut p = Packet::new();
            p.header.code = MessageClass::Request(RequestType::Put);
            for s in path.segments() {
                p.add_option(CoapOption::UriPath, s.into_bytes());
            }
            p.add_option(CoapOption::ContentFormat, ContentFormat::Tlv.number().to_be_bytes().to_vec());
            p.payload = tlv::encode(&body);
            p
        };
        let mut finish = Packet::new();
        finish.header.code = MessageClass::Request(RequestType::Post);
        finish.add_option(CoapOption::UriPath, b"bs".to_vec());
        vec![put(Path::instance(0, 1), security), put(Path::instance(1, 1), server), finish]
    }

    fn next_bootstrap_write(&mut self, peer: P, now: Duration) -> Vec<Datagram<P>> {
        let Some(bs) = self.bootstraps.get_mut(&peer) else { return vec![] };
        if bs.queue.is_empty() {
            self.bootstraps.remove(&peer);
            return vec![];
        }
        let p = bs.queue.remove(0);
        self.request(peer, p, None, None, now).map(|(_, d)| d).into_iter().collect()
    }

    /// An answer from a device: to an operation, a bootstrap write, or a notification.
    fn answer(&mut self, from: P, packet: Packet, now: Duration) -> Vec<Datagram<P>> {
        let token = packet.get_token().to_vec();
        if let Some(o) = self.observations.get_mut(&token) {
            if o.notes.len() >= MAX_NOTIFICATIONS {
                o.notes.pop_front();
            }
            o.notes.push_back(packet.clone());
        }
        if let Some(p) = self.pending.remove(&token) {
            if let Some(d) = self.devices.iter_mut().find(|d| d.endpoint == p.owner) {
                d.answered = true;
            }
            let Some(op) = p.op else { return vec![] };
            if self.sota.contains_key(&op) {
                return self.sota_step(op, now, |run| run.on_answer(&packet, now));
            }
            let code = code_text(&packet);
            self.set_outcome(op, OpOutcome::Answered { code, at: now, packet });
            return vec![];
        }
        if self.bootstraps.contains_key(&from) {
            return self.next_bootstrap_write(from, now);
        }
        vec![]
    }

    /// Starts an operation on the device (the only one, or the one whose endpoint name contains
    /// `device`). A device that was registered and is not any more is [`OperateError::Offline`].
    pub fn operate(
        &mut self,
        device: Option<&str>,
        op: Operation,
        now: Duration,
    ) -> Result<(OpId, Vec<Datagram<P>>), OperateError> {
        self.expire_devices(now);
        let matches = |name: &str| device.is_none_or(|n| name.contains(n));
        let Some(d) = self.devices.iter().find(|d| matches(&d.endpoint)) else {
            return Err(match self.offline.iter().rev().find(|o| matches(&o.endpoint)) {
                Some(o) => OperateError::Offline { endpoint: o.endpoint.clone(), why: o.why.clone() },
                None => OperateError::NoDevice,
            });
        };
        let (peer, endpoint) = (d.peer.clone(), d.endpoint.clone());
        let (id, dg) = match op {
            Operation::Sota(job) => self.start_sota(peer, endpoint, job, now)?,
            Operation::Fota(job) => {
                job.check()?;
                self.start_sota(peer, endpoint, job.into_job(), now)?
            }
            op => self.send_op(peer, &endpoint, op, true, now)?,
        };
        Ok((id, vec![dg]))
    }

    /// Sends `op` to device `endpoint` at `peer`; `asked` when a suite asked for it (its outcome
    /// is kept), not for auto-observe.
    fn send_op(
        &mut self,
        peer: P,
        endpoint: &str,
        op: Operation,
        asked: bool,
        now: Duration,
    ) -> Result<(OpId, Datagram<P>), OperateError> {
        let mut p = Packet::new();
        let (method, path) = match &op {
            Operation::Discover(path) => {
                p.add_option(CoapOption::Accept, ContentFormat::Link.number().to_be_bytes().to_vec());
                (RequestType::Get, *path)
            }
            Operation::Observe(path) | Operation::CancelObserve(path) => {
                p.set_observe_value(u32::from(matches!(op, Operation::CancelObserve(_))));
                (RequestType::Get, *path)
            }
            Operation::Read(path) => (RequestType::Get, *path),
            Operation::Write { path, format, payload } => {
                p.add_option(CoapOption::ContentFormat, format.number().to_be_bytes().to_vec());
                p.payload = payload.clone();
                (if path.resource.is_some() { RequestType::Put } else { RequestType::Post }, *path)
            }
            Operation::Replace { path, format, payload } => {
                p.add_option(CoapOption::ContentFormat, format.number().to_be_bytes().to_vec());
                p.payload = payload.clone();
                (RequestType::Put, *path)
            }
            Operation::Execute { path, args } => {
                p.payload = args.as_bytes().to_vec();
                (RequestType::Post, *path)
            }
            Operation::WriteAttributes { path, query } => {
                for q in query.split('&').filter(|q| !q.is_empty()) {
                    p.add_option(CoapOption::UriQuery, q.as_bytes().to_vec());
                }
                (RequestType::Put, *path)
            }
            Operation::Sota(_) | Operation::Fota(_) => return Err(OperateError::SotaNotByRequest),
        };
        p.header.code = MessageClass::Request(method);
        for s in path.segments() {
            p.add_option(CoapOption::UriPath, s.into_bytes());
        }
        // Numbered either way, so a suite's operations get the same IDs with auto-observe on.
        let id = OpId(self.next_op + 1);
        let (token, d) = self.request(peer.clone(), p, asked.then_some(id), Some(endpoint), now)?;
        self.next_op += 1;
        if asked {
            self.set_outcome(id, OpOutcome::Pending);
        }
        if let Operation::Observe(path) = op {
            self.observe(token, path, endpoint);
        }
        if let Operation::CancelObserve(path) = op {
            self.observations.retain(|_, o| o.path != path);
        }
        Ok((id, d))
    }

    fn observe(&mut self, token: Vec<u8>, path: Path, owner: &str) {
        self.next_seq += 1;
        let seq = self.next_seq;
        self.observation_order.push_back((seq, token.clone()));
        self.observations.insert(token, Observation { path, owner: owner.to_string(), seq, notes: VecDeque::new() });
        while self.observations.len() > MAX_OBSERVATIONS {
            let Some((seq, token)) = self.observation_order.pop_front() else { break };
            if self.observations.get(&token).is_some_and(|o| o.seq == seq) {
                self.observations.remove(&token);
            }
        }
        // Entries of observations ended otherwise (cancelled, their device gone).
        if self.observation_order.len() > 2 * MAX_OBSERVATIONS {
            let live = &self.observations;
            self.observation_order.retain(|(seq, t)| live.get(t).is_some_and(|o| o.seq == *seq));
        }
    }

    fn new_op(&mut self) -> OpId {
        self.next_op += 1;
        let id = OpId(self.next_op);
        self.set_outcome(id, OpOutcome::Pending);
        id
    }

    fn start_sota(
        &mut self,
        peer: P,
        endpoint: String,
        job: SotaJob,
        now: Duration,
    ) -> Result<(OpId, Datagram<P>), OperateError> {
        job.check()?;
        if self.sota.values().any(|(_, r)| !r.is_done() && r.endpoint() == endpoint) {
            return Err(OperateError::SotaRunning(endpoint));
        }
        let (run, first) = sota::Run::start(job, endpoint.clone(), now);
        let id = OpId(self.next_op + 1);
        let (_, d) = self.request(peer.clone(), first, Some(id), Some(&endpoint), now)?;
        let id = self.new_op();
        self.sota.insert(id, (peer, run));
        Ok((id, d))
    }

    /// A device updated its registration or registered again: what a SOTA job waits for after the
    /// execute. The device may be back from another address.
    fn sota_registered(&mut self, endpoint: &str, from: &P, how: &str, now: Duration) -> Vec<Datagram<P>> {
        let ids: Vec<OpId> = self
            .sota
            .iter_mut()
            .filter(|(_, (_, r))| !r.is_done() && r.endpoint() == endpoint)
            .map(|(id, (peer, _))| {
                *peer = from.clone();
                *id
            })
            .collect();
        ids.into_iter().flat_map(|id| self.sota_step(id, now, |run| run.on_registration(how, now))).collect()
    }
}

/// When a registration made or renewed at `now` with `lifetime` lapses.
fn expiry(now: Duration, lifetime: u32) -> Duration {
    now + Duration::from_secs(u64::from(lifetime)) + LIFETIME_GRACE
}

/// A device's lifetime and grace: `expires` minus this is its last registration or update.
fn lifetime_of<P>(d: &Device<P>) -> Duration {
    Duration::from_secs(u64::from(d.lifetime)) + LIFETIME_GRACE
}

fn code_text_of(code: ResponseType) -> String {
    let n: u8 = MessageClass::Response(code).into();
    format!("{}.{:02}", n >> 5, n & 0x1F)
}

/// The query of a registration (`POST /rd?…`) or update (`POST /rd/<id>?…`), checked as
/// Auto-observe's requests for `objects`: observe each instance, then discover each object once.
fn observe_ops(objects: &[Path]) -> Vec<Operation> {
    let mut ops: Vec<Operation> = objects.iter().map(|p| Operation::Observe(*p)).collect();
    let mut seen = vec![];
    for p in objects {
        if !seen.contains(&p.object) {
            seen.push(p.object);
            ops.push(Operation::Discover(Path::object(p.object)));
        }
    }
    ops
}

/// OMA-TS-LightweightM2M-V1_0 §5.3.1 (Register, Update: Table 8.2.x operation parameters) and
/// V1_1 §6.2 define it:
///
/// - `ep` (register only) present and not empty; `lt` a decimal integer, 1 ≤ lt ≤ 2³²−1 (the
///   Server object's lifetime resource is an unsigned 32-bit integer); `lwm2m` (register only)
///   one of [`PlatformOptions::lwm2m_versions`], 1.0 when absent (V1_0: optional, default 1.0);
///   `b` in 1.0 one of `U`, `UQ`, `S`, `SQ`, `US`, `UQS` (V1_0 §5.2.1.1), in 1.1 a combination of
///   `U`, `T`, `S`, `N`, each at most once (V1_1 §6.2.1.1; queue mode is the separate `Q`
///   parameter there, which carries no value); `sms` an MSISDN (digits, an optional `+`).
/// - A parameter given twice, `ep`/`lwm2m` in an update (§5.3.2 names only lt, sms, b), a `Q`
///   before 1.1, or any known parameter without a value: refused.
/// - Unknown parameters are ignored: the TS defines no others and no rule for them, and CoRE RD
///   (RFC 9176 §5.1) lets a registration carry extra attributes, as Leshan keeps them.
#[derive(Debug, Clone, PartialEq, Default)]
struct RegistrationParams {
    ep: Option<String>,
    lt: Option<u32>,
    version: String,
    binding: Option<String>,
    sms: Option<String>,
    queue: bool,
}

impl RegistrationParams {
    /// `registered`: the version the device registered with (for an update).
    fn parse(query: &[String], register: bool, versions: &[String], registered: Option<&str>) -> Result<Self, String> {
        let mut seen: Vec<&str> = vec![];
        let mut r = RegistrationParams::default();
        let mut version = None;
        for item in query {
            let (key, value) = match item.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (item.as_str(), None),
            };
            let known = ["ep", "lt", "lwm2m", "b", "sms", "Q"];
            if !known.contains(&key) {
                continue;
            }
            if seen.contains(&key) {
                return Err(format!("{key} given twice"));
            }
            seen.push(key);
            if !register && (key == "ep" || key == "lwm2m") {
                return Err(format!("{key} is not an update parameter"));
            }
            if key == "Q" {
                if value.is_some() {
                    return Err("Q takes no value".into());
                }
                r.queue = true;
                continue;
            }
            let Some(v) = value else { return Err(format!("{key} has no value")) };
            match key {
                "ep" => r.ep = Some(v.to_string()),
                "lt" => r.lt = Some(lifetime(v)?),
                "lwm2m" => version = Some(v.to_string()),
                "b" => r.binding = Some(v.to_string()),
                _ => {
                    let digits = v.strip_prefix('+').unwrap_or(v);
                    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
                        return Err(format!("sms={v}: not an MSISDN"));
                    }
                    r.sms = Some(v.to_string());
                }
            }
        }
        if register && r.ep.as_deref().is_none_or(str::is_empty) {
            return Err("ep is missing or empty".into());
        }
        r.version = match (register, version) {
            (true, v) => {
                let v = v.unwrap_or_else(|| "1.0".into());
                if !versions.contains(&v) {
                    return Err(format!("lwm2m={v}: this platform speaks {}", versions.join(", ")));
                }
                v
            }
            (false, _) => registered.unwrap_or("1.0").to_string(),
        };
        if let Some(b) = &r.binding {
            if !binding_ok(b, &r.version) {
                return Err(format!("b={b}: not a binding of LwM2M {}", r.version));
            }
        }
        if r.queue && r.version == "1.0" {
            return Err("Q: queue mode is b=UQ in LwM2M 1.0".into());
        }
        Ok(r)
    }
}

/// `lt=`: a decimal integer from 1 to 2³²−1.
fn lifetime(v: &str) -> Result<u32, String> {
    if v.is_empty() || !v.bytes().all(|c| c.is_ascii_digit()) {
        return Err(format!("lt={v}: not a whole number of seconds"));
    }
    match v.parse::<u64>().ok().and_then(|n| u32::try_from(n).ok()) {
        Some(0) => Err("lt=0: a lifetime is at least 1 s".into()),
        Some(n) => Ok(n),
        None => Err(format!("lt={v}: over {} s", u32::MAX)),
    }
}

fn binding_ok(b: &str, version: &str) -> bool {
    if version == "1.0" {
        return ["U", "UQ", "S", "SQ", "US", "UQS"].contains(&b);
    }
    !b.is_empty() && b.chars().all(|c| "UTSN".contains(c)) && b.chars().enumerate().all(|(i, c)| !b[..i].contains(c))
}

/// Object instances named in a registration or update payload.
fn objects(payload: &[u8]) -> Option<Vec<Path>> {
    let text = std::str::from_utf8(payload).ok()?;
    Some(link::parse(text)?.iter().filter_map(link::Link::path).collect())
}

/// `2.05`.
pub fn code_text(p: &Packet) -> String {
    let n: u8 = p.header.code.into();
    format!("{}.{:02}", n >> 5, n & 0x1F)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A device written by hand, so the server is tested against something that is not us.
    struct Device {
        ep: Endpoint<&'static str>,
    }

    impl Device {
        fn register(&mut self, auth: Option<&str>) -> Vec<u8> {
            let mut p = Packet::new();
            p.header.set_type(MessageType::Confirmable);
            p.header.code = MessageClass::Request(RequestType::Post);
            p.set_token(vec![7]);
            p.add_option(CoapOption::UriPath, b"rd".to_vec());
            p.add_option(CoapOption::UriQuery, b"lwm2m=1.0".to_vec());
            p.add_option(CoapOption::UriQuery, b"ep=866971030000001;460040000000001".to_vec());
            p.add_option(CoapOption::UriQuery, b"lt=600".to_vec());
            if let Some(a) = auth {
                p.add_option(CoapOption::Unknown(AUTH_CODE_OPTION), a.as_bytes().to_vec());
            }
            p.payload = link::registration(&[Path::instance(3311, 0), Path::instance(3311, 1)]).into_bytes();
            self.ep.send("pf", p, Duration::ZERO).unwrap().1.bytes
        }
    }

    fn decode<P>(d: &Datagram<P>) -> Packet {
        Packet::from_bytes(&d.bytes).unwrap()
    }

    #[test]
    fn registration_then_auto_observe_in_onenets_order() {
        let mut pf: Platform<&str> = Platform::new(PlatformOptions::default());
        let mut dev = Device { ep: Endpoint::new(Params::default(), 1) };
        let out = pf.on_datagram("dev", &dev.register(None), Duration::ZERO);
        let descr: Vec<String> = out.iter().map(|d| crate::record::describe(&decode(d))).collect();
        assert!(descr[0].starts_with("ACK 2.01") && descr[0].contains("location=/rd/1"), "{descr:?}");
        assert!(descr[1].starts_with("CON GET /3311/0") && descr[1].contains("observe=0"), "{descr:?}");
        assert!(descr[2].starts_with("CON GET /3311/1") && descr[2].contains("observe=0"));
        assert!(descr[3].starts_with("CON GET /3311 "), "{descr:?}");
        assert!(descr[4].starts_with("CON GET /3/0"), "{descr:?}");
        assert_eq!(pf.devices()[0].lifetime, 600);
        assert_eq!(pf.devices()[0].objects, [Path::instance(3311, 0), Path::instance(3311, 1)]);
        assert_eq!(pf.take_records().len(), 6);
    }

    #[test]
    fn objects_an_update_newly_lists_are_observed_and_discovered() {
        let mut pf: Platform<&str> = Platform::new(PlatformOptions::default());
        let mut dev = Device { ep: Endpoint::new(Params::default(), 1) };
        pf.on_datagram("dev", &dev.register(None), Duration::ZERO);
        let mut update = |objects: &[Path], mid: u16| {
            let mut p = Packet::new();
            p.header.set_type(MessageType::Confirmable);
            p.header.message_id = mid;
            p.header.code = MessageClass::Request(RequestType::Post);
            p.set_token(vec![8, mid as u8]);
            p.add_option(CoapOption::UriPath, b"rd".to_vec());
            p.add_option(CoapOption::UriPath, b"1".to_vec());
            p.payload = link::registration(objects).into_bytes();
            let out = pf.on_datagram("dev", &p.to_bytes().unwrap(), Duration::from_secs(1));
            out.iter().map(|d| crate::record::describe(&decode(d))).collect::<Vec<String>>()
        };
        let same = update(&[Path::instance(3311, 0), Path::instance(3311, 1)], 900);
        assert_eq!(same.len(), 1, "the same objects again: only the ACK: {same:?}");
        let added = update(&[Path::instance(3311, 0), Path::instance(3311, 1), Path::instance(31024, 10)], 901);
        assert!(added[0].starts_with("ACK 2.04"), "{added:?}");
        assert!(added[1].starts_with("CON GET /31024/10") && added[1].contains("observe=0"), "{added:?}");
        assert!(added[2].starts_with("CON GET /31024 "), "{added:?}");
        assert_eq!(added.len(), 3, "no read of /3/0 again, no observation of what was listed before: {added:?}");
    }

    #[test]
    fn a_wrong_auth_code_is_refused() {
        let o = PlatformOptions { auth_code: Some("Quectel123".into()), ..Default::default() };
        let mut pf: Platform<&str> = Platform::new(o);
        let mut dev = Device { ep: Endpoint::new(Params::default(), 1) };
        let out = pf.on_datagram("dev", &dev.register(Some("wrong")), Duration::ZERO);
        assert_eq!(crate::record::describe(&decode(&out[0])).split(' ').nth(1), Some("4.01"));
        assert!(pf.devices().is_empty());
        let out = pf.on_datagram("dev", &dev.register(Some("Quectel123")), Duration::ZERO);
        assert!(crate::record::describe(&decode(&out[0])).contains("2.01"));
    }

    #[test]
    fn a_read_times_out_after_retransmissions() {
        let o = PlatformOptions { auto_observe: false, ..Default::default() };
        let mut pf: Platform<&str> = Platform::new(o);
        let mut dev = Device { ep: Endpoint::new(Params::default(), 1) };
        pf.on_datagram("dev", &dev.register(None), Duration::ZERO);
        let (id, _) = pf.operate(None, Operation::Read(Path::resource(3311, 0, 5805)), Duration::ZERO).unwrap();
        let mut sent = 0;
        while let Some(t) = pf.next_deadline() {
            sent += pf.poll(t).len();
        }
        assert_eq!(sent, 4, "re-sent MAX_RETRANSMIT times");
        assert_eq!(pf.outcome(id), OpOutcome::TimedOut);
    }

    #[test]
    fn operate_messages_are_unchanged() {
        let mut pf: Platform<&str> = Platform::new(PlatformOptions::default());
        let e = pf.operate(None, Operation::Read(Path::resource(3, 0, 0)), Duration::ZERO).unwrap_err();
        assert_eq!(e, OperateError::NoDevice);
        assert_eq!(e.to_string(), "no device is registered with the platform");
        let sota = OperateError::from(SotaError::EmptyPackage);
        assert_eq!(sota.to_string(), "the SOTA package is empty");
        assert_eq!(OperateError::SotaRunning("dev".into()).to_string(), "a SOTA job is already running on dev");
    }

    /// A registration (or, with `rd/<n>`, an update) with exactly these query items.
    fn post(path: &str, query: &[&str], mid: u16) -> Vec<u8> {
        let mut p = Packet::new();
        p.header.set_type(MessageType::Confirmable);
        p.header.code = MessageClass::Request(RequestType::Post);
        p.header.message_id = mid;
        p.set_token(mid.to_be_bytes().to_vec());
        for seg in path.split('/') {
            p.add_option(CoapOption::UriPath, seg.as_bytes().to_vec());
        }
        for q in query {
            p.add_option(CoapOption::UriQuery, q.as_bytes().to_vec());
        }
        if path == "rd" {
            p.payload = b"</3311/0>,</3311/1>".to_vec();
        }
        p.to_bytes().unwrap()
    }

    fn delete(path: &str, mid: u16) -> Vec<u8> {
        let mut p = Packet::new();
        p.header.set_type(MessageType::Confirmable);
        p.header.code = MessageClass::Request(RequestType::Delete);
        p.header.message_id = mid;
        for seg in path.split('/') {
            p.add_option(CoapOption::UriPath, seg.as_bytes().to_vec());
        }
        p.to_bytes().unwrap()
    }

    /// The platform's answer to a request: code and payload.
    fn answer_of<P: Clone>(out: &[Datagram<P>]) -> (String, String) {
        let p = Packet::from_bytes(&out[0].bytes).unwrap();
        assert_eq!(p.header.get_type(), MessageType::Acknowledgement);
        (code_text(&p), String::from_utf8_lossy(&p.payload).into_owned())
    }

    const EP: &str = "ep=866971030000001;460040000000001";
    const S: Duration = Duration::from_secs(1);

    #[rstest::rstest]
    #[case::negative_lifetime(&[EP, "lt=-1"], "lt=-1: not a whole number of seconds")]
    #[case::zero_lifetime(&[EP, "lt=0"], "lt=0: a lifetime is at least 1 s")]
    #[case::huge_lifetime(&[EP, "lt=99999999999999999999999999"], "lt=99999999999999999999999999: over 4294967295 s")]
    #[case::just_over_u32(&[EP, "lt=4294967296"], "lt=4294967296: over 4294967295 s")]
    #[case::unparsable_lifetime(&[EP, "lt=abc"], "lt=abc: not a whole number of seconds")]
    #[case::empty_lifetime(&[EP, "lt="], "lt=: not a whole number of seconds")]
    #[case::unknown_version(&[EP, "lwm2m=9.9"], "lwm2m=9.9: this platform speaks 1.0, 1.1")]
    #[case::unknown_binding(&[EP, "b=ZZZ"], "b=ZZZ: not a binding of LwM2M 1.0")]
    #[case::binding_of_1_1_in_1_0(&[EP, "lwm2m=1.0", "b=T"], "b=T: not a binding of LwM2M 1.0")]
    #[case::queue_letter_in_1_1(&[EP, "lwm2m=1.1", "b=UQ"], "b=UQ: not a binding of LwM2M 1.1")]
    #[case::repeated_letter_in_1_1(&[EP, "lwm2m=1.1", "b=UU"], "b=UU: not a binding of LwM2M 1.1")]
    #[case::q_in_1_0(&[EP, "lwm2m=1.0", "Q"], "Q: queue mode is b=UQ in LwM2M 1.0")]
    #[case::missing_ep(&["lwm2m=1.0", "lt=600", "b=U"], "ep is missing or empty")]
    #[case::empty_ep(&["ep=", "lt=600"], "ep is missing or empty")]
    #[case::ep_without_value(&["ep", "lt=600"], "ep has no value")]
    #[case::repeated_lifetime(&[EP, "lt=600", "lt=60"], "lt given twice")]
    #[case::bad_sms(&[EP, "sms=abc"], "sms=abc: not an MSISDN")]
    fn a_bad_registration_gets_4_00_and_says_why(#[case] query: &[&str], #[case] why: &str) {
        let mut pf: Platform<&str> = Platform::new(PlatformOptions::default());
        let out = pf.on_datagram("dev", &post("rd", query, 1), Duration::ZERO);
        assert_eq!(answer_of(&out), ("4.00".to_string(), why.to_string()));
        assert_eq!(out.len(), 1, "no auto-observe for a refused registration");
        assert!(pf.devices().is_empty());
        let notes = pf.take_notes();
        assert_eq!(notes.len(), 1);
        assert_eq!(notes[0].text, format!("registration refused with 4.00: {why}"));
        // The wire record carries the diagnostic, so a case's transcript shows it.
        let records = pf.take_records();
        assert!(records[1].describe().starts_with("ACK 4.00") && records[1].describe().ends_with(why));
    }

    #[rstest::rstest]
    #[case::both_dialects(&["lwm2m=1.0", EP, "b=U", "lt=600"], 600, "U")]
    #[case::libcoap(&["ep=libcoap-peer", "lt=300"], 300, "U")]
    #[case::default_lifetime(&[EP], 86_400, "U")]
    #[case::largest_lifetime(&[EP, "lt=4294967295"], u32::MAX, "U")]
    #[case::queue_mode_1_0(&[EP, "b=UQS", "lt=1"], 1, "UQS")]
    #[case::lwm2m_1_1(&[EP, "lwm2m=1.1", "b=UTN", "Q"], 86_400, "UTN")]
    #[case::sms(&[EP, "b=US", "sms=+8613800000000"], 86_400, "US")]
    #[case::unknown_parameters_are_ignored(&[EP, "lt=60", "d=domain", "et=sensor"], 60, "U")]
    fn a_good_registration_gets_2_01(#[case] query: &[&str], #[case] lifetime: u32, #[case] binding: &str) {
        let mut pf: Platform<&str> = Platform::new(PlatformOptions::default());
        let out = pf.on_datagram("dev", &post("rd", query, 1), Duration::ZERO);
        assert_eq!(answer_of(&out).0, "2.01");
        assert_eq!((pf.devices()[0].lifetime, pf.devices()[0].binding.as_str()), (lifetime, binding));
    }

    #[test]
    fn a_dialect_can_narrow_the_versions() {
        let o = PlatformOptions { lwm2m_versions: vec!["1.0".into()], ..Default::default() };
        let mut pf: Platform<&str> = Platform::new(o);
        let out = pf.on_datagram("dev", &post("rd", &[EP, "lwm2m=1.1"], 1), Duration::ZERO);
        assert_eq!(answer_of(&out), ("4.00".into(), "lwm2m=1.1: this platform speaks 1.0".into()));
        let out = pf.on_datagram("dev", &post("rd", &[EP], 2), Duration::ZERO);
        assert_eq!(answer_of(&out).0, "2.01", "no lwm2m= is 1.0");
    }

    #[rstest::rstest]
    #[case::unparsable_lifetime(&["lt=abc"], "4.00", "lt=abc: not a whole number of seconds")]
    #[case::zero_lifetime(&["lt=0"], "4.00", "lt=0: a lifetime is at least 1 s")]
    #[case::binding(&["b=ZZZ"], "4.00", "b=ZZZ: not a binding of LwM2M 1.0")]
    #[case::endpoint_name(&["ep=other"], "4.00", "ep is not an update parameter")]
    #[case::version(&["lwm2m=1.1"], "4.00", "lwm2m is not an update parameter")]
    #[case::good(&["lt=300", "b=UQ"], "2.04", "")]
    #[case::nothing(&[], "2.04", "")]
    fn an_update_is_checked_too(#[case] query: &[&str], #[case] code: &str, #[case] why: &str) {
        let mut pf: Platform<&str> = Platform::new(PlatformOptions { auto_observe: false, ..Default::default() });
        pf.on_datagram("dev", &post("rd", &[EP, "lt=600"], 1), Duration::ZERO);
        let out = pf.on_datagram("dev", &post("rd/1", query, 2), S);
        assert_eq!(answer_of(&out), (code.to_string(), why.to_string()));
        let d = &pf.devices()[0];
        let lifetime = if query.contains(&"lt=300") { 300 } else { 600 };
        assert_eq!((d.lifetime, d.updates), (lifetime, u32::from(code == "2.04")));
    }

    #[test]
    fn a_registration_lapses_past_its_lifetime() {
        let o = PlatformOptions { auto_observe: false, ..Default::default() };
        let mut pf: Platform<&str> = Platform::new(o);
        let out = pf.on_datagram("dev", &post("rd", &[EP, "lt=5"], 1), Duration::ZERO);
        assert_eq!(answer_of(&out).0, "2.01");
        assert_eq!(pf.next_deadline(), Some(5 * S + LIFETIME_GRACE), "the platform wakes up to expire it");
        // Renewed at 4 s: good until 9 s plus grace.
        assert_eq!(answer_of(&pf.on_datagram("dev", &post("rd/1", &[], 2), 4 * S)).0, "2.04");
        assert!(pf.poll(9 * S).is_empty());
        assert_eq!(pf.devices().len(), 1);
        // No update since: gone by 12 s.
        let (id, _) = pf.operate(None, Operation::Read(Path::resource(3311, 0, 5700)), 10 * S).unwrap();
        pf.poll(9 * S + LIFETIME_GRACE);
        assert!(pf.devices().is_empty());
        let notes: Vec<String> = pf.take_notes().into_iter().map(|n| n.text).collect();
        assert_eq!(
            notes,
            ["/rd/1 (866971030000001;460040000000001) expired: lifetime 5 s ran out with no update; 1 requests in flight cancelled"]
        );
        assert!(matches!(pf.outcome(id), OpOutcome::Cancelled(why) if why.contains("expired")));
        let out = pf.on_datagram("dev", &post("rd/1", &["lt=5"], 3), 12 * S);
        assert_eq!(answer_of(&out), ("4.04".into(), String::new()));
        let e = pf.operate(None, Operation::Read(Path::resource(3311, 0, 5700)), 12 * S).unwrap_err();
        assert_eq!(
            e,
            OperateError::Offline {
                endpoint: "866971030000001;460040000000001".into(),
                why: "expired: lifetime 5 s ran out with no update".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "device 866971030000001;460040000000001 is offline: expired: lifetime 5 s ran out with no update"
        );
        assert_eq!(
            pf.take_notes()[0].text,
            "update refused with 4.04: no registration /rd/1 (never made, ended or expired)"
        );
        // Registering again brings it back.
        assert_eq!(answer_of(&pf.on_datagram("dev", &post("rd", &[EP, "lt=5"], 4), 13 * S)).0, "2.01");
        assert!(pf.operate(None, Operation::Read(Path::resource(3311, 0, 5700)), 13 * S).is_ok());
    }

    /// M5310-A §4.2 event 31: a device the platform deleted learns it from its next update.
    #[test]
    fn a_deleted_device_gets_4_04_for_its_update() {
        let mut pf: Platform<&str> = Platform::new(PlatformOptions { auto_observe: false, ..Default::default() });
        assert_eq!(pf.delete_device(None, Duration::ZERO), Err(OperateError::NoDevice));
        pf.on_datagram("dev", &post("rd", &[EP, "lt=600"], 1), Duration::ZERO);
        assert_eq!(pf.delete_device(Some("nobody"), S), Err(OperateError::NoDevice));
        assert_eq!(pf.devices().len(), 1, "a name that matches nothing deletes nothing");
        assert!(pf.delete_device(Some("866971030000001"), S).is_ok());
        assert!(pf.devices().is_empty());
        let notes: Vec<String> = pf.take_notes().into_iter().map(|n| n.text).collect();
        assert_eq!(notes, ["/rd/1 (866971030000001;460040000000001) deleted by the platform"]);
        assert_eq!(answer_of(&pf.on_datagram("dev", &post("rd/1", &[], 2), 2 * S)).0, "4.04");
    }

    /// Everything the platform sends from `from` on until nothing is left to send.
    fn drain<P: Clone + Ord + Debug + std::fmt::Display>(pf: &mut Platform<P>, from: Duration) -> Vec<Duration> {
        let mut sent = vec![];
        let mut now = from;
        while let Some(t) = pf.next_deadline() {
            now = now.max(t);
            sent.extend(pf.poll(now).iter().map(|_| now));
            assert!(now < Duration::from_secs(1000), "runs dry");
        }
        sent
    }

    #[test]
    fn a_deregistration_stops_the_requests_in_flight() {
        let mut pf: Platform<&str> = Platform::new(PlatformOptions::default());
        let out = pf.on_datagram("dev", &post("rd", &[EP, "lt=600"], 1), Duration::ZERO);
        assert_eq!(out.len(), 1 + 4, "2.01, two observes, a discover and a read, none of them answered");
        let (id, _) = pf.operate(None, Operation::Read(Path::resource(3311, 0, 5700)), S).unwrap();
        assert_eq!(pf.in_flight(), 5);
        // The first retransmissions, then the device goes.
        assert!(!pf.poll(4 * S).is_empty());
        let out = pf.on_datagram("dev", &delete("rd/1", 2), 5 * S);
        assert_eq!(answer_of(&out).0, "2.02");
        assert_eq!(pf.in_flight(), 0);
        assert_eq!(drain(&mut pf, 5 * S), Vec::<Duration>::new(), "nothing re-sent after the DELETE");
        assert!(matches!(pf.outcome(id), OpOutcome::Cancelled(why) if why.ends_with("deregistered")));
        let notes = pf.take_notes();
        assert!(notes[0].text.ends_with("deregistered; 5 requests in flight cancelled"), "{notes:?}");
        let e = pf.operate(None, Operation::Read(Path::resource(3, 0, 0)), 6 * S).unwrap_err();
        assert!(matches!(e, OperateError::Offline { ref why, .. } if why == "deregistered"));
        assert_eq!(answer_of(&pf.on_datagram("dev", &delete("rd/1", 3), 6 * S)).0, "4.04");
    }

    #[test]
    fn an_expiry_stops_the_requests_in_flight_too() {
        let mut pf: Platform<&str> = Platform::new(PlatformOptions::default());
        pf.on_datagram("dev", &post("rd", &[EP, "lt=5"], 1), Duration::ZERO);
        let sent = drain(&mut pf, Duration::ZERO);
        assert!(sent.iter().all(|t| *t < 5 * S + LIFETIME_GRACE), "{sent:?}");
        assert!(pf.devices().is_empty() && pf.in_flight() == 0);
    }

    #[test]
    fn a_flood_stays_under_the_caps_and_a_real_device_still_registers() {
        let mut pf: Platform<u32> = Platform::new(PlatformOptions::default());
        let mut now = Duration::ZERO;
        let mut most = [0usize; 7];
        for i in 0..50_000u32 {
            now += Duration::from_millis(1);
            let peer = 10_000 + i % 500;
            let bytes = match i % 5 {
                0..=2 => post("rd", &[&format!("ep=junk{i}"), "lt=300", "b=U"], i as u16),
                3 => post("rd", &[&format!("ep=bad{i}"), "lt=-1"], i as u16),
                _ => vec![0xFF, i as u8, 0],
            };
            pf.on_datagram(peer, &bytes, now);
            if pf.next_deadline().is_some_and(|t| t <= now) {
                pf.poll(now);
            }
            if i % 1000 == 0 {
                pf.take_records();
                pf.take_notes();
                for (m, (_, n)) in most.iter_mut().zip(pf.state_sizes()) {
                    *m = (*m).max(n);
                }
            }
        }
        let names: Vec<&str> = pf.state_sizes().iter().map(|(n, _)| *n).collect();
        let caps = [
            MAX_DEVICES,
            MAX_PENDING,
            MAX_PENDING,
            MAX_BOOTSTRAPS,
            MAX_OBSERVATIONS,
            MAX_OUTCOMES,
            miplcheck_lwm2m::endpoint::MAX_SEEN,
        ];
        for ((name, most), cap) in names.iter().zip(most).zip(caps) {
            assert!(most <= cap, "{name}: {most} over {cap}");
        }
        assert_eq!(most[0], MAX_DEVICES, "the junk did fill the devices");
        // A real device: answered at once, and then it answers what the platform asks.
        let mut dev = Device { ep: Endpoint::new(Params::default(), 1) };
        let out = pf.on_datagram(1, &dev.register(None), now);
        let first = decode(&out[0]);
        assert!(crate::record::describe(&first).starts_with("ACK 2.01"), "{}", crate::record::describe(&first));
        for d in &out[1..] {
            let req = decode(d);
            let mut ok = Packet::new();
            ok.header.code = MessageClass::Response(ResponseType::Content);
            let ans = dev.ep.respond("pf", &req, ok, now).unwrap();
            pf.on_datagram(1, &ans.bytes, now);
        }
        // It answered, so more junk evicts junk, not it.
        for i in 0..1_000u32 {
            now += Duration::from_millis(1);
            pf.on_datagram(20_000 + i, &post("rd", &[&format!("ep=late{i}"), "lt=300"], i as u16), now);
        }
        assert!(pf.devices().iter().any(|d| d.peer == 1));
        assert!(pf.devices().len() <= MAX_DEVICES);
    }

    #[test]
    fn bootstrap_writes_the_server_account_and_finishes() {
        let mut pf: Platform<&str> = Platform::new(PlatformOptions::default());
        let mut dev = Endpoint::<&str>::new(Params::default(), 2);
        let mut bs = Packet::new();
        bs.header.set_type(MessageType::Confirmable);
        bs.header.code = MessageClass::Request(RequestType::Post);
        bs.add_option(CoapOption::UriPath, b"bs".to_vec());
        bs.add_option(CoapOption::UriQuery, b"ep=866971030000001".to_vec());
        let (_, d) = dev.send("pf", bs, Duration::ZERO).unwrap();
        let out = pf.on_datagram("dev", &d.bytes, Duration::ZERO);
        assert!(crate::record::describe(&decode(&out[0])).starts_with("ACK 2.04"));
        let put = decode(&out[1]);
        let descr = crate::record::describe(&put);
        assert!(descr.starts_with("CON PUT /0/1") && descr.contains("0=\"coap://127.0.0.1:5683\""), "{descr}");
        // The device answers each write; the next follows, then the finish.
        let mut next = put;
        let mut seen = vec![];
        for _ in 0..2 {
            let mut ok = Packet::new();
            ok.header.code = MessageClass::Response(ResponseType::Changed);
            let ans = dev.respond("pf", &next, ok, Duration::ZERO).unwrap();
            let out = pf.on_datagram("dev", &ans.bytes, Duration::ZERO);
            next = decode(&out[0]);
            seen.push(crate::record::describe(&next));
        }
        assert!(seen[0].starts_with("CON PUT /1/1"), "{seen:?}");
        assert!(seen[1].starts_with("CON POST /bs"), "{seen:?}");
    }
}
