//! The mock OneNET server: bootstrap, registration, auto-observe, operations.

use crate::record::{WireDir, WireRecord, AUTH_CODE_OPTION};
use crate::sota::{self, SotaError, SotaJob, SotaReport};
use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};
use miplcheck_lwm2m::endpoint::{Datagram, Endpoint, Event, Params};
use miplcheck_lwm2m::tlv::{self, Tlv};
use miplcheck_lwm2m::{link, wire, ContentFormat, Path};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::time::Duration;

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
    /// The platform's thread is gone (see [`crate::udp::Handle::operate`]).
    #[error("the platform stopped")]
    Stopped,
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
}

impl Default for PlatformOptions {
    fn default() -> Self {
        PlatformOptions {
            auto_observe: true,
            auth_code: None,
            server_uri: "coap://127.0.0.1:5683".into(),
            params: Params::default(),
            seed: 0x0E7,
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
}

#[derive(Debug, Clone)]
struct Pending {
    op: OpId,
    token: Vec<u8>,
    /// An RST names only the MID.
    mid: u16,
}

/// Steps of the bootstrap sequence still to send to a device.
#[derive(Debug, Clone)]
struct Bootstrap {
    queue: Vec<Packet>,
}

pub struct Platform<P> {
    opts: PlatformOptions,
    ep: Endpoint<P>,
    devices: Vec<Device<P>>,
    next_location: u32,
    next_op: u64,
    pending: Vec<Pending>,
    outcomes: BTreeMap<OpId, OpOutcome>,
    /// Observations by token: the path and every notification received.
    observations: BTreeMap<Vec<u8>, (Path, Vec<Packet>)>,
    bootstraps: BTreeMap<P, Bootstrap>,
    records: Vec<WireRecord>,
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
            next_location: 0,
            next_op: 0,
            pending: vec![],
            outcomes: BTreeMap::new(),
            observations: BTreeMap::new(),
            bootstraps: BTreeMap::new(),
            records: vec![],
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

    /// Every datagram since the last call, in order.
    pub fn take_records(&mut self) -> Vec<WireRecord> {
        std::mem::take(&mut self.records)
    }

    pub fn outcome(&self, id: OpId) -> OpOutcome {
        self.outcomes.get(&id).cloned().unwrap_or(OpOutcome::Pending)
    }

    /// Notifications received for the observation of `path`, oldest first.
    pub fn notifications(&self, path: &Path) -> Vec<&Packet> {
        self.observations.values().filter(|(p, _)| p == path).flat_map(|(_, n)| n.iter()).collect()
    }

    /// What a SOTA job came to so far; `None` for any other operation.
    pub fn sota_report(&self, id: OpId) -> Option<SotaReport> {
        self.sota.get(&id).map(|(_, run)| run.report().clone())
    }

    pub fn next_deadline(&self) -> Option<Duration> {
        self.sota.values().filter_map(|(_, run)| run.deadline()).chain(self.ep.next_deadline()).min()
    }

    fn out(&mut self, d: Datagram<P>, now: Duration) -> Datagram<P> {
        self.records.push(WireRecord {
            at: now,
            dir: WireDir::PlatformToUe,
            peer: d.peer.to_string(),
            bytes: d.bytes.clone(),
        });
        d
    }

    fn request(&mut self, peer: P, mut p: Packet, now: Duration) -> Option<(Pending, Datagram<P>)> {
        p.header.set_type(MessageType::Confirmable);
        let token = self.ep.new_token();
        p.set_token(token.clone());
        let (mid, d) = self.ep.send(peer, p, now).ok()?;
        Some((Pending { op: OpId(0), token, mid }, self.out(d, now)))
    }

    pub fn on_datagram(&mut self, from: P, bytes: &[u8], now: Duration) -> Vec<Datagram<P>> {
        self.records.push(WireRecord {
            at: now,
            dir: WireDir::UeToPlatform,
            peer: from.to_string(),
            bytes: bytes.to_vec(),
        });
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
        let (events, direct) = self.ep.on_datagram(from, bytes, now);
        let mut out: Vec<Datagram<P>> = direct.into_iter().map(|d| self.out(d, now)).collect();
        for e in events {
            out.extend(self.event(e, now));
        }
        out
    }

    pub fn poll(&mut self, now: Duration) -> Vec<Datagram<P>> {
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
            Event::Reset { mid, .. } => match self.pending.iter().position(|p| p.mid == mid) {
                Some(i) => self.no_answer(i, "RST", OpOutcome::Reset, now),
                None => vec![],
            },
            Event::TimedOut { token, .. } => match self.pending.iter().position(|p| p.token == token) {
                Some(i) => self.no_answer(i, "no answer", OpOutcome::TimedOut, now),
                None => vec![],
            },
        }
    }

    fn no_answer(&mut self, i: usize, why: &str, outcome: OpOutcome, now: Duration) -> Vec<Datagram<P>> {
        let p = self.pending.remove(i);
        if self.sota.contains_key(&p.op) {
            return self.sota_step(p.op, now, |run| run.on_no_answer(why, now));
        }
        self.outcomes.insert(p.op, outcome);
        vec![]
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
                        self.outcomes.insert(id, outcome);
                    }
                    return vec![];
                }
                sota::Next::Send(p) => match self.request(peer.clone(), p, now) {
                    Some((pending, d)) => {
                        self.pending.push(Pending { op: id, ..pending });
                        return vec![d];
                    }
                    None => match self.sota.get_mut(&id) {
                        Some((_, run)) => next = run.abandon("cannot encode the request".into(), now),
                        None => return vec![],
                    },
                },
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
        let (code, location) = match (method, path.iter().map(String::as_str).collect::<Vec<_>>().as_slice()) {
            (RequestType::Post, ["bs"]) => {
                let writes = self.bootstrap_writes(q("ep").as_deref().unwrap_or(""));
                self.bootstraps.insert(from.clone(), Bootstrap { queue: writes });
                (ResponseType::Changed, None)
            }
            (RequestType::Post, ["rd"]) => match self.register(&from, &req, q("ep"), q("lt")) {
                Ok(loc) => {
                    registered = q("ep").map(|ep| (ep, "registration"));
                    (ResponseType::Created, Some(loc))
                }
                Err(code) => (code, None),
            },
            (RequestType::Post, ["rd", id]) => {
                let loc = format!("rd/{id}");
                match self.devices.iter_mut().find(|d| d.location == loc) {
                    Some(d) => {
                        d.updates += 1;
                        if let Some(lt) = q("lt").and_then(|v| v.parse().ok()) {
                            d.lifetime = lt;
                        }
                        if let Some(objs) = objects(&req.payload) {
                            d.objects = objs;
                        }
                        registered = Some((d.endpoint.clone(), "update"));
                        (ResponseType::Changed, None)
                    }
                    None => (ResponseType::NotFound, None),
                }
            }
            (RequestType::Delete, ["rd", id]) => {
                let loc = format!("rd/{id}");
                let before = self.devices.len();
                self.devices.retain(|d| d.location != loc);
                (if self.devices.len() < before { ResponseType::Deleted } else { ResponseType::NotFound }, None)
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
        let mut out = vec![];
        if let Ok(d) = self.ep.respond(from.clone(), &req, resp, now) {
            out.push(self.out(d, now));
        }
        if code == ResponseType::Created && self.opts.auto_observe {
            out.extend(self.auto_observe(from.clone(), now));
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
        ep: Option<String>,
        lt: Option<String>,
    ) -> Result<String, ResponseType> {
        let ep = ep.filter(|e| !e.is_empty()).ok_or(ResponseType::BadRequest)?;
        if let Some(want) = &self.opts.auth_code {
            let got = req.get_option(CoapOption::Unknown(AUTH_CODE_OPTION)).and_then(|l| l.front().cloned());
            if got.as_deref() != Some(want.as_bytes()) {
                return Err(ResponseType::Unauthorized);
            }
        }
        let lifetime = lt.and_then(|v| v.parse().ok()).unwrap_or(86_400);
        let objects = objects(&req.payload).ok_or(ResponseType::BadRequest)?;
        // A device that registers again replaces its old registration.
        self.devices.retain(|d| d.endpoint != ep);
        self.next_location += 1;
        let location = format!("rd/{}", self.next_location);
        self.devices.push(Device {
            peer: from.clone(),
            endpoint: ep,
            location: location.clone(),
            lifetime,
            objects,
            updates: 0,
        });
        Ok(location)
    }

    /// OneNET's "obsv": observe each instance, discover each object, read the device object.
    fn auto_observe(&mut self, peer: P, now: Duration) -> Vec<Datagram<P>> {
        let objects = self.devices.iter().find(|d| d.peer == peer).map(|d| d.objects.clone()).unwrap_or_default();
        let mut ops: Vec<Operation> = objects.iter().map(|p| Operation::Observe(*p)).collect();
        let mut seen = vec![];
        for p in &objects {
            if !seen.contains(&p.object) {
                seen.push(p.object);
                ops.push(Operation::Discover(Path::object(p.object)));
            }
        }
        ops.push(Operation::Read(Path::instance(3, 0)));
        ops.into_iter().filter_map(|op| self.send_op(peer.clone(), op, now).ok().map(|(_, d)| d)).collect()
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
        self.request(peer, p, now).map(|(_, d)| d).into_iter().collect()
    }

    /// An answer from a device: to an operation, a bootstrap write, or a notification.
    fn answer(&mut self, from: P, packet: Packet, now: Duration) -> Vec<Datagram<P>> {
        let token = packet.get_token().to_vec();
        if let Some((_, notes)) = self.observations.get_mut(&token) {
            notes.push(packet.clone());
        }
        if let Some(i) = self.pending.iter().position(|p| p.token == token) {
            let p = self.pending.remove(i);
            if self.sota.contains_key(&p.op) {
                return self.sota_step(p.op, now, |run| run.on_answer(&packet, now));
            }
            let code = code_text(&packet);
            self.outcomes.insert(p.op, OpOutcome::Answered { code, at: now, packet });
            return vec![];
        }
        if self.bootstraps.contains_key(&from) {
            return self.next_bootstrap_write(from, now);
        }
        vec![]
    }

    /// Starts an operation on the device (the only one, or the one whose endpoint name contains
    /// `device`).
    pub fn operate(
        &mut self,
        device: Option<&str>,
        op: Operation,
        now: Duration,
    ) -> Result<(OpId, Vec<Datagram<P>>), OperateError> {
        let d = self
            .devices
            .iter()
            .find(|d| device.is_none_or(|n| d.endpoint.contains(n)))
            .ok_or(OperateError::NoDevice)?;
        let peer = d.peer.clone();
        let (id, dg) = match op {
            Operation::Sota(job) => {
                let endpoint = d.endpoint.clone();
                self.start_sota(peer, endpoint, job, now)?
            }
            op => self.send_op(peer, op, now)?,
        };
        Ok((id, vec![dg]))
    }

    fn send_op(&mut self, peer: P, op: Operation, now: Duration) -> Result<(OpId, Datagram<P>), OperateError> {
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
            Operation::Sota(_) => return Err(OperateError::SotaNotByRequest),
        };
        p.header.code = MessageClass::Request(method);
        for s in path.segments() {
            p.add_option(CoapOption::UriPath, s.into_bytes());
        }
        let (pending, d) = self.request(peer, p, now).ok_or(OperateError::Encode)?;
        let id = self.new_op();
        if let Operation::Observe(path) = op {
            self.observations.insert(pending.token.clone(), (path, vec![]));
        }
        if let Operation::CancelObserve(path) = op {
            self.observations.retain(|_, (p, _)| *p != path);
        }
        self.pending.push(Pending { op: id, ..pending });
        Ok((id, d))
    }

    fn new_op(&mut self) -> OpId {
        self.next_op += 1;
        let id = OpId(self.next_op);
        self.outcomes.insert(id, OpOutcome::Pending);
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
        let (run, first) = sota::Run::start(job, endpoint, now);
        let (pending, d) = self.request(peer.clone(), first, now).ok_or(OperateError::Encode)?;
        let id = self.new_op();
        self.pending.push(Pending { op: id, ..pending });
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

    fn decode(d: &Datagram<&'static str>) -> Packet {
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
