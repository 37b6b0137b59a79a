//! The modem core: TE bytes in, timed emissions out. No clock of its own: the caller says what
//! time it is, so the same core runs in real time (serve) and in virtual time (sim).
//!
//! It owns what every dialect shares (echo, line assembly, answer order and delays, the rig's
//! quirks, framing) and names no dialect: it gets its [`Behaviour`] from the registry and speaks to
//! it only through that trait and the [`Ctx`] it lends.

use crate::basic;
use crate::behaviour::Behaviour;
use crate::ctx::{Basics, Ctx, Out, Reboot};
use crate::faults::Counters;
use crate::options::{Options, OptionsError};
use crate::registry::behaviour_for;
use crate::reply::{cme, Reply};
use miplcheck_at::dialect::{Dialect, Invocation, Misfit};
use miplcheck_at::syntax::Command;
use miplcheck_at::Stamp;

/// Bytes the modem sends, due at `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Emission {
    pub at: Stamp,
    pub bytes: Vec<u8>,
}

/// A datagram the modem sends to `to` (`host:port` as configured), due at `at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetOut {
    pub at: Stamp,
    pub to: String,
    pub bytes: Vec<u8>,
}

/// Quirk `urc-before-ok`: how long a final result waits for the URC its command's datagram brings.
const HOLD_FOR_URC: Stamp = Stamp::from_millis(250);

/// The longest command line accepted; longer input is dropped with `ERROR`, as modems do.
const MAX_COMMAND: usize = 4096;

pub struct Modem {
    opts: Options,
    basics: Basics,
    behaviour: Box<dyn Behaviour>,
    line: Vec<u8>,
    overflow: bool,
    busy_until: Stamp,
    outbox: Vec<NetOut>,
    /// Quirk `urc-before-ok`: a command's final result held until the URC it caused is out.
    held: Option<(Emission, Stamp)>,
    /// After the dialect's reset command: until then the firmware is booting and hears nothing.
    booting_until: Stamp,
    /// How far the rig's faults have got: kept across [`Modem::reset`], as the faults count from
    /// the modem's creation.
    faults: Counters,
    /// The rig's own event codes (`[emulator.quirks] events`), which a case's are laid over.
    rig_events: std::collections::BTreeMap<String, u16>,
    /// A case's event codes ([`Modem::set_case_events`]), in force from the next reset.
    case_events: std::collections::BTreeMap<String, u16>,
}

impl Modem {
    pub fn new(opts: Options) -> Result<Self, OptionsError> {
        opts.validate()?;
        let behaviour = behaviour_for(&opts.dialect)?;
        let revision = rig_revision(&opts, behaviour.as_ref());
        Ok(Modem {
            basics: Basics::power_on(&opts, revision),
            rig_events: opts.quirks.events.clone(),
            case_events: Default::default(),
            opts,
            behaviour,
            line: vec![],
            overflow: false,
            busy_until: Stamp::ZERO,
            outbox: vec![],
            held: None,
            booting_until: Stamp::ZERO,
            faults: Counters::default(),
        })
    }

    /// A datagram from the network at `now`; returns what the TE sees (URCs).
    pub fn datagram(&mut self, from: &str, bytes: &[u8], now: Stamp) -> Vec<Emission> {
        if self.wedged() {
            return vec![];
        }
        let mut ctx = Ctx { now, basics: &mut self.basics, opts: &self.opts, urcs: vec![], datagrams: vec![] };
        self.behaviour.datagram(from, bytes, &mut ctx);
        let (urcs, dgs) = (ctx.urcs, ctx.datagrams);
        let mut out = self.flush(now, urcs, dgs);
        out.extend(self.installed(now));
        out
    }

    /// A FOTA package installed by a datagram or a timer (`Reboot::Firmware`): the reboot, at once.
    fn installed(&mut self, now: Stamp) -> Vec<Emission> {
        match self.basics.reboot.take() {
            Some(r) => self.reboot(r, None, now),
            None => vec![],
        }
    }

    /// Timers due by `now` (retransmissions, registration time-out, lifetime, radio release).
    pub fn poll(&mut self, now: Stamp) -> Vec<Emission> {
        if self.wedged() {
            return vec![];
        }
        let mut ctx = Ctx { now, basics: &mut self.basics, opts: &self.opts, urcs: vec![], datagrams: vec![] };
        self.behaviour.poll(&mut ctx);
        let (urcs, dgs) = (ctx.urcs, ctx.datagrams);
        let mut out = self.flush(now, urcs, dgs);
        out.extend(self.installed(now));
        if self.held.as_ref().is_some_and(|(_, until)| now >= *until) {
            out.extend(self.held.take().map(|(e, _)| e));
        }
        out
    }

    pub fn next_deadline(&self) -> Option<Stamp> {
        if self.wedged() {
            // A wedged firmware has no timers: nothing is due, ever.
            return None;
        }
        let held = self.held.as_ref().map(|(_, until)| *until);
        [self.behaviour.next_deadline(), held].into_iter().flatten().min()
    }

    /// Datagrams to send, in order.
    pub fn take_datagrams(&mut self) -> Vec<NetOut> {
        std::mem::take(&mut self.outbox)
    }

    /// URCs go out after any answer already scheduled, so a URC a command caused follows its `OK`.
    fn flush(&mut self, now: Stamp, urcs: Vec<Out>, datagrams: Vec<(String, Vec<u8>)>) -> Vec<Emission> {
        let at = now.max(self.busy_until);
        self.outbox.extend(datagrams.into_iter().map(|(to, bytes)| NetOut { at: now, to, bytes }));
        let lines = self.words(urcs);
        let mut out: Vec<Emission> =
            lines.into_iter().map(|u| Emission { at, bytes: format!("\r\n{u}\r\n").into_bytes() }).collect();
        if !out.is_empty() {
            if let Some((mut e, _)) = self.held.take() {
                e.at = e.at.max(at);
                out.push(e);
            }
        }
        out
    }

    /// Notices in the dialect's words, then the rig's spacing quirks over every line.
    fn words(&mut self, outs: Vec<Out>) -> Vec<String> {
        let mut lines = vec![];
        for o in outs {
            match o {
                Out::Line(l) => lines.push(l),
                Out::Notice(n) => lines.extend(self.behaviour.render(&n, &self.opts)),
            }
        }
        lines.into_iter().map(|l| self.opts.quirks.respace(&l)).collect()
    }

    /// Fault `hang_after`: the modem has received its last command line and answers nothing,
    /// whatever comes, until it is made anew (a reset does not cure it).
    pub fn wedged(&self) -> bool {
        self.faults.wedged(&self.opts.faults)
    }

    pub fn dialect(&self) -> &'static Dialect {
        self.behaviour.dialect()
    }

    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Power cycle: every setting back to its power-on value (BC39 §3.2: "掉电后不保存"), on
    /// the rig's firmware: a revision a FOTA installed is gone, as if the bench had flashed the
    /// rig's firmware back, so every case starts from the rig (a reboot keeps it; see `reboot`).
    /// The rig's faults keep counting: a wedged modem stays wedged (`[emulator.faults]`).
    pub fn reset(&mut self) {
        let mut events = self.rig_events.clone();
        events.extend(self.case_events.iter().map(|(k, v)| (k.clone(), *v)));
        self.opts.quirks.events = events;
        self.behaviour = behaviour_for(&self.opts.dialect).expect("validated at construction");
        self.basics = Basics::power_on(&self.opts, rig_revision(&self.opts, self.behaviour.as_ref()));
        self.line.clear();
        self.overflow = false;
        self.busy_until = Stamp::ZERO;
        self.outbox.clear();
        self.held = None;
        self.booting_until = Stamp::ZERO;
    }

    /// Event codes by event name over the rig's (a suite case's `emulator-events`: a reading
    /// only a manual's example gives, M5310-A §5.3.4's 20 for a deregistration), from the next
    /// [`Modem::reset`] on, as a bench sets up a firmware before a case; an empty map brings back
    /// the rig's codes. Names the emulator does not report are ignored, as the suite checked them.
    pub fn set_case_events(&mut self, events: std::collections::BTreeMap<String, u16>) {
        self.case_events = events;
    }

    /// The bench has flashed the firmware the modem now runs (a FOTA install it rebooted into):
    /// from now on [`Modem::reset`] brings this revision back instead of the rig's, as a module
    /// keeps what was written to its flash. Nothing else changes.
    pub fn keep_firmware(&mut self) {
        self.opts.firmware = Some(self.basics.revision.clone());
    }

    /// What a bootloader does with an image a bench tool wrote to the module's flash (not over
    /// the air): a miplcheck package (`docs/dialects.md` "FOTA") for this model whose image
    /// matches its header becomes the firmware, and the modem powers on into it; every later
    /// [`Modem::reset`] keeps it. Anything else is refused with why, and the firmware stays, as a
    /// module that rejects an image boots the one it had.
    pub fn flash(&mut self, package: &[u8]) -> Result<String, String> {
        let h = miplcheck_lwm2m::package::parse(package).map_err(|e| e.to_string())?;
        let model = self.dialect().model;
        if h.model != model {
            return Err(format!("the package is for {}, not {model}", h.model));
        }
        if !h.verifies(&package[h.len..]) {
            return Err("its image does not match the header's SHA-256".into());
        }
        self.opts.firmware = Some(h.revision.clone());
        self.reset();
        Ok(h.revision)
    }

    /// When the firmware hears the TE again after the dialect's reset command (now, if it is up).
    pub fn ready_at(&self) -> Stamp {
        self.booting_until
    }

    /// Bytes from the TE at `now`.
    /// Bytes after the line that wedges the modem (fault `hang_after`) are neither echoed nor read;
    /// nor are bytes that come while the firmware boots after the dialect's reset command.
    pub fn input(&mut self, bytes: &[u8], now: Stamp) -> Vec<Emission> {
        let mut out = Vec::new();
        let echo = self.basics.echo;
        let mut read = 0;
        for &b in bytes {
            if self.wedged() || now < self.booting_until {
                break;
            }
            read += 1;
            match b {
                // V.250 §5.2.1 ends a line with S3 (`\r`); terminals and `socat -` send `\n`,
                // which real modules take too. `\r\n` runs the line once: the `\n` finds it empty.
                b'\r' | b'\n' => {
                    let line = std::mem::take(&mut self.line);
                    if std::mem::take(&mut self.overflow) {
                        self.faults.line();
                        out.push(self.answer("", Reply::unknown(), now));
                    } else if !line.iter().all(|c| c.is_ascii_whitespace()) {
                        self.faults.line();
                        out.extend(self.execute(&String::from_utf8_lossy(&line), now));
                    }
                }
                _ if self.line.len() >= MAX_COMMAND => self.overflow = true,
                _ => self.line.push(b),
            }
        }
        if echo && read > 0 {
            out.insert(0, Emission { at: now, bytes: bytes[..read].to_vec() });
        }
        out
    }

    fn execute(&mut self, line: &str, now: Stamp) -> Vec<Emission> {
        // A line that is not a command has no name a rig could pick (plain `AT` is "").
        let name = Command::parse(line).map(|c| c.name).unwrap_or_else(|_| "\u{0}garbage".into());
        if self.opts.is_silent(&name) {
            tracing::debug!(command = %name, "no answer: silent by rig option");
            return vec![];
        }
        if self.faults.fails(&self.opts.faults, &name) {
            tracing::debug!(command = %name, "ERROR: fail_first by rig option");
            return vec![self.answer(&name, Reply::unknown(), now)];
        }
        let (reply, urcs, datagrams) = match self.dialect().read_command(line) {
            Err(Misfit::Arity { .. }) => (Reply::error(self.behaviour.syntax_error()), vec![], vec![]),
            Err(_) => (Reply::unknown(), vec![], vec![]),
            Ok(inv) => self.dispatch(&inv, now),
        };
        let answer = self.answer(&name, reply, now);
        if let Some(reboot) = self.basics.reboot.take() {
            return self.reboot(reboot, Some(answer), now);
        }
        let networked = !datagrams.is_empty();
        let mut urcs = self.flush(now, urcs, datagrams);
        if self.opts.quirks.urc_before_ok && urcs.is_empty() && networked {
            // The answer from the network comes first: hold the final result until it has.
            let until = answer.at.saturating_add(HOLD_FOR_URC);
            self.busy_until = self.busy_until.max(until);
            self.held = Some((answer, until));
            return vec![];
        }
        if self.opts.quirks.urc_before_ok {
            // The URC a command caused overtakes the command's own final result code.
            for u in &mut urcs {
                u.at = answer.at;
            }
            urcs.push(answer);
            return urcs;
        }
        let mut out = vec![answer];
        out.extend(urcs);
        out
    }

    /// The answer (if a command caused it) is out first; everything after it meets a modem just
    /// powered on: the LwM2M client is dropped without a deregistration, so the platform sees the
    /// device vanish. The installed firmware stays (and, after a FOTA install, the result it left
    /// for the next registration); the faults keep counting, as for any reset.
    fn reboot(&mut self, reboot: Reboot, answer: Option<Emission>, now: Stamp) -> Vec<Emission> {
        let revision = std::mem::take(&mut self.basics.revision);
        let fota_result = self.basics.fota_result.take();
        let boots = self.basics.boots.wrapping_add(1);
        self.reset();
        self.basics.revision = revision;
        self.basics.boots = boots;
        let restart = &self.dialect().restart;
        let banner = |closing: bool| -> Vec<u8> {
            let closing = restart.closing.iter().filter(|_| closing);
            restart.banner.iter().chain(closing).map(|l| format!("\r\n{l}\r\n")).collect::<String>().into_bytes()
        };
        let at = answer.as_ref().map_or(now, |a| a.at);
        match reboot {
            Reboot::Cfun(fun) => {
                basic::set_fun(&mut self.basics, fun.into());
                self.busy_until = at;
                answer.into_iter().collect()
            }
            Reboot::Restart => {
                let mut answer = answer.unwrap_or(Emission { at, bytes: vec![] });
                if restart.answer != "OK" {
                    answer.bytes = format!("\r\n{}\r\n", restart.answer).into_bytes();
                }
                let up = at.saturating_add(Stamp::from_millis(restart.boot_ms));
                self.booting_until = up;
                self.busy_until = up;
                vec![answer, Emission { at: up, bytes: banner(true) }]
            }
            Reboot::Firmware => {
                // No command to close: the banner without the reset command's final result.
                self.basics.fota_result = fota_result;
                let up = at.saturating_add(Stamp::from_millis(restart.boot_ms));
                self.booting_until = up;
                self.busy_until = up;
                vec![Emission { at: up, bytes: banner(false) }]
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn dispatch(&mut self, inv: &Invocation, now: Stamp) -> (Reply, Vec<Out>, Vec<(String, Vec<u8>)>) {
        // A test form prints what the dialect table says the manual shows.
        if let (miplcheck_at::syntax::Form::Test, Some(t)) = (inv.command.form, inv.spec.test_response) {
            return (Reply::ok().line(t), vec![], vec![]);
        }
        let radio = self.basics.cfun;
        if let Some(r) = basic::handle(inv, &mut self.basics, &self.opts, self.behaviour.as_ref()) {
            if self.basics.cfun == radio {
                return (r, vec![], vec![]);
            }
            // The radio went on or off: the LwM2M client hears of it now (off stops an open
            // instance, BC39 §4.7 event 10), its URCs after the command's answer.
            let mut ctx = Ctx { now, basics: &mut self.basics, opts: &self.opts, urcs: vec![], datagrams: vec![] };
            self.behaviour.poll(&mut ctx);
            return (r, ctx.urcs, ctx.datagrams);
        }
        let mut ctx = Ctx { now, basics: &mut self.basics, opts: &self.opts, urcs: vec![], datagrams: vec![] };
        let r = self.behaviour.handle(inv, &mut ctx).unwrap_or_else(|| Reply::error(cme::NOT_SUPPORTED));
        (r, ctx.urcs, ctx.datagrams)
    }

    fn answer(&mut self, name: &str, mut reply: Reply, now: Stamp) -> Emission {
        // Commands are answered in order: a second command waits for the first one's answer.
        let at = now.max(self.busy_until).saturating_add(self.opts.delay_for(name));
        self.busy_until = at;
        reply.lines = reply.lines.iter().map(|l| self.opts.quirks.respace(l)).collect();
        Emission { at, bytes: reply.render(self.basics.cmee, self.dialect()) }
    }
}

/// The revision the rig names, or the dialect's own.
fn rig_revision(opts: &Options, behaviour: &dyn Behaviour) -> String {
    opts.firmware.clone().unwrap_or_else(|| behaviour.default_firmware().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn modem() -> Modem {
        Modem::new(Options::for_dialect("bc39")).unwrap()
    }

    fn text(e: &[Emission]) -> String {
        e.iter().map(|e| String::from_utf8_lossy(&e.bytes).into_owned()).collect()
    }

    #[test]
    fn echoes_then_answers() {
        let mut m = modem();
        let out = m.input(b"AT\r", Stamp::ZERO);
        assert_eq!(text(&out), "AT\r\r\nOK\r\n");
    }

    #[test]
    fn a_command_split_across_writes() {
        let mut m = modem();
        assert_eq!(text(&m.input(b"ATE0", Stamp::ZERO)), "ATE0");
        assert_eq!(text(&m.input(b"\r", Stamp::ZERO)), "\r\r\nOK\r\n");
        assert_eq!(text(&m.input(b"AT\r\n", Stamp::ZERO)), "\r\nOK\r\n", "no echo after ATE0; LF ignored");
    }

    #[test]
    fn unknown_commands_and_garbage() {
        let mut m = modem();
        m.input(b"ATE0\r", Stamp::ZERO);
        assert_eq!(text(&m.input(b"AT+NOPE\r", Stamp::ZERO)), "\r\nERROR\r\n");
        assert_eq!(text(&m.input(b"\xff\xfe\r", Stamp::ZERO)), "\r\nERROR\r\n");
        assert_eq!(text(&m.input(&vec![b'A'; MAX_COMMAND + 10], Stamp::ZERO)), "");
        assert_eq!(text(&m.input(b"\r", Stamp::ZERO)), "\r\nERROR\r\n");
        assert_eq!(text(&m.input(b"AT\r", Stamp::ZERO)), "\r\nOK\r\n", "recovers");
    }

    #[test]
    fn delays_and_order() {
        let mut o = Options::for_dialect("bc39");
        o.echo = false;
        o.delays.insert("+MIPLVER".into(), Duration::from_millis(250));
        let mut m = Modem::new(o).unwrap();
        let a = m.input(b"AT+MIPLVER?\r", Stamp::ZERO);
        assert_eq!(a[0].at, Duration::from_millis(250));
        let b = m.input(b"AT\r", Duration::from_millis(10));
        assert_eq!(b[0].at, Duration::from_millis(250), "waits for the previous answer");
    }

    #[test]
    fn silencing_at_does_not_silence_garbage() {
        let mut o = Options::for_dialect("bc39");
        o.echo = false;
        o.silent = vec!["AT".into()];
        let mut m = Modem::new(o).unwrap();
        assert!(m.input(b"AT\r", Stamp::ZERO).is_empty());
        assert_eq!(text(&m.input(b"hello\r", Stamp::ZERO)), "\r\nERROR\r\n");
    }

    #[test]
    fn silent_commands_get_no_answer() {
        let mut o = Options::for_dialect("bc39");
        o.echo = false;
        o.silent = vec!["CGMR".into()];
        let mut m = Modem::new(o).unwrap();
        assert!(m.input(b"AT+CGMR\r", Stamp::ZERO).is_empty());
    }

    #[test]
    fn reset_forgets_answers_in_flight() {
        let mut o = Options::for_dialect("bc39");
        o.echo = false;
        o.delays.insert("+MIPLVER".into(), Duration::from_secs(30));
        let mut m = Modem::new(o).unwrap();
        m.input(b"AT+MIPLVER?\r", Stamp::ZERO);
        m.reset();
        assert_eq!(m.input(b"AT\r", Duration::from_millis(1))[0].at, Duration::from_millis(1));
    }

    fn faulty(faults: &str) -> Modem {
        let mut o = Options::for_dialect("bc39");
        o.faults = toml::from_str(faults).unwrap();
        Modem::new(o).unwrap()
    }

    #[test]
    fn hang_after_wedges_for_good_across_resets() {
        let mut m = faulty("hang_after = 3");
        assert_eq!(text(&m.input(b"AT\r", Stamp::ZERO)), "AT\r\r\nOK\r\n");
        assert_eq!(text(&m.input(b"\r\r\n", Stamp::ZERO)), "\r\r\n", "blank lines do not count");
        m.reset();
        assert_eq!(text(&m.input(b"ATE0\r", Stamp::ZERO)), "ATE0\r\r\nOK\r\n", "counted across the reset");
        // The third line is answered; nothing after it is read, not even for its echo.
        m.reset();
        assert_eq!(text(&m.input(b"AT\rAT\r", Stamp::ZERO)), "AT\r\r\nOK\r\n");
        assert!(m.wedged());
        assert!(m.input(b"AT\r", Stamp::ZERO).is_empty());
        m.reset();
        assert!(m.wedged(), "a reset does not cure it");
        assert!(m.input(b"AT\r", Duration::from_secs(1)).is_empty());
        assert!(m.input(b"AT+CGMR\r", Duration::from_secs(2)).is_empty());
        assert_eq!(m.next_deadline(), None);
        assert!(m.poll(Duration::from_secs(3600)).is_empty());
        assert!(m.datagram("127.0.0.1:5683", b"\x60\x00\x00\x01", Duration::from_secs(5)).is_empty());
        assert!(Modem::new(m.options().clone()).is_ok_and(|mut fresh| !fresh.input(b"AT\r", Stamp::ZERO).is_empty()));
    }

    #[test]
    fn hang_after_zero_is_dead_from_power_on() {
        let mut m = faulty("hang_after = 0");
        assert!(m.input(b"AT\r", Stamp::ZERO).is_empty());
    }

    #[test]
    fn fail_first_errors_then_answers_across_resets() {
        let mut m = faulty(r#"fail_first = [{ command = "+MIPLVER", times = 2 }, { command = "CGMR" }]"#);
        m.input(b"ATE0\r", Stamp::ZERO);
        assert_eq!(text(&m.input(b"AT+MIPLVER?\r", Stamp::ZERO)), "\r\nERROR\r\n");
        assert_eq!(text(&m.input(b"AT\r", Stamp::ZERO)), "\r\nOK\r\n", "other commands answer");
        m.reset();
        m.input(b"ATE0\r", Stamp::ZERO);
        assert_eq!(text(&m.input(b"AT+MIPLVER?\r", Stamp::ZERO)), "\r\nERROR\r\n", "counted across the reset");
        m.reset();
        m.input(b"ATE0\r", Stamp::ZERO);
        assert_eq!(text(&m.input(b"AT+MIPLVER?\r", Stamp::ZERO)), "\r\n+MIPLVER: 2.3.0\r\n\r\nOK\r\n");
        assert_eq!(text(&m.input(b"AT+MIPLVER?\r", Stamp::ZERO)), "\r\n+MIPLVER: 2.3.0\r\n\r\nOK\r\n");
        assert_eq!(text(&m.input(b"AT+CGMR\r", Stamp::ZERO)), "\r\nERROR\r\n", "each entry counts its own");
        assert!(!text(&m.input(b"AT+CGMR\r", Stamp::ZERO)).contains("ERROR"));
    }

    #[test]
    fn a_cases_event_codes_lie_over_the_rigs_from_the_next_reset() {
        let mut o = Options::for_dialect("m5310a");
        o.quirks.events.insert("update-done".into(), 10);
        let mut m = Modem::new(o).unwrap();
        m.set_case_events([("deregistered".to_string(), 20), ("update-done".to_string(), 11)].into());
        assert_eq!(m.options().quirks.events.get("deregistered"), None, "not before the reset");
        m.reset();
        let both = [("deregistered".to_string(), 20), ("update-done".to_string(), 11)].into();
        assert_eq!(m.options().quirks.events, both, "the case's code wins over the rig's");
        m.set_case_events(Default::default());
        m.reset();
        assert_eq!(m.options().quirks.events, [("update-done".to_string(), 10)].into(), "the rig's again");
    }

    #[test]
    fn reset_restores_power_on_settings() {
        let mut m = modem();
        m.input(b"ATE0\r", Stamp::ZERO);
        m.reset();
        assert!(text(&m.input(b"AT\r", Stamp::ZERO)).starts_with("AT\r"));
    }

    #[test]
    fn a_kept_firmware_survives_the_reset_an_installed_one_does_not() {
        let mut m = quiet("bc39");
        let cgmr = |m: &mut Modem| text(&m.input(b"AT+CGMR\r", Stamp::ZERO));
        let rig = cgmr(&mut m);
        // What a FOTA install leaves (client::fota sets it before the reboot).
        m.basics.revision = "BC39NBR01A05_ONT".into();
        m.reset();
        assert_eq!(cgmr(&mut m), rig, "a reset flashes the rig's firmware back");
        m.basics.revision = "BC39NBR01A05_ONT".into();
        m.keep_firmware();
        m.reset();
        m.input(b"ATE0\r", Stamp::ZERO);
        assert!(cgmr(&mut m).contains("BC39NBR01A05_ONT"), "kept: {}", cgmr(&mut m));
    }

    #[test]
    fn a_flashed_package_for_the_model_is_booted_and_kept_anything_else_refused() {
        let data = |f: &str| std::fs::read(format!("{}/../../suites/data/{f}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        let cgmr = |m: &mut Modem| text(&m.input(b"AT+CGMR\r", Stamp::ZERO));
        let mut m = quiet("bc39");
        let rig = cgmr(&mut m);
        let e = m.flash(&data("fw_m5310a_v2.bin")).unwrap_err();
        assert!(e.contains("for M5310-A, not BC39"), "{e}");
        let mut corrupt = data("fw_bc39_v2.bin");
        *corrupt.last_mut().unwrap() ^= 0xFF;
        assert!(m.flash(&corrupt).unwrap_err().contains("SHA-256"));
        assert!(m.flash(b"\x7fELF").is_err(), "a vendor image is no package");
        assert_eq!(cgmr(&mut m), rig, "refused: the firmware stays");
        assert_eq!(m.flash(&data("fw_bc39_v2.bin")).as_deref(), Ok("BC39NBR01A05_ONT"));
        m.reset();
        assert!(cgmr(&mut m).contains("BC39NBR01A05_ONT"), "kept across resets: {}", cgmr(&mut m));
    }

    #[test]
    fn cfun_with_rst_answers_ok_then_powers_on_afresh() {
        let mut m = modem();
        m.input(b"ATE0\r", Stamp::ZERO);
        m.input(b"AT+CSCON=1\r", Stamp::ZERO);
        assert_eq!(text(&m.input(b"AT+CFUN=1,1\r", Stamp::ZERO)), "\r\nOK\r\n", "answered before the reset");
        assert_eq!(text(&m.input(b"AT+CSCON?\r", Stamp::ZERO)), "AT+CSCON?\r\r\n+CSCON: 0,0\r\n\r\nOK\r\n");
        m.input(b"ATE0\r", Stamp::ZERO);
        assert_eq!(text(&m.input(b"AT+CFUN=0,0\r", Stamp::ZERO)), "\r\nOK\r\n");
        assert_eq!(text(&m.input(b"AT+CFUN?\r", Stamp::ZERO)), "\r\n+CFUN: 0\r\n\r\nOK\r\n", "rst 0: no reset");
        assert!(text(&m.input(b"AT+CFUN=1,2\r", Stamp::ZERO)).contains("ERROR"));
        m.input(b"AT+CFUN=0,1\r", Stamp::ZERO);
        assert_eq!(
            text(&m.input(b"AT+CFUN?\r", Stamp::ZERO)),
            "AT+CFUN?\r\r\n+CFUN: 0\r\n\r\nOK\r\n",
            "reset, then <fun> 0"
        );
    }

    fn quiet(dialect: &str) -> Modem {
        let mut o = Options::for_dialect(dialect);
        o.echo = false;
        Modem::new(o).unwrap()
    }

    #[rstest::rstest]
    #[case::lone_lf(b"AT\n", "AT\n\r\nOK\r\n")]
    #[case::crlf_runs_once(b"AT\r\n", "AT\r\n\r\nOK\r\n")]
    #[case::lf_then_cr(b"AT\n\r", "AT\n\r\r\nOK\r\n")]
    // One write is echoed as the echo setting was when it came.
    #[case::two_lines(b"ATE0\nAT\n", "ATE0\nAT\n\r\nOK\r\n\r\nOK\r\n")]
    fn lf_ends_a_command_line(#[case] input: &[u8], #[case] heard: &str) {
        assert_eq!(text(&modem().input(input, Stamp::ZERO)), heard);
    }

    #[rstest::rstest]
    #[case("bc39", "ATI", "\r\nQuectel\r\nBC39\r\nRevision: BC39NBR01A04_ONT\r\n\r\nOK\r\n")]
    #[case("m5310a", "ATI", "\r\nCMIOT\r\nM5310-A\r\nRevision:M5310-A_V1.6\r\n\r\nOK\r\n")]
    #[case("bc39", "AT+CGMI", "\r\nQuectel\r\n\r\nOK\r\n")]
    #[case("m5310a", "AT+CGMM", "\r\nM5310-A\r\n\r\nOK\r\n")]
    #[case("bc39", "AT+CGMM=?", "\r\nOK\r\n")]
    #[case("bc39", "AT+CGPADDR=?", "\r\n+CGPADDR: (0)\r\n\r\nOK\r\n")]
    #[case("bc39", "AT+CGPADDR", "\r\n+CGPADDR: 0,10.37.168.24\r\n\r\nOK\r\n")]
    #[case("m5310a", "AT+CGPADDR=0", "\r\n+CGPADDR: 0,10.37.168.24\r\n\r\nOK\r\n")]
    #[case("bc39", "AT+CGPADDR=1", "\r\n+CME ERROR: 50\r\n")]
    #[case("m5310a", "AT+CGPADDR=1", "\r\n+CME ERROR: 50\r\n")]
    #[case("bc39", "AT+QRST=0", "\r\n+CME ERROR: 50\r\n")]
    fn identification_and_address(#[case] dialect: &str, #[case] line: &str, #[case] heard: &str) {
        let mut m = quiet(dialect);
        assert_eq!(text(&m.input(format!("{line}\r").as_bytes(), Stamp::ZERO)), heard);
    }

    #[rstest::rstest]
    #[case::detached("AT+CGATT=0")]
    #[case::radio_off("AT+CFUN=0")]
    fn no_address_unless_attached(#[case] first: &str) {
        let mut m = quiet("bc39");
        m.input(format!("{first}\r").as_bytes(), Stamp::ZERO);
        assert_eq!(text(&m.input(b"AT+CGPADDR\r", Stamp::ZERO)), "\r\nOK\r\n");
        assert_eq!(text(&m.input(b"AT+CGPADDR=0\r", Stamp::ZERO)), "\r\n+CGPADDR: 0\r\n\r\nOK\r\n");
    }

    #[rstest::rstest]
    #[case("bc39", "AT+QRST=1", "\r\nOK\r\n", "\r\nRDY\r\n")]
    #[case(
        "m5310a",
        "AT+NRB",
        "\r\nREBOOTING\r\n",
        "\r\nBoot: Unsigned\r\n\r\nREBOOT_CAUSE_APPLICATION_AT\r\n\r\nNeul\r\n\r\nOK\r\n"
    )]
    fn the_reset_command_answers_boots_deaf_then_prints_its_banner(
        #[case] dialect: &str,
        #[case] line: &str,
        #[case] answer: &str,
        #[case] banner: &str,
    ) {
        let mut m = modem_of(dialect);
        m.input(b"ATE0\r", Stamp::ZERO);
        m.input(b"AT+CSCON=1\r", Stamp::ZERO);
        let boot = Stamp::from_millis(m.dialect().restart.boot_ms);
        let out = m.input(format!("{line}\rAT\r").as_bytes(), Stamp::ZERO);
        assert_eq!(out.len(), 2, "the answer, then the banner; the AT after it is lost: {out:?}");
        assert_eq!((out[0].at, text(&out[..1])), (Stamp::ZERO, answer.to_string()));
        assert_eq!((out[1].at, text(&out[1..])), (boot, banner.to_string()));
        let half = boot / 2;
        assert!(m.input(b"AT\r", half).is_empty(), "deaf while booting: no echo, no answer");
        let after = m.input(b"AT+CSCON?\r", boot);
        assert_eq!(text(&after), "AT+CSCON?\r\r\n+CSCON: 0,0\r\n\r\nOK\r\n", "power-on settings, echo on");
        assert_eq!(after[0].at, boot);
    }

    fn modem_of(dialect: &str) -> Modem {
        Modem::new(Options::for_dialect(dialect)).unwrap()
    }

    /// A registered client is dropped by the reboot without a word to the platform: no
    /// deregistration, and no retransmission of anything it had in flight.
    #[test]
    fn the_reset_command_forgets_the_client_without_a_goodbye() {
        let mut m = quiet("bc39");
        for l in ["AT+MIPLCREATE", "AT+MIPLADDOBJ=0,3303,1,\"1\",4,2", "AT+MIPLOPEN=0,600,60"] {
            assert!(text(&m.input(format!("{l}\r").as_bytes(), Stamp::ZERO)).contains("OK"), "{l}");
        }
        assert!(!m.take_datagrams().is_empty(), "the registration went out");
        assert!(m.next_deadline().is_some(), "its retransmission is due");
        m.input(b"AT+QRST=1\r", Stamp::ZERO);
        assert!(m.take_datagrams().is_empty(), "no deregistration");
        assert_eq!(m.next_deadline(), None, "no timers left");
        assert!(m.poll(Duration::from_secs(600)).is_empty());
        assert!(m.take_datagrams().is_empty());
    }

    /// The echo goes out as the characters come, not with the answer a rig delays.
    #[test]
    fn the_echo_is_not_held_behind_a_delayed_answer() {
        let mut o = Options::for_dialect("bc39");
        o.delays.insert("+MIPLVER".into(), Duration::from_millis(250));
        let mut m = Modem::new(o).unwrap();
        let out = m.input(b"AT+MIPLVER?", Stamp::ZERO);
        assert_eq!((out[0].at, text(&out)), (Stamp::ZERO, "AT+MIPLVER?".to_string()));
        let out = m.input(b"\r", Duration::from_millis(5));
        assert_eq!((out[0].at, text(&out[..1])), (Duration::from_millis(5), "\r".to_string()));
        assert_eq!(out[1].at, Duration::from_millis(255));
        // A second command typed while the first's answer is pending is echoed at once too.
        let out = m.input(b"AT\r", Duration::from_millis(10));
        assert_eq!((out[0].at, text(&out[..1])), (Duration::from_millis(10), "AT\r".to_string()));
        assert_eq!(out[1].at, Duration::from_millis(255));
    }
}
