//! Interop with software nobody on this team wrote: Debian's libcoap3-bin (`coap-client-openssl`,
//! `coap-server-openssl`, `coap-rd-openssl`). CI installs it and sets MIPLCHECK_REQUIRE_LIBCOAP=1; elsewhere these
//! tests say they were skipped when it is missing.

use coap_lite::{MessageClass, MessageType, Packet, RequestType, ResponseType};
use miplcheck_lwm2m::endpoint::{Endpoint, Event, Params};
use miplcheck_lwm2m::Path;
use miplcheck_platform::{udp, Control, PlatformOptions};
use std::net::{SocketAddr, UdpSocket};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The libcoap program, or `None` (test skipped) when it is not installed and not required.
fn libcoap(program: &str) -> Option<String> {
    let found = Command::new(program).arg("-h").stdout(Stdio::null()).stderr(Stdio::null()).status().is_ok();
    if found {
        return Some(program.to_string());
    }
    if std::env::var_os("MIPLCHECK_REQUIRE_LIBCOAP").is_some() {
        panic!("{program} is required (MIPLCHECK_REQUIRE_LIBCOAP is set): apt-get install libcoap3-bin");
    }
    eprintln!("SKIPPED: {program} is not installed (apt-get install libcoap3-bin)");
    None
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn libcoap_client_registers_with_our_platform() {
    let Some(client) = libcoap("coap-client-openssl") else { return };
    let pf = udp::spawn(
        "127.0.0.1:0".parse().unwrap(),
        PlatformOptions { auto_observe: false, ..Default::default() },
        Instant::now(),
    )
    .unwrap();
    let uri = format!("coap://127.0.0.1:{}/rd?ep=libcoap-peer&lt=300", pf.addr.port());
    let out = Command::new(&client)
        .args(["-m", "post", "-t", "40", "-e", "</>;rt=\"oma.lwm2m\",</3311/0>", "-B", "10", &uri])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let devices = pf.devices();
    assert_eq!(devices.len(), 1);
    assert_eq!(devices[0].endpoint, "libcoap-peer");
    assert_eq!((devices[0].lifetime, devices[0].objects.clone()), (300, vec![Path::instance(3311, 0)]));
    // An unknown resource is 4.04, and libcoap says so.
    let out = Command::new(&client)
        .args(["-m", "get", "-B", "10", &format!("coap://127.0.0.1:{}/nothing", pf.addr.port())])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(shown.contains("4.04"), "{shown}");
    let wire: Vec<String> = pf.take_records().iter().map(|r| r.summary()).collect();
    assert!(wire.iter().any(|w| w.starts_with("CON POST /rd?ep=libcoap-peer&lt=300 cf=link-format")), "{wire:?}");
    assert!(wire.iter().any(|w| w.starts_with("ACK 2.01 location=/rd/1")), "{wire:?}");
}

/// Starts a libcoap server and kills it when dropped.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn our_coap_endpoint_talks_to_libcoap_server() {
    let Some(server) = libcoap("coap-server-openssl") else { return };
    let port = free_udp_port();
    let _srv = Server(
        Command::new(server)
            .args(["-A", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let peer: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut ep: Endpoint<SocketAddr> = Endpoint::new(Params::with_ack_timeout(2), 11);
    let mut get = Packet::new();
    get.header.set_type(MessageType::Confirmable);
    get.header.code = MessageClass::Request(RequestType::Get);
    get.set_token(ep.new_token());
    let start = Instant::now();
    let (_, d) = ep.send(peer, get, start.elapsed()).unwrap();
    sock.send_to(&d.bytes, d.peer).unwrap();
    let answer = wait_for("libcoap's answer", || {
        let mut buf = [0u8; 2048];
        // The server may not be listening yet: our own retransmission covers it.
        let (_, resend) = ep.poll(start.elapsed());
        for d in resend {
            sock.send_to(&d.bytes, d.peer).unwrap();
        }
        let (n, from) = sock.recv_from(&mut buf).ok()?;
        let (events, _) = ep.on_datagram(from, &buf[..n], start.elapsed());
        events.into_iter().find_map(|e| match e {
            Event::Response { packet, .. } => Some(packet),
            _ => None,
        })
    });
    assert_eq!(answer.header.code, MessageClass::Response(ResponseType::Content));
    assert!(
        String::from_utf8_lossy(&answer.payload).contains("libcoap"),
        "{:?}",
        String::from_utf8_lossy(&answer.payload)
    );
}

#[test]
fn the_emulator_registers_with_libcoaps_resource_directory() {
    use miplcheck_emulator::serve::on_pty;
    use miplcheck_emulator::{Modem, Options};
    use miplcheck_transport::serial::{open, SerialSettings};
    use miplcheck_transport::{Port, Received};
    let Some(rd) = libcoap("coap-rd-openssl") else { return };
    let port = free_udp_port();
    let _rd = Server(
        Command::new(rd)
            .args(["-A", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    // A loaded machine may take longer than any fixed pause to start it: ask until it answers.
    let probe = UdpSocket::bind("127.0.0.1:0").unwrap();
    probe.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    wait_for("coap-rd to answer", || {
        // CON GET /.well-known/core
        let get = [&[0x40, 0x01, 0x12, 0x34, 0xBB][..], b".well-known", &[0x04], b"core"].concat();
        probe.send_to(&get, ("127.0.0.1", port)).ok()?;
        probe.recv_from(&mut [0u8; 1500]).ok()
    });
    let mut o = Options::for_dialect("bc39");
    o.echo = false;
    let pty = on_pty(Modem::new(o).unwrap()).unwrap();
    let mut at = open(&SerialSettings::at_path(pty.path.to_string_lossy())).unwrap();
    let mut got = String::new();
    let read_until = |at: &mut dyn Port, want: &str, got: &mut String| {
        let deadline = at.now() + Duration::from_secs(30);
        while !got.contains(want) {
            match at.read_until(deadline) {
                Received::Data(c) => got.push_str(&String::from_utf8_lossy(&c.bytes)),
                other => panic!("{other:?} waiting for {want:?}; got {got:?}"),
            }
        }
    };
    for cmd in [
        format!("AT+MIPLCONFIG=0,127.0.0.1,{port}"),
        "AT+MIPLCREATE".to_string(),
        "AT+MIPLADDOBJ=0,3311,2,\"11\",4,2".to_string(),
        "AT+MIPLOPEN=0,600,60".to_string(),
    ] {
        got.clear();
        at.write(format!("{cmd}\r").as_bytes()).unwrap();
        // The events after MIPLOPEN's OK may come in the same read: keep what follows the OK.
        read_until(&mut at, "OK\r\n", &mut got);
    }
    // libcoap's RD answers the registration 2.01 Created: the module reports success.
    read_until(&mut at, "+MIPLEVENT: 0,6", &mut got);
}
