//! `AT+QSOTAINFO` and `AT+QSOTARESULT` (BC39 §3.2.17, §3.2.18): the MCU's software version and
//! package space, and what became of each step of an upgrade. The LwM2M side is
//! `crate::client::sota`.

use super::Bc39;
use crate::ctx::Ctx;
use crate::reply::{cme, int_param, Reply};
use miplcheck_at::dialect::Invocation;
use miplcheck_at::syntax::Form;

/// `<sw_version>` is at most 48 bytes (§3.2.17).
const MAX_VERSION: usize = 48;

pub fn handle(m: &mut Bc39, inv: &Invocation, ctx: &mut Ctx) -> Reply {
    match (inv.command.name.as_str(), inv.command.form) {
        ("+QSOTAINFO", Form::Query) => {
            let (v, mem) = m.sota.clone().unwrap_or_default();
            Reply::ok().line(format!("+QSOTAINFO: \"{v}\",{mem}"))
        }
        ("+QSOTAINFO", _) => {
            let Some(v) = inv.bound.as_ref().and_then(|b| b.get("sw_version")) else {
                return Reply::error(cme::BAD_PARAMETER);
            };
            if !v.quoted || v.value().is_empty() || v.value().len() > MAX_VERSION {
                return Reply::error(cme::BAD_PARAMETER);
            }
            let mem = match int_param(inv, "mem_size", 0..=i64::from(u32::MAX)) {
                Ok(n) => n as u32,
                Err(r) => return r,
            };
            let version = v.value().to_string();
            if let Some(c) = m.client.as_mut() {
                c.set_sota_info(version.clone(), mem);
            }
            m.sota = Some((version, mem));
            Reply::ok()
        }
        _ => match int_param(inv, "result", 1..=8) {
            Ok(r) => match m.client.as_mut() {
                Some(c) => c.sota_result(r, ctx),
                None => Reply::ok(),
            },
            Err(e) => e,
        },
    }
}
