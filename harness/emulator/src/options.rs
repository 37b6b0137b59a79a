//! What a rig file's `[emulator]` table can say.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Options {
    /// `bc39` or `m5310a`.
    pub dialect: String,
    #[serde(default = "default_imei")]
    pub imei: String,
    #[serde(default = "default_imsi")]
    pub imsi: String,
    /// What `AT+CGMR` reports; the dialect's default when absent.
    pub firmware: Option<String>,
    /// What `AT+MIPLVER?` reports.
    #[serde(default = "default_sdk")]
    pub sdk_version: String,
    /// Echo at power-on (`ATE1`).
    #[serde(default = "yes")]
    pub echo: bool,
    /// `AT+CMEE` at power-on.
    #[serde(default = "one")]
    pub cmee: u8,
    /// `AT+CSQ` signal strength (0–31).
    #[serde(default = "default_rssi")]
    pub rssi: u8,
    /// Extra time before answering, per command (`"+MIPLCONFIG" = "250ms"`); `"*"` for all.
    #[serde(default, with = "duration_map")]
    pub delays: BTreeMap<String, Duration>,
    /// Commands the modem swallows without any answer (a hung firmware).
    #[serde(default)]
    pub silent: Vec<String>,
    /// How long the radio stays connected after the last datagram when no RAI releases it
    /// (the network's inactivity timer; `+CSCON: 0` when it fires).
    #[serde(default = "default_inactivity", with = "humantime_serde")]
    pub rrc_inactivity: Duration,
    /// Departures from the manual this emulator should show (`[emulator.quirks]`).
    #[serde(default)]
    pub quirks: crate::quirks::Quirks,
    /// Misbehaviour for rack tests: wedging, commands that fail at first (`[emulator.faults]`).
    #[serde(default)]
    pub faults: crate::faults::Faults,
}

fn default_inactivity() -> Duration {
    Duration::from_secs(20)
}

fn default_imei() -> String {
    "866971030000001".into()
}
fn default_imsi() -> String {
    "460040000000001".into()
}
fn default_sdk() -> String {
    "2.3.0".into()
}
fn yes() -> bool {
    true
}
fn one() -> u8 {
    1
}
fn default_rssi() -> u8 {
    22
}

mod duration_map {
    use serde::{Deserialize, Deserializer};
    use std::collections::BTreeMap;
    use std::time::Duration;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Duration>, D::Error> {
        let raw = BTreeMap::<String, humantime_serde::Serde<Duration>>::deserialize(d)?;
        Ok(raw.into_iter().map(|(k, v)| (super::command_key(&k), v.into_inner())).collect())
    }
}

/// `MIPLCONFIG`, `+miplconfig`, `AT+MIPLCONFIG` all name `+MIPLCONFIG`.
pub fn command_key(name: &str) -> String {
    let n = name.trim();
    let n = n.strip_prefix("AT").or_else(|| n.strip_prefix("at")).unwrap_or(n);
    if n == "*" {
        return n.into();
    }
    let n = n.to_ascii_uppercase();
    if n.starts_with('+') || n.len() <= 2 {
        n
    } else {
        format!("+{n}")
    }
}

impl Options {
    pub fn for_dialect(dialect: &str) -> Self {
        Options {
            dialect: dialect.into(),
            imei: default_imei(),
            imsi: default_imsi(),
            firmware: None,
            sdk_version: default_sdk(),
            echo: true,
            cmee: 1,
            rssi: default_rssi(),
            delays: BTreeMap::new(),
            silent: vec![],
            rrc_inactivity: default_inactivity(),
            quirks: Default::default(),
            faults: Default::default(),
        }
    }

    pub fn delay_for(&self, command: &str) -> Duration {
        let key = command_key(command);
        self.delays.get(&key).or_else(|| self.delays.get("*")).copied().unwrap_or_default()
    }

    pub fn is_silent(&self, command: &str) -> bool {
        let key = command_key(command);
        self.silent.iter().any(|s| command_key(s) == key)
    }

    /// Checks what serde cannot.
    pub fn validate(&self) -> Result<(), OptionsError> {
        if miplcheck_at::Dialect::by_name(&self.dialect).is_none() {
            return Err(OptionsError::UnknownDialect {
                dialect: self.dialect.clone(),
                known: miplcheck_at::Dialect::names(),
            });
        }
        if self.imei.len() != 15 || !self.imei.bytes().all(|b| b.is_ascii_digit()) {
            return Err(OptionsError::Imei(self.imei.clone()));
        }
        if !(6..=15).contains(&self.imsi.len()) || !self.imsi.bytes().all(|b| b.is_ascii_digit()) {
            return Err(OptionsError::Imsi(self.imsi.clone()));
        }
        if self.cmee > 1 {
            return Err(OptionsError::Cmee(self.cmee));
        }
        if let Some((k, d)) = self.delays.iter().find(|(_, d)| **d > Duration::from_secs(24 * 3600)) {
            return Err(OptionsError::Delay { command: k.clone(), delay: *d });
        }
        if self.rrc_inactivity > Duration::from_secs(24 * 3600) {
            return Err(OptionsError::RrcInactivity);
        }
        if self.rssi > 31 {
            return Err(OptionsError::Rssi(self.rssi));
        }
        self.quirks.validate()?;
        self.faults.validate()
    }
}

/// Why the emulator refuses its options: a field serde accepted but the modem cannot take, or a
/// dialect it does not speak ([`Options::validate`], [`crate::Modem::new`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OptionsError {
    /// `dialect` names no dialect miplcheck knows.
    #[error("unknown dialect {dialect:?}; known: {}", .known.join(", "))]
    UnknownDialect {
        /// The rig's `dialect`, as written.
        dialect: String,
        /// Every dialect name miplcheck knows.
        known: Vec<&'static str>,
    },
    /// A dialect miplcheck knows but the emulator has no behaviour for.
    #[error("the emulator does not speak the {0} dialect yet")]
    Unspoken(
        /// The dialect, in lower case.
        String,
    ),
    /// `imei` is not 15 digits.
    #[error("imei must be 15 digits, got {0:?}")]
    Imei(
        /// The `imei` given.
        String,
    ),
    /// `imsi` is not 6–15 digits.
    #[error("imsi must be 6–15 digits, got {0:?}")]
    Imsi(
        /// The `imsi` given.
        String,
    ),
    /// `cmee` is neither 0 nor 1.
    #[error("cmee must be 0 or 1 (BC39 §6), got {0}")]
    Cmee(
        /// The `cmee` given.
        u8,
    ),
    /// A command's delay is longer than a day.
    #[error("delay for {command} is {delay:?}; it must be at most a day")]
    Delay {
        /// The command's key in `delays` (`*` for every command).
        command: String,
        /// The delay given.
        delay: Duration,
    },
    /// `rrc_inactivity` is longer than a day.
    #[error("rrc_inactivity must be at most a day")]
    RrcInactivity,
    /// `rssi` is above 31.
    #[error("rssi must be 0–31, got {0}")]
    Rssi(
        /// The `rssi` given.
        u8,
    ),
    /// `quirks.events` names an event there is none of.
    #[error("quirks.events: no event is called {name:?}; events are {}", .known.join(", "))]
    QuirkEvent {
        /// The name given.
        name: String,
        /// Every event name.
        known: &'static [&'static str],
    },
    /// A fault in `faults` the emulator cannot act on.
    #[error("faults.{0}")]
    Fault(
        /// What is wrong, starting with the fault's key.
        String,
    ),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_accept_any_spelling_of_the_command() {
        let o: Options = toml::from_str(
            r#"
            dialect = "bc39"
            delays = { "MIPLCONFIG" = "250ms", "AT+MIPLVER" = "1s", "*" = "5ms" }
            "#,
        )
        .unwrap();
        assert_eq!(o.delay_for("+MIPLCONFIG"), Duration::from_millis(250));
        assert_eq!(o.delay_for("+MIPLVER"), Duration::from_secs(1));
        assert_eq!(o.delay_for("+CGMR"), Duration::from_millis(5));
    }

    #[test]
    fn validation_names_the_field() {
        let mut o = Options::for_dialect("bc39");
        o.imei = "123".into();
        assert!(o.validate().unwrap_err().to_string().contains("imei"));
        o = Options::for_dialect("quectel-xyz");
        assert!(o.validate().unwrap_err().to_string().contains("known: bc39, m5310a"));
    }

    #[test]
    fn option_errors_read_as_before() {
        let mut o = Options::for_dialect("bc39");
        o.imei = "123".into();
        assert_eq!(o.validate().unwrap_err().to_string(), r#"imei must be 15 digits, got "123""#);
        o = Options::for_dialect("bc39");
        o.delays.insert("+MIPLOPEN".into(), Duration::from_secs(2 * 24 * 3600));
        assert_eq!(o.validate().unwrap_err().to_string(), "delay for +MIPLOPEN is 172800s; it must be at most a day");
        o = Options::for_dialect("quectel-xyz");
        assert_eq!(o.validate().unwrap_err().to_string(), r#"unknown dialect "quectel-xyz"; known: bc39, m5310a"#);
    }
}
