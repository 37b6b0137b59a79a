//! The whole path in real time: the emulator on a pty, opened with the serial code; its LwM2M
//! client on a real UDP socket; the mock platform on tokio, on loopback.

use miplcheck_emulator::serve::on_pty;
use miplcheck_emulator::{Modem, Options};
use miplcheck_lwm2m::Path;
use miplcheck_platform::udp::spawn;
use miplcheck_platform::Control;
use miplcheck_platform::{OpOutcome, Operation, PlatformOptions};
use miplcheck_transport::serial::{open, SerialSettings};
use miplcheck_transport::stream::StreamPort;
use miplcheck_transport::{Port, Received};
use std::time::{Duration, Instant};

fn read_until(port: &mut dyn Port, want: &str, got: &mut String) {
    let deadline = port.now() + Duration::from_secs(30);
    while !got.contains(want) {
        match port.read_until(deadline) {
            Received::Data(c) => got.push_str(&String::from_utf8_lossy(&c.bytes)),
            other => panic!("{other:?} waiting for {want:?}; got {got:?}"),
        }
    }
}

/// A platform on loopback and a BC39 emulator on a pty registered with it (event 6 seen).
fn registered() -> (miplcheck_platform::udp::Handle, miplcheck_emulator::serve::PtyModem, StreamPort) {
    let pf = spawn(
        "127.0.0.1:0".parse().unwrap(),
        PlatformOptions { auto_observe: false, ..Default::default() },
        Instant::now(),
    )
    .unwrap();
    let mut o = Options::for_dialect("bc39");
    o.echo = false;
    let pty = on_pty(Modem::new(o).unwrap()).unwrap();
    let mut port = open(&SerialSettings::at_path(pty.path.to_string_lossy())).unwrap();
    let mut got = String::new();
    for cmd in [
        format!("AT+MIPLCONFIG=0,127.0.0.1,{}", pf.addr.port()),
        "AT+MIPLCREATE".into(),
        "AT+MIPLADDOBJ=0,3311,1,\"1\",4,2".into(),
        "AT+MIPLOPEN=0,600,60".into(),
    ] {
        got.clear();
        port.write(format!("{cmd}\r").as_bytes()).unwrap();
        read_until(&mut port, "OK\r\n", &mut got);
    }
    read_until(&mut port, "+MIPLEVENT: 0,6", &mut got);
    (pf, pty, port)
}

#[test]
fn register_and_read_over_real_udp() {
    let (pf, _pty, mut port) = registered();
    let mut got = String::new();
    assert_eq!(pf.devices().len(), 1);
    let id = pf.operate(None, Operation::Read(Path::resource(3311, 0, 5805))).unwrap();
    got.clear();
    read_until(&mut port, ",3311,0,5805\r\n", &mut got);
    let mid: u32 = got.trim().split(',').nth(1).unwrap().parse().unwrap();
    port.write(format!("AT+MIPLREADRSP=0,{mid},1,3311,0,5805,4,4,1.88,0,0\r").as_bytes()).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match pf.outcome(id) {
            OpOutcome::Answered { code, packet, .. } => {
                assert_eq!((code.as_str(), packet.payload.as_slice()), ("2.05", &b"1.88"[..]));
                break;
            }
            OpOutcome::Pending if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            other => panic!("{other:?}"),
        }
    }
    let records = pf.take_records();
    assert!(records.iter().any(|r| r.describe().starts_with("CON POST /rd?")), "the wire side is recorded");
}

/// Whether a UDP socket on `port` is bound to 127.0.0.1 (not every interface), from /proc/net/udp.
fn bound_to_loopback(port: u16) -> Option<bool> {
    let table = std::fs::read_to_string("/proc/net/udp").ok()?;
    table.lines().skip(1).find_map(|l| {
        let local = l.split_whitespace().nth(1)?;
        let (ip, p) = local.split_once(':')?;
        (u16::from_str_radix(p, 16).ok()? == port).then(|| ip == "0100007F")
    })
}

#[test]
fn only_the_configured_server_reaches_the_modem_and_its_socket_is_on_loopback() {
    let (pf, _pty, mut port) = registered();
    let mut got = String::new();
    let device = pf.devices()[0].peer;
    if let Some(loopback) = bound_to_loopback(device.port()) {
        assert!(loopback, "the modem's socket {device} listens wider than loopback");
    }
    // A CON GET /3311/0/5805 from a socket that is not the platform.
    let stranger = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let get = [0x40, 0x01, 0x12, 0x34, 0xB4, b'3', b'3', b'1', b'1', 0x01, b'0', 0x04, b'5', b'8', b'0', b'5'];
    stranger.send_to(&get, device).unwrap();
    got.clear();
    let deadline = port.now() + Duration::from_millis(500);
    loop {
        match port.read_until(deadline) {
            Received::Data(c) => got.push_str(&String::from_utf8_lossy(&c.bytes)),
            Received::Timeout => break,
            other => panic!("{other:?}"),
        }
    }
    assert!(!got.contains("+MIPLREAD"), "a stranger's request reached the AT port: {got:?}");
    // The platform still gets through.
    pf.operate(None, Operation::Read(Path::resource(3311, 0, 5805))).unwrap();
    read_until(&mut port, ",3311,0,5805\r\n", &mut got);
}
