//! The M5310-A dialect (China Mobile M531X OneNET AT 指令 V1.6).
//!
//! State: the device instance made by `AT+MIPLCREATE` / `AT+MIPLCREATEEX` ([`device`]), the
//! registration ([`session`]), the TE's answers and `+MIPLNSMI` ([`answers`]), and the downlink
//! queue of `AT+MIPLNMI` modes 1 and 2 ([`downlink`]). Output follows the manual's examples: no
//! space after `:` (`+MIPLEVENT:0,6`), `+CIS ERROR:<n>` errors.
//!
//! The Modem drives it through [`Behaviour`] and lends it a `Ctx`; it never reaches into the
//! Modem, nor into another dialect.

pub mod answers;
pub mod device;
pub mod downlink;
pub mod render;
pub mod session;

use crate::behaviour::Behaviour;
use crate::client::Client;
use crate::ctx::Ctx;
use crate::notice::Notice;
use crate::options::Options;
use crate::reply::Reply;
use miplcheck_at::dialect::{Dialect, Invocation, M5310A};
use std::collections::BTreeMap;

/// `+CIS ERROR` codes (M5310-A §3.1).
pub mod cis {
    /// Syntax: a parameter missing, of the wrong type or out of range.
    pub const SYNTAX: u16 = 601;
    /// Not registered; or registering / already registered.
    pub const REGISTRATION: u16 = 602;
    pub const NOT_ALLOWED: u16 = 651;
    pub const UPLINK_BUSY: u16 = 652;
    /// The device already exists (create); what an operation names does not exist (otherwise).
    pub const RESOURCE: u16 = 653;
}

pub(crate) fn err(code: u16) -> Reply {
    Reply::error(code)
}

#[derive(Default)]
pub struct M5310a {
    pub device: Option<device::Device>,
    /// A configuration stream arriving over several `AT+MIPLCREATE=` commands.
    pub stream: Option<device::Stream>,
    pub client: Option<Client>,
    pub opens: u32,
    pub downlink: downlink::Downlink,
    /// Value types the TE declared per resource (NOTIFY, READRSP): how a write is shown (§1.12).
    pub declared: BTreeMap<(u16, u16, u16), i64>,
}

impl Behaviour for M5310a {
    fn dialect(&self) -> &'static Dialect {
        &M5310A
    }

    fn default_firmware(&self) -> &'static str {
        "M5310-A_V1.6"
    }

    fn revision_lines(&self, firmware: &str) -> Vec<String> {
        vec![format!("Revision:{firmware}")]
    }

    fn syntax_error(&self) -> u16 {
        cis::SYNTAX
    }

    fn handle(&mut self, inv: &Invocation, ctx: &mut Ctx) -> Option<Reply> {
        let r = match inv.command.name.as_str() {
            "+MIPLCREATE" | "+MIPLCREATEEX" | "+MIPLDELETE" | "+MIPLDEVINFO" | "+MIPLADDOBJ" | "+MIPLDELOBJ"
            | "+MIPLDISCOVERRSP" => device::handle(self, inv, ctx),
            "+MIPLOPEN" | "+MIPLUPDATE" | "+MIPLCLOSE" | "+MIPLUPDATESET" | "+MIPLDTLSNAT" | "+MIPLLTRDP" => {
                session::handle(self, inv, ctx)
            }
            "+MIPLNOTIFY" | "+MIPLREADRSP" | "+MIPLWRITERSP" | "+MIPLEXECUTERSP" | "+MIPLPARAMETERRSP"
            | "+MIPLOBSERVERSP" => answers::handle(self, inv, ctx),
            "+MIPLNMI" | "+MIPLMGR" | "+MIPLQMGR" => downlink::handle(self, inv),
            _ => return None,
        };
        Some(r.unwrap_or_else(|e| e))
    }

    fn render(&mut self, n: &Notice, opts: &Options) -> Vec<String> {
        if let Notice::Event(crate::notice::Event::Deregistered) = n {
            // §2.3: the statistics are of this registration.
            self.downlink.clear();
        }
        let lines = render::render(n, opts, &self.declared);
        self.downlink.route(n, lines)
    }

    fn client(&self) -> Option<&crate::client::Client> {
        self.client.as_ref()
    }

    fn client_mut(&mut self) -> Option<&mut crate::client::Client> {
        self.client.as_mut()
    }
}

/// A bound parameter's raw argument.
pub(crate) fn raw<'a>(inv: &'a Invocation, name: &str) -> Option<&'a miplcheck_at::syntax::Arg> {
    inv.bound.as_ref().and_then(|b| b.get(name))
}

/// An integer parameter in range, or `+CIS ERROR:601`.
pub(crate) fn int(inv: &Invocation, name: &str, range: std::ops::RangeInclusive<i64>) -> Result<i64, Reply> {
    raw(inv, name).and_then(|a| a.int()).filter(|n| range.contains(n)).ok_or_else(|| err(cis::SYNTAX))
}

/// `<ref>`: the module has one device instance, 0 (§1.1).
pub(crate) fn check_ref(inv: &Invocation, name: &str) -> Result<(), Reply> {
    int(inv, name, 0..=0).map(|_| ())
}
