//! `miplcheck run`: one rig, or a rack of them (`--rig A --rig B`, a glob, `--rack FILE`) run in
//! parallel. This module turns arguments into plans and wires reporters; the runner does the rest.

use crate::exit::{Error, Exit};
use crate::say;
use clap::Args;
use miplcheck_record::FlashOutcome;
use miplcheck_runner::firmware::FirmwareFile;
use miplcheck_runner::partition::{self, Partition};
use miplcheck_runner::policy::{HealthTable, MaxFail, Policy, RetriesTable, RetryOn};
use miplcheck_runner::quarantine::Quarantine;
use miplcheck_runner::rack::{self, Rack, RackFile};
use miplcheck_runner::report::terminal::{StatusLevel, Terminal};
use miplcheck_runner::report::{
    coverage::CoverageReport, files::TranscriptFiles, folder::OutFolder, html::HtmlReport, journal::Journal,
    json::JsonRecord, junit::Junit, Fanout,
};
use miplcheck_runner::rig::Rig;
use miplcheck_runner::{Plan, Selection};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// `miplcheck run --help`'s examples.
pub const EXAMPLES: &str = "Examples:
  miplcheck run --rig rigs/emulator-bc39.toml                   every suite on one rig
  miplcheck run --rig rigs/emulator-bc39.toml --suite config --case 'config/mode*'
  miplcheck run --rig 'rigs/bench/*.toml' --jobs 8 --retries 2 --quarantine quarantine.yaml
  miplcheck run --rack rigs/rack/nightly.toml --out reports/nightly        the nightly rack
  miplcheck run --rack rigs/rack/nightly.toml --list            the plan per rig, touching no modem
  miplcheck run --rig rigs/emulator-m5310a.toml --status-level pass   no SKIP lines
  miplcheck run --rack rigs/rack/nightly.toml --partition hash:2/3 --out shard-2   one host's share
  miplcheck merge shard-1 shard-2 shard-3 --out tonight          the shards as one run
  miplcheck run --rig rigs/virtual-bc39.toml --firmware suites/data/fw_bc39_v2.bin --out reports/B
                                            flash (the rig's [flash]) and qualify a firmware";

#[derive(Args)]
pub struct RunArgs {
    /// A rig file (what is under test and how to reach it), or a glob of them in quotes. Repeat
    /// for a rack of rigs run in parallel.
    #[arg(long = "rig", value_name = "RIG", required_unless_present = "rack")]
    rigs: Vec<String>,
    /// A rack file: the rigs and the settings they share (jobs, retries, health, quarantine).
    #[arg(long, value_name = "FILE", conflicts_with = "rigs")]
    rack: Option<PathBuf>,
    /// How many rigs run at once (each runs one case at a time); all of them by default.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    jobs: Option<u64>,
    /// Only this suite (its `suite:` name or file stem); repeat for several.
    #[arg(long = "suite", value_name = "NAME")]
    suites: Vec<String>,
    /// Only cases whose `suite/case` contains this, or matches it as a glob with `*`; repeat for
    /// several.
    #[arg(long = "case", value_name = "PATTERN")]
    cases: Vec<String>,
    /// Leave out cases whose `suite/case` contains this or matches it as a glob; repeatable.
    #[arg(long, value_name = "PATTERN")]
    exclude: Vec<String>,
    /// Run a failed case again up to N times; one that then passes is reported flaky.
    #[arg(long, value_name = "N")]
    retries: Option<u32>,
    /// Wait this long before the first retry (`2s`, `500ms`).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    retry_delay: Option<Duration>,
    /// Each further retry waits this many times longer.
    #[arg(long, value_name = "FACTOR")]
    retry_backoff: Option<f64>,
    /// `any` failure, or only `infrastructure` errors (so a firmware failure is never retried).
    #[arg(long, value_name = "WHICH", value_parser = parse_retry_on)]
    retry_on: Option<RetryOn>,
    /// A YAML list of quarantined cases: they still run, their failure does not fail the run.
    #[arg(long, value_name = "FILE")]
    quarantine: Option<PathBuf>,
    /// Start no further case once N cases have failed or errored (across every rig).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    max_fail: Option<u64>,
    /// Run every case whatever fails (the default; overrides a rack file's `max_fail`).
    #[arg(long, conflicts_with = "max_fail")]
    no_fail_fast: bool,
    /// Print the plan per rig (the cases that would run, and each skip with its reason) and
    /// exit without touching a modem.
    #[arg(long)]
    list: bool,
    /// Run only shard K of N of the plan's rig × case units (K counted from 1, as cargo-nextest
    /// counts): `hash:K/N` by a stable hash of `rig/suite/case` (adding a case moves no other),
    /// or `slice:K/N` round robin in plan order. Put the shards together with `miplcheck merge`.
    #[arg(long, value_name = "KIND:K/N", value_parser = parse_partition)]
    partition: Option<Partition>,
    /// Which case lines to print: none, fail, retry, pass, or skip/all (every line, the default).
    #[arg(long, value_name = "LEVEL", default_value = "skip", value_parser = parse_level)]
    status_level: StatusLevel,
    /// Where reports go; `reports/<rig or rack>-<time>` by default.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The suites folder.
    #[arg(long = "suites", default_value = "suites", value_name = "DIR")]
    suites_dir: PathBuf,
    /// The golden snapshots folder.
    #[arg(long, default_value = "golden")]
    golden: PathBuf,
    /// Print the whole transcript of a failed case.
    #[arg(short, long)]
    verbose: bool,
    /// Flash this firmware file with the rig's `[flash]` before the first case, and run the cases
    /// only if the modem then reports the expected revision (exit 5 if not).
    #[arg(long, value_name = "FILE")]
    firmware: Option<PathBuf>,
    /// The revision `AT+CGMR` must report after `--firmware` is flashed; the package's own by
    /// default (required for a vendor image that is not a miplcheck package).
    #[arg(long, value_name = "REV", requires = "firmware")]
    expect_revision: Option<String>,
}

fn parse_retry_on(s: &str) -> Result<RetryOn, String> {
    s.parse()
}

fn parse_level(s: &str) -> Result<StatusLevel, String> {
    s.parse()
}

fn parse_partition(s: &str) -> Result<Partition, String> {
    s.parse()
}

/// The rigs and shared settings the arguments name.
struct Bench {
    name: Option<String>,
    rigs: Vec<PathBuf>,
    file: Option<RackFile>,
}

fn bench(a: &RunArgs) -> Result<Bench, Error> {
    if let Some(path) = &a.rack {
        let f = RackFile::load(path)?;
        return Ok(Bench { name: Some(f.name.clone()), rigs: f.rigs.clone(), file: Some(f) });
    }
    let mut rigs = Vec::new();
    for pattern in &a.rigs {
        let found = rack::file::expand(Path::new(pattern))
            .map_err(|m| miplcheck_runner::InputError::new(Path::new(pattern), m).field("--rig"))?;
        rigs.extend(found);
    }
    Ok(Bench { name: None, rigs, file: None })
}

pub fn run(a: RunArgs) -> Result<Exit, Error> {
    let root = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    miplcheck_runner::golden::init(&root);
    let bench = bench(&a)?;
    // Git's answer (two processes) comes while the suites load.
    let revision = {
        let (dir, golden) = (a.suites_dir.clone(), a.golden.clone());
        std::thread::spawn(move || miplcheck_runner::provenance::revision(&dir, &golden))
    };
    let selection = Selection { suites: a.suites.clone(), cases: a.cases.clone(), exclude: a.exclude.clone() };
    let suites = miplcheck_runner::dispatch::load_suites(&a.suites_dir, &selection)?;
    let file = bench.file.as_ref();
    let quarantine_file = a.quarantine.clone().or_else(|| file.and_then(|f| f.quarantine.clone()));
    let quarantine = Arc::new(match &quarantine_file {
        Some(q) => Quarantine::load(q)?,
        None => Quarantine::empty(),
    });
    let max_fail = match (a.no_fail_fast, a.max_fail) {
        (true, _) => None,
        (false, Some(n)) => Some(n as usize),
        (false, None) => file.and_then(|f| f.max_fail),
    };
    let max_fail = Arc::new(MaxFail::new(max_fail));
    let cli_retries = RetriesTable { count: a.retries, delay: a.retry_delay, backoff: a.retry_backoff, on: a.retry_on };
    let origin = miplcheck_runner::provenance::suites(&suites, revision.join().unwrap_or(None));
    let firmware = match &a.firmware {
        Some(f) => Some(Arc::new(FirmwareFile::load(f, a.expect_revision.as_deref())?)),
        None => None,
    };
    let mut plans = Vec::new();
    for path in &bench.rigs {
        let rig = Rig::load(path)?;
        for w in rig.warnings() {
            eprintln!("warning: {w}");
        }
        if let Some(f) = &firmware {
            f.check_rig(&rig)?;
        }
        let mut plan = Plan::for_rig(rig, suites.clone(), &a.golden, selection.clone())?;
        plan.firmware = firmware.clone();
        // The command line over the rig file over the rack file over the defaults.
        let (rack_retries, rack_health) = file.map(|f| (f.retries, f.health)).unwrap_or_default();
        plan.policy = Policy::default()
            .overlay(&rack_retries, &rack_health)
            .overlay(&plan.rig.retries, &plan.rig.health)
            .overlay(&cli_retries, &HealthTable::default());
        plan.quarantine = quarantine.clone();
        plan.max_fail = max_fail.clone();
        // The whole plan's snapshots, before any sharding, so every shard names the same.
        plan.suites_origin = Some(miplcheck_record::Suites {
            golden: Some(miplcheck_runner::provenance::golden(&plan)),
            ..origin.clone()
        });
        plans.push(plan);
    }
    let single = bench.file.is_none() && plans.len() == 1;
    let name = bench.name.clone().unwrap_or_else(|| if single { plans[0].rig.name.clone() } else { "rack".into() });
    let shard = a.partition.map(|p| partition::apply(p, &mut plans));
    if !single {
        // A rig with no unit in this shard is not touched at all.
        plans.retain(|p| p.selected().next().is_some());
    }
    let mut rack = Rack::new(name.clone(), plans, a.jobs.map(|j| j as usize))?;
    rack.suites = Some(origin);
    rack.partition = shard.clone();
    if a.list {
        return list(&rack, shard.as_ref());
    }
    let out = a.out.clone().unwrap_or_else(|| default_out(&name));
    let _folder = OutFolder::claim(&out)?;
    miplcheck_runner::interrupt::install().map_err(|e| Error::Failed(format!("cannot handle signals: {e}")))?;
    if single {
        return one(&a, &rack.plans[0], &out);
    }
    many(&a, &rack, &out)
}

/// One rig, its reports at the top of `out`, as before racks.
fn one(a: &RunArgs, plan: &Plan, out: &Path) -> Result<Exit, Error> {
    let mut plan = plan.clone();
    plan.run_dir = Some(out.to_path_buf());
    let terminal = Terminal::stdout(a.verbose).status_level(a.status_level);
    plan.progress = terminal.progress();
    let mut events = reporters(out, Box::new(terminal), Box::new(std::io::stdout()));
    let summary = plan.execute(&mut events);
    say!("reports: {}", out.display());
    for f in events.failures() {
        eprintln!("error: the {} report could not be written: {}", f.report, f.error);
    }
    let unhealthy = summary.health.as_ref().is_some_and(|h| h.state == miplcheck_record::HealthState::Unhealthy);
    let wrong = summary.flash.as_ref().filter(|f| f.outcome == FlashOutcome::WrongFirmware);
    if let Some(f) = wrong {
        eprintln!("error: {}; no case ran", flash_reason(f));
    }
    let base = exit(summary.interrupted, !events.failures().is_empty(), &summary.totals, unhealthy);
    Ok(or_wrong_firmware(base, wrong.is_some()))
}

/// A rack: every rig in its own folder under `out`, the rack's reports at the top.
fn many(a: &RunArgs, rack: &Rack, out: &Path) -> Result<Exit, Error> {
    use std::io::IsTerminal;
    match &rack.partition {
        Some(p) => say!(
            "miplcheck: rack {} shard {} ({} of the plan's {} units), {} rig(s), {} at once",
            rack.name,
            p.spec(),
            rack.plans.iter().map(|p| p.selected().count()).sum::<usize>(),
            p.plan_units,
            rack.plans.len(),
            rack.jobs
        ),
        None => say!("miplcheck: rack {} of {} rig(s), {} at once", rack.name, rack.plans.len(), rack.jobs),
    };
    let multi = std::io::stdout()
        .is_terminal()
        .then(|| indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stdout()));
    let (verbose, level) = (a.verbose, a.status_level);
    let make = |plan: &Plan, folder: &Path| {
        let terminal = Terminal::rack_member(&plan.rig.name, verbose, multi.as_ref()).status_level(level);
        let progress = terminal.progress();
        match OutFolder::claim(folder) {
            // The claim is only for clearing an earlier run's files; the rack's lock covers it.
            Ok(f) => drop(f),
            Err(e) => tracing::error!("{e}"),
        }
        (reporters(folder, Box::new(terminal), Box::new(std::io::sink())), progress)
    };
    let run = rack.run(out, &make);
    let failures = rack::report::write(rack, out, &run);
    let totals = run.totals();
    for r in run.unhealthy() {
        let why = r.summary.health.as_ref().and_then(|h| h.reason.clone()).unwrap_or_default();
        say!("unhealthy: {}: {}", r.folder.display(), miplcheck_record::printable(&why));
    }
    say!(
        "{}: {} in {:.1} s",
        if rack.name == "rack" { "rack".to_string() } else { format!("rack {}", rack.name) },
        miplcheck_runner::report::terminal::totals(&totals, ""),
        run.duration.as_secs_f64()
    );
    say!("reports: {}", out.display());
    let mut incomplete = !failures.is_empty();
    for f in run.rigs.iter().flat_map(|r| r.failures.iter()).chain(&failures) {
        eprintln!("error: the {} report could not be written: {}", f.report, f.error);
        incomplete = true;
    }
    let unhealthy = run.unhealthy().next().is_some();
    let wrong: Vec<_> = run
        .rigs
        .iter()
        .filter_map(|r| r.summary.flash.as_ref().filter(|f| f.outcome == FlashOutcome::WrongFirmware).map(|f| (r, f)))
        .collect();
    for (r, f) in &wrong {
        eprintln!("error: {}: {}; its cases did not run", r.folder.display(), flash_reason(f));
    }
    Ok(or_wrong_firmware(exit(run.interrupted(), incomplete, &totals, unhealthy), !wrong.is_empty()))
}

/// The exit status, in one order: a signal, then reports missing, then a firmware failure,
/// then the bench's errors, else passed. `merge` judges the merged verdict by it too.
pub(crate) fn exit(
    signal: Option<miplcheck_runner::interrupt::Signal>,
    reports_incomplete: bool,
    totals: &miplcheck_record::Totals,
    unhealthy: bool,
) -> Exit {
    match signal {
        Some(s) => Exit::Interrupted(s),
        None if reports_incomplete => Exit::ReportsIncomplete,
        None if totals.failed > 0 => Exit::Failed,
        None if totals.errors > 0 || unhealthy => Exit::Infrastructure,
        None => Exit::Ok,
    }
}

/// A wrong firmware on a rig comes after a signal and missing reports, and before everything
/// else: its cases did not run, so the run qualified nothing, whatever other rigs did.
fn or_wrong_firmware(base: Exit, wrong: bool) -> Exit {
    match base {
        Exit::Interrupted(_) | Exit::ReportsIncomplete => base,
        _ if wrong => Exit::WrongFirmware,
        _ => base,
    }
}

/// What a flash says of itself (`wrong firmware: expected X, modem reports Y`), printable.
fn flash_reason(f: &miplcheck_record::Flash) -> String {
    miplcheck_record::printable(f.reason.as_deref().unwrap_or("wrong firmware"))
}

/// Every reporter a rig's run writes into `dir`.
fn reporters(
    dir: &Path,
    terminal: Box<dyn miplcheck_runner::report::Reporter>,
    coverage_out: Box<dyn std::io::Write + Send>,
) -> Fanout {
    let dir = dir.to_path_buf();
    Fanout::new()
        .add("journal", Box::new(Journal::new(&dir)))
        .add("terminal", terminal)
        .add("junit", Box::new(Junit::new(dir.join("junit.xml"))))
        .add("transcripts", Box::new(TranscriptFiles::new(dir.clone())))
        .add("coverage", Box::new(CoverageReport::new(dir.clone(), coverage_out)))
        .add("run record", Box::new(JsonRecord::new(dir.join("run.json"))))
        .add("html", Box::new(HtmlReport::new(dir.join(miplcheck_html::FILE))))
}

/// `--list`: each rig's plan (this shard's, with `--partition`), touching no modem.
fn list(rack: &Rack, shard: Option<&miplcheck_record::Partition>) -> Result<Exit, Error> {
    if let Some(p) = shard {
        let mine: usize = rack.plans.iter().map(|p| p.selected().count()).sum();
        if !say!(
            "shard {}: {mine} of the plan's {} units ({} rig(s) with units)",
            p.spec(),
            p.plan_units,
            rack.plans.len()
        ) {
            return Ok(Exit::Ok);
        }
    }
    for plan in &rack.plans {
        let (mut run, mut skipped) = (vec![], vec![]);
        for (s, c) in plan.selected() {
            match plan.skip_reason(s, c) {
                None => run.push(format!("  run  {}/{} ({})", s.name, c.id, c.spec)),
                Some(why) => skipped.push(format!("  skip {}/{}: {why}", s.name, c.id)),
            }
        }
        let p = &plan.policy;
        let line = format!(
            "rig {} ({}, {}): {} to run, {} skipped; retries {} ({}), unhealthy after {} errors in a row",
            plan.rig.name,
            plan.rig.dialect.name,
            plan.rig.path.display(),
            run.len(),
            skipped.len(),
            p.retries.count,
            match p.retries.on {
                RetryOn::Any => "any failure",
                RetryOn::Infrastructure => "infrastructure errors only",
            },
            p.max_errors
        );
        if !say!("{line}") {
            return Ok(Exit::Ok);
        }
        for l in run.iter().chain(&skipped) {
            if !say!("{l}") {
                return Ok(Exit::Ok);
            }
        }
    }
    Ok(Exit::Ok)
}

fn default_out(name: &str) -> PathBuf {
    let stamp = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string().replace(':', "");
    Path::new("reports").join(format!("{name}-{stamp}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use miplcheck_runner::interrupt::Signal;

    #[test]
    fn a_wrong_firmware_comes_after_a_signal_and_missing_reports_only() {
        assert_eq!(or_wrong_firmware(Exit::Ok, true), Exit::WrongFirmware);
        assert_eq!(or_wrong_firmware(Exit::Failed, true), Exit::WrongFirmware, "another rig failing");
        assert_eq!(or_wrong_firmware(Exit::Infrastructure, true), Exit::WrongFirmware, "its cases are not-run errors");
        assert_eq!(or_wrong_firmware(Exit::ReportsIncomplete, true), Exit::ReportsIncomplete);
        assert_eq!(or_wrong_firmware(Exit::Interrupted(Signal::Interrupt), true), Exit::Interrupted(Signal::Interrupt));
        assert_eq!(or_wrong_firmware(Exit::Failed, false), Exit::Failed);
    }
}
