//! Serial ports through `serialport`: by path, or by USB VID/PID/serial number so a port that
//! re-enumerated under another name is found again.

use crate::stream::StreamPort;
use serde::Deserialize;
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
        let p = match self.parity {
            Parity::None => 'N',
            Parity::Even => 'E',
            Parity::Odd => 'O',
        };
        format!("{}{}{}", self.data_bits, p, self.stop_bits)
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

/// Resolves the settings to a path (looking up USB IDs) and opens the port.
pub fn open(settings: &SerialSettings) -> Result<StreamPort, SerialError> {
    settings.validate()?;
    let path = match (&settings.port, &settings.usb) {
        (Some(p), _) => p.clone(),
        (None, Some(usb)) => find_usb(usb)?,
        (None, None) => unreachable!("validated"),
    };
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
        // Short so the reader thread notices when the port is dropped.
        .timeout(Duration::from_millis(50));
    let port = builder.open().map_err(|source| SerialError::Open { path: path.clone(), source })?;
    let reader = port.try_clone().map_err(|source| SerialError::Clone { path: path.clone(), source })?;
    let name = format!("serial {path} @{} {}", settings.baud, settings.frame());
    Ok(StreamPort::new(name, Box::new(reader), Box::new(port)).with_timed_reads())
}

fn find_usb(m: &UsbMatch) -> Result<String, SerialError> {
    // serialport's sysfs scan panics where /sys/class/tty is missing (some containers).
    let ports = if cfg!(feature = "libudev") || std::path::Path::new("/sys/class/tty").is_dir() {
        serialport::available_ports().unwrap_or_default()
    } else {
        vec![]
    };
    let mut seen = Vec::new();
    for p in &ports {
        if let serialport::SerialPortType::UsbPort(info) = &p.port_type {
            seen.push(format!("{} {:04x}:{:04x}", p.port_name, info.vid, info.pid));
            let serial_ok = m.serial_number.as_deref().is_none_or(|s| info.serial_number.as_deref() == Some(s));
            let iface_ok = m.interface.is_none_or(|i| info.interface == Some(i));
            if info.vid == m.vid && info.pid == m.pid && serial_ok && iface_ok {
                return Ok(p.port_name.clone());
            }
        }
    }
    Err(SerialError::NotFound {
        vid: m.vid,
        pid: m.pid,
        serial: m.serial_number.as_ref().map(|s| format!(" serial {s}")).unwrap_or_default(),
        seen: if seen.is_empty() { "none".into() } else { seen.join(", ") },
    })
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
    fn frame_notation() {
        let mut s = SerialSettings::at_path("x");
        s.parity = Parity::Even;
        assert_eq!(s.frame(), "8E1");
    }
}
