//! `miplcheck coverage`: which commands, URCs, event, result and error codes of each manual the
//! golden snapshots exercise. Exit status: 0, or 1 with `--require-complete` when a command, URC or
//! event of the manual is uncovered; 2 on bad input.

use crate::exit::{Error, Exit};
use clap::{Args, ValueEnum};
use miplcheck_at::Dialect;
use miplcheck_coverage::{self as coverage, render, Coverage};
use miplcheck_runner::coverage_sources as sources;
use miplcheck_runner::InputError;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct CoverageArgs {
    /// Only this dialect; both by default.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(Dialect::names()))]
    dialect: Option<String>,
    /// The suites folder: which cases exist, and the section each cites.
    #[arg(long, default_value = "suites")]
    suites: PathBuf,
    /// The golden snapshots folder: what the cases really sent and received.
    #[arg(long, default_value = "golden")]
    golden: PathBuf,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Write the report here instead of to standard output.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Exit 1 when a command, URC or event code of the manual is uncovered.
    #[arg(long)]
    require_complete: bool,
    /// Text format: list every item with the cases that exercise it.
    #[arg(short, long)]
    verbose: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Markdown,
    Json,
}

pub fn run(a: CoverageArgs) -> Result<Exit, Error> {
    let dialects: Vec<&'static Dialect> = match &a.dialect {
        Some(name) => Dialect::by_name(name).into_iter().collect(),
        None => Dialect::all().to_vec(),
    };
    let mut reports: Vec<Coverage> = Vec::new();
    // Said on standard error so `--format json` output stays parseable.
    let mut notes = String::new();
    for d in &dialects {
        let snaps = sources::load(d, &a.suites, &a.golden)?;
        if snaps.cases.is_empty() {
            let rig = format!("rigs/emulator-{}.toml", d.name);
            let _ = writeln!(
                notes,
                "no snapshots in {} yet: run `miplcheck run --rig {rig}` and `cargo insta accept`",
                snaps.dir.display()
            );
        } else if !snaps.without_snapshot.is_empty() {
            let _ = writeln!(
                notes,
                "{}: {} case(s) without a snapshot, not counted: {}",
                d.name,
                snaps.without_snapshot.len(),
                snaps.without_snapshot.join(", ")
            );
        }
        if !snaps.orphans.is_empty() {
            let _ = writeln!(
                notes,
                "{}: snapshot(s) of no case in {}, not counted: {}",
                snaps.dir.display(),
                a.suites.display(),
                snaps.orphans.join(", ")
            );
        }
        reports.push(coverage::analyse(d, miplcheck_emulator::events_produced(d.name), &snaps.cases));
    }
    let text = match a.format {
        Format::Text => reports.iter().map(|c| render::text(c, a.verbose)).collect::<Vec<_>>().join("\n"),
        Format::Markdown => reports.iter().map(render::markdown).collect::<Vec<_>>().join("\n"),
        Format::Json => render::json(&reports),
    };
    eprint!("{notes}");
    emit(a.out.as_deref(), &text)?;
    let complete = reports.iter().all(|c| c.summary().complete);
    if a.require_complete && !complete {
        eprintln!("coverage is not complete: a command, URC or event of the manual is uncovered");
        return Ok(Exit::Failed);
    }
    Ok(Exit::Ok)
}

fn emit(out: Option<&Path>, text: &str) -> Result<(), InputError> {
    match out {
        None => {
            // A closed pipe (`| head`) ends the listing quietly.
            crate::out::stdout(format_args!("{text}"));
            Ok(())
        }
        Some(path) => std::fs::write(path, text)
            .map_err(|e| InputError::new(path, format!("cannot write the report: {e}")).field("--out")),
    }
}
