//! The platform on a real UDP socket, on tokio: `miplcheck platform --listen …` and the runner's
//! in-process platform. It runs on its own thread with its own runtime; the caller talks to it
//! through a [`Handle`], which is synchronous so the runner's engine stays simple.

use crate::record::WireRecord;
use crate::server::{
    Device, Note, OpId, OpOutcome, OperateError, Operation, Platform, PlatformOptions, MAX_NOTES, MAX_RECORDS,
};
use crate::sota::SotaReport;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

enum Cmd {
    Operate(Option<String>, Operation, oneshot::Sender<Result<OpId, OperateError>>),
    Outcome(OpId, oneshot::Sender<OpOutcome>),
    Sota(OpId, oneshot::Sender<Option<SotaReport>>),
    Devices(oneshot::Sender<Vec<Device<SocketAddr>>>),
    AutoObserve(bool, oneshot::Sender<()>),
    Dtls(Option<Vec<u8>>, oneshot::Sender<()>),
    AuthCode(Option<String>, oneshot::Sender<()>),
    Fault(crate::server::Interface, Option<crate::server::Fault>, oneshot::Sender<()>),
    /// What the bootstrap server hands out for the DTLS port: URI and key.
    AssignPsk(Option<(String, Vec<u8>)>, oneshot::Sender<()>),
    Stop,
}

/// A running platform.
pub struct Handle {
    tx: mpsc::UnboundedSender<Cmd>,
    pub addr: SocketAddr,
    /// Where the platform speaks DTLS only, on OneNET's port 5684 (M5310-A §2.5: the port is
    /// what turns DTLS on), at a loopback address of its own so platforms never share it.
    pub dtls_addr: Option<SocketAddr>,
    records: Arc<Mutex<Taken>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Handle {
    /// Starts operation `op` on the device (see [`Platform::operate`]).
    pub fn operate(&self, device: Option<&str>, op: Operation) -> Result<OpId, OperateError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Cmd::Operate(device.map(str::to_string), op, tx)).map_err(|_| OperateError::Stopped)?;
        rx.blocking_recv().map_err(|_| OperateError::Stopped)?
    }

    pub fn outcome(&self, id: OpId) -> OpOutcome {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::Outcome(id, tx)).is_err() {
            return OpOutcome::TimedOut;
        }
        rx.blocking_recv().unwrap_or(OpOutcome::TimedOut)
    }

    /// What a SOTA job came to so far (see [`Platform::sota_report`]).
    pub fn sota_report(&self, id: OpId) -> Option<SotaReport> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Cmd::Sota(id, tx)).ok()?;
        rx.blocking_recv().ok().flatten()
    }

    /// Sends a setting and returns once the platform has applied it, so a registration that
    /// follows cannot race it.
    fn apply(&self, cmd: impl FnOnce(oneshot::Sender<()>) -> Cmd) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(cmd(tx)).is_ok() {
            let _ = rx.blocking_recv();
        }
    }

    /// Switches auto-observe for registrations from now on.
    pub fn set_auto_observe(&self, on: bool) {
        self.apply(|done| Cmd::AutoObserve(on, done));
    }

    /// Speaks DTLS with this pre-shared key from now on (any identity), or plain CoAP with `None`.
    pub fn set_dtls(&self, psk: Option<Vec<u8>>) {
        self.apply(|done| Cmd::Dtls(psk, done));
    }

    /// Requires this auth code (CoAP option 63) in registrations from now on, or none.
    pub fn set_auth_code(&self, code: Option<String>) {
        self.apply(|done| Cmd::AuthCode(code, done));
    }

    /// Makes the bootstrap server give devices `uri` and `key` for the LwM2M server (M5310-A
    /// §5.4.2.1: a fresh PSK per bootstrap); the DTLS port then takes that key from a device that
    /// shakes hands again after its bootstrap.
    pub fn assign_psk(&self, assigned: Option<(String, Vec<u8>)>) {
        self.apply(|done| Cmd::AssignPsk(assigned, done));
    }

    /// Misbehaves on an interface from now on (refuse, or ignore), or behaves again with `None`.
    pub fn set_fault(&self, what: crate::server::Interface, fault: Option<crate::server::Fault>) {
        self.apply(|done| Cmd::Fault(what, fault, done));
    }

    pub fn devices(&self) -> Vec<Device<SocketAddr>> {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::Devices(tx)).is_err() {
            return vec![];
        }
        rx.blocking_recv().unwrap_or_default()
    }

    /// Datagrams recorded since the last call, stamped on the epoch given to [`spawn`] (at most
    /// [`MAX_RECORDS`]: past it the oldest are dropped, see [`Handle::records_dropped`]).
    pub fn take_records(&self) -> Vec<WireRecord> {
        std::mem::take(&mut self.records.lock().unwrap_or_else(|e| e.into_inner()).records).into()
    }

    /// What the platform did on its own since the last call (see [`Note`]).
    pub fn take_notes(&self) -> Vec<Note> {
        std::mem::take(&mut self.records.lock().unwrap_or_else(|e| e.into_inner()).notes).into()
    }

    /// Records dropped so far because nobody took them in time.
    pub fn records_dropped(&self) -> u64 {
        self.records.lock().unwrap_or_else(|e| e.into_inner()).dropped
    }
}

/// What the platform's thread hands over, bounded like the platform's own buffers.
#[derive(Default)]
struct Taken {
    records: std::collections::VecDeque<WireRecord>,
    notes: std::collections::VecDeque<Note>,
    dropped: u64,
}

impl Taken {
    fn extend(&mut self, pf: &mut Platform<SocketAddr>) {
        for r in pf.take_records() {
            if self.records.len() >= MAX_RECORDS {
                self.records.pop_front();
                self.dropped += 1;
            }
            self.records.push_back(r);
        }
        for n in pf.take_notes() {
            if self.notes.len() >= MAX_NOTES {
                self.notes.pop_front();
            }
            self.notes.push_back(n);
        }
    }
}

impl Drop for Handle {
    fn drop(&mut self) {
        let _ = self.tx.send(Cmd::Stop);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Binds `listen` and serves until the handle is dropped. Record times count from `epoch`.
/// `{port}` in `opts.server_uri` becomes the port bound (for `listen` port 0).
pub fn spawn(listen: SocketAddr, mut opts: PlatformOptions, epoch: Instant) -> std::io::Result<Handle> {
    let std_socket = std::net::UdpSocket::bind(listen)?;
    std_socket.set_nonblocking(true)?;
    let addr = std_socket.local_addr()?;
    let dtls_std = dtls_socket(addr);
    let dtls_addr = dtls_std.as_ref().and_then(|s| s.local_addr().ok());
    opts.server_uri = opts.server_uri.replace("{port}", &addr.port().to_string());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let records = Arc::new(Mutex::new(Taken::default()));
    let rec = records.clone();
    let thread = std::thread::Builder::new().name(format!("platform {addr}")).spawn(move || {
        let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("platform: cannot start its runtime: {e}");
                return;
            }
        };
        rt.block_on(async move {
            let Ok(socket) = tokio::net::UdpSocket::from_std(std_socket) else { return };
            let dsock = dtls_std.and_then(|s| tokio::net::UdpSocket::from_std(s).ok());
            let mut pf: Platform<SocketAddr> = Platform::new(opts);
            let (mut buf, mut dbuf) = (vec![0u8; 2048], vec![0u8; 2048]);
            // The main port speaks DTLS only after `set_dtls`; the DTLS port always does.
            let mut main = Link::default();
            let mut secure = Link { always: true, ..Link::default() };
            loop {
                let now = epoch.elapsed();
                let sleep = pf.next_deadline().map(|t| t.saturating_sub(now)).unwrap_or(Duration::from_secs(3600));
                let out = tokio::select! {
                    // Datagrams already here come first, so records keep the order of causes:
                    // a notification sent before a suite asked for a write is recorded before it.
                    biased;
                    r = socket.recv_from(&mut buf) => match r {
                        Ok((n, from)) => {
                            let (send, plain) = main.receive(from, &buf[..n]);
                            for d in send {
                                let _ = socket.send_to(&d, from).await;
                            }
                            plain.iter().flat_map(|p| pf.on_datagram(from, p, epoch.elapsed())).collect()
                        }
                        Err(_) => vec![],
                    },
                    r = recv(&dsock, &mut dbuf) => match (r, &dsock) {
                        (Ok((n, from)), Some(ds)) => {
                            let (send, plain) = secure.receive(from, &dbuf[..n]);
                            for d in send {
                                let _ = ds.send_to(&d, from).await;
                            }
                            plain.iter().flat_map(|p| pf.on_datagram(from, p, epoch.elapsed())).collect()
                        }
                        _ => vec![],
                    },
                    _ = tokio::time::sleep(sleep) => pf.poll(epoch.elapsed()),
                    cmd = rx.recv() => match cmd {
                        Some(Cmd::Operate(dev, op, reply)) => {
                            let r = pf.operate(dev.as_deref(), op, epoch.elapsed());
                            let (res, out) = match r {
                                Ok((id, out)) => (Ok(id), out),
                                Err(e) => (Err(e), vec![]),
                            };
                            let _ = reply.send(res);
                            out
                        }
                        Some(Cmd::Outcome(id, reply)) => {
                            let _ = reply.send(pf.outcome(id));
                            vec![]
                        }
                        Some(Cmd::Sota(id, reply)) => {
                            let _ = reply.send(pf.sota_report(id));
                            vec![]
                        }
                        Some(Cmd::Devices(reply)) => {
                            let _ = reply.send(pf.devices().to_vec());
                            vec![]
                        }
                        Some(Cmd::Fault(what, fault, done)) => {
                            pf.set_fault(what, fault);
                            let _ = done.send(());
                            vec![]
                        }
                        Some(Cmd::AuthCode(code, done)) => {
                            pf.set_auth_code(code);
                            let _ = done.send(());
                            vec![]
                        }
                        Some(Cmd::Dtls(key, done)) => {
                            main.set_key(key.clone());
                            secure.set_key(key);
                            let _ = done.send(());
                            vec![]
                        }
                        Some(Cmd::AssignPsk(assigned, done)) => {
                            secure.assigned = assigned.as_ref().map(|(_, k)| k.clone());
                            pf.set_assigned_psk(assigned);
                            let _ = done.send(());
                            vec![]
                        }
                        Some(Cmd::AutoObserve(on, done)) => {
                            pf.set_auto_observe(on);
                            let _ = done.send(());
                            vec![]
                        }
                        Some(Cmd::Stop) | None => return,
                    },
                };
                // Recorded before it is sent: a device that answers at once (a URC the runner is
                // waiting for) must not end the case before its cause is in the records.
                rec.lock().unwrap_or_else(|e| e.into_inner()).extend(&mut pf);
                for d in out {
                    // To a device on the DTLS port, sealed there; else as the main port speaks.
                    let (link, sock) = match (&dsock, secure.sessions.contains_key(&d.peer)) {
                        (Some(ds), true) => (&mut secure, ds),
                        _ => (&mut main, &socket),
                    };
                    for r in link.seal(d.peer, d.bytes) {
                        let _ = sock.send_to(&r, d.peer).await;
                    }
                }
            }
        });
    })?;
    Ok(Handle { tx, addr, dtls_addr, records, thread: Some(thread) })
}

/// A loopback address of this platform's own, derived from its (unique) main port, on 5684.
fn dtls_socket(main: SocketAddr) -> Option<std::net::UdpSocket> {
    let SocketAddr::V4(v4) = main else { return None };
    if !v4.ip().is_loopback() {
        return None;
    }
    let [hi, lo] = main.port().to_be_bytes();
    let ip = std::net::Ipv4Addr::new(127, hi, lo, 1);
    let s = std::net::UdpSocket::bind((ip, 5684)).ok()?;
    s.set_nonblocking(true).ok()?;
    Some(s)
}

async fn recv(s: &Option<tokio::net::UdpSocket>, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
    match s {
        Some(s) => s.recv_from(buf).await,
        None => std::future::pending().await,
    }
}

/// DTLS associations kept per socket at most (see [`Link::receive`]).
pub const MAX_DTLS_SESSIONS: usize = 256;

/// DTLS on one socket: a key, an association per device address.
#[derive(Default)]
struct Link {
    /// Every datagram is DTLS (the 5684 port), not only after `set_dtls`.
    always: bool,
    key: Option<Vec<u8>>,
    /// The key a device gets from the bootstrap server, used when it shakes hands again.
    assigned: Option<Vec<u8>>,
    sessions: std::collections::BTreeMap<SocketAddr, miplcheck_lwm2m::dtls::Session>,
}

/// A DTLS record carrying a ClientHello in epoch 0: a new handshake.
fn client_hello(b: &[u8]) -> bool {
    b.len() > 13 && b[0] == 22 && b[3] == 0 && b[4] == 0 && b[13] == 1
}

impl Link {
    fn set_key(&mut self, key: Option<Vec<u8>>) {
        self.key = key;
        self.sessions.clear();
    }

    /// A datagram in: what to send back (handshake flights) and the CoAP it carried.
    fn receive(&mut self, from: SocketAddr, bytes: &[u8]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let Some(key) = self.key.clone() else {
            return if self.always { (vec![], vec![]) } else { (vec![], vec![bytes.to_vec()]) };
        };
        // A device that shakes hands again (after a bootstrap, or a new address lease) gets a
        // new association; with the key the bootstrap server handed out, if it did.
        let again = self.sessions.get(&from).is_some_and(|s| s.is_connected()) && client_hello(bytes);
        if again {
            self.sessions.remove(&from);
        }
        if !self.sessions.contains_key(&from) {
            // Bounded: a half-made association goes first, else any (its device shakes hands again).
            while self.sessions.len() >= MAX_DTLS_SESSIONS {
                let victim = self.sessions.iter().find(|(_, s)| !s.is_connected()).map(|(a, _)| *a);
                match victim.or_else(|| self.sessions.keys().next().copied()) {
                    Some(a) => {
                        self.sessions.remove(&a);
                    }
                    None => break,
                }
            }
            let key = if again { self.assigned.clone().unwrap_or(key) } else { key };
            match miplcheck_lwm2m::dtls::Session::server(move |_identity| Some(key.clone())) {
                Ok(s) => {
                    self.sessions.insert(from, s);
                }
                Err(e) => eprintln!("platform: DTLS: {e}"),
            }
        }
        match self.sessions.get_mut(&from) {
            Some(session) => {
                let p = session.on_datagram(bytes);
                (p.send, p.plaintext)
            }
            None => (vec![], vec![]),
        }
    }

    /// A CoAP message out: sealed for a device that speaks DTLS with us.
    fn seal(&mut self, to: SocketAddr, bytes: Vec<u8>) -> Vec<Vec<u8>> {
        match self.sessions.get_mut(&to) {
            Some(session) if session.is_connected() => session.seal(&bytes).unwrap_or_else(|e| {
                eprintln!("platform: DTLS: {e}");
                vec![]
            }),
            _ => vec![bytes],
        }
    }
}
