//! The platform on a real socket under a bounded flood on 127.0.0.1: junk bytes, bad
//! registrations and made-up devices from many ports, then a real registration, which must still
//! be answered (within a generous deadline: the machine may be loaded) while state stays capped.

use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType};
use miplcheck_platform::{udp, Control, PlatformOptions, MAX_DEVICES};
use std::net::UdpSocket;
use std::time::{Duration, Instant};

fn register(query: &[&str], mid: u16) -> Vec<u8> {
    let mut p = Packet::new();
    p.header.set_type(MessageType::Confirmable);
    p.header.code = MessageClass::Request(RequestType::Post);
    p.header.message_id = mid;
    p.set_token(mid.to_be_bytes().to_vec());
    p.add_option(CoapOption::UriPath, b"rd".to_vec());
    for q in query {
        p.add_option(CoapOption::UriQuery, q.as_bytes().to_vec());
    }
    p.payload = b"</3311/0>,</3311/1>".to_vec();
    p.to_bytes().unwrap()
}

/// Sends `req` every 2 s until an ACK with its MID comes back, for at most `limit`.
fn ask(sock: &UdpSocket, to: std::net::SocketAddr, req: &[u8], mid: u16, limit: Duration) -> Option<Packet> {
    sock.set_read_timeout(Some(Duration::from_millis(100))).unwrap();
    let start = Instant::now();
    let mut buf = [0u8; 2048];
    while start.elapsed() < limit {
        sock.send_to(req, to).unwrap();
        let tried = Instant::now();
        while tried.elapsed() < Duration::from_secs(2) {
            if let Ok((n, _)) = sock.recv_from(&mut buf) {
                match Packet::from_bytes(&buf[..n]) {
                    Ok(p) if p.header.message_id == mid && p.header.get_type() == MessageType::Acknowledgement => {
                        return Some(p)
                    }
                    _ => {}
                }
            }
        }
    }
    None
}

#[test]
fn a_flood_on_loopback_leaves_a_real_registration_answered() {
    let pf = udp::spawn("127.0.0.1:0".parse().unwrap(), PlatformOptions::default(), Instant::now()).unwrap();
    let socks: Vec<UdpSocket> = (0..50).map(|_| UdpSocket::bind("127.0.0.1:0").unwrap()).collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    for i in 0..5_000u32 {
        if Instant::now() > deadline {
            break;
        }
        let bytes = match i % 4 {
            0 | 1 => register(&[&format!("ep=junk{i}"), "lt=300", "lwm2m=1.0", "b=U"], i as u16),
            2 => register(&[&format!("ep=bad{i}"), "lt=abc"], i as u16),
            _ => vec![0xFF, i as u8, 0x00],
        };
        let _ = socks[i as usize % socks.len()].send_to(&bytes, pf.addr);
        if i % 50 == 49 {
            std::thread::sleep(Duration::from_millis(1));
        }
        if i % 500 == 0 {
            let _ = pf.take_records();
        }
    }
    // A bad registration is refused, with its reason, even now.
    let dev = UdpSocket::bind("127.0.0.1:0").unwrap();
    let bad = ask(&dev, pf.addr, &register(&["ep=x", "lt=0"], 7), 7, Duration::from_secs(30)).expect("an answer");
    assert!(miplcheck_platform::record::describe(&bad).starts_with("ACK 4.00"));
    assert_eq!(bad.payload, b"lt=0: a lifetime is at least 1 s");
    let req = register(&["lwm2m=1.0", "ep=866971030000001;460040000000001", "b=U", "lt=300"], 0x4242);
    let ok = ask(&dev, pf.addr, &req, 0x4242, Duration::from_secs(30)).expect("the registration is answered");
    assert!(miplcheck_platform::record::describe(&ok).starts_with("ACK 2.01"));
    let devices = pf.devices();
    assert!(devices.len() <= MAX_DEVICES, "{}", devices.len());
    assert!(devices.iter().any(|d| d.endpoint == "866971030000001;460040000000001"));
    assert!(pf.take_notes().iter().any(|n| n.text.contains("registration refused with 4.00: lt=")));
}
