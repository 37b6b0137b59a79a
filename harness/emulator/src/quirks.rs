//! Documented departures from a manual, as data a rig turns on (`[emulator.quirks]`).
//!
//! Real firmware prints what its own manual's examples print rather than what its syntax pages
//! say (M5310-A §5.3.4 reports deregistration as event 20, §1.8 as 15). A quirk profile makes the
//! emulator behave like such a firmware, so a suite can be shown to catch it and a rig can say
//! which departures its users accept.

use crate::options::OptionsError;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Quirks {
    /// Event codes by event name, over the dialect's own: `{ deregistered = 20 }`.
    #[serde(default)]
    pub events: BTreeMap<String, u16>,
    /// After the `:` of a URC or information line: `"none"` (`+MIPLEVENT:0,6`) or `"one"`
    /// (`+MIPLEVENT: 0,6`); as the dialect prints it when absent.
    pub colon_space: Option<Space>,
    /// `", "` after every comma outside quotes.
    #[serde(default)]
    pub comma_space: bool,
    /// The URC a command causes comes before that command's `OK`.
    #[serde(default)]
    pub urc_before_ok: bool,
    /// A request the TE has not answered yet is printed again, with the same message ID, each
    /// time the platform re-sends it (the module does not recognise CoAP duplicates).
    #[serde(default)]
    pub repeat_unanswered: bool,
    /// The Content-Format number TLV goes out under: `"tlv"` (11542, LwM2M 1.0) or `"tlv-old"`
    /// (1542, the pre-registration number); the dialect's own when absent.
    pub tlv_format: Option<TlvFormat>,
    /// The module answers in its own format whatever a request's Accept asks, never 4.06.
    #[serde(default)]
    pub ignore_accept: bool,
    /// `AT+MIPLDISCOVERRSP`'s resource list may end in `;` ("5700;5701;"); both manuals' examples
    /// have none, so by default it is refused as a bad parameter.
    #[serde(default)]
    pub discover_list_trailing_semicolon: bool,
    /// An `AT+MIPLOBSERVERSP` for an observe the module already answered (BC39 obs_autoack 1)
    /// gets OK and sends nothing, instead of the error for a message ID nothing waits for.
    #[serde(default)]
    pub accept_answered_observe: bool,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum TlvFormat {
    Tlv,
    TlvOld,
}

impl TlvFormat {
    pub fn format(self) -> miplcheck_lwm2m::ContentFormat {
        match self {
            Self::Tlv => miplcheck_lwm2m::ContentFormat::Tlv,
            Self::TlvOld => miplcheck_lwm2m::ContentFormat::TlvOld,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Space {
    None,
    One,
}

impl Quirks {
    /// Checks that every event named in `events` exists.
    pub fn validate(&self) -> Result<(), OptionsError> {
        let known = crate::notice::Event::NAMES;
        if let Some(bad) = self.events.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(OptionsError::QuirkEvent { name: bad.clone(), known });
        }
        Ok(())
    }

    /// A line with the spacing quirks applied; lines that are not `+NAME:…` pass unchanged.
    pub fn respace(&self, line: &str) -> String {
        if !line.starts_with('+') || (self.colon_space.is_none() && !self.comma_space) {
            return line.to_string();
        }
        let Some(colon) = line.find(':') else { return line.to_string() };
        let (head, rest) = line.split_at(colon + 1);
        let body = match self.colon_space {
            Some(Space::None) => rest.trim_start(),
            Some(Space::One) => rest.trim_start(),
            None => rest,
        };
        let mut out = String::from(head);
        if self.colon_space == Some(Space::One) {
            out.push(' ');
        }
        let mut quoted = false;
        let mut chars = body.chars().peekable();
        while let Some(c) = chars.next() {
            out.push(c);
            if c == '"' {
                quoted = !quoted;
            }
            if c == ',' && !quoted && self.comma_space && chars.peek() != Some(&' ') {
                out.push(' ');
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case(Some(Space::None), false, "+MIPLEVENT: 0,6", "+MIPLEVENT:0,6")]
    #[case(Some(Space::One), false, "+MIPLEVENT:0,6", "+MIPLEVENT: 0,6")]
    #[case(None, true, "+MIPLEVENT:0,6", "+MIPLEVENT:0, 6")]
    #[case(None, true, "+MIPLEXECUTE:0,1,3,0,4,3,\"a,b\"", "+MIPLEXECUTE:0, 1, 3, 0, 4, 3, \"a,b\"")]
    #[case(Some(Space::None), true, "OK", "OK")]
    #[case(None, false, "+CSCON:1", "+CSCON:1")]
    fn respacing(#[case] colon: Option<Space>, #[case] comma: bool, #[case] line: &str, #[case] want: &str) {
        let q = Quirks { colon_space: colon, comma_space: comma, ..Quirks::default() };
        assert_eq!(q.respace(line), want);
    }

    #[test]
    fn tlv_format_and_accept_read_from_toml() {
        let q: Quirks = toml::from_str("tlv-format = \"tlv\"\nignore-accept = true").unwrap();
        assert_eq!(q.tlv_format.map(TlvFormat::format), Some(miplcheck_lwm2m::ContentFormat::Tlv));
        assert!(q.ignore_accept);
        assert!(toml::from_str::<Quirks>("tlv-format = \"1542\"").is_err());
    }

    #[test]
    fn unknown_event_names_are_refused_with_the_list() {
        let q: Quirks = toml::from_str("events = { deregister = 20 }").unwrap();
        let e = q.validate().unwrap_err().to_string();
        assert!(e.contains("\"deregister\"") && e.contains("deregistered"), "{e}");
    }
}
