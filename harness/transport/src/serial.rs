//! Serial ports through `serialport`: by path, or by USB VID/PID/serial number so a port that
//! re-enumerated under another name is found again.

use crate::stream::StreamPort;
use serde::Deserialize;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, FromRawFd, IntoRawFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Parity {
    #[default]
    None,
    Even,
    Odd,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FlowControl {
    #[default]
    None,
    /// RTS/CTS.
    Hardware,
    /// XON/XOFF.
    Software,
}

/// Finds a USB serial adapter again after it re-enumerated.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UsbMatch {
    /// Vendor ID, e.g. `0x2c7c` (Quectel).
    pub vid: u16,
    pub pid: u16,
    pub serial_number: Option<String>,
    /// Which interface of a composite device, when it exposes several ports.
    pub interface: Option<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SerialSettings {
    /// `/dev/ttyUSB0`, `/dev/serial/by-id/…`, `COM3`.
    pub port: Option<String>,
    pub usb: Option<UsbMatch>,
    #[serde(default = "default_baud")]
    pub baud: u32,
    #[serde(default = "default_data_bits")]
    pub data_bits: u8,
    #[serde(default)]
    pub parity: Parity,
    #[serde(default = "default_stop_bits")]
    pub stop_bits: u8,
    #[serde(default)]
    pub flow_control: FlowControl,
}

fn default_baud() -> u32 {
    115_200
}
fn default_data_bits() -> u8 {
    8
}
fn default_stop_bits() -> u8 {
    1
}

/// Why [`SerialSettings`] cannot describe a port: what serde cannot check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// Neither `port` nor `usb` is given.
    #[error("give `port` (a path) or `usb` (vid/pid) to find the modem")]
    NoPort,
    /// Both `port` and `usb` are given.
    #[error("give either `port` or `usb`, not both")]
    PortAndUsb,
    /// `data_bits` outside 5–8.
    #[error("data_bits must be 5–8, got {0}")]
    DataBits(u8),
    /// `stop_bits` other than 1 or 2.
    #[error("stop_bits must be 1 or 2, got {0}")]
    StopBits(u8),
    /// `baud` is 0.
    #[error("baud must be above 0")]
    ZeroBaud,
}

impl SerialSettings {
    pub fn at_path(path: impl Into<String>) -> Self {
        SerialSettings {
            port: Some(path.into()),
            usb: None,
            baud: default_baud(),
            data_bits: default_data_bits(),
            parity: Parity::None,
            stop_bits: default_stop_bits(),
            flow_control: FlowControl::None,
        }
    }

    /// `8N1` and friends.
    pub fn frame(&self) -> String {
        frame(self.data_bits, self.parity, self.stop_bits)
    }

    /// Checks what serde cannot: one of `port` / `usb`, and values a UART can do.
    pub fn validate(&self) -> Result<(), SettingsError> {
        match (&self.port, &self.usb) {
            (None, None) => return Err(SettingsError::NoPort),
            (Some(_), Some(_)) => return Err(SettingsError::PortAndUsb),
            _ => {}
        }
        if !(5..=8).contains(&self.data_bits) {
            return Err(SettingsError::DataBits(self.data_bits));
        }
        if !(1..=2).contains(&self.stop_bits) {
            return Err(SettingsError::StopBits(self.stop_bits));
        }
        if self.baud == 0 {
            return Err(SettingsError::ZeroBaud);
        }
        Ok(())
    }
}

/// A UART frame as people write it: `8N1`, `7E1`.
pub fn frame(data_bits: u8, parity: Parity, stop_bits: u8) -> String {
    let p = match parity {
        Parity::None => 'N',
        Parity::Even => 'E',
        Parity::Odd => 'O',
    };
    format!("{data_bits}{p}{stop_bits}")
}

#[derive(Debug, thiserror::Error)]
pub enum SerialError {
    #[error(transparent)]
    Settings(#[from] SettingsError),
    #[error("no USB serial port with VID {vid:#06x} PID {pid:#06x}{serial} is plugged in (ports seen: {seen})")]
    NotFound { vid: u16, pid: u16, serial: String, seen: String },
    #[error("cannot open {path}: {source}")]
    Open { path: String, source: serialport::Error },
    #[error("cannot share {path} between reader and writer: {source}")]
    Clone { path: String, source: serialport::Error },
}

/// How long a write may make no progress before it fails.
const WRITE_TIMEOUT: Duration = Duration::from_millis(50);

/// Resolves the settings to a path (looking up USB IDs) and opens the port.
pub fn open(settings: &SerialSettings) -> Result<StreamPort, SerialError> {
    let path = resolve(settings)?;
    let builder = serialport::new(&path, settings.baud)
        .data_bits(match settings.data_bits {
            5 => serialport::DataBits::Five,
            6 => serialport::DataBits::Six,
            7 => serialport::DataBits::Seven,
            _ => serialport::DataBits::Eight,
        })
        .parity(match settings.parity {
            Parity::None => serialport::Parity::None,
            Parity::Even => serialport::Parity::Even,
            Parity::Odd => serialport::Parity::Odd,
        })
        .stop_bits(if settings.stop_bits == 2 { serialport::StopBits::Two } else { serialport::StopBits::One })
        .flow_control(match settings.flow_control {
            FlowControl::None => serialport::FlowControl::None,
            FlowControl::Hardware => serialport::FlowControl::Hardware,
            FlowControl::Software => serialport::FlowControl::Software,
        })
        // Bounds a write (`TtyWriter` keeps it); reads go through `Woken`, which polls without it.
        .timeout(WRITE_TIMEOUT);
    let port = builder.open_native().map_err(|source| SerialError::Open { path: path.clone(), source })?;
    let reader = port.try_clone_native().map_err(|source| SerialError::Clone { path: path.clone(), source })?;
    let clone_error = |e: std::io::Error| SerialError::Clone { path: path.clone(), source: e.into() };
    let (wake_rx, mut wake_tx) = std::io::pipe().map_err(clone_error)?;
    // SAFETY: `into_raw_fd` gives up the open descriptor it returns, so it has one owner.
    let reader = std::fs::File::from(unsafe { OwnedFd::from_raw_fd(reader.into_raw_fd()) });
    let name = format!("serial {path} @{} {}", settings.baud, settings.frame());
    let reader = Woken { port: reader, wake: wake_rx };
    let writer = crate::tty_writer::TtyWriter::new(port, WRITE_TIMEOUT).map_err(clone_error)?;
    Ok(StreamPort::new(name, Box::new(reader), Box::new(writer)).woken_by(move || {
        let _ = wake_tx.write_all(b"!");
    }))
}

/// A serial port's reading side that waits in `poll` on the port and a wake pipe: data is read
/// the moment it comes, and a byte down the pipe (the port dropped) ends the wait at once, where
/// a read time-out would keep the drop waiting until it ran out (50 ms at every exit).
struct Woken {
    port: std::fs::File,
    wake: std::io::PipeReader,
}

/// How long one `poll` waits: only a backstop (should the wake byte ever fail to be written), as
/// data and the wake both end the wait at once.
const WOKEN_POLL_MS: u16 = 1000;

impl Read for Woken {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        use nix::poll::{poll, PollFd, PollFlags};
        let mut fds =
            [PollFd::new(self.port.as_fd(), PollFlags::POLLIN), PollFd::new(self.wake.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, WOKEN_POLL_MS) {
            // The stream's reader loop sees this as "nothing yet" and looks at its stop flag.
            Ok(0) | Err(nix::errno::Errno::EINTR) => Err(ErrorKind::Interrupted.into()),
            Ok(_) if fds[1].any().unwrap_or(false) => Err(ErrorKind::Interrupted.into()),
            // Readable, hung up or in error: the read says which.
            Ok(_) => self.port.read(buf),
            Err(e) => Err(e.into()),
        }
    }
}

/// The path the settings name: `port` as given, or the tty that has the USB IDs now (a port
/// that re-enumerated under another name is found again on every call).
pub fn resolve(settings: &SerialSettings) -> Result<String, SerialError> {
    resolve_under(settings, Path::new("/"))
}

/// [`resolve`] with `/sys/class/tty` and `/dev` read under `root`, so a test can stand up a fake
/// sysfs tree and re-enumerate it. With the `libudev` feature, only `/` asks udev.
pub fn resolve_under(settings: &SerialSettings, root: &Path) -> Result<String, SerialError> {
    settings.validate()?;
    match (&settings.port, &settings.usb) {
        (Some(p), _) => Ok(p.clone()),
        (None, Some(usb)) => find_usb(usb, root),
        (None, None) => unreachable!("validated"),
    }
}

/// A USB tty as sysfs (or udev) describes it.
struct UsbTty {
    path: String,
    vid: u16,
    pid: u16,
    serial_number: Option<String>,
    interface: Option<u8>,
}

fn find_usb(m: &UsbMatch, root: &Path) -> Result<String, SerialError> {
    let ports = if cfg!(feature = "libudev") && root == Path::new("/") { udev_ttys() } else { sysfs_ttys(root) };
    let mut seen = Vec::new();
    for p in &ports {
        seen.push(format!("{} {:04x}:{:04x}", p.path, p.vid, p.pid));
        let serial_ok = m.serial_number.as_deref().is_none_or(|s| p.serial_number.as_deref() == Some(s));
        let iface_ok = m.interface.is_none_or(|i| p.interface == Some(i));
        if p.vid == m.vid && p.pid == m.pid && serial_ok && iface_ok {
            return Ok(p.path.clone());
        }
    }
    Err(SerialError::NotFound {
        vid: m.vid,
        pid: m.pid,
        serial: m.serial_number.as_ref().map(|s| format!(" serial {s}")).unwrap_or_default(),
        seen: if seen.is_empty() { "none".into() } else { seen.join(", ") },
    })
}

fn udev_ttys() -> Vec<UsbTty> {
    serialport::available_ports()
        .unwrap_or_default()
        .into_iter()
        .filter_map(|p| match p.port_type {
            serialport::SerialPortType::UsbPort(info) => Some(UsbTty {
                path: p.port_name,
                vid: info.vid,
                pid: info.pid,
                serial_number: info.serial_number,
                interface: info.interface,
            }),
            _ => None,
        })
        .collect()
}

/// The USB ttys under `root/sys/class/tty`, read as serialport reads them without udev (which
/// cannot be pointed elsewhere, and panics where the folder is missing, as in some containers).
fn sysfs_ttys(root: &Path) -> Vec<UsbTty> {
    let Ok(entries) = root.join("sys/class/tty").read_dir() else { return vec![] };
    let read = |dir: &Path, file: &str| std::fs::read_to_string(dir.join(file)).ok().map(|s| s.trim().to_string());
    let hex = |dir: &Path, file: &str| read(dir, file).and_then(|s| u16::from_str_radix(&s, 16).ok());
    let mut found = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Ok(device) = entry.path().join("device").canonicalize() else { continue };
        let Some(subsystem) = device.join("subsystem").canonicalize().ok() else { continue };
        // cdc-acm ttys hang off the USB interface; usb-serial ones off a child of it.
        let interface = match subsystem.file_name().and_then(|n| n.to_str()) {
            Some("usb") => device.as_path(),
            Some("usb-serial") => match device.parent() {
                Some(p) => p,
                None => continue,
            },
            _ => continue,
        };
        let Some(usb_device) = interface.parent() else { continue };
        let (Some(vid), Some(pid)) = (hex(usb_device, "idVendor"), hex(usb_device, "idProduct")) else { continue };
        let dev = root.join("dev").join(&name);
        if !dev.exists() {
            continue;
        }
        found.push(UsbTty {
            path: dev.to_string_lossy().into_owned(),
            vid,
            pid,
            serial_number: read(usb_device, "serial"),
            interface: read(interface, "bInterfaceNumber").and_then(|s| u8::from_str_radix(&s, 16).ok()),
        });
    }
    // read_dir's order is the filesystem's; a stable one makes the first match reproducible.
    found.sort_by(|a, b| a.path.cmp(&b.path));
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn needs_exactly_one_way_to_find_the_port() {
        let mut s = SerialSettings::at_path("/dev/ttyUSB0");
        assert!(s.validate().is_ok());
        s.port = None;
        assert_eq!(s.validate(), Err(SettingsError::NoPort));
        s.data_bits = 9;
        s.port = Some("x".into());
        assert_eq!(s.validate(), Err(SettingsError::DataBits(9)));
    }

    #[test]
    fn settings_messages_are_unchanged() {
        let mut s = SerialSettings::at_path("x");
        s.stop_bits = 3;
        assert_eq!(s.validate().unwrap_err().to_string(), "stop_bits must be 1 or 2, got 3");
        s.port = None;
        assert_eq!(
            SerialError::from(s.validate().unwrap_err()).to_string(),
            "give `port` (a path) or `usb` (vid/pid) to find the modem"
        );
    }

    #[test]
    fn a_missing_port_is_a_clear_error() {
        let err = open(&SerialSettings::at_path("/dev/does-not-exist-miplcheck")).err().unwrap();
        assert!(err.to_string().contains("/dev/does-not-exist-miplcheck"), "{err}");
    }

    #[test]
    fn a_port_can_be_opened_again_right_after_it_is_dropped() {
        let pty = crate::pty::Pty::open().unwrap();
        let settings = SerialSettings::at_path(pty.path.to_string_lossy());
        for _ in 0..3 {
            let port = open(&settings).unwrap();
            drop(port);
        }
    }

    #[test]
    fn a_write_nobody_reads_fails_in_its_time_out_and_the_port_still_reads() {
        use crate::{Port, Received};
        use std::io::Write;
        let mut pty = crate::pty::Pty::open().unwrap();
        let mut port = open(&SerialSettings::at_path(pty.path.to_string_lossy())).unwrap();
        // The master never reads: the pty's buffer fills and the non-blocking writer waits in
        // `poll` for its time-out, then says so, where a blocking one would hang here.
        let chunk = [b'A'; 4096];
        let started = std::time::Instant::now();
        let failed = (0..1024).find_map(|_| port.write(&chunk).err()).expect("a pty holds far less than 4 MiB");
        assert_eq!(failed.kind(), ErrorKind::TimedOut, "{failed}");
        assert!(started.elapsed() < Duration::from_secs(60), "bounded: {:?}", started.elapsed());
        // The reader shares the now non-blocking file and still gets what the modem says (the
        // other direction has a buffer of its own).
        pty.master.write_all(b"\r\nOK\r\n").unwrap();
        let deadline = port.now() + Duration::from_secs(30);
        let mut got = Vec::new();
        while !got.ends_with(b"OK\r\n") {
            match port.read_until(deadline) {
                Received::Data(c) => got.extend(c.bytes),
                other => panic!("{other:?} after {got:?}"),
            }
        }
    }

    #[test]
    fn usb_ids_are_looked_up_under_a_sysfs_root() {
        let root = tempfile::tempdir().unwrap();
        crate::fake_sysfs::plug(root.path(), "ttyUSB3", 2, root.path()).unwrap();
        let mut s = SerialSettings::at_path("x");
        s.port = None;
        s.usb = Some(UsbMatch { vid: 0x2c7c, pid: 0x0125, serial_number: None, interface: Some(2) });
        let found = resolve_under(&s, root.path()).unwrap();
        assert_eq!(found, root.path().join("dev/ttyUSB3").to_string_lossy());
        s.usb.as_mut().unwrap().interface = Some(3);
        let e = resolve_under(&s, root.path()).unwrap_err().to_string();
        assert!(e.contains("ttyUSB3 2c7c:0125") && e.contains("PID 0x0125"), "{e}");
        assert!(resolve_under(&s, &root.path().join("nothing")).unwrap_err().to_string().contains("seen: none"));
    }

    #[test]
    fn frame_notation() {
        let mut s = SerialSettings::at_path("x");
        s.parity = Parity::Even;
        assert_eq!(s.frame(), "8E1");
    }
}
