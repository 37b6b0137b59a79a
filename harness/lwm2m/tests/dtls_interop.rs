//! libcoap's DTLS client (`coap-client-openssl -u IMEI -k PSK`, Debian libcoap3-bin) against our
//! DTLS-PSK server session on real UDP. Run with `--features dtls`; CI does.
#![cfg(feature = "dtls")]

use coap_lite::{MessageClass, MessageType, Packet, ResponseType};
use miplcheck_lwm2m::dtls::Session;
use std::net::UdpSocket;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const IMEI: &str = "866971030000001";
const PSK: &str = "FhyvhmgIRQrde4In";

fn client() -> Option<&'static str> {
    let found =
        Command::new("coap-client-openssl").arg("-h").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
    if !found {
        assert!(std::env::var_os("MIPLCHECK_REQUIRE_LIBCOAP").is_none(), "apt-get install libcoap3-bin");
        eprintln!("SKIPPED: coap-client-openssl is not installed (apt-get install libcoap3-bin)");
        return None;
    }
    Some("coap-client-openssl")
}

/// Serves one DTLS client until it has sent a request (or `patience` runs out); answers 2.05
/// "hello" to it.
fn serve(sock: UdpSocket, psk: &'static str, patience: Duration) -> std::thread::JoinHandle<Option<String>> {
    std::thread::spawn(move || {
        sock.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        let mut session = Session::server(move |id| (id == IMEI.as_bytes()).then(|| psk.as_bytes().to_vec())).unwrap();
        let deadline = Instant::now() + patience;
        let mut buf = [0u8; 2048];
        while Instant::now() < deadline {
            let Ok((n, from)) = sock.recv_from(&mut buf) else { continue };
            let p = session.on_datagram(&buf[..n]);
            for d in &p.send {
                sock.send_to(d, from).unwrap();
            }
            if let Some(plain) = p.plaintext.into_iter().next() {
                let req = Packet::from_bytes(&plain).unwrap();
                let mut resp = Packet::new();
                resp.header.set_type(MessageType::Acknowledgement);
                resp.header.message_id = req.header.message_id;
                resp.header.code = MessageClass::Response(ResponseType::Content);
                resp.set_token(req.get_token().to_vec());
                resp.payload = b"hello".to_vec();
                for d in session.seal(&resp.to_bytes().unwrap()).unwrap() {
                    sock.send_to(&d, from).unwrap();
                }
                return Some(format!("{:?}", req.header.code));
            }
        }
        None
    })
}

#[test]
fn libcoap_talks_dtls_psk_with_us() {
    let Some(client) = client() else { return };
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let server = serve(sock, PSK, Duration::from_secs(30));
    let out = Command::new(client)
        .args(["-m", "get", "-u", IMEI, "-k", PSK, "-B", "10", &format!("coaps://127.0.0.1:{port}/3/0")])
        .output()
        .unwrap();
    let got = server.join().unwrap();
    assert!(got.is_some_and(|c| c.contains("Get")), "the server decrypted a GET");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "hello", "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_wrong_psk_gets_nothing_through() {
    let Some(client) = client() else { return };
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    let server = serve(sock, PSK, Duration::from_secs(5));
    let out = Command::new(client)
        .args(["-m", "get", "-u", IMEI, "-k", "wrong-key-000000", "-B", "3", &format!("coaps://127.0.0.1:{port}/3/0")])
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("hello"));
    assert_eq!(server.join().unwrap(), None, "no request got through");
}
