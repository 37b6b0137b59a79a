//! The `miplcheck` command: parses arguments and hands over to the runner and the emulator.
//! Exit status: see [`exit`], the one place codes are named.

mod accept;
mod coverage;
mod diff;
mod exit;
mod merge;
mod out;
mod platform;
mod report;
mod run;

use clap::{Args, Parser, Subcommand};
use exit::{Error, Exit};
use miplcheck_emulator::{serve, Modem, Options};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "miplcheck",
    version,
    about = "Conformance harness for OneNET LwM2M (MIPL) AT commands of NB-IoT modems",
    after_help = exit::HELP
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
    Emulate(EmulateArgs),
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

#[derive(Args)]
struct EmulateArgs {
    /// `bc39` or `m5310a`.
    #[arg(long, required_unless_present = "rig")]
    dialect: Option<String>,
    /// Serve the emulator an emulator rig file describes (its `[emulator]` table: identities,
    /// firmware, delays, quirks, faults), e.g. to put it behind ser2net as a bench modem.
    #[arg(long, conflicts_with = "dialect")]
    rig: Option<std::path::PathBuf>,
    /// Serve on a new pseudo-terminal and print its path.
    #[arg(long, conflicts_with = "tcp")]
    pty: bool,
    /// Serve on a TCP address, e.g. 127.0.0.1:7000.
    #[arg(long)]
    tcp: Option<String>,
    /// Answer every command this much later (e.g. 250ms).
    #[arg(long, value_parser = humantime::parse_duration)]
    delay: Option<std::time::Duration>,
    /// Start with echo off (ATE0).
    #[arg(long)]
    no_echo: bool,
}

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
        .mut_subcommand("run", |c| c.after_help(format!("{}\n\n{}", run::EXAMPLES, exit::HELP)))
        .mut_subcommand("merge", |c| c.after_help(merge::HELP));
    let cli = match <Cli as clap::FromArgMatches>::from_arg_matches(&command.get_matches()) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let outcome = match cli.command {
        Command::Run(a) => run::run(*a),
        Command::Emulate(a) => emulate(a),
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

fn emulate(a: EmulateArgs) -> Result<Exit, Error> {
    let mut o = match (&a.rig, &a.dialect) {
        (Some(path), _) => {
            let rig = miplcheck_runner::rig::Rig::load(path).map_err(Error::Input)?;
            match rig.target {
                miplcheck_runner::rig::Target::Emulator { options, .. } => options,
                _ => {
                    return Err(Error::Usage(format!(
                        "--rig {}: not an emulator rig (kind = \"emulator\")",
                        path.display()
                    )))
                }
            }
        }
        (None, Some(d)) => Options::for_dialect(d),
        (None, None) => unreachable!("clap requires --dialect or --rig"),
    };
    if a.no_echo {
        o.echo = false;
    }
    if let Some(d) = a.delay {
        o.delays.insert("*".into(), d);
    }
    let modem = Modem::new(o.clone()).map_err(|e| Error::Usage(format!("--dialect: {e}")))?;
    if let Some(addr) = a.tcp {
        let listener = std::net::TcpListener::bind(&addr).map_err(|e| Error::Usage(format!("--tcp {addr}: {e}")))?;
        if let Ok(local) = listener.local_addr() {
            out::warn_if_wide("the emulator's AT port", local);
        }
        say!("{} emulator on tcp {}", o.dialect, listener.local_addr().map(|a| a.to_string()).unwrap_or(addr));
        drop(modem);
        let make = move || Modem::new(o.clone()).expect("validated above");
        serve::on_tcp(listener, make).map_err(|e| Error::Failed(e.to_string()))?;
        return Ok(Exit::Ok);
    }
    if !a.pty {
        return Err(Error::Usage("say where to serve: --pty or --tcp ADDR".into()));
    }
    let p = serve::on_pty(modem).map_err(|e| Error::Failed(format!("cannot open a pseudo-terminal: {e}")))?;
    say!("{}", p.path.display());
    eprintln!("{} emulator on {} (Ctrl-C stops it)", o.dialect, p.path.display());
    p.running.wait();
    Ok(Exit::Ok)
}
