//! Misbehaviour a rack test asks of the emulator, as data a rig turns on (`[emulator.faults]`).
//!
//! Real modems on a bench rack wedge after a while and fail a command now and then. A fault makes
//! the emulator do the same, so the runner's health checks, retries and quarantine can be tried
//! without a drawer of bad modules:
//!
//! ```toml
//! [emulator.faults]
//! hang_after = 40                                    # wedged after 40 command lines
//! fail_first = { command = "+MIPLVER", times = 1 }   # or a list of such
//! ```
//!
//! The counters count from the emulator's creation: [`crate::Modem::reset`] (the power cycle the
//! runner does before every case) does not clear them, so a modem wedged stays wedged and a
//! command that failed once answers normally on the retry.

use crate::options::{command_key, OptionsError};
use serde::{Deserialize, Deserializer};

/// What the emulator does wrong (`[emulator.faults]`); nothing by default.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Faults {
    /// After this many command lines (blank lines do not count; counted across resets) the modem
    /// answers nothing ever again: no echo, no result codes, no URCs, no datagrams.
    pub hang_after: Option<u32>,
    /// Commands answered `ERROR` the first times they arrive (counted across resets), then
    /// normally: a case that fails once and passes on a retry. One table or a list of them.
    /// A command that is also `silent` stays silent, and those arrivals do not count.
    #[serde(default, deserialize_with = "one_or_many")]
    pub fail_first: Vec<FailFirst>,
}

/// One command that fails its first arrivals (`{ command = "+MIPLVER", times = 1 }`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct FailFirst {
    /// The command, in any spelling `delays` takes (`+MIPLVER`, `MIPLVER`, `AT+MIPLVER`).
    pub command: String,
    /// How many of its first arrivals are answered `ERROR`; 1 when absent.
    #[serde(default = "once")]
    pub times: u32,
}

fn once() -> u32 {
    1
}

/// A table or an array of tables, with serde's own messages for a bad field in either.
fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<FailFirst>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Vec<FailFirst>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a table { command, times } or a list of them")
        }
        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            FailFirst::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(|f| vec![f])
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            Vec::<FailFirst>::deserialize(serde::de::value::SeqAccessDeserializer::new(seq))
        }
    }
    d.deserialize_any(V)
}

impl Faults {
    /// Checks what serde cannot: every `fail_first` names a command.
    pub fn validate(&self) -> Result<(), OptionsError> {
        if self.fail_first.iter().any(|f| f.command.trim().is_empty()) {
            return Err(OptionsError::Fault("fail_first: `command` must name a command".into()));
        }
        Ok(())
    }
}

/// How far the faults have got. The [`crate::Modem`] keeps it beside, not inside, what a reset
/// rebuilds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Counters {
    /// Command lines received since creation.
    lines: u64,
    /// Arrivals of each `fail_first` entry's command, by index.
    arrivals: Vec<u32>,
}

impl Counters {
    /// Whether the modem is wedged for good (`hang_after` lines received).
    pub(crate) fn wedged(&self, faults: &Faults) -> bool {
        faults.hang_after.is_some_and(|n| self.lines >= u64::from(n))
    }

    /// One more command line received.
    pub(crate) fn line(&mut self) {
        self.lines = self.lines.saturating_add(1);
    }

    /// `command` arrived: whether this arrival is one `fail_first` says to answer `ERROR`.
    pub(crate) fn fails(&mut self, faults: &Faults, command: &str) -> bool {
        if faults.fail_first.is_empty() {
            return false;
        }
        self.arrivals.resize(faults.fail_first.len(), 0);
        let key = command_key(command);
        let mut fail = false;
        for (f, n) in faults.fail_first.iter().zip(self.arrivals.iter_mut()) {
            if command_key(&f.command) == key {
                *n = n.saturating_add(1);
                fail |= *n <= f.times;
            }
        }
        fail
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_table_or_a_list() {
        let one: Faults = toml::from_str(r#"fail_first = { command = "+MIPLVER", times = 2 }"#).unwrap();
        assert_eq!(one.fail_first, vec![FailFirst { command: "+MIPLVER".into(), times: 2 }]);
        let many: Faults = toml::from_str(
            r#"hang_after = 40
                fail_first = [{ command = "MIPLVER" }, { command = "AT+CGMR", times = 3 }]"#,
        )
        .unwrap();
        assert_eq!(many.hang_after, Some(40));
        assert_eq!(many.fail_first[0].times, 1, "once by default");
        assert_eq!(many.fail_first[1].command, "AT+CGMR");
        assert_eq!(Faults::default(), toml::from_str("").unwrap());
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let e = toml::from_str::<Faults>("hang_afterr = 3").unwrap_err().to_string();
        assert!(e.contains("hang_afterr"), "{e}");
        let e = toml::from_str::<Faults>(r#"fail_first = { command = "+CGMR", time = 1 }"#).unwrap_err().to_string();
        assert!(e.contains("time"), "{e}");
        let f: Faults = toml::from_str(r#"fail_first = { command = " " }"#).unwrap();
        assert!(f.validate().unwrap_err().to_string().contains("fail_first"));
    }

    #[test]
    fn counters_match_any_spelling() {
        let f: Faults = toml::from_str(r#"fail_first = { command = "miplver", times = 2 }"#).unwrap();
        let mut c = Counters::default();
        assert!(!c.fails(&f, "+CGMR"));
        assert!(c.fails(&f, "+MIPLVER"));
        assert!(c.fails(&f, "AT+MIPLVER"));
        assert!(!c.fails(&f, "+MIPLVER"));
    }
}
