//! labgrid places as a rig's way to reach a modem: the place is reserved and acquired through
//! `labgrid-client`, its serial resource (ser2net on the exporter) and power resource are read,
//! and the place is released again when the [`Lease`] ends — by [`Lease::release`], or by `Drop`
//! on an error, a panic or an interrupted run (the runner's SIGINT handling lets the run finish
//! its case and return, so the lease is dropped on the way out).
//!
//! This module only shells out to `labgrid-client`; it never speaks labgrid's gRPC protocol.
//! Every call runs in a process group of its own, is killed with it past its time-out, and keeps
//! its stderr for the error. Checked against labgrid 26.0.1 (see `docs/rack.md`, "labgrid places"); the commands
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
use std::io;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

mod client;
pub mod parse;
#[cfg(test)]
mod tests;

use client::{shell_quote, Client};

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
            return Err(client.no_serial(&shown));
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
        // From here on, dropping `lease` cancels the reservation and releases the place: also
        // when `acquire` is killed past its time-out, since the coordinator may have done it
        // (releasing a place that is not acquired is taken as done).
        lease.held = true;
        client.acquire(&lease.token)?;
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
