//! Serving a [`Modem`] in real time on a pty or a TCP socket, for the runner, other tools and
//! people at a terminal (`miplcheck emulate --pty`).

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

enum Event {
    Input(Vec<u8>),
    /// A datagram from the network: who sent it (`ip:port`) and the bytes.
    Datagram(String, Vec<u8>),
    Reset,
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
    let pty = Pty::open()?;
    let path = pty.path.clone();
    let master = pty.master.try_clone()?;
    let stop = Arc::new(AtomicBool::new(false));
    let reader = PollReader { file: master, stop: stop.clone() };
    let running = start(modem, reader, PtyWriter(pty), stop)?;
    Ok(PtyModem { path, running })
}

/// Serves one TCP connection at a time on `listener`, a fresh power-on modem for each.
pub fn on_tcp(listener: std::net::TcpListener, make: impl Fn() -> Modem) -> io::Result<()> {
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
        let running = start(make(), TimeoutReader { inner: reader, stop: stop.clone() }, conn, stop)?;
        running.wait();
    }
    Ok(())
}

/// Keeps the pty (and its slave keep-alive) alive as long as the writer.
struct PtyWriter(Pty);

impl Write for PtyWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.master.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.0.master.flush()
    }
}

/// Reads the pty master with a poll timeout so the thread can be stopped.
struct PollReader {
    file: std::fs::File,
    stop: Arc<AtomicBool>,
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

fn start<R, W>(mut modem: Modem, mut reader: R, mut writer: W, stop: Arc<AtomicBool>) -> io::Result<Running>
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
    let udp = Network::bind(tx.clone(), stop.clone())?;
    let thread = std::thread::Builder::new().name("emulator".into()).spawn(move || {
        event_loop(&mut modem, &rx, &mut writer, &udp);
    })?;
    Ok(Running { control: tx, stop_reader: stop, thread: Some(thread) })
}

/// The modem's UDP socket: one per running modem, on an ephemeral port, as a module has.
struct Network {
    socket: std::net::UdpSocket,
}

impl Network {
    fn bind(tx: Sender<Event>, stop: Arc<AtomicBool>) -> io::Result<Network> {
        let socket = std::net::UdpSocket::bind("0.0.0.0:0")?;
        socket.set_read_timeout(Some(Duration::from_millis(100)))?;
        let reader = socket.try_clone()?;
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
        Ok(Network { socket })
    }

    /// Sends to `host:port` as the modem was configured; a name that does not resolve is dropped,
    /// as a radio would lose it, and the modem's own timers report the failure.
    fn send(&self, to: &str, bytes: &[u8]) {
        use std::net::ToSocketAddrs;
        match to.to_socket_addrs().ok().and_then(|mut a| a.next()) {
            Some(addr) => {
                let _ = self.socket.send_to(bytes, addr);
            }
            None => tracing::warn!("cannot resolve {to}; datagram dropped"),
        }
    }
}

fn event_loop(modem: &mut Modem, rx: &Receiver<Event>, writer: &mut dyn Write, net: &Network) {
    let epoch = Instant::now();
    let mut queue: Vec<Emission> = Vec::new();
    // Replies go back to whoever wrote to us, under the name the modem was configured with.
    let mut names: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    loop {
        let now = epoch.elapsed();
        let next_emission = queue.first().map(|e| e.at);
        let next = [next_emission, modem.next_deadline()].into_iter().flatten().min();
        let wait = next.map(|t| t.saturating_sub(now)).unwrap_or(Duration::from_secs(3600));
        match rx.recv_timeout(wait) {
            Ok(Event::Input(bytes)) => {
                let out = modem.input(&bytes, epoch.elapsed());
                queue.extend(out);
            }
            Ok(Event::Datagram(from, bytes)) => {
                let name = names.get(&from).cloned().unwrap_or(from);
                queue.extend(modem.datagram(&name, &bytes, epoch.elapsed()));
            }
            Ok(Event::Reset) => {
                modem.reset();
                queue.clear();
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
            if let Some(addr) = d.to.to_socket_addrs().ok().and_then(|mut a| a.next()) {
                names.insert(addr.to_string(), d.to.clone());
            }
            net.send(&d.to, &d.bytes);
        }
        // Stable: emissions due at the same time keep their order.
        queue.sort_by_key(|e| e.at);
        while queue.first().is_some_and(|e| e.at <= now) {
            let e = queue.remove(0);
            if writer.write_all(&e.bytes).and_then(|_| writer.flush()).is_err() {
                return;
            }
        }
    }
}
