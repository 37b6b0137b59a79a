//! `platform:` tells the mock platform what to do: start an operation on the device (read,
//! write, execute, observe…; an `answer:` step then judges the device's answer), or change how it
//! behaves (auto-observe, faults, DTLS, bootstrap PSK, auth code). The secrets those need come from
//! the rig through [`super::Context`]. Nothing is awaited here.

use super::Session;
use crate::platform_op::PlatformStep;
use std::collections::BTreeMap;

/// Does `action` on the case's platform; an error if the rig has none.
pub(super) fn run(session: &mut Session<'_, '_>, action: &PlatformStep) -> Result<(), String> {
    let pf = session.platform()?;
    match action {
        PlatformStep::AutoObserve(on) => pf.set_auto_observe(*on),
        PlatformStep::Fault(what, fault) => pf.set_fault(*what, *fault),
        PlatformStep::DeleteDevice(device) => pf.delete_device(device.as_deref()).map_err(|e| e.to_string())?,
        PlatformStep::BootstrapPsk(on) => {
            let assigned = match (on, pf.dtls_addr()) {
                (false, _) => None,
                (true, Some(a)) => Some((
                    format!("coaps://{a}"),
                    rig_secret(session.ctx.secrets, "server_psk", "bootstrap-psk on")?.into_bytes(),
                )),
                (true, None) => return Err("this platform has no DTLS port (it listens off loopback)".into()),
            };
            pf.assign_psk(assigned);
        }
        PlatformStep::Dtls(on) => {
            let psk = if *on { Some(rig_secret(session.ctx.secrets, "psk", "dtls on")?.into_bytes()) } else { None };
            pf.set_dtls(psk);
        }
        PlatformStep::AuthCode(on) => {
            let code = if *on { Some(rig_secret(session.ctx.secrets, "auth_code", "auth-code on")?) } else { None };
            pf.set_auth_code(code);
        }
        PlatformStep::Operate(op) => {
            let id = pf.operate(None, op.clone()).map_err(|e| e.to_string())?;
            session.last_op = Some((id, session.port.now()));
        }
    }
    Ok(())
}

/// A secret a platform step needs from the rig.
fn rig_secret(secrets: &BTreeMap<String, String>, name: &str, step: &str) -> Result<String, String> {
    secrets.get(name).cloned().ok_or_else(|| format!("`platform: {step}` needs `{name}` in the rig's [secrets]"))
}
