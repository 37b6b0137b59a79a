//! DTLS-PSK with Wakaama's tinydtls client against our platform's DTLS port (OneNET's 5684).
//! tinydtls offers TLS_PSK_WITH_AES_128_CCM_8 only (RFC 7252 §9.1.3.1's mandatory suite), so
//! this checks that suite against our OpenSSL side as well as the handshake and the CoAP inside.

use crate::peer::{binaries, free_udp_port, Peer, WAIT};
use miplcheck_lwm2m::Path;
use miplcheck_platform::{udp, Control, OpOutcome, Operation, PlatformOptions};
use std::time::Instant;

const PSK: &[u8] = b"miplcheck-psk-01";

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A platform with DTLS-PSK on, and Wakaama's tinydtls client `ep` started against its DTLS port
/// with the key `key`; `extra` goes on its command line.
fn dtls_client(dir: &std::path::Path, ep: &str, key: &[u8], extra: &[&str]) -> (udp::Handle, Peer) {
    let pf = udp::spawn(
        "127.0.0.1:0".parse().unwrap(),
        PlatformOptions { auto_observe: false, ..Default::default() },
        Instant::now(),
    )
    .unwrap();
    let Some(dtls) = pf.dtls_addr else { panic!("the platform has no DTLS port on loopback") };
    pf.set_dtls(Some(PSK.to_vec()));
    let local = free_udp_port().to_string();
    let (host, port) = (dtls.ip().to_string(), dtls.port().to_string());
    let key = hex(key);
    let mut args = vec!["-4", "-h", &host, "-p", &port, "-l", &local, "-n", ep, "-i", ep, "-s", &key];
    args.extend_from_slice(extra);
    let client = Peer::spawn(dir, "lwm2mclient_tinydtls", &args);
    (pf, client)
}

#[test]
fn wakaama_tinydtls_client_registers_over_dtls_psk_and_is_read() {
    let Some(dir) = binaries() else { return };
    let (pf, mut client) = dtls_client(&dir, "dtls-ep", PSK, &["-t", "60"]);
    let deadline = Instant::now() + WAIT;
    let dev = loop {
        if let Some(d) = pf.devices().into_iter().find(|d| d.endpoint == "dtls-ep") {
            break d;
        }
        assert!(Instant::now() < deadline, "no DTLS registration in {WAIT:?}; client printed:\n{}", client.output());
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(dev.peer.ip(), "127.0.0.1".parse::<std::net::IpAddr>().unwrap());
    assert!(dev.objects.contains(&Path::instance(3, 0)), "{:?}", dev.objects);
    client.wait_for(r"STATE_READY");

    // A request inside the association, answered inside it.
    let id = pf.operate(Some("dtls-ep"), Operation::Read(Path::resource(3, 0, 0))).unwrap();
    let answer = loop {
        match pf.outcome(id) {
            OpOutcome::Pending if Instant::now() < deadline => std::thread::sleep(std::time::Duration::from_millis(20)),
            other => break other,
        }
    };
    let OpOutcome::Answered { code, packet, .. } = answer else {
        panic!("{answer:?}; client printed:\n{}", client.output())
    };
    assert_eq!(code, "2.05");
    assert!(String::from_utf8_lossy(&packet.payload).contains("Open Mobile Alliance"), "{packet:?}");
    client.send("quit");
}

#[test]
fn wakaama_tinydtls_client_with_the_wrong_key_does_not_register() {
    let Some(dir) = binaries() else { return };
    let (pf, client) = dtls_client(&dir, "wrong-ep", b"not-the-psk-0000", &[]);
    // The handshake's Finished cannot verify: give it ample time, then nothing may be registered.
    std::thread::sleep(std::time::Duration::from_secs(5));
    assert!(pf.devices().is_empty(), "registered with a wrong key; client printed:\n{}", client.output());
    let notes: Vec<String> = pf.take_notes().iter().map(|n| format!("{n:?}")).collect();
    eprintln!("platform notes: {notes:?}");
}
