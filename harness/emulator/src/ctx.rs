//! What a handler is lent while it answers a command, a datagram or a timer: the time, the
//! modem-wide settings, the rig's options, and where its URCs and datagrams go.
//!
//! Dialects and the LwM2M client (`client`) both work through a [`Ctx`]; it sits apart
//! from the dialect trait (`behaviour`) because that trait names the client, and the
//! client must not depend on the trait. It knows no dialect and nothing of the Modem that lends
//! it: URCs leave as lines or [`Notice`]s, unframed, and the Modem words, frames and times them.

use crate::notice::{Event, Notice};
use crate::options::Options;
use miplcheck_at::Stamp;

/// Modem-wide settings the basics change and dialects read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basics {
    pub echo: bool,
    pub cmee: u8,
    /// `AT+CEREG=<n>` URC mode.
    pub cereg: u8,
    /// `AT+CSCON=<n>`: whether `+CSCON: <mode>` URCs are printed (BC39 §5.8.5).
    pub cscon: bool,
    /// RRC connection: true while connected.
    pub connected: bool,
    pub cfun: u8,
    pub attached: bool,
    /// A command asked for a reboot once its answer is out (or an installed firmware, at once).
    pub reboot: Option<Reboot>,
    /// What `AT+CGMR` reports and `/3/0/3` reads: the rig's firmware at power-on, the revision a
    /// FOTA package carried once it is installed (kept across reboots; see `Modem::reset`).
    pub revision: String,
    /// The Update Result (LwM2M object 5, resource 5) an installed firmware leaves for the first
    /// registration after its reboot (`crate::client::fota`); kept across that reboot only.
    pub fota_result: Option<u8>,
    /// Reboots since the bench last reset the modem: seeds message IDs and tokens with the opens,
    /// since a module that registers again after a reboot must not repeat its last MIDs.
    pub boots: u32,
}

/// How a command reboots the modem; either way every setting is back to power-on and the LwM2M
/// client is gone without a word to the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reboot {
    /// `AT+CFUN=<fun>,1` (3GPP TS 27.007 §8.2): back at once, at `<fun>`, printing nothing.
    Cfun(u8),
    /// The dialect's reset command ([`miplcheck_at::dialect::Restart`]): deaf for its boot time,
    /// then its banner.
    Restart,
    /// A FOTA package installed (`crate::client::fota`): no answer to print, deaf for the boot
    /// time, then the dialect's banner; the new revision and its result survive it.
    Firmware,
}

impl Basics {
    /// At power-on, running `revision`.
    pub fn power_on(opts: &Options, revision: String) -> Self {
        Basics {
            echo: opts.echo,
            cmee: opts.cmee,
            cereg: 0,
            cscon: false,
            connected: false,
            cfun: 1,
            attached: true,
            reboot: None,
            revision,
            fota_result: None,
            boots: 0,
        }
    }
}

/// Something for the TE: a line as it is, or a notice the dialect words.
#[derive(Debug, Clone, PartialEq)]
pub enum Out {
    Line(String),
    Notice(Notice),
}

/// What a behaviour sees and produces while it handles a command, a datagram or a timer.
pub struct Ctx<'a> {
    pub now: Stamp,
    pub basics: &'a mut Basics,
    pub opts: &'a Options,
    /// What to print (without framing), in order.
    pub urcs: Vec<Out>,
    pub datagrams: Vec<(String, Vec<u8>)>,
}

impl Ctx<'_> {
    pub fn urc(&mut self, line: impl Into<String>) {
        self.urcs.push(Out::Line(line.into()));
    }

    pub fn notice(&mut self, n: Notice) {
        self.urcs.push(Out::Notice(n));
    }

    pub fn event(&mut self, e: Event) {
        self.notice(Notice::Event(e));
    }

    /// Sends a datagram; the radio connection comes up first if it was idle (`+CSCON: 1`).
    pub fn send(&mut self, to: &str, bytes: Vec<u8>) {
        if !self.basics.connected {
            self.basics.connected = true;
            if self.basics.cscon {
                self.urc("+CSCON:1");
            }
        }
        self.datagrams.push((to.to_string(), bytes));
    }

    /// Releases the radio connection (RAI, or the inactivity timer): `+CSCON: 0`.
    pub fn release(&mut self) {
        if self.basics.connected {
            self.basics.connected = false;
            if self.basics.cscon {
                self.urc("+CSCON:0");
            }
        }
    }
}
