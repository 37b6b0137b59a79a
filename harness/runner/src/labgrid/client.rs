//! Running `labgrid-client`: one call at a time, in a process group of its own, bounded in time,
//! its output kept (capped) for what the lease reads and what an error says.

use super::*;
use crate::process_group::{self, Ended, Tail};

/// A finished `labgrid-client` call.
pub(super) struct Output {
    status: ExitStatus,
    stdout: String,
    stderr: String,
}

/// A call that did not finish in time, with what it said meanwhile.
pub(super) struct Overrun {
    pub(super) pgid: u32,
    pub(super) stdout: String,
    pub(super) stderr: String,
}

pub(super) enum CallError {
    Spawn(io::Error),
    Overrun(Overrun),
    /// The run was asked to stop (Ctrl-C, SIGTERM) while an interruptible call waited.
    Interrupted(Overrun, crate::interrupt::Signal),
}

pub(super) struct Client<'a> {
    pub(super) rig: &'a LabgridRig,
}

impl Client<'_> {
    fn place(&self) -> String {
        self.rig.place.clone()
    }
    fn coordinator(&self) -> String {
        self.rig.coordinator.clone()
    }

    /// `labgrid-client` could not be started.
    fn not_installed(&self, source: io::Error) -> LabgridError {
        LabgridError::NotInstalled {
            place: self.place(),
            coordinator: self.coordinator(),
            client: self.rig.client.to_string_lossy().into_owned(),
            source,
        }
    }

    /// The place has no serial port; the resources it has, named.
    pub(super) fn no_serial(&self, shown: &parse::PlaceShow) -> LabgridError {
        LabgridError::NoSerial {
            place: self.place(),
            coordinator: self.coordinator(),
            resources: shown.resources.iter().map(|r| r.path.clone()).collect(),
        }
    }

    /// Runs `labgrid-client -x COORDINATOR ARGS…` within `timeout`.
    fn call(&self, args: &[&str], timeout: Duration) -> Result<Output, LabgridError> {
        match run(&self.rig.client, &self.rig.coordinator, args, timeout, false) {
            Ok(o) => Ok(o),
            Err(CallError::Spawn(source)) => Err(self.not_installed(source)),
            Err(CallError::Overrun(o) | CallError::Interrupted(o, _)) => Err(LabgridError::NoAnswer {
                place: self.place(),
                coordinator: self.coordinator(),
                command: self.rig.command_line(args),
                timeout,
                pgid: o.pgid,
                stderr: o.stderr,
            }),
        }
    }

    /// The error for a call that ended unsuccessfully, from what it said on stderr.
    fn failure(&self, args: &[&str], out: Output) -> LabgridError {
        let (place, coordinator) = (self.place(), self.coordinator());
        match parse::classify(&out.stderr) {
            parse::Failure::CoordinatorDown(detail) => LabgridError::CoordinatorDown { place, coordinator, detail },
            parse::Failure::NoSuchPlace => LabgridError::NoSuchPlace { place, coordinator },
            parse::Failure::Busy(holder) => LabgridError::Busy { place, coordinator, holder, waited: None },
            _ => LabgridError::Command {
                place,
                coordinator,
                command: self.rig.command_line(args),
                status: out.status,
                stderr: out.stderr,
            },
        }
    }

    fn output_error(&self, args: &[&str], detail: String) -> LabgridError {
        LabgridError::Output {
            place: self.place(),
            coordinator: self.coordinator(),
            command: self.rig.command_line(args),
            detail,
        }
    }

    pub(super) fn show(&self) -> Result<parse::PlaceShow, LabgridError> {
        let args = ["-p", self.rig.place.as_str(), "show"];
        let out = self.call(&args, self.rig.timeout)?;
        if !out.status.success() {
            return Err(self.failure(&args, out));
        }
        let shown = parse::show(&out.stdout).map_err(|detail| self.output_error(&args, detail))?;
        if shown.name != self.rig.place {
            // `-p` matches a substring when no place has the exact name.
            return Err(LabgridError::NoSuchPlace { place: self.place(), coordinator: self.coordinator() });
        }
        Ok(shown)
    }

    /// `reserve --wait`; past `reserve_wait` the reservation is cancelled and the holder named.
    /// The only call a stop request (Ctrl-C, SIGTERM) cuts short: it may wait for minutes.
    pub(super) fn reserve(&self, holder: Option<&str>) -> Result<String, LabgridError> {
        let filter = format!("name={}", self.rig.place);
        let args = ["reserve", "--wait", "--shell", filter.as_str()];
        match run(&self.rig.client, &self.rig.coordinator, &args, self.rig.reserve_wait, true) {
            Ok(out) if out.status.success() => {
                parse::token(&out.stdout).ok_or_else(|| self.output_error(&args, "no `export LG_TOKEN=…` line".into()))
            }
            Ok(out) => Err(self.failure(&args, out)),
            Err(CallError::Spawn(source)) => Err(self.not_installed(source)),
            Err(CallError::Interrupted(o, signal)) => {
                let token = parse::token(&o.stdout);
                let cancelled = match &token {
                    Some(t) => {
                        self.cancel(t).inspect_err(|e| tracing::warn!("cancelling the reservation: {e}")).is_ok()
                    }
                    None => false,
                };
                Err(LabgridError::Interrupted {
                    place: self.place(),
                    coordinator: self.coordinator(),
                    signal: signal.name(),
                    cancelled,
                })
            }
            Err(CallError::Overrun(o)) => {
                // The token is printed before the wait starts; without it the coordinator never
                // answered at all.
                let Some(token) = parse::token(&o.stdout) else {
                    return Err(LabgridError::NoAnswer {
                        place: self.place(),
                        coordinator: self.coordinator(),
                        command: self.rig.command_line(&args),
                        timeout: self.rig.reserve_wait,
                        pgid: o.pgid,
                        stderr: o.stderr,
                    });
                };
                if let Err(e) = self.cancel(&token) {
                    tracing::warn!("cancelling the reservation that was not allocated in time: {e}");
                }
                let now = self.show().ok().and_then(|s| s.acquired);
                Err(LabgridError::Busy {
                    place: self.place(),
                    coordinator: self.coordinator(),
                    holder: now.or_else(|| holder.map(str::to_string)),
                    waited: Some(self.rig.reserve_wait),
                })
            }
        }
    }

    pub(super) fn acquire(&self, token: &str) -> Result<(), LabgridError> {
        let by_token = format!("+{token}");
        let args = ["-p", by_token.as_str(), "acquire"];
        let out = self.call(&args, self.rig.timeout)?;
        if out.status.success() {
            Ok(())
        } else {
            Err(self.failure(&args, out))
        }
    }

    /// The serial and power resources of the place, acquired. The exporter publishes ser2net's
    /// port as it starts it; a `show` that comes too early is asked again.
    pub(super) fn acquired_resources(&self) -> Result<(RemoteSerial, Option<PlacePower>), LabgridError> {
        let end = Instant::now() + self.rig.timeout;
        loop {
            let shown = self.show()?;
            let power = self.power_of(&shown);
            match parse::serial(&shown) {
                Ok(Some(serial)) => return Ok((serial, power)),
                Ok(None) if Instant::now() < end => std::thread::sleep(Duration::from_millis(300)),
                Ok(None) => {
                    let resource = shown
                        .resources
                        .iter()
                        .find(|r| r.cls == "NetworkSerialPort")
                        .map(|r| r.name.clone())
                        .unwrap_or_default();
                    return Err(LabgridError::SerialNotServed {
                        place: self.place(),
                        coordinator: self.coordinator(),
                        resource,
                    });
                }
                Err(parse::SerialProblem::Missing) => return Err(self.no_serial(&shown)),
                Err(parse::SerialProblem::Unreadable(detail)) => {
                    return Err(self.output_error(&["-p", &self.rig.place, "show"], detail))
                }
            }
        }
    }

    pub(super) fn power_of(&self, shown: &parse::PlaceShow) -> Option<PlacePower> {
        let powers: Vec<_> = shown
            .resources
            .iter()
            .filter(|r| r.state == parse::ResourceState::Acquired && POWER_CLASSES.contains(&r.cls.as_str()))
            .collect();
        let first = powers.first()?;
        let mut prefix = self.rig.command_line(&["-p", &self.rig.place, "power"]);
        if powers.len() > 1 {
            prefix.push_str(&format!(" --name {}", shell_quote(&first.name)));
        }
        let param = |k: &str| first.param(k).and_then(parse::PyValue::as_text);
        Some(PlacePower {
            resource: first.name.clone(),
            cls: first.cls.clone(),
            model: param("model"),
            host: param("host"),
            index: param("index"),
            prefix,
        })
    }

    pub(super) fn release(&self) -> Result<(), LabgridError> {
        let args = ["-p", self.rig.place.as_str(), "release"];
        let out = self.call(&args, self.rig.timeout)?;
        if out.status.success() {
            return Ok(());
        }
        match parse::classify(&out.stderr) {
            // Released already (kicked by an admin): nothing to undo.
            parse::Failure::NotAcquired => {
                tracing::warn!(
                    "place {} on {} was not acquired any more at release",
                    self.rig.place,
                    self.rig.coordinator
                );
                Ok(())
            }
            _ => Err(self.failure(&args, out)),
        }
    }

    pub(super) fn cancel(&self, token: &str) -> Result<(), LabgridError> {
        let args = ["cancel-reservation", token];
        let out = self.call(&args, self.rig.timeout)?;
        if out.status.success() || parse::classify(&out.stderr) == parse::Failure::NoReservation {
            return Ok(());
        }
        Err(self.failure(&args, out))
    }
}

/// Variables that would make `labgrid-client` pick another place, token or environment file
/// than the ones on its command line.
const CLEARED_ENV: &[&str] =
    &["LG_ENV", "LG_PLACE", "PLACE", "LG_TOKEN", "LG_STATE", "STATE", "LG_INITIAL_STATE", "LG_COORDINATOR"];

/// How much of a call's output is kept (its end).
const OUTPUT_TAIL: usize = 64 * 1024;

/// Runs the client in its own process group; past `timeout` the group is killed, and so it is
/// when `interruptible` and the run was asked to stop. Its own group also keeps a Ctrl-C at the
/// terminal from reaching it: the release that follows an interrupted run must still run.
pub(super) fn run(
    client: &Path,
    coordinator: &str,
    args: &[&str],
    timeout: Duration,
    interruptible: bool,
) -> Result<Output, CallError> {
    let mut cmd = Command::new(client);
    cmd.arg("-x")
        .arg(coordinator)
        .args(args)
        // The reservation's token must reach the pipe before the wait, not at exit.
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for v in CLEARED_ENV {
        cmd.env_remove(v);
    }
    let mut child = cmd.spawn().map_err(CallError::Spawn)?;
    let pgid = child.id();
    let stdout = Tail::of(child.stdout.take(), OUTPUT_TAIL);
    let stderr = Tail::of(child.stderr.take(), OUTPUT_TAIL);
    // Both readers end when the pipes close; a grandchild that escaped the group may hold them
    // open, so they are waited for within a bound, never joined.
    let drained = |within: Duration| {
        let until = Instant::now() + within;
        stdout.wait(within);
        stderr.wait(until.saturating_duration_since(Instant::now()));
    };
    let end = Instant::now() + timeout;
    let stop = || if interruptible { crate::interrupt::requested() } else { None };
    let status =
        match process_group::wait(&mut child, end, Duration::from_millis(20), stop).map_err(CallError::Spawn)? {
            Ended::Exited(status) => status,
            ended => {
                drained(Duration::from_millis(500));
                let o = Overrun { pgid, stdout: stdout.text(), stderr: stderr.text() };
                return Err(match ended {
                    Ended::Stopped(signal) => CallError::Interrupted(o, signal),
                    _ => CallError::Overrun(o),
                });
            }
        };
    // A call that ended by itself said all it had to say: its output is read to the end (what
    // `show` lists is parsed from it), within what is left of its time-out and at least 5 s on a
    // loaded machine.
    drained(end.saturating_duration_since(Instant::now()).max(Duration::from_secs(5)));
    Ok(Output { status, stdout: stdout.text(), stderr: stderr.text() })
}

/// A word for `sh -c`: as it is when it is plain, else in single quotes.
pub(super) fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric() || "_./:@%+=,-".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}
