//! Modems reached over the network, as rig files spell them: `[tcp]` (a raw TCP serial server,
//! ser2net's `tcp` accepter), `[rfc2217]` (a telnet COM-PORT-OPTION server, ser2net's
//! `telnet(rfc2217)` accepter), and pyserial's URLs in `[serial] port` (`rfc2217://host:port`,
//! `socket://host:port`), so a port string that works with pyserial and labgrid works here.
//!
//! This module only reads and checks; connecting is the target driver's job.

use serde::Deserialize;
use std::time::Duration;

/// `[tcp]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct TcpTable {
    pub(super) address: String,
    /// How long to wait for the TCP handshake before the case fails.
    #[serde(default = "connect_timeout", with = "humantime_serde")]
    pub(super) connect_timeout: Duration,
}

/// `[rfc2217]`; the line settings are `[serial]`'s.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Rfc2217Table {
    pub(super) address: String,
    #[serde(default = "connect_timeout", with = "humantime_serde")]
    pub(super) connect_timeout: Duration,
    /// pyserial's `ign_set_control`: do not wait for DTR/RTS acknowledgements (ser2net in front
    /// of a pty never sends them).
    #[serde(default)]
    pub(super) ign_set_control: bool,
    /// How long the server may take to acknowledge the telnet negotiation and each setting.
    #[serde(default = "negotiation_timeout", with = "humantime_serde")]
    pub(super) negotiation_timeout: Duration,
    /// DTR once connected (`true` raised, `false` dropped); as the server has it when absent.
    pub(super) dtr: Option<bool>,
    /// RTS likewise.
    pub(super) rts: Option<bool>,
}

pub(super) fn connect_timeout() -> Duration {
    miplcheck_transport::stream::DEFAULT_CONNECT_TIMEOUT
}

/// pyserial's default network timeout for RFC 2217.
pub(super) fn negotiation_timeout() -> Duration {
    Duration::from_secs(3)
}

/// A port URL as pyserial spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum PortUrl {
    /// `rfc2217://host:port[?ign_set_control][&timeout=<seconds>]`.
    Rfc2217 { address: String, ign_set_control: bool, timeout: Option<Duration> },
    /// `socket://host:port`: raw TCP.
    Socket { address: String },
}

/// Reads `port` as a URL: `None` when it is a device path, `Some(Err(why))` when it is a URL this
/// harness cannot use.
pub(super) fn parse_url(port: &str) -> Option<Result<PortUrl, String>> {
    let (scheme, rest) = port.split_once("://")?;
    Some(url(scheme, rest))
}

fn url(scheme: &str, rest: &str) -> Result<PortUrl, String> {
    if !matches!(scheme, "rfc2217" | "socket") {
        return Err(format!("`{scheme}://` is not a port this harness can open; use rfc2217:// or socket://"));
    }
    let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
    check_address(address)?;
    let address = address.to_string();
    let options: Vec<&str> = query.split('&').filter(|o| !o.is_empty()).collect();
    match scheme {
        "rfc2217" => {
            let (mut ign_set_control, mut timeout) = (false, None);
            for o in options {
                match o.split_once('=') {
                    None if o == "ign_set_control" => ign_set_control = true,
                    Some(("timeout", secs)) => {
                        let s: f64 = secs
                            .parse()
                            .ok()
                            .filter(|s: &f64| s.is_finite() && *s > 0.0 && *s <= 3600.0)
                            .ok_or_else(|| format!("timeout={secs}: give seconds, above 0 and at most 3600"))?;
                        timeout = Some(Duration::from_secs_f64(s));
                    }
                    _ => {
                        return Err(format!(
                            "unknown option `{o}` in an rfc2217:// URL; this harness knows `ign_set_control` and `timeout=<seconds>`"
                        ))
                    }
                }
            }
            Ok(PortUrl::Rfc2217 { address, ign_set_control, timeout })
        }
        _ => match options.first() {
            None => Ok(PortUrl::Socket { address }),
            Some(o) => Err(format!("unknown option `{o}` in a socket:// URL; it takes none")),
        },
    }
}

/// `host:port`, the port a number: checked here so a typo is an error at load, not a refused
/// connection at the first case.
pub(super) fn check_address(address: &str) -> Result<(), String> {
    let (host, port) = address.rsplit_once(':').ok_or_else(|| format!("`{address}` is not host:port"))?;
    if host.trim_matches(['[', ']']).is_empty() {
        return Err(format!("`{address}` names no host"));
    }
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok(()),
        _ => Err(format!("`{address}`: the port must be a number from 1 to 65535")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("/dev/ttyUSB0", None)]
    #[case("COM3", None)]
    #[case("socket://127.0.0.1:3000", Some(Ok(PortUrl::Socket { address: "127.0.0.1:3000".into() })))]
    #[case(
        "rfc2217://lab:4001",
        Some(Ok(PortUrl::Rfc2217 { address: "lab:4001".into(), ign_set_control: false, timeout: None }))
    )]
    #[case(
        "rfc2217://lab:4001?ign_set_control&timeout=1.5",
        Some(Ok(PortUrl::Rfc2217 {
            address: "lab:4001".into(),
            ign_set_control: true,
            timeout: Some(Duration::from_millis(1500)),
        }))
    )]
    #[case(
        "rfc2217://[::1]:4001",
        Some(Ok(PortUrl::Rfc2217 { address: "[::1]:4001".into(), ign_set_control: false, timeout: None }))
    )]
    fn urls(#[case] port: &str, #[case] want: Option<Result<PortUrl, String>>) {
        assert_eq!(parse_url(port), want);
    }

    #[rstest]
    #[case("rfc2217://lab:4001?poll_modem", "unknown option `poll_modem`")]
    #[case("rfc2217://lab:4001?timeout=0", "timeout=0")]
    #[case("rfc2217://lab", "not host:port")]
    #[case("rfc2217://lab:http", "must be a number")]
    #[case("rfc2217://:4001", "names no host")]
    #[case("socket://lab:1?logging=debug", "takes none")]
    #[case("loop://", "`loop://` is not a port")]
    fn bad_urls(#[case] port: &str, #[case] says: &str) {
        let e = parse_url(port).expect("a URL").unwrap_err();
        assert!(e.contains(says), "{e}");
    }
}
