//! labgrid places as a rig's way to reach a modem: the place is reserved and acquired through
//! `labgrid-client`, its serial resource (ser2net on the exporter) and power resource are read,
//! and the place is released again when the [`Lease`] ends — by [`Lease::release`], or by `Drop`
//! on an error, a panic or an interrupted run (the runner's SIGINT handling lets the run finish
//! its case and return, so the lease is dropped on the way out).
//!
//! This module only shells out to `labgrid-client`; it never speaks labgrid's gRPC protocol.
//! Every call runs in a process group of its own, is killed with it past its time-out, and keeps
//! its stderr for the error. Checked against labgrid 26.0.1 (see `docs/labgrid.md`); the commands
//! and the output they give, captured from it:
//!
//! ```text
//! $ labgrid-client -x 127.0.0.1:33589 -p bc39-a show       # before anything: exists? a serial port?
//! Place 'bc39-a':
//!   matches:
//!     exp1/modem-a/*
//!   acquired: None
//!   acquired resources:
//!   created: 2026-12-02 05:45:02.606464
//!   changed: 2026-12-02 05:45:04.506440
//! Matching resource 'RawSerialPort' (exp1/modem-a/NetworkSerialPort/RawSerialPort):
//!   {'acquired': None,
//!    'avail': True,
//!    'cls': 'NetworkSerialPort',
//!    'params': {'extra': {'path': '/dev/pts/0', 'proxy': 'localhost', 'proxy_required': False},
//!               'host': '127.0.0.1',
//!               'port': None,
//!               'speed': 115200}}
//! $ labgrid-client -x 127.0.0.1:33589 reserve --wait --shell name=bc39-a
//! export LG_TOKEN=8UY7OX6Y33                                 # printed at once, then it waits
//! $ labgrid-client -x 127.0.0.1:33589 -p +8UY7OX6Y33 acquire
//! acquired place bc39-a
//! $ labgrid-client -x 127.0.0.1:33589 -p bc39-a show       # now `Acquired resource …`, `'port': 38281`
//! $ labgrid-client -x 127.0.0.1:33589 -p bc39-a release
//! released place bc39-a
//! $ labgrid-client -x 127.0.0.1:33589 cancel-reservation 8UY7OX6Y33
//! ```
//!
//! `show` prints each resource as Python's `pformat` of a dict (there is no JSON output for
//! places or resources), so [`parse`] reads Python literals. The exporter serves a
//! `RawSerialPort`/`USBSerialPort` with ser2net's `telnet(rfc2217,mode=server)` accepter and
//! publishes it as a `NetworkSerialPort` without a `protocol` parameter: labgrid's default,
//! RFC 2217, is meant.

use serde::Deserialize;
use std::fmt;
use std::io::{self, Read};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A rig's `[labgrid]` table: which place on which coordinator, and how long to wait.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabgridRig {
    /// The coordinator's `HOST:PORT` (labgrid's default port is 20408).
    pub coordinator: String,
    /// The place's name (exactly; labgrid's own `-p` also takes a substring).
    pub place: String,
    /// The `labgrid-client` to run: a path, or a name looked up on `PATH`.
    #[serde(default = "default_client")]
    pub client: PathBuf,
    /// How long one `labgrid-client` call may take (the reservation's wait has its own).
    #[serde(default = "default_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// How long to wait for the reservation while someone else holds the place.
    #[serde(default = "default_reserve_wait", with = "humantime_serde")]
    pub reserve_wait: Duration,
}

fn default_client() -> PathBuf {
    PathBuf::from("labgrid-client")
}
fn default_timeout() -> Duration {
    Duration::from_secs(30)
}
fn default_reserve_wait() -> Duration {
    Duration::from_secs(600)
}

impl LabgridRig {
    /// A place on a coordinator with the defaults: `labgrid-client` on `PATH`, 30 s a call, a
    /// reservation waited for up to 10 minutes.
    pub fn new(coordinator: impl Into<String>, place: impl Into<String>) -> Self {
        LabgridRig {
            coordinator: coordinator.into(),
            place: place.into(),
            client: default_client(),
            timeout: default_timeout(),
            reserve_wait: default_reserve_wait(),
        }
    }

    /// `labgrid-client -x COORDINATOR ARGS…` as a user would type it, for messages.
    fn command_line(&self, args: &[&str]) -> String {
        let mut words = vec![self.client.to_string_lossy().into_owned(), "-x".into(), self.coordinator.clone()];
        words.extend(args.iter().map(|a| a.to_string()));
        words.iter().map(|w| shell_quote(w)).collect::<Vec<_>>().join(" ")
    }
}

/// How the serial server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SerialProtocol {
    /// Telnet with RFC 2217's COM-PORT option: what `labgrid-exporter`'s ser2net serves.
    Rfc2217,
    /// Plain TCP, bytes as they are.
    Raw,
}

impl fmt::Display for SerialProtocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SerialProtocol::Rfc2217 => "rfc2217",
            SerialProtocol::Raw => "raw",
        })
    }
}

/// The place's serial port, as its exporter serves it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteSerial {
    pub host: String,
    pub port: u16,
    pub protocol: SerialProtocol,
    /// The line speed the exporter set, when it says.
    pub speed: Option<u32>,
    /// The resource's name in the place (`RawSerialPort`, or its rename).
    pub resource: String,
}

impl RemoteSerial {
    /// `host:port`, for a TCP connect.
    pub fn address(&self) -> String {
        if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// The resource classes `labgrid-client power` drives (labgrid 26's `ClientSession.power`).
const POWER_CLASSES: &[&str] = &[
    "NetworkPowerPort",
    "NetworkUSBPowerPort",
    "NetworkSiSPMPowerPort",
    "PDUDaemonPort",
    "TasmotaPowerPort",
    "NetworkYKUSHPowerPort",
    "NetworkSysfsGPIO",
];

/// The place's power resource, switched through `labgrid-client … power` while the place is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlacePower {
    /// The resource's name in the place.
    pub resource: String,
    /// Its class: `NetworkPowerPort` (a PDU: `model`, `host`, `index`), `NetworkUSBPowerPort`, …
    pub cls: String,
    /// A `NetworkPowerPort`'s model (`simplerest`, `gude`, `netio`, …).
    pub model: Option<String>,
    /// A `NetworkPowerPort`'s host (a URL template for `simplerest`).
    pub host: Option<String>,
    /// A `NetworkPowerPort`'s index on its PDU.
    pub index: Option<String>,
    /// `labgrid-client -x … -p …` quoted for `sh -c`, with `power` and `--name` when needed.
    prefix: String,
}

/// Shell commands (for `sh -c`, as `[power]` runs them) that switch a place's power.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerCommands {
    pub off: String,
    pub on: String,
    pub cycle: String,
}

impl PlacePower {
    /// `labgrid-client -x COORDINATOR -p PLACE power off|on|cycle`: for the rig's `[power]`
    /// strategy. They work only while the place is acquired, that is during the lease.
    pub fn commands(&self) -> PowerCommands {
        PowerCommands {
            off: format!("{} off", self.prefix),
            on: format!("{} on", self.prefix),
            cycle: format!("{} cycle", self.prefix),
        }
    }
}

/// Why a place could not be leased or released. Every message names the place and the
/// coordinator and says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum LabgridError {
    #[error("place {place} on coordinator {coordinator}: cannot run `{client}` ({source}); is labgrid-client installed? `pip install labgrid` (or set [labgrid] client to its path)")]
    NotInstalled { place: String, coordinator: String, client: String, source: io::Error },
    #[error("place {place}: coordinator {coordinator} did not answer within {} (`{command}` killed, process group {pgid}); is labgrid-coordinator running there and reachable?{}", humantime::format_duration(*timeout), stderr_note(stderr))]
    NoAnswer { place: String, coordinator: String, command: String, timeout: Duration, pgid: u32, stderr: String },
    #[error("place {place}: cannot reach coordinator {coordinator} ({detail}); is labgrid-coordinator running there? Check [labgrid] coordinator")]
    CoordinatorDown { place: String, coordinator: String, detail: String },
    #[error("place {place} does not exist on coordinator {coordinator}; create it (`labgrid-client -x {coordinator} -p {place} create`, then `add-match EXPORTER/GROUP/*`) or fix [labgrid] place")]
    NoSuchPlace { place: String, coordinator: String },
    #[error("place {place} on coordinator {coordinator} has no NetworkSerialPort ({}); add the modem's serial port (`labgrid-client -x {coordinator} -p {place} add-match EXPORTER/GROUP/NetworkSerialPort`) and check that its exporter is running", if resources.is_empty() { "no resources match it now".to_string() } else { format!("it has {}", resources.join(", ")) })]
    NoSerial { place: String, coordinator: String, resources: Vec<String> },
    #[error("place {place} on coordinator {coordinator} is acquired by {}{}; try again later, or ask them to release it (`labgrid-client -x {coordinator} -p {place} release`; a run of yours that was killed leaves it acquired too)", holder.as_deref().unwrap_or("someone else"), match waited { Some(w) => format!(" (waited {} for it, [labgrid] reserve_wait)", humantime::format_duration(*w)), None => String::new() })]
    Busy { place: String, coordinator: String, holder: Option<String>, waited: Option<Duration> },
    #[error("place {place} on coordinator {coordinator}: `{command}` failed ({status}): {}; see labgrid's message, or run the command by hand", last_line(stderr).unwrap_or("nothing on stderr"))]
    Command { place: String, coordinator: String, command: String, status: ExitStatus, stderr: String },
    #[error("place {place} on coordinator {coordinator}: `{command}` gave output miplcheck cannot read ({detail}); miplcheck was checked with labgrid 26.0.1, which version is installed?")]
    Output { place: String, coordinator: String, command: String, detail: String },
    #[error("place {place} on coordinator {coordinator}: {signal} while waiting for the reservation; {}", if *cancelled { "it was cancelled" } else { "a reservation left behind expires on its own within a minute" })]
    Interrupted { place: String, coordinator: String, signal: &'static str, cancelled: bool },
    #[error("place {place} on coordinator {coordinator}: its serial resource {resource} has no TCP port after acquiring (ser2net did not start on the exporter?); look at the exporter's log")]
    SerialNotServed { place: String, coordinator: String, resource: String },
}

fn stderr_note(stderr: &str) -> String {
    match last_line(stderr) {
        Some(l) => format!(" (its last words: `{l}`)"),
        None => String::new(),
    }
}

/// The last non-empty line, trimmed, made printable and capped.
fn last_line(text: &str) -> Option<&str> {
    text.lines().rev().map(str::trim).find(|l| !l.is_empty()).map(|l| {
        let mut end = l.len().min(300);
        while !l.is_char_boundary(end) {
            end -= 1;
        }
        &l[..end]
    })
}

/// A place held: reserved and acquired. Dropping it releases the place and cancels the
/// reservation, each call bounded by the rig's `timeout`; errors then are logged, not raised.
#[derive(Debug)]
pub struct Lease {
    rig: LabgridRig,
    token: String,
    serial: RemoteSerial,
    power: Option<PlacePower>,
    held: bool,
}

impl Lease {
    /// Reserves the place (waiting up to `reserve_wait` while someone else holds it), acquires it
    /// and reads its resources. Whatever fails after the reservation undoes what was done.
    pub fn acquire(rig: &LabgridRig) -> Result<Lease, LabgridError> {
        let client = Client { rig };
        // First a look: a place that is not there or has no serial port would otherwise make the
        // reservation wait for nothing; a coordinator that is down fails here in a second or two.
        let shown = client.show()?;
        if !shown.resources.iter().any(|r| r.cls == "NetworkSerialPort") {
            return Err(LabgridError::NoSerial {
                place: rig.place.clone(),
                coordinator: rig.coordinator.clone(),
                resources: shown.resources.iter().map(|r| r.path.clone()).collect(),
            });
        }
        let token = client.reserve(shown.acquired.as_deref())?;
        let mut lease = Lease {
            rig: rig.clone(),
            token,
            serial: RemoteSerial {
                host: String::new(),
                port: 0,
                protocol: SerialProtocol::Rfc2217,
                speed: None,
                resource: String::new(),
            },
            power: None,
            held: false,
        };
        // From here on, dropping `lease` cancels the reservation (and releases once held).
        client.acquire(&lease.token)?;
        lease.held = true;
        let (serial, power) = client.acquired_resources()?;
        lease.serial = serial;
        lease.power = power;
        Ok(lease)
    }

    /// The place's serial port.
    pub fn serial(&self) -> &RemoteSerial {
        &self.serial
    }

    /// The place's power resource, if it has one.
    pub fn power(&self) -> Option<&PlacePower> {
        self.power.as_ref()
    }

    /// The rig this lease was taken for.
    pub fn rig(&self) -> &LabgridRig {
        &self.rig
    }

    /// The reservation's token.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// Releases the place and cancels the reservation.
    pub fn release(mut self) -> Result<(), LabgridError> {
        self.end()
    }

    fn end(&mut self) -> Result<(), LabgridError> {
        let client = Client { rig: &self.rig };
        let released = if self.held { client.release() } else { Ok(()) };
        self.held = false;
        let cancelled = client.cancel(&self.token);
        self.token.clear();
        released.and(cancelled)
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if !self.held && self.token.is_empty() {
            return;
        }
        if let Err(e) = self.end() {
            tracing::error!("releasing the labgrid place: {e}");
        }
    }
}

/// A finished `labgrid-client` call.
struct Output {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// A call that did not finish in time, with what it said meanwhile.
struct Overrun {
    pgid: u32,
    stdout: String,
    stderr: String,
}

enum CallError {
    Spawn(io::Error),
    Overrun(Overrun),
    /// The run was asked to stop (Ctrl-C, SIGTERM) while an interruptible call waited.
    Interrupted(Overrun, crate::interrupt::Signal),
}

struct Client<'a> {
    rig: &'a LabgridRig,
}

impl Client<'_> {
    fn place(&self) -> String {
        self.rig.place.clone()
    }
    fn coordinator(&self) -> String {
        self.rig.coordinator.clone()
    }

    /// Runs `labgrid-client -x COORDINATOR ARGS…` within `timeout`.
    fn call(&self, args: &[&str], timeout: Duration) -> Result<Output, LabgridError> {
        match run(&self.rig.client, &self.rig.coordinator, args, timeout, false) {
            Ok(o) => Ok(o),
            Err(CallError::Spawn(source)) => Err(LabgridError::NotInstalled {
                place: self.place(),
                coordinator: self.coordinator(),
                client: self.rig.client.to_string_lossy().into_owned(),
                source,
            }),
            Err(CallError::Overrun(o) | CallError::Interrupted(o, _)) => Err(LabgridError::NoAnswer {
                place: self.place(),
                coordinator: self.coordinator(),
                command: self.rig.command_line(args),
                timeout,
                pgid: o.pgid,
                stderr: o.stderr,
            }),
        }
    }

    /// The error for a call that ended unsuccessfully, from what it said on stderr.
    fn failure(&self, args: &[&str], out: Output) -> LabgridError {
        let (place, coordinator) = (self.place(), self.coordinator());
        match parse::classify(&out.stderr) {
            parse::Failure::CoordinatorDown(detail) => LabgridError::CoordinatorDown { place, coordinator, detail },
            parse::Failure::NoSuchPlace => LabgridError::NoSuchPlace { place, coordinator },
            parse::Failure::Busy(holder) => LabgridError::Busy { place, coordinator, holder, waited: None },
            _ => LabgridError::Command {
                place,
                coordinator,
                command: self.rig.command_line(args),
                status: out.status,
                stderr: out.stderr,
            },
        }
    }

    fn output_error(&self, args: &[&str], detail: String) -> LabgridError {
        LabgridError::Output {
            place: self.place(),
            coordinator: self.coordinator(),
            command: self.rig.command_line(args),
            detail,
        }
    }

    fn show(&self) -> Result<parse::PlaceShow, LabgridError> {
        let args = ["-p", self.rig.place.as_str(), "show"];
        let out = self.call(&args, self.rig.timeout)?;
        if !out.status.success() {
            return Err(self.failure(&args, out));
        }
        let shown = parse::show(&out.stdout).map_err(|detail| self.output_error(&args, detail))?;
        if shown.name != self.rig.place {
            // `-p` matches a substring when no place has the exact name.
            return Err(LabgridError::NoSuchPlace { place: self.place(), coordinator: self.coordinator() });
        }
        Ok(shown)
    }

    /// `reserve --wait`; past `reserve_wait` the reservation is cancelled and the holder named.
    /// The only call a stop request (Ctrl-C, SIGTERM) cuts short: it may wait for minutes.
    fn reserve(&self, holder: Option<&str>) -> Result<String, LabgridError> {
        let filter = format!("name={}", self.rig.place);
        let args = ["reserve", "--wait", "--shell", filter.as_str()];
        match run(&self.rig.client, &self.rig.coordinator, &args, self.rig.reserve_wait, true) {
            Ok(out) if out.status.success() => {
                parse::token(&out.stdout).ok_or_else(|| self.output_error(&args, "no `export LG_TOKEN=…` line".into()))
            }
            Ok(out) => Err(self.failure(&args, out)),
            Err(CallError::Spawn(source)) => Err(LabgridError::NotInstalled {
                place: self.place(),
                coordinator: self.coordinator(),
                client: self.rig.client.to_string_lossy().into_owned(),
                source,
            }),
            Err(CallError::Interrupted(o, signal)) => {
                let token = parse::token(&o.stdout);
                let cancelled = match &token {
                    Some(t) => {
                        self.cancel(t).inspect_err(|e| tracing::warn!("cancelling the reservation: {e}")).is_ok()
                    }
                    None => false,
                };
                Err(LabgridError::Interrupted {
                    place: self.place(),
                    coordinator: self.coordinator(),
                    signal: signal.name(),
                    cancelled,
                })
            }
            Err(CallError::Overrun(o)) => {
                // The token is printed before the wait starts; without it the coordinator never
                // answered at all.
                let Some(token) = parse::token(&o.stdout) else {
                    return Err(LabgridError::NoAnswer {
                        place: self.place(),
                        coordinator: self.coordinator(),
                        command: self.rig.command_line(&args),
                        timeout: self.rig.reserve_wait,
                        pgid: o.pgid,
                        stderr: o.stderr,
                    });
                };
                if let Err(e) = self.cancel(&token) {
                    tracing::warn!("cancelling the reservation that was not allocated in time: {e}");
                }
                let now = self.show().ok().and_then(|s| s.acquired);
                Err(LabgridError::Busy {
                    place: self.place(),
                    coordinator: self.coordinator(),
                    holder: now.or_else(|| holder.map(str::to_string)),
                    waited: Some(self.rig.reserve_wait),
                })
            }
        }
    }

    fn acquire(&self, token: &str) -> Result<(), LabgridError> {
        let by_token = format!("+{token}");
        let args = ["-p", by_token.as_str(), "acquire"];
        let out = self.call(&args, self.rig.timeout)?;
        if out.status.success() {
            Ok(())
        } else {
            Err(self.failure(&args, out))
        }
    }

    /// The serial and power resources of the place, acquired. The exporter publishes ser2net's
    /// port as it starts it; a `show` that comes too early is asked again.
    fn acquired_resources(&self) -> Result<(RemoteSerial, Option<PlacePower>), LabgridError> {
        let end = Instant::now() + self.rig.timeout;
        loop {
            let shown = self.show()?;
            let power = self.power_of(&shown);
            match parse::serial(&shown) {
                Ok(Some(serial)) => return Ok((serial, power)),
                Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(300)),
                Ok(None) => {
                    let resource = shown
                        .resources
                        .iter()
                        .find(|r| r.cls == "NetworkSerialPort")
                        .map(|r| r.name.clone())
                        .unwrap_or_default();
                    return Err(LabgridError::SerialNotServed {
                        place: self.place(),
                        coordinator: self.coordinator(),
                        resource,
                    });
                }
                Err(parse::SerialProblem::Missing) => {
                    return Err(LabgridError::NoSerial {
                        place: self.place(),
                        coordinator: self.coordinator(),
                        resources: shown.resources.iter().map(|r| r.path.clone()).collect(),
                    })
                }
                Err(parse::SerialProblem::Unreadable(detail)) => {
                    return Err(self.output_error(&["-p", &self.rig.place, "show"], detail))
                }
            }
        }
    }

    fn power_of(&self, shown: &parse::PlaceShow) -> Option<PlacePower> {
        let powers: Vec<_> = shown
            .resources
            .iter()
            .filter(|r| r.state == parse::ResourceState::Acquired && POWER_CLASSES.contains(&r.cls.as_str()))
            .collect();
        let first = powers.first()?;
        let mut prefix = self.rig.command_line(&["-p", &self.rig.place, "power"]);
        if powers.len() > 1 {
            prefix.push_str(&format!(" --name {}", shell_quote(&first.name)));
        }
        let param = |k: &str| first.param(k).and_then(parse::PyValue::as_text);
        Some(PlacePower {
            resource: first.name.clone(),
            cls: first.cls.clone(),
            model: param("model"),
            host: param("host"),
            index: param("index"),
            prefix,
        })
    }

    fn release(&self) -> Result<(), LabgridError> {
        let args = ["-p", self.rig.place.as_str(), "release"];
        let out = self.call(&args, self.rig.timeout)?;
        if out.status.success() {
            return Ok(());
        }
        match parse::classify(&out.stderr) {
            // Released already (kicked by an admin): nothing to undo.
            parse::Failure::NotAcquired => {
                tracing::warn!(
                    "place {} on {} was not acquired any more at release",
                    self.rig.place,
                    self.rig.coordinator
                );
                Ok(())
            }
            _ => Err(self.failure(&args, out)),
        }
    }

    fn cancel(&self, token: &str) -> Result<(), LabgridError> {
        let args = ["cancel-reservation", token];
        let out = self.call(&args, self.rig.timeout)?;
        if out.status.success() || parse::classify(&out.stderr) == parse::Failure::NoReservation {
            return Ok(());
        }
        Err(self.failure(&args, out))
    }
}

/// Variables that would make `labgrid-client` pick another place, token or environment file
/// than the ones on its command line.
const CLEARED_ENV: &[&str] =
    &["LG_ENV", "LG_PLACE", "PLACE", "LG_TOKEN", "LG_STATE", "STATE", "LG_INITIAL_STATE", "LG_COORDINATOR"];

/// How much of a call's output is kept (its end).
const OUTPUT_TAIL: usize = 64 * 1024;

/// Runs the client in its own process group; past `timeout` the group is killed, and so it is
/// when `interruptible` and the run was asked to stop. Its own group also keeps a Ctrl-C at the
/// terminal from reaching it: the release that follows an interrupted run must still run.
fn run(
    client: &Path,
    coordinator: &str,
    args: &[&str],
    timeout: Duration,
    interruptible: bool,
) -> Result<Output, CallError> {
    let mut cmd = Command::new(client);
    cmd.arg("-x")
        .arg(coordinator)
        .args(args)
        // The reservation's token must reach the pipe before the wait, not at exit.
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for v in CLEARED_ENV {
        cmd.env_remove(v);
    }
    let mut child = cmd.spawn().map_err(CallError::Spawn)?;
    let pgid = child.id();
    let (tx, rx) = std::sync::mpsc::channel::<()>();
    let collect = |pipe: Option<Box<dyn Read + Send>>| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        if let Some(mut pipe) = pipe {
            let (buf, tx) = (buf.clone(), tx.clone());
            std::thread::spawn(move || {
                let mut chunk = [0u8; 4096];
                while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                    let mut b = buf.lock().unwrap_or_else(|p| p.into_inner());
                    b.extend_from_slice(&chunk[..n]);
                    if b.len() > 2 * OUTPUT_TAIL {
                        let cut = b.len() - OUTPUT_TAIL;
                        b.drain(..cut);
                    }
                }
                let _ = tx.send(());
            });
        } else {
            let _ = tx.send(());
        }
        buf
    };
    let stdout = collect(child.stdout.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    let stderr = collect(child.stderr.take().map(|p| Box::new(p) as Box<dyn Read + Send>));
    drop(tx);
    let text =
        |b: &Arc<Mutex<Vec<u8>>>| String::from_utf8_lossy(&b.lock().unwrap_or_else(|p| p.into_inner())).into_owned();
    // Both readers end when the pipes close; a grandchild that escaped the group may hold them
    // open, so they are waited for briefly, never joined.
    let drained = |rx: &std::sync::mpsc::Receiver<()>| {
        let until = Instant::now() + Duration::from_millis(500);
        for _ in 0..2 {
            let left = until.saturating_duration_since(Instant::now());
            if rx.recv_timeout(left).is_err() {
                break;
            }
        }
    };
    let end = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {
                let stop = if interruptible { crate::interrupt::requested() } else { None };
                if Instant::now() < end && stop.is_none() {
                    std::thread::sleep(Duration::from_millis(20));
                    continue;
                }
                kill_group(pgid);
                let _ = child.wait();
                drained(&rx);
                let o = Overrun { pgid, stdout: text(&stdout), stderr: text(&stderr) };
                return Err(match stop {
                    Some(signal) => CallError::Interrupted(o, signal),
                    None => CallError::Overrun(o),
                });
            }
            Err(e) => {
                kill_group(pgid);
                let _ = child.wait();
                return Err(CallError::Spawn(e));
            }
        }
    };
    drained(&rx);
    Ok(Output { status, stdout: text(&stdout), stderr: text(&stderr) })
}

/// Kills the process group `pgid` leads.
fn kill_group(pgid: u32) {
    let Ok(pgid) = libc::pid_t::try_from(pgid) else { return };
    // SAFETY: killpg only sends a signal; the group is the child's own, made at spawn, and the
    // child is not reaped yet, so its ID cannot have been reused.
    unsafe {
        libc::killpg(pgid, libc::SIGKILL);
    }
}

/// A word for `sh -c`: as it is when it is plain, else in single quotes.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "_./:@%+=,-".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Reading `labgrid-client`'s output: pure functions, no I/O.
pub mod parse {
    use super::{RemoteSerial, SerialProtocol};

    /// A Python literal as `pformat` prints it.
    #[derive(Debug, Clone, PartialEq)]
    pub enum PyValue {
        None,
        Bool(bool),
        Int(i64),
        Float(f64),
        Str(String),
        List(Vec<PyValue>),
        Dict(Vec<(PyValue, PyValue)>),
    }

    impl PyValue {
        /// The value of `key` in a dict with string keys.
        pub fn get(&self, key: &str) -> Option<&PyValue> {
            match self {
                PyValue::Dict(items) => {
                    items.iter().find(|(k, _)| matches!(k, PyValue::Str(s) if s == key)).map(|(_, v)| v)
                }
                _ => None,
            }
        }

        /// A string or a number as text; `None` for Python's `None` and containers.
        pub fn as_text(&self) -> Option<String> {
            match self {
                PyValue::Str(s) => Some(s.clone()),
                PyValue::Int(i) => Some(i.to_string()),
                PyValue::Float(f) => Some(f.to_string()),
                PyValue::Bool(b) => Some(b.to_string()),
                _ => None,
            }
        }
    }

    /// Parses one Python literal (dict, list, tuple, str, int, float, None, True, False), with
    /// implicit concatenation of adjacent strings as `pformat` writes long ones.
    pub fn literal(text: &str) -> Result<PyValue, String> {
        let mut p = Parser { c: text.chars().collect(), i: 0 };
        let v = p.value(0)?;
        p.ws();
        if p.i < p.c.len() {
            return Err(format!("unexpected `{}` after the value", p.c[p.i]));
        }
        Ok(v)
    }

    struct Parser {
        c: Vec<char>,
        i: usize,
    }

    const MAX_DEPTH: usize = 64;

    impl Parser {
        fn peek(&self) -> Option<char> {
            self.c.get(self.i).copied()
        }
        fn ws(&mut self) {
            while self.peek().is_some_and(char::is_whitespace) {
                self.i += 1;
            }
        }
        fn value(&mut self, depth: usize) -> Result<PyValue, String> {
            if depth > MAX_DEPTH {
                return Err("nested too deeply".into());
            }
            self.ws();
            match self.peek() {
                None => Err("the value ends early".into()),
                Some('{') => {
                    self.i += 1;
                    let mut items = Vec::new();
                    loop {
                        self.ws();
                        if self.peek() == Some('}') {
                            self.i += 1;
                            return Ok(PyValue::Dict(items));
                        }
                        let k = self.value(depth + 1)?;
                        self.ws();
                        if self.peek() != Some(':') {
                            return Err("a dict key without `:`".into());
                        }
                        self.i += 1;
                        let v = self.value(depth + 1)?;
                        items.push((k, v));
                        self.ws();
                        match self.peek() {
                            Some(',') => self.i += 1,
                            Some('}') => {}
                            _ => return Err("a dict item not followed by `,` or `}`".into()),
                        }
                    }
                }
                Some(open @ ('[' | '(')) => {
                    self.i += 1;
                    let close = if open == '[' { ']' } else { ')' };
                    let (items, comma) = self.sequence(close, depth)?;
                    if open == '(' && !comma && items.len() == 1 {
                        // A parenthesised value: how pformat wraps a long string.
                        return Ok(items.into_iter().next().unwrap_or(PyValue::None));
                    }
                    Ok(PyValue::List(items))
                }
                Some(q @ ('\'' | '"')) => {
                    let mut s = self.string(q)?;
                    loop {
                        self.ws();
                        match self.peek() {
                            Some(q @ ('\'' | '"')) => s.push_str(&self.string(q)?),
                            _ => return Ok(PyValue::Str(s)),
                        }
                    }
                }
                Some(c) if c == '-' || c == '+' || c.is_ascii_digit() => {
                    let start = self.i;
                    while self.peek().is_some_and(|c| c.is_ascii_alphanumeric() || "+-._".contains(c)) {
                        self.i += 1;
                    }
                    let word: String = self.c[start..self.i].iter().filter(|c| **c != '_').collect();
                    if let Ok(i) = word.parse::<i64>() {
                        Ok(PyValue::Int(i))
                    } else {
                        word.parse::<f64>().map(PyValue::Float).map_err(|_| format!("`{word}` is not a number"))
                    }
                }
                Some(c) if c.is_alphabetic() || c == '_' => {
                    let start = self.i;
                    while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.') {
                        self.i += 1;
                    }
                    let word: String = self.c[start..self.i].iter().collect();
                    match (word.as_str(), self.peek()) {
                        ("b" | "r" | "u" | "rb" | "br", Some(q @ ('\'' | '"'))) => {
                            // Prefixed strings: read as text (escapes kept as written for r).
                            let s = self.string(q)?;
                            Ok(PyValue::Str(s))
                        }
                        (_, Some('(')) => {
                            // A constructor such as `OrderedDict([...])`: its argument.
                            self.i += 1;
                            let (mut items, _) = self.sequence(')', depth)?;
                            Ok(if items.len() == 1 { items.remove(0) } else { PyValue::List(items) })
                        }
                        ("None", _) => Ok(PyValue::None),
                        ("True", _) => Ok(PyValue::Bool(true)),
                        ("False", _) => Ok(PyValue::Bool(false)),
                        _ => Err(format!("unknown name `{word}`")),
                    }
                }
                Some(c) => Err(format!("unexpected `{c}`")),
            }
        }

        /// Items up to `close`, and whether a comma was seen.
        fn sequence(&mut self, close: char, depth: usize) -> Result<(Vec<PyValue>, bool), String> {
            let mut items = Vec::new();
            let mut comma = false;
            loop {
                self.ws();
                if self.peek() == Some(close) {
                    self.i += 1;
                    return Ok((items, comma));
                }
                items.push(self.value(depth + 1)?);
                self.ws();
                match self.peek() {
                    Some(',') => {
                        comma = true;
                        self.i += 1
                    }
                    Some(c) if c == close => {}
                    _ => return Err(format!("an item not followed by `,` or `{close}`")),
                }
            }
        }

        fn string(&mut self, quote: char) -> Result<String, String> {
            self.i += 1;
            let mut s = String::new();
            loop {
                let Some(c) = self.peek() else { return Err("a string is not closed".into()) };
                self.i += 1;
                match c {
                    c if c == quote => return Ok(s),
                    '\\' => {
                        let Some(e) = self.peek() else { return Err("a string is not closed".into()) };
                        self.i += 1;
                        match e {
                            'n' => s.push('\n'),
                            'r' => s.push('\r'),
                            't' => s.push('\t'),
                            '0' => s.push('\0'),
                            'x' | 'u' | 'U' => {
                                let n = match e {
                                    'x' => 2,
                                    'u' => 4,
                                    _ => 8,
                                };
                                let end = (self.i + n).min(self.c.len());
                                let hex: String = self.c[self.i..end].iter().collect();
                                self.i = end;
                                match u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32) {
                                    Some(ch) => s.push(ch),
                                    None => s.push(char::REPLACEMENT_CHARACTER),
                                }
                            }
                            '\n' => {}
                            other => s.push(other),
                        }
                    }
                    c => s.push(c),
                }
            }
        }
    }

    /// How a resource appears in `show`.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum ResourceState {
        /// `Acquired resource …`: the place is acquired, this is one of its resources.
        Acquired,
        /// `Matching resource …`: the place is not acquired; this resource matches it.
        Matching,
        /// `Orphaned resource …`: acquired, but its exporter is gone.
        Orphaned,
    }

    /// One resource of a place.
    #[derive(Debug, Clone, PartialEq)]
    pub struct ShownResource {
        pub state: ResourceState,
        /// Its name in the place (the match's rename, else the resource's name).
        pub name: String,
        /// `exporter/group/class/name`.
        pub path: String,
        /// Its class as the client sees it (`NetworkSerialPort`, `NetworkPowerPort`, …).
        pub cls: String,
        /// Whether its exporter says it is available.
        pub avail: Option<bool>,
        /// `params`, a dict.
        pub params: PyValue,
    }

    impl ShownResource {
        pub fn param(&self, key: &str) -> Option<&PyValue> {
            self.params.get(key)
        }
    }

    /// What `labgrid-client -p PLACE show` says.
    #[derive(Debug, Clone, PartialEq)]
    pub struct PlaceShow {
        pub name: String,
        /// `host/user` holding it.
        pub acquired: Option<String>,
        pub reservation: Option<String>,
        pub resources: Vec<ShownResource>,
    }

    /// Reads `show`'s output; lines it does not know are skipped.
    pub fn show(text: &str) -> Result<PlaceShow, String> {
        let mut place: Option<PlaceShow> = None;
        let mut lines = text.lines().peekable();
        while let Some(line) = lines.next() {
            if let Some(rest) = line.strip_prefix("Place '") {
                let name = rest.strip_suffix("':").unwrap_or(rest.trim_end_matches(['\'', ':']));
                place =
                    Some(PlaceShow { name: name.to_string(), acquired: None, reservation: None, resources: vec![] });
                continue;
            }
            let Some(p) = place.as_mut() else { continue };
            if let Some(field) = line.strip_prefix("  ").filter(|f| !f.starts_with(' ')) {
                if let Some(v) = field.strip_prefix("acquired: ") {
                    p.acquired = (v.trim() != "None").then(|| v.trim().to_string());
                } else if let Some(v) = field.strip_prefix("reservation: ") {
                    p.reservation = Some(v.trim().to_string());
                }
                continue;
            }
            let state = [
                ("Acquired resource '", ResourceState::Acquired),
                ("Matching resource '", ResourceState::Matching),
                ("Orphaned resource '", ResourceState::Orphaned),
            ]
            .into_iter()
            .find_map(|(prefix, state)| line.strip_prefix(prefix).map(|rest| (state, rest)));
            let Some((state, rest)) = state else { continue };
            let Some((name, path)) = rest.split_once("' (") else { continue };
            let path = path.trim_end().trim_end_matches(':').trim_end_matches(')');
            let path_cls = path.split('/').nth(2).unwrap_or("").to_string();
            // The dict: the indented lines that follow.
            let mut body = String::new();
            while let Some(next) = lines.peek() {
                if !next.starts_with("  ") {
                    break;
                }
                body.push_str(next);
                body.push('\n');
                lines.next();
            }
            let (cls, avail, params) = if body.trim().is_empty() {
                (path_cls, None, PyValue::Dict(vec![]))
            } else {
                let v = literal(&body).map_err(|e| format!("resource {name}: {e}"))?;
                let cls = v.get("cls").and_then(PyValue::as_text).unwrap_or(path_cls);
                let avail = match v.get("avail") {
                    Some(PyValue::Bool(b)) => Some(*b),
                    _ => None,
                };
                let params = v.get("params").cloned().unwrap_or(PyValue::Dict(vec![]));
                (cls, avail, params)
            };
            p.resources.push(ShownResource {
                state,
                name: name.to_string(),
                path: path.to_string(),
                cls,
                avail,
                params,
            });
        }
        place.ok_or_else(|| "no `Place '…':` line".to_string())
    }

    /// Why no serial port could be read from an acquired place.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum SerialProblem {
        /// No `NetworkSerialPort` among its resources.
        Missing,
        /// One is there and its parameters make no sense.
        Unreadable(String),
    }

    /// The acquired `NetworkSerialPort` (the first); `Ok(None)` while its exporter has not
    /// published its TCP port yet.
    pub fn serial(place: &PlaceShow) -> Result<Option<RemoteSerial>, SerialProblem> {
        let r = place
            .resources
            .iter()
            .find(|r| r.cls == "NetworkSerialPort" && r.state == ResourceState::Acquired)
            .ok_or(SerialProblem::Missing)?;
        let bad = |what: &str| SerialProblem::Unreadable(format!("resource {}: {what}", r.name));
        let host = match r.param("host") {
            Some(PyValue::Str(h)) if !h.is_empty() => h.clone(),
            _ => return Err(bad("no host")),
        };
        let port = match r.param("port") {
            None | Some(PyValue::None) => return Ok(None),
            Some(PyValue::Int(p)) => {
                u16::try_from(*p).ok().filter(|p| *p > 0).ok_or_else(|| bad("port out of range"))?
            }
            Some(PyValue::Str(p)) => {
                p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| bad("port not a number"))?
            }
            Some(_) => return Err(bad("port not a number")),
        };
        let protocol = match r.param("protocol") {
            // labgrid's NetworkSerialPort default, and what its exporter's ser2net speaks.
            None | Some(PyValue::None) => SerialProtocol::Rfc2217,
            Some(PyValue::Str(p)) if p == "rfc2217" => SerialProtocol::Rfc2217,
            Some(PyValue::Str(p)) if p == "raw" => SerialProtocol::Raw,
            Some(other) => return Err(bad(&format!("unknown protocol {other:?}"))),
        };
        let speed = match r.param("speed") {
            Some(PyValue::Int(s)) => u32::try_from(*s).ok().filter(|s| *s > 0),
            _ => None,
        };
        Ok(Some(RemoteSerial { host, port, protocol, speed, resource: r.name.clone() }))
    }

    /// The token in `reserve --shell`'s `export LG_TOKEN=…` line.
    pub fn token(stdout: &str) -> Option<String> {
        stdout.lines().find_map(|l| {
            let v = l.trim().strip_prefix("export ").unwrap_or(l.trim()).strip_prefix("LG_TOKEN=")?;
            let v = v.trim().trim_matches(['\'', '"']);
            (!v.is_empty() && v.chars().all(|c| c.is_ascii_alphanumeric())).then(|| v.to_string())
        })
    }

    /// What a failed call's stderr says went wrong.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Failure {
        /// The coordinator could not be reached; gRPC's reason.
        CoordinatorDown(String),
        /// No place of that name.
        NoSuchPlace,
        /// Acquired by someone (`host/user`), or by this very host and user.
        Busy(Option<String>),
        /// `release` of a place that is not acquired.
        NotAcquired,
        /// `cancel-reservation` of a token the coordinator does not know.
        NoReservation,
        Other,
    }

    pub fn classify(stderr: &str) -> Failure {
        if stderr.contains("Could not connect to coordinator") || stderr.contains("coordinator is unavailable") {
            let detail = stderr
                .lines()
                .find_map(|l| l.split_once("coordinator is unavailable: ").map(|(_, d)| d.trim().to_string()))
                .unwrap_or_else(|| "could not connect".into());
            return Failure::CoordinatorDown(detail);
        }
        if let Some((_, rest)) = stderr.split_once("is already acquired by ") {
            let holder = rest.split(['.', ' ', '\n']).next().unwrap_or("").trim();
            return Failure::Busy((!holder.is_empty()).then(|| holder.to_string()));
        }
        if stderr.contains("You have already acquired place") {
            return Failure::Busy(Some("this host and user (another run of yours?)".into()));
        }
        // `-p NAME` also matches substrings: several places containing the name, none named so.
        if stderr.contains("matches nothing")
            || stderr.contains("matches multiple places")
            || stderr.contains("does not exist") && stderr.contains("Place ")
        {
            return Failure::NoSuchPlace;
        }
        if stderr.contains("is not acquired") {
            return Failure::NotAcquired;
        }
        if stderr.contains("Reservation") && stderr.contains("does not exist") {
            return Failure::NoReservation;
        }
        Failure::Other
    }
}

#[cfg(test)]
mod tests {
    use super::parse::*;
    use super::*;
    use rstest::rstest;

    /// `labgrid-client -x 127.0.0.1:33589 -p bc39-a show` before acquiring (labgrid 26.0.1).
    const SHOW_FREE: &str = "Place 'bc39-a':
  matches:
    exp1/modem-a/*
  acquired: None
  acquired resources:
  created: 2026-12-02 05:45:02.606464
  changed: 2026-12-02 05:45:04.506440
Matching resource 'NetworkPowerPort' (exp1/modem-a/NetworkPowerPort/NetworkPowerPort):
  {'acquired': None,
   'avail': True,
   'cls': 'NetworkPowerPort',
   'params': {'extra': {'proxy': 'localhost', 'proxy_required': False},
              'host': 'http://127.0.0.1:8765/relay/{index}/{value}',
              'index': 0,
              'model': 'simplerest'}}
Matching resource 'RawSerialPort' (exp1/modem-a/NetworkSerialPort/RawSerialPort):
  {'acquired': None,
   'avail': True,
   'cls': 'NetworkSerialPort',
   'params': {'extra': {'path': '/dev/pts/0',
                        'proxy': 'localhost',
                        'proxy_required': False},
              'host': '127.0.0.1',
              'port': None,
              'speed': 115200}}
";

    /// The same after `acquire`.
    const SHOW_ACQUIRED: &str = "Place 'bc39-a':
  matches:
    exp1/modem-a/*
  acquired: vm/root
  acquired resources:
    exp1/modem-a/NetworkPowerPort/NetworkPowerPort
    exp1/modem-a/NetworkSerialPort/RawSerialPort
  created: 2026-12-02 05:45:02.606464
  changed: 2026-12-02 05:45:27.061362
  reservation: 8UY7OX6Y33
Acquired resource 'NetworkPowerPort' (exp1/modem-a/NetworkPowerPort/NetworkPowerPort):
  {'acquired': 'bc39-a',
   'avail': True,
   'cls': 'NetworkPowerPort',
   'params': {'extra': {'proxy': 'localhost', 'proxy_required': False},
              'host': 'http://127.0.0.1:8765/relay/{index}/{value}',
              'index': 0,
              'model': 'simplerest'}}
Acquired resource 'RawSerialPort' (exp1/modem-a/NetworkSerialPort/RawSerialPort):
  {'acquired': 'bc39-a',
   'avail': True,
   'cls': 'NetworkSerialPort',
   'params': {'extra': {'path': '/dev/pts/0',
                        'proxy': 'localhost',
                        'proxy_required': False},
              'host': '127.0.0.1',
              'port': 38281,
              'speed': 115200}}
";

    /// A place with no resources matching (its exporter is not running).
    const SHOW_EMPTY: &str = "Place 'bare':
  matches:
    exp9/none/*
  acquired: None
  acquired resources:
  created: 2026-12-02 05:50:00.000000
  changed: 2026-12-02 05:50:00.000000
";

    #[test]
    fn show_before_and_after_acquiring() {
        let free = show(SHOW_FREE).unwrap();
        assert_eq!(free.name, "bc39-a");
        assert_eq!(free.acquired, None);
        assert_eq!(free.resources.len(), 2);
        assert!(free.resources.iter().all(|r| r.state == ResourceState::Matching && r.avail == Some(true)));
        assert_eq!(serial(&free), Err(SerialProblem::Missing), "a matching resource is not acquired yet");

        let held = show(SHOW_ACQUIRED).unwrap();
        assert_eq!(held.acquired.as_deref(), Some("vm/root"));
        assert_eq!(held.reservation.as_deref(), Some("8UY7OX6Y33"));
        let s = serial(&held).unwrap().unwrap();
        assert_eq!(
            s,
            RemoteSerial {
                host: "127.0.0.1".into(),
                port: 38281,
                protocol: SerialProtocol::Rfc2217,
                speed: Some(115200),
                resource: "RawSerialPort".into()
            }
        );
        assert_eq!(s.address(), "127.0.0.1:38281");
        let power = &held.resources[0];
        assert_eq!(power.cls, "NetworkPowerPort");
        assert_eq!(power.param("model").and_then(PyValue::as_text).as_deref(), Some("simplerest"));
        assert_eq!(power.param("index").and_then(PyValue::as_text).as_deref(), Some("0"));
    }

    #[rstest]
    #[case::port_not_yet_published(SHOW_ACQUIRED.replace("'port': 38281", "'port': None"), Ok(None))]
    #[case::raw(SHOW_ACQUIRED.replace("'speed': 115200}}", "'protocol': 'raw', 'speed': 9600}}"), Ok(Some((SerialProtocol::Raw, Some(9600)))))]
    #[case::no_speed(SHOW_ACQUIRED.replace(",\n              'speed': 115200", ""), Ok(Some((SerialProtocol::Rfc2217, None))))]
    #[case::odd_protocol(SHOW_ACQUIRED.replace("'speed': 115200}}", "'protocol': 'ssh', 'speed': 1}}"), Err(()))]
    #[case::port_out_of_range(SHOW_ACQUIRED.replace("38281", "70000"), Err(()))]
    #[case::power_only(SHOW_ACQUIRED.split("Acquired resource 'RawSerialPort'").next().unwrap().to_string(), Err(()))]
    fn serial_parameters(#[case] text: String, #[case] want: Result<Option<(SerialProtocol, Option<u32>)>, ()>) {
        let got = serial(&show(&text).unwrap()).map(|s| s.map(|s| (s.protocol, s.speed))).map_err(|_| ());
        assert_eq!(got, want);
    }

    #[rstest]
    #[case::extra_lines_around(format!("Selected role main from configuration file\n{SHOW_ACQUIRED}warning: something\n"))]
    #[case::comment_and_tags(SHOW_ACQUIRED.replace("  matches:\n", "  comment: lab A, shelf 2\n  tags: board=bc39\n  matches:\n"))]
    #[case::crlf(SHOW_ACQUIRED.replace('\n', "\r\n"))]
    #[case::long_string_wrapped(SHOW_ACQUIRED.replace("'host': '127.0.0.1',", "'host': ('127.0.'\n                       '0.1'),"))]
    fn show_is_robust(#[case] text: String) {
        let s = serial(&show(&text).unwrap()).unwrap().unwrap();
        assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 38281));
    }

    #[rstest]
    #[case::empty("")]
    #[case::garbage("\u{0}\u{ff}{{{{[[[('")]
    #[case::not_show("acquired place bc39-a\n")]
    #[case::broken_dict("Place 'x':\nAcquired resource 'R' (e/g/NetworkSerialPort/R):\n  {'cls': 'NetworkSerialPort', 'params': {'port': \n")]
    #[case::deep(format!("Place 'x':\nAcquired resource 'R' (e/g/C/R):\n  {}\n", "[".repeat(10_000)))]
    fn odd_output_is_an_error_not_a_panic(#[case] text: String) {
        assert!(show(&text).is_err());
    }

    #[test]
    fn a_place_without_resources() {
        let s = show(SHOW_EMPTY).unwrap();
        assert_eq!(s.name, "bare");
        assert!(s.resources.is_empty());
        assert_eq!(serial(&s), Err(SerialProblem::Missing));
    }

    #[rstest]
    #[case(
        "{'a': 1, 'b': [None, True, False], 'c': (1, 2), 'd': ('x' 'y'), 'e': -2.5}",
        "{a:1 b:[None true false] c:[1 2] d:xy e:-2.5}"
    )]
    #[case(r#"{"k": 'it\'s', 'n': 'a\nb\x41\u00e9'}"#, "{k:it's n:a\nbAé}")]
    #[case("OrderedDict([('port', '/dev/pts/0'), ('speed', 115200)])", "[[port /dev/pts/0] [speed 115200]]")]
    #[case("{}", "{}")]
    fn python_literals(#[case] text: &str, #[case] want: &str) {
        fn render(v: &PyValue) -> String {
            match v {
                PyValue::Dict(items) => format!(
                    "{{{}}}",
                    items.iter().map(|(k, v)| format!("{}:{}", render(k), render(v))).collect::<Vec<_>>().join(" ")
                ),
                PyValue::List(items) => format!("[{}]", items.iter().map(render).collect::<Vec<_>>().join(" ")),
                PyValue::None => "None".into(),
                other => other.as_text().unwrap_or_default(),
            }
        }
        assert_eq!(render(&literal(text).unwrap()), want);
    }

    #[rstest]
    #[case::shell("export LG_TOKEN=8UY7OX6Y33\n", Some("8UY7OX6Y33"))]
    #[case::with_noise("Selected role x\nexport LG_TOKEN=AB12\nWaiting…\n", Some("AB12"))]
    #[case::plain("LG_TOKEN='Q1'\n", Some("Q1"))]
    #[case::none("Reservation 'U1MS3005FB':\n  owner: vm/root\n", None)]
    #[case::odd("export LG_TOKEN=$(rm -rf)\n", None)]
    fn tokens(#[case] stdout: &str, #[case] want: Option<&str>) {
        assert_eq!(token(stdout).as_deref(), want);
    }

    /// stderr of labgrid-client 26.0.1 in each case, captured.
    #[rstest]
    #[case::refused(
        "ERROR              root: coordinator is unavailable: failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Failed to connect to remote host: Connection refused\nServer error: Error: Could not connect to coordinator\n",
        Failure::CoordinatorDown("failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Failed to connect to remote host: Connection refused".into())
    )]
    #[case::silent_peer(
        "ERROR              root: coordinator is unavailable: failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:34999: connection attempt timed out before receiving SETTINGS frame\nServer error: Error: Could not connect to coordinator\n",
        Failure::CoordinatorDown("failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:34999: connection attempt timed out before receiving SETTINGS frame".into())
    )]
    #[case::other_user(
        "labgrid-client: Error: Place bc39-a is already acquired by otherhost/alice. To work simultaneously, alice can execute 'labgrid-client -p bc39-a allow vm/root' on otherhost.\n",
        Failure::Busy(Some("otherhost/alice".into()))
    )]
    #[case::ourselves("labgrid-client: Error: You have already acquired place bc39-a.\n", Failure::Busy(Some("this host and user (another run of yours?)".into())))]
    #[case::no_place("labgrid-client: Error: place pattern nosuch matches nothing\n", Failure::NoSuchPlace)]
    #[case::no_place_by_that_exact_name(
        "labgrid-client: Error: pattern bc39 matches multiple places (bc39-b, bc39-a)\n",
        Failure::NoSuchPlace
    )]
    #[case::not_acquired("labgrid-client: Error: place bc39-a is not acquired\n", Failure::NotAcquired)]
    #[case::no_reservation("Server error: Error: Reservation 8UY7OX6Y33 does not exist\n", Failure::NoReservation)]
    #[case::unknown("Traceback (most recent call last):\n  ...\nKeyError: 'x'\n", Failure::Other)]
    fn stderr_is_classified(#[case] stderr: &str, #[case] want: Failure) {
        assert_eq!(classify(stderr), want);
    }

    #[test]
    fn power_commands_are_quoted_for_sh() {
        let rig = LabgridRig::new("127.0.0.1:20408", "bc39 a");
        let client = Client { rig: &rig };
        let shown = show(&SHOW_ACQUIRED.replace("Place 'bc39-a'", "Place 'bc39 a'")).unwrap();
        let p = client.power_of(&shown).unwrap();
        assert_eq!(
            (p.cls.as_str(), p.model.as_deref(), p.index.as_deref()),
            ("NetworkPowerPort", Some("simplerest"), Some("0"))
        );
        assert_eq!(p.commands().cycle, "labgrid-client -x 127.0.0.1:20408 -p 'bc39 a' power cycle");
        assert_eq!(p.commands().off, "labgrid-client -x 127.0.0.1:20408 -p 'bc39 a' power off");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn a_rig_table_with_defaults() {
        let rig: LabgridRig = toml::from_str("coordinator = \"labgrid.example:20408\"\nplace = \"bc39-a\"\n").unwrap();
        assert_eq!(rig, LabgridRig::new("labgrid.example:20408", "bc39-a"));
        let rig: LabgridRig = toml::from_str(
            "coordinator = \"c:1\"\nplace = \"p\"\nclient = \"/opt/lg/bin/labgrid-client\"\ntimeout = \"5s\"\nreserve_wait = \"2m\"\n",
        )
        .unwrap();
        assert_eq!((rig.timeout, rig.reserve_wait), (Duration::from_secs(5), Duration::from_secs(120)));
        assert!(toml::from_str::<LabgridRig>("coordinator = \"c:1\"\nplace = \"p\"\ntimeuot = \"5s\"\n").is_err());
    }

    #[test]
    fn messages_say_what_to_do() {
        let e = LabgridError::Busy {
            place: "bc39-a".into(),
            coordinator: "127.0.0.1:20408".into(),
            holder: Some("otherhost/alice".into()),
            waited: Some(Duration::from_secs(600)),
        };
        assert_eq!(
            e.to_string(),
            "place bc39-a on coordinator 127.0.0.1:20408 is acquired by otherhost/alice (waited 10m for it, [labgrid] reserve_wait); try again later, or ask them to release it (`labgrid-client -x 127.0.0.1:20408 -p bc39-a release`; a run of yours that was killed leaves it acquired too)"
        );
        let e = LabgridError::NoSerial { place: "p".into(), coordinator: "c:1".into(), resources: vec![] };
        assert!(e
            .to_string()
            .starts_with("place p on coordinator c:1 has no NetworkSerialPort (no resources match it now)"));
    }

    #[test]
    fn a_client_that_is_not_there() {
        let mut rig = LabgridRig::new("127.0.0.1:1", "p");
        rig.client = PathBuf::from("/nonexistent/labgrid-client");
        let e = Lease::acquire(&rig).unwrap_err();
        assert!(matches!(e, LabgridError::NotInstalled { .. }), "{e}");
        assert!(e.to_string().contains("pip install labgrid"), "{e}");
    }

    #[test]
    fn a_client_that_hangs_is_killed_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("labgrid-client");
        std::fs::write(&fake, "#!/bin/sh\necho 'export LG_TOKEN=ABC'\nsleep 60 & sleep 60\n").unwrap();
        std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
        let t = Instant::now();
        let r = run(&fake, "127.0.0.1:1", &["show"], Duration::from_millis(300), false);
        let Err(CallError::Overrun(o)) = r else { panic!("not an overrun") };
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
        assert_eq!(token(&o.stdout).as_deref(), Some("ABC"));
    }
}
