//! `AT+MIPLOPEN`, `AT+MIPLCLOSE`, `AT+MIPLUPDATE` (BC39 §3.2.7, §3.2.8, §3.2.16).

use super::Bc39;
use crate::client::{Client, Errors, NotifyId, ObserveId, OpenArgs, Profile, Renew};
use crate::ctx::Ctx;
use crate::quirks::TlvFormat;
use crate::reply::{cme, int_param, Reply};
use miplcheck_at::dialect::Invocation;
use miplcheck_lwm2m::ContentFormat;
use miplcheck_lwm2m::Path;
use std::time::Duration;

/// `<lifetime>` range (BC39 §3.2.7); 0 in an update means 86400 (§3.2.16).
const LIFETIME: std::ops::RangeInclusive<i64> = 16..=268_435_454;
/// `<timeout>` range, and the value used when the command leaves it out (the manual names none).
const TIMEOUT: std::ops::RangeInclusive<i64> = 30..=65_535;
const DEFAULT_TIMEOUT: i64 = 30;

pub fn handle(m: &mut Bc39, inv: &Invocation, ctx: &mut Ctx) -> Reply {
    match set(m, inv, ctx) {
        Ok(r) => r,
        Err(r) => r,
    }
}

fn set(m: &mut Bc39, inv: &Invocation, ctx: &mut Ctx) -> Result<Reply, Reply> {
    int_param(inv, "ref", 0..=0)?;
    let inst = m.instance.as_ref().ok_or_else(|| Reply::error(cme::BAD_PARAMETER))?;
    match inv.command.name.as_str() {
        "+MIPLOPEN" => {
            let lifetime = int_param(inv, "lifetime", LIFETIME)? as u32;
            let timeout = match inv.bound.as_ref().and_then(|b| b.get("timeout")) {
                Some(_) => int_param(inv, "timeout", TIMEOUT)?,
                None => DEFAULT_TIMEOUT,
            };
            if inst.objects.is_empty() || m.client.as_ref().is_some_and(Client::registered) {
                return Err(Reply::error(cme::NOT_ALLOWED));
            }
            let objects =
                inst.objects.iter().flat_map(|o| o.instances.iter().map(move |i| Path::instance(o.id, *i))).collect();
            let c = &m.config;
            m.opens += 1;
            let args = OpenArgs {
                generation: m.opens,
                server: format!("{}:{}", c.host, c.port),
                bootstrap: c.bootstrap,
                endpoint_name: format!("{};{}", ctx.opts.imei, ctx.opts.imsi),
                lifetime,
                timeout: Duration::from_secs(timeout as u64),
                objects,
                auth_code: if c.auth.on { c.auth.secret.clone() } else { None },
                ack_timeout: u64::from(c.ack_timeout),
                psk: if c.dtls.on { c.dtls.secret.as_ref().map(|k| k.as_bytes().to_vec()) } else { None },
                // BC39 has no AT+MIPLDTLSNAT: its association is never renegotiated on a timer.
                dtls_nat: None,
                profile: profile(c.obs_autoack, ctx),
                sota: m.sota.clone().map(|(v, mem)| crate::client::sota::Sota::new(v, mem)),
            };
            m.client = Some(Client::open(args, ctx));
            Ok(Reply::ok())
        }
        "+MIPLCLOSE" => match m.client.as_mut() {
            Some(c) => Ok(c.close(ctx)),
            None => Err(Reply::error(cme::NOT_ALLOWED)),
        },
        _ => {
            let lifetime = match int_param(inv, "lifetime", 0..=*LIFETIME.end())? {
                0 => 86_400,
                n if LIFETIME.contains(&n) => n as u32,
                _ => return Err(Reply::error(cme::BAD_PARAMETER)),
            };
            let with_objects = int_param(inv, "withObjectFlag", 0..=1)? == 1;
            // §3.2.16 allows raiMode 0 or 0x400 for an update.
            let rai = match inv.bound.as_ref().and_then(|b| b.get("raiMode")) {
                Some(_) => int_param(inv, "raiMode", 0..=0x400).and_then(|r| {
                    if r == 0 || r == 0x400 {
                        Ok(r)
                    } else {
                        Err(Reply::error(cme::BAD_PARAMETER))
                    }
                })?,
                None => 0,
            };
            match m.client.as_mut() {
                Some(c) => Ok(c.update(lifetime, with_objects, rai == 0x400, ctx)),
                None => Err(Reply::error(cme::NOT_ALLOWED)),
            }
        }
    }
}

/// The module's side of the BC39 flows (§5.2): observes answered per `AT+MIPLCONFIG=3`, discovers
/// and write-attributes answered by the TE, event 14 before the lifetime ends.
fn profile(obs_autoack: bool, ctx: &Ctx) -> Profile {
    Profile {
        manufacturer: "Quectel",
        model: "BC39",
        device_read_shown: false,
        observe_autoack: obs_autoack,
        observe_id: ObserveId::CounterAndMid,
        parameter_autoack: false,
        discover_autoanswer: false,
        discover_lists: Default::default(),
        renew: Renew::Report,
        errors: Errors {
            bad_parameter: cme::BAD_PARAMETER,
            not_registered: cme::NOT_ALLOWED,
            no_such_request: cme::BAD_PARAMETER,
            not_observed: cme::NOT_ALLOWED,
        },
        repeat_unanswered: ctx.opts.quirks.repeat_unanswered,
        tlv: ctx.opts.quirks.tlv_format.map_or(ContentFormat::TlvOld, TlvFormat::format),
        honour_accept: !ctx.opts.quirks.ignore_accept,
        accept_answered_observe: ctx.opts.quirks.accept_answered_observe,
        notify_id: NotifyId::Advisory,
        // §4.1–§4.6: the TE "应在 10 秒内" answer each request URC.
        separate_after: Some(Duration::from_secs(10)),
    }
}
