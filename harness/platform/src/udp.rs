//! The platform on a real UDP socket, on tokio: `miplcheck platform --listen …` and the runner's
//! in-process platform. It runs on its own thread with its own runtime; the caller talks to it
//! through a [`Handle`], which is synchronous so the runner's engine stays simple.

use crate::control::Control;
use crate::dtls_link::{dtls_addr_for, Links};
use crate::handover::Taken;
use crate::record::WireRecord;
use crate::server::{
    Device, Fault, Interface, Note, OpId, OpOutcome, OperateError, Operation, Platform, PlatformOptions,
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
    Fault(Interface, Option<Fault>, oneshot::Sender<()>),
    DeleteDevice(Option<String>, oneshot::Sender<Result<(), OperateError>>),
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
    /// Sends a setting and returns once the platform has applied it, so a registration that
    /// follows cannot race it.
    fn apply(&self, cmd: impl FnOnce(oneshot::Sender<()>) -> Cmd) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(cmd(tx)).is_ok() {
            let _ = rx.blocking_recv();
        }
    }

    fn taken(&self) -> std::sync::MutexGuard<'_, Taken> {
        self.records.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Record times count from the epoch given to [`spawn`].
impl Control for Handle {
    fn addr(&self) -> SocketAddr {
        self.addr
    }

    fn dtls_addr(&self) -> Option<SocketAddr> {
        self.dtls_addr
    }

    fn operate(&self, device: Option<&str>, op: Operation) -> Result<OpId, OperateError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Cmd::Operate(device.map(str::to_string), op, tx)).map_err(|_| OperateError::Stopped)?;
        rx.blocking_recv().map_err(|_| OperateError::Stopped)?
    }

    fn outcome(&self, id: OpId) -> OpOutcome {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::Outcome(id, tx)).is_err() {
            return OpOutcome::TimedOut;
        }
        rx.blocking_recv().unwrap_or(OpOutcome::TimedOut)
    }

    fn sota_report(&self, id: OpId) -> Option<SotaReport> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Cmd::Sota(id, tx)).ok()?;
        rx.blocking_recv().ok().flatten()
    }

    fn devices(&self) -> Vec<Device<SocketAddr>> {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(Cmd::Devices(tx)).is_err() {
            return vec![];
        }
        rx.blocking_recv().unwrap_or_default()
    }

    fn set_auto_observe(&self, on: bool) {
        self.apply(|done| Cmd::AutoObserve(on, done));
    }

    fn set_dtls(&self, psk: Option<Vec<u8>>) {
        self.apply(|done| Cmd::Dtls(psk, done));
    }

    fn set_auth_code(&self, code: Option<String>) {
        self.apply(|done| Cmd::AuthCode(code, done));
    }

    fn assign_psk(&self, assigned: Option<(String, Vec<u8>)>) {
        self.apply(|done| Cmd::AssignPsk(assigned, done));
    }

    fn delete_device(&self, device: Option<&str>) -> Result<(), OperateError> {
        let (tx, rx) = oneshot::channel();
        self.tx.send(Cmd::DeleteDevice(device.map(str::to_string), tx)).map_err(|_| OperateError::Stopped)?;
        rx.blocking_recv().map_err(|_| OperateError::Stopped)?
    }

    fn set_fault(&self, what: Interface, fault: Option<Fault>) {
        self.apply(|done| Cmd::Fault(what, fault, done));
    }

    fn take_records(&self) -> Vec<WireRecord> {
        std::mem::take(&mut self.taken().records).into()
    }

    fn take_notes(&self) -> Vec<Note> {
        std::mem::take(&mut self.taken().notes).into()
    }

    fn records_dropped(&self) -> u64 {
        self.taken().dropped
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
            let mut links = Links::default();
            loop {
                let now = epoch.elapsed();
                let sleep = pf.next_deadline().map(|t| t.saturating_sub(now)).unwrap_or(Duration::from_secs(3600));
                let out = tokio::select! {
                    // Datagrams already here come first, so records keep the order of causes:
                    // a notification sent before a suite asked for a write is recorded before it.
                    biased;
                    r = socket.recv_from(&mut buf) => match r {
                        Ok((n, from)) => {
                            let (send, plain) = links.receive(false, from, &buf[..n]);
                            for d in send {
                                let _ = socket.send_to(&d, from).await;
                            }
                            plain.iter().flat_map(|p| pf.on_datagram(from, p, epoch.elapsed())).collect()
                        }
                        Err(_) => vec![],
                    },
                    r = recv(&dsock, &mut dbuf) => match (r, &dsock) {
                        (Ok((n, from)), Some(ds)) => {
                            let (send, plain) = links.receive(true, from, &dbuf[..n]);
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
                        Some(Cmd::DeleteDevice(dev, reply)) => {
                            let _ = reply.send(pf.delete_device(dev.as_deref(), epoch.elapsed()));
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
                            links.set_key(key);
                            let _ = done.send(());
                            vec![]
                        }
                        Some(Cmd::AssignPsk(assigned, done)) => {
                            links.assign(assigned.as_ref().map(|(_, k)| k.clone()));
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
                    let (secure, sealed) = links.seal(d.peer, d.bytes, dsock.is_some());
                    let sock = match (&dsock, secure) {
                        (Some(ds), true) => ds,
                        _ => &socket,
                    };
                    for r in sealed {
                        let _ = sock.send_to(&r, d.peer).await;
                    }
                }
            }
        });
    })?;
    Ok(Handle { tx, addr, dtls_addr, records, thread: Some(thread) })
}

/// The DTLS port's socket: on a loopback address of this platform's own (see [`dtls_addr_for`]).
fn dtls_socket(main: SocketAddr) -> Option<std::net::UdpSocket> {
    let s = std::net::UdpSocket::bind(dtls_addr_for(main)?).ok()?;
    s.set_nonblocking(true).ok()?;
    Some(s)
}

async fn recv(s: &Option<tokio::net::UdpSocket>, buf: &mut [u8]) -> std::io::Result<(usize, SocketAddr)> {
    match s {
        Some(s) => s.recv_from(buf).await,
        None => std::future::pending().await,
    }
}
