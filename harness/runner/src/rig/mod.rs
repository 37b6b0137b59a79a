//! Rig files: a passive description of what is under test and how to reach it (TOML).
//!
//! ```toml
//! kind = "emulator"          # emulator | serial | tcp | rfc2217 | labgrid
//! dialect = "bc39"
//! [emulator]                 # miplcheck_emulator::Options, and flash_slot = "slot/modem.bin": an
//!                            #   image a [flash] command writes there is booted when the emulator opens
//! [emulator.faults]          # misbehaviour for rack tests, counted across the per-case resets:
//!                            #   hang_after = 40   (no echo, no answer after 40 command lines)
//!                            #   fail_first = { command = "+MIPLVER", times = 1 }   (or a list)
//! [serial]                   # port = "/dev/ttyUSB0", baud = 115200, …; or pyserial's URLs:
//!                            #   port = "rfc2217://host:4001?ign_set_control", "socket://host:4000"
//! [tcp]                      # kind = "tcp": address = "host:4000", connect_timeout = "5s"
//! [rfc2217]                  # kind = "rfc2217": address = "host:4001", connect_timeout = "5s",
//!                            #   ign_set_control = false, negotiation_timeout = "3s",
//!                            #   dtr = true, rts = true (once connected; as the server has them when absent);
//!                            #   the line settings (baud, data_bits, …) from [serial]
//! [labgrid]                  # kind = "labgrid": coordinator = "host:20408", place = "bc39-a",
//!                            #   client = "labgrid-client", timeout = "30s", reserve_wait = "10m"
//!                            #   (see docs/rack.md, labgrid places); line settings from [serial]
//! [timing]                   # window_scale = 1.0, late_grace = "2s",
//!                            #   response_time = "corrected" | "raw" (send windows on the response
//!                            #   time less the serial line's character time, or as measured; see
//!                            #   crate::line_time)
//! [secrets]                  # psk = "…" or psk = { env = "MIPL_PSK" }
//! [reset]                    # before every case, and the health check's second rung
//! command = "AT+QRST=1"      # answered ERROR / +CME ERROR / +CIS ERROR: fails at once
//! ready = "RDY"              # a pattern; the line that says the modem is back
//! timeout = "15s"            # how long to wait for `ready`
//! [power]                    # the health check's last rung; shell commands (`sh -c`)
//! cycle = "uhubctl -l 1-1 -p 2 -a cycle"   # or `off` and `on`, with `off_time` between
//! off = "uhubctl -l 1-1 -p 2 -a off"
//! on = "uhubctl -l 1-1 -p 2 -a on"
//! timeout = "30s"            # per command; an overrun is killed with its process group
//! off_time = "2s"
//! settle = "5s"              # after power-on: the port back (USB IDs looked up again), AT → OK
//! group = "hub-1"            # rigs in one group switch power one at a time
//! [retries]                  # over the rack file's; the command line wins
//! count = 1                  # attempts after the first
//! delay = "2s"               # before the first retry, times `backoff` for each further one
//! backoff = 2.0
//! on = "infrastructure"      # or "any" (the default)
//! [health]
//! max_errors = 3             # infrastructure errors in a row before the rig is given up on
//! [probe]                    # the bench MCU behind the modem's AT port, reset through a debug probe
//! selector = "0483:374b:066DFF485550755187034343"   # VID:PID[:SERIAL] in hex (probe-rs' syntax)
//! chip = "STM32L476RG"       # probe-rs' name for the MCU
//! flash = "fw/bridge.elf"    # optional: flashed before the reset (ELF, or Intel HEX by `.hex`);
//!                            # relative to the rig file
//! speed_khz = 1800           # optional: the probe's SWD/JTAG clock
//! [flash]                    # `miplcheck run --firmware FILE`: how the file goes on (rig/flash.rs)
//! command = "tool ${firmware}"   # sh -c in its own process group; or via = "fota" (block = N)
//! timeout = "120s"           # then the group is killed: an infrastructure error
//! ```
//!
//! Power commands see `MIPLCHECK_RIG` (the rig's name) and `MIPLCHECK_PORT` (the serial path or
//! TCP address, when known).
//!
//! `[probe]` is read and checked by every build (selector syntax, the firmware file exists), so a
//! rig file is valid either way; only a build with the `probe-rs` cargo feature
//! (`cargo build -p miplcheck --features probe-rs`) can use it (see [`crate::probe`]), and only
//! such a build checks `chip` against probe-rs' targets.

mod flash;
mod remote;

pub use flash::FlashRig;

use crate::input_error::{line_of, toml_error, InputError};
use miplcheck_emulator::Options as EmulatorOptions;
use miplcheck_transport::rfc2217::Rfc2217Settings;
use miplcheck_transport::serial::SerialSettings;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// miplcheck's own software modem.
    Emulator,
    /// A modem on a serial port.
    Serial,
    /// A modem behind a raw TCP serial server (ser2net) or `miplcheck emulate --tcp`.
    Tcp,
    /// A modem behind an RFC 2217 serial server (ser2net's `telnet(rfc2217)`): line settings
    /// travel with the data.
    Rfc2217,
    /// A labgrid place: reserved and acquired for the run, reached through the serial server its
    /// exporter runs, released afterwards.
    Labgrid,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum EmulatorLink {
    /// Through a pseudo-terminal, opened with the serial code: the path a bench modem takes.
    #[default]
    Pty,
    /// In-process, in virtual time: exact timing, no waiting.
    Virtual,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RigFile {
    name: Option<String>,
    kind: Kind,
    dialect: String,
    /// Folder under `golden/` holding this rig's snapshots; the dialect's name by default.
    golden: Option<String>,
    #[serde(default)]
    capabilities: Vec<String>,
    /// What ends a command line; `"\r"` (V.250 S3) unless the modem wants `"\r\n"`.
    line_ending: Option<String>,
    emulator: Option<toml::Spanned<EmulatorTable>>,
    serial: Option<toml::Spanned<SerialSettings>>,
    tcp: Option<remote::TcpTable>,
    rfc2217: Option<toml::Spanned<remote::Rfc2217Table>>,
    labgrid: Option<toml::Spanned<crate::labgrid::LabgridRig>>,
    #[serde(default)]
    timing: Timing,
    #[serde(default)]
    secrets: BTreeMap<String, toml::Spanned<Secret>>,
    reset: Option<toml::Spanned<Reset>>,
    power: Option<toml::Spanned<Power>>,
    platform: Option<toml::Spanned<PlatformRig>>,
    #[serde(default)]
    tolerate: Tolerate,
    #[serde(default)]
    privacy: PrivacyRig,
    /// Retries for this rig's cases (over the rack's; the command line wins).
    #[serde(default)]
    retries: crate::policy::RetriesTable,
    /// When this rig is given up on.
    #[serde(default)]
    health: crate::policy::HealthTable,
    probe: Option<toml::Spanned<ProbeTable>>,
    flash: Option<toml::Spanned<flash::FlashTable>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ProbeTable {
    selector: toml::Spanned<String>,
    chip: toml::Spanned<String>,
    flash: Option<toml::Spanned<PathBuf>>,
    speed_khz: Option<toml::Spanned<u32>>,
}

/// The debug probe that resets (and may flash) the bench MCU driving the modem (`[probe]`); used
/// by [`crate::probe::reset`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRig {
    /// probe-rs' `DebugProbeSelector`: `VID:PID[:SERIAL]` in hex, checked at load.
    pub selector: String,
    /// probe-rs' name of the target chip, e.g. `STM32L476RG`.
    pub chip: String,
    /// Firmware flashed before each reset; resolved against the rig file's folder.
    pub flash: Option<PathBuf>,
    /// The probe's clock (SWD/JTAG), kHz; the probe's default when absent.
    pub speed_khz: Option<u32>,
}

/// What a run may show of the modem's identities (`[privacy]`). Reports leave the bench, so the
/// default masks the IMEI and IMSI everywhere a run writes or prints; a private bench may keep
/// them (`identity = "keep"`). Secrets are redacted whatever this says.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacyRig {
    #[serde(default)]
    pub identity: Identity,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Identity {
    /// The IMEI keeps its type allocation code (8 digits: the model), the IMSI its network code
    /// (5 digits); the rest is `*`.
    #[default]
    Mask,
    /// Shown as the modem says them.
    Keep,
}

/// Departures from the golden transcripts this rig's users accept (`[tolerate]`): a case whose
/// only differences are of these kinds passes, with each difference as a warning.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Tolerate {
    /// Blanks after `:` and `,` that differ from the manual's.
    #[serde(default)]
    pub spacing: bool,
    /// A URC before the final result code of the command that caused it.
    #[serde(default)]
    pub urc_before_ok: bool,
    /// A request shown again with the same message ID when the platform re-sends it.
    #[serde(default)]
    pub repeated_urc: bool,
    /// Event codes accepted in place of others: `[{ expected = 15, got = 20 }]`.
    #[serde(default)]
    pub events: Vec<EventSwap>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct EventSwap {
    pub expected: u16,
    pub got: u16,
}

impl Tolerate {
    /// Whether every difference is of a kind this rig accepts.
    pub fn accepts(&self, diffs: &[crate::explain::Difference]) -> bool {
        use crate::explain::Kind;
        !diffs.is_empty()
            && diffs.iter().all(|d| match d.kind {
                Kind::ColonSpace | Kind::CommaSpace => self.spacing,
                Kind::UrcBeforeFinal => self.urc_before_ok,
                Kind::Repeated => self.repeated_urc,
                Kind::EventCode { expected, got } => self.events.contains(&EventSwap { expected, got }),
                Kind::Flood { .. } | Kind::Other => false,
            })
    }

    /// A received line as the suite expects it: a tolerated event code read as the one expected.
    pub fn reading(&self, line: &str) -> String {
        let Some(swap) = miplcheck_at::syntax::event_code(line).and_then(|c| self.events.iter().find(|s| s.got == c))
        else {
            return line.to_string();
        };
        // The code is the second field: put the expected one in its place, spacing kept.
        let mut fields: Vec<String> = line.split(',').map(str::to_string).collect();
        let lead = fields[1].len() - fields[1].trim_start().len();
        fields[1] = format!("{}{}", &fields[1][..lead], swap.expected);
        fields.join(",")
    }
}

/// The mock OneNET the modem registers with during a case (started fresh for each case).
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PlatformRig {
    /// Where it listens; port 0 takes a free port for each case (`${platform.port}` in suites).
    #[serde(default = "default_listen")]
    pub listen: std::net::SocketAddr,
    /// The address the modem is told (`${platform.host}`): the bench PC's address as the modem
    /// sees it; loopback for the emulator.
    #[serde(default = "default_advertise")]
    pub advertise: String,
    /// Observe, discover and read right after registration, as OneNET does ("obsv").
    #[serde(default = "yes")]
    pub auto_observe: bool,
    /// Refuse registrations without the rig's `secrets.auth_code` in option 63.
    #[serde(default)]
    pub check_auth_code: bool,
    /// Serve OneNET's HTTP API (`platform::http`) beside each case's platform, on a free port of
    /// the `listen` address (`${platform.http}`), with `secrets.api_key` as its key: the rig then
    /// has the capability `onenet-http` that `onenet:` steps need. Not on a virtual-time link,
    /// which has no sockets.
    #[serde(default)]
    pub http: bool,
}

fn default_listen() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 0))
}
fn default_advertise() -> String {
    "127.0.0.1".into()
}
fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmulatorTable {
    #[serde(default)]
    link: EmulatorLink,
    /// The emulator's flash, for a `[flash] command` to write to: a file, relative to the rig
    /// file, that the emulator boots from each time it is opened (see [`Target::Emulator`]).
    flash_slot: Option<PathBuf>,
    #[serde(default)]
    imei: Option<String>,
    imsi: Option<String>,
    firmware: Option<String>,
    sdk_version: Option<String>,
    echo: Option<bool>,
    cmee: Option<u8>,
    rssi: Option<u8>,
    #[serde(default)]
    delays: BTreeMap<String, humantime_serde::Serde<Duration>>,
    #[serde(default)]
    silent: Vec<String>,
    #[serde(default, with = "humantime_serde")]
    rrc_inactivity: Option<Duration>,
    /// Documented departures from the manual the emulator should show.
    #[serde(default)]
    quirks: miplcheck_emulator::quirks::Quirks,
    /// Misbehaviour for rack tests (`hang_after`, `fail_first`), counted from the emulator's
    /// creation: the reset before each case does not clear it.
    #[serde(default)]
    faults: miplcheck_emulator::faults::Faults,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Secret {
    Value(String),
    Env { env: String },
}

/// How windows are judged on this rig.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// Multiplies every response window (a slow USB hub, a loaded CI box). 1.0 judges by the manual.
    #[serde(default = "one")]
    pub window_scale: f64,
    /// How long to keep listening after a window closed, to measure how late an answer was.
    #[serde(default = "grace", with = "humantime_serde")]
    pub late_grace: Duration,
    /// Which figure a `send:` step's window is judged on (see [`crate::line_time`]).
    #[serde(default)]
    pub response_time: ResponseTime,
    /// The serial line the characters cross, from the target: `[serial]`'s settings for kinds
    /// `serial`, `rfc2217` and `labgrid`; none for the emulator and `tcp`, whose bytes cross
    /// no UART the harness knows the speed of.
    #[serde(skip)]
    pub line: Option<crate::line_time::LineTime>,
}

/// `[timing] response_time`: what a send step's window is judged on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResponseTime {
    /// The raw latency less the characters' time on the wire at the rig's line settings.
    #[default]
    Corrected,
    /// The raw latency: the final result code's stamp − the time the write returned.
    Raw,
}

impl ResponseTime {
    /// As the record and the reports spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponseTime::Corrected => "corrected",
            ResponseTime::Raw => "raw",
        }
    }
}

fn one() -> f64 {
    1.0
}
fn grace() -> Duration {
    Duration::from_secs(2)
}

impl Default for Timing {
    fn default() -> Self {
        Timing { window_scale: 1.0, late_grace: grace(), response_time: ResponseTime::Corrected, line: None }
    }
}

/// How to bring a physical modem back to power-on state before each case.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Reset {
    /// e.g. `AT+QRST=1`.
    pub command: String,
    /// A line that says the modem is back (a pattern), e.g. `RDY`.
    pub ready: Option<String>,
    #[serde(default = "reset_timeout", with = "humantime_serde")]
    pub timeout: Duration,
}

fn reset_timeout() -> Duration {
    Duration::from_secs(15)
}

/// How to switch the modem's power (`[power]`): shell commands run with `sh -c`, with
/// `MIPLCHECK_RIG` and `MIPLCHECK_PORT` in their environment. The health check's last rung.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Power {
    /// Switches the modem off, e.g. `uhubctl -l 1-1 -p 2 -a off`.
    pub off: Option<String>,
    /// Switches it on.
    pub on: Option<String>,
    /// Off and on again in one command; without it, `off`, `off_time`, then `on`.
    pub cycle: Option<String>,
    /// How long one command may run before its process group is killed.
    #[serde(default = "power_timeout", with = "humantime_serde")]
    pub timeout: Duration,
    /// How long the modem stays off between `off` and `on`.
    #[serde(default = "off_time", with = "humantime_serde")]
    pub off_time: Duration,
    /// How long after power-on the port may take to come back and the modem to answer `AT`.
    #[serde(default = "settle", with = "humantime_serde")]
    pub settle: Duration,
    /// Rigs naming the same group never switch power at once in one process: parallel power
    /// cycles wedge USB hubs.
    pub group: Option<String>,
}

fn power_timeout() -> Duration {
    Duration::from_secs(30)
}
fn off_time() -> Duration {
    Duration::from_secs(2)
}
fn settle() -> Duration {
    Duration::from_secs(5)
}

/// The longest duration a rig or suite may name.
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 3600);
/// The shortest secret accepted.
pub const MIN_SECRET: usize = 4;

/// Where the target is, resolved.
#[derive(Debug, Clone)]
pub enum Target {
    Emulator {
        options: EmulatorOptions,
        link: EmulatorLink,
        /// `[emulator] flash_slot`: where a flash command puts an image for it. Each time the
        /// emulator is opened, a package found there is flashed ([`miplcheck_emulator::Modem::flash`]);
        /// none there, or one it refuses, and it runs the rig's firmware.
        flash_slot: Option<PathBuf>,
    },
    Serial(SerialSettings),
    Tcp {
        address: String,
        /// `[tcp] connect_timeout`: how long a handshake may take.
        connect_timeout: Duration,
    },
    /// `kind = "rfc2217"`, or a `rfc2217://` port URL: the address and the line settings.
    Rfc2217(Rfc2217Settings),
    /// `kind = "labgrid"`: a place to lease before the run ([`crate::labgrid::Lease`]), and the
    /// line settings for its serial port.
    Labgrid {
        place: crate::labgrid::LabgridRig,
        line: SerialSettings,
    },
}

/// A rig, checked and resolved. Its `Debug` leaves the secrets' values out.
#[derive(Clone)]
pub struct Rig {
    pub path: PathBuf,
    pub name: String,
    pub dialect: &'static miplcheck_at::Dialect,
    pub golden: String,
    pub capabilities: Vec<String>,
    pub line_ending: String,
    pub target: Target,
    pub timing: Timing,
    /// Secret values by name; they are redacted from everything the runner writes.
    pub secrets: BTreeMap<String, String>,
    pub reset: Option<Reset>,
    pub power: Option<Power>,
    pub platform: Option<PlatformRig>,
    pub tolerate: Tolerate,
    pub privacy: PrivacyRig,
    /// `[retries]`: what the rig file sets.
    pub retries: crate::policy::RetriesTable,
    /// `[health]`: what the rig file sets.
    pub health: crate::policy::HealthTable,
    /// `[probe]`: a debug probe that resets the bench MCU.
    pub probe: Option<ProbeRig>,
    /// `[flash]`: how `miplcheck run --firmware` puts a firmware file on the modem.
    pub flash: Option<FlashRig>,
}

impl std::fmt::Debug for Rig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rig")
            .field("path", &self.path)
            .field("name", &self.name)
            .field("dialect", &self.dialect.name)
            .field("golden", &self.golden)
            .field("capabilities", &self.capabilities)
            .field("target", &self.target)
            .field("timing", &self.timing)
            .field("secrets", &self.secrets.keys().collect::<Vec<_>>())
            .field("reset", &self.reset)
            .field("power", &self.power)
            .field("platform", &self.platform)
            .field("tolerate", &self.tolerate)
            .field("privacy", &self.privacy)
            .field("retries", &self.retries)
            .field("health", &self.health)
            .field("probe", &self.probe)
            .field("flash", &self.flash)
            .finish()
    }
}

impl Rig {
    pub fn load(path: &Path) -> Result<Rig, InputError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| InputError::new(path, format!("cannot read the rig file: {e}")))?;
        Self::parse(path, &text)
    }

    pub fn parse(path: &Path, text: &str) -> Result<Rig, InputError> {
        let de = toml::de::Deserializer::parse(text).map_err(|e| toml_error(path, text, &e, ""))?;
        let raw: RigFile = serde_path_to_error::deserialize(de)
            .map_err(|e| toml_error(path, text, e.inner(), &e.path().to_string()))?;
        let err = |span: Option<std::ops::Range<usize>>, field: &str, msg: String| {
            InputError::new(path, msg).at_line(span.map(|s| line_of(text, s.start))).field(field)
        };
        let dialect = miplcheck_at::Dialect::by_name(&raw.dialect).ok_or_else(|| {
            err(
                find_key(text, "dialect"),
                "dialect",
                format!("unknown dialect {:?}; known: {}", raw.dialect, miplcheck_at::Dialect::names().join(", ")),
            )
        })?;
        let target = match raw.kind {
            Kind::Emulator => {
                let (span, table) = match &raw.emulator {
                    Some(t) => (Some(t.span()), t.get_ref().clone()),
                    None => (None, toml::from_str::<EmulatorTable>("").expect("empty table")),
                };
                let mut o = EmulatorOptions::for_dialect(dialect.name);
                o.imei = table.imei.unwrap_or(o.imei);
                o.imsi = table.imsi.unwrap_or(o.imsi);
                o.firmware = table.firmware;
                o.sdk_version = table.sdk_version.unwrap_or(o.sdk_version);
                o.echo = table.echo.unwrap_or(o.echo);
                o.cmee = table.cmee.unwrap_or(o.cmee);
                o.rssi = table.rssi.unwrap_or(o.rssi);
                o.delays = table
                    .delays
                    .into_iter()
                    .map(|(k, v)| (miplcheck_emulator::options::command_key(&k), v.into_inner()))
                    .collect();
                o.silent = table.silent;
                o.rrc_inactivity = table.rrc_inactivity.unwrap_or(o.rrc_inactivity);
                o.quirks = table.quirks;
                o.faults = table.faults;
                // Building the modem checks the options and that the emulator speaks the dialect.
                miplcheck_emulator::Modem::new(o.clone()).map_err(|m| err(span.clone(), "emulator", m.to_string()))?;
                let flash_slot = table.flash_slot.map(|f| path.parent().unwrap_or(Path::new("")).join(f));
                Target::Emulator { options: o, link: table.link, flash_slot }
            }
            Kind::Serial => {
                let s = raw.serial.as_ref().ok_or_else(|| {
                    err(
                        find_key(text, "kind"),
                        "serial",
                        "kind = \"serial\" needs a [serial] table with `port` or `usb`".into(),
                    )
                })?;
                let url = s.get_ref().port.as_deref().and_then(remote::parse_url);
                match url {
                    None => {
                        s.get_ref().validate().map_err(|m| err(Some(s.span()), "serial", m.to_string()))?;
                        Target::Serial(s.get_ref().clone())
                    }
                    Some(url) => {
                        let at = || find_key_in(text, s.span(), "port").or(Some(s.span()));
                        let url = url.map_err(|m| err(at(), "serial.port", m))?;
                        line_settings(s.get_ref()).map_err(|m| err(Some(s.span()), "serial", m))?;
                        match url {
                            remote::PortUrl::Socket { address } => {
                                Target::Tcp { address, connect_timeout: remote::connect_timeout() }
                            }
                            remote::PortUrl::Rfc2217 { address, ign_set_control, timeout } => {
                                let mut r = Rfc2217Settings::from_serial(address, s.get_ref());
                                r.ign_set_control = ign_set_control;
                                r.negotiation_timeout = timeout.unwrap_or_else(remote::negotiation_timeout);
                                Target::Rfc2217(r)
                            }
                        }
                    }
                }
            }
            Kind::Tcp => {
                let t = raw.tcp.as_ref().ok_or_else(|| {
                    err(find_key(text, "kind"), "tcp", "kind = \"tcp\" needs a [tcp] table with `address`".into())
                })?;
                positive(t.connect_timeout)
                    .map_err(|m| err(find_key(text, "connect_timeout"), "tcp.connect_timeout", m))?;
                remote::check_address(&t.address).map_err(|m| err(find_key(text, "address"), "tcp.address", m))?;
                Target::Tcp { address: t.address.clone(), connect_timeout: t.connect_timeout }
            }
            Kind::Rfc2217 => {
                let t = raw.rfc2217.as_ref().ok_or_else(|| {
                    err(
                        find_key(text, "kind"),
                        "rfc2217",
                        "kind = \"rfc2217\" needs a [rfc2217] table with `address`".into(),
                    )
                })?;
                let at = |key| find_key_in(text, t.span(), key).or(Some(t.span()));
                let table = t.get_ref();
                remote::check_address(&table.address).map_err(|m| err(at("address"), "rfc2217.address", m))?;
                for (key, d) in
                    [("connect_timeout", table.connect_timeout), ("negotiation_timeout", table.negotiation_timeout)]
                {
                    positive(d).map_err(|m| err(at(key), &format!("rfc2217.{key}"), m))?;
                }
                let line = line_only(&raw.serial, "rfc2217", "the server's address is [rfc2217] address")
                    .map_err(|(span, m)| err(span, "serial", m))?;
                let mut r = Rfc2217Settings::from_serial(table.address.clone(), &line);
                r.connect_timeout = table.connect_timeout;
                r.ign_set_control = table.ign_set_control;
                r.negotiation_timeout = table.negotiation_timeout;
                (r.dtr, r.rts) = (table.dtr, table.rts);
                Target::Rfc2217(r)
            }
            Kind::Labgrid => {
                let t = raw.labgrid.as_ref().ok_or_else(|| {
                    err(
                        find_key(text, "kind"),
                        "labgrid",
                        "kind = \"labgrid\" needs a [labgrid] table with `coordinator` and `place`".into(),
                    )
                })?;
                let at = |key| find_key_in(text, t.span(), key).or(Some(t.span()));
                let place = t.get_ref();
                remote::check_address(&place.coordinator)
                    .map_err(|m| err(at("coordinator"), "labgrid.coordinator", m))?;
                if place.place.trim().is_empty() {
                    return Err(err(at("place"), "labgrid.place", "must not be empty".into()));
                }
                for (key, d) in [("timeout", place.timeout), ("reserve_wait", place.reserve_wait)] {
                    positive(d).map_err(|m| err(at(key), &format!("labgrid.{key}"), m))?;
                }
                let line = line_only(&raw.serial, "labgrid", "the port is the place's serial resource")
                    .map_err(|(span, m)| err(span, "serial", m))?;
                Target::Labgrid { place: place.clone(), line }
            }
        };
        if !(raw.timing.window_scale.is_finite() && raw.timing.window_scale > 0.0 && raw.timing.window_scale <= 1000.0)
        {
            return Err(err(
                find_key(text, "window_scale"),
                "timing.window_scale",
                "must be a number above 0 and at most 1000".into(),
            ));
        }
        if raw.timing.late_grace > MAX_DURATION {
            return Err(err(find_key(text, "late_grace"), "timing.late_grace", "must be at most a day".into()));
        }
        if let Some(spanned) = &raw.reset {
            let (span, r) = (spanned.span(), spanned.get_ref());
            let at = |key| find_key_in(text, span.clone(), key).or(Some(span.clone()));
            positive(r.timeout).map_err(|m| err(at("timeout"), "reset.timeout", m))?;
            if let Some(ready) = &r.ready {
                crate::pattern::Pattern::new(ready).map_err(|e| err(at("ready"), "reset.ready", e.to_string()))?;
            }
        }
        if let Some(p) = &raw.power {
            check_power(p.get_ref()).map_err(|(key, m)| {
                let line = find_key_in(text, p.span(), key).or(Some(p.span()));
                err(line, &format!("power{}", if key.is_empty() { String::new() } else { format!(".{key}") }), m)
            })?;
        }
        let mut secrets = BTreeMap::new();
        for (name, s) in &raw.secrets {
            let value = match s.get_ref() {
                Secret::Value(v) => v.clone(),
                Secret::Env { env } => std::env::var(env).map_err(|_| {
                    err(Some(s.span()), &format!("secrets.{name}"), format!("environment variable {env} is not set"))
                })?,
            };
            // A very short secret would be "redacted" wherever its characters occur, mangling
            // every transcript.
            if value.chars().count() < MIN_SECRET {
                return Err(err(
                    Some(s.span()),
                    &format!("secrets.{name}"),
                    format!("a secret must be at least {MIN_SECRET} characters"),
                ));
            }
            secrets.insert(name.clone(), value);
        }
        if let Some(p) = &raw.platform {
            if p.get_ref().check_auth_code && !secrets.contains_key("auth_code") {
                return Err(err(Some(p.span()), "platform.check_auth_code", "needs `auth_code` in [secrets]".into()));
            }
            if p.get_ref().http && !secrets.contains_key("api_key") {
                let at = find_key_in(text, p.span(), "http").or(Some(p.span()));
                return Err(err(at, "platform.http", "needs `api_key` in [secrets] (the API's key)".into()));
            }
        }
        let probe = raw.probe.as_ref().map(|p| probe_rig(path, text, p.get_ref())).transpose()?;
        let flash = match &raw.flash {
            None => None,
            Some(f) => Some(flash::check(f.get_ref(), raw.platform.is_some()).map_err(|(key, m)| {
                let line = find_key_in(text, f.span(), key).or(Some(f.span()));
                err(line, &format!("flash{}", if key.is_empty() { String::new() } else { format!(".{key}") }), m)
            })?),
        };
        let timing = Timing { line: line_time(&target), ..raw.timing };
        let stem = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "rig".into());
        Ok(Rig {
            path: path.to_path_buf(),
            name: raw.name.unwrap_or(stem),
            dialect,
            golden: raw.golden.unwrap_or_else(|| dialect.name.to_string()),
            capabilities: raw.capabilities,
            line_ending: raw.line_ending.unwrap_or_else(|| "\r".into()),
            target,
            timing,
            secrets,
            reset: raw.reset.map(|r| r.into_inner()),
            power: raw.power.map(|p| p.into_inner()),
            platform: raw.platform.map(|p| p.into_inner()),
            tolerate: raw.tolerate,
            privacy: raw.privacy,
            retries: raw.retries,
            health: raw.health,
            probe,
            flash,
        })
    }

    /// How the rig's mock platform is started for a case (`[platform]`; `None` without one): the
    /// auth code checked when the rig asks, the server URI it hands out in bootstrap.
    pub fn platform_options(&self) -> Option<miplcheck_platform::PlatformOptions> {
        let p = self.platform.as_ref()?;
        Some(miplcheck_platform::PlatformOptions {
            auto_observe: p.auto_observe,
            auth_code: if p.check_auth_code { self.secrets.get("auth_code").cloned() } else { None },
            server_uri: format!("coap://{}:{{port}}", p.advertise),
            ..Default::default()
        })
    }

    /// The rig with the emulator reached in virtual time (for tests of timing logic).
    /// The IMEI and IMSI the rig itself says its modem has: an emulator's; none for a bench modem,
    /// which is asked before a run.
    pub fn declared_identities(&self) -> (Option<String>, Option<String>) {
        match &self.target {
            Target::Emulator { options, .. } => (Some(options.imei.clone()), Some(options.imsi.clone())),
            _ => (None, None),
        }
    }

    /// What the rig file leaves out that its run will miss, in words for the user: a modem off the
    /// harness' own emulator with no `[reset]` keeps one case's settings into the next.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if !matches!(self.target, Target::Emulator { .. }) && self.reset.is_none() {
            w.push(format!(
                "rig {}: no [reset]: nothing brings the modem back to its power-on state between cases, so one \
                 case's settings can reach the next; give [reset] command = \"AT+QRST=1\" (a BC39) or \
                 \"AT+CFUN=1,1\" (the emulator behind a serial server)",
                self.name
            ));
        }
        w
    }

    /// The capability OneNET HTTP API steps need; a rig has it by `[platform] http = true`.
    pub const ONENET_HTTP: &'static str = "onenet-http";

    /// Whether each case's platform serves the OneNET HTTP API: `[platform] http = true`, on a
    /// link with sockets (not virtual time).
    pub fn serves_http(&self) -> bool {
        self.platform.as_ref().is_some_and(|p| p.http)
            && !matches!(self.target, Target::Emulator { link: EmulatorLink::Virtual, .. })
    }

    /// Whether the rig has `capability`: declared, or `onenet-http` when [`Rig::serves_http`].
    pub fn has(&self, capability: &str) -> bool {
        self.capabilities.iter().any(|c| c == capability) || (capability == Self::ONENET_HTTP && self.serves_http())
    }

    pub fn with_virtual_link(mut self) -> Rig {
        if let Target::Emulator { link, .. } = &mut self.target {
            *link = EmulatorLink::Virtual;
        }
        self
    }
}

/// `[probe]` checked: the selector's syntax, the chip (with the feature), the firmware file, the
/// speed; each error at its own line.
fn probe_rig(path: &Path, text: &str, p: &ProbeTable) -> Result<ProbeRig, InputError> {
    let err = |span: std::ops::Range<usize>, field: &str, msg: String| {
        InputError::new(path, msg).at_line(Some(line_of(text, span.start))).field(field)
    };
    let selector = p.selector.get_ref().trim().to_string();
    crate::probe::check_selector(&selector).map_err(|m| {
        err(p.selector.span(), "probe.selector", format!("`{selector}` is not a debug probe selector: {m}"))
    })?;
    let chip = p.chip.get_ref().trim().to_string();
    crate::probe::check_chip(&chip).map_err(|m| err(p.chip.span(), "probe.chip", m))?;
    let flash = match &p.flash {
        None => None,
        Some(f) => {
            let file = path.parent().unwrap_or(Path::new("")).join(f.get_ref());
            if !file.is_file() {
                return Err(err(
                    f.span(),
                    "probe.flash",
                    format!("no firmware file at {} (a path relative to the rig file)", file.display()),
                ));
            }
            Some(file)
        }
    };
    let speed_khz = match &p.speed_khz {
        Some(s) if *s.get_ref() == 0 => {
            return Err(err(s.span(), "probe.speed_khz", "must be above 0 (kHz)".into()));
        }
        s => s.as_ref().map(|s| *s.get_ref()),
    };
    Ok(ProbeRig { selector, chip, flash, speed_khz })
}

/// What is wrong with a `[power]` table: the key (empty for the table) and why.
fn check_power(p: &Power) -> Result<(), (&'static str, String)> {
    for (key, command) in [("off", &p.off), ("on", &p.on), ("cycle", &p.cycle)] {
        if command.as_ref().is_some_and(|c| c.trim().is_empty()) {
            return Err((key, "must not be empty".into()));
        }
    }
    if p.cycle.is_none() && (p.off.is_none() || p.on.is_none()) {
        return Err(("", "needs `cycle`, or both `off` and `on`".into()));
    }
    for (key, d, zero_ok) in
        [("timeout", p.timeout, false), ("off_time", p.off_time, true), ("settle", p.settle, false)]
    {
        if (d.is_zero() && !zero_ok) || d > MAX_DURATION {
            let least = if zero_ok { "at least 0" } else { "above 0" };
            return Err((key, format!("must be {least} and at most a day")));
        }
    }
    if p.group.as_ref().is_some_and(|g| g.trim().is_empty()) {
        return Err(("group", "must not be empty".into()));
    }
    Ok(())
}

/// A time-out a rig names: above 0 and at most [`MAX_DURATION`].
fn positive(d: Duration) -> Result<(), String> {
    if d.is_zero() || d > MAX_DURATION {
        return Err("must be above 0 and at most a day".into());
    }
    Ok(())
}

/// The UART the target's characters cross. A `tcp` rig (ser2net raw, `socket://`,
/// `miplcheck emulate --tcp`) has none the harness can vouch for: it does not set the server's
/// line, so `[serial]`'s values there are nobody's checked settings, and correcting by them could
/// pass a late modem. The emulator's bytes cross no UART at all.
pub(crate) fn line_time(target: &Target) -> Option<crate::line_time::LineTime> {
    use crate::line_time::LineTime;
    match target {
        Target::Serial(s) | Target::Labgrid { line: s, .. } => {
            LineTime::new(s.baud, s.data_bits, s.parity, s.stop_bits)
        }
        Target::Rfc2217(r) => LineTime::new(r.baud, r.data_bits, r.parity, r.stop_bits),
        Target::Emulator { .. } | Target::Tcp { .. } => None,
    }
}

/// `[serial]` of a rig whose port is elsewhere (`[rfc2217]`, a labgrid place): line settings only,
/// checked; the defaults (115200 8N1) without the table.
#[allow(clippy::type_complexity)]
fn line_only(
    serial: &Option<toml::Spanned<SerialSettings>>,
    kind: &str,
    port_is: &str,
) -> Result<SerialSettings, (Option<std::ops::Range<usize>>, String)> {
    let Some(s) = serial else { return Ok(SerialSettings { port: None, ..SerialSettings::at_path("") }) };
    if s.get_ref().port.is_some() || s.get_ref().usb.is_some() {
        return Err((
            Some(s.span()),
            format!(
                "with kind = \"{kind}\", [serial] holds only the line settings (baud, data_bits, parity, stop_bits, \
                 flow_control); {port_is}"
            ),
        ));
    }
    line_settings(s.get_ref()).map_err(|m| (Some(s.span()), m))?;
    Ok(SerialSettings { port: None, ..s.get_ref().clone() })
}

/// Checks `[serial]`'s line settings (baud, data bits, stop bits) when no port path goes with them.
fn line_settings(s: &SerialSettings) -> Result<(), String> {
    SerialSettings { port: Some(String::new()), usb: None, ..s.clone() }.validate().map_err(|e| e.to_string())
}

/// The span of `key =` in the table whose header `table` spans (its lines up to the next
/// header), or `None` when the key is not written there.
fn find_key_in(text: &str, table: std::ops::Range<usize>, key: &str) -> Option<std::ops::Range<usize>> {
    if key.is_empty() {
        return None;
    }
    let start = text[table.end.min(text.len())..].find('\n').map_or(text.len(), |n| table.end + n + 1);
    let body = &text[start..];
    let end = body
        .split_inclusive('\n')
        .scan(0, |off, line| {
            let at = *off;
            *off += line.len();
            Some((at, line))
        })
        .find(|(_, line)| line.trim_start().starts_with('['))
        .map_or(body.len(), |(at, _)| at);
    find_key(&body[..end], key).map(|r| start + r.start..start + r.end)
}

/// The span of a top-level-ish `key =` in the text, for errors found after parsing.
fn find_key(text: &str, key: &str) -> Option<std::ops::Range<usize>> {
    let mut off = 0;
    for line in text.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with(key) && t[key.len()..].trim_start().starts_with('=') {
            let start = off + (line.len() - t.len());
            return Some(start..start + key.len());
        }
        off += line.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn parse(text: &str) -> Result<Rig, InputError> {
        Rig::parse(Path::new("rigs/test.toml"), text)
    }

    #[test]
    fn emulator_rig_with_defaults() {
        let r = parse("kind = \"emulator\"\ndialect = \"bc39\"\n").unwrap();
        assert_eq!(r.golden, "bc39");
        assert_eq!(r.name, "test");
        assert!(matches!(r.target, Target::Emulator { link: EmulatorLink::Pty, .. }));
    }

    #[test]
    fn an_emulator_flash_slot_is_beside_the_rig_file() {
        let r =
            parse("kind = \"emulator\"\ndialect = \"bc39\"\n[emulator]\nflash_slot = \"slot/modem.bin\"\n").unwrap();
        let Target::Emulator { flash_slot, .. } = r.target else { panic!() };
        assert_eq!(flash_slot.as_deref(), Some(Path::new("rigs/slot/modem.bin")));
        let Target::Emulator { flash_slot, .. } = parse("kind = \"emulator\"\ndialect = \"bc39\"\n").unwrap().target
        else {
            panic!()
        };
        assert_eq!(flash_slot, None);
    }

    #[test]
    fn emulator_faults_reach_the_options() {
        let r = parse(
            "kind = \"emulator\"\ndialect = \"bc39\"\n[emulator]\nlink = \"virtual\"\n[emulator.faults]\nhang_after = 40\n\
             fail_first = { command = \"+MIPLVER\", times = 2 }\n",
        )
        .unwrap();
        let Target::Emulator { options, .. } = r.target else { panic!() };
        assert_eq!(options.faults.hang_after, Some(40));
        assert_eq!(
            (options.faults.fail_first[0].command.as_str(), options.faults.fail_first[0].times),
            ("+MIPLVER", 2)
        );
        let r = parse("kind = \"emulator\"\ndialect = \"bc39\"\n").unwrap();
        let Target::Emulator { options, .. } = r.target else { panic!() };
        assert_eq!(options.faults, Default::default(), "none by default");
    }

    #[test]
    fn serial_rig() {
        let r = parse("kind = \"serial\"\ndialect = \"bc39\"\n[serial]\nport = \"/dev/ttyUSB0\"\nbaud = 9600\nparity = \"even\"\n")
            .unwrap();
        let Target::Serial(s) = r.target else { panic!() };
        assert_eq!((s.baud, s.frame().as_str()), (9600, "8E1"));
    }

    #[rstest]
    #[case::serial(
        "kind = \"serial\"\n[serial]\nport = \"/dev/x\"\nbaud = 9600\nparity = \"even\"\n",
        Some("9600 8E1")
    )]
    #[case::serial_default_line("kind = \"serial\"\n[serial]\nport = \"/dev/x\"\n", Some("115200 8N1"))]
    #[case::rfc2217("kind = \"rfc2217\"\n[rfc2217]\naddress = \"lab:4001\"\n[serial]\nbaud = 9600\ndata_bits = 7\nparity = \"even\"\nstop_bits = 2\n", Some("9600 7E2"))]
    #[case::rfc2217_url("kind = \"serial\"\n[serial]\nport = \"rfc2217://lab:4001\"\nbaud = 9600\n", Some("9600 8N1"))]
    #[case::labgrid(
        "kind = \"labgrid\"\n[labgrid]\ncoordinator = \"lab:20408\"\nplace = \"a\"\n[serial]\nbaud = 9600\n",
        Some("9600 8N1")
    )]
    #[case::socket_url("kind = \"serial\"\n[serial]\nport = \"socket://lab:4000\"\nbaud = 9600\n", None)]
    #[case::tcp("kind = \"tcp\"\n[tcp]\naddress = \"lab:4000\"\n", None)]
    #[case::emulator("kind = \"emulator\"\n", None)]
    #[case::emulator_on_a_pty("kind = \"emulator\"\n[emulator]\nlink = \"pty\"\n", None)]
    fn the_line_a_response_time_is_corrected_for(#[case] head: &str, #[case] want: Option<&str>) {
        let (kind, rest) = head.split_once('\n').unwrap();
        let r = parse(&format!("{kind}\ndialect = \"bc39\"\n{rest}")).unwrap();
        assert_eq!(r.timing.line.map(|l| l.label()).as_deref(), want);
        assert_eq!(r.timing.response_time, ResponseTime::Corrected, "corrected unless the rig says raw");
        let raw = parse(&format!("{kind}\ndialect = \"bc39\"\n{rest}[timing]\nresponse_time = \"raw\"\n")).unwrap();
        assert_eq!(raw.timing.response_time, ResponseTime::Raw);
        assert_eq!(raw.timing.line, r.timing.line);
    }

    #[rstest]
    #[case("kind = \"emulator\"\n", 0, "dialect", "missing field")]
    #[case("kind = \"emulator\"\ndialect = \"sim800\"\n", 2, "dialect", "unknown dialect")]
    #[case("kind = \"modem\"\ndialect = \"bc39\"\n", 1, "kind", "unknown variant")]
    #[case(
        "kind = \"serial\"\ndialect = \"bc39\"\n[serial]\nport = \"/dev/x\"\nbaud = \"fast\"\n",
        5,
        "serial.baud",
        "invalid type"
    )]
    #[case("kind = \"serial\"\ndialect = \"bc39\"\n[serial]\nbaud = 9600\n", 3, "serial", "give `port`")]
    #[case("kind = \"serial\"\ndialect = \"bc39\"\n", 1, "serial", "needs a [serial] table")]
    #[case(
        "kind = \"emulator\"\ndialect = \"bc39\"\n[emulator]\nimei = \"12\"\n",
        3,
        "emulator",
        "imei must be 15 digits"
    )]
    #[case(
        "kind = \"emulator\"\ndialect = \"bc39\"\n[emulator]\nechoo = false\n",
        4,
        "emulator.echoo",
        "unknown field"
    )]
    #[case(
        "kind = \"emulator\"\ndialect = \"bc39\"\n[secrets]\npsk = { env = \"MIPLCHECK_TEST_UNSET_VAR\" }\n",
        4,
        "secrets.psk",
        "MIPLCHECK_TEST_UNSET_VAR"
    )]
    #[case(
        "kind = \"serial\"\ndialect = \"bc39\"\n[serial]\nport = \"/dev/x\"\n[timing]\nresponse_time = \"wire\"\n",
        6,
        "timing.response_time",
        "unknown variant `wire`, expected `corrected` or `raw`"
    )]
    #[case(
        "kind = \"emulator\"\ndialect = \"bc39\"\n[timing]\nwindow_scale = 0\n",
        4,
        "timing.window_scale",
        "above 0"
    )]
    #[case(
        "kind = \"emulator\"\ndialect = \"bc39\"\n[emulator]\ndelays = { \"+MIPLVER\" = \"soon\" }\n",
        4,
        "emulator.delays.+MIPLVER",
        ""
    )]
    #[case("kind = \"emulator\"\ndialect = \n", 2, "", "")]
    #[case(
        "kind = \"emulator\"\ndialect = \"bc39\"\n[emulator.faults]\nhang_afterr = 4\n",
        4,
        "emulator.faults.hang_afterr",
        "unknown field"
    )]
    #[case(
        "kind = \"emulator\"\ndialect = \"bc39\"\n[emulator.faults]\nfail_first = { command = \"\" }\n",
        3,
        "emulator",
        "faults.fail_first"
    )]
    fn bad_rigs_name_line_and_field(#[case] text: &str, #[case] line: usize, #[case] field: &str, #[case] says: &str) {
        let e = parse(text).unwrap_err();
        let shown = e.to_string();
        assert!(shown.starts_with("rigs/test.toml"), "{shown}");
        if line > 0 {
            assert_eq!(e.line, Some(line), "{shown}");
        }
        if !field.is_empty() {
            assert_eq!(e.field.as_deref(), Some(field), "{shown}");
        }
        assert!(shown.contains(says), "{shown}");
    }

    #[test]
    fn rfc2217_rig_takes_its_line_from_serial() {
        let r = parse(
            "kind = \"rfc2217\"\ndialect = \"bc39\"\n[rfc2217]\naddress = \"lab:4001\"\nign_set_control = true\n\
             dtr = true\n[serial]\nbaud = 9600\nparity = \"even\"\n",
        )
        .unwrap();
        let Target::Rfc2217(s) = &r.target else { panic!("{:?}", r.target) };
        assert_eq!((s.address.as_str(), s.baud, s.frame().as_str()), ("lab:4001", 9600, "8E1"));
        assert!(s.ign_set_control);
        assert_eq!((s.dtr, s.rts), (Some(true), None));
        assert_eq!((s.connect_timeout, s.negotiation_timeout), (Duration::from_secs(5), Duration::from_secs(3)));
        let r = parse("kind = \"rfc2217\"\ndialect = \"bc39\"\n[rfc2217]\naddress = \"lab:4001\"\n").unwrap();
        let Target::Rfc2217(s) = &r.target else { panic!() };
        assert_eq!((s.baud, s.frame().as_str(), s.ign_set_control), (115_200, "8N1", false));
    }

    #[rstest]
    #[case("rfc2217://lab:4001?ign_set_control&timeout=2", "rfc2217")]
    #[case("socket://lab:4000", "tcp")]
    #[case("/dev/ttyUSB0", "serial")]
    fn serial_port_urls_as_pyserial_spells_them(#[case] port: &str, #[case] kind: &str) {
        let r = parse(&format!("kind = \"serial\"\ndialect = \"bc39\"\n[serial]\nport = \"{port}\"\nbaud = 9600\n"))
            .unwrap();
        match (&r.target, kind) {
            (Target::Rfc2217(s), "rfc2217") => {
                assert_eq!((s.address.as_str(), s.baud, s.ign_set_control), ("lab:4001", 9600, true));
                assert_eq!(s.negotiation_timeout, Duration::from_secs(2));
            }
            (Target::Tcp { address, .. }, "tcp") => assert_eq!(address, "lab:4000"),
            (Target::Serial(s), "serial") => assert_eq!(s.port.as_deref(), Some(port)),
            (t, _) => panic!("{port}: {t:?}"),
        }
    }

    #[rstest]
    #[case("kind = \"rfc2217\"\ndialect = \"bc39\"\n", 1, "rfc2217", "needs a [rfc2217] table")]
    #[case("kind = \"rfc2217\"\ndialect = \"bc39\"\n[rfc2217]\naddress = \"lab\"\n", 4, "rfc2217.address", "host:port")]
    #[case(
        "kind = \"rfc2217\"\ndialect = \"bc39\"\n[rfc2217]\naddress = \"lab:1\"\nnegotiation_timeout = \"0s\"\n",
        5,
        "rfc2217.negotiation_timeout",
        "above 0"
    )]
    #[case(
        "kind = \"rfc2217\"\ndialect = \"bc39\"\n[rfc2217]\naddress = \"lab:1\"\n[serial]\nport = \"/dev/ttyUSB0\"\n",
        5,
        "serial",
        "only the line settings"
    )]
    #[case(
        "kind = \"rfc2217\"\ndialect = \"bc39\"\n[rfc2217]\naddress = \"lab:1\"\n[serial]\ndata_bits = 9\n",
        5,
        "serial",
        "data_bits"
    )]
    #[case(
        "kind = \"rfc2217\"\ndialect = \"bc39\"\n[rfc2217]\naddress = \"lab:1\"\nretries = 3\n",
        5,
        "rfc2217.retries",
        "unknown field"
    )]
    #[case(
        "kind = \"serial\"\ndialect = \"bc39\"\n[serial]\nbaud = 9600\nport = \"rfc2217://lab:1?poll_modem\"\n",
        5,
        "serial.port",
        "unknown option `poll_modem`"
    )]
    #[case("kind = \"tcp\"\ndialect = \"bc39\"\n[tcp]\naddress = \"lab:99999\"\n", 4, "tcp.address", "1 to 65535")]
    fn bad_remote_rigs(#[case] text: &str, #[case] line: usize, #[case] field: &str, #[case] says: &str) {
        let e = parse(text).unwrap_err();
        let shown = e.to_string();
        assert_eq!((e.line, e.field.as_deref()), (Some(line), Some(field)), "{shown}");
        assert!(shown.contains(says), "{shown}");
    }

    #[test]
    fn a_remote_rig_without_a_reset_is_warned_about() {
        let w = parse("kind = \"tcp\"\ndialect = \"bc39\"\n[tcp]\naddress = \"h:1\"\n").unwrap().warnings();
        assert_eq!(w.len(), 1);
        assert!(w[0].contains("rig test: no [reset]"), "{w:?}");
        let reset =
            "kind = \"tcp\"\ndialect = \"bc39\"\n[tcp]\naddress = \"h:1\"\n[reset]\ncommand = \"AT+CFUN=1,1\"\n";
        assert!(parse(reset).unwrap().warnings().is_empty());
        assert!(parse("kind = \"emulator\"\ndialect = \"bc39\"\n").unwrap().warnings().is_empty());
    }

    #[test]
    fn tcp_connect_timeout() {
        let r = parse("kind = \"tcp\"\ndialect = \"bc39\"\n[tcp]\naddress = \"127.0.0.1:7000\"\n").unwrap();
        assert!(matches!(r.target, Target::Tcp { connect_timeout, .. } if connect_timeout == Duration::from_secs(5)));
        let r =
            parse("kind = \"tcp\"\ndialect = \"bc39\"\n[tcp]\naddress = \"h:1\"\nconnect_timeout = \"3s\"\n").unwrap();
        assert!(matches!(r.target, Target::Tcp { connect_timeout, .. } if connect_timeout == Duration::from_secs(3)));
        let e = parse("kind = \"tcp\"\ndialect = \"bc39\"\n[tcp]\naddress = \"h:1\"\nconnect_timeout = \"0s\"\n")
            .unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(5), Some("tcp.connect_timeout")), "{e}");
    }

    #[test]
    fn a_platform_table() {
        let r = parse("kind = \"emulator\"\ndialect = \"bc39\"\n[platform]\nauto_observe = false\n").unwrap();
        let p = r.platform.unwrap();
        assert_eq!((p.listen.port(), p.advertise.as_str(), p.auto_observe), (0, "127.0.0.1", false));
        let e = parse("kind = \"emulator\"\ndialect = \"bc39\"\n[platform]\ncheck_auth_code = true\n").unwrap_err();
        assert!(e.to_string().contains("needs `auth_code` in [secrets]"), "{e}");
    }

    const BASE: &str = "kind = \"tcp\"\ndialect = \"bc39\"\n[tcp]\naddress = \"h:1\"\n";

    #[test]
    fn a_power_table_with_defaults() {
        let r =
            parse(&format!("{BASE}[power]\ncycle = \"uhubctl -l 1-1 -p 2 -a cycle\"\ngroup = \"hub-1\"\n")).unwrap();
        let p = r.power.unwrap();
        assert_eq!(p.cycle.as_deref(), Some("uhubctl -l 1-1 -p 2 -a cycle"));
        assert_eq!(
            (p.timeout, p.off_time, p.settle),
            (Duration::from_secs(30), Duration::from_secs(2), Duration::from_secs(5))
        );
        assert_eq!(p.group.as_deref(), Some("hub-1"));
        let r = parse(&format!("{BASE}[power]\noff = \"a\"\non = \"b\"\noff_time = \"0s\"\n")).unwrap();
        assert_eq!(r.power.unwrap().off_time, Duration::ZERO);
    }

    #[rstest]
    #[case("[power]\ncycle = \"x\"\ncycles = 2\n", 7, "power.cycles", "unknown field")]
    #[case("[power]\noff = \"x\"\n", 5, "power", "needs `cycle`, or both `off` and `on`")]
    #[case("[power]\ncycle = \"\"\n", 6, "power.cycle", "must not be empty")]
    #[case("[power]\ncycle = \"x\"\ntimeout = \"0s\"\n", 7, "power.timeout", "above 0")]
    #[case("[power]\ncycle = \"x\"\nsettle = \"2days\"\n", 7, "power.settle", "at most a day")]
    #[case("[power]\ncycle = \"x\"\ntimeout = \"soon\"\n", 7, "power.timeout", "")]
    #[case("[power]\ncycle = \"x\"\ngroup = \" \"\n", 7, "power.group", "must not be empty")]
    #[case(
        "[power]\ncycle = \"x\"\n[reset]\ncommand = \"AT+QRST=1\"\ntimeout = \"0s\"\n",
        9,
        "reset.timeout",
        "above 0"
    )]
    #[case("[reset]\ncommand = \"AT+QRST=1\"\nready = \"RDY\"\nwait = \"1s\"\n", 8, "reset.wait", "unknown field")]
    fn bad_power_and_reset_tables_name_line_and_field(
        #[case] table: &str,
        #[case] line: usize,
        #[case] field: &str,
        #[case] says: &str,
    ) {
        let e = parse(&format!("{BASE}{table}")).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(line), Some(field)), "{e}");
        assert!(e.to_string().contains(says), "{e}");
    }

    const EMU: &str = "kind = \"emulator\"\ndialect = \"bc39\"\n[platform]\nlisten = \"127.0.0.1:0\"\n";

    #[test]
    fn a_flash_table() {
        let r = parse(&format!("{BASE}[flash]\ncommand = \"qflash ${{firmware}}\"\n")).unwrap();
        let want = FlashRig::Command { command: "qflash ${firmware}".into(), timeout: Duration::from_secs(120) };
        assert_eq!(r.flash, Some(want));
        let r = parse(&format!("{BASE}[flash]\ncommand = \"x ${{firmware}}\"\ntimeout = \"5m\"\n")).unwrap();
        assert!(matches!(r.flash, Some(FlashRig::Command { timeout, .. }) if timeout == Duration::from_secs(300)));
        let r = parse(&format!("{EMU}[flash]\nvia = \"fota\"\nblock = 256\n")).unwrap();
        assert_eq!(r.flash, Some(FlashRig::Fota { block: Some(256) }));
        assert_eq!(r.flash.unwrap().describe(), "fota (block 256)");
        assert_eq!(parse(BASE).unwrap().flash, None);
    }

    #[rstest]
    #[case(BASE, "[flash]\n", 5, "flash", "needs `command")]
    #[case(BASE, "[flash]\ncommand = \"x\"\nvia = \"fota\"\n", 7, "flash.via", "not both")]
    #[case(BASE, "[flash]\ncommand = \" \"\n", 6, "flash.command", "must not be empty")]
    #[case(BASE, "[flash]\ncommand = \"x ${port}\"\n", 6, "flash.command", "`${port}` is not known")]
    #[case(BASE, "[flash]\ncommand = \"x\"\ntimeout = \"0s\"\n", 7, "flash.timeout", "above 0")]
    #[case(BASE, "[flash]\ncommand = \"x\"\ntimeout = \"soon\"\n", 7, "flash.timeout", "")]
    #[case(BASE, "[flash]\ncommand = \"x\"\nblock = 64\n", 7, "flash.block", "only with `via")]
    #[case(BASE, "[flash]\ncommand = \"x\"\nretries = 2\n", 7, "flash.retries", "unknown field")]
    #[case(BASE, "[flash]\nvia = \"fota\"\n", 6, "flash.via", "needs the rig's [platform]")]
    #[case(EMU, "[flash]\nvia = \"usb\"\n", 6, "flash.via", "the one known is \"fota\"")]
    #[case(EMU, "[flash]\nvia = \"fota\"\ntimeout = \"1s\"\n", 7, "flash.timeout", "only with `command`")]
    #[case(EMU, "[flash]\nvia = \"fota\"\nblock = 100\n", 7, "flash.block", "")]
    fn bad_flash_tables_name_line_and_field(
        #[case] base: &str,
        #[case] table: &str,
        #[case] line: usize,
        #[case] field: &str,
        #[case] says: &str,
    ) {
        let e = parse(&format!("{base}{table}")).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(line), Some(field)), "{e}");
        assert!(e.to_string().contains(says), "{e}");
    }

    const PROBE_RIG: &str = "kind = \"serial\"\ndialect = \"bc39\"\n[serial]\nport = \"/dev/ttyUSB0\"\n[probe]\n";

    #[test]
    fn a_probe_table() {
        let r = parse(&format!(
            "{PROBE_RIG}selector = \"0483:374b:066DFF485550755187034343\"\nchip = \"STM32L476RG\"\nspeed_khz = 1800\n"
        ))
        .unwrap();
        let p = r.probe.unwrap();
        assert_eq!(
            p,
            ProbeRig {
                selector: "0483:374b:066DFF485550755187034343".into(),
                chip: "STM32L476RG".into(),
                flash: None,
                speed_khz: Some(1800)
            }
        );
        assert!(parse("kind = \"emulator\"\ndialect = \"bc39\"\n").unwrap().probe.is_none());
    }

    #[test]
    fn a_probe_flash_file_is_relative_to_the_rig() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("fw")).unwrap();
        std::fs::write(dir.path().join("fw/bridge.elf"), b"\x7fELF").unwrap();
        let rig = dir.path().join("bench.toml");
        let text = format!("{PROBE_RIG}selector = \"0483:374b\"\nchip = \"STM32L476RG\"\nflash = \"fw/bridge.elf\"\n");
        let p = Rig::parse(&rig, &text).unwrap().probe.unwrap();
        assert_eq!(p.flash.as_deref(), Some(dir.path().join("fw/bridge.elf").as_path()));
        let e = Rig::parse(&rig, &text.replace("bridge.elf", "missing.elf")).unwrap_err();
        assert_eq!((e.line, e.field.as_deref()), (Some(8), Some("probe.flash")), "{e}");
        assert!(e.to_string().contains("missing.elf"), "{e}");
    }

    #[rstest]
    #[case(
        "selector = \"stlink\"\nchip = \"STM32L476RG\"\n",
        6,
        "probe.selector",
        "`stlink` is not a debug probe selector"
    )]
    #[case("selector = \"0483:37zz:SN\"\nchip = \"STM32L476RG\"\n", 6, "probe.selector", "VID:PID[:SERIAL]")]
    #[case("selector = \"0483:374b\"\nchip = \"STM32L476RG\"\nserial = \"x\"\n", 8, "probe.serial", "unknown field")]
    #[case("selector = \"0483:374b\"\n", 5, "probe.chip", "missing field")]
    #[case("selector = \"0483:374b\"\nchip = \" \"\n", 7, "probe.chip", "chip name is empty")]
    #[case("selector = \"0483:374b\"\nchip = \"STM32L476RG\"\nspeed_khz = 0\n", 8, "probe.speed_khz", "above 0")]
    #[case("selector = \"0483:374b\"\nchip = \"STM32L476RG\"\nspeed_khz = -5\n", 8, "probe.speed_khz", "")]
    fn bad_probe_tables_name_line_and_field(
        #[case] table: &str,
        #[case] line: usize,
        #[case] field: &str,
        #[case] says: &str,
    ) {
        let e = parse(&format!("{PROBE_RIG}{table}")).unwrap_err();
        let shown = e.to_string();
        assert!(shown.starts_with("rigs/test.toml"), "{shown}");
        assert_eq!((e.line, e.field.as_deref()), (Some(line), Some(field)), "{shown}");
        assert!(shown.contains(says), "{shown}");
    }

    /// Only a build with probe-rs knows its targets; without it any chip name is taken.
    #[test]
    fn an_unknown_probe_chip() {
        let r = parse(&format!("{PROBE_RIG}selector = \"0483:374b\"\nchip = \"STM32L476QQ\"\n"));
        if cfg!(feature = "probe-rs") {
            let e = r.unwrap_err();
            assert_eq!((e.line, e.field.as_deref()), (Some(7), Some("probe.chip")), "{e}");
            assert!(e.to_string().contains("probe-rs does not know the chip \"STM32L476QQ\""), "{e}");
        } else {
            assert_eq!(r.unwrap().probe.unwrap().chip, "STM32L476QQ");
        }
    }

    #[test]
    fn http_needs_the_api_key_and_sockets() {
        let e = parse("kind = \"emulator\"\ndialect = \"bc39\"\n[platform]\nhttp = true\n").unwrap_err();
        assert!(e.to_string().contains("needs `api_key` in [secrets]"), "{e}");
        assert_eq!(e.line, Some(4), "{e}");
        let r = parse(
            "kind = \"emulator\"\ndialect = \"bc39\"\n[secrets]\napi_key = \"k3y-for-tests\"\n[platform]\nhttp = true\n",
        )
        .unwrap();
        assert!(r.serves_http() && r.has(Rig::ONENET_HTTP));
        let r = r.with_virtual_link();
        assert!(!r.serves_http() && !r.has(Rig::ONENET_HTTP), "a virtual-time link has no sockets");
        let plain = parse("kind = \"emulator\"\ndialect = \"bc39\"\n[platform]\n").unwrap();
        assert!(!plain.has(Rig::ONENET_HTTP));
    }

    #[test]
    fn debug_output_hides_secret_values() {
        let r = parse("kind = \"emulator\"\ndialect = \"bc39\"\n[secrets]\npsk = \"FhyvhmgIRQrde4In\"\n").unwrap();
        let shown = format!("{r:?}");
        assert!(shown.contains("psk") && !shown.contains("FhyvhmgIRQrde4In"), "{shown}");
    }

    #[test]
    fn secrets_from_the_environment() {
        std::env::set_var("MIPLCHECK_TEST_PSK", "FhyvhmgIRQrde4In");
        let r = parse("kind = \"emulator\"\ndialect = \"bc39\"\n[secrets]\npsk = { env = \"MIPLCHECK_TEST_PSK\" }\nauth_code = \"Quectel123\"\n").unwrap();
        assert_eq!(r.secrets["psk"], "FhyvhmgIRQrde4In");
        assert_eq!(r.secrets["auth_code"], "Quectel123");
    }
}
