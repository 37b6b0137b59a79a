//! The LwM2M client both dialects share (BC39 §3.2.7–3.2.16, §5.2–5.9; M5310-A §1.5–§1.19, §5):
//! what `AT+MIPLOPEN` and friends do on the wire, and what the platform's requests become — as
//! [`Notice`]s a dialect then prints. Where the modules behave differently (who answers a
//! discover, an observe, a write-attributes; how an observe's message ID is formed) the dialect
//! says so in its [`Profile`].
//!
//! It names no dialect and knows nothing of the Modem: it answers through the `Ctx` it is lent.

pub mod fota;
pub mod sota;
pub mod values;

use crate::ctx::Ctx;
use crate::notice::{Event, Notice};
use crate::reply::Reply;
use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType, ResponseType};
use miplcheck_lwm2m::endpoint::{Endpoint, Event as CoapEvent, Params};
use miplcheck_lwm2m::tlv::{self, Tlv};
use miplcheck_lwm2m::{link, wire, ContentFormat, Path};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
pub use values::Part;
use values::{encode_parts, result_code, written_values};

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
    /// The instance stopped (BC39 §4.7 event 10, 停止状态): the network went away under it
    /// (`AT+CFUN=0`), as OneNET's SDK halts its state machine on a network failure. Nothing is
    /// sent or timed any more; the TE's next step is `AT+MIPLDELETE` or a new `AT+MIPLOPEN`.
    Stopped,
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
pub(crate) struct Incoming {
    from: String,
    request: Packet,
    path: Path,
    /// READRSP parts collected so far (index N-1 … 0).
    parts: Vec<Part>,
    /// What the TE was shown.
    notice: Option<Notice>,
    /// When the module stops holding a CON for a piggy-backed answer and ACKs it empty
    /// ([`Profile::separate_after`]); `None` once done, or for a NON or a module without one.
    ack_by: Option<Duration>,
    /// The request was ACKed empty: the answer goes as a separate CON (RFC 7252 §5.2.2).
    separate: bool,
}

#[derive(Debug, Clone)]
struct Observation {
    /// The message ID `+MIPLOBSERVE` gave the TE, which a NOTIFY may quote.
    id: u32,
    path: Path,
    peer: String,
    token: Vec<u8>,
    seq: u32,
    /// The observe request's Accept: what every notification must be in.
    accept: Option<u16>,
}

/// How a dialect's module handles what the manuals leave to the module rather than the TE.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// What the module answers for `/3/0` itself.
    pub manufacturer: &'static str,
    pub model: &'static str,
    /// Whether the TE is shown the module's own answer to a `/3/0` read (M5310-A §5.3.2.4).
    pub device_read_shown: bool,
    /// Observes answered by the module (BC39 `AT+MIPLCONFIG=3,1`; always on M5310-A, §1.18).
    pub observe_autoack: bool,
    pub observe_id: ObserveId,
    /// Write-attributes answered by the module (M5310-A §1.16).
    pub parameter_autoack: bool,
    /// Discovers answered from the lists of [`Profile::discover_lists`] (M5310-A §1.5).
    pub discover_autoanswer: bool,
    /// Object → resource IDs declared with `AT+MIPLDISCOVERRSP` before registering.
    pub discover_lists: BTreeMap<u16, Vec<u16>>,
    /// What happens shortly before the lifetime ends.
    pub renew: Renew,
    pub errors: Errors,
    /// Quirk: a re-sent request the TE has not answered is shown again (see `quirks`).
    pub repeat_unanswered: bool,
    /// What a NOTIFY's message ID that names no observation ever made means.
    pub notify_id: NotifyId,
    /// The Content-Format number TLV goes out under when a request does not ask for one:
    /// [`ContentFormat::Tlv`] (11542) or [`ContentFormat::TlvOld`] (1542).
    pub tlv: ContentFormat,
    /// A request's Accept is honoured: TLV in the number it names, 4.06 for a format the module
    /// cannot produce (RFC 7252 §5.10.4). Off: the module answers in its own format regardless.
    pub honour_accept: bool,
    /// Quirk: an answer to an observe the module already answered itself gets OK.
    pub accept_answered_observe: bool,
    /// How long the module holds a platform's CON request for the TE's answer to go piggy-backed;
    /// past it the request is ACKed empty and the answer, when the TE gives it, travels as a
    /// separate CON response (RFC 7252 §5.2.2) whose ACK is event 21 and whose failure is event
    /// 20 (BC39 §4.7). BC39: 10 s, the time §4.1–§4.6 give the TE to answer each URC. `None`:
    /// piggy-backed however late (M5310-A §5.3.3.2: the platform re-sends and then times out).
    pub separate_after: Option<Duration>,
}

/// How a NOTIFY's `<msgId>` picks the observation it goes out on. In both, an ID naming a live
/// observation picks that one, and one naming a cancelled observation is refused: its token is
/// one the server has dropped, and sending on another observation would mislabel the value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyId {
    /// BC39 §3.2.15: "any 32-bit unsigned number will do, it has no meaning, 0 is advised" — an
    /// ID never given out lets the module find the observation.
    Advisory,
    /// M5310-A §1.9: `<mid>` is the observe's; 0 (as every example sends) lets the module find
    /// it, any other ID never given out is refused.
    Named,
}

/// The error codes the client answers with, in the dialect's family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Errors {
    pub bad_parameter: u16,
    /// UPDATE or CLOSE while not registered.
    pub not_registered: u16,
    /// An answer quoting a message ID nothing is waiting for.
    pub no_such_request: u16,
    /// A NOTIFY for a resource nobody observes.
    pub not_observed: u16,
}

/// The message ID a `+MIPLOBSERVE` carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObserveId {
    /// OneNET SDK on BC39: `(counter << 16) | MID` (BC39 §5.2.2: 78025 = 0x1_30C9).
    CounterAndMid,
    /// The request's MID (M5310-A §5.3.2.4: 39121, then 39122 for the discover).
    Mid,
}

/// Shortly before the lifetime ends (see [`renew_margin`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renew {
    /// Tell the TE an update is needed (BC39 event 14).
    Report,
    /// Send an update without the TE (M5310-A §2.4, `AT+MIPLUPDATESET=0,1`).
    AutoUpdate,
    Quiet,
}

pub struct Client {
    profile: Profile,
    bootstrapped: bool,
    /// Object 5 for a software upgrade, once the TE set a version (BC39 §3.2.17).
    sota: Option<sota::Sota>,
    /// Object 5 for the module's own firmware (FOTA), whenever SOTA does not hold it.
    fota: fota::Fota,
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
    /// IDs of observations the server cancelled (or replaced, or that ended with the
    /// registration): a NOTIFY quoting one is refused.
    cancelled: BTreeSet<u32>,
    /// IDs of observes the module answered itself (obs_autoack): a late TE answer names one.
    autoacked: BTreeSet<u32>,
    observe_counter: u32,
    notify_parts: Vec<Part>,
    /// CON notifications in flight: MID → ackid, and whether to release the radio on the ACK.
    con_notifies: BTreeMap<u16, (u16, bool)>,
    /// Separate CON responses in flight: MID → the TE's message ID (event 20's `<extend>`).
    separate_responses: BTreeMap<u16, u32>,
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
    /// `AT+MIPLDTLSNAT`'s interval (M5310-A §2.7): a DTLS association quiet this long is taken as
    /// aged out of the NAT (event 32) and negotiated again; `None`: never.
    pub dtls_nat: Option<Duration>,
    pub profile: Profile,
    pub sota: Option<sota::Sota>,
}

/// What to do once the DTLS handshake with the current server is done.
#[derive(Debug, Clone, Copy, PartialEq)]
enum AfterHandshake {
    Bootstrap,
    Register,
    /// A re-negotiation while registered: an update tells the platform where the device is now.
    Update,
}

/// The DTLS association with the current server.
struct Secure {
    psk: Vec<u8>,
    session: Option<miplcheck_lwm2m::dtls::Session>,
    then: Option<AfterHandshake>,
    deadline: Option<Duration>,
    /// The re-negotiation interval (`AT+MIPLDTLSNAT`), and when it runs out: the last datagram
    /// on the association, either way, plus the interval.
    nat: Option<Duration>,
    aged_at: Option<Duration>,
}

impl Client {
    /// `AT+MIPLOPEN`: bootstrap (events 1, 2) or connect (4), then register (6).
    pub fn open(a: OpenArgs, ctx: &mut Ctx) -> Client {
        let seed = a
            .endpoint_name
            .bytes()
            .fold(0xB39u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)))
            .wrapping_add(u64::from(a.generation).wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .wrapping_add(u64::from(ctx.basics.boots) << 40);
        let mut c = Client {
            sota: a.sota,
            fota: fota::Fota::after_boot(ctx.basics.fota_result.take()),
            profile: a.profile,
            bootstrapped: false,
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
            cancelled: BTreeSet::new(),
            autoacked: BTreeSet::new(),
            observe_counter: 0,
            notify_parts: vec![],
            con_notifies: BTreeMap::new(),
            separate_responses: BTreeMap::new(),
            release_on_ack: BTreeMap::new(),
            idle_at: None,
            secure: a.psk.map(|psk| Secure {
                psk,
                session: None,
                then: None,
                deadline: None,
                nat: a.dtls_nat,
                aged_at: None,
            }),
            // DTLS gives no answer to a wrong key (RFC 6347 §4.1.2.7): give up after this.
            handshake_limit: Duration::from_secs(4 * a.ack_timeout),
        };
        if a.bootstrap {
            ctx.event(Event::BootstrapStarted);
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
                ctx.event(Event::ConnectFailed);
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
        ctx.event(Event::Connected);
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
        self.dtls_traffic(ctx.now);
    }

    /// A datagram went or came over DTLS: the NAT binding is fresh again.
    fn dtls_traffic(&mut self, now: Duration) {
        if let Some(s) = self.secure.as_mut() {
            s.aged_at = s.nat.filter(|_| s.session.is_some()).map(|n| now + n);
        }
    }

    /// `AT+MIPLDTLSNAT` on an open instance: the new interval counts from now.
    pub fn set_dtls_nat(&mut self, nat: Option<Duration>, now: Duration) {
        if let Some(s) = self.secure.as_mut() {
            s.nat = nat;
        }
        self.dtls_traffic(now);
    }

    /// A registration or update was accepted at `now`: the lifetime starts again.
    fn start_lifetime(&mut self, now: Duration) {
        if let Phase::Registered { renew, expires, .. } = &mut self.phase {
            let life = Duration::from_secs(u64::from(self.lifetime));
            *expires = now + life;
            *renew = Some(now + life - renew_margin(self.lifetime));
        }
    }

    /// The server the client talks to now: after a bootstrap, the one the bootstrap server named
    /// (M5310-A §2.6), with the key it gave.
    pub fn server(&self) -> (&str, Option<&[u8]>) {
        (&self.server, self.secure.as_ref().map(|s| s.psk.as_slice()))
    }

    /// Seconds of lifetime left while registered (M5310-A §2.8), else 0.
    pub fn lifetime_left(&self, now: Duration) -> u64 {
        match &self.phase {
            Phase::Registered { expires, .. } => expires.saturating_sub(now).as_secs(),
            _ => 0,
        }
    }

    /// Between OPEN and the registration's answer (bootstrap included).
    pub fn registering(&self) -> bool {
        matches!(self.phase, Phase::Bootstrapping | Phase::Registering { .. })
    }

    /// Whether a bootstrap server has named the server in use.
    pub fn bootstrapped(&self) -> bool {
        self.bootstrapped
    }

    /// Whether a request with this message ID waits for the TE.
    pub fn is_pending(&self, id: u32) -> bool {
        self.incoming.contains_key(&id)
    }

    /// The value bytes of NOTIFY parts collected but not sent yet.
    pub fn pending_notify_bytes(&self) -> usize {
        self.notify_parts.iter().map(|p| p.value.len()).sum()
    }

    /// Object 5 as the module's firmware update holds it.
    pub fn fota(&self) -> &fota::Fota {
        &self.fota
    }

    pub fn registered(&self) -> bool {
        matches!(self.phase, Phase::Registered { .. })
    }

    /// `AT+MIPLUPDATE=<ref>,<lifetime>,<withObjectFlag>[,<raiMode>]`.
    pub fn update(&mut self, lifetime: u32, with_objects: bool, release: bool, ctx: &mut Ctx) -> Reply {
        let Phase::Registered { location, .. } = &self.phase else {
            return Reply::error(self.profile.errors.not_registered);
        };
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
        let Phase::Registered { location, .. } = self.phase.clone() else {
            return Reply::error(self.profile.errors.not_registered);
        };
        let segs: Vec<&str> = location.split('/').collect();
        self.phase = Phase::Deregistering;
        self.send_mine(request(RequestType::Delete, &segs), Mine::Deregister, ctx);
        Reply::ok()
    }

    pub fn datagram(&mut self, from: &str, bytes: &[u8], ctx: &mut Ctx) {
        if self.phase == Phase::Stopped {
            return;
        }
        let Some(session) = self.secure.as_mut().and_then(|s| s.session.as_mut()) else {
            self.coap(from, bytes, ctx);
            return;
        };
        let progress = session.on_datagram(bytes);
        self.dtls_traffic(ctx.now);
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
                Some(AfterHandshake::Update) => {
                    self.update(self.lifetime, false, false, ctx);
                }
                None => {}
            }
        }
        for plain in progress.plaintext {
            self.coap(from, &plain, ctx);
        }
    }

    fn coap(&mut self, from: &str, bytes: &[u8], ctx: &mut Ctx) {
        let (events, direct) = self.ep.on_datagram(from.to_string(), bytes, ctx.now);
        for d in direct {
            self.transmit(&d.peer, d.bytes, ctx);
        }
        for e in events {
            match e {
                CoapEvent::Request { from, packet } => self.serve(from, packet, ctx),
                CoapEvent::Response { packet, .. } => self.answered(packet, ctx),
                CoapEvent::Acked { mid, .. } => self.acked(mid, true, ctx),
                CoapEvent::Reset { mid, .. } => {
                    // An RST to a notification cancels its observation (RFC 7641 §3.6).
                    self.acked(mid, false, ctx);
                }
                CoapEvent::TimedOut { mid, token, .. } => self.timed_out(mid, &token, ctx),
                CoapEvent::Duplicate { mid, .. } if self.profile.repeat_unanswered => {
                    let again = self
                        .incoming
                        .values()
                        .find(|inc| inc.request.header.message_id == mid)
                        .and_then(|inc| inc.notice.clone());
                    if let Some(n) = again {
                        ctx.notice(n);
                    }
                }
                CoapEvent::Duplicate { .. } | CoapEvent::Malformed { .. } => {}
            }
        }
    }

    pub fn poll(&mut self, ctx: &mut Ctx) {
        if self.phase == Phase::Stopped {
            return;
        }
        if ctx.basics.cfun == 0 {
            self.stop(ctx);
            return;
        }
        self.ack_held_requests(ctx);
        let aged = self.registered()
            && self.secure.as_ref().is_some_and(|s| s.then.is_none() && s.aged_at.is_some_and(|t| ctx.now >= t));
        if aged {
            // M5310-A §4.2 event 32 (DTLS IP 老化), then §2.7's re-negotiation.
            ctx.event(Event::DtlsAged);
            self.handshake(AfterHandshake::Update, ctx);
        }
        if let Some(sec) = self.secure.as_mut() {
            if sec.deadline.is_some_and(|t| ctx.now >= t) {
                // BC39 §4.7 event 5: the connection (here: the DTLS handshake) failed.
                sec.deadline = None;
                sec.session = None;
                sec.then = None;
                self.phase = Phase::Deregistering;
                ctx.event(Event::ConnectFailed);
            }
        }
        let (events, resend) = self.ep.poll(ctx.now);
        for d in resend {
            self.transmit(&d.peer, d.bytes, ctx);
        }
        for e in events {
            if let CoapEvent::TimedOut { mid, token, .. } = e {
                self.timed_out(mid, &token, ctx);
            }
        }
        if let Phase::Registering { deadline } = self.phase {
            if ctx.now >= deadline {
                ctx.event(Event::RegisterTimeout);
                self.phase = Phase::Deregistering;
            }
        }
        let mut auto_update = false;
        if let Phase::Registered { renew, expires, .. } = &mut self.phase {
            if renew.is_some_and(|t| ctx.now >= t) {
                *renew = None;
                let left = expires.saturating_sub(ctx.now).as_secs();
                match self.profile.renew {
                    Renew::Report => ctx.event(Event::UpdateNeeded { left }),
                    Renew::AutoUpdate => auto_update = true,
                    Renew::Quiet => {}
                }
            }
            if ctx.now >= *expires {
                self.phase = Phase::Deregistering;
                self.end_observations(|_| true);
                ctx.event(Event::LifetimeOver);
            }
        }
        if auto_update {
            // M5310-A §2.4: sent once; if it fails the lifetime simply runs out.
            self.update(self.lifetime, false, false, ctx);
        }
        self.fota_poll(ctx);
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

    /// The instance stops (event 10): every exchange dropped, no deregistration (there is no
    /// network to send it on), nothing timed any more.
    fn stop(&mut self, ctx: &mut Ctx) {
        self.phase = Phase::Stopped;
        self.end_observations(|_| true);
        self.incoming.clear();
        self.mine.clear();
        self.con_notifies.clear();
        self.separate_responses.clear();
        self.release_on_ack.clear();
        self.idle_at = None;
        if let Some(s) = self.secure.as_mut() {
            s.session = None;
            s.then = None;
            s.deadline = None;
            s.aged_at = None;
        }
        self.ep = Endpoint::new(self.ep.params(), 0);
        ctx.event(Event::Halted);
    }

    /// Whether the instance stopped (event 10).
    pub fn stopped(&self) -> bool {
        self.phase == Phase::Stopped
    }

    pub fn next_deadline(&self) -> Option<Duration> {
        if self.phase == Phase::Stopped {
            return None;
        }
        let held = self.incoming.values().filter_map(|i| i.ack_by).min();
        let (a, b) = match &self.phase {
            Phase::Registering { deadline } => (Some(*deadline), None),
            Phase::Registered { renew, expires, .. } => (*renew, Some(*expires)),
            _ => (None, None),
        };
        let hs = self.secure.as_ref().and_then(|s| s.deadline);
        let aged = self.secure.as_ref().and_then(|s| s.aged_at).filter(|_| self.registered());
        [self.ep.next_deadline(), a, b, self.idle_at, hs, self.fota.deadline(), held, aged].into_iter().flatten().min()
    }

    fn answered(&mut self, p: Packet, ctx: &mut Ctx) {
        let Some(why) = self.mine.remove(p.get_token()) else { return };
        // 2.xx is success; the code's class is its top three bits on the wire.
        let ok = matches!(p.header.code, MessageClass::Response(_)) && u8::from(p.header.code) >> 5 == 2;
        match why {
            Mine::Bootstrap => ctx.event(if ok { Event::BootstrapDone } else { Event::BootstrapFailed }),
            Mine::Register if ok => {
                let mut loc = wire::strings(&p, CoapOption::LocationPath);
                if loc.is_empty() {
                    loc.push("rd".into());
                }
                self.phase = Phase::Registered { location: loc.join("/"), renew: None, expires: Duration::ZERO };
                self.start_lifetime(ctx.now);
                ctx.event(Event::Registered);
                self.fota_registered(ctx);
            }
            Mine::Register => {
                self.phase = Phase::Deregistering;
                ctx.event(Event::RegisterFailed);
            }
            Mine::Update if p.header.code == MessageClass::Response(ResponseType::NotFound) => {
                // The platform no longer knows the registration (LwM2M 1.0 §8.2.5: 4.04 to an
                // update): it deleted the device, which is registered no more.
                self.phase = Phase::Deregistering;
                self.end_observations(|_| true);
                ctx.event(Event::Deleted);
            }
            Mine::Update => {
                if ok {
                    self.start_lifetime(ctx.now);
                }
                ctx.event(if ok { Event::UpdateDone } else { Event::UpdateFailed })
            }
            Mine::Deregister => {
                self.end_observations(|_| true);
                ctx.event(Event::Deregistered);
            }
        }
        if self.release_on_ack.remove(&p.header.message_id).is_some() {
            ctx.release();
        }
    }

    fn acked(&mut self, mid: u16, ok: bool, ctx: &mut Ctx) {
        if let Some(msg_id) = self.separate_responses.remove(&mid) {
            ctx.event(if ok { Event::ResponseDone { msg_id } } else { Event::ResponseFailed { msg_id } });
        }
        if let Some((ackid, release)) = self.con_notifies.remove(&mid) {
            ctx.event(if ok { Event::NotifyAcked { ackid } } else { Event::NotifyFailed { ackid } });
            if release {
                ctx.release();
            }
        }
    }

    fn timed_out(&mut self, mid: u16, token: &[u8], ctx: &mut Ctx) {
        if let Some(msg_id) = self.separate_responses.remove(&mid) {
            ctx.event(Event::ResponseFailed { msg_id });
        }
        if let Some((ackid, _)) = self.con_notifies.remove(&mid) {
            ctx.event(Event::NotifyFailed { ackid });
        }
        match self.mine.remove(token) {
            Some(Mine::Bootstrap) => ctx.event(Event::BootstrapFailed),
            Some(Mine::Register) => {
                self.phase = Phase::Deregistering;
                ctx.event(Event::RegisterFailed);
            }
            Some(Mine::Update) => ctx.event(Event::UpdateTimeout),
            Some(Mine::Deregister) => ctx.event(Event::Deregistered),
            None => {}
        }
    }

    /// A request from the platform: bootstrap writes, or an operation for the TE.
    fn serve(&mut self, from: String, req: Packet, ctx: &mut Ctx) {
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
        let msg_id = u32::from(mid);
        if self.sota_request(&from, &req, path, ctx) || self.fota_request(&from, &req, path, ctx) {
            return;
        }
        let profile = self.profile.clone();
        let pending = |req: Packet, from: String, n: Notice, ctx: &mut Ctx| {
            ctx.notice(n.clone());
            let con = req.header.get_type() == MessageType::Confirmable;
            let ack_by = profile.separate_after.filter(|_| con).map(|d| ctx.now + d);
            Incoming { from, request: req, path, parts: vec![], notice: Some(n), ack_by, separate: false }
        };
        match (method, observe) {
            (RequestType::Get, _) if path == Path::instance(3, 0) => {
                // The module answers the device object itself.
                let body = tlv::encode(&[
                    Tlv::resource(0, profile.manufacturer.as_bytes().to_vec()),
                    Tlv::resource(1, profile.model.as_bytes().to_vec()),
                    Tlv::resource(2, self.endpoint_name.split(';').next().unwrap_or("").as_bytes().to_vec()),
                ]);
                if profile.device_read_shown {
                    ctx.notice(Notice::Read { mid, path, answered: true });
                }
                self.reply(&from, &req, ResponseType::Content, Some((ContentFormat::Tlv, body)), ctx);
            }
            (RequestType::Get, Some(flag)) => {
                self.observe_counter += 1;
                let id = match profile.observe_id {
                    ObserveId::CounterAndMid => (self.observe_counter << 16) | msg_id,
                    ObserveId::Mid => msg_id,
                };
                let on = flag == 0;
                let shown = Notice::Observe { id, on, path, answered: profile.observe_autoack };
                self.end_observations(|ob| ob.path == path);
                if on {
                    self.observations.push(Observation {
                        id,
                        path,
                        peer: from.clone(),
                        token: req.get_token().to_vec(),
                        seq: 0,
                        accept: wire::number(&req, CoapOption::Accept),
                    });
                }
                if profile.observe_autoack {
                    self.autoacked.insert(id);
                    ctx.notice(shown);
                    self.reply(&from, &req, ResponseType::Content, None, ctx);
                } else {
                    self.incoming.insert(id, pending(req, from, shown, ctx));
                }
            }
            (RequestType::Get, None) if accept_link => match profile.discover_lists.get(&path.object) {
                Some(resources) if profile.discover_autoanswer => {
                    ctx.notice(Notice::Discover { mid, object: path.object, answered: true });
                    match self.discover_body(&path, resources) {
                        Some(body) => self.reply(&from, &req, ResponseType::Content, Some(body), ctx),
                        None => self.reply(&from, &req, ResponseType::NotFound, None, ctx),
                    }
                }
                None if profile.discover_autoanswer => {
                    ctx.notice(Notice::Discover { mid, object: path.object, answered: true });
                    self.reply(&from, &req, ResponseType::NotFound, None, ctx);
                }
                _ => {
                    let n = Notice::Discover { mid, object: path.object, answered: false };
                    self.incoming.insert(msg_id, pending(req, from, n, ctx));
                }
            },
            (RequestType::Get, None) => {
                let n = Notice::Read { mid, path, answered: false };
                self.incoming.insert(msg_id, pending(req, from, n, ctx));
            }
            (RequestType::Put, _) if req.payload.is_empty() && !queries.is_empty() => {
                let params = queries.join(";");
                let n = Notice::Parameter { mid, path, params, answered: profile.parameter_autoack };
                if profile.parameter_autoack {
                    ctx.notice(n);
                    self.reply(&from, &req, ResponseType::Changed, None, ctx);
                } else {
                    self.incoming.insert(msg_id, pending(req, from, n, ctx));
                }
            }
            (RequestType::Post, _) if path.resource.is_some() => {
                let args = String::from_utf8_lossy(&req.payload).into_owned();
                let n = Notice::Execute { mid, path, args };
                self.incoming.insert(msg_id, pending(req, from, n, ctx));
            }
            (RequestType::Put | RequestType::Post, _) => {
                let values = written_values(&req, path);
                if values.is_empty() {
                    self.reply(&from, &req, ResponseType::BadRequest, None, ctx);
                    return;
                }
                let format = wire::number(&req, CoapOption::ContentFormat).map(ContentFormat::from_number);
                let n = Notice::Write { mid, path, format, values };
                self.incoming.insert(msg_id, pending(req, from, n, ctx));
            }
            _ => self.reply(&from, &req, ResponseType::MethodNotAllowed, None, ctx),
        }
    }

    /// The discover answer for `path`'s scope; `None` (4.04) when it names what is not there.
    fn discover_body(&self, path: &Path, resources: &[u16]) -> Option<(ContentFormat, Vec<u8>)> {
        let instances: Vec<u16> =
            self.objects.iter().filter(|p| p.object == path.object).filter_map(|p| p.instance).collect();
        link::discover(path, &instances, resources).map(|t| (ContentFormat::Link, t.into_bytes()))
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
                    // LwM2M Security object resource 5: the key for the server it names. OneNET's
                    // bootstrap server hands out a fresh one each time (M5310-A §5.4.2.1).
                    let key = items.iter().find(|t| t.id == 5).and_then(|t| t.bytes()).filter(|k| !k.is_empty());
                    if let (Some(k), Some(sec)) = (key, self.secure.as_mut()) {
                        sec.psk = k.to_vec();
                    }
                }
                self.reply(from, req, ResponseType::Changed, None, ctx);
            }
            (RequestType::Put, _) => self.reply(from, req, ResponseType::Changed, None, ctx),
            // LwM2M 1.0 §5.2.7.5: a bootstrap Delete is answered 2.02 Deleted (Wakaama stops at 2.04).
            (RequestType::Delete, _) => self.reply(from, req, ResponseType::Deleted, None, ctx),
            (RequestType::Post, ["bs"]) => {
                self.bootstrapped = true;
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
        let p = self.answer_packet(req, code, body);
        if let Ok(d) = self.ep.respond(to.to_string(), req, p, ctx.now) {
            self.transmit(&d.peer, d.bytes, ctx);
        }
    }

    /// The TE's answer to a request the module already ACKed empty: a separate CON response with
    /// the request's token (RFC 7252 §5.2.2). Its ACK is event 21, an RST or running out of
    /// retransmissions event 20 with the TE's message ID (BC39 §4.7).
    fn reply_separately(
        &mut self,
        inc: &Incoming,
        msg_id: u32,
        code: ResponseType,
        body: Option<(ContentFormat, Vec<u8>)>,
        ctx: &mut Ctx,
    ) {
        let mut p = self.answer_packet(&inc.request, code, body);
        p.header.set_type(MessageType::Confirmable);
        p.set_token(inc.request.get_token().to_vec());
        match self.ep.send(inc.from.clone(), p, ctx.now) {
            Ok((mid, d)) => {
                self.separate_responses.insert(mid, msg_id);
                self.transmit(&d.peer, d.bytes, ctx);
            }
            Err(_) => ctx.event(Event::ResponseFailed { msg_id }),
        }
    }

    /// Requests held past [`Profile::separate_after`] are ACKed empty, so the platform stops
    /// re-sending while the TE takes its time.
    fn ack_held_requests(&mut self, ctx: &mut Ctx) {
        let due: Vec<u32> =
            self.incoming.iter().filter(|(_, i)| i.ack_by.is_some_and(|t| ctx.now >= t)).map(|(id, _)| *id).collect();
        for id in due {
            let Some(inc) = self.incoming.get_mut(&id) else { continue };
            inc.ack_by = None;
            inc.separate = true;
            let (from, mid) = (inc.from.clone(), inc.request.header.message_id);
            let d = self.ep.empty_ack(from, mid, ctx.now);
            self.transmit(&d.peer, d.bytes, ctx);
        }
    }

    /// An answer to `req`: the code, the body in the format the request accepts (4.06 when it
    /// cannot be), Observe 0 on a successful observe.
    fn answer_packet(&self, req: &Packet, code: ResponseType, body: Option<(ContentFormat, Vec<u8>)>) -> Packet {
        let mut p = Packet::new();
        let mut code = code;
        if let Some((cf, b)) = body {
            match self.wire_format(cf, wire::number(req, CoapOption::Accept)) {
                Some(n) => {
                    p.add_option(CoapOption::ContentFormat, n.to_be_bytes().to_vec());
                    p.payload = b;
                }
                None => code = ResponseType::NotAcceptable,
            }
        }
        p.header.code = MessageClass::Response(code);
        if req.get_observe_value().and_then(Result::ok) == Some(0) && code == ResponseType::Content {
            p.set_observe_value(0);
        }
        p
    }

    /// The TE's answer to a URC: `AT+MIPL…RSP=<ref>,<msgId>,<result>…`.
    pub fn te_answer(&mut self, kind: Answer, msg_id: u32, result: i64, ctx: &mut Ctx) -> Reply {
        let Some(code) = result_code(result) else { return Reply::error(self.profile.errors.bad_parameter) };
        let Some(inc) = self.incoming.get_mut(&msg_id) else {
            if self.profile.accept_answered_observe && self.autoacked.contains(&msg_id) {
                return Reply::ok();
            }
            return Reply::error(self.profile.errors.no_such_request);
        };
        let mut code = code;
        let body = match kind {
            Answer::Discover(resources) if code == ResponseType::Content => {
                let instances: Vec<u16> =
                    self.objects.iter().filter(|p| p.object == inc.path.object).filter_map(|p| p.instance).collect();
                let scoped = link::discover(&inc.path, &instances, &resources);
                if scoped.is_none() {
                    code = ResponseType::NotFound;
                }
                scoped.map(|t| (ContentFormat::Link, t.into_bytes()))
            }
            Answer::Read(part, index) if code == ResponseType::Content => {
                inc.parts.push(part);
                if index > 0 {
                    return Reply::ok();
                }
                let accept = wire::number(&inc.request, CoapOption::Accept);
                let tlv_asked = tlv_asked(self.profile.honour_accept, accept);
                Some(encode_parts(inc.path, &std::mem::take(&mut inc.parts), tlv_asked))
            }
            _ => None,
        };
        let inc = self.incoming.remove(&msg_id).expect("looked up above");
        if inc.separate {
            self.reply_separately(&inc, msg_id, code, body, ctx);
        } else {
            self.reply(&inc.from, &inc.request, code, body, ctx);
        }
        Reply::ok()
    }

    /// The Content-Format number an answer in `cf` goes out under, given the request's Accept;
    /// `None` when the request asked for a format the module cannot produce.
    fn wire_format(&self, cf: ContentFormat, accept: Option<u16>) -> Option<u16> {
        let own = if cf.is_tlv() { self.profile.tlv } else { cf };
        match accept.filter(|_| self.profile.honour_accept) {
            None => Some(own.number()),
            Some(a) if a == own.number() => Some(a),
            // Both numbers name the same bytes: serve the one asked for.
            Some(a) if cf.is_tlv() && ContentFormat::from_number(a).is_tlv() => Some(a),
            Some(_) => None,
        }
    }

    /// Drops the observations `which` selects, remembering their IDs as cancelled.
    fn end_observations(&mut self, which: impl Fn(&Observation) -> bool) {
        let (gone, kept) = std::mem::take(&mut self.observations).into_iter().partition(|o| which(o));
        self.observations = kept;
        self.cancelled.extend(gone.iter().map(|o: &Observation| o.id));
    }

    /// The observation a NOTIFY of `path` quoting `msg_id` goes out on (see [`NotifyId`]). When
    /// the module finds it, the narrowest observation holding `path` wins: with `/3311/0` and
    /// `/3311/0/5805` both observed, a value of 5805 answers the one that asked for 5805.
    fn observation_for(&self, msg_id: u32, path: &Path) -> Result<usize, Reply> {
        let refused = Reply::error(self.profile.errors.no_such_request);
        if let Some(i) = self.observations.iter().position(|o| o.id == msg_id) {
            return if self.observations[i].path.contains(path) {
                Ok(i)
            } else {
                Err(Reply::error(self.profile.errors.not_observed))
            };
        }
        let may_find = msg_id == 0 || self.profile.notify_id == NotifyId::Advisory;
        if self.cancelled.contains(&msg_id) || !may_find {
            return Err(refused);
        }
        let depth = |p: &Path| usize::from(p.instance.is_some()) + usize::from(p.resource.is_some());
        self.observations
            .iter()
            .enumerate()
            .filter(|(_, o)| o.path.contains(path))
            .max_by_key(|(_, o)| depth(&o.path))
            .map(|(i, _)| i)
            .ok_or_else(|| Reply::error(self.profile.errors.not_observed))
    }

    /// `AT+MIPLNOTIFY`: collect until the `last` part, then send on the observation `msg_id`
    /// picks. `rai`: 0x200 releases the radio once sent, 0x400 once acknowledged.
    #[allow(clippy::too_many_arguments)]
    pub fn notify(
        &mut self,
        msg_id: u32,
        part: Part,
        last: bool,
        ackid: Option<u16>,
        rai: u32,
        ctx: &mut Ctx,
    ) -> Reply {
        let ob = match self.observation_for(msg_id, &part.path) {
            Ok(i) => i,
            Err(r) => return r,
        };
        self.notify_parts.push(part);
        if !last {
            return Reply::ok();
        }
        let parts = std::mem::take(&mut self.notify_parts);
        let (peer, token, path, accept) = {
            let o = &mut self.observations[ob];
            o.seq += 1;
            (o.peer.clone(), o.token.clone(), o.path, o.accept)
        };
        let seq = self.observations[ob].seq;
        let (cf, body) = encode_parts(path, &parts, tlv_asked(self.profile.honour_accept, accept));
        let mut p = Packet::new();
        p.header.set_type(if ackid.is_some() { MessageType::Confirmable } else { MessageType::NonConfirmable });
        p.set_token(token);
        match self.wire_format(cf, accept) {
            Some(n) => {
                p.header.code = MessageClass::Response(ResponseType::Content);
                p.set_observe_value(seq);
                p.add_option(CoapOption::ContentFormat, n.to_be_bytes().to_vec());
                p.payload = body;
            }
            None => {
                // RFC 7641 §3.2: an error response ends the observation at the server.
                p.header.code = MessageClass::Response(ResponseType::NotAcceptable);
                let id = self.observations[ob].id;
                self.end_observations(|o| o.id == id);
            }
        }
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
            Err(_) => Reply::error(self.profile.errors.bad_parameter),
        }
    }
}

/// Which answer the TE gave.
pub enum Answer {
    Discover(Vec<u16>),
    Read(Part, i64),
    Plain,
}

fn request(method: RequestType, path: &[&str]) -> Packet {
    let mut p = Packet::new();
    p.header.code = MessageClass::Request(method);
    for s in path {
        p.add_option(CoapOption::UriPath, s.as_bytes().to_vec());
    }
    p
}

/// Whether a request's Accept asks for TLV (under either number) and the module honours Accept.
fn tlv_asked(honour_accept: bool, accept: Option<u16>) -> bool {
    honour_accept && accept.is_some_and(|a| ContentFormat::from_number(a).is_tlv())
}
