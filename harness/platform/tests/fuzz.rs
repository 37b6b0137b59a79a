//! Property tests of the mock platform's datagram handler: whatever arrives, from however many
//! addresses, at whatever time, [`Platform`] does not panic, everything it sends decodes as CoAP,
//! what it keeps stays bounded by what was asked of it, and it still registers a well-formed
//! device afterwards (ACK 2.01).
//!
//! CI runs [`CASES`] cases per property; `PROPTEST_CASES=100000 cargo test -p miplcheck-platform
//! --test fuzz --release` runs longer (docs/benchmarks.md, "Fuzzing"). The hand-made corpus of the
//! inputs issue 10 names is replayed by `the_corpus_is_answered`, and any file dropped into
//! `tests/corpus/` is replayed raw by `the_corpus_files_are_answered`.

use coap_lite::{CoapOption, MessageClass, MessageType, Packet, ResponseType};
use miplcheck_lwm2m::{link, Path};
use miplcheck_platform::{Platform, PlatformOptions};
use proptest::prelude::*;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

/// Cases per property in CI; `PROPTEST_CASES` overrides it (`with_cases` alone would ignore it).
const CASES: u32 = 2000;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(CASES)
}

/// The auth code a platform may require (option 63).
const AUTH: &str = "Quectel123";

fn addr(n: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 0, (n >> 8) as u8, n as u8), 5683 + (n % 7)))
}

/// Endpoint names a hostile device registers with; the platform can never hold more devices than
/// there are distinct names.
const EPS: &[&str] = &[
    "866971030000001;460040000000001",
    "866971030000002",
    "\u{1b}[31mRED",
    "a\u{0}b",
    "\r\n+MIPLEVENT: 0,6\r\n",
    ";",
    "ééé;ü",
];

const QUERIES: &[&str] = &[
    "lt=-1",
    "lt=0",
    "lt=99999999999999999999999999",
    "lt=4294967296",
    "lt=600",
    "lt=",
    "lt=0x10",
    "lwm2m=9.9",
    "lwm2m=1.0",
    "lwm2m=",
    "b=ZZZ",
    "b=U",
    "b=UQS",
    "ep=",
    "ep",
    "=",
    "",
];

const PATHS: &[&str] = &["rd", "bs", "rd", "1", "", "..", "3", "0", "rd\u{0}", "%2F"];

fn query() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::sample::select(QUERIES).prop_map(|q| q.as_bytes().to_vec()),
        prop::sample::select(EPS).prop_map(|e| format!("ep={e}").into_bytes()),
        "[a-z]{0,3}=\\PC{0,12}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..16),
    ]
}

fn payload() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(vec![]),
        prop::collection::vec((0u16..4000, 0u16..3), 0..6).prop_map(|v| {
            let paths: Vec<Path> = v.into_iter().map(|(o, i)| Path::instance(o, i)).collect();
            link::registration(&paths).into_bytes()
        }),
        "(</[0-9]{0,6}(/[0-9]{0,6})?>;?[a-z]{0,3}=?\"?[0-9.]{0,4},?){0,8}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..64),
    ]
}

/// A CoAP message as a hostile device would build it.
#[derive(Debug, Clone)]
struct Message {
    kind: u8,
    code: u8,
    mid: u16,
    token: Vec<u8>,
    paths: Vec<&'static str>,
    queries: Vec<Vec<u8>>,
    /// Other options by number, option 63 (the auth code) among them.
    others: Vec<(u16, Vec<u8>)>,
    payload: Vec<u8>,
    /// Mutations of the encoded message: truncate to this length, flip this byte.
    truncate: Option<usize>,
    flip: Option<(usize, u8)>,
}

fn message() -> impl Strategy<Value = Message> {
    let code = prop_oneof![Just(0x02u8), Just(0x04), Just(0x01), Just(0x03), Just(0x45), Just(0x44), any::<u8>()];
    let other = prop_oneof![
        (Just(63u16), prop_oneof![Just(AUTH.as_bytes().to_vec()), prop::collection::vec(any::<u8>(), 0..20)]),
        (Just(6u16), prop::collection::vec(any::<u8>(), 0..4)),
        (Just(12u16), prop::collection::vec(any::<u8>(), 0..3)),
        (any::<u16>(), prop::collection::vec(any::<u8>(), 0..24)),
    ];
    (
        (0u8..4, code, prop_oneof![0u16..8, any::<u16>()], prop::collection::vec(any::<u8>(), 0..9)),
        prop_oneof![
            Just(vec!["rd"]),
            Just(vec!["bs"]),
            prop::sample::select(&["1", "2", "99999", ""][..]).prop_map(|id| vec!["rd", id]),
            prop::collection::vec(prop::sample::select(PATHS), 0..3),
        ],
        prop::collection::vec(query(), 0..6),
        prop::collection::vec(other, 0..3),
        payload(),
        (prop::option::weighted(0.1, 0usize..64), prop::option::weighted(0.1, (0usize..64, any::<u8>()))),
    )
        .prop_map(|((kind, code, mid, token), paths, queries, others, payload, (truncate, flip))| Message {
            kind,
            code,
            mid,
            token,
            paths,
            queries,
            others,
            payload,
            truncate,
            flip,
        })
}

/// Half the time, a message shaped like a registration (CON POST /rd, a name, the auth code) with
/// hostile queries and payload, so the registration path is reached often.
fn hostile_message() -> impl Strategy<Value = Message> {
    (message(), any::<bool>(), prop::sample::select(EPS), any::<bool>()).prop_map(|(mut m, shape, ep, auth)| {
        if shape {
            (m.kind, m.code, m.paths) = (0, 0x02, vec!["rd"]);
            m.queries.insert(0, format!("ep={ep}").into_bytes());
            if auth {
                m.others.push((63, AUTH.as_bytes().to_vec()));
            }
        }
        m
    })
}

impl Message {
    fn bytes(&self) -> Vec<u8> {
        let mut p = Packet::new();
        p.header.set_type(match self.kind {
            0 => MessageType::Confirmable,
            1 => MessageType::NonConfirmable,
            2 => MessageType::Acknowledgement,
            _ => MessageType::Reset,
        });
        p.header.code = MessageClass::from(self.code);
        p.header.message_id = self.mid;
        p.set_token(self.token.clone());
        for s in &self.paths {
            p.add_option(CoapOption::UriPath, s.as_bytes().to_vec());
        }
        for q in &self.queries {
            p.add_option(CoapOption::UriQuery, q.clone());
        }
        for (n, v) in &self.others {
            p.add_option(CoapOption::from(*n), v.clone());
        }
        p.payload = self.payload.clone();
        // A message coap-lite refuses to encode (a 9-byte token) goes out as its header alone.
        let mut b = p.to_bytes().unwrap_or_else(|_| {
            let mut h = vec![0x40 | (self.kind << 4), self.code];
            h.extend(self.mid.to_be_bytes());
            h
        });
        if let Some(n) = self.truncate {
            b.truncate(n);
        }
        if let Some((i, x)) = self.flip {
            if let Some(c) = b.get_mut(i) {
                *c ^= x;
            }
        }
        b
    }
}

/// What a hostile device does next.
#[derive(Debug, Clone)]
enum Step {
    Raw(u16, Vec<u8>),
    Coap(u16, Message),
    /// Answers the platform's latest request (same MID and token) with this code and payload,
    /// possibly as a notification.
    Answer {
        code: u8,
        observe: Option<u32>,
        payload: Vec<u8>,
        reset: bool,
    },
    /// Time passes (milliseconds); the platform is polled.
    Wait(u64),
}

fn step() -> impl Strategy<Value = Step> {
    let from = prop_oneof![0u16..4, any::<u16>()];
    prop_oneof![
        2 => (from.clone(), prop::collection::vec(any::<u8>(), 0..80)).prop_map(|(f, b)| Step::Raw(f, b)),
        6 => (from, hostile_message()).prop_map(|(f, m)| Step::Coap(f, m)),
        3 => (
            prop_oneof![Just(0x45u8), Just(0x44), Just(0x84), any::<u8>()],
            prop::option::of(any::<u32>()),
            prop::collection::vec(any::<u8>(), 0..40),
            prop::bool::weighted(0.1),
        )
            .prop_map(|(code, observe, payload, reset)| Step::Answer { code, observe, payload, reset }),
        2 => prop_oneof![0u64..5000, 0u64..1 << 40].prop_map(Step::Wait),
    ]
}

fn decodes(out: &[miplcheck_lwm2m::endpoint::Datagram<SocketAddr>]) -> Result<(), TestCaseError> {
    for d in out {
        prop_assert!(Packet::from_bytes(&d.bytes).is_ok(), "the platform sent undecodable bytes: {:02x?}", d.bytes);
    }
    Ok(())
}

/// A well-formed registration, as a fresh device sends it.
fn registration(mid: u16, auth: bool) -> Vec<u8> {
    let mut p = Packet::new();
    p.header.set_type(MessageType::Confirmable);
    p.header.code = MessageClass::Request(coap_lite::RequestType::Post);
    p.header.message_id = mid;
    p.set_token(vec![0xA5, 0x5A]);
    p.add_option(CoapOption::UriPath, b"rd".to_vec());
    p.add_option(CoapOption::UriQuery, b"lwm2m=1.0".to_vec());
    p.add_option(CoapOption::UriQuery, b"ep=866971039999999;460049999999999".to_vec());
    p.add_option(CoapOption::UriQuery, b"lt=300".to_vec());
    if auth {
        p.add_option(CoapOption::Unknown(63), AUTH.as_bytes().to_vec());
    }
    p.payload = link::registration(&[Path::instance(3311, 0)]).into_bytes();
    p.to_bytes().unwrap()
}

/// The platform still registers a well-formed device, from an address it has not seen.
fn still_registers(pf: &mut Platform<SocketAddr>, auth: bool, now: Duration) -> Result<(), TestCaseError> {
    let before = pf.devices().len();
    let out = pf.on_datagram(addr(u16::MAX), &registration(0x7777, auth), now);
    decodes(&out)?;
    let ack = out.first().map(|d| Packet::from_bytes(&d.bytes).unwrap());
    let ack = ack.ok_or_else(|| TestCaseError::fail("no answer to a valid registration"))?;
    prop_assert_eq!(ack.header.get_type(), MessageType::Acknowledgement);
    prop_assert_eq!(ack.header.code, MessageClass::Response(ResponseType::Created));
    prop_assert_eq!(ack.header.message_id, 0x7777);
    prop_assert_eq!(ack.get_token(), &[0xA5, 0x5A][..]);
    prop_assert!(pf.devices().iter().any(|d| d.endpoint == "866971039999999;460049999999999"));
    prop_assert!(pf.devices().len() <= before + 1);
    Ok(())
}

fn platform(auto_observe: bool, auth: bool) -> Platform<SocketAddr> {
    Platform::new(PlatformOptions {
        auto_observe,
        auth_code: auth.then(|| AUTH.to_string()),
        ..PlatformOptions::default()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// Arbitrary bytes from arbitrary addresses.
    #[test]
    fn the_platform_takes_any_bytes(
        dgs in prop::collection::vec((any::<u16>(), prop::collection::vec(any::<u8>(), 0..300)), 0..40),
        auth: bool,
    ) {
        let mut pf = platform(true, auth);
        for (i, (from, bytes)) in dgs.iter().enumerate() {
            let now = Duration::from_millis(i as u64);
            decodes(&pf.on_datagram(addr(*from), bytes, now))?;
            decodes(&pf.poll(now))?;
            prop_assert!(pf.take_records().len() <= 2 + 4 * bytes.len());
        }
        still_registers(&mut pf, auth, Duration::from_secs(1))?;
    }

    /// Structured but hostile CoAP, answers to the platform's own requests, and time jumps.
    #[test]
    fn the_platform_takes_hostile_coap(steps in prop::collection::vec(step(), 0..60), auto_observe: bool, auth: bool) {
        let mut pf = platform(auto_observe, auth);
        let mut now = Duration::ZERO;
        // The platform's latest confirmable request and where it went.
        let mut last: Option<(SocketAddr, Packet)> = None;
        // Datagrams that could have registered a device: they carry `ep=`.
        let mut with_ep = 0;
        let has_ep = |b: &[u8]| b.windows(3).any(|w| w == b"ep=");
        for s in steps {
            let out = match s {
                Step::Raw(from, bytes) => {
                    with_ep += usize::from(has_ep(&bytes));
                    pf.on_datagram(addr(from), &bytes, now)
                }
                Step::Coap(from, m) => {
                    let bytes = m.bytes();
                    with_ep += usize::from(has_ep(&bytes));
                    let out = pf.on_datagram(addr(from), &bytes, now);
                    // One answer, then at most what auto-observe of a device's objects asks (an
                    // observe and a discover each, and the read of /3/0).
                    let most = pf.devices().iter().map(|d| d.objects.len()).max().unwrap_or(0);
                    prop_assert!(out.len() <= 2 + 2 * most, "{} datagrams for {m:?}", out.len());
                    out
                }
                Step::Answer { code, observe, payload, reset } => match &last {
                    Some((to, req)) => {
                        let mut p = Packet::new();
                        p.header.set_type(if reset { MessageType::Reset } else { MessageType::Acknowledgement });
                        p.header.code = if reset { MessageClass::Empty } else { MessageClass::from(code) };
                        p.header.message_id = req.header.message_id;
                        p.set_token(req.get_token().to_vec());
                        if let Some(o) = observe {
                            p.set_observe_value(o);
                        }
                        p.payload = payload;
                        match p.to_bytes() {
                            Ok(b) => pf.on_datagram(*to, &b, now),
                            Err(_) => vec![],
                        }
                    }
                    None => vec![],
                },
                Step::Wait(ms) => {
                    now += Duration::from_millis(ms);
                    pf.poll(now)
                }
            };
            decodes(&out)?;
            for d in &out {
                let p = Packet::from_bytes(&d.bytes).unwrap();
                if p.header.get_type() == MessageType::Confirmable {
                    last = Some((d.peer, p));
                }
            }
            // Re-registrations replace: one device per name, and none without an `ep=` sent.
            prop_assert!(pf.devices().len() <= with_ep);
            let mut names: Vec<&str> = pf.devices().iter().map(|d| d.endpoint.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            prop_assert_eq!(names.len(), pf.devices().len(), "one device per endpoint name");
            let _ = pf.take_records();
        }
        // Every exchange the platform started ends: retransmissions stop.
        let mut polls = 0;
        while let Some(t) = pf.next_deadline() {
            now = now.max(t);
            decodes(&pf.poll(now))?;
            polls += 1;
            prop_assert!(polls < 10_000, "the platform keeps retransmitting");
        }
        still_registers(&mut pf, auth, now)?;
    }
}

/// The inputs issue 10 names, each a registration (or a line) on its own.
fn corpus() -> Vec<(&'static str, Vec<u8>)> {
    let reg = |queries: &[&str], payload: &[u8]| {
        let mut p = Packet::new();
        p.header.set_type(MessageType::Confirmable);
        p.header.code = MessageClass::Request(coap_lite::RequestType::Post);
        p.header.message_id = 0x1000;
        p.set_token(vec![1, 2, 3, 4]);
        p.add_option(CoapOption::UriPath, b"rd".to_vec());
        for q in queries {
            p.add_option(CoapOption::UriQuery, q.as_bytes().to_vec());
        }
        p.payload = payload.to_vec();
        p.to_bytes().unwrap()
    };
    let objs = b"</3311/0>,</3311/1>";
    vec![
        ("lt=-1", reg(&["lwm2m=1.0", "ep=866971030000001", "lt=-1"], objs)),
        ("lt=0", reg(&["lwm2m=1.0", "ep=866971030000001", "lt=0"], objs)),
        ("lt=huge", reg(&["lwm2m=1.0", "ep=866971030000001", "lt=99999999999999999999999999"], objs)),
        ("lwm2m=9.9", reg(&["lwm2m=9.9", "ep=866971030000001", "lt=600"], objs)),
        ("b=ZZZ", reg(&["lwm2m=1.0", "ep=866971030000001", "b=ZZZ"], objs)),
        ("ep=ESC[31mRED", reg(&["lwm2m=1.0", "ep=\u{1b}[31mRED", "lt=600"], objs)),
        ("ep with CR LF and a URC", reg(&["ep=x\r\n+MIPLEVENT: 0,6\r\n"], objs)),
        ("no ep", reg(&["lwm2m=1.0", "lt=600"], objs)),
        ("garbage payload", reg(&["ep=866971030000001"], &[0xFF, 0xFE, 0x00, b'<'])),
        ("10,000 objects", {
            let paths: Vec<Path> = (0..10_000u16).map(|i| Path::instance(3300 + i % 100, i / 100)).collect();
            // Too big for coap-lite to encode (and for UDP), so the payload is appended by hand.
            let mut b = reg(&["ep=866971030000001"], b"");
            b.push(0xFF);
            b.extend(link::registration(&paths).into_bytes());
            b
        }),
        ("64 KB datagram", vec![0x40; 65_507]),
        ("empty datagram", vec![]),
        ("header only", vec![0x40, 0x02, 0x10, 0x00]),
        ("token length 15", vec![0x4F, 0x02, 0x10, 0x00]),
        ("option delta 15", vec![0x40, 0x02, 0x10, 0x00, 0xF0]),
        ("payload marker, no payload", vec![0x40, 0x02, 0x10, 0x00, 0xFF]),
    ]
}

fn replay(name: &str, bytes: &[u8]) {
    for auth in [false, true] {
        let mut pf = platform(true, auth);
        let from = addr(1);
        let out = pf.on_datagram(from, bytes, Duration::ZERO);
        for d in &out {
            assert!(Packet::from_bytes(&d.bytes).is_ok(), "{name}: undecodable answer {:02x?}", d.bytes);
        }
        // A registration is answered, whatever the answer says (validation is the server's).
        if Packet::from_bytes(bytes).is_ok_and(|p| p.header.get_type() == MessageType::Confirmable) {
            let ack = out.first().map(|d| Packet::from_bytes(&d.bytes).unwrap());
            let ack = ack.unwrap_or_else(|| panic!("{name}: no answer"));
            assert_eq!(ack.header.get_type(), MessageType::Acknowledgement, "{name}");
            assert_eq!(ack.header.message_id, 0x1000, "{name}");
        }
        let mut now = Duration::ZERO;
        while let Some(t) = pf.next_deadline() {
            now = t;
            pf.poll(now);
        }
        let out = pf.on_datagram(addr(2), &registration(1, auth), now);
        let ack = Packet::from_bytes(&out[0].bytes).unwrap();
        assert_eq!(ack.header.code, MessageClass::Response(ResponseType::Created), "{name}: then a valid one");
    }
}

#[test]
fn the_corpus_is_answered() {
    for (name, bytes) in corpus() {
        replay(name, &bytes);
    }
}

/// Regression inputs kept as files: each `tests/corpus/*.bin` is one datagram.
#[test]
fn the_corpus_files_are_answered() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut n = 0;
    for e in std::fs::read_dir(&dir).unwrap() {
        let path = e.unwrap().path();
        if path.extension().is_some_and(|x| x == "bin") {
            replay(&path.display().to_string(), &std::fs::read(&path).unwrap());
            n += 1;
        }
    }
    assert!(n > 0, "no corpus in {}", dir.display());
}

/// Found by `the_platform_takes_hostile_coap`: a second device registering from the address of an
/// earlier one (another `ep`) was auto-observed with the earlier device's objects, when
/// auto-observe looked the device up by address; it now looks it up by endpoint.
#[test]
fn auto_observe_uses_the_objects_of_the_registration() {
    let mut pf = platform(true, false);
    let reg = |mid: u16, ep: &str, payload: &str| {
        let mut p = Packet::new();
        p.header.set_type(MessageType::Confirmable);
        p.header.code = MessageClass::Request(coap_lite::RequestType::Post);
        p.header.message_id = mid;
        p.add_option(CoapOption::UriPath, b"rd".to_vec());
        p.add_option(CoapOption::UriQuery, format!("ep={ep}").into_bytes());
        p.payload = payload.as_bytes().to_vec();
        p.to_bytes().unwrap()
    };
    pf.on_datagram(addr(3), &reg(0, "866971030000001", "</0/0>"), Duration::ZERO);
    let out = pf.on_datagram(addr(3), &reg(1, "866971030000002", ""), Duration::ZERO);
    let descr: Vec<String> = out.iter().map(|d| format!("{:?}", Packet::from_bytes(&d.bytes).unwrap())).collect();
    assert_eq!(out.len(), 2, "the ACK and the read of /3/0 only: {descr:#?}");
}
