//! The BC39 dialect (Quectel BC39 OneNET 应用指导 V1.0): configuration and the suite instance.
//!
//! State lives in [`config::Config`] (§3.2.1) and [`instance::Instance`] (§3.2.2–3.2.6). Output
//! spacing follows the manual's §5 examples: `+MIPLCONFIG:1,…` and `+MIPLCREATE:0` without a space,
//! `+MIPLVER: …` as its table shows.
//!
//! The Modem drives it through [`Behaviour`] and lends it a `Ctx`; it never reaches into the
//! Modem, nor into another dialect.

pub mod answers;
pub mod config;
pub mod instance;
pub mod render;
pub mod session;
pub mod sota;

use crate::behaviour::Behaviour;
use crate::ctx::Ctx;
use crate::reply::Reply;
use miplcheck_at::dialect::{Dialect, Invocation, BC39};

#[derive(Default)]
pub struct Bc39 {
    pub config: config::Config,
    pub instance: Option<instance::Instance>,
    /// The LwM2M client once `AT+MIPLOPEN` ran.
    pub client: Option<crate::client::Client>,
    /// `AT+MIPLOPEN`s since power-on.
    pub opens: u32,
    /// `AT+QSOTAINFO`: the MCU's software version and package space.
    pub sota: Option<(String, u32)>,
}

impl Behaviour for Bc39 {
    fn dialect(&self) -> &'static Dialect {
        &BC39
    }

    fn default_firmware(&self) -> &'static str {
        // BC39 §1: the manual applies to firmware whose name ends in "_ONT".
        "BC39NBR01A04_ONT"
    }

    fn revision_lines(&self, firmware: &str) -> Vec<String> {
        vec![format!("Revision: {firmware}")]
    }

    fn handle(&mut self, inv: &Invocation, ctx: &mut Ctx) -> Option<Reply> {
        let opts = ctx.opts;
        let r = match inv.command.name.as_str() {
            "+MIPLCONFIG" => config::handle(self, inv),
            "+MIPLCREATE" | "+MIPLDELETE" | "+MIPLADDOBJ" | "+MIPLDELOBJ" => instance::handle(self, inv),
            "+MIPLVER" => Reply::ok().line(format!("+MIPLVER: {}", opts.sdk_version)),
            "+MIPLOPEN" | "+MIPLCLOSE" | "+MIPLUPDATE" => session::handle(self, inv, ctx),
            "+MIPLDISCOVERRSP" | "+MIPLOBSERVERSP" | "+MIPLREADRSP" | "+MIPLWRITERSP" | "+MIPLEXECUTERSP"
            | "+MIPLPARAMETERRSP" | "+MIPLNOTIFY" => answers::handle(self, inv, ctx),
            "+QSOTAINFO" | "+QSOTARESULT" => sota::handle(self, inv, ctx),
            _ => return None,
        };
        Some(r)
    }

    fn render(&mut self, n: &crate::notice::Notice, opts: &crate::options::Options) -> Vec<String> {
        render::render(n, opts, self.config.write_format == 0)
    }

    fn client(&self) -> Option<&crate::client::Client> {
        self.client.as_ref()
    }

    fn client_mut(&mut self) -> Option<&mut crate::client::Client> {
        self.client.as_mut()
    }
}
