//! `miplcheck emulate`: the emulator served on a pty or TCP for other tools, from `--dialect` or
//! an emulator rig's `[emulator]` table (identities, firmware, echo, delays, silences, quirks,
//! faults), and with `--log` the served traffic printed as it happens. It prints through the
//! rig's privacy rules (secrets redacted, identities masked) and never changes what is served.

use crate::exit::{Error, Exit};
use crate::{out, say};
use clap::Args;
use miplcheck_emulator::serve::{self, Tap, Traffic};
use miplcheck_emulator::{Modem, Options};
use miplcheck_platform::record::{WireDir, WireRecord};
use miplcheck_runner::rig::{Rig, Target};
use miplcheck_runner::Privacy;
use std::sync::Arc;
use std::time::Instant;

/// `miplcheck emulate --help`'s examples.
pub const EXAMPLES: &str = "Examples:
  miplcheck emulate --dialect bc39 --pty                     a BC39 on a new pty (its path on the first line)
  miplcheck emulate --rig rigs/emulator-bc39.toml --pty --log   the rig's modem, every line both ways with times
  miplcheck emulate --rig loose-firmware.toml --tcp 127.0.0.1:7000   a quirked modem for a driver to try";

#[derive(Args)]
pub struct EmulateArgs {
    /// `bc39` or `m5310a`.
    #[arg(long, required_unless_present = "rig")]
    dialect: Option<String>,
    /// Serve the emulator an emulator rig file describes (its `[emulator]` table: identities,
    /// firmware, echo, delays, silent commands, quirks, faults), e.g. to put it behind ser2net as
    /// a bench modem or to try a driver against a loose firmware.
    #[arg(long, conflicts_with = "dialect")]
    rig: Option<std::path::PathBuf>,
    /// Serve on a new pseudo-terminal and print its path.
    #[arg(long, conflicts_with = "tcp")]
    pty: bool,
    /// Serve on a TCP address, e.g. 127.0.0.1:7000.
    #[arg(long)]
    tcp: Option<String>,
    /// Answer every command this much later (e.g. 250ms), over the rig's delays.
    #[arg(long, value_parser = humantime::parse_duration)]
    delay: Option<std::time::Duration>,
    /// Start with echo off (ATE0).
    #[arg(long)]
    no_echo: bool,
    /// Print the AT traffic both ways (TE→UE, UE→TE) and the datagrams (UE→PF, PF→UE) on
    /// standard output, each with its time since the start, as `miplcheck platform` does.
    #[arg(long)]
    log: bool,
}

/// The options and privacy rules the arguments name.
fn options(a: &EmulateArgs) -> Result<(Options, Privacy), Error> {
    let (mut o, privacy) = match (&a.rig, &a.dialect) {
        (Some(path), _) => {
            let rig = Rig::load(path).map_err(Error::Input)?;
            let Target::Emulator { options, .. } = &rig.target else {
                return Err(Error::Usage(format!(
                    "--rig {}: not an emulator rig (kind = \"emulator\")",
                    path.display()
                )));
            };
            let privacy = Privacy::new(&rig.secrets).with_identities(
                Some(&options.imei),
                Some(&options.imsi),
                rig.privacy.identity,
            );
            (options.clone(), privacy)
        }
        (None, Some(d)) => {
            let o = Options::for_dialect(d);
            let privacy =
                Privacy::new(&Default::default()).with_identities(Some(&o.imei), Some(&o.imsi), Default::default());
            (o, privacy)
        }
        (None, None) => return Err(Error::Usage("say which modem: --dialect or --rig".into())),
    };
    if a.no_echo {
        o.echo = false;
    }
    if let Some(d) = a.delay {
        o.delays.insert("*".into(), d);
    }
    Ok((o, privacy))
}

/// One log line: `     1.234s TE→UE AT+CGMR\r`, the bytes escaped and passed through `privacy`.
pub fn line(at: std::time::Duration, traffic: Traffic<'_>, privacy: &Privacy) -> String {
    let (arrow, text) = match traffic {
        Traffic::FromTe(b) => ("TE→UE", String::from_utf8_lossy(b).into_owned()),
        Traffic::ToTe(b) => ("UE→TE", String::from_utf8_lossy(b).into_owned()),
        Traffic::DatagramOut(peer, b) => (WireDir::UeToPlatform.arrow(), datagram(WireDir::UeToPlatform, peer, b)),
        Traffic::DatagramIn(peer, b) => (WireDir::PlatformToUe.arrow(), datagram(WireDir::PlatformToUe, peer, b)),
    };
    format!("{:>10.3}s {arrow} {}", at.as_secs_f64(), miplcheck_record::printable(&privacy.text(&text)))
}

fn datagram(dir: WireDir, peer: &str, bytes: &[u8]) -> String {
    let r = WireRecord { at: Default::default(), dir, peer: peer.to_string(), bytes: bytes.to_vec() };
    format!("{peer} {}", r.describe())
}

/// The tap that prints each line; a reader that went away stops the printing, not the modem.
fn printer(privacy: Privacy) -> Tap {
    let start = Instant::now();
    let gone = std::sync::atomic::AtomicBool::new(false);
    Arc::new(move |at: Instant, t: Traffic<'_>| {
        use std::sync::atomic::Ordering;
        if !gone.load(Ordering::Relaxed) && !say!("{}", line(at.saturating_duration_since(start), t, &privacy)) {
            gone.store(true, Ordering::Relaxed);
        }
    })
}

pub fn run(a: EmulateArgs) -> Result<Exit, Error> {
    let (o, privacy) = options(&a)?;
    let modem = Modem::new(o.clone()).map_err(|e| Error::Usage(format!("--dialect: {e}")))?;
    let tap = a.log.then(|| printer(privacy));
    if let Some(addr) = &a.tcp {
        let listener = std::net::TcpListener::bind(addr).map_err(|e| Error::Usage(format!("--tcp {addr}: {e}")))?;
        if let Ok(local) = listener.local_addr() {
            out::warn_if_wide("the emulator's AT port", local);
        }
        say!("{} emulator on tcp {}", o.dialect, listener.local_addr().map(|a| a.to_string()).unwrap_or(addr.clone()));
        drop(modem);
        let make = move || Modem::new(o.clone()).expect("validated above");
        serve::on_tcp_tapped(listener, make, tap).map_err(|e| Error::Failed(e.to_string()))?;
        return Ok(Exit::Ok);
    }
    if !a.pty {
        return Err(Error::Usage("say where to serve: --pty or --tcp ADDR".into()));
    }
    let p =
        serve::on_pty_tapped(modem, tap).map_err(|e| Error::Failed(format!("cannot open a pseudo-terminal: {e}")))?;
    say!("{}", p.path.display());
    eprintln!("{} emulator on {} (Ctrl-C stops it)", o.dialect, p.path.display());
    p.running.wait();
    Ok(Exit::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use std::time::Duration;

    #[rstest]
    #[case(Traffic::FromTe(b"AT+CGMR\r"), "     1.250s TE→UE AT+CGMR\\r")]
    #[case(Traffic::ToTe(b"\r\nOK\r\n"), "     1.250s UE→TE \\r\\nOK\\r\\n")]
    #[case(Traffic::ToTe(b"\x1b[2J"), "     1.250s UE→TE \\x1B[2J")]
    fn lines_are_timed_and_escaped(#[case] t: Traffic<'_>, #[case] want: &str) {
        assert_eq!(line(Duration::from_millis(1250), t, &Privacy::default()), want);
    }

    #[test]
    fn secrets_never_reach_the_log() {
        let secrets = [("psk".to_string(), "FhyvhmgIRQrde4In".to_string())].into_iter().collect();
        let p = Privacy::new(&secrets).with_identities(Some("866971030000001"), None, Default::default());
        let got = line(Duration::ZERO, Traffic::FromTe(b"AT+MIPLCONFIG=5,\"FhyvhmgIRQrde4In\",866971030000001\r"), &p);
        assert!(!got.contains("FhyvhmgIRQrde4In") && !got.contains("866971030000001"), "{got}");
    }

    #[test]
    fn a_datagram_is_decoded() {
        let got =
            line(Duration::ZERO, Traffic::DatagramOut("127.0.0.1:5683", b"\x40\x01\x00\x01"), &Privacy::default());
        assert!(got.contains("UE→PF 127.0.0.1:5683 CON GET"), "{got}");
    }
}
