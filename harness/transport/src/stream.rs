//! A [`Port`] over any byte stream: a reader thread stamps chunks as they arrive, so timing does
//! not depend on when the runner gets round to reading.

use crate::inbox::{Receiver, RecvTimeoutError};
use crate::{Chunk, Port, Received};
use miplcheck_at::Stamp;
use std::io::{self, ErrorKind, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long [`StreamPort::tcp`] waits for a TCP handshake.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The shortest write timeout of a TCP link (plain or RFC 2217): a write that hands the kernel
/// no byte at all for this long means the server stopped taking data (it stopped reading, or
/// ser2net with hardware flow control sits in front of a modem that dropped CTS), and the link
/// is closed instead of blocking for ever.
///
/// It bounds a stall, not a whole write: the socket's send timeout applies to each `send` that
/// can make no progress, and one that moved some bytes returns them, so `write_all` goes on. An
/// honest slow link keeps making progress: a modem at 9600 baud drains about 1 KB/s, so a SOTA
/// package of tens of KB takes tens of seconds but frees buffer space every few hundred
/// milliseconds. Ten seconds of no progress is far beyond what such a link shows. A stalled write
/// fails within about twice the timeout (a `send` that moved some bytes before the stall, then
/// one that moved none).
pub const MIN_WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Whether a write failed on the socket's send timeout (Linux says `EAGAIN`).
pub(crate) fn write_timed_out(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// What a link says when its write timed out: the server stopped taking data.
pub(crate) fn stopped_taking_data(link: &str, timeout: Duration) -> String {
    format!("{link}: the server stopped taking data (nothing could be written for {:.1} s)", timeout.as_secs_f64())
}

/// The next item from a link's reader thread, waiting at most `wait`; once the link is closed
/// (a `Closed` came, the reader went away, or `closed` was set elsewhere) `Closed` for ever
/// after, with the first reason. Shared by [`StreamPort`] and the RFC 2217 port.
pub(crate) fn recv_within(rx: &Receiver<Received>, closed: &mut Option<String>, wait: Duration) -> Received {
    if let Some(why) = closed {
        return Received::Closed(why.clone());
    }
    let why = match rx.recv_timeout(wait) {
        Ok(Received::Closed(why)) => why,
        Ok(r) => return r,
        Err(RecvTimeoutError::Timeout) => return Received::Timeout,
        Err(RecvTimeoutError::Disconnected) => "reader stopped".to_string(),
    };
    *closed = Some(why.clone());
    Received::Closed(why)
}

pub struct StreamPort {
    name: String,
    epoch: Instant,
    writer: Box<dyn Write + Send>,
    rx: Receiver<Received>,
    stop: Arc<AtomicBool>,
    reader: Option<std::thread::JoinHandle<()>>,
    /// The reader returns now and then (it has a read timeout), so dropping may wait for it.
    joinable: bool,
    /// Makes a reader blocked in `read` return at once (a byte down its wake pipe, a socket shut
    /// down), so dropping the port does not wait out a read timeout.
    wake: Option<Box<dyn FnOnce() + Send>>,
    /// The writer's write timeout, if it has one: a write failing on it closes the link.
    write_timeout: Option<Duration>,
    closed: Option<String>,
}

impl StreamPort {
    /// `reader` must return from `read` now and then (a read timeout, or EOF) so the thread can see
    /// that the port was dropped.
    pub fn new(name: impl Into<String>, mut reader: Box<dyn Read + Send>, writer: Box<dyn Write + Send>) -> Self {
        let epoch = Instant::now();
        let (tx, rx) = crate::inbox::unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let name = name.into();
        let reader = std::thread::Builder::new()
            .name(format!("read {name}"))
            .spawn(move || {
                let mut buf = [0u8; 4096];
                while !stop2.load(Ordering::Relaxed) {
                    match reader.read(&mut buf) {
                        Ok(0) => {
                            let _ = tx.send(Received::Closed("end of stream".into()));
                            return;
                        }
                        Ok(n) => {
                            let chunk = Chunk { at: epoch.elapsed(), bytes: buf[..n].to_vec() };
                            if tx.send(Received::Data(chunk)).is_err() {
                                return;
                            }
                        }
                        Err(e)
                            if matches!(
                                e.kind(),
                                ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted
                            ) => {}
                        Err(e) => {
                            let _ = tx.send(Received::Closed(e.to_string()));
                            return;
                        }
                    }
                }
            })
            .expect("spawn reader thread");
        StreamPort {
            name,
            epoch,
            writer,
            rx,
            stop,
            reader: Some(reader),
            joinable: false,
            wake: None,
            write_timeout: None,
            closed: None,
        }
    }

    /// A TCP link (the emulator's `--tcp`, a ser2net raw port), connecting within
    /// [`DEFAULT_CONNECT_TIMEOUT`].
    pub fn tcp(addr: &str) -> io::Result<Self> {
        Self::tcp_within(addr, DEFAULT_CONNECT_TIMEOUT)
    }

    /// A TCP link, giving up on each of the address's resolutions after `timeout` (a server that
    /// drops SYNs would otherwise hold the run for the OS's two minutes). The error names the
    /// address and the time. Writes time out after [`MIN_WRITE_TIMEOUT`] without progress, which
    /// closes the link.
    pub fn tcp_within(addr: &str, timeout: Duration) -> io::Result<Self> {
        let stream = connect_within(addr, timeout)?;
        stream.set_nodelay(true)?;
        // A backstop only: dropping the port shuts the socket down, which ends a read at once.
        stream.set_read_timeout(Some(Duration::from_millis(100)))?;
        stream.set_write_timeout(Some(MIN_WRITE_TIMEOUT))?;
        let reader = stream.try_clone()?;
        let socket = stream.try_clone()?;
        let mut port = Self::new(format!("tcp {addr}"), Box::new(reader), Box::new(stream)).woken_by(move || {
            let _ = socket.shutdown(std::net::Shutdown::Both);
        });
        port.write_timeout = Some(MIN_WRITE_TIMEOUT);
        Ok(port)
    }

    /// Says the reader has a read timeout, so dropping the port can wait for its thread.
    pub fn with_timed_reads(mut self) -> Self {
        self.joinable = true;
        self
    }

    /// Says how to make the reader return from a blocked `read` at once (it then sees the port
    /// dropped), so dropping the port joins its thread without waiting out a read timeout.
    pub fn woken_by(mut self, wake: impl FnOnce() + Send + 'static) -> Self {
        self.joinable = true;
        self.wake = Some(Box::new(wake));
        self
    }
}

/// Connects to `addr`, giving up on each of its resolutions after `timeout`; the error names the
/// address and the time. Shared by the TCP links ([`StreamPort::tcp_within`], RFC 2217).
pub(crate) fn connect_within(addr: &str, timeout: Duration) -> io::Result<std::net::TcpStream> {
    use std::net::ToSocketAddrs;
    let mut last = None;
    let mut stream = None;
    let addrs = addr.to_socket_addrs().map_err(|e| io::Error::new(e.kind(), format!("cannot resolve {addr}: {e}")))?;
    for a in addrs {
        let started = Instant::now();
        match std::net::TcpStream::connect_timeout(&a, timeout) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) if e.kind() == ErrorKind::TimedOut => {
                last = Some(io::Error::new(
                    ErrorKind::TimedOut,
                    format!("no answer from {a} within {:.1} s", started.elapsed().as_secs_f64()),
                ))
            }
            Err(e) => last = Some(io::Error::new(e.kind(), format!("{a}: {e}"))),
        }
    }
    stream.ok_or_else(|| {
        last.unwrap_or_else(|| io::Error::new(ErrorKind::NotFound, format!("{addr} resolves to no address")))
    })
}

impl Drop for StreamPort {
    /// Waits for the reader thread when its reads time out (serial, TCP), so the port's file is
    /// closed when this returns and can be opened again at once (serial ports are opened
    /// exclusively). A reader blocked on a stream with no timeout is left to end with its stream.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(wake) = self.wake.take() {
            wake();
        }
        if self.joinable {
            if let Some(t) = self.reader.take() {
                let _ = t.join();
            }
        }
    }
}

impl Port for StreamPort {
    fn describe(&self) -> String {
        self.name.clone()
    }

    fn now(&self) -> Stamp {
        self.epoch.elapsed()
    }

    fn epoch(&self) -> Option<Instant> {
        Some(self.epoch)
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<Stamp> {
        if let Some(why) = &self.closed {
            return Err(io::Error::new(ErrorKind::BrokenPipe, why.clone()));
        }
        match self.writer.write_all(bytes).and_then(|()| self.writer.flush()) {
            Ok(()) => Ok(self.now()),
            Err(e) => match self.write_timeout {
                Some(t) if write_timed_out(&e) => {
                    // Part of the bytes may be gone: the link cannot be trusted any more.
                    let why = stopped_taking_data(&self.name, t);
                    self.closed = Some(why.clone());
                    Err(io::Error::new(ErrorKind::TimedOut, why))
                }
                _ => Err(e),
            },
        }
    }

    fn read_until(&mut self, deadline: Stamp) -> Received {
        let wait = deadline.saturating_sub(self.now());
        recv_within(&self.rx, &mut self.closed, wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn tcp_round_trip_and_hang_up() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = [0u8; 3];
            s.read_exact(&mut buf).unwrap();
            s.write_all(b"\r\nOK\r\n").unwrap();
        });
        let mut port = StreamPort::tcp(&addr).unwrap();
        port.write(b"AT\r").unwrap();
        let deadline = port.now() + Duration::from_secs(10);
        let mut got = Vec::new();
        loop {
            match port.read_until(deadline) {
                Received::Data(c) => got.extend(c.bytes),
                Received::Closed(_) => break,
                Received::Timeout => panic!("no answer"),
            }
        }
        assert_eq!(got, b"\r\nOK\r\n");
        server.join().unwrap();
        assert!(matches!(port.read_until(port.now()), Received::Closed(_)));
        assert!(port.write(b"AT\r").is_err());
    }

    #[test]
    fn timeout_when_silent() {
        let (r, w) = std::io::pipe().unwrap();
        let mut port = StreamPort::new("pipe", Box::new(r), Box::new(std::io::sink()));
        let t0 = port.now();
        assert_eq!(port.read_until(t0 + Duration::from_millis(20)), Received::Timeout);
        drop(w);
        assert!(matches!(port.read_until(port.now() + Duration::from_secs(10)), Received::Closed(_)));
    }

    #[test]
    fn a_server_that_never_reads_fails_the_write_in_bounded_time_and_closes_the_link() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        // Accepts and holds the connection, never reading.
        let hold = std::thread::spawn(move || listener.accept().map(|(s, _)| s));
        let mut port = StreamPort::tcp(&addr).unwrap();
        let block = vec![b'A'; 1 << 20];
        let t0 = Instant::now();
        let e = loop {
            // Loopback buffers take a few MB; far more than that is never taken.
            assert!(t0.elapsed() < Duration::from_secs(60), "writes never blocked");
            if let Err(e) = port.write(&block) {
                break e;
            }
        };
        assert!(t0.elapsed() < Duration::from_secs(60), "took {:?}", t0.elapsed());
        assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
        assert!(e.to_string().contains("stopped taking data") && e.to_string().contains(&addr), "{e}");
        assert!(matches!(port.read_until(port.now() + Duration::from_secs(1)), Received::Closed(_)));
        assert!(port.write(b"AT\r").is_err());
        let t0 = Instant::now();
        drop(port);
        assert!(t0.elapsed() < Duration::from_secs(60), "drop took {:?}", t0.elapsed());
        drop(hold.join());
    }

    #[test]
    fn connecting_to_a_silent_server_gives_up_in_time_and_says_where() {
        let (_listener, _fill, addr) = crate::ser2net_fixture::silent_listener();
        let t0 = Instant::now();
        let e = StreamPort::tcp_within(&addr.to_string(), Duration::from_millis(500)).err().expect("must fail");
        let took = t0.elapsed();
        assert!(took < Duration::from_secs(10), "took {took:?}");
        assert_eq!(e.kind(), ErrorKind::TimedOut, "{e}");
        let says = e.to_string();
        assert!(says.contains(&addr.to_string()) && says.contains(" s"), "{says}");
    }
}
