//! The port against an in-test RFC 2217 server on loopback: a thread that accepts one
//! connection, agrees to the options, answers subcommands as the test's `answer` says, records
//! what it got, and sends raw bytes or hangs up when told.

use super::telnet::{self, Decoder, Event, Verb, IAC, SB, SE};
use super::*;
use crossbeam_channel::Sender;
use std::io::Read;
use std::net::TcpListener;

type Answer = Box<dyn Fn(&[u8]) -> Option<Vec<u8>> + Send>;

/// The usual answer: the same value under the server's code.
fn echo(p: &[u8]) -> Option<Vec<u8>> {
    let mut r = p.to_vec();
    r[0] += o::SERVER_OFFSET;
    Some(r)
}

#[derive(Default)]
struct Log {
    data: Vec<u8>,
    /// COM-PORT-OPTION payloads from the client.
    subs: Vec<Vec<u8>>,
    negotiations: Vec<(Verb, u8)>,
}

enum Cmd {
    Raw(Vec<u8>),
    /// Stop reading (holding the connection open), as a server whose far side stopped draining.
    StopReading,
    HangUp,
}

struct Fake {
    addr: String,
    log: Arc<Mutex<Log>>,
    cmds: Sender<Cmd>,
}

impl Fake {
    fn start(answer: impl Fn(&[u8]) -> Option<Vec<u8>> + Send + 'static) -> Fake {
        Self::with(Box::new(answer), false)
    }

    fn with(answer: Answer, refuse_com_port: bool) -> Fake {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let log = Arc::new(Mutex::new(Log::default()));
        let (cmds, rx) = crossbeam_channel::unbounded();
        let log2 = log.clone();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_millis(20))).unwrap();
            let mut d = Decoder::new(4096);
            let mut buf = [0u8; 4096];
            let mut agreed = std::collections::HashSet::new();
            let mut reading = true;
            loop {
                if !reading {
                    match rx.recv() {
                        Ok(Cmd::HangUp) | Err(_) => return,
                        Ok(_) => continue,
                    }
                }
                match s.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => {
                        let mut events = Vec::new();
                        d.feed(&buf[..n], &mut events);
                        for e in events {
                            let reply = match e {
                                Event::Data(b) => {
                                    log2.lock().unwrap().data.extend(b);
                                    None
                                }
                                Event::Negotiate(v, opt) => {
                                    log2.lock().unwrap().negotiations.push((v, opt));
                                    match v {
                                        Verb::Will if opt == COM_PORT_OPTION && refuse_com_port => {
                                            Some(telnet::negotiation(Verb::Dont, opt).to_vec())
                                        }
                                        Verb::Will if agreed.insert((v, opt)) => {
                                            Some(telnet::negotiation(Verb::Do, opt).to_vec())
                                        }
                                        Verb::Do if agreed.insert((v, opt)) => {
                                            Some(telnet::negotiation(Verb::Will, opt).to_vec())
                                        }
                                        _ => None,
                                    }
                                }
                                Event::Subnegotiation { option: COM_PORT_OPTION, payload } => {
                                    log2.lock().unwrap().subs.push(payload.clone());
                                    answer(&payload).map(|a| telnet::subnegotiation(COM_PORT_OPTION, &a))
                                }
                                _ => None,
                            };
                            if let Some(r) = reply {
                                s.write_all(&r).unwrap();
                            }
                        }
                    }
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                    Err(_) => return,
                }
                match rx.try_recv() {
                    Ok(Cmd::Raw(b)) => s.write_all(&b).unwrap(),
                    Ok(Cmd::StopReading) => reading = false,
                    Ok(Cmd::HangUp) | Err(crossbeam_channel::TryRecvError::Disconnected) => return,
                    Err(crossbeam_channel::TryRecvError::Empty) => {}
                }
            }
        });
        Fake { addr, log, cmds }
    }

    fn settings(&self) -> Rfc2217Settings {
        let mut s = Rfc2217Settings::new(&self.addr);
        // Generous: the machine is loaded. Tests of the timeout set their own.
        s.negotiation_timeout = Duration::from_secs(20);
        s
    }

    fn send(&self, bytes: &[u8]) {
        self.cmds.send(Cmd::Raw(bytes.to_vec())).unwrap();
    }

    /// Waits (bounded) until `f` holds of the log.
    fn until(&self, what: &str, f: impl Fn(&Log) -> bool) {
        let t0 = Instant::now();
        while !f(&self.log.lock().unwrap()) {
            assert!(t0.elapsed() < Duration::from_secs(20), "the fake server never saw {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// The negotiation timeout of tests where one step is left unanswered: long enough that the
/// steps the fake answers at once (in milliseconds) never time out first under load.
const STEP_TIMEOUT: Duration = Duration::from_secs(3);

fn notify(code: u8, v: u8) -> Vec<u8> {
    vec![IAC, SB, COM_PORT_OPTION, code + o::SERVER_OFFSET, v, IAC, SE]
}

/// Reads until `want` bytes arrived (bounded); returns them and what came after.
fn read_n(port: &mut Rfc2217Port, want: usize) -> Vec<u8> {
    let deadline = port.now() + Duration::from_secs(20);
    let mut got = Vec::new();
    while got.len() < want {
        match port.read_until(deadline) {
            Received::Data(c) => got.extend(c.bytes),
            other => panic!("after {got:?}: {other:?}"),
        }
    }
    got
}

fn wait_state(port: &Rfc2217Port, f: impl Fn(&Rfc2217Port) -> bool) {
    let t0 = Instant::now();
    while !f(port) {
        assert!(t0.elapsed() < Duration::from_secs(20), "state never changed");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn negotiates_and_sets_the_line() {
    let fake = Fake::start(echo);
    let mut s = fake.settings();
    s.baud = 9600;
    s.data_bits = 7;
    s.parity = Parity::Even;
    s.stop_bits = 2;
    s.flow_control = FlowControl::Hardware;
    let port = Rfc2217Port::connect(&s).unwrap();
    assert_eq!(
        port.negotiated(),
        Negotiated { baud: Some(9600), data_bits: Some(7), parity: Some(Parity::Even), stop_bits: Some(2) }
    );
    assert_eq!(port.describe(), format!("rfc2217 {} @9600 7E2", fake.addr));
    let log = fake.log.lock().unwrap();
    assert_eq!(log.subs, vec![vec![1, 0, 0, 0x25, 0x80], vec![2, 7], vec![3, 3], vec![4, 2], vec![5, 3]]);
    for n in [(Verb::Will, 44), (Verb::Will, 0), (Verb::Do, 0), (Verb::Will, 3), (Verb::Do, 3)] {
        assert!(log.negotiations.contains(&n), "{n:?} not offered: {:?}", log.negotiations);
    }
}

#[test]
fn data_crosses_both_ways_with_iac_and_notifications_stay_out_of_it() {
    let fake = Fake::start(echo);
    let mut port = Rfc2217Port::connect(&fake.settings()).unwrap();
    port.write(b"a\xffb\xff").unwrap();
    fake.until("the data", |l| l.data == b"a\xffb\xff");
    // A doubled 0xFF split across two reads: "x" arriving shows the reader has read the first
    // half (and holds the lone IAC) before the second half is sent.
    fake.send(b"x\xff");
    assert_eq!(read_n(&mut port, 1), b"x");
    fake.send(b"\xffy");
    fake.send(&notify(o::NOTIFY_MODEMSTATE, 0x30));
    fake.send(&notify(o::NOTIFY_LINESTATE, 0x18));
    fake.send(b"z");
    assert_eq!(read_n(&mut port, 3), b"\xffyz");
    assert_eq!(port.modem_state(), Some(0x30));
    assert_eq!(port.line_state(), Some(0x18));
}

#[test]
fn a_setting_not_acknowledged_fails_in_bounded_time_naming_it_and_the_server() {
    let fake = Fake::start(|p: &[u8]| if p[0] == o::SET_DATASIZE { None } else { echo(p) });
    let mut s = fake.settings();
    // One timeout governs every step: 3 s lets the steps the fake answers at once succeed even
    // on a loaded machine, so the one that fails is the one it never answers.
    s.negotiation_timeout = STEP_TIMEOUT;
    let t0 = Instant::now();
    let e = Rfc2217Port::connect(&s).err().expect("must fail");
    assert!(t0.elapsed() < 10 * STEP_TIMEOUT, "took {:?}", t0.elapsed());
    assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
    let says = e.to_string();
    assert!(says.contains("SET-DATASIZE 8") && says.contains(&fake.addr), "{says}");
}

#[test]
fn a_setting_answered_with_another_value_is_an_error() {
    let fake = Fake::start(|p: &[u8]| {
        if p[0] == o::SET_BAUDRATE {
            Some([&[101][..], &4800u32.to_be_bytes()].concat())
        } else {
            echo(p)
        }
    });
    let mut s = fake.settings();
    s.baud = 9600;
    let e = Rfc2217Port::connect(&s).err().expect("must fail");
    assert_eq!(e.kind(), ErrorKind::InvalidData, "{e}");
    assert!(e.to_string().contains("SET-BAUDRATE 9600 answered with 4800"), "{e}");
}

#[test]
fn unanswered_set_control_is_not_waited_for_with_ign_set_control() {
    let silent_control = |p: &[u8]| if p[0] == o::SET_CONTROL { None } else { echo(p) };
    let fake = Fake::start(silent_control);
    let mut s = fake.settings();
    s.ign_set_control = true;
    s.negotiation_timeout = Duration::from_secs(60);
    let t0 = Instant::now();
    let mut port = Rfc2217Port::connect(&s).unwrap();
    port.set_dtr(true).unwrap();
    port.set_rts(false).unwrap();
    assert!(t0.elapsed() < Duration::from_secs(20), "waited: {:?}", t0.elapsed());
    fake.until("DTR and RTS", |l| l.subs.ends_with(&[vec![5, 8], vec![5, 12]]));

    // Without it, the same server fails the connection, in bounded time.
    let fake = Fake::start(silent_control);
    let mut s = fake.settings();
    s.negotiation_timeout = STEP_TIMEOUT;
    let t0 = Instant::now();
    let e = Rfc2217Port::connect(&s).err().expect("must fail");
    assert!(t0.elapsed() < 10 * STEP_TIMEOUT, "took {:?}", t0.elapsed());
    assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
    assert!(e.to_string().contains("SET-CONTROL 1 not acknowledged") && e.to_string().contains(&fake.addr), "{e}");
}

#[test]
fn set_baud_and_dtr_are_acknowledged() {
    let fake = Fake::start(echo);
    let mut port = Rfc2217Port::connect(&fake.settings()).unwrap();
    port.set_baud(0x0001_ffff).unwrap();
    assert_eq!(port.negotiated().baud, Some(0x0001_ffff));
    assert!(port.describe().contains("@131071 8N1"), "{}", port.describe());
    port.set_dtr(false).unwrap();
    fake.until("the baud with its IAC", |l| l.subs.contains(&vec![1, 0, 1, 0xff, 0xff]));
}

#[test]
fn dtr_and_rts_the_rig_asks_for_are_set_once_connected() {
    let fake = Fake::start(echo);
    let settings = Rfc2217Settings { dtr: Some(true), rts: Some(false), ..fake.settings() };
    let _port = Rfc2217Port::connect(&settings).unwrap();
    fake.until("DTR on, then RTS off", |l| {
        let dtr = l.subs.iter().position(|s| s == &vec![o::SET_CONTROL, o::CONTROL_DTR_ON]);
        let rts = l.subs.iter().position(|s| s == &vec![o::SET_CONTROL, o::CONTROL_RTS_OFF]);
        matches!((dtr, rts), (Some(d), Some(r)) if d < r)
    });
}

#[test]
fn purge_waits_for_the_server_and_drops_what_arrived_before() {
    let fake = Fake::start(echo);
    let mut port = Rfc2217Port::connect(&fake.settings()).unwrap();
    fake.send(b"stale");
    fake.send(&notify(o::NOTIFY_MODEMSTATE, 0x11));
    // The reader handles bytes in order: once it has the notification, "stale" is queued.
    wait_state(&port, |p| p.modem_state() == Some(0x11));
    Port::purge(&mut port).unwrap();
    fake.until("PURGE-DATA 3", |l| l.subs.last() == Some(&vec![12, 3]));
    fake.send(b"fresh");
    assert_eq!(read_n(&mut port, 5), b"fresh");
}

#[test]
fn purge_succeeds_behind_a_flood_that_fills_the_data_channel() {
    let fake = Fake::start(echo);
    let mut port = Rfc2217Port::connect(&fake.settings()).unwrap();
    // More than the channel holds (each chunk is at most 4 KiB): the reader blocks on it, and the
    // fake on its write, until purge drains; the acknowledgement comes after all of it.
    fake.send(&vec![b'x'; 2 * reader::CHANNEL_CHUNKS * 4096]);
    wait_state(&port, |p| p.rx.len() == reader::CHANNEL_CHUNKS);
    Port::purge(&mut port).unwrap();
    fake.until("PURGE-DATA 3", |l| l.subs.last() == Some(&vec![12, 3]));
    fake.send(b"fresh");
    assert_eq!(read_n(&mut port, 5), b"fresh");
}

#[test]
fn a_server_hanging_up_mid_stream_gives_closed_and_writes_fail() {
    let fake = Fake::start(echo);
    let mut port = Rfc2217Port::connect(&fake.settings()).unwrap();
    fake.send(b"partial");
    fake.cmds.send(Cmd::HangUp).unwrap();
    assert_eq!(read_n(&mut port, 7), b"partial");
    match port.read_until(port.now() + Duration::from_secs(20)) {
        Received::Closed(why) => assert!(!why.is_empty()),
        other => panic!("{other:?}"),
    }
    assert!(port.write(b"AT\r").is_err());
    assert!(port.purge().is_err());
}

#[test]
fn a_server_that_stops_taking_data_fails_the_write_in_bounded_time_and_closes_the_link() {
    let fake = Fake::start(echo);
    // 5 s to acknowledge (the fake does so at once), so the write timeout is the 10 s minimum.
    let s = Rfc2217Settings { negotiation_timeout: Duration::from_secs(5), ..fake.settings() };
    let mut port = Rfc2217Port::connect(&s).unwrap();
    fake.cmds.send(Cmd::StopReading).unwrap();
    let block = vec![b'A'; 1 << 20];
    let t0 = Instant::now();
    let e = loop {
        // Loopback buffers take a few MB; far more than that is never taken.
        assert!(t0.elapsed() < Duration::from_secs(120), "writes never blocked");
        if let Err(e) = port.write(&block) {
            break e;
        }
    };
    let took = t0.elapsed();
    // At most two stalled sends of 10 s each (one moved some bytes, the next none).
    assert!(took < Duration::from_secs(200), "took {took:?}");
    assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
    let says = e.to_string();
    assert!(says.contains("stopped taking data") && says.contains(&fake.addr), "{says}");
    match port.read_until(port.now() + Duration::from_secs(1)) {
        Received::Closed(why) => assert!(why.contains("stopped taking data"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(port.write(b"AT\r").is_err());
    assert!(port.purge().is_err());
    let t0 = Instant::now();
    drop(port);
    assert!(t0.elapsed() < Duration::from_secs(60), "drop took {:?}", t0.elapsed());
}

#[test]
fn unknown_options_are_refused_once() {
    let fake = Fake::start(echo);
    let mut port = Rfc2217Port::connect(&fake.settings()).unwrap();
    fake.send(&[IAC, telnet::DO, 24, IAC, telnet::DO, 24, IAC, telnet::WILL, 1, IAC, telnet::WILL, 1]);
    fake.send(&notify(o::NOTIFY_MODEMSTATE, 0x22));
    wait_state(&port, |p| p.modem_state() == Some(0x22));
    // The reader wrote its replies before it saw the notification; this goes after them.
    port.write(b"sync").unwrap();
    fake.until("sync", |l| l.data.ends_with(b"sync"));
    let log = fake.log.lock().unwrap();
    let count = |n| log.negotiations.iter().filter(|x| **x == n).count();
    assert_eq!(count((Verb::Wont, 24)), 1, "{:?}", log.negotiations);
    assert_eq!(count((Verb::Dont, 1)), 1, "{:?}", log.negotiations);
}

#[test]
fn an_oversize_subnegotiation_is_dropped_and_data_goes_on() {
    let fake = Fake::start(echo);
    let mut port = Rfc2217Port::connect(&fake.settings()).unwrap();
    let mut evil = vec![IAC, SB, COM_PORT_OPTION, 107];
    evil.extend(vec![0x41; 100_000]);
    evil.extend([IAC, SE]);
    evil.extend(b"ok");
    fake.send(&evil);
    assert_eq!(read_n(&mut port, 2), b"ok");
    assert_eq!(port.modem_state(), None);
}

#[test]
fn a_server_refusing_com_port_option_is_an_error() {
    let fake = Fake::with(Box::new(echo), true);
    let e = Rfc2217Port::connect(&fake.settings()).err().expect("must fail");
    assert_eq!(e.kind(), ErrorKind::Unsupported, "{e}");
    assert!(e.to_string().contains("refused COM-PORT-OPTION"), "{e}");
}

#[test]
fn a_server_that_never_negotiates_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let hold = std::thread::spawn(move || listener.accept().map(|(s, _)| s));
    let mut s = Rfc2217Settings::new(&addr);
    // The first step, so no earlier one can time out instead.
    s.negotiation_timeout = Duration::from_millis(300);
    let t0 = Instant::now();
    let e = Rfc2217Port::connect(&s).err().expect("must fail");
    assert!(t0.elapsed() < Duration::from_secs(10), "took {:?}", t0.elapsed());
    assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
    assert!(e.to_string().contains("COM-PORT-OPTION") && e.to_string().contains(&addr), "{e}");
    drop(hold.join());
}

#[test]
fn settings_from_a_serial_port_and_their_checks() {
    let mut serial = SerialSettings::at_path("/dev/ttyUSB0");
    serial.baud = 57_600;
    serial.parity = Parity::Odd;
    let s = Rfc2217Settings::from_serial("h:1", &serial);
    assert_eq!((s.baud, s.parity, s.frame()), (57_600, Parity::Odd, "8O1".to_string()));
    assert_eq!(s.negotiation_timeout, Duration::from_secs(3));
    let mut bad = s.clone();
    bad.data_bits = 9;
    let e = Rfc2217Port::connect(&bad).err().unwrap();
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
}
