//! Software upgrade of the MCU (BC39 §3.2.17, §3.2.18, §4.7 events 51–54, §5.10), on the module's
//! side of LwM2M object 5.
//!
//! The platform reads `/5/0/7` (the version the TE set with `AT+QSOTAINFO`), pushes the package as
//! a Block1 transfer of `PUT /5/0/0` (RFC 7959), executes `/5/0/2`, and once the TE has upgraded
//! and updated its registration, erases the package with an empty `PUT /5/0/0`. Each block reaches
//! the TE as `+MIPLWRITE: 0,<mid>,5,0,0,2,<len>,<hex>,0,0` and is acknowledged only when the TE
//! says it was stored (`AT+QSOTARESULT=3`), so a slow flash slows the transfer, not the module.

use super::{Client, Incoming};
use crate::ctx::Ctx;
use crate::notice::{Event, Notice};
use crate::reply::Reply;
use coap_lite::{CoapOption, MessageClass, Packet, RequestType, ResponseType};
use miplcheck_lwm2m::block::{uint, uint_bytes, Block};
use miplcheck_lwm2m::{wire, ContentFormat, Path};

/// What the TE told the module (`AT+QSOTAINFO`), and a block waiting for its result.
#[derive(Debug, Clone, Default)]
pub struct Sota {
    pub version: String,
    pub mem_size: u32,
    held: Option<(Incoming, u32, bool, u8)>,
}

impl Sota {
    pub fn new(version: String, mem_size: u32) -> Self {
        Sota { version, mem_size, held: None }
    }
}

impl Client {
    /// Handles a request on object 5 instance 0; false when it is not one SOTA uses.
    pub(super) fn sota_request(&mut self, from: &str, req: &Packet, path: Path, ctx: &mut Ctx) -> bool {
        let Some(sota) = self.sota.as_ref() else { return false };
        let method = match req.header.code {
            MessageClass::Request(m) => m,
            _ => return false,
        };
        if path.object != 5 || path.instance != Some(0) {
            return false;
        }
        match (method, path.resource) {
            (RequestType::Get, Some(7)) => {
                let body = (ContentFormat::Text, sota.version.clone().into_bytes());
                self.reply(from, req, ResponseType::Content, Some(body), ctx);
            }
            (RequestType::Post, Some(2)) => {
                ctx.event(Event::SotaUpgrade);
                self.reply(from, req, ResponseType::Changed, None, ctx);
            }
            (RequestType::Put, Some(0)) if req.payload.is_empty() => {
                ctx.event(Event::SotaErase);
                self.reply(from, req, ResponseType::Changed, None, ctx);
            }
            (RequestType::Put, Some(0)) => self.sota_block(from, req, path, ctx),
            _ => return false,
        }
        true
    }

    fn sota_block(&mut self, from: &str, req: &Packet, path: Path, ctx: &mut Ctx) {
        let Block { num, more, szx } = Block::block1(req).unwrap_or(Block { num: 0, more: false, szx: 0 });
        let mem = self.sota.as_ref().map(|s| s.mem_size).unwrap_or(0);
        if num == 0 {
            if uint(req, CoapOption::Size1).is_some_and(|total| total > mem) {
                self.respond_with(from, req, too_large(mem), ctx);
                return;
            }
            ctx.event(Event::SotaDownloading);
        }
        let mid = req.header.message_id;
        let format = wire::number(req, CoapOption::ContentFormat).map(ContentFormat::from_number);
        let n = Notice::Write { mid, path, format, values: vec![(path, req.payload.clone())] };
        ctx.notice(n.clone());
        let held = Incoming {
            from: from.to_string(),
            request: req.clone(),
            path,
            parts: vec![],
            notice: Some(n),
            ack_by: None,
            separate: false,
        };
        if let Some(s) = self.sota.as_mut() {
            s.held = Some((held, num, more, szx));
        }
    }

    /// `AT+QSOTAINFO` while open: what `/5/0/7` reads from now on.
    pub fn set_sota_info(&mut self, version: String, mem_size: u32) {
        match self.sota.as_mut() {
            Some(s) => {
                s.version = version;
                s.mem_size = mem_size;
            }
            None => self.sota = Some(Sota::new(version, mem_size)),
        }
    }

    /// `AT+QSOTARESULT=<result>`: 3 and 4 answer the block waiting; the others are the TE's
    /// record of erase (1, 2), verify (5, 6) and upgrade (7, 8), which the module keeps.
    pub fn sota_result(&mut self, result: i64, ctx: &mut Ctx) -> Reply {
        let Some((held, num, more, szx)) = self.sota.as_mut().and_then(|s| s.held.take()) else {
            return Reply::ok();
        };
        let mut p = Packet::new();
        let code = match (result, more) {
            (3, true) => ResponseType::Continue,
            (3, false) => ResponseType::Changed,
            (4, _) => ResponseType::InternalServerError,
            _ => {
                // Not an answer to the block: keep waiting for one.
                if let Some(s) = self.sota.as_mut() {
                    s.held = Some((held, num, more, szx));
                }
                return Reply::ok();
            }
        };
        p.header.code = MessageClass::Response(code);
        if result == 3 {
            p.add_option(CoapOption::Block1, Block { num, more, szx }.encode());
        }
        self.respond_with(&held.from, &held.request, p, ctx);
        if result == 3 && !more {
            ctx.event(Event::SotaDownloaded);
        }
        Reply::ok()
    }

    pub(super) fn respond_with(&mut self, to: &str, req: &Packet, p: Packet, ctx: &mut Ctx) {
        if let Ok(d) = self.ep.respond(to.to_string(), req, p, ctx.now) {
            self.transmit(&d.peer, d.bytes, ctx);
        }
    }
}

/// RFC 7959 §2.9.3: 4.13, and in Size1 how large a package may be.
pub(super) fn too_large(limit: u32) -> Packet {
    let mut p = Packet::new();
    p.header.code = MessageClass::Response(ResponseType::RequestEntityTooLarge);
    p.add_option(CoapOption::Size1, uint_bytes(limit));
    p
}
