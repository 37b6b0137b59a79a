//! Registration (M5310-A §1.6–§1.8, §2.4, §2.7, §2.8): `AT+MIPLOPEN` (set and query),
//! `AT+MIPLUPDATE`, `AT+MIPLCLOSE`, `AT+MIPLUPDATESET`, `AT+MIPLDTLSNAT`, `AT+MIPLLTRDP`.

use super::{check_ref, cis, err, int, M5310a};
use crate::client::{Client, Errors, NotifyId, ObserveId, OpenArgs, Profile, Renew};
use crate::ctx::Ctx;
use crate::notice::Event;
use crate::quirks::TlvFormat;
use crate::reply::Reply;
use miplcheck_at::dialect::Invocation;
use miplcheck_at::syntax::Form;
use miplcheck_lwm2m::ContentFormat;
use miplcheck_lwm2m::Path;
use std::time::Duration;

/// `<timeout>` when OPEN leaves it out (§1.6).
const DEFAULT_TIMEOUT: i64 = 30;
/// An update's lifetime below this becomes a day (§1.7).
const SHORTEST_UPDATE: i64 = 10;
/// The automatic update works from this lifetime on (§2.4).
const AUTO_UPDATE_FROM: u32 = 60;
const MAX_LIFETIME: i64 = 268_435_454;

pub fn handle(m: &mut M5310a, inv: &Invocation, ctx: &mut Ctx) -> Result<Reply, Reply> {
    let name = inv.command.name.as_str();
    if name == "+MIPLLTRDP" {
        let left = m.client.as_ref().filter(|c| c.registered()).map(|c| c.lifetime_left(ctx.now)).unwrap_or(0);
        return Ok(Reply::ok().line(format!("+MIPLLTRDP:{left}")));
    }
    if (name, inv.command.form) == ("+MIPLOPEN", Form::Query) {
        // §1.6: OK, then the answer as an event; not registered: +CIS ERROR:602.
        if !m.client.as_ref().is_some_and(Client::registered) {
            return Err(err(cis::REGISTRATION));
        }
        ctx.event(Event::Registered);
        return Ok(Reply::ok());
    }
    check_ref(inv, "ref")?;
    let registered = m.client.as_ref().is_some_and(Client::registered);
    match name {
        "+MIPLOPEN" => open(m, inv, ctx),
        "+MIPLUPDATE" => {
            let lifetime = match int(inv, "lifetime", 0..=MAX_LIFETIME)? {
                n if n < SHORTEST_UPDATE => 86_400,
                n => n as u32,
            };
            let with_objects = int(inv, "withObjectFlag", 0..=1)? == 1;
            match m.client.as_mut().filter(|_| registered) {
                Some(c) => Ok(c.update(lifetime, with_objects, false, ctx)),
                None => Err(err(cis::REGISTRATION)),
            }
        }
        "+MIPLCLOSE" => {
            let c = m.client.as_mut().filter(|_| registered).ok_or_else(|| err(cis::REGISTRATION))?;
            let r = c.close(ctx);
            // §1.5, §1.8: the resource lists go with the registration.
            if let Some(d) = m.device.as_mut() {
                d.discover.clear();
            }
            Ok(r)
        }
        "+MIPLUPDATESET" => {
            let enable = int(inv, "enable", 0..=1)? == 1;
            // §2.4: after CREATE, before OPEN.
            if m.client.is_some() {
                return Err(err(cis::NOT_ALLOWED));
            }
            m.device.as_mut().ok_or_else(|| err(cis::RESOURCE))?.auto_update = enable;
            Ok(Reply::ok())
        }
        _ => {
            // DTLSNAT: 0 off, or at least 60 s (§2.7).
            let t = int(inv, "timeout", 0..=86_400)?;
            if (1..60).contains(&t) {
                return Err(err(cis::SYNTAX));
            }
            m.device.as_mut().ok_or_else(|| err(cis::RESOURCE))?.dtls_nat = t as u32;
            if let Some(c) = m.client.as_mut() {
                c.set_dtls_nat(nat_interval(t as u32), ctx.now);
            }
            Ok(Reply::ok())
        }
    }
}

/// `AT+MIPLDTLSNAT`'s seconds as the client's re-negotiation interval: 0 is off (§2.7).
fn nat_interval(seconds: u32) -> Option<Duration> {
    (seconds > 0).then(|| Duration::from_secs(u64::from(seconds)))
}

fn open(m: &mut M5310a, inv: &Invocation, ctx: &mut Ctx) -> Result<Reply, Reply> {
    let lifetime = int(inv, "lifetime", 1..=MAX_LIFETIME)? as u32;
    let timeout = match super::raw(inv, "timeout") {
        Some(_) => int(inv, "timeout", 1..=65_535)?,
        None => DEFAULT_TIMEOUT,
    };
    let d = m.device.as_ref().ok_or_else(|| err(cis::RESOURCE))?;
    // §3.1 602: registering or registered already.
    if m.client.as_ref().is_some_and(|c| c.registered() || c.registering()) {
        return Err(err(cis::REGISTRATION));
    }
    if d.objects.is_empty() {
        return Err(err(cis::RESOURCE));
    }
    let objects = d.objects.iter().flat_map(|(o, is)| is.iter().map(move |i| Path::instance(*o, *i))).collect();
    m.opens += 1;
    m.downlink.clear();
    let renew = if d.auto_update && lifetime >= AUTO_UPDATE_FROM { Renew::AutoUpdate } else { Renew::Quiet };
    let args = OpenArgs {
        generation: m.opens,
        server: d.host.clone(),
        bootstrap: d.bootstrap(),
        endpoint_name: format!("{};{}", ctx.opts.imei, ctx.opts.imsi),
        lifetime,
        timeout: Duration::from_secs(timeout as u64),
        objects,
        auth_code: d.authcode.clone(),
        ack_timeout: 2,
        psk: if d.dtls() { Some(d.psk.clone().unwrap_or_default().into_bytes()) } else { None },
        dtls_nat: nat_interval(d.dtls_nat),
        profile: Profile {
            manufacturer: "China Mobile",
            model: "M5310-A",
            device_read_shown: true,
            observe_autoack: true,
            observe_id: ObserveId::Mid,
            parameter_autoack: true,
            discover_autoanswer: true,
            discover_lists: d.discover.clone(),
            renew,
            errors: Errors {
                bad_parameter: cis::SYNTAX,
                not_registered: cis::REGISTRATION,
                no_such_request: cis::RESOURCE,
                not_observed: cis::RESOURCE,
            },
            repeat_unanswered: ctx.opts.quirks.repeat_unanswered,
            tlv: ctx.opts.quirks.tlv_format.map_or(ContentFormat::TlvOld, TlvFormat::format),
            honour_accept: !ctx.opts.quirks.ignore_accept,
            accept_answered_observe: ctx.opts.quirks.accept_answered_observe,
            notify_id: NotifyId::Named,
            // §5.3.3.2: an unanswered request is re-sent by the platform, twice, then it times
            // out: the module never ACKs it empty, so every answer goes piggy-backed.
            separate_after: None,
        },
        // The M531X manual has no software-upgrade commands.
        sota: None,
    };
    m.client = Some(Client::open(args, ctx));
    Ok(Reply::ok())
}
