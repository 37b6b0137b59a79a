//! The 3GPP TS 27.007 / V.250 basics shared by every dialect: `AT`, `ATE0/1`, `ATI`, `AT+CGMI`,
//! `AT+CGMM`, `AT+CGMR`, `AT+CGSN`, `AT+CIMI`, `AT+CMEE`, `AT+CSQ`, `AT+CEREG`, `AT+CGATT`,
//! `AT+CGPADDR`, `AT+CSCON`, `AT+CFUN`, and the dialect's reset command.
//!
//! Names no dialect: where one differs (what `AT+CGMR` prints, the manufacturer, which command
//! reboots) it asks the [`Behaviour`] or its dialect table.

use crate::behaviour::Behaviour;
pub use crate::ctx::{Basics, Reboot};
use crate::options::Options;
use crate::reply::{cme, int_param, Reply};
use miplcheck_at::dialect::Invocation;
use miplcheck_at::syntax::{Command, Form, Spacing};

/// The one PDP context an NB-IoT module defines at power-on (its default EPS bearer).
const CID: i64 = 0;
/// The address the network gives that context: carrier-grade private space, as NB-IoT operators
/// hand out.
const PDP_ADDRESS: &str = "10.37.168.24";

fn sp(name: &str, args: &[String]) -> String {
    Spacing::MANUAL.format(name, args)
}

/// Answers a basic command, or `None` if `inv` is not one.
pub fn handle(inv: &Invocation, b: &mut Basics, opts: &Options, beh: &dyn Behaviour) -> Option<Reply> {
    let name = inv.command.name.as_str();
    let form = inv.command.form;
    let dialect = beh.dialect();
    if name.eq_ignore_ascii_case(&restart_name(dialect)) && form != Form::Test {
        return Some(restart(inv, b, dialect));
    }
    // The rig's firmware at power-on (`Modem`), or the revision a FOTA package installed.
    let fw = b.revision.clone();
    let r = match (name, form) {
        ("", _) => Reply::ok(),
        // V.250 §6.1.3 leaves the text to the manufacturer; Quectel and CMIOT modules print
        // manufacturer, model and revision, one a line.
        ("I", _) => Reply::ok().line(dialect.manufacturer).line(dialect.model).lines(beh.revision_lines(&fw)),
        ("+CGMI", Form::Test) | ("+CGMM", Form::Test) => Reply::ok(),
        ("+CGMI", Form::Exec) => Reply::ok().line(dialect.manufacturer),
        ("+CGMM", Form::Exec) => Reply::ok().line(dialect.model),
        ("+CGPADDR", Form::Test) => Reply::ok().line(sp("+CGPADDR", &[format!("({CID})")])),
        // 27.007 §10.1.14: the execute form lists the contexts that have an address; a context
        // without one is shown with the address left out.
        ("+CGPADDR", Form::Exec) => match address(b) {
            Some(a) => Reply::ok().line(sp("+CGPADDR", &[CID.to_string(), a.into()])),
            None => Reply::ok(),
        },
        ("+CGPADDR", Form::Set) => match int_param(inv, "cid", CID..=CID) {
            Ok(cid) => {
                let args: Vec<String> = std::iter::once(cid.to_string()).chain(address(b).map(Into::into)).collect();
                Reply::ok().line(sp("+CGPADDR", &args))
            }
            Err(e) => e,
        },
        ("E0", _) | ("E1", _) => {
            b.echo = name == "E1";
            Reply::ok()
        }
        ("+CGMR", Form::Test) | ("+CIMI", Form::Test) => Reply::ok(),
        ("+CGMR", Form::Exec) => Reply::ok().lines(beh.revision_lines(&fw)),
        ("+CGSN", Form::Test) => Reply::ok().line("+CGSN: (0-3)"),
        ("+CGSN", Form::Exec) => Reply::ok().line(opts.imei.clone()),
        ("+CGSN", Form::Set) => match int_param(inv, "snt", 0..=3) {
            Ok(0) => Reply::ok().line(opts.imei.clone()),
            Ok(1) => Reply::ok().line(sp("+CGSN", std::slice::from_ref(&opts.imei))),
            // 2: IMEISV, 3: SVN; the emulator reports the IMEI's first 14 digits with SVN 01.
            Ok(2) => Reply::ok().line(sp("+CGSN", &[format!("{}01", &opts.imei[..14])])),
            Ok(_) => Reply::ok().line(sp("+CGSN", &["01".into()])),
            Err(e) => e,
        },
        ("+CIMI", Form::Exec) => Reply::ok().line(opts.imsi.clone()),
        ("+CMEE", Form::Test) => Reply::ok().line("+CMEE: (0,1)"),
        ("+CMEE", Form::Query) => Reply::ok().line(sp("+CMEE", &[b.cmee.to_string()])),
        ("+CMEE", Form::Set) => match int_param(inv, "n", 0..=1) {
            Ok(n) => {
                b.cmee = n as u8;
                Reply::ok()
            }
            Err(e) => e,
        },
        ("+CSQ", Form::Test) => Reply::ok().line("+CSQ: (0-31,99),(0-7,99)"),
        ("+CSQ", Form::Exec) => {
            let rssi = if b.cfun == 1 { opts.rssi } else { 99 };
            Reply::ok().line(sp("+CSQ", &[rssi.to_string(), "99".into()]))
        }
        ("+CEREG", Form::Test) => Reply::ok().line("+CEREG: (0-5)"),
        ("+CEREG", Form::Query) => {
            let stat = if b.cfun == 1 && b.attached { 1 } else { 0 };
            Reply::ok().line(sp("+CEREG", &[b.cereg.to_string(), stat.to_string()]))
        }
        ("+CEREG", Form::Set) => match int_param(inv, "n", 0..=5) {
            Ok(n) => {
                b.cereg = n as u8;
                Reply::ok()
            }
            Err(e) => e,
        },
        ("+CGATT", Form::Test) => Reply::ok().line("+CGATT: (0,1)"),
        ("+CGATT", Form::Query) => Reply::ok().line(sp("+CGATT", &[u8::from(b.attached).to_string()])),
        ("+CGATT", Form::Set) => match int_param(inv, "state", 0..=1) {
            Ok(n) if b.cfun == 1 => {
                b.attached = n == 1;
                Reply::ok()
            }
            Ok(_) => Reply::cme_error(cme::NOT_ALLOWED),
            Err(e) => e,
        },
        ("+CSCON", Form::Test) => Reply::ok().line("+CSCON: (0,1)"),
        ("+CSCON", Form::Query) => {
            Reply::ok().line(sp("+CSCON", &[u8::from(b.cscon).to_string(), u8::from(b.connected).to_string()]))
        }
        ("+CSCON", Form::Set) => match int_param(inv, "n", 0..=1) {
            Ok(n) => {
                b.cscon = n == 1;
                Reply::ok()
            }
            Err(e) => e,
        },
        ("+CFUN", Form::Test) => Reply::ok().line("+CFUN: (0,1),(0,1)"),
        ("+CFUN", Form::Query) => Reply::ok().line(sp("+CFUN", &[b.cfun.to_string()])),
        ("+CFUN", Form::Set) => match int_param(inv, "fun", 0..=1) {
            // `<rst>` 1 resets the MT before it takes `<fun>`: the emulator's power-on reset, so a
            // rig behind a serial server (no pty to reset from the harness) can use it as its
            // `[reset]` command. The answer is `OK`; nothing is printed after the reset.
            Ok(n) if inv.bound.as_ref().and_then(|p| p.get("rst")).is_some() => match int_param(inv, "rst", 0..=1) {
                Ok(1) => {
                    b.reboot = Some(Reboot::Cfun(n as u8));
                    Reply::ok()
                }
                Ok(_) => {
                    set_fun(b, n);
                    Reply::ok()
                }
                Err(e) => e,
            },
            Ok(n) => {
                set_fun(b, n);
                Reply::ok()
            }
            Err(e) => e,
        },
        _ => return None,
    };
    Some(r)
}

/// `AT+CFUN=<fun>`: the radio on (1) or off (0), registration with it.
pub(crate) fn set_fun(b: &mut Basics, fun: i64) {
    b.cfun = fun as u8;
    b.attached = fun == 1;
    b.connected = false;
}

/// The PDP address, while the module is attached with its radio on.
fn address(b: &Basics) -> Option<&'static str> {
    (b.cfun == 1 && b.attached).then_some(PDP_ADDRESS)
}

/// The command name of the dialect's reset command (`+QRST`, `+NRB`).
fn restart_name(dialect: &miplcheck_at::Dialect) -> String {
    Command::parse(dialect.restart.command).map(|c| c.name).unwrap_or_default()
}

/// The dialect's reset command: only exactly the line its manual gives reboots (`AT+QRST=1`;
/// another `<mode>` is refused as a bad parameter).
fn restart(inv: &Invocation, b: &mut Basics, dialect: &miplcheck_at::Dialect) -> Reply {
    if !inv.command.format().eq_ignore_ascii_case(dialect.restart.command) {
        return Reply::cme_error(cme::BAD_PARAMETER);
    }
    b.reboot = Some(Reboot::Restart);
    Reply::ok()
}
