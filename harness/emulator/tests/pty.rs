//! The emulator on a real pty, opened with the serial code, as a host driver or `socat -` sees
//! it: what the TE types comes back at once, and the dialect's reset command prints its banner.

use miplcheck_emulator::serve::on_pty;
use miplcheck_emulator::{Modem, Options};
use miplcheck_transport::serial::{open, SerialSettings};
use miplcheck_transport::{Chunk, Port, Received};
use std::time::Duration;

/// Chunks until `got` (all of them joined) contains `want`, or a generous deadline.
fn read_until(port: &mut dyn Port, want: &str, got: &mut Vec<Chunk>) -> String {
    let deadline = port.now() + Duration::from_secs(30);
    loop {
        let text: String = got.iter().map(|c| String::from_utf8_lossy(&c.bytes).into_owned()).collect();
        if text.contains(want) {
            return text;
        }
        match port.read_until(deadline) {
            Received::Data(c) => got.push(c),
            other => panic!("{other:?} waiting for {want:?}; got {text:?}"),
        }
    }
}

/// The answer is delayed by far more than a loaded machine could delay the echo, so the echo
/// is heard, stamped, well before it.
#[test]
fn the_echo_arrives_before_a_delayed_answer() {
    let delay = Duration::from_secs(3);
    let mut o = Options::for_dialect("bc39");
    o.delays.insert("+MIPLVER".into(), delay);
    let pty = on_pty(Modem::new(o).unwrap()).unwrap();
    let mut port = open(&SerialSettings::at_path(pty.path.to_string_lossy())).unwrap();
    let sent = port.write(b"AT+MIPLVER?\r").unwrap();
    let mut got = vec![];
    let heard = read_until(&mut port, "AT+MIPLVER?\r", &mut got);
    assert!(!heard.contains("OK"), "the echo came with the answer: {heard:?}");
    let echoed = got.last().unwrap().at;
    read_until(&mut port, "OK\r\n", &mut got);
    let answered = got.last().unwrap().at;
    assert!(answered.saturating_sub(sent) >= delay, "the answer kept its delay");
    assert!(answered.saturating_sub(echoed) >= delay / 2, "echo at {echoed:?}, answer at {answered:?}");
}

#[test]
fn a_lone_lf_runs_the_line() {
    let pty = on_pty(Modem::new(Options::for_dialect("m5310a")).unwrap()).unwrap();
    let mut port = open(&SerialSettings::at_path(pty.path.to_string_lossy())).unwrap();
    port.write(b"AT+CGMM\n").unwrap();
    let heard = read_until(&mut port, "OK\r\n", &mut vec![]);
    assert_eq!(heard, "AT+CGMM\n\r\nM5310-A\r\n\r\nOK\r\n");
}

#[rstest::rstest]
#[case("bc39")]
#[case("m5310a")]
fn the_reset_command_prints_its_banner_after_the_boot_time(#[case] dialect: &str) {
    let mut o = Options::for_dialect(dialect);
    o.echo = false;
    let modem = Modem::new(o).unwrap();
    let restart = &modem.dialect().restart;
    let pty = on_pty(modem).unwrap();
    let mut port = open(&SerialSettings::at_path(pty.path.to_string_lossy())).unwrap();
    let sent = port.write(format!("{}\r", restart.command).as_bytes()).unwrap();
    let mut got = vec![];
    read_until(&mut port, restart.answer, &mut got);
    let heard = read_until(&mut port, &format!("{}\r\n", restart.ready()), &mut got);
    assert!(heard.starts_with(&format!("\r\n{}\r\n", restart.answer)), "{heard:?}");
    let up = got.last().unwrap().at;
    assert!(up.saturating_sub(sent) >= Duration::from_millis(restart.boot_ms), "banner at {up:?}");
    port.write(b"AT\r").unwrap();
    assert_eq!(read_until(&mut port, "OK\r\n", &mut vec![]), "\r\nOK\r\n", "up again, answering");
}

/// What a tap saw: (from the TE?, the bytes), in order.
type Seen = std::sync::Arc<std::sync::Mutex<Vec<(bool, Vec<u8>)>>>;

/// A tap sees what the modem is sent and what it writes, byte for byte, and changes neither.
#[test]
fn a_tap_sees_both_ways() {
    use miplcheck_emulator::serve::{on_pty_tapped, Traffic};
    use std::sync::Arc;
    let seen: Seen = Arc::default();
    let log = seen.clone();
    let tap = Arc::new(move |_: std::time::Instant, t: Traffic<'_>| match t {
        Traffic::FromTe(b) => log.lock().unwrap().push((true, b.to_vec())),
        Traffic::ToTe(b) => log.lock().unwrap().push((false, b.to_vec())),
        Traffic::DatagramOut(..) | Traffic::DatagramIn(..) => {}
    });
    let pty = on_pty_tapped(Modem::new(Options::for_dialect("bc39")).unwrap(), Some(tap)).unwrap();
    let mut port = open(&SerialSettings::at_path(pty.path.to_string_lossy())).unwrap();
    port.write(b"AT+MIPLVER?\r").unwrap();
    let mut got = vec![];
    let heard = read_until(&mut port, "OK\r\n", &mut got);
    let seen = seen.lock().unwrap().clone();
    let sent: Vec<u8> = seen.iter().filter(|(te, _)| *te).flat_map(|(_, b)| b.clone()).collect();
    let written: Vec<u8> = seen.iter().filter(|(te, _)| !*te).flat_map(|(_, b)| b.clone()).collect();
    assert_eq!(sent, b"AT+MIPLVER?\r");
    assert_eq!(String::from_utf8_lossy(&written), heard, "what the tap saw is what the TE got");
}
