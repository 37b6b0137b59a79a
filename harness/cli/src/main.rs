//! The `miplcheck` command: parses arguments and hands over to the runner and the emulator.
//! Exit status: see [`exit`], the one place codes are named.

mod accept;
mod coverage;
mod diff;
mod emulate;
mod exit;
mod merge;
mod out;
mod platform;
mod record;
mod report;
mod run;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "miplcheck",
    version,
    about = "Conformance harness for OneNET LwM2M (MIPL) AT commands of NB-IoT modems"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run suites against the rig's modem and write reports.
    Run(Box<run::RunArgs>),
    /// Serve the emulator for other tools (a terminal program, your MCU code, another harness).
    Emulate(emulate::EmulateArgs),
    /// Sit between an MCU and the rig's modem, forward both ways, and write what was said as a
    /// suite case (with its golden snapshot) when the session ends.
    Record(Box<record::RecordArgs>),
    /// Serve the mock OneNET platform (LwM2M bootstrap and registration over CoAP/UDP), print
    /// every datagram decoded, take commands on stdin (`read EP /3311/0/5700`, `help`), and with
    /// `--http` serve OneNET's HTTP API.
    Platform(platform::PlatformArgs),
    /// Which commands, URCs, event, result and error codes of each manual the golden snapshots
    /// exercise, with the cases and the manual section.
    Coverage(coverage::CoverageArgs),
    /// Compare two runs (vendor A vs B, firmware N-1 vs N): diff.html and diff.md. Exit status 1
    /// when B regresses (a case passed in A fails in B, or latency beyond the threshold).
    Diff(diff::DiffArgs),
    /// Write `report.html` (the run as one page) again from a run folder's `run.json`, or every
    /// report from its journal when the run died before writing them.
    Report(report::ReportArgs),
    /// Show the new snapshots a run kept for review and move them into the golden folder.
    Accept(accept::AcceptArgs),
    /// Put the shards of one plan (`run --partition`) together as one run, or whole runs of
    /// different rigs as one rack: a record per rig in plan order, every report, the evidence.
    Merge(merge::MergeArgs),
}

/// `miplcheck --help`: a line for each thing people do with it, then the exit statuses (each
/// command's `--help` has its own examples).
const EXAMPLES: &str = "Examples:
  miplcheck run --rig rigs/virtual-bc39.toml --rig rigs/virtual-m5310a.toml   every suite, both emulators, virtual time
  miplcheck run --rig my-bc39.toml --suite register --out reports/fw-2.1   one suite on a bench modem (rig from rigs/serial-bc39.example.toml)
  miplcheck run --rig my-bc39.toml --firmware fw-2.1.bin --out reports/fw-2.1   flash it with the rig's [flash]; exit 5 unless AT+CGMR then names its revision
  miplcheck diff reports/fw-2.0 reports/fw-2.1          firmware N against N+1; exit 1 on a regression
  miplcheck emulate --rig rigs/emulator-bc39.toml --pty --log    a modem for your MCU code, its AT traffic printed
  miplcheck record --rig rigs/emulator-bc39.toml --pty --out suites/my-driver.yaml   your MCU's session made a case
  miplcheck platform --listen 127.0.0.1:5683            the mock OneNET; type `help` for its commands
  MIPL_API_KEY=k miplcheck platform --http 127.0.0.1:8080   …and OneNET's HTTP API (curl -H 'api-key: k' …)
  miplcheck coverage --require-complete                 what the golden snapshots exercise of each manual";

fn main() -> ExitCode {
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("MIPLCHECK_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        // Colour codes only for a person at a terminal, never in a log file or CI.
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    // `run --help` gives its examples and the exit statuses a rack's CI reads.
    let command = <Cli as clap::CommandFactory>::command()
        .after_help(format!("{EXAMPLES}\n\n{}", exit::HELP))
        .mut_subcommand("run", |c| c.after_help(format!("{}\n\n{}", run::EXAMPLES, exit::HELP)))
        .mut_subcommand("merge", |c| c.after_help(merge::HELP))
        .mut_subcommand("emulate", |c| c.after_help(emulate::EXAMPLES))
        .mut_subcommand("record", |c| c.after_help(format!("{}\n\n{}", record::EXAMPLES, exit::HELP)));
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&command.get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let outcome = match cli.command {
        Command::Run(a) => run::run(*a),
        Command::Emulate(a) => emulate::run(a),
        Command::Record(a) => record::run(*a),
        Command::Platform(a) => platform::run(a),
        Command::Coverage(a) => coverage::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Report(a) => report::run(a),
        Command::Accept(a) => accept::run(a),
        Command::Merge(a) => merge::run(a),
    };
    match outcome {
        Ok(exit) => exit.into(),
        Err(e) => {
            eprintln!("error: {e}");
            e.exit().into()
        }
    }
}
