//! The device instance and its objects (M5310-A §1.1–§1.5, §2.5, §2.6): `AT+MIPLCREATE` (plain, or
//! a configuration stream in fragments), `AT+MIPLCREATEEX`, `AT+MIPLDELETE`, `AT+MIPLDEVINFO?`,
//! `AT+MIPLADDOBJ`, `AT+MIPLDELOBJ`, `AT+MIPLDISCOVERRSP`.

use super::{check_ref, cis, err, int, raw, M5310a};
use crate::client::values::resource_list;
use crate::ctx::Ctx;
use crate::reply::Reply;
use miplcheck_at::cis_config::CisConfig;
use miplcheck_at::dialect::Invocation;
use miplcheck_at::syntax::Form;
use std::collections::BTreeMap;

/// Where plain `AT+MIPLCREATE` bootstraps (§1.1: "the Chongqing platform", §5.3.1.2's host).
pub const DEFAULT_HOST: &str = "nbiotbt.heclouds.com:5683";
/// The port that turns DTLS on (§2.5).
pub const DTLS_PORT: u16 = 5684;
/// Longest PSK (§2.5: "at most 16 bytes").
pub const MAX_PSK: usize = 16;

#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    /// `host:port` as configured (the port defaults to 5683).
    pub host: String,
    /// `<flag>` of CREATEEX: bit 0 bootstrap, bit 1 monitor off, bits 2–3 debug.
    pub flag: u8,
    pub authcode: Option<String>,
    pub psk: Option<String>,
    pub objects: Vec<(u16, Vec<u16>)>,
    /// Resource lists declared for discover (§1.5).
    pub discover: BTreeMap<u16, Vec<u16>>,
    /// `AT+MIPLUPDATESET` (§2.4).
    pub auto_update: bool,
    /// `AT+MIPLDTLSNAT` renegotiation interval in seconds; 0 off (§2.7: 120 by default).
    pub dtls_nat: u32,
}

impl Device {
    pub fn new(host: &str, flag: u8) -> Self {
        let host = if host.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
            host.to_string()
        } else {
            format!("{host}:5683")
        };
        Device {
            host,
            flag,
            authcode: None,
            psk: None,
            objects: vec![],
            discover: BTreeMap::new(),
            auto_update: false,
            dtls_nat: 120,
        }
    }

    pub fn bootstrap(&self) -> bool {
        self.flag & 1 == 1
    }

    pub fn dtls(&self) -> bool {
        self.host.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok()) == Some(DTLS_PORT)
    }
}

/// A configuration stream being received: `<index>` counts down to 0, `<flag>` 0 ends it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    total: usize,
    next_index: i64,
    bytes: Vec<u8>,
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    miplcheck_lwm2m::wire::unhex(s)
}

/// Between OPEN and CLOSE: the resource lists are in use.
fn registering(m: &M5310a) -> bool {
    m.client.as_ref().is_some_and(|c| c.registered() || c.registering())
}

pub fn handle(m: &mut M5310a, inv: &Invocation, ctx: &mut Ctx) -> Result<Reply, Reply> {
    let name = inv.command.name.as_str();
    match (name, inv.command.form) {
        ("+MIPLCREATE", Form::Exec) => create(m, Device::new(DEFAULT_HOST, 1), "+MIPLCREATE"),
        ("+MIPLCREATE", _) => stream(m, inv),
        ("+MIPLCREATEEX", _) => {
            let host = raw(inv, "host").filter(|a| !a.value().is_empty()).ok_or_else(|| err(cis::SYNTAX))?;
            let flag = int(inv, "flag", 0..=15)? as u8;
            let mut d = Device::new(host.value(), flag);
            d.authcode = raw(inv, "authcode").map(|a| a.value().to_string()).filter(|s| !s.is_empty());
            if let Some(psk) = raw(inv, "PSK").map(|a| a.value().to_string()).filter(|s| !s.is_empty()) {
                if psk.len() > MAX_PSK || !psk.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    return Err(err(cis::SYNTAX));
                }
                d.psk = Some(psk);
            }
            create(m, d, "+MIPLCREATEEX")
        }
        ("+MIPLDEVINFO", _) => devinfo(m),
        _ => {
            check_ref(inv, "ref")?;
            if name == "+MIPLDELETE" {
                // §1.2: a registered device's socket is simply closed, no deregistration.
                m.device.take().ok_or_else(|| err(cis::RESOURCE))?;
                m.client = None;
                m.downlink.clear();
                return Ok(Reply::ok());
            }
            let busy = registering(m);
            let d = m.device.as_mut().ok_or_else(|| err(cis::RESOURCE))?;
            let objid = int(inv, "objid", 0..=65535)? as u16;
            match name {
                "+MIPLADDOBJ" => {
                    let count = int(inv, "inscount", 1..=255)? as usize;
                    let bitmap = raw(inv, "bitmap").ok_or_else(|| err(cis::SYNTAX))?;
                    let bits = bitmap.value();
                    if bits.len() != count || !bits.bytes().all(|b| b == b'0' || b == b'1') {
                        return Err(err(cis::SYNTAX));
                    }
                    int(inv, "atts", 0..=65535)?;
                    int(inv, "acts", 0..=65535)?;
                    if d.objects.iter().any(|(o, _)| *o == objid) {
                        return Err(err(cis::RESOURCE));
                    }
                    let instances = bits.bytes().enumerate().filter(|(_, b)| *b == b'1').map(|(i, _)| i as u16);
                    d.objects.push((objid, instances.collect()));
                }
                "+MIPLDELOBJ" => {
                    let before = d.objects.len();
                    d.objects.retain(|(o, _)| *o != objid);
                    if d.objects.len() == before {
                        return Err(err(cis::RESOURCE));
                    }
                    d.discover.remove(&objid);
                }
                _ => {
                    // DISCOVERRSP: `<result>` is reserved, 1 (§1.5); used before registering.
                    int(inv, "result", 0..=255)?;
                    let len = int(inv, "length", 0..=1024)? as usize;
                    let data = raw(inv, "data").ok_or_else(|| err(cis::SYNTAX))?;
                    if data.value().len() != len {
                        return Err(err(cis::SYNTAX));
                    }
                    let ids = resource_list(data.value(), ctx.opts.quirks.discover_list_trailing_semicolon)
                        .ok_or_else(|| err(cis::SYNTAX))?;
                    if !d.objects.iter().any(|(o, _)| *o == objid) {
                        return Err(err(cis::RESOURCE));
                    }
                    if busy {
                        return Err(err(cis::NOT_ALLOWED));
                    }
                    d.discover.insert(objid, ids);
                }
            }
            Ok(Reply::ok())
        }
    }
}

fn create(m: &mut M5310a, d: Device, answer: &str) -> Result<Reply, Reply> {
    // §3.1 653: the device already exists.
    if m.device.is_some() {
        return Err(err(cis::RESOURCE));
    }
    m.device = Some(d);
    Ok(Reply::ok().line(format!("{answer}:0")))
}

/// `AT+MIPLCREATE=<totalsize>,<config>,<index>,<currentsize>,<flag>` (§1.1, §5.3.1.2).
fn stream(m: &mut M5310a, inv: &Invocation) -> Result<Reply, Reply> {
    if m.device.is_some() {
        return Err(err(cis::RESOURCE));
    }
    let total = int(inv, "totalsize", 1..=4096)? as usize;
    let index = int(inv, "index", 0..=255)?;
    let current = int(inv, "currentsize", 1..=4096)? as usize;
    let flag = int(inv, "flag", 0..=1)?;
    let bytes = raw(inv, "config").and_then(|a| unhex(a.value())).ok_or_else(|| err(cis::SYNTAX))?;
    // A fragment that does not fit what came before ends the stream.
    let fits = |s: &Stream| s.total == total && s.next_index == index;
    let mut s = match m.stream.take() {
        Some(s) if fits(&s) => s,
        _ => Stream { total, next_index: index, bytes: vec![] },
    };
    if bytes.len() != current || s.bytes.len() + bytes.len() > total || (flag == 0) != (index == 0) {
        return Err(err(cis::SYNTAX));
    }
    s.bytes.extend(bytes);
    if flag == 1 {
        s.next_index = index - 1;
        m.stream = Some(s);
        return Ok(Reply::ok());
    }
    if s.bytes.len() != total {
        return Err(err(cis::SYNTAX));
    }
    let cfg = CisConfig::parse(&s.bytes).map_err(|e| {
        tracing::debug!("AT+MIPLCREATE: {e}");
        err(cis::SYNTAX)
    })?;
    let mut d = Device::new(&cfg.host, u8::from(cfg.bootstrap));
    d.authcode = cfg.userdata_value("AuthCode").map(str::to_string);
    d.psk = cfg.userdata_value("PSK").map(str::to_string);
    create(m, d, "+MIPLCREATE")
}

/// `AT+MIPLDEVINFO?` (§2.6): the server in use now — after a bootstrap, the one it named.
fn devinfo(m: &M5310a) -> Result<Reply, Reply> {
    let d = m.device.as_ref().ok_or_else(|| err(cis::RESOURCE))?;
    let (mut host, mut flag, mut psk) = (d.host.clone(), d.flag, d.psk.clone());
    if let Some(c) = m.client.as_ref().filter(|c| c.bootstrapped()) {
        let (server, key) = c.server();
        host = server.to_string();
        flag &= !1;
        psk = key.map(|k| String::from_utf8_lossy(k).into_owned());
    }
    let mut line = format!("+MIPLDEVINFO:\"{host}\",{flag}");
    if d.authcode.is_some() || psk.is_some() {
        match &d.authcode {
            Some(a) => line.push_str(&format!(",\"{a}\"")),
            None => line.push(','),
        }
    }
    if let Some(k) = psk {
        line.push_str(&format!(",\"{k}\""));
    }
    Ok(Reply::ok().line(line))
}
