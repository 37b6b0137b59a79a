//! The live side of a recording: the MCU's link (a pty the recorder offers, or a TCP connection
//! it accepts) forwarded to and from the rig's modem port, both ways, every chunk kept with its
//! stamp on the modem port's clock. It never changes a byte and never answers the MCU itself; it
//! ends on a signal ([`crate::interrupt`]), when the MCU side closes, or when the modem's does.

use super::{Chunk, Dir, MAX_RECORDED_BYTES};
use crate::interrupt::{self, Signal};
use miplcheck_emulator::serve::{PollReader, PtyWriter};
use miplcheck_transport::pty::Pty;
use miplcheck_transport::stream::StreamPort;
use miplcheck_transport::{Port, Received};
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How long each side is listened to before the other is looked at: the most a byte waits in
/// the recorder.
const SLICE: Duration = Duration::from_millis(5);

/// A new pseudo-terminal for the MCU software to open as its modem, and the recorder's end of it.
pub fn offer_pty() -> io::Result<(PathBuf, StreamPort)> {
    let pty = Pty::open()?;
    let path = pty.path.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let reader = PollReader::new(pty.master.try_clone()?, stop.clone());
    let port = StreamPort::new(format!("pty {}", path.display()), Box::new(reader), Box::new(PtyWriter::new(pty)))
        .woken_by(move || stop.store(true, Ordering::Relaxed));
    Ok((path, port))
}

/// Waits for the MCU software to connect to `listener`; `None` when a signal came first.
pub fn accept_tcp(listener: &std::net::TcpListener) -> io::Result<Option<StreamPort>> {
    listener.set_nonblocking(true)?;
    loop {
        if interrupt::requested().is_some() {
            return Ok(None);
        }
        match listener.accept() {
            Ok((conn, peer)) => {
                conn.set_nonblocking(false)?;
                conn.set_nodelay(true)?;
                // The reader must return now and then to see the port dropped.
                conn.set_read_timeout(Some(Duration::from_millis(100)))?;
                conn.set_write_timeout(Some(Duration::from_secs(10)))?;
                let reader = conn.try_clone()?;
                return Ok(Some(StreamPort::new(format!("tcp {peer}"), Box::new(reader), Box::new(conn))));
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(e),
        }
    }
}

/// Why the session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    Signal(Signal),
    /// The MCU side hung up (or could not be written to), with the reason.
    McuClosed(String),
    /// The modem's link closed (or could not be written to), with the reason.
    ModemClosed(String),
}

/// A forwarded session.
#[derive(Debug, Clone)]
pub struct Session {
    pub chunks: Vec<Chunk>,
    pub end: End,
    /// More than [`MAX_RECORDED_BYTES`] went by: the rest was forwarded but not kept.
    pub truncated: bool,
}

/// Forwards between `mcu` and `modem` until a signal or either side closes.
pub fn forward(modem: &mut dyn Port, mcu: &mut dyn Port) -> Session {
    let mut s = Session { chunks: Vec::new(), end: End::McuClosed(String::new()), truncated: false };
    let mut kept = 0usize;
    loop {
        if let Some(signal) = interrupt::requested() {
            s.end = End::Signal(signal);
            return s;
        }
        if let Some(end) = slice(modem, mcu, &mut s, &mut kept) {
            s.end = end;
            return s;
        }
    }
}

/// One slice of each side: what the MCU sent to the modem, then what the modem sent to the MCU.
fn slice(modem: &mut dyn Port, mcu: &mut dyn Port, s: &mut Session, kept: &mut usize) -> Option<End> {
    let mut keep = |at, dir, bytes: Vec<u8>| {
        *kept += bytes.len();
        if *kept > MAX_RECORDED_BYTES {
            s.truncated = true;
        } else {
            s.chunks.push(Chunk { at, dir, bytes });
        }
    };
    match mcu.read_until(mcu.now() + SLICE) {
        Received::Data(c) => match modem.write(&c.bytes) {
            Ok(at) => keep(at, Dir::FromTe, c.bytes),
            Err(e) => return Some(End::ModemClosed(e.to_string())),
        },
        Received::Timeout => {}
        Received::Closed(why) => return Some(End::McuClosed(why)),
    }
    match modem.read_until(modem.now() + SLICE) {
        Received::Data(c) => {
            let sent = mcu.write(&c.bytes);
            keep(c.at, Dir::ToTe, c.bytes);
            if let Err(e) = sent {
                return Some(End::McuClosed(e.to_string()));
            }
        }
        Received::Timeout => {}
        Received::Closed(why) => return Some(End::ModemClosed(why)),
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use miplcheck_transport::serial::{self, SerialSettings};

    #[test]
    fn bytes_cross_both_ways_and_are_kept_in_order() {
        let (path, mut mcu_end) = offer_pty().unwrap();
        let mut mcu = serial::open(&SerialSettings::at_path(path.to_string_lossy())).unwrap();
        let modem_rig =
            crate::rig::Rig::parse(std::path::Path::new("rig.toml"), "kind = \"emulator\"\ndialect = \"bc39\"\n")
                .unwrap();
        let mut target = crate::target::open(&modem_rig).unwrap();
        target.prepare().unwrap();
        let worker = std::thread::spawn(move || {
            let mut got = Vec::new();
            mcu.write(b"AT\r").unwrap();
            let deadline = mcu.now() + Duration::from_secs(20);
            while !String::from_utf8_lossy(&got).contains("OK") {
                match mcu.read_until(deadline) {
                    Received::Data(c) => got.extend(c.bytes),
                    other => panic!("{other:?} after {:?}", String::from_utf8_lossy(&got)),
                }
            }
            got
        });
        // A pty keeps no hang-up, and unit tests install no signal handler: slice until the
        // worker has its answer.
        let mut session = Session { chunks: vec![], end: End::McuClosed(String::new()), truncated: false };
        let mut kept = 0;
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while !worker.is_finished() && std::time::Instant::now() < deadline {
            assert_eq!(slice(target.port(), &mut mcu_end, &mut session, &mut kept), None);
        }
        let got = worker.join().unwrap();
        assert!(String::from_utf8_lossy(&got).contains("OK"));
        assert_eq!(session.chunks[0].dir, Dir::FromTe);
        assert_eq!(session.chunks[0].bytes, b"AT\r");
        assert!(session.chunks.iter().any(|c| c.dir == Dir::ToTe));
    }
}
