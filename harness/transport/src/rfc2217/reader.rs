//! The RFC 2217 port's reader thread and the state it shares with the port: it stamps data
//! chunks as they arrive (as [`crate::stream::StreamPort`] does), answers option negotiation,
//! and files the server's COM-PORT-OPTION answers and notifications for the port to wait on.
//! It must not let telnet commands into the data, nor hold more than a bounded amount of it.

use super::negotiate::Negotiator;
use super::options::{self as o, SERVER_OFFSET};
use super::telnet::{Decoder, Event, COM_PORT_OPTION};
use crate::inbox::{SendTimeoutError, Sender};
use crate::{Chunk, Received};
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The longest subnegotiation kept: RFC 2217's longest is a SIGNATURE text, far shorter.
pub const SB_LIMIT: usize = 512;
/// Data chunks held for the runner (each at most one 4 KiB read). When full, the reader stops
/// reading and TCP pushes back on the server, instead of memory growing.
pub const CHANNEL_CHUNKS: usize = 1024;

/// What the reader learnt, guarded by [`Shared::state`].
#[derive(Debug, Default)]
pub struct State {
    pub negotiator: Negotiator,
    /// The server's last answer to each client subcommand (index: the client's code), value only.
    pub acks: [Option<Vec<u8>>; 13],
    pub modem_state: Option<u8>,
    pub line_state: Option<u8>,
    /// Why the connection ended, once it has.
    pub closed: Option<String>,
}

/// The state and a condition variable signalled on every change to it.
#[derive(Debug, Default)]
pub struct Shared {
    pub state: Mutex<State>,
    pub changed: Condvar,
}

impl Shared {
    /// The state; a panic elsewhere while holding it leaves it usable (it is plain data).
    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Everything the reader thread needs.
pub struct Reader {
    pub name: String,
    pub stream: TcpStream,
    pub writer: Arc<Mutex<TcpStream>>,
    /// The socket's write timeout, for the message when a reply times out.
    pub write_timeout: Duration,
    pub shared: Arc<Shared>,
    pub tx: Sender<Received>,
    pub stop: Arc<AtomicBool>,
    pub epoch: Instant,
}

impl Reader {
    /// Runs until the connection ends or the port is dropped. `stream` must have a read timeout.
    pub fn run(mut self) {
        let mut decoder = Decoder::new(SB_LIMIT);
        let mut buf = [0u8; 4096];
        let mut events = Vec::new();
        while !self.stop.load(Ordering::Relaxed) {
            match self.stream.read(&mut buf) {
                Ok(0) => return self.close("end of stream".into()),
                Ok(n) => {
                    let at = self.epoch.elapsed();
                    events.clear();
                    decoder.feed(&buf[..n], &mut events);
                    for e in events.drain(..) {
                        if !self.event(e, at) {
                            return;
                        }
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::WouldBlock | ErrorKind::Interrupted) => {}
                Err(e) => return self.close(e.to_string()),
            }
        }
    }

    /// Handles one event; false when the port is gone.
    fn event(&mut self, e: Event, at: std::time::Duration) -> bool {
        match e {
            Event::Data(bytes) => return self.send(Received::Data(Chunk { at, bytes })),
            Event::Negotiate(verb, option) => {
                let reply = {
                    let mut st = self.shared.lock();
                    let reply = st.negotiator.receive(verb, option);
                    self.shared.changed.notify_all();
                    reply
                };
                tracing::debug!(link = %self.name, ?verb, option, ?reply, "telnet negotiation");
                if let Some(reply) = reply {
                    let r = self.writer.lock().unwrap_or_else(|p| p.into_inner()).write_all(&reply);
                    match r {
                        // A server not taking even a reply is gone: close (the read then fails).
                        Err(e) if crate::stream::write_timed_out(&e) => {
                            let why = crate::stream::stopped_taking_data(&self.name, self.write_timeout);
                            super::close_for_stall(&self.shared, &self.stream, &why);
                        }
                        // Other failures show up as a failed read soon after.
                        _ => {}
                    }
                }
            }
            Event::Subnegotiation { option: COM_PORT_OPTION, payload } => self.com_port(&payload),
            Event::Subnegotiation { option, payload } => {
                tracing::debug!(link = %self.name, option, len = payload.len(), "ignored subnegotiation")
            }
            Event::SubnegotiationTooLong { option, limit } => {
                tracing::warn!(link = %self.name, option, limit, "subnegotiation longer than the limit: dropped")
            }
            Event::SubnegotiationBroken { option } => {
                tracing::warn!(link = %self.name, option, "subnegotiation broken off by another command: dropped")
            }
            Event::Command(c) => tracing::trace!(link = %self.name, command = c, "telnet command"),
        }
        true
    }

    /// A COM-PORT-OPTION subnegotiation from the server.
    fn com_port(&mut self, payload: &[u8]) {
        let Some((&code, value)) = payload.split_first() else { return };
        let Some(client_code) = code.checked_sub(SERVER_OFFSET).filter(|c| *c <= o::PURGE_DATA) else {
            // Codes below 100 are the server asking us things (e.g. our SIGNATURE): optional.
            tracing::debug!(link = %self.name, code, "COM-PORT-OPTION subcommand not handled");
            return;
        };
        let mut st = self.shared.lock();
        match client_code {
            o::NOTIFY_LINESTATE => {
                let v = value.first().copied().unwrap_or(0);
                let errors = o::line_errors(v);
                if errors.is_empty() {
                    tracing::debug!(link = %self.name, line_state = v, "line state");
                } else {
                    tracing::warn!(link = %self.name, line_state = v, ?errors, "line errors reported by the server");
                }
                st.line_state = Some(v);
            }
            o::NOTIFY_MODEMSTATE => {
                let v = value.first().copied().unwrap_or(0);
                if st.modem_state != Some(v) {
                    tracing::info!(link = %self.name, modem_state = format!("{v:#04x}"), "modem state changed");
                }
                st.modem_state = Some(v);
            }
            o::FLOWCONTROL_SUSPEND | o::FLOWCONTROL_RESUME => {
                tracing::info!(link = %self.name, what = o::name(client_code), "server flow control")
            }
            c => st.acks[c as usize] = Some(value.to_vec()),
        }
        self.shared.changed.notify_all();
    }

    /// Hands an item to the port, waiting while the channel is full; false when the port is gone.
    fn send(&self, mut item: Received) -> bool {
        loop {
            match self.tx.send_timeout(item, Duration::from_millis(100)) {
                Ok(()) => return true,
                Err(SendTimeoutError::Timeout(back)) if !self.stop.load(Ordering::Relaxed) => item = back,
                Err(_) => return false,
            }
        }
    }

    /// Ends the link; a reason given earlier (a stalled write) wins over what the read saw.
    fn close(self, why: String) {
        let why = self.shared.lock().closed.get_or_insert(why).clone();
        self.shared.changed.notify_all();
        self.send(Received::Closed(why));
    }
}
