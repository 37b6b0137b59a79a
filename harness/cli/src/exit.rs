//! The exit codes, named in one place, and the one mapping from a command's error to its code.
//! Every subcommand returns `Result<Exit, Error>`; `main` turns that into the process status, and
//! `--help` prints [`HELP`].

use miplcheck_record::RecordError;
use miplcheck_runner::InputError;
use std::process::ExitCode;

/// What the process says when it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Every case passed; no regression; coverage complete; a service ended cleanly.
    Ok,
    /// The check did not pass: a case failed (`run`), B regresses (`diff`), a command, URC
    /// or event of the manual is uncovered (`coverage --require-complete`), a recording had no
    /// answered command or its case did not pass again (`record`), or a report or service
    /// could not do its work (`report` could not write, `emulate` could not serve).
    Failed,
    /// Bad input: a rig, suite, run record or argument that cannot be used; the message names the
    /// file, the line and the field.
    BadInput,
    /// The run ran, but a report could not be written (disk full, a folder it cannot write): the
    /// verdict on disk is not the whole truth. The message names each file and why.
    ReportsIncomplete,
    /// No case failed, but some could not be judged for a reason of the bench: a port gone, a
    /// connection refused, a modem that did not answer the sync, a rig given up on as unhealthy.
    /// Not the firmware's fault; look at the rigs.
    Infrastructure,
    /// `run --firmware`: the flash went through, but the modem reports another revision than the
    /// one expected, so nothing was qualified: no case ran. The record says "wrong firmware:
    /// expected X, modem reports Y".
    WrongFirmware,
    /// The run was stopped by a signal and wrote its reports for the cases that finished, marked
    /// incomplete: 130 for SIGINT (Ctrl-C), 143 for SIGTERM, as a shell reports them.
    Interrupted(miplcheck_runner::interrupt::Signal),
}

impl Exit {
    /// The process status.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Failed => 1,
            Exit::BadInput => 2,
            Exit::ReportsIncomplete => 3,
            Exit::Infrastructure => 4,
            Exit::WrongFirmware => 5,
            Exit::Interrupted(signal) => signal.exit_status(),
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e.code())
    }
}

/// The exit codes as `--help` lists them.
pub const HELP: &str = "Exit status:
  0  passed: every case passed, no regression, coverage complete
  1  failed: a case failed (run, or the runs merge put together), B regresses (diff), coverage incomplete
     (coverage --require-complete), a recorded session had no answered command or its case did not pass
     again (record), or a report or service could not do its work
  2  bad input: a rig, suite, run record or argument that cannot be used (the message names file, line, field);
     for merge, shards that do not make one run (one missing, a case twice, other suites)
  3  a report could not be written (the message names the file): what is on disk is not the whole run
  4  infrastructure: no case failed, but some could not be judged (a port gone, a connection refused,
     no answer to the sync, a rig found unhealthy; record: the rig's modem could not be reached); a firmware
     failure (1) takes precedence (run, merge); run --firmware: the flash itself failed or overran
  5  wrong firmware (run --firmware): after the flash the modem reports another revision than expected;
     no case ran (the record says \"wrong firmware: expected X, modem reports Y\")
  130, 143  stopped by SIGINT (Ctrl-C) or SIGTERM: the reports hold the cases that finished, marked incomplete";

/// Why a command stopped.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A rig, suite, folder or argument the command cannot use.
    #[error(transparent)]
    Input(#[from] InputError),
    /// An argument the command cannot use (a dialect it does not know, an address it cannot bind).
    #[error("{0}")]
    Usage(String),
    /// A run record that cannot be read.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// Work the command could not do with good input (a file it could not write, a port it
    /// could not open).
    #[error("{0}")]
    Failed(String),
}

impl Error {
    /// The one mapping from error to exit code.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Input(_) | Error::Usage(_) => Exit::BadInput,
            Error::Record(RecordError::Write { .. }) => Exit::Failed,
            Error::Record(_) => Exit::BadInput,
            Error::Failed(_) => Exit::Failed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_error_has_its_code() {
        let input = Error::Input(InputError::new(std::path::Path::new("rig.toml"), "no such file"));
        assert_eq!(input.exit().code(), 2);
        let record = Error::Record(RecordError::NoSchema { path: "run.json".into() });
        assert_eq!(record.exit().code(), 2);
        assert_eq!(Error::Failed("cannot write".into()).exit().code(), 1);
        assert!(HELP.contains("0  passed") && HELP.contains("1  failed") && HELP.contains("2  bad input"));
        assert_eq!(Exit::ReportsIncomplete.code(), 3);
        assert_eq!(Exit::Infrastructure.code(), 4);
        assert_eq!(Exit::WrongFirmware.code(), 5);
        assert!(HELP.contains("5  wrong firmware"));
        assert_eq!(Exit::Interrupted(miplcheck_runner::interrupt::Signal::Terminate).code(), 143);
    }
}
