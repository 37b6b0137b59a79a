//! The power strategy (`[power]`): the rig's shell commands that switch the modem off and on.
//!
//! Each command runs with `sh -c` in a process group of its own, so one that overruns its
//! time-out is killed with everything it started. Rigs of one `group` switch power one at a
//! time within the process: USB hubs wedge when several ports are cycled at once.

use crate::process_group::{self, Ended, Tail};
use crate::rig::Power;
use std::collections::HashMap;
use std::io;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// What to do with the power.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Off,
    On,
    /// `cycle`, or `off`, `off_time`, `on`.
    Cycle,
}

impl Op {
    /// The operation's key in `[power]`.
    pub fn name(self) -> &'static str {
        match self {
            Op::Off => "off",
            Op::On => "on",
            Op::Cycle => "cycle",
        }
    }
}

/// What a power command is told about the rig, in its environment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Env {
    /// `MIPLCHECK_RIG`: the rig's name.
    pub rig: String,
    /// `MIPLCHECK_PORT`: the serial path or TCP address, when known.
    pub port: Option<String>,
}

/// Why switching the power failed; each names the command.
#[derive(Debug, thiserror::Error)]
pub enum PowerError {
    /// The rig has no command for this (only `cycle`, and `off` was asked for).
    #[error("power {op}: the rig's [power] has no `{op}` command")]
    Missing { op: &'static str },
    #[error("power {op} (`{command}`): cannot start sh: {source}")]
    Spawn { op: &'static str, command: String, source: io::Error },
    /// The command overran its time-out and was killed with its process group.
    #[error("power {op} (`{command}`): still running after {}; killed (process group {pgid})", humantime::format_duration(*timeout))]
    Timeout { op: &'static str, command: String, timeout: Duration, pgid: u32 },
    /// The command ended unsuccessfully.
    #[error("power {op} (`{command}`): {status}; {}", match stderr { Some(l) => format!("stderr: `{l}`"), None => "nothing on stderr".into() })]
    Failed {
        op: &'static str,
        command: String,
        status: ExitStatus,
        /// The last line it wrote to stderr, escaped.
        stderr: Option<String>,
    },
}

/// How a health report names the operation: ``power cycle (`uhubctl …`)``.
pub fn describe(power: &Power, op: Op) -> String {
    let quoted = |c: &Option<String>| c.as_deref().map(|c| format!("`{c}`")).unwrap_or_else(|| "none".into());
    let what = match op {
        Op::Off => quoted(&power.off),
        Op::On => quoted(&power.on),
        Op::Cycle => match &power.cycle {
            Some(c) => format!("`{c}`"),
            None => format!(
                "{}, {} off, {}",
                quoted(&power.off),
                humantime::format_duration(power.off_time),
                quoted(&power.on)
            ),
        },
    };
    format!("power {} ({what})", op.name())
}

/// Switches the power, holding the rig's group for the whole operation.
pub fn switch(power: &Power, op: Op, env: &Env) -> Result<(), PowerError> {
    let group = power.group.as_deref().map(group_lock);
    let _held = group.as_ref().map(|g| g.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
    let run = |op: Op, command: &Option<String>| match command {
        Some(c) => run_command(op.name(), c, power.timeout, env),
        None => Err(PowerError::Missing { op: op.name() }),
    };
    match op {
        Op::Off => run(Op::Off, &power.off),
        Op::On => run(Op::On, &power.on),
        Op::Cycle if power.cycle.is_some() => run(Op::Cycle, &power.cycle),
        Op::Cycle => {
            run(Op::Off, &power.off)?;
            std::thread::sleep(power.off_time);
            run(Op::On, &power.on)
        }
    }
}

/// The process-wide lock of a power group, made on first use.
fn group_lock(name: &str) -> Arc<Mutex<()>> {
    static GROUPS: OnceLock<Mutex<HashMap<String, Arc<Mutex<()>>>>> = OnceLock::new();
    let mut groups = GROUPS.get_or_init(Default::default).lock().unwrap_or_else(|p| p.into_inner());
    groups.entry(name.to_string()).or_default().clone()
}

/// How much of a command's stderr is kept (its end) to quote its last line.
const STDERR_TAIL: usize = 4096;

fn run_command(op: &'static str, command: &str, timeout: Duration, env: &Env) -> Result<(), PowerError> {
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .env("MIPLCHECK_RIG", &env.rig)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0);
    match &env.port {
        Some(p) => cmd.env("MIPLCHECK_PORT", p),
        // One inherited from the runner's own environment would name another rig's port.
        None => cmd.env_remove("MIPLCHECK_PORT"),
    };
    let spawn_error = |source| PowerError::Spawn { op, command: command.to_string(), source };
    let mut child = cmd.spawn().map_err(spawn_error)?;
    let pgid = child.id();
    let tail = Tail::of(child.stderr.take(), STDERR_TAIL);
    let status =
        match process_group::wait(&mut child, Instant::now() + timeout, Duration::from_millis(10), || None::<()>)
            .map_err(spawn_error)?
        {
            Ended::Exited(status) => status,
            Ended::Overran | Ended::Stopped(()) => {
                return Err(PowerError::Timeout { op, command: command.to_string(), timeout, pgid })
            }
        };
    if status.success() {
        return Ok(());
    }
    // A child that escaped the group may keep the pipe open: its stderr is waited for briefly.
    tail.wait(Duration::from_millis(500));
    let stderr = tail
        .text()
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(|l| crate::cap::line(&miplcheck_record::printable(l)).into_owned());
    Err(PowerError::Failed { op, command: command.to_string(), status, stderr })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn power(cycle: Option<&str>, off: Option<&str>, on: Option<&str>) -> Power {
        Power {
            off: off.map(str::to_string),
            on: on.map(str::to_string),
            cycle: cycle.map(str::to_string),
            timeout: Duration::from_secs(30),
            off_time: Duration::from_secs(2),
            settle: Duration::from_secs(5),
            group: None,
        }
    }

    #[test]
    fn operations_are_named_with_their_commands() {
        let p = power(Some("uhubctl -l 1-1 -p 2 -a cycle"), None, None);
        assert_eq!(describe(&p, Op::Cycle), "power cycle (`uhubctl -l 1-1 -p 2 -a cycle`)");
        assert_eq!(describe(&p, Op::Off), "power off (none)");
        let p = power(None, Some("off.sh"), Some("on.sh"));
        assert_eq!(describe(&p, Op::Cycle), "power cycle (`off.sh`, 2s off, `on.sh`)");
        let e = switch(&power(Some("true"), None, None), Op::Off, &Env::default()).unwrap_err();
        assert_eq!(e.to_string(), "power off: the rig's [power] has no `off` command");
    }

    #[test]
    fn the_command_sees_the_rig_and_its_port() {
        let p = power(Some("test \"$MIPLCHECK_RIG:$MIPLCHECK_PORT\" = bc39-1:/dev/ttyUSB0"), None, None);
        let env = Env { rig: "bc39-1".into(), port: Some("/dev/ttyUSB0".into()) };
        switch(&p, Op::Cycle, &env).unwrap();
        let p = power(Some("test -z \"${MIPLCHECK_PORT+set}\""), None, None);
        switch(&p, Op::Cycle, &Env { rig: "x".into(), port: None }).unwrap();
    }
}
