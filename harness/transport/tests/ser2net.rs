//! The RFC 2217 and TCP links against a real server: Debian's ser2net on loopback, in front of a
//! pty the test holds the other end of. Skipped (with a note) where ser2net is not installed,
//! unless MIPLCHECK_REQUIRE_SER2NET=1 (CI) makes that a failure.

use miplcheck_transport::pty::Pty;
use miplcheck_transport::ser2net_fixture::{self as fixture, Accepter, Ser2net};
use miplcheck_transport::stream::StreamPort;
use miplcheck_transport::{Port, Received, Rfc2217Port, Rfc2217Settings};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::termios::{cfgetospeed, tcgetattr, BaudRate};
use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsFd;
use std::time::{Duration, Instant};

/// Generous: the machine running this may be busy building.
const PATIENCE: Duration = Duration::from_secs(20);

/// A pty and ser2net in front of it, or `None` (after saying so) when ser2net is missing.
fn rig(accepter: Accepter) -> Option<(Pty, Ser2net)> {
    if !fixture::available() {
        assert!(!fixture::required(), "ser2net is not installed but {}=1", fixture::REQUIRE_ENV);
        eprintln!("skipped: ser2net is not installed (set {}=1 to make this a failure)", fixture::REQUIRE_ENV);
        return None;
    }
    let pty = Pty::open().unwrap();
    let server = Ser2net::start(&pty.path, accepter).unwrap();
    Some((pty, server))
}

fn settings(server: &Ser2net) -> Rfc2217Settings {
    let mut s = Rfc2217Settings::new(server.address());
    s.negotiation_timeout = PATIENCE;
    s
}

/// Reads exactly `n` bytes from the pty's master side, failing after [`PATIENCE`].
fn from_master(master: &mut File, n: usize) -> Vec<u8> {
    let t0 = Instant::now();
    let mut got = Vec::new();
    while got.len() < n {
        assert!(t0.elapsed() < PATIENCE, "only {got:?} reached the pty");
        let mut fds = [PollFd::new(master.as_fd(), PollFlags::POLLIN)];
        if poll(&mut fds, PollTimeout::from(100u16)).unwrap() == 0 {
            continue;
        }
        let mut buf = vec![0u8; n - got.len()];
        let k = master.read(&mut buf).unwrap();
        got.extend(&buf[..k]);
    }
    got
}

/// Reads exactly `n` data bytes from a port, failing after [`PATIENCE`].
fn from_port(port: &mut dyn Port, n: usize) -> Vec<u8> {
    let deadline = port.now() + PATIENCE;
    let mut got = Vec::new();
    while got.len() < n {
        match port.read_until(deadline) {
            Received::Data(c) => got.extend(c.bytes),
            other => panic!("after {got:?}: {other:?}"),
        }
    }
    got
}

/// The pty's output speed as ser2net left it, once it is `want` (bounded).
fn wait_for_speed(pty: &Pty, want: BaudRate) {
    let t0 = Instant::now();
    loop {
        // A pty master reports its slave's termios, which ser2net set.
        let speed = cfgetospeed(&tcgetattr(pty.master.as_fd()).unwrap());
        if speed == want {
            return;
        }
        assert!(t0.elapsed() < PATIENCE, "the pty is at {speed:?}, not {want:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn rfc2217_bytes_cross_both_ways_including_0xff() {
    let Some((mut pty, server)) = rig(Accepter::Rfc2217) else { return };
    let mut port = Rfc2217Port::connect(&settings(&server)).unwrap();
    port.write(b"AT\xff\x00\r").unwrap();
    assert_eq!(from_master(&mut pty.master, 5), b"AT\xff\x00\r", "IAC un-doubled by ser2net");
    pty.master.write_all(b"\r\nOK\xff\xff\r\n").unwrap();
    assert_eq!(from_port(&mut port, 8), b"\r\nOK\xff\xff\r\n");
    // ser2net reports the (pty's empty) modem state once COM-PORT-OPTION is on.
    let t0 = Instant::now();
    while port.modem_state().is_none() {
        assert!(t0.elapsed() < PATIENCE, "no NOTIFY-MODEMSTATE from ser2net");
        std::thread::sleep(Duration::from_millis(20));
    }
    port.purge().unwrap();
    assert!(port.describe().starts_with(&format!("rfc2217 {} @115200 8N1", server.address())));
}

#[test]
fn rfc2217_baud_is_set_on_the_far_side() {
    let Some((pty, server)) = rig(Accepter::Rfc2217) else { return };
    let mut s = settings(&server);
    s.baud = 9600;
    let mut port = Rfc2217Port::connect(&s).unwrap();
    assert_eq!(port.negotiated().baud, Some(9600));
    wait_for_speed(&pty, BaudRate::B9600);
    port.set_baud(57_600).unwrap();
    assert_eq!(port.negotiated().baud, Some(57_600));
    wait_for_speed(&pty, BaudRate::B57600);
}

#[test]
fn rfc2217_set_control_with_ign_set_control_does_not_hang() {
    let Some((_pty, server)) = rig(Accepter::Rfc2217) else { return };
    let mut s = settings(&server);
    s.ign_set_control = true;
    s.negotiation_timeout = Duration::from_secs(60);
    let t0 = Instant::now();
    let mut port = Rfc2217Port::connect(&s).unwrap();
    port.set_dtr(true).unwrap();
    port.set_rts(true).unwrap();
    port.set_dtr(false).unwrap();
    assert!(t0.elapsed() < Duration::from_secs(30), "waited for acknowledgements: {:?}", t0.elapsed());
    // What ser2net does without it, for the record (not asserted: a later ser2net may answer).
    let mut s = settings(&server);
    s.negotiation_timeout = Duration::from_secs(1);
    if let Ok(mut port) = Rfc2217Port::connect(&s) {
        eprintln!("ser2net on a pty, SET-CONTROL DTR waited for: {:?}", port.set_dtr(true));
    }
}

#[test]
fn killing_ser2net_mid_stream_gives_closed_in_bounded_time() {
    let Some((mut pty, mut server)) = rig(Accepter::Rfc2217) else { return };
    let mut port = Rfc2217Port::connect(&settings(&server)).unwrap();
    pty.master.write_all(b"before").unwrap();
    assert_eq!(from_port(&mut port, 6), b"before");
    server.kill();
    let t0 = Instant::now();
    match port.read_until(port.now() + PATIENCE) {
        Received::Closed(why) => eprintln!("closed: {why}"),
        other => panic!("{other:?}"),
    }
    assert!(t0.elapsed() < PATIENCE);
    assert!(port.write(b"AT\r").is_err());
}

#[test]
fn raw_accepter_passes_bytes_as_they_are() {
    let Some((mut pty, server)) = rig(Accepter::Raw) else { return };
    let mut port = StreamPort::tcp(&server.address()).unwrap();
    port.write(b"AT\xff\r").unwrap();
    assert_eq!(from_master(&mut pty.master, 4), b"AT\xff\r");
    pty.master.write_all(b"\xff\xffOK").unwrap();
    assert_eq!(from_port(&mut port, 4), b"\xff\xffOK", "no telnet on a raw port");
}

#[test]
fn rfc2217_against_a_raw_port_fails_in_bounded_time() {
    let Some((_pty, server)) = rig(Accepter::Raw) else { return };
    let mut s = settings(&server);
    s.negotiation_timeout = Duration::from_secs(1);
    let e = Rfc2217Port::connect(&s).err().expect("a raw port never takes COM-PORT-OPTION");
    assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
    assert!(e.to_string().contains(&server.address()), "{e}");
}

#[test]
fn ser2net_on_a_port_another_process_holds_is_a_failed_start_not_a_wrong_server() {
    if !fixture::available() {
        assert!(!fixture::required(), "ser2net is not installed but {}=1", fixture::REQUIRE_ENV);
        return eprintln!("skipped: ser2net is not installed");
    }
    let pty = Pty::open().unwrap();
    let squatter = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = squatter.local_addr().unwrap().to_string();
    let e = Ser2net::start_at(&pty.path, Accepter::Raw, &addr).expect_err("the port is taken");
    assert_eq!(e.kind(), ErrorKind::AddrInUse, "{e}");
    assert!(e.to_string().contains("another process"), "{e}");
}

#[test]
fn connecting_where_nobody_listens_fails_at_once() {
    let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let t0 = Instant::now();
    let e = Rfc2217Port::connect(&Rfc2217Settings::new(&addr)).err().expect("nobody listens");
    // Refused by loopback at once: "well under a second", with room for a loaded machine.
    assert!(t0.elapsed() < Duration::from_secs(3), "took {:?}", t0.elapsed());
    assert_eq!(e.kind(), ErrorKind::ConnectionRefused, "{e}");
    assert!(e.to_string().contains(&addr), "{e}");
}

#[test]
fn connecting_to_a_silent_server_respects_connect_timeout() {
    // A listener whose accept queue is full drops further SYNs, like a firewalled server.
    let (listener, fill, addr) = fixture::silent_listener();
    let mut s = Rfc2217Settings::new(addr.to_string());
    s.connect_timeout = Duration::from_millis(500);
    let t0 = Instant::now();
    let e = Rfc2217Port::connect(&s).err().expect("must fail");
    let took = t0.elapsed();
    assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
    assert!(took >= Duration::from_millis(400) && took < Duration::from_secs(10), "took {took:?}");
    drop((listener, fill));
}
