//! The TE's answers to the platform's requests, and notifications (BC39 §3.2.9–3.2.15).

use super::Bc39;
use crate::client::values::resource_list;
use crate::client::{Answer, Part};
use crate::ctx::Ctx;
use crate::reply::{cme, int_param, Reply};
use miplcheck_at::dialect::Invocation;
use miplcheck_lwm2m::Path;

/// Longest payload a notification or read answer may carry (BC39 §3.2.11 note 1, §3.2.15 note 1),
/// and with DTLS on, where the manual advises 512.
const MAX_PAYLOAD: usize = 1024;
const MAX_PAYLOAD_DTLS: usize = 512;

pub fn handle(m: &mut Bc39, inv: &Invocation, ctx: &mut Ctx) -> Reply {
    match answer(m, inv, ctx) {
        Ok(r) | Err(r) => r,
    }
}

fn bad() -> Reply {
    Reply::error(cme::BAD_PARAMETER)
}

fn raw<'a>(inv: &'a Invocation, name: &str) -> Option<&'a miplcheck_at::syntax::Arg> {
    inv.bound.as_ref().and_then(|b| b.get(name))
}

/// `<raiMode>`: 0, 0x200 or 0x400.
fn rai(inv: &Invocation) -> Result<u32, Reply> {
    match raw(inv, "raiMode") {
        None => Ok(0),
        Some(a) => match a.int() {
            Some(r @ (0 | 0x200 | 0x400)) => Ok(r as u32),
            _ => Err(bad()),
        },
    }
}

/// A value with its type and declared length checked (BC39 §3.2.11 `<valueType>`, `<len>`).
fn part(inv: &Invocation, max: usize) -> Result<Part, Reply> {
    let o = int_param(inv, "objId", 0..=65535)?;
    let i = int_param(inv, "insId", 0..=65535)?;
    let r = int_param(inv, "resId", 0..=65535)?;
    let value_type = int_param(inv, "valueType", 1..=5)?;
    let len = int_param(inv, "len", 0..=max as i64)? as usize;
    let value = raw(inv, "value").ok_or_else(bad)?;
    let v = value.value();
    let ok = match value_type {
        1 => v.len() == len,
        2 => v.len() == 2 * len && v.bytes().all(|b| b.is_ascii_hexdigit()),
        3 => [2, 4, 8].contains(&len) && v.parse::<i64>().is_ok(),
        4 => len == 4 && v.parse::<f64>().is_ok(),
        _ => len == 1 && (v == "0" || v == "1"),
    };
    if !ok {
        return Err(bad());
    }
    // §3.2.11: an unquoted string is sent in upper case.
    let value = if value_type == 1 && !value.quoted { v.to_uppercase() } else { v.to_string() };
    Ok(Part { path: Path::resource(o as u16, i as u16, r as u16), value_type, len, value })
}

fn answer(m: &mut Bc39, inv: &Invocation, ctx: &mut Ctx) -> Result<Reply, Reply> {
    int_param(inv, "ref", 0..=0)?;
    let max = if m.config.dtls.on { MAX_PAYLOAD_DTLS } else { MAX_PAYLOAD };
    let client = m.client.as_mut().ok_or_else(|| Reply::error(cme::NOT_ALLOWED))?;
    let name = inv.command.name.as_str();
    if name == "+MIPLNOTIFY" {
        let msg_id = int_param(inv, "msgId", 0..=i64::from(u32::MAX))? as u32;
        let p = part(inv, max)?;
        let index = int_param(inv, "index", 0..=65535)?;
        int_param(inv, "flag", 0..=2)?;
        let ackid = match raw(inv, "ackId") {
            None => None,
            Some(_) => match int_param(inv, "ackId", 0..=65535)? {
                0 => None,
                a => Some(a as u16),
            },
        };
        let rai = rai(inv)?;
        // §3.2.15: 0x200 (release right after sending) cannot go with a confirmed notification.
        if rai == 0x200 && ackid.is_some() {
            return Err(bad());
        }
        if !client.registered() {
            return Err(Reply::error(cme::NOT_ALLOWED));
        }
        return Ok(client.notify(msg_id, p, index == 0, ackid, rai, ctx));
    }
    let msg_id = int_param(inv, "msgId", 0..=i64::from(u32::MAX))? as u32;
    let result = int_param(inv, "result", 0..=255)?;
    rai(inv)?;
    let kind = match name {
        "+MIPLDISCOVERRSP" if result == 1 => {
            let s = raw(inv, "valuestring").ok_or_else(bad)?;
            let len = int_param(inv, "length", 0..=MAX_PAYLOAD as i64)? as usize;
            if s.value().len() != len {
                return Err(bad());
            }
            let ids = resource_list(s.value(), ctx.opts.quirks.discover_list_trailing_semicolon).ok_or_else(bad)?;
            Answer::Discover(ids)
        }
        "+MIPLREADRSP" if result == 1 => {
            let p = part(inv, max)?;
            let index = int_param(inv, "index", 0..=65535)?;
            int_param(inv, "flag", 0..=2)?;
            Answer::Read(p, index)
        }
        _ => Answer::Plain,
    };
    Ok(client.te_answer(kind, msg_id, result, ctx))
}
