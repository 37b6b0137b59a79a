//! Serving a [`Modem`] in real time on a pty or a TCP socket, for the runner, other tools and
//! people at a terminal (`miplcheck emulate --pty`). A [`Tap`] sees the traffic as it is served
//! (`miplcheck emulate --log`); it observes only and cannot change what the modem is sent or sends.

use crate::modem::{Emission, Modem};
use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use miplcheck_transport::pty::Pty;
use std::io::{self, Read, Write};
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What crossed the served modem's links, as the serve loop handled it.
#[derive(Debug, Clone, Copy)]
pub enum Traffic<'a> {
    /// Bytes from the TE (the MCU, a terminal) to the modem.
    FromTe(&'a [u8]),
    /// Bytes the modem wrote to the TE.
    ToTe(&'a [u8]),
    /// A datagram the modem sent, to `ip:port`.
    DatagramOut(&'a str, &'a [u8]),
    /// A datagram that came to the modem's socket, from `ip:port` (also one it then drops).
    DatagramIn(&'a str, &'a [u8]),
}

/// An observer of the served traffic, called on the modem's thread with the instant it happened:
/// keep it quick, or the modem's answers wait for it.
pub type Tap = Arc<TapFn>;

/// What a [`Tap`] holds.
pub type TapFn = dyn Fn(Instant, Traffic<'_>) + Send + Sync;

enum Event {
    Input(Vec<u8>),
    /// A datagram from the network: who sent it (`ip:port`) and the bytes.
    Datagram(String, Vec<u8>),
    Reset,
    /// A case's event codes, from the next reset on ([`Modem::set_case_events`]).
    CaseEvents(std::collections::BTreeMap<String, u16>),
    /// The bench flashed what the modem runs: later resets keep it ([`Modem::keep_firmware`]).
    KeepFirmware,
    /// Bytes the harness writes to the TE side itself, after everything the modem wrote before.
    Mark(Vec<u8>),
    Stop,
    /// The TE side went away (TCP peer closed).
    Gone,
}

/// A modem running on its own thread.
pub struct Running {
    control: Sender<Event>,
    stop_reader: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Running {
    /// Power-cycles the modem: settings back to power-on values, answers in flight dropped.
    pub fn reset(&self) {
        let _ = self.control.send(Event::Reset);
    }

    /// A case's event codes over the rig's, from the next [`Running::reset`] on (see
    /// [`Modem::set_case_events`]).
    pub fn case_events(&self, events: std::collections::BTreeMap<String, u16>) {
        let _ = self.control.send(Event::CaseEvents(events));
    }

    /// The bench has flashed the firmware the modem now runs: later resets keep its revision
    /// ([`Modem::keep_firmware`]).
    pub fn keep_firmware(&self) {
        let _ = self.control.send(Event::KeepFirmware);
    }

    /// Writes `bytes` to the TE side after everything the modem has made due so far, and before
    /// anything it writes for input that comes later: a marker a runner reads up to, knowing that
    /// whatever came before it is older. Answers scheduled for later still come after it, unless
    /// a [`reset`] sent before it dropped them. Not modem behaviour: the runner's sync.
    ///
    /// [`reset`]: Running::reset
    pub fn mark(&self, bytes: &[u8]) {
        let _ = self.control.send(Event::Mark(bytes.to_vec()));
    }

    /// Runs until stopped or, for TCP, until the peer hangs up.
    pub fn wait(mut self) {
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop_reader.store(true, Ordering::Relaxed);
        let _ = self.control.send(Event::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A modem on a pseudo-terminal; open [`PtyModem::path`] like any serial port.
pub struct PtyModem {
    pub path: PathBuf,
    pub running: Running,
}

pub fn on_pty(modem: Modem) -> io::Result<PtyModem> {
    on_pty_tapped(modem, None)
}

/// [`on_pty`] with the traffic shown to `tap`.
pub fn on_pty_tapped(modem: Modem, tap: Option<Tap>) -> io::Result<PtyModem> {
    let pty = Pty::open()?;
    let path = pty.path.clone();
    let master = pty.master.try_clone()?;
    let stop = Arc::new(AtomicBool::new(false));
    let reader = PollReader { file: master, stop: stop.clone() };
    let running = start(modem, reader, PtyWriter(pty), stop, tap)?;
    Ok(PtyModem { path, running })
}

/// Serves one TCP connection at a time on `listener`, a fresh power-on modem for each.
pub fn on_tcp(listener: std::net::TcpListener, make: impl Fn() -> Modem) -> io::Result<()> {
    on_tcp_tapped(listener, make, None)
}

/// [`on_tcp`] with the traffic shown to `tap`.
pub fn on_tcp_tapped(listener: std::net::TcpListener, make: impl Fn() -> Modem, tap: Option<Tap>) -> io::Result<()> {
    for conn in listener.incoming() {
        // One failed accept (a peer that reset at once) must not stop the emulator.
        let conn = match conn {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!("accept failed: {e}");
                continue;
            }
        };
        conn.set_nodelay(true)?;
        conn.set_read_timeout(Some(Duration::from_millis(100)))?;
        // A peer that stops reading must not hang the modem forever.
        conn.set_write_timeout(Some(Duration::from_secs(10)))?;
        let reader = conn.try_clone()?;
        let stop = Arc::new(AtomicBool::new(false));
        let running = start(make(), TimeoutReader { inner: reader, stop: stop.clone() }, conn, stop, tap.clone())?;
        running.wait();
    }
    Ok(())
}

/// Writes a pty's master side, keeping the pty (and its slave keep-alive) alive as long as the
/// writer: also the recorder's end of the pty it offers an MCU.
pub struct PtyWriter(Pty);

impl PtyWriter {
    pub fn new(pty: Pty) -> Self {
        PtyWriter(pty)
    }
}

impl Write for PtyWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.master.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.master.flush()
    }
}

/// Reads the pty master with a poll timeout so the thread can be stopped: once `stop` is set, a
/// read returns 0 within 100 ms.
pub struct PollReader {
    file: std::fs::File,
    stop: Arc<AtomicBool>,
}

impl PollReader {
    pub fn new(file: std::fs::File, stop: Arc<AtomicBool>) -> Self {
        PollReader { file, stop }
    }
}

impl Read for PollReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(0);
            }
            let mut fds = [PollFd::new(self.file.as_fd(), PollFlags::POLLIN)];
            match poll(&mut fds, PollTimeout::from(100u16)) {
                Ok(0) => continue,
                Ok(_) => return self.file.read(buf),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

struct TimeoutReader<R> {
    inner: R,
    stop: Arc<AtomicBool>,
}

impl<R: Read> Read for TimeoutReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(0);
            }
            match self.inner.read(buf) {
                Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => continue,
                r => return r,
            }
        }
    }
}

fn start<R, W>(
    mut modem: Modem,
    mut reader: R,
    mut writer: W,
    stop: Arc<AtomicBool>,
    tap: Option<Tap>,
) -> io::Result<Running>
where
    R: Read + Send + 'static,
    W: Write + Send + 'static,
{
    let (tx, rx) = crossbeam_channel::unbounded();
    let tx_reader = tx.clone();
    std::thread::Builder::new().name("emulator read".into()).spawn(move || {
        let mut buf = [0u8; 4096];
        loop {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = tx_reader.send(Event::Gone);
                    return;
                }
                Ok(n) => {
                    if tx_reader.send(Event::Input(buf[..n].to_vec())).is_err() {
                        return;
                    }
                }
            }
        }
    })?;
    let mut udp = Network { tx: tx.clone(), stop: stop.clone(), sockets: Vec::new() };
    let thread = std::thread::Builder::new().name("emulator".into()).spawn(move || {
        event_loop(&mut modem, &rx, &mut writer, &mut udp, tap.as_deref());
    })?;
    Ok(Running { control: tx, stop_reader: stop, thread: Some(thread) })
}

/// The modem's UDP sockets: opened when the modem first sends, on an ephemeral port, as a module
/// has — one per local address. A server on loopback (the shipped rigs) is reached from the
/// family's loopback address, so nothing listens wider than the harness needs; any other server
/// from the unspecified address, with a warning.
struct Network {
    tx: Sender<Event>,
    stop: Arc<AtomicBool>,
    sockets: Vec<(std::net::IpAddr, std::net::UdpSocket)>,
}

/// The local address that reaches `to`: its family's loopback when it is on loopback, else the
/// family's unspecified address (the OS picks the interface).
fn local_for(to: std::net::SocketAddr) -> std::net::IpAddr {
    use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
    match (to.ip().is_loopback(), to) {
        (true, std::net::SocketAddr::V4(_)) => IpAddr::V4(Ipv4Addr::LOCALHOST),
        (true, std::net::SocketAddr::V6(_)) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        (false, std::net::SocketAddr::V4(_)) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        (false, std::net::SocketAddr::V6(_)) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
    }
}

impl Network {
    /// The socket that reaches `to`, opened (and its reader started) on first use.
    fn socket_for(&mut self, to: std::net::SocketAddr) -> io::Result<&std::net::UdpSocket> {
        let local = local_for(to);
        if let Some(i) = self.sockets.iter().position(|(ip, _)| *ip == local) {
            return Ok(&self.sockets[i].1);
        }
        let socket = std::net::UdpSocket::bind((local, 0))?;
        if local.is_unspecified() {
            tracing::warn!(
                "the emulator's UDP socket listens on {} (every interface) to reach {to}",
                socket.local_addr().map(|a| a.to_string()).unwrap_or_else(|_| local.to_string())
            );
        }
        socket.set_read_timeout(Some(Duration::from_millis(100)))?;
        let reader = socket.try_clone()?;
        let (tx, stop) = (self.tx.clone(), self.stop.clone());
        std::thread::Builder::new().name("emulator udp".into()).spawn(move || {
            let mut buf = [0u8; 2048];
            while !stop.load(Ordering::Relaxed) {
                match reader.recv_from(&mut buf) {
                    Ok((n, from)) => {
                        if tx.send(Event::Datagram(from.to_string(), buf[..n].to_vec())).is_err() {
                            return;
                        }
                    }
                    Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
                    Err(_) => {}
                }
            }
        })?;
        self.sockets.push((local, socket));
        Ok(&self.sockets.last().expect("just pushed").1)
    }

    /// Sends to `addr` (the modem's configured `host:port`, resolved); a socket that cannot be
    /// opened loses the datagram, as a radio would, and the modem's own timers report the failure.
    fn send(&mut self, addr: std::net::SocketAddr, bytes: &[u8]) {
        match self.socket_for(addr) {
            Ok(s) => {
                let _ = s.send_to(bytes, addr);
            }
            Err(e) => tracing::warn!("cannot open a UDP socket to reach {addr} ({e}); datagram dropped"),
        }
    }
}

fn event_loop(modem: &mut Modem, rx: &Receiver<Event>, writer: &mut dyn Write, net: &mut Network, tap: Option<&TapFn>) {
    let epoch = Instant::now();
    let seen = |t: Traffic<'_>| {
        if let Some(tap) = tap {
            tap(Instant::now(), t);
        }
    };
    let mut queue: Vec<Emission> = Vec::new();
    // The servers the modem was configured with and has sent to, by address, under the name it
    // was given: replies come back from them; anything else is dropped.
    let mut names: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    let mut strangers: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    loop {
        let now = epoch.elapsed();
        let next_emission = queue.first().map(|e| e.at);
        let next = [next_emission, modem.next_deadline()].into_iter().flatten().min();
        let wait = next.map(|t| t.saturating_sub(now)).unwrap_or(Duration::from_secs(3600));
        match rx.recv_timeout(wait) {
            Ok(Event::Input(bytes)) => {
                seen(Traffic::FromTe(&bytes));
                let out = modem.input(&bytes, epoch.elapsed());
                queue.extend(out);
            }
            Ok(Event::Datagram(from, bytes)) => match names.get(&from) {
                Some(name) => {
                    seen(Traffic::DatagramIn(&from, &bytes));
                    queue.extend(modem.datagram(name, &bytes, epoch.elapsed()))
                }
                // Not from the configured server: a note in the log, nothing on the AT port.
                None => {
                    seen(Traffic::DatagramIn(&from, &bytes));
                    if strangers.insert(from.clone()) {
                        tracing::warn!(
                            "dropped a {}-byte datagram from {from}: not a server this modem was configured with \
                             (later ones from there are dropped silently)",
                            bytes.len()
                        );
                    }
                }
            },
            Ok(Event::Reset) => {
                modem.reset();
                queue.clear();
                // After a power cycle no server is configured.
                names.clear();
                strangers.clear();
            }
            Ok(Event::CaseEvents(events)) => modem.set_case_events(events),
            Ok(Event::KeepFirmware) => modem.keep_firmware(),
            Ok(Event::Mark(bytes)) => {
                // Due now, behind whatever is due by now (the queue is stable-sorted below).
                queue.push(Emission { at: epoch.elapsed(), bytes });
            }
            Ok(Event::Stop) | Ok(Event::Gone) | Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
        }
        let now = epoch.elapsed();
        if modem.next_deadline().is_some_and(|t| t <= now) {
            queue.extend(modem.poll(now));
        }
        for d in modem.take_datagrams() {
            use std::net::ToSocketAddrs;
            match d.to.to_socket_addrs().ok().and_then(|mut a| a.next()) {
                Some(addr) => {
                    names.insert(addr.to_string(), d.to.clone());
                    seen(Traffic::DatagramOut(&addr.to_string(), &d.bytes));
                    net.send(addr, &d.bytes);
                }
                None => tracing::warn!("cannot resolve {}; datagram dropped", d.to),
            }
        }
        // Stable: emissions due at the same time keep their order.
        queue.sort_by_key(|e| e.at);
        while queue.first().is_some_and(|e| e.at <= now) {
            let e = queue.remove(0);
            seen(Traffic::ToTe(&e.bytes));
            if writer.write_all(&e.bytes).and_then(|_| writer.flush()).is_err() {
                return;
            }
        }
    }
}
