//! The `miplcheck` command: parses arguments and hands over to the runner and the emulator.
//! Exit status: see [`exit`], the one place codes are named.

mod accept;
mod coverage;
mod diff;
mod emulate;
mod exit;
mod merge;
mod out;
mod record;
mod report;
mod run;

use clap::{Args, Parser, Subcommand};
use exit::{Error, Exit};
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
    Emulate(emulate::EmulateArgs),
    /// Sit between an MCU and the rig's modem, forward both ways, and write what was said as a
    /// suite case (with its golden snapshot) when the session ends.
    Record(Box<record::RecordArgs>),
    /// Serve the mock OneNET platform (LwM2M bootstrap and registration over CoAP/UDP) and print
    /// every datagram, decoded.
    Platform(PlatformArgs),
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
struct PlatformArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:5683")]
    listen: std::net::SocketAddr,
    /// Do not observe, discover and read right after registration (OneNET's "obsv" off).
    #[arg(long)]
    no_auto_observe: bool,
    /// Refuse registrations without this auth code (CoAP option 63); better given through the
    /// MIPL_AUTH_CODE environment variable than on the command line.
    #[arg(long, env = "MIPL_AUTH_CODE", hide_env_values = true)]
    auth_code: Option<String>,
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
        Command::Platform(a) => platform(a),
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

fn platform(a: PlatformArgs) -> Result<Exit, Error> {
    use miplcheck_platform::{udp, Control, PlatformOptions};
    let opts = PlatformOptions {
        auto_observe: !a.no_auto_observe,
        auth_code: a.auth_code,
        server_uri: format!("coap://{}", a.listen),
        ..Default::default()
    };
    let epoch = std::time::Instant::now();
    let pf = udp::spawn(a.listen, opts, epoch).map_err(|e| Error::Usage(format!("--listen {}: {e}", a.listen)))?;
    out::warn_if_wide("the mock platform", pf.addr);
    // A reader that went away (`| head`) ends the service quietly.
    if !say!("mock OneNET platform on coap://{} (Ctrl-C stops it)", pf.addr) {
        return Ok(Exit::Ok);
    }
    loop {
        std::thread::sleep(std::time::Duration::from_millis(100));
        for r in pf.take_records() {
            // Whatever a datagram carries (an `ep=` with terminal escapes) is shown escaped.
            let text = miplcheck_record::printable(&r.describe());
            if !say!("{:>10.3}s {} {text}", r.at.as_secs_f64(), r.dir.arrow()) {
                return Ok(Exit::Ok);
            }
        }
        // What the platform did on its own: expiries, evictions, refusals and their reasons.
        for n in pf.take_notes() {
            println!("{:>10.3}s PF    {} {}", n.at.as_secs_f64(), n.peer.as_deref().unwrap_or("-"), n.text);
        }
    }
}
