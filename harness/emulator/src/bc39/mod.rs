//! The BC39 dialect (Quectel BC39 OneNET 应用指导 V1.0): configuration and the suite instance.
//!
//! State lives in [`config::Config`] (§3.2.1) and [`instance::Instance`] (§3.2.2–3.2.6). Output
//! spacing follows the manual's §5 examples: `+MIPLCONFIG:1,…` and `+MIPLCREATE:0` without a space,
//! `+MIPLVER: …` as its table shows.

pub mod config;
pub mod instance;

use crate::basic::Basics;
use crate::modem::Behaviour;
use crate::options::Options;
use crate::reply::Reply;
use miplcheck_at::dialect::{Dialect, Invocation, BC39};

#[derive(Debug, Default)]
pub struct Bc39 {
    pub config: config::Config,
    pub instance: Option<instance::Instance>,
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

    fn handle(&mut self, inv: &Invocation, _basics: &mut Basics, opts: &Options) -> Option<Reply> {
        let r = match inv.command.name.as_str() {
            "+MIPLCONFIG" => config::handle(self, inv),
            "+MIPLCREATE" | "+MIPLDELETE" | "+MIPLADDOBJ" | "+MIPLDELOBJ" => instance::handle(self, inv),
            "+MIPLVER" => Reply::ok().line(format!("+MIPLVER: {}", opts.sdk_version)),
            _ => return None,
        };
        Some(r)
    }
}
