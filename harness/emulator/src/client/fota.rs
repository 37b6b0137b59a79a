//! The module's own firmware update over OneNET (FOTA), on the module's side of LwM2M object 5
//! (BC39 §4.7 events 40–50; M5310-A §1.1: "FOTA 功能会默认使用 3/0，4/0，5/0 资源").
//!
//! The manuals name only the events. The flow follows OneNET's module SDK (cis,
//! `std_object_firmware.c`), without its code: the platform reads the firmware revision
//! (`/3/0/3`, which the module answers itself), pushes the package (`miplcheck_lwm2m::package`)
//! as a Block1 transfer of `PUT /5/0/0` that the module stores without the TE, executes Update
//! (`/5/0/2`), and once the module is back, reads the revision and Update Result (`/5/0/5`) and
//! erases the package with an empty `PUT /5/0/0`. State (`/5/0/3`) and Update Result are the
//! LwM2M 1.0 object 5 values. The events, as this module reports them:
//!
//! - 40 once the header (in block 0, or the first blocks) names this module; 50 instead when it
//!   names another (4.00, Update Result 6); 41 when the package will not fit (4.13 with Size1,
//!   result 2) or its header is unreadable (4.00, result 6);
//! - 47 when no block came for [`DOWNLOAD_IDLE`] mid-download (result 4): the next block at the
//!   offset reached resumes it silently, block 0 starts again;
//! - 42 the last block stored (state 2);
//! - 43 the Update executed; 45 at once if the image fails its SHA-256 (5.00, result 5, state
//!   back to 2); otherwise [`INSTALL`] later the module reboots into the package's revision
//!   (`ctx::Reboot::Firmware`): the banner, `AT+CGMR` and `/3/0/3` answer the new revision;
//! - 44 at the first registration after that reboot (result 1), 46 when the platform has read
//!   that result;
//! - 48 the package erased (state 0); 49 an erase while the image is being installed (5.00).
//!
//! A dialect whose event table lacks these codes (M5310-A §4.2) says nothing; the wire is the same.
//! Memory is bounded by [`CAPACITY`]: a package larger is refused, never buffered.

use super::Client;
use crate::ctx::{Ctx, Reboot};
use crate::notice::Event;
use coap_lite::{CoapOption, MessageClass, Packet, RequestType, ResponseType};
use miplcheck_lwm2m::block::{uint, Block};
use miplcheck_lwm2m::package::Header;
use miplcheck_lwm2m::{ContentFormat, Path};
use std::time::Duration;

/// The emulator's firmware partition. Neither manual gives one; 64 KiB holds any package in
/// `suites/data/` many times over and makes "too large" cheap to show.
pub const CAPACITY: usize = 64 * 1024;
/// How long a download may go without a block before the module calls it interrupted (47).
pub const DOWNLOAD_IDLE: Duration = Duration::from_secs(5);
/// From the Update's answer to the reboot: the image being written (an erase now fails, 49).
pub const INSTALL: Duration = Duration::from_secs(2);

/// LwM2M 1.0 object 5, resource 3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum State {
    #[default]
    Idle = 0,
    Downloading = 1,
    Downloaded = 2,
    Updating = 3,
}

/// LwM2M 1.0 object 5, resource 5 (Update Result), the values this module sets.
pub mod result {
    pub const INITIAL: u8 = 0;
    pub const SUCCESS: u8 = 1;
    pub const NO_STORAGE: u8 = 2;
    pub const CONNECTION_LOST: u8 = 4;
    pub const INTEGRITY: u8 = 5;
    pub const UNSUPPORTED: u8 = 6;
}

/// Object 5 as the module's firmware update sees it.
#[derive(Debug, Clone, Default)]
pub struct Fota {
    state: State,
    result: u8,
    /// The package so far, header included; at most [`CAPACITY`] bytes.
    package: Vec<u8>,
    header: Option<Header>,
    /// While downloading: when the download counts as interrupted.
    idle_at: Option<Duration>,
    /// While updating: when the module reboots into the new image.
    install_at: Option<Duration>,
    /// After the reboot: 44 is due at the registration, 46 once the platform read the result.
    after_boot: AfterBoot,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
enum AfterBoot {
    #[default]
    Nothing,
    Register,
    ResultRead,
}

impl Fota {
    /// At `AT+MIPLOPEN`: what a firmware installed before the last reboot left (`Basics`).
    pub fn after_boot(result: Option<u8>) -> Self {
        match result {
            Some(r) => Fota { result: r, after_boot: AfterBoot::Register, ..Fota::default() },
            None => Fota::default(),
        }
    }

    pub fn state(&self) -> State {
        self.state
    }

    pub fn result(&self) -> u8 {
        self.result
    }

    pub(super) fn deadline(&self) -> Option<Duration> {
        [self.idle_at, self.install_at].into_iter().flatten().min()
    }

    fn stop(&mut self, state: State, result: u8) {
        self.state = state;
        self.result = result;
        self.idle_at = None;
        if state == State::Idle {
            self.package.clear();
            self.header = None;
        }
    }
}

impl Client {
    /// Handles a FOTA request (`/3/0/3`, `/5/0/*`); false when it is not one. Object 5 is the
    /// MCU's while a SOTA is set up (BC39 §3.2.17; the SDK's switch to MCU update).
    pub(super) fn fota_request(&mut self, from: &str, req: &Packet, path: Path, ctx: &mut Ctx) -> bool {
        let MessageClass::Request(method) = req.header.code else { return false };
        if path == Path::resource(3, 0, 3) && method == RequestType::Get {
            let body = (ContentFormat::Text, ctx.basics.revision.clone().into_bytes());
            self.reply(from, req, ResponseType::Content, Some(body), ctx);
            return true;
        }
        if path.object != 5 || path.instance != Some(0) || self.sota.is_some() {
            return false;
        }
        let text = |n: u8| Some((ContentFormat::Text, n.to_string().into_bytes()));
        match (method, path.resource) {
            (RequestType::Get, Some(3)) => {
                self.reply(from, req, ResponseType::Content, text(self.fota.state as u8), ctx)
            }
            (RequestType::Get, Some(5)) => {
                self.reply(from, req, ResponseType::Content, text(self.fota.result), ctx);
                if self.fota.after_boot == AfterBoot::ResultRead {
                    self.fota.after_boot = AfterBoot::Nothing;
                    ctx.event(Event::FotaUpdateOver);
                }
            }
            (RequestType::Put, Some(0)) if req.payload.is_empty() => self.fota_erase(from, req, ctx),
            (RequestType::Put, Some(0)) => self.fota_block(from, req, ctx),
            (RequestType::Post, Some(2)) => self.fota_update(from, req, ctx),
            _ => return false,
        }
        true
    }

    fn fota_erase(&mut self, from: &str, req: &Packet, ctx: &mut Ctx) {
        if self.fota.state == State::Updating {
            ctx.event(Event::FotaEraseFailed);
            self.reply(from, req, ResponseType::InternalServerError, None, ctx);
            return;
        }
        self.fota.stop(State::Idle, result::INITIAL);
        ctx.event(Event::FotaErased);
        self.reply(from, req, ResponseType::Changed, None, ctx);
    }

    fn fota_block(&mut self, from: &str, req: &Packet, ctx: &mut Ctx) {
        let Block { num, more, szx } = Block::block1(req).unwrap_or(Block { num: 0, more: false, szx: 6 });
        let f = &mut self.fota;
        if num == 0 {
            if matches!(f.state, State::Updating) {
                self.reply(from, req, ResponseType::BadRequest, None, ctx);
                return;
            }
            f.stop(State::Idle, result::INITIAL);
            if uint(req, CoapOption::Size1).is_some_and(|total| total as usize > CAPACITY) {
                f.result = result::NO_STORAGE;
                ctx.event(Event::FotaDownloadFailed);
                self.respond_with(from, req, super::sota::too_large(CAPACITY as u32), ctx);
                return;
            }
            f.state = State::Downloading;
        } else if f.state != State::Downloading || num as usize * (16usize << szx) != f.package.len() {
            // RFC 7959 §2.9.2: not the block that continues what the module holds.
            self.reply(from, req, ResponseType::RequestEntityIncomplete, None, ctx);
            return;
        } else if f.result == result::CONNECTION_LOST {
            // The SDK resumes an interrupted download where it stopped.
            f.result = result::INITIAL;
        }
        if f.package.len() + req.payload.len() > CAPACITY {
            f.stop(State::Idle, result::NO_STORAGE);
            ctx.event(Event::FotaDownloadFailed);
            self.respond_with(from, req, super::sota::too_large(CAPACITY as u32), ctx);
            return;
        }
        f.package.extend_from_slice(&req.payload);
        if f.header.is_none() {
            match Header::parse(&f.package) {
                Ok(None) => {}
                Ok(Some(h)) if h.model != self.profile.model => {
                    f.stop(State::Idle, result::UNSUPPORTED);
                    ctx.event(Event::FotaNotForModule);
                    self.reply(from, req, ResponseType::BadRequest, None, ctx);
                    return;
                }
                Ok(Some(h)) => {
                    // The download begins once the package is known to be for this module.
                    f.header = Some(h);
                    ctx.event(Event::FotaDownloading);
                }
                Err(_) => {
                    f.stop(State::Idle, result::UNSUPPORTED);
                    ctx.event(Event::FotaDownloadFailed);
                    self.reply(from, req, ResponseType::BadRequest, None, ctx);
                    return;
                }
            }
        }
        if more {
            f.idle_at = Some(ctx.now + DOWNLOAD_IDLE);
        } else if f.header.is_none() {
            f.stop(State::Idle, result::UNSUPPORTED);
            ctx.event(Event::FotaDownloadFailed);
            self.reply(from, req, ResponseType::BadRequest, None, ctx);
            return;
        } else {
            f.idle_at = None;
            f.state = State::Downloaded;
        }
        let mut p = Packet::new();
        p.header.code = MessageClass::Response(if more { ResponseType::Continue } else { ResponseType::Changed });
        p.add_option(CoapOption::Block1, Block { num, more, szx }.encode());
        self.respond_with(from, req, p, ctx);
        if !more {
            ctx.event(Event::FotaDownloaded);
        }
    }

    fn fota_update(&mut self, from: &str, req: &Packet, ctx: &mut Ctx) {
        let f = &mut self.fota;
        let Some(h) = f.header.clone().filter(|_| f.state == State::Downloaded) else {
            // The SDK: nothing downloaded to install, or an install already running.
            self.reply(from, req, ResponseType::BadRequest, None, ctx);
            return;
        };
        ctx.event(Event::FotaUpdating);
        if !h.verifies(&f.package[h.len.min(f.package.len())..]) {
            f.result = result::INTEGRITY;
            ctx.event(Event::FotaUpdateFailed);
            self.reply(from, req, ResponseType::InternalServerError, None, ctx);
            return;
        }
        f.state = State::Updating;
        f.install_at = Some(ctx.now + INSTALL);
        self.reply(from, req, ResponseType::Changed, None, ctx);
    }

    /// The download's and the install's timers.
    pub(super) fn fota_poll(&mut self, ctx: &mut Ctx) {
        let f = &mut self.fota;
        if f.idle_at.is_some_and(|t| ctx.now >= t) {
            f.idle_at = None;
            f.result = result::CONNECTION_LOST;
            ctx.event(Event::FotaInterrupted);
        }
        if f.install_at.is_some_and(|t| ctx.now >= t) {
            f.install_at = None;
            if let Some(h) = f.header.take() {
                ctx.basics.revision = h.revision;
            }
            ctx.basics.fota_result = Some(result::SUCCESS);
            ctx.basics.reboot = Some(Reboot::Firmware);
        }
    }

    /// Registered: after a firmware's reboot, the update it was succeeded (44).
    pub(super) fn fota_registered(&mut self, ctx: &mut Ctx) {
        if self.fota.after_boot == AfterBoot::Register {
            self.fota.after_boot = AfterBoot::ResultRead;
            ctx.event(Event::FotaUpdated);
        }
    }
}
