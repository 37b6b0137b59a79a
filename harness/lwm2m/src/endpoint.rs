//! A CoAP endpoint (RFC 7252 §4) with no I/O and no clock: datagrams and the time go in, datagrams
//! and events come out. The emulator's network side and the mock platform both use it, over tokio
//! UDP in real time or over an in-process link in virtual time.
//!
//! It handles what every LwM2M peer needs and OneNET relies on: message IDs and tokens, CON
//! retransmission with exponential back-off from ACK_TIMEOUT (what `AT+MIPLCONFIG=2,<t>` sets),
//! duplicate detection that answers a repeated CON with the cached answer, empty ACKs, RST, and
//! delayed piggy-backed answers (the device ACKs a READ with the data when the MCU has answered
//! `AT+MIPLREADRSP`, seconds later).

use coap_lite::{MessageClass, MessageType, Packet};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Debug;
use std::time::Duration;

/// RFC 7252 §4.8 transmission parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    pub ack_timeout: Duration,
    pub ack_random_factor: f64,
    pub max_retransmit: u32,
    /// How long a message ID is remembered for duplicate detection (EXCHANGE_LIFETIME).
    pub exchange_lifetime: Duration,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            ack_timeout: Duration::from_secs(2),
            ack_random_factor: 1.5,
            max_retransmit: 4,
            exchange_lifetime: Duration::from_secs(247),
        }
    }
}

impl Params {
    /// The parameters with ACK_TIMEOUT set, as `AT+MIPLCONFIG=2,<t>` does.
    pub fn with_ack_timeout(secs: u64) -> Self {
        Params { ack_timeout: Duration::from_secs(secs), ..Self::default() }
    }

    /// MAX_TRANSMIT_WAIT: how long a CON is tried before giving up (BC39 §3.2.1 gives the
    /// formula ACK_TIMEOUT × (2^(MAX_RETRANSMIT+1) − 1) × ACK_RANDOM_FACTOR).
    pub fn max_transmit_wait(&self) -> Duration {
        self.ack_timeout.mul_f64(((1u64 << (self.max_retransmit + 1)) - 1) as f64 * self.ack_random_factor)
    }
}

/// Why the endpoint could not send a message.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum EndpointError {
    /// The message does not encode (over coap-lite's `Packet::MAX_SIZE`); the message shows the
    /// encoder's error as `Debug`, as it always has.
    #[error("cannot encode CoAP message: {0:?}")]
    Encode(#[source] coap_lite::error::MessageError),
}

/// A datagram to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Datagram<P> {
    pub peer: P,
    pub bytes: Vec<u8>,
}

/// What happened, for the application.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<P> {
    /// A request (CON or NON) arrived; answer a CON with [`Endpoint::respond`].
    Request { from: P, packet: Packet },
    /// The answer to one of our requests (piggy-backed, separate, or a notification).
    Response { from: P, packet: Packet },
    /// An empty ACK for one of our CONs.
    Acked { from: P, mid: u16 },
    /// An RST for one of our messages (for a notification: the observer is gone).
    Reset { from: P, mid: u16 },
    /// One of our CONs got no ACK after every retransmission.
    TimedOut { to: P, mid: u16, token: Vec<u8> },
    /// A CON we already had; answered again from the cache, or ignored if not yet answered.
    Duplicate { from: P, mid: u16 },
    /// Bytes that are not a CoAP message.
    Malformed { from: P, why: String },
}

/// How many received message IDs are remembered for duplicate detection at most; past it the
/// oldest are forgotten before their EXCHANGE_LIFETIME (a flood cannot grow the cache without end).
pub const MAX_SEEN: usize = 16_384;

#[derive(Debug, Clone)]
struct Outgoing {
    /// Order of sending: retransmissions due together go out in this order.
    seq: u64,
    token: Vec<u8>,
    bytes: Vec<u8>,
    retransmits: u32,
    timeout: Duration,
    due: Duration,
}

#[derive(Debug, Clone)]
struct Seen {
    at: Duration,
    /// The answer we sent to it, sent again when it repeats.
    answer: Option<Vec<u8>>,
}

pub struct Endpoint<P> {
    params: Params,
    next_mid: u16,
    next_token: u32,
    rng: u64,
    /// CONs waiting for their ACK, by peer and MID.
    outgoing: BTreeMap<(P, u16), Outgoing>,
    /// The same CONs by when they are due: (due, seq, peer, mid).
    deadlines: BTreeSet<(Duration, u64, P, u16)>,
    next_seq: u64,
    seen: BTreeMap<(P, u16), Seen>,
    /// `seen` in the order remembered, for expiry and the [`MAX_SEEN`] cap without scans.
    seen_order: VecDeque<(Duration, P, u16)>,
}

impl<P: Clone + Ord + Debug> Endpoint<P> {
    /// `seed` fixes message IDs, tokens and retransmission jitter, so runs are reproducible.
    pub fn new(params: Params, seed: u64) -> Self {
        let mut e = Endpoint {
            params,
            next_mid: 0,
            next_token: 0,
            rng: seed | 1,
            outgoing: BTreeMap::new(),
            deadlines: BTreeSet::new(),
            next_seq: 0,
            seen: BTreeMap::new(),
            seen_order: VecDeque::new(),
        };
        e.next_mid = e.random() as u16;
        e.next_token = e.random() as u32;
        e
    }

    pub fn params(&self) -> Params {
        self.params
    }

    /// Changes ACK_TIMEOUT for messages sent from now on.
    pub fn set_params(&mut self, params: Params) {
        self.params = params;
    }

    fn random(&mut self) -> u64 {
        // xorshift64*: reproducible jitter, not security.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn new_mid(&mut self) -> u16 {
        self.next_mid = self.next_mid.wrapping_add(1);
        self.next_mid
    }

    pub fn new_token(&mut self) -> Vec<u8> {
        self.next_token = self.next_token.wrapping_add(1);
        self.next_token.to_be_bytes().to_vec()
    }

    /// Sends a message. Its MID is set here; a CON is retransmitted until ACKed or timed out.
    /// Returns the MID and the datagram.
    pub fn send(&mut self, peer: P, mut packet: Packet, now: Duration) -> Result<(u16, Datagram<P>), EndpointError> {
        let mid = self.new_mid();
        packet.header.message_id = mid;
        let bytes = packet.to_bytes().map_err(EndpointError::Encode)?;
        if packet.header.get_type() == MessageType::Confirmable {
            let jitter = 1.0 + (self.random() % 1000) as f64 / 1000.0 * (self.params.ack_random_factor - 1.0);
            let timeout = self.params.ack_timeout.mul_f64(jitter);
            self.next_seq += 1;
            let o = Outgoing {
                seq: self.next_seq,
                token: packet.get_token().to_vec(),
                bytes: bytes.clone(),
                retransmits: 0,
                timeout,
                due: now + timeout,
            };
            // A MID still waiting from 65,536 sends ago is superseded.
            self.cancel(&peer, mid);
            self.deadlines.insert((o.due, o.seq, peer.clone(), mid));
            self.outgoing.insert((peer.clone(), mid), o);
        }
        Ok((mid, Datagram { peer, bytes }))
    }

    /// Answers a request: a piggy-backed ACK for a CON (same MID and token, whenever the answer
    /// is ready), a NON for a NON. The answer is cached against duplicates of the request.
    pub fn respond(
        &mut self,
        to: P,
        request: &Packet,
        mut response: Packet,
        now: Duration,
    ) -> Result<Datagram<P>, EndpointError> {
        response.set_token(request.get_token().to_vec());
        let con = request.header.get_type() == MessageType::Confirmable;
        if con {
            response.header.set_type(MessageType::Acknowledgement);
            response.header.message_id = request.header.message_id;
        } else {
            response.header.set_type(MessageType::NonConfirmable);
            response.header.message_id = self.new_mid();
        }
        let bytes = response.to_bytes().map_err(EndpointError::Encode)?;
        if con {
            self.remember(to.clone(), request.header.message_id, Seen { at: now, answer: Some(bytes.clone()) });
        }
        Ok(Datagram { peer: to, bytes })
    }

    /// An empty ACK for a CON we will answer separately, or to acknowledge a CON notification.
    pub fn empty_ack(&mut self, to: P, mid: u16, now: Duration) -> Datagram<P> {
        let mut p = Packet::new();
        p.header.set_type(MessageType::Acknowledgement);
        p.header.code = MessageClass::Empty;
        p.header.message_id = mid;
        let bytes = p.to_bytes().expect("an empty message encodes");
        self.remember(to.clone(), mid, Seen { at: now, answer: Some(bytes.clone()) });
        Datagram { peer: to, bytes }
    }

    /// An RST for a message we do not want (an unknown notification).
    pub fn reset(&mut self, to: P, mid: u16) -> Datagram<P> {
        let mut p = Packet::new();
        p.header.set_type(MessageType::Reset);
        p.header.code = MessageClass::Empty;
        p.header.message_id = mid;
        Datagram { peer: to, bytes: p.to_bytes().expect("an empty message encodes") }
    }

    /// A datagram arrived.
    pub fn on_datagram(&mut self, from: P, bytes: &[u8], now: Duration) -> (Vec<Event<P>>, Vec<Datagram<P>>) {
        let packet = match Packet::from_bytes(bytes) {
            Ok(p) => p,
            Err(e) => return (vec![Event::Malformed { from, why: format!("{e:?}") }], vec![]),
        };
        let mid = packet.header.message_id;
        match packet.header.get_type() {
            MessageType::Acknowledgement | MessageType::Reset => {
                if !self.cancel(&from, mid) {
                    // An ACK for something we no longer wait for: a late duplicate. Nothing to do.
                    return (vec![], vec![]);
                }
                let ev = if packet.header.get_type() == MessageType::Reset {
                    Event::Reset { from, mid }
                } else if packet.header.code == MessageClass::Empty {
                    Event::Acked { from, mid }
                } else {
                    Event::Response { from, packet }
                };
                (vec![ev], vec![])
            }
            MessageType::Confirmable | MessageType::NonConfirmable => {
                let con = packet.header.get_type() == MessageType::Confirmable;
                self.expire(now);
                if let Some(seen) = self.seen.get(&(from.clone(), mid)) {
                    let again = seen.answer.clone().map(|b| Datagram { peer: from.clone(), bytes: b });
                    return (vec![Event::Duplicate { from, mid }], again.into_iter().collect());
                }
                self.remember(from.clone(), mid, Seen { at: now, answer: None });
                let is_request = matches!(packet.header.code, MessageClass::Request(_));
                if is_request {
                    (vec![Event::Request { from, packet }], vec![])
                } else if packet.header.code == MessageClass::Empty {
                    // A CON ping: answer with RST (RFC 7252 §4.3).
                    let rst = self.reset(from, mid);
                    (vec![], if con { vec![rst] } else { vec![] })
                } else {
                    // A separate response or a notification: a CON one is ACKed at once.
                    let acks = if con { vec![self.empty_ack(from.clone(), mid, now)] } else { vec![] };
                    (vec![Event::Response { from, packet }], acks)
                }
            }
        }
    }

    /// Retransmissions and time-outs due by `now`.
    pub fn poll(&mut self, now: Duration) -> (Vec<Event<P>>, Vec<Datagram<P>>) {
        let mut events = vec![];
        let mut out = vec![];
        let max = self.params.max_retransmit;
        let mut due: Vec<(Duration, u64, P, u16)> = vec![];
        while let Some(first) = self.deadlines.first() {
            if first.0 > now {
                break;
            }
            due.extend(self.deadlines.pop_first());
        }
        // In the order sent, as when they were one list.
        due.sort_by_key(|d| d.1);
        for (_, _, peer, mid) in due {
            let key = (peer, mid);
            let Some(o) = self.outgoing.get_mut(&key) else { continue };
            if o.retransmits >= max {
                let token = std::mem::take(&mut o.token);
                self.outgoing.remove(&key);
                events.push(Event::TimedOut { to: key.0, mid, token });
                continue;
            }
            o.retransmits += 1;
            o.timeout *= 2;
            o.due = now + o.timeout;
            out.push(Datagram { peer: key.0.clone(), bytes: o.bytes.clone() });
            self.deadlines.insert((o.due, o.seq, key.0, mid));
        }
        self.expire(now);
        (events, out)
    }

    /// When [`Endpoint::poll`] next has something to do.
    pub fn next_deadline(&self) -> Option<Duration> {
        self.deadlines.first().map(|d| d.0)
    }

    /// CONs still waiting for their ACK.
    pub fn in_flight(&self) -> usize {
        self.outgoing.len()
    }

    /// Stops retransmitting the CON `mid` to `peer` (its answer no longer matters: the device
    /// is gone). Whether it was still waiting.
    pub fn cancel(&mut self, peer: &P, mid: u16) -> bool {
        let key = (peer.clone(), mid);
        match self.outgoing.remove(&key) {
            Some(o) => {
                self.deadlines.remove(&(o.due, o.seq, key.0, mid));
                true
            }
            None => false,
        }
    }

    /// Stops retransmitting every CON to `peer`; how many there were.
    pub fn cancel_peer(&mut self, peer: &P) -> usize {
        let mids: Vec<u16> =
            self.outgoing.range((peer.clone(), 0)..=(peer.clone(), u16::MAX)).map(|((_, mid), _)| *mid).collect();
        mids.iter().filter(|mid| self.cancel(peer, **mid)).count()
    }

    /// Message IDs remembered for duplicate detection.
    pub fn remembered(&self) -> usize {
        self.seen.len()
    }

    fn remember(&mut self, peer: P, mid: u16, seen: Seen) {
        self.seen_order.push_back((seen.at, peer.clone(), mid));
        self.seen.insert((peer, mid), seen);
        while self.seen.len() > MAX_SEEN {
            let Some((at, peer, mid)) = self.seen_order.pop_front() else { break };
            let key = (peer, mid);
            if self.seen.get(&key).is_some_and(|s| s.at == at) {
                self.seen.remove(&key);
            }
        }
    }

    fn expire(&mut self, now: Duration) {
        let life = self.params.exchange_lifetime;
        while let Some((at, _, _)) = self.seen_order.front() {
            if now.saturating_sub(*at) < life {
                break;
            }
            let Some((at, peer, mid)) = self.seen_order.pop_front() else { break };
            let key = (peer, mid);
            // Remembered again since (its answer was cached): a later entry expires it.
            if self.seen.get(&key).is_some_and(|s| s.at == at) {
                self.seen.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use coap_lite::{CoapOption, RequestType, ResponseType};

    type Ep = Endpoint<&'static str>;

    fn get(path: &str, con: bool) -> Packet {
        let mut p = Packet::new();
        p.header.set_type(if con { MessageType::Confirmable } else { MessageType::NonConfirmable });
        p.header.code = MessageClass::Request(RequestType::Get);
        p.set_token(vec![1, 2, 3, 4]);
        for seg in path.split('/').filter(|s| !s.is_empty()) {
            p.add_option(CoapOption::UriPath, seg.as_bytes().to_vec());
        }
        p
    }

    fn content(payload: &[u8]) -> Packet {
        let mut p = Packet::new();
        p.header.code = MessageClass::Response(ResponseType::Content);
        p.payload = payload.to_vec();
        p
    }

    const S: Duration = Duration::from_secs(1);

    #[test]
    fn a_con_request_answered_late_with_a_piggy_backed_ack() {
        let mut platform = Ep::new(Params::default(), 7);
        let mut device = Ep::new(Params::default(), 9);
        let (mid, d) = platform.send("device", get("/3311/0/5805", true), Duration::ZERO).unwrap();
        let (ev, _) = device.on_datagram("platform", &d.bytes, Duration::ZERO);
        let Event::Request { packet: req, .. } = &ev[0] else { panic!("{ev:?}") };
        // The MCU takes 1.5 s; the platform's ACK_TIMEOUT (2–3 s) has not fired yet.
        let (ev, resend) = platform.poll(S + S / 2);
        assert!(ev.is_empty() && resend.is_empty());
        let ans = device.respond("platform", req, content(b"1.88"), S + S / 2).unwrap();
        let (ev, _) = platform.on_datagram("device", &ans.bytes, S + S / 2);
        let Event::Response { packet, .. } = &ev[0] else { panic!("{ev:?}") };
        assert_eq!((packet.header.message_id, packet.payload.as_slice()), (mid, &b"1.88"[..]));
        assert_eq!(packet.get_token(), [1, 2, 3, 4]);
        assert_eq!(platform.in_flight(), 0);
    }

    #[test]
    fn retransmission_doubles_then_times_out() {
        let p = Params::with_ack_timeout(2);
        let mut e = Ep::new(p, 3);
        e.send("device", get("/3/0", true), Duration::ZERO).unwrap();
        let first = e.next_deadline().unwrap();
        assert!(first >= 2 * S && first <= 3 * S, "ACK_TIMEOUT × [1, 1.5): {first:?}");
        let mut sends = vec![];
        let mut timed_out = None;
        while let Some(t) = e.next_deadline() {
            let (ev, out) = e.poll(t);
            sends.extend(out.iter().map(|_| t));
            if let Some(Event::TimedOut { .. }) = ev.first() {
                timed_out = Some(t);
            }
        }
        assert_eq!(sends.len(), 4, "MAX_RETRANSMIT");
        let gaps: Vec<f64> =
            std::iter::once(first).chain(sends.windows(2).map(|w| w[1] - w[0])).map(|d| d.as_secs_f64()).collect();
        assert!(gaps.windows(2).all(|w| (w[1] / w[0] - 2.0).abs() < 1e-9), "{gaps:?}");
        let total = timed_out.unwrap();
        assert!(total <= p.max_transmit_wait() && total >= p.ack_timeout * 31, "{total:?}");
    }

    #[test]
    fn a_duplicate_con_is_answered_from_the_cache_and_not_delivered_again() {
        let mut device = Ep::new(Params::default(), 1);
        let mut req = get("/3311/0", true);
        req.header.message_id = 4242;
        let bytes = req.to_bytes().unwrap();
        let (ev, _) = device.on_datagram("platform", &bytes, Duration::ZERO);
        assert!(matches!(ev[0], Event::Request { .. }));
        // Re-sent before the MCU answered: not delivered again, nothing to send yet.
        let (ev, out) = device.on_datagram("platform", &bytes, S);
        assert!(matches!(ev[0], Event::Duplicate { mid: 4242, .. }) && out.is_empty());
        let ans = device.respond("platform", &req, content(b"x"), 2 * S).unwrap();
        let (_, out) = device.on_datagram("platform", &bytes, 3 * S);
        assert_eq!(out, vec![ans], "the cached answer goes again");
    }

    #[test]
    fn con_notifications_are_acked_and_rst_ends_an_observation() {
        let mut platform = Ep::new(Params::default(), 5);
        let mut device = Ep::new(Params::default(), 6);
        let mut n = content(b"25.6");
        n.header.set_type(MessageType::Confirmable);
        n.set_token(vec![9]);
        n.set_observe_value(3);
        let (mid, d) = device.send("platform", n, Duration::ZERO).unwrap();
        let (ev, acks) = platform.on_datagram("device", &d.bytes, Duration::ZERO);
        assert!(matches!(ev[0], Event::Response { .. }));
        let (ev, _) = device.on_datagram("platform", &acks[0].bytes, Duration::ZERO);
        assert_eq!(ev, vec![Event::Acked { from: "platform", mid }]);
        let mut n2 = content(b"25.7");
        n2.header.set_type(MessageType::Confirmable);
        let (mid2, _) = device.send("platform", n2, S).unwrap();
        let rst = platform.reset("device", mid2);
        let (ev, _) = device.on_datagram("platform", &rst.bytes, S);
        assert_eq!(ev, vec![Event::Reset { from: "platform", mid: mid2 }]);
    }

    #[test]
    fn garbage_is_reported_not_panicked_on() {
        let mut e = Ep::new(Params::default(), 1);
        let (ev, out) = e.on_datagram("x", &[0xFF, 0x00], Duration::ZERO);
        assert!(matches!(ev[0], Event::Malformed { .. }) && out.is_empty());
        assert!(e.on_datagram("x", &[], Duration::ZERO).0.len() == 1);
    }

    #[test]
    fn an_unencodable_message_keeps_its_message() {
        let mut e = Ep::new(Params::default(), 1);
        let mut p = get("/3/0", true);
        p.payload = vec![0; 2000];
        let err = e.send("device", p, Duration::ZERO).unwrap_err();
        assert_eq!(err, EndpointError::Encode(coap_lite::error::MessageError::InvalidPacketLength));
        assert_eq!(err.to_string(), "cannot encode CoAP message: InvalidPacketLength");
        assert_eq!(e.in_flight(), 0);
    }

    #[test]
    fn a_cancelled_con_is_not_sent_again() {
        let mut e = Ep::new(Params::default(), 3);
        let (mid, _) = e.send("a", get("/3/0", true), Duration::ZERO).unwrap();
        e.send("a", get("/3/0", true), Duration::ZERO).unwrap();
        e.send("b", get("/3/0", true), Duration::ZERO).unwrap();
        assert!(e.cancel(&"a", mid) && !e.cancel(&"a", mid));
        assert_eq!(e.cancel_peer(&"a"), 1);
        assert_eq!(e.in_flight(), 1);
        let mut to = vec![];
        while let Some(t) = e.next_deadline() {
            to.extend(e.poll(t).1.into_iter().map(|d| d.peer));
        }
        assert_eq!(to, ["b"; 4]);
    }

    #[test]
    fn the_duplicate_cache_is_bounded_and_expires() {
        let mut e = Ep::new(Params::default(), 3);
        for i in 0..(MAX_SEEN as u32 + 100) {
            let mut req = get("/rd", true);
            req.header.message_id = i as u16;
            let peer: &'static str = if i < 65_536 { "a" } else { "b" };
            e.on_datagram(peer, &req.to_bytes().unwrap(), Duration::ZERO);
        }
        assert_eq!(e.remembered(), MAX_SEEN);
        e.poll(Duration::from_secs(300));
        assert_eq!(e.remembered(), 0);
    }

    #[test]
    fn mids_and_tokens_are_reproducible_per_seed() {
        let mut a = Ep::new(Params::default(), 42);
        let mut b = Ep::new(Params::default(), 42);
        assert_eq!((a.new_mid(), a.new_token()), (b.new_mid(), b.new_token()));
    }
}
