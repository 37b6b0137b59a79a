//! A bounded flood on loopback, then one valid registration: how long it waits for its `2.01`
//! and how much memory the platform holds (docs/benchmarks.md).
//!
//! `cargo run --release -p miplcheck-platform --example flood -- [datagrams] [sources] [hold s]`
//! (defaults 50000, 200 and 10 s of retransmissions after the valid registration). Half the datagrams are registrations with made-up endpoint names
//! that never answer the platform's requests, a quarter bad registrations, a quarter junk bytes.
//! Everything goes to 127.0.0.1, the counts are fixed and every wait has a deadline.

use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType};
use miplcheck_platform::Control;
use std::net::UdpSocket;
use std::time::{Duration, Instant};

fn register(ep: &str, query: &[&str], mid: u16) -> Vec<u8> {
    let mut p = Packet::new();
    p.header.set_type(MessageType::Confirmable);
    p.header.code = MessageClass::Request(RequestType::Post);
    p.header.message_id = mid;
    p.set_token(mid.to_be_bytes().to_vec());
    p.add_option(CoapOption::UriPath, b"rd".to_vec());
    p.add_option(CoapOption::UriQuery, format!("ep={ep}").into_bytes());
    for q in query {
        p.add_option(CoapOption::UriQuery, q.as_bytes().to_vec());
    }
    p.payload = b"</3311/0>,</3311/1>,</3303/0>".to_vec();
    p.to_bytes().expect("a registration encodes")
}

fn status(key: &str) -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(key)).map(|l| l[key.len()..].trim().to_string()))
        .unwrap_or_else(|| "?".into())
}

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(50_000).min(1_000_000);
    let sources: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(200).clamp(1, 1000);
    let hold: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(10).min(120);
    let pf = miplcheck_platform::udp::spawn(
        "127.0.0.1:0".parse().expect("an address"),
        miplcheck_platform::PlatformOptions::default(),
        Instant::now(),
    )?;
    let socks: Vec<UdpSocket> = (0..sources).map(|_| UdpSocket::bind("127.0.0.1:0")).collect::<Result<_, _>>()?;
    println!("flood: {total} datagrams from {sources} ports to {}; RSS before {}", pf.addr, status("VmRSS:"));
    let start = Instant::now();
    for i in 0..total {
        let s = &socks[i % sources];
        let mid = (i / sources) as u16;
        let bytes = match i % 4 {
            0 | 1 => register(&format!("junk{i}"), &["lt=300", "lwm2m=1.0", "b=U"], mid),
            2 => register(&format!("bad{i}"), &["lt=-1", "b=ZZZ"], mid),
            _ => vec![0xFF, (i & 0xFF) as u8, 0x00, 0x42],
        };
        let _ = s.send_to(&bytes, pf.addr);
        // Let the platform's thread keep up a little, so most datagrams are handled, not dropped.
        if i % 50 == 49 {
            std::thread::sleep(Duration::from_millis(1));
        }
        if i % 1000 == 999 {
            let _ = pf.take_records();
        }
    }
    let sent = start.elapsed();
    // The valid registration, re-sent every 2 s, for at most 60 s.
    let dev = UdpSocket::bind("127.0.0.1:0")?;
    dev.set_read_timeout(Some(Duration::from_millis(200)))?;
    let req = register("866971030000001;460040000000001", &["lwm2m=1.0", "b=U", "lt=300"], 0x4242);
    let asked = Instant::now();
    let mut answered = None;
    let mut buf = [0u8; 2048];
    'wait: while asked.elapsed() < Duration::from_secs(60) {
        dev.send_to(&req, pf.addr)?;
        let tried = Instant::now();
        while tried.elapsed() < Duration::from_secs(2) {
            if let Ok((n, _)) = dev.recv_from(&mut buf) {
                if let Ok(p) = Packet::from_bytes(&buf[..n]) {
                    if p.header.message_id == 0x4242 && p.header.get_type() == MessageType::Acknowledgement {
                        answered = Some((asked.elapsed(), miplcheck_platform::record::describe(&p)));
                        break 'wait;
                    }
                }
            }
        }
    }
    let _ = pf.take_records();
    match &answered {
        Some((t, what)) => println!("valid registration answered in {t:?}: {what}"),
        None => println!("valid registration: no answer within 60 s"),
    }
    // Let retransmissions run for a while, then see what the platform holds.
    std::thread::sleep(Duration::from_secs(hold));
    let _ = pf.take_records();
    println!(
        "flood sent in {sent:?}; devices {}; RSS {} (peak {})",
        pf.devices().len(),
        status("VmRSS:"),
        status("VmHWM:")
    );
    Ok(())
}
