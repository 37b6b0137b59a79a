//! The OneNET suite instance and its objects: `AT+MIPLCREATE`, `AT+MIPLDELETE`, `AT+MIPLADDOBJ`,
//! `AT+MIPLDELOBJ` (BC39 §3.2.2, §3.2.3, §3.2.5, §3.2.6).

use super::Bc39;
use crate::reply::int_param;
use crate::reply::{cme, Reply};
use miplcheck_at::dialect::Invocation;

/// A LwM2M object added with `AT+MIPLADDOBJ`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub id: u16,
    /// Instance IDs whose bit is 1 in `<insBitmap>` (BC39 §3.2.5: count 4, "1101" → 0, 1, 3).
    pub instances: Vec<u16>,
    pub attr_count: u32,
    pub act_count: u32,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Instance {
    pub objects: Vec<Object>,
}

/// The BC39 SDK has one suite instance, reference 0.
pub const REF: i64 = 0;

pub fn handle(m: &mut Bc39, inv: &Invocation) -> Reply {
    let name = inv.command.name.as_str();
    match (name, inv.command.form) {
        ("+MIPLCREATE", _) => {
            if m.instance.is_some() {
                return Reply::error(cme::NOT_ALLOWED);
            }
            m.instance = Some(Instance::default());
            Reply::ok().line(format!("+MIPLCREATE:{REF}"))
        }
        _ => match set(m, inv) {
            Ok(()) => Reply::ok(),
            Err(r) => r,
        },
    }
}

fn set(m: &mut Bc39, inv: &Invocation) -> Result<(), Reply> {
    let bad = || Reply::error(cme::BAD_PARAMETER);
    int_param(inv, "ref", REF..=REF)?;
    let inst = m.instance.as_mut().ok_or_else(bad)?;
    match inv.command.name.as_str() {
        "+MIPLDELETE" => {
            m.instance = None;
        }
        "+MIPLADDOBJ" => {
            let id = int_param(inv, "objId", 0..=65535)? as u16;
            let count = int_param(inv, "insCount", 1..=255)? as usize;
            let bitmap = inv.bound.as_ref().and_then(|b| b.get("insBitmap")).ok_or_else(bad)?;
            let bits = bitmap.value();
            if !bitmap.quoted || bits.len() != count || !bits.bytes().all(|b| b == b'0' || b == b'1') {
                return Err(bad());
            }
            let attr_count = int_param(inv, "attrCount", 0..=65535)? as u32;
            let act_count = int_param(inv, "actCount", 0..=65535)? as u32;
            if inst.objects.iter().any(|o| o.id == id) {
                return Err(Reply::error(cme::NOT_ALLOWED));
            }
            let instances = bits.bytes().enumerate().filter(|(_, b)| *b == b'1').map(|(i, _)| i as u16).collect();
            inst.objects.push(Object { id, instances, attr_count, act_count });
        }
        "+MIPLDELOBJ" => {
            let id = int_param(inv, "objId", 0..=65535)? as u16;
            let before = inst.objects.len();
            inst.objects.retain(|o| o.id != id);
            if inst.objects.len() == before {
                return Err(bad());
            }
        }
        _ => return Err(Reply::error(cme::NOT_SUPPORTED)),
    }
    Ok(())
}
