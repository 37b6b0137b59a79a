//! Property tests of the DTLS record layer: whatever datagrams reach a server [`Session`] — random
//! bytes, or the records of a real client's handshake truncated, mutated, reordered or repeated —
//! it does not panic, a session that did not connect refuses to seal, and a real handshake still
//! completes afterwards.
//!
//! CI runs [`CASES`] cases per property; `PROPTEST_CASES=10000 cargo test -p miplcheck-lwm2m
//! --test dtls_fuzz --release` runs longer (docs/benchmarks.md, "Fuzzing").
#![cfg(feature = "dtls")]

use miplcheck_lwm2m::dtls::Session;
use proptest::prelude::*;
use std::sync::OnceLock;

/// Cases per property in CI (each runs OpenSSL handshakes); `PROPTEST_CASES` overrides it.
const CASES: u32 = 1000;

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(CASES)
}

const IMEI: &str = "866971030000001";
const PSK: &[u8] = b"FhyvhmgIRQrde4In";

fn server() -> Session {
    Session::server(|id| (id == IMEI.as_bytes()).then(|| PSK.to_vec())).unwrap()
}

/// Runs a handshake between a fresh client and `s`; returns the client and every datagram it sent.
fn handshake(s: &mut Session) -> (Session, Vec<Vec<u8>>) {
    let (mut c, mut to_server) = Session::client(IMEI, PSK).unwrap();
    let mut sent = vec![];
    for _ in 0..20 {
        if to_server.is_empty() {
            break;
        }
        let mut to_client = vec![];
        for d in std::mem::take(&mut to_server) {
            to_client.extend(s.on_datagram(&d).send);
            sent.push(d);
        }
        for d in to_client {
            to_server.extend(c.on_datagram(&d).send);
        }
    }
    (c, sent)
}

/// The datagrams a real client sends in a handshake (ClientHello first), captured once.
fn real_flights() -> &'static [Vec<u8>] {
    static FLIGHTS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    FLIGHTS.get_or_init(|| {
        let mut s = server();
        let (mut c, mut sent) = handshake(&mut s);
        assert!(c.is_connected() && s.is_connected(), "the reference handshake");
        // And an application record after it.
        sent.extend(c.seal(b"\x40\x02\x00\x01\xb2rd").unwrap());
        sent
    })
}

/// A datagram a hostile or broken peer sends.
#[derive(Debug, Clone)]
enum Input {
    Random(Vec<u8>),
    /// A real record cut to this length.
    Truncated(usize, usize),
    /// A real record with bytes XORed.
    Mutated(usize, Vec<(usize, u8)>),
    /// A real record as it is (replayed, out of order).
    Real(usize),
    /// A real record's 13-byte header with a forged length and random body.
    Forged(usize, u16, Vec<u8>),
}

fn input() -> impl Strategy<Value = Input> {
    let n = real_flights().len();
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..200).prop_map(Input::Random),
        (0..n, 0usize..400).prop_map(|(i, l)| Input::Truncated(i, l)),
        (0..n, prop::collection::vec((any::<usize>(), 1u8..), 1..6)).prop_map(|(i, f)| Input::Mutated(i, f)),
        (0..n).prop_map(Input::Real),
        (0..n, any::<u16>(), prop::collection::vec(any::<u8>(), 0..64)).prop_map(|(i, l, b)| Input::Forged(i, l, b)),
    ]
}

impl Input {
    fn bytes(&self) -> Vec<u8> {
        let real = real_flights();
        match self {
            Input::Random(b) => b.clone(),
            Input::Truncated(i, n) => real[*i][..(*n).min(real[*i].len())].to_vec(),
            Input::Mutated(i, flips) => {
                let mut b = real[*i].clone();
                for (at, x) in flips {
                    let k = at % b.len();
                    b[k] ^= x;
                }
                b
            }
            Input::Real(i) => real[*i].clone(),
            Input::Forged(i, len, body) => {
                let mut b = real[*i][..13.min(real[*i].len())].to_vec();
                if b.len() == 13 {
                    b[11..13].copy_from_slice(&len.to_be_bytes());
                }
                b.extend(body);
                b
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn a_server_session_takes_any_datagrams(inputs in prop::collection::vec(input(), 1..12)) {
        let mut s = server();
        for i in &inputs {
            let p = s.on_datagram(&i.bytes());
            prop_assert!(p.send.iter().all(|d| d.len() <= 1500), "a datagram over the MTU");
            prop_assert!(!(s.is_connected() && s.failure().is_some()));
            if !s.is_connected() {
                prop_assert!(p.plaintext.is_empty(), "plaintext before the handshake: {:?}", p.plaintext);
                prop_assert!(s.seal(b"x").is_err(), "sealed on a session that is not connected");
            }
        }
        // A client never connects to the server session it was not talking to.
        prop_assert!(!s.is_connected(), "connected from replayed or forged records");
        // A real handshake still completes, on a fresh session.
        let mut fresh = server();
        let (mut c, _) = handshake(&mut fresh);
        prop_assert!(c.is_connected() && fresh.is_connected(), "{:?} / {:?}", c.failure(), fresh.failure());
        let sealed = c.seal(b"after the storm").unwrap();
        let got: Vec<Vec<u8>> = sealed.iter().flat_map(|d| fresh.on_datagram(d).plaintext).collect();
        prop_assert_eq!(got, vec![b"after the storm".to_vec()]);
    }

    /// Garbage after the handshake reaches a connected session: records that do not authenticate
    /// are dropped (RFC 6347 §4.1.2.7), the association stays up and the session keeps
    /// decrypting the real peer.
    #[test]
    fn a_connected_session_drops_forged_records(inputs in prop::collection::vec(input(), 1..12)) {
        let mut s = server();
        let (mut c, _) = handshake(&mut s);
        prop_assert!(s.is_connected());
        for i in &inputs {
            let p = s.on_datagram(&i.bytes());
            prop_assert!(p.plaintext.is_empty(), "forged plaintext: {:?}", p.plaintext);
        }
        prop_assert!(s.is_connected(), "forged records ended the association: {:?}", s.failure());
        let sealed = c.seal(b"still here").unwrap();
        let got: Vec<Vec<u8>> = sealed.iter().flat_map(|d| s.on_datagram(d).plaintext).collect();
        prop_assert_eq!(got, vec![b"still here".to_vec()]);
    }
}

/// Hand-made regression inputs: empty, one byte, a header claiming 64 KB, a ClientHello cut in
/// its handshake header, a 64 KB datagram.
#[test]
fn the_corpus_is_dropped() {
    let hello = &real_flights()[0];
    let mut claim = hello[..13].to_vec();
    claim[11..13].copy_from_slice(&u16::MAX.to_be_bytes());
    let corpus: Vec<(&str, Vec<u8>)> = vec![
        ("empty", vec![]),
        ("one byte", vec![0x16]),
        ("record header only", hello[..13].to_vec()),
        ("length 65535, no body", claim),
        ("ClientHello cut in its handshake header", hello[..17].to_vec()),
        ("64 KB of handshake type", vec![0x16; 65_507]),
        ("alert record", vec![0x15, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 40]),
        ("change cipher spec first", vec![0x14, 0xFE, 0xFD, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]),
        ("application data first", vec![0x17, 0xFE, 0xFD, 0, 1, 0, 0, 0, 0, 0, 0, 0, 4, 1, 2, 3, 4]),
    ];
    for (name, bytes) in corpus {
        let mut s = server();
        let p = s.on_datagram(&bytes);
        assert!(p.plaintext.is_empty() && !s.is_connected(), "{name}");
        assert!(s.seal(b"x").is_err(), "{name}");
    }
}

/// Found by `a_server_session_takes_any_datagrams`: an empty datagram read as end of file failed
/// the session ("unexpected EOF"), so anyone could end a handshake or an association with one
/// zero-length UDP datagram. DTLS drops what it cannot use instead.
#[test]
fn an_empty_datagram_ends_nothing() {
    let mut s = server();
    let (mut c, first) = Session::client(IMEI, PSK).unwrap();
    let mut to_client = vec![];
    for d in &first {
        to_client.extend(s.on_datagram(d).send);
    }
    assert!(s.on_datagram(&[]).send.is_empty());
    assert!(s.is_handshaking(), "{:?}", s.failure());
    let mut to_server: Vec<Vec<u8>> = to_client.iter().flat_map(|d| c.on_datagram(d).send).collect();
    for _ in 0..10 {
        let back: Vec<Vec<u8>> = to_server.drain(..).flat_map(|d| s.on_datagram(&d).send).collect();
        to_server = back.iter().flat_map(|d| c.on_datagram(d).send).collect();
    }
    assert!(s.is_connected() && c.is_connected(), "{:?} / {:?}", s.failure(), c.failure());
    s.on_datagram(&[]);
    c.on_datagram(&[]);
    assert!(s.is_connected() && c.is_connected(), "{:?} / {:?}", s.failure(), c.failure());
    let got: Vec<Vec<u8>> = c.seal(b"x").unwrap().iter().flat_map(|d| s.on_datagram(d).plaintext).collect();
    assert_eq!(got, [b"x".to_vec()]);
}

/// Found by `a_connected_session_drops_forged_records`: an application record whose length field
/// says 7 (less than CCM_8's nonce and tag) made OpenSSL 3 send a fatal alert and end the
/// association ("unexpected EOF"); such records are now dropped before OpenSSL sees them.
#[test]
fn a_record_shorter_than_the_cipher_overhead_ends_nothing() {
    let mut s = server();
    let (mut c, _) = handshake(&mut s);
    let real = c.seal(b"one").unwrap().remove(0);
    for len in 0..16u16 {
        let mut short = real.clone();
        short[11..13].copy_from_slice(&len.to_be_bytes());
        let p = s.on_datagram(&short);
        assert!(p.send.is_empty() && p.plaintext.is_empty(), "length {len}: {p:?}");
        assert!(s.is_connected(), "length {len}: {:?}", s.failure());
    }
    let got: Vec<Vec<u8>> = [real].iter().flat_map(|d| s.on_datagram(d).plaintext).collect();
    assert_eq!(got, [b"one".to_vec()]);
}
