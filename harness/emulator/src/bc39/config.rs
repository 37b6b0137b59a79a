//! `AT+MIPLCONFIG` (BC39 §3.2.1, §5.1): modes 0–6, their ranges and defaults.

use super::Bc39;
use crate::reply::int_param;
use crate::reply::{cme, Reply};
use miplcheck_at::dialect::Invocation;
use miplcheck_at::syntax::{Arg, Form};

/// Default bootstrap server (BC39 §3.2.1, mode 1).
pub const DEFAULT_BOOTSTRAP: (&str, u16) = ("183.230.40.39", 5683);
/// ACK_TIMEOUT range and default in seconds (mode 2).
pub const ACK_TIMEOUT_RANGE: std::ops::RangeInclusive<i64> = 2..=20;
pub const DEFAULT_ACK_TIMEOUT: u8 = 2;
/// Longest auth code and PSK, in bytes (modes 4 and 5).
pub const MAX_SECRET: usize = 16;

/// A feature switched on or off with an optional secret: `<enable>[,<secret>]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Switch {
    pub on: bool,
    pub secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Mode 1 (true) or mode 0 (false): bootstrap or direct access server.
    pub bootstrap: bool,
    pub host: String,
    pub port: u16,
    pub ack_timeout: u8,
    pub obs_autoack: bool,
    /// Authenticated access (mode 4): on or off, and the code if one was given.
    pub auth: Switch,
    /// DTLS (mode 5): on or off, and the PSK if one was given.
    pub dtls: Switch,
    /// 0 hexadecimal, 1 string.
    pub write_format: u8,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bootstrap: true,
            host: DEFAULT_BOOTSTRAP.0.into(),
            port: DEFAULT_BOOTSTRAP.1,
            ack_timeout: DEFAULT_ACK_TIMEOUT,
            obs_autoack: true,
            auth: Switch::default(),
            dtls: Switch::default(),
            write_format: 0,
        }
    }
}

impl Config {
    /// The query lines, as §5.1 prints them.
    pub fn query_lines(&self) -> Vec<String> {
        let flag_and = |mode: u8, v: &Switch| match (v.on, &v.secret) {
            (true, Some(s)) => format!("+MIPLCONFIG:{mode},1,{s}"),
            (true, None) => format!("+MIPLCONFIG:{mode},1"),
            (false, _) => format!("+MIPLCONFIG:{mode},0"),
        };
        vec![
            format!("+MIPLCONFIG:{},{},{}", u8::from(self.bootstrap), self.host, self.port),
            format!("+MIPLCONFIG:2,{}", self.ack_timeout),
            format!("+MIPLCONFIG:3,{}", u8::from(self.obs_autoack)),
            flag_and(4, &self.auth),
            flag_and(5, &self.dtls),
            format!("+MIPLCONFIG:6,{}", self.write_format),
        ]
    }
}

pub fn handle(m: &mut Bc39, inv: &Invocation) -> Reply {
    match inv.command.form {
        Form::Query => Reply::ok().lines(m.config.query_lines()),
        _ => {
            // §3.2.1 note 1: configure before AT+MIPLCREATE.
            if m.instance.is_some() {
                return Reply::error(cme::NOT_ALLOWED);
            }
            match set(&mut m.config, inv) {
                Ok(()) => Reply::ok(),
                Err(r) => r,
            }
        }
    }
}

fn set(c: &mut Config, inv: &Invocation) -> Result<(), Reply> {
    let bad = || Reply::error(cme::BAD_PARAMETER);
    let b = inv.bound.as_ref().ok_or_else(bad)?;
    let mode = int_param(inv, "mode", 0..=6)?;
    let p1 = b.get("parameter1").ok_or_else(bad)?;
    let p2 = b.get("parameter2");
    let flag = |a: &Arg| a.int().filter(|n| (0..=1).contains(n)).map(|n| n == 1).ok_or_else(bad);
    match mode {
        0 | 1 => {
            let host = p1.value();
            let port = p2.and_then(Arg::int).filter(|p| (1..=65535).contains(p)).ok_or_else(bad)?;
            if !valid_host(host) {
                return Err(bad());
            }
            c.bootstrap = mode == 1;
            c.host = host.to_string();
            c.port = port as u16;
        }
        2 => {
            // §3.2.1 gives `2,<rsp_timeout>`; the §5.1 example sets 9 s with `2,1,9`. Both are the
            // manual's, so both are accepted; the timeout is the last argument.
            let t = match p2 {
                None => p1,
                Some(t) => {
                    p1.int().ok_or_else(bad)?;
                    t
                }
            };
            let t = t.int().filter(|n| ACK_TIMEOUT_RANGE.contains(n)).ok_or_else(bad)?;
            c.ack_timeout = t as u8;
        }
        3 | 6 => {
            if p2.is_some() {
                return Err(bad());
            }
            let on = flag(p1)?;
            if mode == 3 {
                c.obs_autoack = on;
            } else {
                c.write_format = u8::from(on);
            }
        }
        _ => {
            // 4: auth code, 5: PSK, both `[<secret>]` in §3.2.1: enabling without one keeps the
            // secret given before, if any; disabling forgets it.
            let on = flag(p1)?;
            let secret = match p2 {
                Some(s) if s.quoted && !s.value().is_empty() && s.value().len() <= MAX_SECRET => {
                    Some(s.value().to_string())
                }
                Some(_) => return Err(bad()),
                None => None,
            };
            let sw = if mode == 4 { &mut c.auth } else { &mut c.dtls };
            *sw = match (on, secret) {
                (false, _) => Switch::default(),
                (true, Some(s)) => Switch { on: true, secret: Some(s) },
                (true, None) => Switch { on: true, secret: sw.secret.take() },
            };
        }
    }
    Ok(())
}

/// An IPv4/IPv6 literal or a DNS name.
fn valid_host(h: &str) -> bool {
    if h.parse::<std::net::IpAddr>().is_ok() {
        return true;
    }
    let looks_numeric = h.split('.').all(|p| p.bytes().all(|b| b.is_ascii_digit()));
    !looks_numeric
        && h.len() <= 253
        && h.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        for ok in ["183.230.40.39", "::1", "nbiotbt.heclouds.com", "localhost"] {
            assert!(valid_host(ok), "{ok}");
        }
        for bad in ["", "183.230.40", "256.1.1.1", "a..b", "-a.com", "a b"] {
            assert!(!valid_host(bad), "{bad}");
        }
    }

    #[test]
    fn defaults_print_as_in_section_5_2_2() {
        assert_eq!(
            Config::default().query_lines(),
            [
                "+MIPLCONFIG:1,183.230.40.39,5683",
                "+MIPLCONFIG:2,2",
                "+MIPLCONFIG:3,1",
                "+MIPLCONFIG:4,0",
                "+MIPLCONFIG:5,0",
                "+MIPLCONFIG:6,0"
            ]
        );
    }
}
