//! The health check (LAVA's word), after a case failed for a reason of the bench: AT → OK; failing
//! that the reset strategy, then AT → OK; failing that the bench MCU reset through its debug
//! probe (`[probe]`), then AT → OK; failing that the power strategy (cycle, the port opened
//! again until `settle` runs out), then AT → OK. Each rung is bounded (a few one-second tries,
//! the rig's reset and power time-outs), so the check is, whatever the modem does.

use super::power::{self, Op};
use super::{Reopening, Target, TargetError};
use crate::rig::Target as RigTarget;
use std::time::{Duration, Instant};

/// What a health check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthReport {
    /// The modem answered `OK` to `AT` in the end: it is ready for the next case.
    pub ok: bool,
    /// Each rung tried, in order, and what it gave (`AT: sync: no OK …`, `reset AT+QRST=1: RDY`,
    /// `power cycle (`uhubctl …`): ok`).
    pub rungs: Vec<String>,
}

/// `AT` tries of a rung: enough for a modem that missed one, few enough to move on.
const PING_TRIES: u32 = 3;
/// Pauses between attempts to open a link that is gone, before the rung gives up (3.75 s in all:
/// room for a serial server to restart).
const RECONNECT_BACKOFF: [Duration; 4] =
    [Duration::from_millis(250), Duration::from_millis(500), Duration::from_secs(1), Duration::from_secs(2)];
/// How long to wait between attempts to find the port again after power-on.
const SETTLE_RETRY: Duration = Duration::from_millis(200);

pub(super) fn climb(t: &mut Reopening) -> HealthReport {
    let mut rungs = Vec::new();
    match at(t) {
        Ok(()) => return HealthReport { ok: true, rungs: vec!["AT: OK".into()] },
        Err(e) => rungs.push(format!("AT: {e}")),
    }
    let reset_label = match &t.rig.target {
        RigTarget::Emulator { .. } => Some("reset (emulator)".to_string()),
        _ => t.rig.reset.as_ref().map(|r| format!("reset {}", r.command)),
    };
    if let Some(label) = reset_label {
        match t.reset() {
            Some(Ok(said)) => match t.ping(PING_TRIES) {
                Ok(()) => {
                    rungs.push(format!("{label}: {said}"));
                    return HealthReport { ok: true, rungs };
                }
                Err(e) => {
                    forget_if_gone(t, &e);
                    rungs.push(format!("{label}: {said}, then AT: {e}"));
                }
            },
            Some(Err(e)) => {
                forget_if_gone(t, &e);
                let shown = e.to_string();
                rungs.push(format!("{label}: {}", shown.strip_prefix("reset: ").unwrap_or(&shown)));
            }
            None => {}
        }
    }
    // The bench MCU behind the AT port may be what hangs: reset it through its debug probe.
    if let Some(probe) = t.rig.probe.clone() {
        let label = format!("probe {}", probe.selector);
        match crate::probe::reset(&probe) {
            Ok(said) => match at(t) {
                Ok(()) => {
                    rungs.push(format!("{label}: {said}"));
                    return HealthReport { ok: true, rungs };
                }
                Err(e) => rungs.push(format!("{label}: {said}, then AT: {e}")),
            },
            Err(e) => rungs.push(format!("{label}: {e}")),
        }
    }
    if let Some(p) = t.rig.power.clone() {
        let label = power::describe(&p, Op::Cycle);
        match cycle(t) {
            Ok(()) => {
                rungs.push(format!("{label}: ok"));
                return HealthReport { ok: true, rungs };
            }
            // The error names the operation and its command.
            Err(Failure::Switch(e)) => rungs.push(e.to_string()),
            Err(Failure::Settle(e)) => {
                rungs.push(format!("{label}: ok, then within settle {}: {e}", humantime::format_duration(p.settle)))
            }
        }
    }
    HealthReport { ok: false, rungs }
}

/// Rung one: AT → OK on the open link, opening it again if it is gone (or was never opened).
fn at(t: &mut Reopening) -> Result<(), TargetError> {
    if let Some(inner) = t.inner.as_mut() {
        match inner.ping(PING_TRIES) {
            Ok(()) => return Ok(()),
            Err(e) if !e.link_gone() => return Err(e),
            Err(e) => tracing::warn!("the link is gone ({e}); opening it again"),
        }
    }
    reconnect(t)?;
    let r = t.inner.as_mut().expect("reconnected").ping(PING_TRIES);
    if let Err(e) = &r {
        forget_if_gone(t, e);
    }
    r
}

/// Opens a link that is gone again, pausing between tries while the failure is the link's (a
/// serial server restarting, a USB port re-enumerating): bounded, so a dead server costs seconds.
fn reconnect(t: &mut Reopening) -> Result<(), TargetError> {
    let mut pauses = RECONNECT_BACKOFF.iter();
    loop {
        match t.reopen() {
            Ok(_) => return Ok(()),
            Err(e) if e.link_gone() => match pauses.next() {
                Some(pause) => {
                    tracing::info!("cannot open the link ({e}); trying again in {pause:?}");
                    std::thread::sleep(*pause);
                }
                None => return Err(e),
            },
            Err(e) => return Err(e),
        }
    }
}

fn forget_if_gone(t: &mut Reopening, e: &TargetError) {
    if e.link_gone() {
        t.inner = None;
    }
}

enum Failure {
    /// A power command failed.
    Switch(power::PowerError),
    /// The power came back and the modem did not answer within `settle`.
    Settle(TargetError),
}

/// Cycles the power with the port closed, then opens it again (USB IDs looked up afresh each
/// time) and sends `AT` until it answers or `settle` runs out.
fn cycle(t: &mut Reopening) -> Result<(), Failure> {
    let p = t.rig.power.clone().expect("the rig has [power]");
    // Nothing holds the device while it goes away; its next name may differ.
    t.inner = None;
    let env = power::Env { rig: t.rig.name.clone(), port: t.port_name.clone() };
    power::switch(&p, Op::Cycle, &env).map_err(Failure::Switch)?;
    let end = Instant::now() + p.settle;
    loop {
        let r = match t.inner.as_mut() {
            Some(inner) => inner.ping(1),
            None => t.reopen().and_then(|inner| inner.ping(1)),
        };
        let e = match r {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        forget_if_gone(t, &e);
        let now = Instant::now();
        if now >= end {
            return Err(Failure::Settle(e));
        }
        std::thread::sleep(SETTLE_RETRY.min(end - now));
    }
}

impl Reopening {
    /// Cycles the rig's power (`[power]`), then finds the port again and waits for `OK` to `AT`
    /// within `settle`. An error if the rig has no `[power]`.
    pub fn power_cycle(&mut self) -> Result<(), TargetError> {
        if self.rig.power.is_none() {
            return Err(power::PowerError::Missing { op: "cycle" }.into());
        }
        cycle(self).map_err(|f| match f {
            Failure::Switch(e) => e.into(),
            Failure::Settle(e) => e,
        })
    }

    /// Switches the rig's power off or on (`[power] off` / `on`), holding its group; the port is
    /// closed first when switching off. The port is not waited for.
    pub fn power(&mut self, op: Op) -> Result<(), TargetError> {
        let p = self.rig.power.clone().ok_or(power::PowerError::Missing { op: op.name() })?;
        if op != Op::On {
            self.inner = None;
        }
        let env = power::Env { rig: self.rig.name.clone(), port: self.port_name.clone() };
        Ok(power::switch(&p, op, &env)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rig::Rig;
    use std::path::Path;

    #[test]
    fn a_healthy_virtual_emulator_passes_at_the_first_rung() {
        let rig = Rig::parse(Path::new("rigs/t.toml"), "kind = \"emulator\"\ndialect = \"bc39\"\n")
            .unwrap()
            .with_virtual_link();
        let mut t = Reopening::new(rig);
        let r = t.health_check();
        assert_eq!(r, HealthReport { ok: true, rungs: vec!["AT: OK".into()] });
    }
}
