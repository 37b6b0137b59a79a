//! The BC39 dialect's LwM2M client (BC39 §3.2.7–3.2.16, §4, §5.2–5.9): what `AT+MIPLOPEN` and
//! friends do on the wire, and which URCs the platform's requests become.
//!
//! Message IDs in URCs are the request's CoAP MID; for `+MIPLOBSERVE` OneNET's SDK prints
//! `(counter << 16) | MID` (BC39 §5.2.2 shows 78025 = 0x1_30C9 then 143562 = 0x2_30CA).

use crate::modem::Ctx;
use crate::reply::{cme, Reply};
use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};
use miplcheck_lwm2m::endpoint::{Endpoint, Event, Params};
use miplcheck_lwm2m::tlv::{self, Tlv};
use miplcheck_lwm2m::{link, wire, ContentFormat, Path};
use std::collections::BTreeMap;
use std::time::Duration;

/// The OneNET auth code option (DESIGN: "An auth code travels in CoAP option 63").
const AUTH_CODE_OPTION: u16 = 63;

#[derive(Debug, Clone, PartialEq)]
enum Phase {
    Bootstrapping,
    Registering {
        deadline: Duration,
    },
    /// `renew`: when event 14 (update needed) is due; `expires`: when the lifetime ends (event 9).
    Registered {
        location: String,
        renew: Option<Duration>,
        expires: Duration,
    },
    Deregistering,
}

/// When to report event 14 before the lifetime ends. BC39 names no margin; this is the 30 s the
/// M5310-A's automatic update uses (M5310-A §2.4), or half the lifetime if that is shorter.
fn renew_margin(lifetime: u32) -> Duration {
    Duration::from_secs(30).min(Duration::from_secs(u64::from(lifetime)) / 2)
}

/// Why we sent a request, so its answer knows what to do.
#[derive(Debug, Clone, PartialEq)]
enum Mine {
    Bootstrap,
    Register,
    Update,
    Deregister,
}

/// A platform request waiting for the TE's answer.
#[derive(Debug, Clone)]
struct Incoming {
    from: String,
    request: Packet,
    path: Path,
    /// READRSP parts collected so far (index N-1 … 0).
    parts: Vec<Part>,
}

/// One resource value from `AT+MIPLREADRSP` or `AT+MIPLNOTIFY`.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub path: Path,
    pub value_type: i64,
    /// The declared `<len>`: for integers, the width to encode (2, 4 or 8 bytes).
    pub len: usize,
    pub value: String,
}

#[derive(Debug, Clone)]
struct Observation {
    path: Path,
    peer: String,
    token: Vec<u8>,
    seq: u32,
}

pub struct Client {
    ep: Endpoint<String>,
    server: String,
    endpoint_name: String,
    lifetime: u32,
    timeout: Duration,
    objects: Vec<Path>,
    auth_code: Option<String>,
    phase: Phase,
    mine: BTreeMap<Vec<u8>, Mine>,
    incoming: BTreeMap<u32, Incoming>,
    observations: Vec<Observation>,
    observe_counter: u32,
    notify_parts: Vec<Part>,
    /// CON notifications in flight: MID → ackid, and whether to release the radio on the ACK.
    con_notifies: BTreeMap<u16, (u16, bool)>,
    release_on_ack: BTreeMap<u16, ()>,
    idle_at: Option<Duration>,
    secure: Option<Secure>,
    handshake_limit: Duration,
}

/// The platform's address as `host:port` from a `coap://host:port` URI.
fn host_port(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("coap://").or_else(|| uri.strip_prefix("coaps://"))?;
    Some(rest.trim_end_matches('/').to_string())
}

pub struct OpenArgs {
    /// How many times the client was opened since power-on: message IDs and tokens must not
    /// repeat across opens, or the platform takes a new registration for a duplicate.
    pub generation: u32,
    pub server: String,
    pub bootstrap: bool,
    pub endpoint_name: String,
    pub lifetime: u32,
    pub timeout: Duration,
    pub objects: Vec<Path>,
    pub auth_code: Option<String>,
    pub ack_timeout: u64,
    /// DTLS with this pre-shared key (identity: the IMEI) when `AT+MIPLCONFIG=5,1,…` set one.
    pub psk: Option<Vec<u8>>,
}

/// What to do once the DTLS handshake with the current server is done.
#[derive(Debug, Clone, Copy, PartialEq)]
enum AfterHandshake {
    Bootstrap,
    Register,
}

/// The DTLS association with the current server.
struct Secure {
    psk: Vec<u8>,
    session: Option<miplcheck_lwm2m::dtls::Session>,
    then: Option<AfterHandshake>,
    deadline: Option<Duration>,
}

impl Client {
    /// `AT+MIPLOPEN`: bootstrap (events 1, 2) or connect (4), then register (6).
    pub fn open(a: OpenArgs, ctx: &mut Ctx) -> Client {
        let seed = a
            .endpoint_name
            .bytes()
            .fold(0xB39u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
            .wrapping_add(u64::from(a.generation).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut c = Client {
            ep: Endpoint::new(Params::with_ack_timeout(a.ack_timeout), seed),
            server: a.server,
            endpoint_name: a.endpoint_name,
            lifetime: a.lifetime,
            timeout: a.timeout,
            objects: a.objects,
            auth_code: a.auth_code,
            phase: Phase::Bootstrapping,
            mine: BTreeMap::new(),
            incoming: BTreeMap::new(),
            observations: vec![],
            observe_counter: 0,
            notify_parts: vec![],
            con_notifies: BTreeMap::new(),
            release_on_ack: BTreeMap::new(),
            idle_at: None,
            secure: a.psk.map(|psk| Secure { psk, session: None, then: None, deadline: None }),
            // DTLS gives no answer to a wrong key (RFC 6347 §4.1.2.7): give up after this.
            handshake_limit: Duration::from_secs(4 * a.ack_timeout),
        };
        if a.bootstrap {
            ctx.urc("+MIPLEVENT: 0,1");
            if !c.handshake(AfterHandshake::Bootstrap, ctx) {
                c.bootstrap(ctx);
            }
        } else {
            c.connect(ctx);
        }
        c
    }

    fn bootstrap(&mut self, ctx: &mut Ctx) {
        let mut p = request(RequestType::Post, &["bs"]);
        p.add_option(CoapOption::UriQuery, format!("ep={}", self.endpoint_name).into_bytes());
        self.send_mine(p, Mine::Bootstrap, ctx);
    }

    /// Starts a DTLS handshake with the current server when DTLS is on; `then` runs once it is
    /// done. Returns false (nothing started) without DTLS.
    fn handshake(&mut self, then: AfterHandshake, ctx: &mut Ctx) -> bool {
        let identity = self.endpoint_name.split(';').next().unwrap_or_default().to_string();
        let limit = self.handshake_limit;
        let Some(sec) = self.secure.as_mut() else { return false };
        match miplcheck_lwm2m::dtls::Session::client(&identity, &sec.psk) {
            Ok((session, flight)) => {
                sec.session = Some(session);
                sec.then = Some(then);
                sec.deadline = Some(ctx.now + limit);
                let server = self.server.clone();
                for d in flight {
                    self.send_raw(&server, d, ctx);
                }
            }
            Err(e) => {
                tracing::warn!("DTLS: {e}");
                ctx.urc("+MIPLEVENT: 0,5");
            }
        }
        true
    }

    fn connect(&mut self, ctx: &mut Ctx) {
        if self.secure.as_ref().is_some_and(|s| s.session.as_ref().is_none_or(|x| !x.is_connected())) {
            self.handshake(AfterHandshake::Register, ctx);
            return;
        }
        self.register(ctx);
    }

    fn register(&mut self, ctx: &mut Ctx) {
        ctx.urc("+MIPLEVENT: 0,4");
        self.phase = Phase::Registering { deadline: ctx.now + self.timeout };
        let mut p = request(RequestType::Post, &["rd"]);
        for q in [
            "lwm2m=1.0".to_string(),
            format!("ep={}", self.endpoint_name),
            "b=U".into(),
            format!("lt={}", self.lifetime),
        ] {
            p.add_option(CoapOption::UriQuery, q.into_bytes());
        }
        if let Some(code) = &self.auth_code {
            p.add_option(CoapOption::Unknown(AUTH_CODE_OPTION), code.as_bytes().to_vec());
        }
        p.set_content_format(coap_lite::ContentFormat::ApplicationLinkFormat);
        p.payload = link::registration(&self.objects).into_bytes();
        self.send_mine(p, Mine::Register, ctx);
    }

    fn send_mine(&mut self, mut p: Packet, why: Mine, ctx: &mut Ctx) -> Option<u16> {
        p.header.set_type(MessageType::Confirmable);
        let token = self.ep.new_token();
        p.set_token(token.clone());
        let (mid, d) = self.ep.send(self.server.clone(), p, ctx.now).ok()?;
        self.mine.insert(token, why);
        self.transmit(&d.peer, d.bytes, ctx);
        Some(mid)
    }

    /// Sends a CoAP message: sealed when a DTLS association is up.
    fn transmit(&mut self, to: &str, bytes: Vec<u8>, ctx: &mut Ctx) {
        let sealed = match self.secure.as_mut().and_then(|s| s.session.as_mut()) {
            Some(session) => match session.seal(&bytes) {
                Ok(records) => records,
                Err(e) => {
                    tracing::warn!("DTLS: {e}");
                    return;
                }
            },
            None => vec![bytes],
        };
        for d in sealed {
            self.send_raw(to, d, ctx);
        }
    }

    fn send_raw(&mut self, to: &str, bytes: Vec<u8>, ctx: &mut Ctx) {
        ctx.send(to, bytes);
        self.idle_at = Some(ctx.now + ctx.opts.rrc_inactivity);
    }

    /// A registration or update was accepted at `now`: the lifetime starts again.
    fn start_lifetime(&mut self, now: Duration) {
        if let Phase::Registered { renew, expires, .. } = &mut self.phase {
            let life = Duration::from_secs(u64::from(self.lifetime));
            *expires = now + life;
            *renew = Some(now + life - renew_margin(self.lifetime));
        }
    }

    pub fn registered(&self) -> bool {
        matches!(self.phase, Phase::Registered { .. })
    }

    /// `AT+MIPLUPDATE=<ref>,<lifetime>,<withObjectFlag>[,<raiMode>]`.
    pub fn update(&mut self, lifetime: u32, with_objects: bool, release: bool, ctx: &mut Ctx) -> Reply {
        let Phase::Registered { location, .. } = &self.phase else { return Reply::error(cme::NOT_ALLOWED) };
        let segs: Vec<String> = location.split('/').map(str::to_string).collect();
        let mut p = request(RequestType::Post, &segs.iter().map(String::as_str).collect::<Vec<_>>());
        self.lifetime = lifetime;
        p.add_option(CoapOption::UriQuery, format!("lt={lifetime}").into_bytes());
        if with_objects {
            p.set_content_format(coap_lite::ContentFormat::ApplicationLinkFormat);
            p.payload = link::registration(&self.objects).into_bytes();
        }
        if let Some(mid) = self.send_mine(p, Mine::Update, ctx) {
            if release {
                self.release_on_ack.insert(mid, ());
            }
        }
        Reply::ok()
    }

    /// `AT+MIPLCLOSE`: deregister (event 15 on 2.02).
    pub fn close(&mut self, ctx: &mut Ctx) -> Reply {
        let Phase::Registered { location, .. } = self.phase.clone() else { return Reply::error(cme::NOT_ALLOWED) };
        let segs: Vec<&str> = location.split('/').collect();
        self.phase = Phase::Deregistering;
        self.send_mine(request(RequestType::Delete, &segs), Mine::Deregister, ctx);
        Reply::ok()
    }

    pub fn datagram(&mut self, from: &str, bytes: &[u8], ctx: &mut Ctx, autoack: bool, hex_writes: bool) {
        let Some(session) = self.secure.as_mut().and_then(|s| s.session.as_mut()) else {
            self.coap(from, bytes, ctx, autoack, hex_writes);
            return;
        };
        let progress = session.on_datagram(bytes);
        for d in progress.send {
            self.send_raw(from, d, ctx);
        }
        if progress.connected {
            let then = self.secure.as_mut().and_then(|s| {
                s.deadline = None;
                s.then.take()
            });
            match then {
                Some(AfterHandshake::Bootstrap) => self.bootstrap(ctx),
                Some(AfterHandshake::Register) => self.register(ctx),
                None => {}
            }
        }
        for plain in progress.plaintext {
            self.coap(from, &plain, ctx, autoack, hex_writes);
        }
    }

    fn coap(&mut self, from: &str, bytes: &[u8], ctx: &mut Ctx, autoack: bool, hex_writes: bool) {
        let (events, direct) = self.ep.on_datagram(from.to_string(), bytes, ctx.now);
        for d in direct {
            self.transmit(&d.peer, d.bytes, ctx);
        }
        for e in events {
            match e {
                Event::Request { from, packet } => self.serve(from, packet, ctx, autoack, hex_writes),
                Event::Response { packet, .. } => self.answered(packet, ctx),
                Event::Acked { mid, .. } => self.acked(mid, true, ctx),
                Event::Reset { mid, .. } => {
                    // An RST to a notification cancels its observation (RFC 7641 §3.6).
                    self.acked(mid, false, ctx);
                }
                Event::TimedOut { mid, token, .. } => self.timed_out(mid, &token, ctx),
                Event::Duplicate { .. } | Event::Malformed { .. } => {}
            }
        }
    }

    pub fn poll(&mut self, ctx: &mut Ctx) {
        if let Some(sec) = self.secure.as_mut() {
            if sec.deadline.is_some_and(|t| ctx.now >= t) {
                // BC39 §4.7 event 5: the connection (here: the DTLS handshake) failed.
                sec.deadline = None;
                sec.session = None;
                sec.then = None;
                self.phase = Phase::Deregistering;
                ctx.urc("+MIPLEVENT: 0,5");
            }
        }
        let (events, resend) = self.ep.poll(ctx.now);
        for d in resend {
            self.transmit(&d.peer, d.bytes, ctx);
        }
        for e in events {
            if let Event::TimedOut { mid, token, .. } = e {
                self.timed_out(mid, &token, ctx);
            }
        }
        if let Phase::Registering { deadline } = self.phase {
            if ctx.now >= deadline {
                ctx.urc("+MIPLEVENT: 0,8");
                self.phase = Phase::Deregistering;
            }
        }
        if let Phase::Registered { renew, expires, .. } = &mut self.phase {
            if renew.is_some_and(|t| ctx.now >= t) {
                *renew = None;
                let left = expires.saturating_sub(ctx.now).as_secs();
                ctx.urc(format!("+MIPLEVENT: 0,14,{left}"));
            }
            if ctx.now >= *expires {
                self.phase = Phase::Deregistering;
                self.observations.clear();
                ctx.urc("+MIPLEVENT: 0,9");
            }
        }
        if self.idle_at.is_some_and(|t| ctx.now >= t) {
            if self.ep.in_flight() == 0 {
                self.idle_at = None;
                ctx.release();
            } else {
                // Still re-sending: the radio stays up for another inactivity period.
                self.idle_at = Some(ctx.now + ctx.opts.rrc_inactivity);
            }
        }
    }

    pub fn next_deadline(&self) -> Option<Duration> {
        let (a, b) = match &self.phase {
            Phase::Registering { deadline } => (Some(*deadline), None),
            Phase::Registered { renew, expires, .. } => (*renew, Some(*expires)),
            _ => (None, None),
        };
        let hs = self.secure.as_ref().and_then(|s| s.deadline);
        [self.ep.next_deadline(), a, b, self.idle_at, hs].into_iter().flatten().min()
    }

    fn answered(&mut self, p: Packet, ctx: &mut Ctx) {
        let Some(why) = self.mine.remove(p.get_token()) else { return };
        // 2.xx is success; the code's class is its top three bits on the wire.
        let ok = matches!(p.header.code, MessageClass::Response(_)) && u8::from(p.header.code) >> 5 == 2;
        match why {
            Mine::Bootstrap => ctx.urc(if ok { "+MIPLEVENT: 0,2" } else { "+MIPLEVENT: 0,3" }),
            Mine::Register if ok => {
                let mut loc = wire::strings(&p, CoapOption::LocationPath);
                if loc.is_empty() {
                    loc.push("rd".into());
                }
                self.phase = Phase::Registered { location: loc.join("/"), renew: None, expires: Duration::ZERO };
                self.start_lifetime(ctx.now);
                ctx.urc("+MIPLEVENT: 0,6");
            }
            Mine::Register => {
                self.phase = Phase::Deregistering;
                ctx.urc("+MIPLEVENT: 0,7");
            }
            Mine::Update => {
                if ok {
                    self.start_lifetime(ctx.now);
                }
                ctx.urc(if ok { "+MIPLEVENT: 0,11" } else { "+MIPLEVENT: 0,12" })
            }
            Mine::Deregister => {
                self.observations.clear();
                ctx.urc("+MIPLEVENT: 0,15");
            }
        }
        if self.release_on_ack.remove(&p.header.message_id).is_some() {
            ctx.release();
        }
    }

    fn acked(&mut self, mid: u16, ok: bool, ctx: &mut Ctx) {
        if let Some((ackid, release)) = self.con_notifies.remove(&mid) {
            ctx.urc(format!("+MIPLEVENT: 0,{},{ackid}", if ok { 26 } else { 25 }));
            if release {
                ctx.release();
            }
        }
    }

    fn timed_out(&mut self, mid: u16, token: &[u8], ctx: &mut Ctx) {
        if let Some((ackid, _)) = self.con_notifies.remove(&mid) {
            ctx.urc(format!("+MIPLEVENT: 0,25,{ackid}"));
        }
        match self.mine.remove(token) {
            Some(Mine::Bootstrap) => ctx.urc("+MIPLEVENT: 0,3"),
            Some(Mine::Register) => {
                self.phase = Phase::Deregistering;
                ctx.urc("+MIPLEVENT: 0,7");
            }
            Some(Mine::Update) => ctx.urc("+MIPLEVENT: 0,13"),
            Some(Mine::Deregister) => ctx.urc("+MIPLEVENT: 0,15"),
            None => {}
        }
    }

    /// A request from the platform: bootstrap writes, or an operation for the TE.
    fn serve(&mut self, from: String, req: Packet, ctx: &mut Ctx, autoack: bool, hex_writes: bool) {
        let segs = wire::strings(&req, CoapOption::UriPath);
        let method = match req.header.code {
            MessageClass::Request(m) => m,
            _ => return,
        };
        if self.phase == Phase::Bootstrapping {
            self.bootstrap_request(&from, &req, method, &segs, ctx);
            return;
        }
        let Ok(path) = Path::from_segments(&segs) else {
            self.reply(&from, &req, ResponseType::NotFound, None, ctx);
            return;
        };
        let mid = req.header.message_id;
        let accept_link = wire::number(&req, CoapOption::Accept) == Some(ContentFormat::Link.number());
        let observe = req.get_observe_value().and_then(Result::ok);
        let queries = wire::strings(&req, CoapOption::UriQuery);
        let r = |p: Option<u16>| p.map(i64::from).unwrap_or(-1);
        let (o, i, res) = (path.object, r(path.instance), r(path.resource));
        let msg_id = u32::from(mid);
        match (method, observe) {
            (RequestType::Get, _) if path == Path::instance(3, 0) => {
                // The module answers the device object itself: the TE never sees this read.
                let body = tlv::encode(&[
                    Tlv::resource(0, b"Quectel".to_vec()),
                    Tlv::resource(1, b"BC39".to_vec()),
                    Tlv::resource(2, self.endpoint_name.split(';').next().unwrap_or("").as_bytes().to_vec()),
                ]);
                self.reply(&from, &req, ResponseType::Content, Some((ContentFormat::Tlv, body)), ctx);
            }
            (RequestType::Get, Some(flag)) => {
                self.observe_counter += 1;
                let id = (self.observe_counter << 16) | msg_id;
                let on = flag == 0;
                ctx.urc(format!("+MIPLOBSERVE: 0,{id},{},{o},{i},{res}", u8::from(on)));
                if on {
                    self.observations.retain(|ob| ob.path != path);
                    self.observations.push(Observation {
                        path,
                        peer: from.clone(),
                        token: req.get_token().to_vec(),
                        seq: 0,
                    });
                } else {
                    self.observations.retain(|ob| ob.path != path);
                }
                if autoack {
                    self.reply(&from, &req, ResponseType::Content, None, ctx);
                } else {
                    self.incoming.insert(id, Incoming { from, request: req, path, parts: vec![] });
                }
            }
            (RequestType::Get, None) if accept_link => {
                ctx.urc(format!("+MIPLDISCOVER: 0,{msg_id},{o}"));
                self.incoming.insert(msg_id, Incoming { from, request: req, path, parts: vec![] });
            }
            (RequestType::Get, None) => {
                ctx.urc(format!("+MIPLREAD: 0,{msg_id},{o},{i},{res}"));
                self.incoming.insert(msg_id, Incoming { from, request: req, path, parts: vec![] });
            }
            (RequestType::Put, _) if req.payload.is_empty() && !queries.is_empty() => {
                let params = queries.join(";");
                ctx.urc(format!("+MIPLPARAMETER: 0,{msg_id},{o},{i},{res},{},\"{params}\"", params.len()));
                self.incoming.insert(msg_id, Incoming { from, request: req, path, parts: vec![] });
            }
            (RequestType::Post, _) if path.resource.is_some() => {
                let args = String::from_utf8_lossy(&req.payload).into_owned();
                if args.is_empty() {
                    ctx.urc(format!("+MIPLEXECUTE: 0,{msg_id},{o},{i},{res}"));
                } else {
                    ctx.urc(format!("+MIPLEXECUTE: 0,{msg_id},{o},{i},{res},{},\"{args}\"", args.len()));
                }
                self.incoming.insert(msg_id, Incoming { from, request: req, path, parts: vec![] });
            }
            (RequestType::Put | RequestType::Post, _) => {
                let values = written_values(&req, path);
                if values.is_empty() {
                    self.reply(&from, &req, ResponseType::BadRequest, None, ctx);
                    return;
                }
                let n = values.len();
                for (k, (p, bytes)) in values.into_iter().enumerate() {
                    let shown =
                        if hex_writes { wire::hex(&bytes) } else { String::from_utf8_lossy(&bytes).into_owned() };
                    let (pi, pr) = (r(p.instance), r(p.resource));
                    // BC39 §4.4: value type shown as opaque (2); index N-1 … 0; flag 0.
                    ctx.urc(format!("+MIPLWRITE: 0,{msg_id},{o},{pi},{pr},2,{},{shown},0,{}", bytes.len(), n - 1 - k));
                }
                self.incoming.insert(msg_id, Incoming { from, request: req, path, parts: vec![] });
            }
            _ => self.reply(&from, &req, ResponseType::MethodNotAllowed, None, ctx),
        }
    }

    fn bootstrap_request(&mut self, from: &str, req: &Packet, method: RequestType, segs: &[String], ctx: &mut Ctx) {
        match (method, segs.iter().map(String::as_str).collect::<Vec<_>>().as_slice()) {
            (RequestType::Put, ["0", _]) => {
                if let Ok(items) = tlv::decode(&req.payload) {
                    let uri = items
                        .iter()
                        .find(|t| t.id == 0)
                        .and_then(|t| t.bytes())
                        .map(|b| String::from_utf8_lossy(b).into_owned());
                    if let Some(hp) = uri.as_deref().and_then(host_port) {
                        self.server = hp;
                    }
                }
                self.reply(from, req, ResponseType::Changed, None, ctx);
            }
            (RequestType::Put, _) | (RequestType::Delete, _) => self.reply(from, req, ResponseType::Changed, None, ctx),
            (RequestType::Post, ["bs"]) => {
                self.reply(from, req, ResponseType::Changed, None, ctx);
                // A new server needs its own association.
                if let Some(s) = self.secure.as_mut() {
                    s.session = None;
                }
                self.connect(ctx);
            }
            _ => self.reply(from, req, ResponseType::MethodNotAllowed, None, ctx),
        }
    }

    fn reply(
        &mut self,
        to: &str,
        req: &Packet,
        code: ResponseType,
        body: Option<(ContentFormat, Vec<u8>)>,
        ctx: &mut Ctx,
    ) {
        let mut p = Packet::new();
        p.header.code = MessageClass::Response(code);
        if req.get_observe_value().and_then(Result::ok) == Some(0) && code == ResponseType::Content {
            p.set_observe_value(0);
        }
        if let Some((cf, b)) = body {
            p.add_option(CoapOption::ContentFormat, cf.number().to_be_bytes().to_vec());
            p.payload = b;
        }
        if let Ok(d) = self.ep.respond(to.to_string(), req, p, ctx.now) {
            self.transmit(&d.peer, d.bytes, ctx);
        }
    }

    /// The TE's answer to a URC: `AT+MIPL…RSP=<ref>,<msgId>,<result>…`.
    pub fn te_answer(&mut self, kind: Answer, msg_id: u32, result: i64, ctx: &mut Ctx) -> Reply {
        let Some(code) = result_code(result) else { return Reply::error(cme::BAD_PARAMETER) };
        let Some(inc) = self.incoming.get_mut(&msg_id) else { return Reply::error(cme::BAD_PARAMETER) };
        let body = match kind {
            Answer::Discover(resources) if code == ResponseType::Content => {
                let instances: Vec<u16> =
                    self.objects.iter().filter(|p| p.object == inc.path.object).filter_map(|p| p.instance).collect();
                Some((ContentFormat::Link, link::discover(inc.path.object, &instances, &resources).into_bytes()))
            }
            Answer::Read(part, index) if code == ResponseType::Content => {
                inc.parts.push(part);
                if index > 0 {
                    return Reply::ok();
                }
                Some(encode_parts(inc.path, &std::mem::take(&mut inc.parts)))
            }
            _ => None,
        };
        let inc = self.incoming.remove(&msg_id).expect("looked up above");
        self.reply(&inc.from, &inc.request, code, body, ctx);
        Reply::ok()
    }

    /// `AT+MIPLNOTIFY`: collect until index 0, then send on the matching observation.
    pub fn notify(&mut self, part: Part, index: i64, ackid: Option<u16>, rai: u32, ctx: &mut Ctx) -> Reply {
        let Some(ob) = self.observations.iter().position(|o| o.path.contains(&part.path)) else {
            return Reply::error(cme::NOT_ALLOWED);
        };
        self.notify_parts.push(part);
        if index > 0 {
            return Reply::ok();
        }
        let parts = std::mem::take(&mut self.notify_parts);
        let (peer, token, path) = {
            let o = &mut self.observations[ob];
            o.seq += 1;
            (o.peer.clone(), o.token.clone(), o.path)
        };
        let seq = self.observations[ob].seq;
        let (cf, body) = encode_parts(path, &parts);
        let mut p = Packet::new();
        p.header.set_type(if ackid.is_some() { MessageType::Confirmable } else { MessageType::NonConfirmable });
        p.header.code = MessageClass::Response(ResponseType::Content);
        p.set_token(token);
        p.set_observe_value(seq);
        p.add_option(CoapOption::ContentFormat, cf.number().to_be_bytes().to_vec());
        p.payload = body;
        match self.ep.send(peer, p, ctx.now) {
            Ok((mid, d)) => {
                self.transmit(&d.peer, d.bytes, ctx);
                if let Some(a) = ackid {
                    self.con_notifies.insert(mid, (a, rai == 0x400));
                } else if rai == 0x200 || rai == 0x400 {
                    ctx.release();
                }
                Reply::ok()
            }
            Err(_) => Reply::error(cme::BAD_PARAMETER),
        }
    }
}

/// Which answer the TE gave.
pub enum Answer {
    Discover(Vec<u16>),
    Read(Part, i64),
    Plain,
}

/// BC39 §3.2.9: result codes and the CoAP codes they stand for.
fn result_code(r: i64) -> Option<ResponseType> {
    Some(match r {
        1 => ResponseType::Content,
        2 => ResponseType::Changed,
        11 => ResponseType::BadRequest,
        12 => ResponseType::Unauthorized,
        13 => ResponseType::NotFound,
        14 => ResponseType::MethodNotAllowed,
        15 => ResponseType::NotAcceptable,
        _ => return None,
    })
}

/// A value as the TE gave it, as bytes for TLV (BC39 §3.2.11 value types 1–5).
fn value_bytes(p: &Part) -> Vec<u8> {
    let v = p.value.trim_matches('"');
    match p.value_type {
        2 => wire::unhex(v).unwrap_or_default(),
        3 => {
            let n: i64 = v.parse().unwrap_or(0);
            match p.len {
                2 => (n as i16).to_be_bytes().to_vec(),
                4 => (n as i32).to_be_bytes().to_vec(),
                8 => n.to_be_bytes().to_vec(),
                _ => tlv::int_bytes(n),
            }
        }
        4 => v.parse::<f32>().map(|f| f.to_be_bytes().to_vec()).unwrap_or_default(),
        5 => vec![u8::from(v == "1" || v.eq_ignore_ascii_case("true"))],
        _ => v.as_bytes().to_vec(),
    }
}

/// One resource as text/plain (opaque as 42); an instance or object as TLV.
fn encode_parts(path: Path, parts: &[Part]) -> (ContentFormat, Vec<u8>) {
    if path.resource.is_some() && parts.len() == 1 {
        let p = &parts[0];
        return match p.value_type {
            2 => (ContentFormat::Opaque, value_bytes(p)),
            _ => (ContentFormat::Text, p.value.trim_matches('"').as_bytes().to_vec()),
        };
    }
    let resources = |inst: u16| -> Vec<Tlv> {
        parts
            .iter()
            .filter(|p| p.path.instance == Some(inst))
            .filter_map(|p| p.path.resource.map(|r| Tlv::resource(r, value_bytes(p))))
            .collect()
    };
    let body = if path.instance.is_some() {
        resources(path.instance.unwrap_or(0))
    } else {
        let mut insts: Vec<u16> = parts.iter().filter_map(|p| p.path.instance).collect();
        insts.dedup();
        insts.into_iter().map(|i| Tlv::instance(i, resources(i))).collect()
    };
    (ContentFormat::Tlv, tlv::encode(&body))
}

/// The resources a WRITE carries: one for a resource path, each TLV resource otherwise.
fn written_values(req: &Packet, path: Path) -> Vec<(Path, Vec<u8>)> {
    let cf = wire::number(req, CoapOption::ContentFormat).map(ContentFormat::from_number);
    if cf.is_some_and(ContentFormat::is_tlv) {
        let Ok(items) = tlv::decode(&req.payload) else { return vec![] };
        let mut out = vec![];
        for t in items {
            match t.kind {
                tlv::Kind::ObjectInstance => {
                    for r in t.children() {
                        out.push((Path::resource(path.object, t.id, r.id), r.bytes().unwrap_or_default().to_vec()));
                    }
                }
                _ => out.push((
                    Path::resource(path.object, path.instance.unwrap_or(0), t.id),
                    t.bytes().unwrap_or_default().to_vec(),
                )),
            }
        }
        return out;
    }
    if path.resource.is_some() {
        return vec![(path, req.payload.clone())];
    }
    vec![]
}

fn request(method: RequestType, path: &[&str]) -> Packet {
    let mut p = Packet::new();
    p.header.code = MessageClass::Request(method);
    for s in path {
        p.add_option(CoapOption::UriPath, s.as_bytes().to_vec());
    }
    p
}
