//! The flash driver for `[flash] command`: runs the rig's command with `sh -c` in a process
//! group of its own (as the power strategy does), `${firmware}` replaced by the file's path as one
//! single-quoted shell word — so a name with spaces, quotes or `;` is never read as shell syntax —
//! and the path also in `MIPLCHECK_FIRMWARE`. Its stdout and stderr go to one pipe, kept (the
//! end, at most [`OUTPUT_LIMIT`]) as the run's evidence; at the time-out the whole group is
//! killed. It must not talk to the modem, decide what a failure means (the dispatcher does: the
//! bench's, never the firmware's), or kill anything it did not start.

use super::power::Env;
use crate::process_group::{self, Ended, Tail};
use std::io;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How much of a flash command's output is kept (its end).
pub const OUTPUT_LIMIT: usize = 1 << 20;

/// Why a flash command failed; each keeps what it printed.
#[derive(Debug, thiserror::Error)]
pub enum FlashError {
    #[error("flash command (`{command}`): cannot start sh: {source}")]
    Spawn { command: String, source: io::Error },
    /// It overran its time-out and was killed with its process group.
    #[error("flash command (`{command}`): still running after {}; killed (process group {pgid})", humantime::format_duration(*timeout))]
    Timeout { command: String, timeout: Duration, pgid: u32, output: String },
    /// It ended unsuccessfully.
    #[error("flash command (`{command}`): {status}{}", last_line(output))]
    Failed { command: String, status: ExitStatus, output: String },
}

impl FlashError {
    /// What the command printed before it failed.
    pub fn output(&self) -> &str {
        match self {
            FlashError::Spawn { .. } => "",
            FlashError::Timeout { output, .. } | FlashError::Failed { output, .. } => output,
        }
    }
}

fn last_line(output: &str) -> String {
    match output.lines().rev().map(str::trim).find(|l| !l.is_empty()) {
        Some(l) => format!("; its last line: `{}`", crate::cap::line(&miplcheck_record::printable(l))),
        None => "; it printed nothing".into(),
    }
}

/// `path` as one shell word: single-quoted, a `'` inside as `'\''`.
pub fn shell_word(path: &Path) -> String {
    format!("'{}'", path.to_string_lossy().replace('\'', r"'\''"))
}

/// The command with `${firmware}` filled in.
pub fn command_line(command: &str, firmware: &Path) -> String {
    command.replace("${firmware}", &shell_word(firmware))
}

/// Runs the rig's flash command for `firmware`; gives what it printed.
pub fn run(command: &str, timeout: Duration, firmware: &Path, env: &Env) -> Result<String, FlashError> {
    let line = command_line(command, firmware);
    let spawn_error = |source| FlashError::Spawn { command: command.to_string(), source };
    let (reader, writer) = io::pipe().map_err(spawn_error)?;
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(&line)
        .env("MIPLCHECK_RIG", &env.rig)
        .env("MIPLCHECK_FIRMWARE", firmware)
        .stdin(Stdio::null())
        .stdout(writer.try_clone().map_err(spawn_error)?)
        .stderr(writer)
        .process_group(0);
    match &env.port {
        Some(p) => cmd.env("MIPLCHECK_PORT", p),
        None => cmd.env_remove("MIPLCHECK_PORT"),
    };
    let spawned = cmd.spawn();
    // The pipe's write ends held by the Command go, so the reader sees the end when the group does.
    drop(cmd);
    let mut child = spawned.map_err(spawn_error)?;
    let pgid = child.id();
    let tail = Tail::of(Some(reader), OUTPUT_LIMIT);
    let ended = process_group::wait(&mut child, Instant::now() + timeout, Duration::from_millis(20), || None::<()>);
    // A child that escaped the group may keep the pipe open: the output is waited for briefly.
    let output = || {
        tail.wait(Duration::from_secs(2));
        tail.text()
    };
    let status = match ended.map_err(spawn_error)? {
        Ended::Exited(status) => status,
        Ended::Overran | Ended::Stopped(()) => {
            return Err(FlashError::Timeout { command: command.to_string(), timeout, pgid, output: output() })
        }
    };
    let printed = output();
    if status.success() {
        return Ok(printed);
    }
    Err(FlashError::Failed { command: command.to_string(), status, output: printed })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Env {
        Env { rig: "bench".into(), port: None }
    }

    #[test]
    fn the_file_is_one_word_whatever_its_name() {
        let odd = Path::new("/tmp/it's; rm -rf x $(y).bin");
        assert_eq!(command_line("tool -f ${firmware}", odd), r"tool -f '/tmp/it'\''s; rm -rf x $(y).bin'");
        let out =
            run("printf '%s|' ${firmware} \"$MIPLCHECK_FIRMWARE\"", Duration::from_secs(30), odd, &env()).unwrap();
        assert_eq!(out, format!("{}|{}|", odd.display(), odd.display()));
    }

    #[test]
    fn output_of_both_streams_is_kept_and_a_failure_says_its_last_line() {
        let e = run("echo writing; echo 'no device' >&2; exit 3", Duration::from_secs(30), Path::new("f"), &env())
            .unwrap_err();
        assert_eq!(e.output(), "writing\nno device\n");
        let said = e.to_string();
        assert!(said.contains("exit status: 3") && said.contains("`no device`"), "{said}");
    }

    #[test]
    fn an_overrun_is_killed_with_its_group() {
        let began = Instant::now();
        let e =
            run("echo started; sleep 60 & sleep 60", Duration::from_millis(300), Path::new("f"), &env()).unwrap_err();
        assert!(matches!(e, FlashError::Timeout { .. }), "{e}");
        assert_eq!(e.output(), "started\n");
        // The background sleep held the pipe too: killed with the group, nothing waits for it.
        assert!(began.elapsed() < Duration::from_secs(30), "{:?}", began.elapsed());
    }
}
