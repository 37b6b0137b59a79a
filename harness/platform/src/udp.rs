//! The platform on a real UDP socket, on tokio: `miplcheck platform --listen …` and the runner's
//! in-process platform. It runs on its own thread with its own runtime; the caller talks to it
//! through a [`Handle`], which is synchronous so the runner's engine stays simple.

use crate::record::WireRecord;
use crate::server::{Device, OpId, OpOutcome, Operation, Platform, PlatformOptions};
use crate::sota::SotaReport;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

enum Cmd {
    Operate(Option<String>, Operation, oneshot::Sender<Result<OpId, String>>),
    Outcome(OpId, oneshot::Sender<OpOutcome>),
    Sota(OpId, oneshot::Sender<Option<SotaReport>>),
    Devices(oneshot::Sender<Vec<Device<SocketAddr>>>),
    AutoObserve(bool, oneshot::Sender<()>),
    Dtls(Option<Vec<u8>>, oneshot::Sender<()>),
    AuthCode(Option<String>, oneshot::Sender<()>),
    Fault(crate::server::Interface, Option<crate::server::Fault>, oneshot::Sender<()>),
    Stop,
}

/// A running platform.
pub struct Handle {
    tx: mpsc::UnboundedSender<Cmd>,
    pub addr: SocketAddr,
    records: Arc<Mutex<Vec<WireRecord>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Handle {
    /// Starts operation `op` on the device (see [`Platform::operate`]).
    pub fn operate(&self, device: Option<&str>, op: Operation) -> Result<OpId, String> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Cmd::Operate(device.map(str::to_string), op, tx))
            .map_err(|_| "the platform stopped".to_string())?;
        rx.blocking_recv().map_err(|_| "the platform stopped".to_string())?
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

    /// Datagrams recorded since the last call, stamped on the epoch given to [`spawn`].
    pub fn take_records(&self) -> Vec<WireRecord> {
        std::mem::take(&mut *self.records.lock().unwrap_or_else(|e| e.into_inner()))
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
    opts.server_uri = opts.server_uri.replace("{port}", &addr.port().to_string());
    let (tx, mut rx) = mpsc::unbounded_channel();
    let records = Arc::new(Mutex::new(Vec::new()));
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
            let mut pf: Platform<SocketAddr> = Platform::new(opts);
            let mut buf = vec![0u8; 2048];
            // DTLS: the key, and an association per device address.
            let mut psk: Option<Vec<u8>> = None;
            let mut sessions: std::collections::BTreeMap<SocketAddr, miplcheck_lwm2m::dtls::Session> =
                std::collections::BTreeMap::new();
            loop {
                let now = epoch.elapsed();
                let sleep = pf.next_deadline().map(|t| t.saturating_sub(now)).unwrap_or(Duration::from_secs(3600));
                let out = tokio::select! {
                    r = socket.recv_from(&mut buf) => match (r, &psk) {
                        (Ok((n, from)), None) => pf.on_datagram(from, &buf[..n], epoch.elapsed()),
                        (Ok((n, from)), Some(key)) => {
                            if let std::collections::btree_map::Entry::Vacant(slot) = sessions.entry(from) {
                                let key = key.clone();
                                match miplcheck_lwm2m::dtls::Session::server(move |_identity| Some(key.clone())) {
                                    Ok(s) => {
                                        slot.insert(s);
                                    }
                                    Err(e) => eprintln!("platform: DTLS: {e}"),
                                }
                            }
                            let mut out = vec![];
                            if let Some(session) = sessions.get_mut(&from) {
                                let p = session.on_datagram(&buf[..n]);
                                for d in p.send {
                                    let _ = socket.send_to(&d, from).await;
                                }
                                for plain in p.plaintext {
                                    out.extend(pf.on_datagram(from, &plain, epoch.elapsed()));
                                }
                            }
                            out
                        }
                        (Err(_), _) => vec![],
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
                            psk = key;
                            sessions.clear();
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
                for d in out {
                    // Sealed for a device that speaks DTLS with us.
                    match sessions.get_mut(&d.peer) {
                        Some(session) if session.is_connected() => match session.seal(&d.bytes) {
                            Ok(records) => {
                                for r in records {
                                    let _ = socket.send_to(&r, d.peer).await;
                                }
                            }
                            Err(e) => eprintln!("platform: DTLS: {e}"),
                        },
                        _ => {
                            let _ = socket.send_to(&d.bytes, d.peer).await;
                        }
                    }
                }
                rec.lock().unwrap_or_else(|e| e.into_inner()).extend(pf.take_records());
            }
        });
    })?;
    Ok(Handle { tx, addr, records, thread: Some(thread) })
}
