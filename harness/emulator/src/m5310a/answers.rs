//! The TE's answers and reports (M5310-A §1.9–§1.19, §2.1 nsmi, §4.3): `AT+MIPLNOTIFY`, the
//! `…RSP` commands, and `+MIPLNSMI` after each one that sent a message.

use super::{check_ref, cis, err, int, raw, M5310a};
use crate::client::{Answer, Client, Part};
use crate::ctx::Ctx;
use crate::reply::{Outcome, Reply};
use miplcheck_at::dialect::{Invocation, Rai, M5310A};
use miplcheck_lwm2m::Path;

/// What one NOTIFY or READ answer may carry in all (§1.9, §1.11: 1000 bytes).
const MAX_PAYLOAD: usize = 1000;
/// NOTIFY `<flag>`: parts 1 first, 2 middle, 0 last; 0x100 priority (§5.3.3.1), 0x200 / 0x400 RAI.
const FLAGS: [i64; 6] = [0, 1, 2, 0x100, 0x200, 0x400];

/// The `<flag>` bits that carry RAI, as the table says (§1.9: 0x200 / 0x400).
fn rai_bits() -> i64 {
    match M5310A.rai {
        Rai::FlagBits { bits, .. } => bits,
        Rai::Param(_) => 0,
    }
}

/// A value with its type checked (§1.9 `<type>` 1–6). `<len>` is not checked: "无需指定 len".
fn part(inv: &Invocation) -> Result<Part, Reply> {
    let o = int(inv, "objid", 0..=65535)? as u16;
    let i = int(inv, "insid", 0..=65535)? as u16;
    let r = int(inv, "resid", 0..=65535)? as u16;
    let value_type = int(inv, "type", 1..=6)?;
    int(inv, "len", 0..=MAX_PAYLOAD as i64)?;
    let value = raw(inv, "value").ok_or_else(|| err(cis::SYNTAX))?;
    let v = value.value();
    let ok = match value_type {
        // §1.9: a string must be quoted.
        1 => value.quoted,
        2 | 6 => v.len() % 2 == 0 && v.bytes().all(|b| b.is_ascii_hexdigit()),
        3 => v.parse::<i64>().is_ok(),
        4 => v.parse::<f64>().is_ok(),
        _ => v == "0" || v == "1",
    };
    if !ok {
        return Err(err(cis::SYNTAX));
    }
    // "The module picks the encoding from the value's range": the shortest integer, a float as
    // single precision when that loses nothing.
    let len = match value_type {
        4 => match v.parse::<f64>() {
            Ok(f) if f64::from(f as f32) == f => 4,
            _ => 8,
        },
        _ => 0,
    };
    Ok(Part { path: Path::resource(o, i, r), value_type, len, value: v.to_string() })
}

fn sent(r: &Reply) -> bool {
    r.outcome == Outcome::Ok
}

pub fn handle(m: &mut M5310a, inv: &Invocation, ctx: &mut Ctx) -> Result<Reply, Reply> {
    check_ref(inv, "ref")?;
    let name = inv.command.name.as_str();
    let registered = m.client.as_ref().is_some_and(Client::registered);
    let mid_name = if matches!(name, "+MIPLPARAMETERRSP" | "+MIPLOBSERVERSP") { "msgid" } else { "mid" };
    let mid = int(inv, mid_name, 0..=65535)?;
    let mut nsmi = m.downlink.nsmi;
    let reply = match name {
        "+MIPLNOTIFY" => {
            let p = part(inv)?;
            int(inv, "index", 0..=65535)?;
            let flag = int(inv, "flag", 0..=0x400)?;
            if !FLAGS.contains(&flag) {
                return Err(err(cis::SYNTAX));
            }
            let ackid = match raw(inv, "ackid") {
                None => None,
                Some(_) => Some(int(inv, "ackid", 1..=65535)? as u16),
            };
            let client = m.client.as_mut().filter(|_| registered).ok_or_else(|| err(cis::REGISTRATION))?;
            m.declared
                .insert((p.path.object, p.path.instance.unwrap_or(0), p.path.resource.unwrap_or(0)), p.value_type);
            let last = matches!(flag, 0 | 0x100 | 0x200 | 0x400);
            let size = client.pending_notify_bytes() + p.value.len();
            if size > 2 * MAX_PAYLOAD {
                // The uplink buffer cannot take it (§1.9: "本次发送上报数据总共建议不超过 1000Bytes").
                return Err(err(cis::UPLINK_BUSY));
            }
            // §1.9: the ackid counts only on the part that sends.
            let r = client.notify(mid as u32, p, last, ackid.filter(|_| last), (flag & rai_bits()) as u32, ctx);
            nsmi &= last;
            r
        }
        "+MIPLREADRSP" => {
            let result = int(inv, "result", 0..=255)?;
            let client = m.client.as_mut().ok_or_else(|| err(cis::REGISTRATION))?;
            let (kind, last) = if result == 1 {
                let p = part(inv)?;
                m.declared
                    .insert((p.path.object, p.path.instance.unwrap_or(0), p.path.resource.unwrap_or(0)), p.value_type);
                let index = int(inv, "index", 0..=65535)?;
                int(inv, "flag", 0..=2)?;
                (Answer::Read(p, index), index == 0)
            } else {
                (Answer::Plain, true)
            };
            let r = client.te_answer(kind, mid as u32, result, ctx);
            if sent(&r) && last {
                m.downlink.answered(mid as u16);
            }
            nsmi &= last;
            r
        }
        "+MIPLWRITERSP" | "+MIPLEXECUTERSP" => {
            let result = int(inv, "result", 0..=255)?;
            let client = m.client.as_mut().ok_or_else(|| err(cis::REGISTRATION))?;
            let r = client.te_answer(Answer::Plain, mid as u32, result, ctx);
            if sent(&r) {
                m.downlink.answered(mid as u16);
            }
            r
        }
        _ => {
            // PARAMETERRSP, OBSERVERSP: the module has answered already (§1.17, §1.19); an answer
            // to a request it still holds is sent, any other is accepted and dropped.
            let result = int(inv, "result", 0..=255)?;
            nsmi = false;
            match m.client.as_mut() {
                Some(c) if c.is_pending(mid as u32) => c.te_answer(Answer::Plain, mid as u32, result, ctx),
                _ => Reply::ok(),
            }
        }
    };
    if nsmi && sent(&reply) {
        // §2.1, §4.3: `<num>` is the command's `<mid>` & 127, printed with `=`.
        ctx.urc(format!("+MIPLNSMI=0,1,{}", mid & 127));
    }
    Ok(reply)
}
