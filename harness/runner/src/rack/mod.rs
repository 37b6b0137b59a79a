//! A rack: many rigs in one run. One worker thread per rig (a modem runs one case at a time),
//! at most `jobs` at once; the suites are loaded and compiled once and shared. Each rig writes
//! what a single run writes into `<out>/<rig>/`; the rack's own reports (`junit.xml`, `rack.json`,
//! `rack.html`) are made from the rigs' records when every rig has finished ([`report`]).
//!
//! This module schedules rigs; it does not decide what a rig does with its cases (the
//! dispatcher does) and does not choose reporters (the CLI hands it a factory).

pub mod file;
pub mod report;

pub use file::RackFile;

use crate::dispatch::Plan;
use crate::outcome::Summary;
use crate::report::json::RecordBuilder;
use crate::report::{Event, Fanout, ReportFailure, Reporter};
use miplcheck_record::RunRecord;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Makes a rig's reporters, given its plan and its folder, and where its progress is shown.
pub type Reporters<'a> = dyn Fn(&Plan, &Path) -> (Fanout, Option<crate::engine::Progress>) + Sync + 'a;

/// The rigs of a run, planned.
#[derive(Debug)]
pub struct Rack {
    /// The rack's name in its reports.
    pub name: String,
    /// One plan per rig, in the rack's order; rig names are unique.
    pub plans: Vec<Plan>,
    /// Rigs run at once.
    pub jobs: usize,
    /// What `rack.json` says of the suites read.
    pub suites: Option<miplcheck_record::Suites>,
    /// The shard of the plan this rack run is (`--partition`).
    pub partition: Option<miplcheck_record::Partition>,
}

/// What one rig's run came to.
#[derive(Debug)]
pub struct RigRun {
    /// The rig's folder under the rack's.
    pub folder: PathBuf,
    pub summary: Summary,
    /// Its record as its reporters saw it.
    pub record: Option<RunRecord>,
    /// Its reports that could not be written.
    pub failures: Vec<ReportFailure>,
}

/// What the rack came to.
#[derive(Debug)]
pub struct RackRun {
    /// Every rig, in the rack's order.
    pub rigs: Vec<RigRun>,
    pub duration: Duration,
    pub started: std::time::SystemTime,
}

impl RackRun {
    /// Every rig's cases added up.
    pub fn totals(&self) -> miplcheck_record::Totals {
        let mut t = miplcheck_record::Totals::default();
        for r in &self.rigs {
            t.merge(&r.summary.totals);
        }
        t
    }

    /// The signal that stopped any rig.
    pub fn interrupted(&self) -> Option<crate::interrupt::Signal> {
        self.rigs.iter().find_map(|r| r.summary.interrupted)
    }

    /// Rigs that ended unhealthy.
    pub fn unhealthy(&self) -> impl Iterator<Item = &RigRun> {
        self.rigs
            .iter()
            .filter(|r| r.summary.health.as_ref().is_some_and(|h| h.state == miplcheck_record::HealthState::Unhealthy))
    }
}

/// Hands the rig's record to the rack when its run finishes.
struct Collect {
    builder: RecordBuilder,
    slot: Arc<Mutex<Option<RunRecord>>>,
}

impl Reporter for Collect {
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        if let Some(record) = self.builder.on(event)? {
            *self.slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(record);
        }
        Ok(())
    }
}

/// A rig's folder name: its name, with anything a file name cannot hold replaced.
pub fn folder_name(rig: &str) -> String {
    rig.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect()
}

impl Rack {
    /// The rack of these plans; two rigs with one name (or one folder) are bad input.
    pub fn new(name: String, plans: Vec<Plan>, jobs: Option<usize>) -> Result<Rack, crate::InputError> {
        for (i, p) in plans.iter().enumerate() {
            if let Some(other) = plans[..i].iter().find(|o| folder_name(&o.rig.name) == folder_name(&p.rig.name)) {
                return Err(crate::InputError::new(
                    &p.rig.path,
                    format!(
                        "rig name {:?} is also {}'s; each rig of a rack needs its own name (its reports' folder)",
                        p.rig.name,
                        other.rig.path.display()
                    ),
                )
                .field("name"));
            }
        }
        let jobs = jobs.unwrap_or(plans.len()).clamp(1, plans.len().max(1));
        Ok(Rack { name, plans, jobs, suites: None, partition: None })
    }

    /// Runs every rig, at most `jobs` at once, each with the reporters `reporters` makes for it
    /// (given the plan and the rig's folder under `out`).
    pub fn run(&self, out: &Path, reporters: &Reporters<'_>) -> RackRun {
        let started = std::time::SystemTime::now();
        let began = Instant::now();
        let next = AtomicUsize::new(0);
        let done: Mutex<Vec<Option<RigRun>>> = Mutex::new((0..self.plans.len()).map(|_| None).collect());
        std::thread::scope(|scope| {
            for _ in 0..self.jobs {
                scope.spawn(|| loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(plan) = self.plans.get(i) else { return };
                    let run = self.run_rig(plan, out, reporters);
                    done.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(run);
                });
            }
        });
        let rigs = done.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().flatten().collect();
        RackRun { rigs, duration: began.elapsed(), started }
    }

    fn run_rig(&self, plan: &Plan, out: &Path, reporters: &Reporters<'_>) -> RigRun {
        let folder = out.join(folder_name(&plan.rig.name));
        let mut plan = plan.clone();
        plan.run_dir = Some(folder.clone());
        let slot = Arc::new(Mutex::new(None));
        let (events, progress) = reporters(&plan, &folder);
        plan.progress = progress;
        let mut events = events.add("rack", Box::new(Collect { builder: RecordBuilder::new(), slot: slot.clone() }));
        // A panic in one rig's worker must not take the rack's reports with it.
        let summary = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| plan.execute(&mut events))) {
            Ok(s) => s,
            Err(_) => Summary {
                incomplete: Some(format!("the worker of rig {} stopped on an internal error", plan.rig.name)),
                ..Summary::default()
            },
        };
        let record = slot.lock().unwrap_or_else(|e| e.into_inner()).take();
        RigRun { folder, summary, record, failures: events.failures().to_vec() }
    }
}
