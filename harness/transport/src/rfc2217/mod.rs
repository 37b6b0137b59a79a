//! A serial port reached over the network through RFC 2217 (telnet COM-PORT-OPTION), as ser2net
//! and terminal servers offer it: the link sets the far UART's baud, frame and flow control,
//! DTR/RTS, and purges its buffers, while data crosses as a telnet byte stream.
//!
//! This is a client only, and a [`Port`] like the others: data chunks are stamped on arrival by
//! a reader thread. It must never pass telnet commands off as modem output, nor let a server
//! make it loop negotiating or buffer without bound.

mod negotiate;
pub mod options;
mod reader;
pub mod telnet;

use crate::inbox::Receiver;
use crate::serial::{FlowControl, Parity, SerialSettings};
use crate::{Port, Received};
use miplcheck_at::Stamp;
use negotiate::Side;
use options as o;
use reader::{Reader, Shared, State};
use std::io::{self, ErrorKind, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use telnet::{escape, subnegotiation, COM_PORT_OPTION};

/// How to reach the server and what to set the far serial port to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rfc2217Settings {
    /// `host:port`.
    pub address: String,
    /// Per resolved address, as [`crate::stream::StreamPort::tcp_within`].
    pub connect_timeout: Duration,
    /// Baud rate asked of the far port.
    pub baud: u32,
    /// Data bits, 5–8.
    pub data_bits: u8,
    /// Parity.
    pub parity: Parity,
    /// Stop bits, 1 or 2.
    pub stop_bits: u8,
    /// Flow control, sent as SET-CONTROL.
    pub flow_control: FlowControl,
    /// pyserial's `ign_set_control`: do not wait for SET-CONTROL acknowledgements (a pty behind
    /// ser2net never answers them).
    pub ign_set_control: bool,
    /// How long to wait for the server to acknowledge the negotiation and each setting.
    pub negotiation_timeout: Duration,
    /// DTR as the modem's wiring wants it once connected (some boards gate the modem's power or
    /// its sleep on DTR); left as the server has it when `None`.
    pub dtr: Option<bool>,
    /// RTS likewise.
    pub rts: Option<bool>,
}

impl Rfc2217Settings {
    /// 115200 8N1, no flow control, 5 s to connect, 3 s for each acknowledgement.
    pub fn new(address: impl Into<String>) -> Self {
        Rfc2217Settings {
            address: address.into(),
            connect_timeout: crate::stream::DEFAULT_CONNECT_TIMEOUT,
            baud: 115_200,
            data_bits: 8,
            parity: Parity::None,
            stop_bits: 1,
            flow_control: FlowControl::None,
            ign_set_control: false,
            negotiation_timeout: Duration::from_secs(3),
            dtr: None,
            rts: None,
        }
    }

    /// The line settings of a serial port's, for the port at `address`.
    pub fn from_serial(address: impl Into<String>, serial: &SerialSettings) -> Self {
        Rfc2217Settings {
            baud: serial.baud,
            data_bits: serial.data_bits,
            parity: serial.parity,
            stop_bits: serial.stop_bits,
            flow_control: serial.flow_control,
            ..Self::new(address)
        }
    }

    /// `8N1` and friends.
    pub fn frame(&self) -> String {
        crate::serial::frame(self.data_bits, self.parity, self.stop_bits)
    }

    fn validate(&self) -> io::Result<()> {
        let bad =
            |what: String| Err(io::Error::new(ErrorKind::InvalidInput, format!("rfc2217 {}: {what}", self.address)));
        if self.baud == 0 {
            return bad("baud must be above 0 (0 asks the server instead of setting)".into());
        }
        if !(5..=8).contains(&self.data_bits) {
            return bad(format!("data_bits must be 5–8, got {}", self.data_bits));
        }
        if !(1..=2).contains(&self.stop_bits) {
            return bad(format!("stop_bits must be 1 or 2, got {}", self.stop_bits));
        }
        Ok(())
    }
}

/// What the server acknowledged; `None` where it has not (yet) confirmed a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Negotiated {
    /// SET-BAUDRATE's answer.
    pub baud: Option<u32>,
    /// SET-DATASIZE's answer.
    pub data_bits: Option<u8>,
    /// SET-PARITY's answer.
    pub parity: Option<Parity>,
    /// SET-STOPSIZE's answer.
    pub stop_bits: Option<u8>,
}

/// A serial port behind an RFC 2217 server.
pub struct Rfc2217Port {
    settings: Rfc2217Settings,
    epoch: Instant,
    writer: Arc<Mutex<TcpStream>>,
    /// The socket again, outside the writer's lock: shut down to unblock a reader or writer.
    socket: TcpStream,
    /// Set on the socket: a write making no progress for this long closes the link.
    write_timeout: Duration,
    shared: Arc<Shared>,
    rx: Receiver<Received>,
    stop: Arc<AtomicBool>,
    reader: Option<std::thread::JoinHandle<()>>,
    closed: Option<String>,
    negotiated: Negotiated,
}

impl Rfc2217Port {
    /// Connects, negotiates COM-PORT-OPTION, BINARY and SGA, then sets baud, data size, parity,
    /// stop size and flow control, waiting for each to be acknowledged (flow control not, with
    /// `ign_set_control`). The error names the setting and the server.
    pub fn connect(settings: &Rfc2217Settings) -> io::Result<Self> {
        settings.validate()?;
        let stream = crate::stream::connect_within(&settings.address, settings.connect_timeout)?;
        stream.set_nodelay(true)?;
        // So the reader thread sees the port dropped, and drop can join it.
        stream.set_read_timeout(Some(Duration::from_millis(100)))?;
        // So a server that stops taking data cannot block a write (the port's, or the reader's
        // negotiation replies under the same lock, and with them drop) for ever. See
        // MIN_WRITE_TIMEOUT for why an honest slow link does not trip it.
        let write_timeout = settings.negotiation_timeout.max(crate::stream::MIN_WRITE_TIMEOUT);
        stream.set_write_timeout(Some(write_timeout))?;
        let epoch = Instant::now();
        let (tx, rx) = crate::inbox::bounded(reader::CHANNEL_CHUNKS);
        let shared = Arc::new(Shared::default());
        let stop = Arc::new(AtomicBool::new(false));
        let writer = Arc::new(Mutex::new(stream.try_clone()?));
        let socket = stream.try_clone()?;
        let r = Reader {
            name: format!("rfc2217 {}", settings.address),
            stream,
            writer: writer.clone(),
            write_timeout,
            shared: shared.clone(),
            tx,
            stop: stop.clone(),
            epoch,
        };
        let reader =
            std::thread::Builder::new().name(format!("read rfc2217 {}", settings.address)).spawn(|| r.run())?;
        let mut port = Rfc2217Port {
            settings: settings.clone(),
            epoch,
            writer,
            socket,
            write_timeout,
            shared,
            rx,
            stop,
            reader: Some(reader),
            closed: None,
            negotiated: Negotiated::default(),
        };
        port.negotiate()?;
        let s = settings;
        port.setting(o::SET_BAUDRATE, &s.baud.to_be_bytes(), true)?;
        port.negotiated.baud = Some(s.baud);
        port.setting(o::SET_DATASIZE, &[s.data_bits], true)?;
        port.negotiated.data_bits = Some(s.data_bits);
        port.setting(o::SET_PARITY, &[o::parity_value(s.parity)], true)?;
        port.negotiated.parity = Some(s.parity);
        port.setting(o::SET_STOPSIZE, &[o::stop_value(s.stop_bits)], true)?;
        port.negotiated.stop_bits = Some(s.stop_bits);
        port.setting(o::SET_CONTROL, &[o::flow_value(s.flow_control)], !s.ign_set_control)?;
        if let Some(on) = s.dtr {
            port.set_dtr(on)?;
        }
        if let Some(on) = s.rts {
            port.set_rts(on)?;
        }
        Ok(port)
    }

    /// Purges the server's buffers both ways (PURGE-DATA 3), waits for the acknowledgement, then
    /// drops whatever data had already reached this side.
    ///
    /// The data is drained before the request and all the while it waits: the reader hands data
    /// over in order and blocks when the data channel is full, so an acknowledgement queued
    /// behind a flood of data would otherwise never be seen.
    pub fn purge(&mut self) -> io::Result<()> {
        self.check_open()?;
        self.drain()?;
        let what = format!("{} {}", o::name(o::PURGE_DATA), o::PURGE_BOTH);
        self.request(o::PURGE_DATA, &[o::PURGE_BOTH])?;
        let answer = self.wait_draining(&what, |st| st.acks[o::PURGE_DATA as usize].clone().map(Ok))?;
        self.check_answer(o::PURGE_DATA, &what, &[o::PURGE_BOTH], &answer)?;
        self.drain()
    }

    /// Drops the data that reached this side; a `Closed` among it latches the link closed and is
    /// an error.
    fn drain(&mut self) -> io::Result<()> {
        while let Ok(r) = self.rx.try_recv() {
            if let Received::Closed(why) = r {
                self.closed = Some(why.clone());
                return Err(io::Error::new(
                    ErrorKind::ConnectionAborted,
                    format!("rfc2217 {}: connection closed: {why}", self.settings.address),
                ));
            }
        }
        Ok(())
    }

    /// [`Self::wait`], draining the data channel meanwhile (the reader may be blocked on it).
    fn wait_draining<T>(
        &mut self,
        what: &str,
        mut check: impl FnMut(&State) -> Option<io::Result<T>>,
    ) -> io::Result<T> {
        let started = Instant::now();
        loop {
            self.drain()?;
            // Short slices: a reader blocked on the full channel does not signal the condition.
            let slice = Duration::from_millis(20);
            match self.wait_for(what, started, slice, &mut check) {
                Err(e) if e.kind() == ErrorKind::TimedOut && started.elapsed() < self.settings.negotiation_timeout => {}
                r => return r,
            }
        }
    }

    /// Raises or drops DTR; waits for the acknowledgement unless `ign_set_control`.
    pub fn set_dtr(&mut self, on: bool) -> io::Result<()> {
        let v = if on { o::CONTROL_DTR_ON } else { o::CONTROL_DTR_OFF };
        self.setting(o::SET_CONTROL, &[v], !self.settings.ign_set_control).map(drop)
    }

    /// Raises or drops RTS; waits for the acknowledgement unless `ign_set_control`.
    pub fn set_rts(&mut self, on: bool) -> io::Result<()> {
        let v = if on { o::CONTROL_RTS_ON } else { o::CONTROL_RTS_OFF };
        self.setting(o::SET_CONTROL, &[v], !self.settings.ign_set_control).map(drop)
    }

    /// Changes the far port's baud rate, waiting for the acknowledgement.
    pub fn set_baud(&mut self, baud: u32) -> io::Result<()> {
        if baud == 0 {
            return Err(io::Error::new(ErrorKind::InvalidInput, "baud must be above 0"));
        }
        self.setting(o::SET_BAUDRATE, &baud.to_be_bytes(), true)?;
        self.settings.baud = baud;
        self.negotiated.baud = Some(baud);
        Ok(())
    }

    /// What the server acknowledged.
    pub fn negotiated(&self) -> Negotiated {
        self.negotiated
    }

    /// The last NOTIFY-MODEMSTATE value (CD, RI, DSR, CTS and their deltas).
    pub fn modem_state(&self) -> Option<u8> {
        self.shared.lock().modem_state
    }

    /// The last NOTIFY-LINESTATE value (errors, break, buffer states).
    pub fn line_state(&self) -> Option<u8> {
        self.shared.lock().line_state
    }

    /// Offers the options and waits until the server takes COM-PORT-OPTION.
    fn negotiate(&mut self) -> io::Result<()> {
        let offer = self.shared.lock().negotiator.offer();
        self.send_raw(&offer)?;
        let addr = self.settings.address.clone();
        self.wait("the telnet negotiation (DO COM-PORT-OPTION)", |st| match st.negotiator.us(COM_PORT_OPTION) {
            Side::On => Some(Ok(())),
            Side::Off | Side::Refused => Some(Err(io::Error::new(
                ErrorKind::Unsupported,
                format!("rfc2217 {addr}: the server refused COM-PORT-OPTION (is it a raw TCP port?)"),
            ))),
            Side::Requested => None,
        })
    }

    /// Sends a COM-PORT-OPTION subcommand; with `wait`, waits for the server to answer with the
    /// same value. Returns the answer (`None` when not waited for).
    fn setting(&mut self, code: u8, value: &[u8], wait: bool) -> io::Result<Option<Vec<u8>>> {
        self.check_open()?;
        self.request(code, value)?;
        if !wait {
            return Ok(None);
        }
        let what = format!("{} {}", o::name(code), show(code, value));
        let answer = self.wait(&what, |st| st.acks[code as usize].clone().map(Ok))?;
        self.check_answer(code, &what, value, &answer)?;
        Ok(Some(answer))
    }

    /// Sends a COM-PORT-OPTION subcommand, clearing its last answer first (so an older answer is
    /// not taken for this one's).
    fn request(&mut self, code: u8, value: &[u8]) -> io::Result<()> {
        self.shared.lock().acks[code as usize] = None;
        let mut request = vec![code];
        request.extend_from_slice(value);
        self.send_raw(&subnegotiation(COM_PORT_OPTION, &request))
    }

    fn check_answer(&self, code: u8, what: &str, value: &[u8], answer: &[u8]) -> io::Result<()> {
        if answer == value {
            return Ok(());
        }
        Err(io::Error::new(
            ErrorKind::InvalidData,
            format!("rfc2217 {}: {what} answered with {} instead", self.settings.address, show(code, answer)),
        ))
    }

    /// Waits until `check` says something, the connection ends, or the negotiation timeout.
    fn wait<T>(&self, what: &str, check: impl FnMut(&State) -> Option<io::Result<T>>) -> io::Result<T> {
        self.wait_for(what, Instant::now(), self.settings.negotiation_timeout, check)
    }

    /// [`Self::wait`] for at most `slice`, within the negotiation timeout counted from `started`.
    fn wait_for<T>(
        &self,
        what: &str,
        started: Instant,
        slice: Duration,
        mut check: impl FnMut(&State) -> Option<io::Result<T>>,
    ) -> io::Result<T> {
        let deadline = (started + self.settings.negotiation_timeout).min(Instant::now() + slice);
        let mut st = self.shared.lock();
        loop {
            if let Some(r) = check(&st) {
                return r;
            }
            if let Some(why) = &st.closed {
                return Err(io::Error::new(
                    ErrorKind::ConnectionAborted,
                    format!("rfc2217 {}: connection closed while waiting for {what}: {why}", self.settings.address),
                ));
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(io::Error::new(
                    ErrorKind::TimedOut,
                    format!(
                        "rfc2217 {}: {what} not acknowledged within {:.1} s",
                        self.settings.address,
                        started.elapsed().as_secs_f64()
                    ),
                ));
            }
            st = self.shared.changed.wait_timeout(st, deadline - now).unwrap_or_else(|p| p.into_inner()).0;
        }
    }

    fn check_open(&self) -> io::Result<()> {
        let why = self.closed.clone().or_else(|| self.shared.lock().closed.clone());
        match why {
            Some(why) => {
                Err(io::Error::new(ErrorKind::BrokenPipe, format!("rfc2217 {}: {why}", self.settings.address)))
            }
            None => Ok(()),
        }
    }

    /// Writes under the writer's lock. A write that times out closes the link: some of the bytes
    /// may have gone, the server is not taking more, and the socket is shut down so the reader
    /// ends too (with this reason).
    fn send_raw(&mut self, bytes: &[u8]) -> io::Result<()> {
        let r = {
            let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            w.write_all(bytes).and_then(|()| w.flush())
        };
        match r {
            Err(e) if crate::stream::write_timed_out(&e) => {
                let why = crate::stream::stopped_taking_data(
                    &format!("rfc2217 {}", self.settings.address),
                    self.write_timeout,
                );
                close_for_stall(&self.shared, &self.socket, &why);
                self.closed = Some(why.clone());
                Err(io::Error::new(ErrorKind::TimedOut, why))
            }
            r => r,
        }
    }
}

/// Marks the link closed for `why` (unless it already was) and shuts the socket down, so the
/// reader thread ends and a blocked write returns.
pub(super) fn close_for_stall(shared: &Shared, socket: &TcpStream, why: &str) {
    {
        let mut st = shared.lock();
        st.closed.get_or_insert_with(|| why.to_string());
    }
    shared.changed.notify_all();
    let _ = socket.shutdown(std::net::Shutdown::Both);
}

/// A subcommand value for messages: baud rates as numbers, the rest as bytes.
fn show(code: u8, value: &[u8]) -> String {
    match (code, value) {
        (o::SET_BAUDRATE, &[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]).to_string(),
        (_, [v]) => v.to_string(),
        _ => format!("{value:02x?}"),
    }
}

impl Drop for Rfc2217Port {
    /// Joins the reader (its reads time out; the shutdown ends a reply it may be writing), so the
    /// connection is closed when this returns.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.socket.shutdown(std::net::Shutdown::Both);
        if let Some(t) = self.reader.take() {
            let _ = t.join();
        }
    }
}

impl Port for Rfc2217Port {
    fn describe(&self) -> String {
        format!("rfc2217 {} @{} {}", self.settings.address, self.settings.baud, self.settings.frame())
    }

    fn now(&self) -> Stamp {
        self.epoch.elapsed()
    }

    fn epoch(&self) -> Option<Instant> {
        Some(self.epoch)
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<Stamp> {
        self.check_open()?;
        self.send_raw(&escape(bytes))?;
        Ok(self.now())
    }

    fn read_until(&mut self, deadline: Stamp) -> Received {
        let wait = deadline.saturating_sub(self.now());
        crate::stream::recv_within(&self.rx, &mut self.closed, wait)
    }

    fn purge(&mut self) -> io::Result<()> {
        Rfc2217Port::purge(self)
    }
}

#[cfg(test)]
mod tests;
