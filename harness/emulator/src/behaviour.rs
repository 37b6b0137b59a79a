//! The dialect interface: what the Modem asks of a dialect while it runs one.
//!
//! A dialect module (`bc39`, `m5310a`) implements [`Behaviour`] and answers through the [`Ctx`] it
//! is lent; it never reaches into the Modem. This module names no dialect: which name gets which
//! behaviour is the registry's business. The trait's defaults drive the shared LwM2M client
//! ([`Client`]), which is why the [`Ctx`] the client needs lives in a module of its own.

use crate::client::Client;
use crate::ctx::Ctx;
use crate::notice::Notice;
use crate::options::Options;
use crate::reply::{cme, Reply};
use miplcheck_at::dialect::{Dialect, Invocation};
use miplcheck_at::Stamp;

/// One dialect's MIPL behaviour.
pub trait Behaviour: Send {
    fn dialect(&self) -> &'static Dialect;
    /// What `AT+CGMR` reports when the rig names no firmware.
    fn default_firmware(&self) -> &'static str;
    /// The lines `AT+CGMR` prints.
    fn revision_lines(&self, firmware: &str) -> Vec<String>;
    /// Answers a command of this dialect; `None` when it is not one this behaviour implements.
    fn handle(&mut self, inv: &Invocation, ctx: &mut Ctx) -> Option<Reply>;
    /// The lines a notice prints in this dialect (none: not reported, or held back).
    fn render(&mut self, notice: &Notice, opts: &Options) -> Vec<String>;
    /// The LwM2M client, once `AT+MIPLOPEN` made one.
    fn client(&self) -> Option<&Client>;
    fn client_mut(&mut self) -> Option<&mut Client>;
    /// A datagram from the network.
    fn datagram(&mut self, from: &str, bytes: &[u8], ctx: &mut Ctx) {
        if let Some(c) = self.client_mut() {
            c.datagram(from, bytes, ctx);
        }
    }
    /// Timers due by `ctx.now`.
    fn poll(&mut self, ctx: &mut Ctx) {
        if let Some(c) = self.client_mut() {
            c.poll(ctx);
        }
    }
    /// The error a command with the wrong number of parameters gets.
    fn syntax_error(&self) -> u16 {
        cme::BAD_PARAMETER
    }
    /// When [`Behaviour::poll`] next has something to do.
    fn next_deadline(&self) -> Option<Stamp> {
        self.client().and_then(Client::next_deadline)
    }
}
