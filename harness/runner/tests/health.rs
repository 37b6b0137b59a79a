//! When a rig is given up on: a modem whose health check passes but whose cases keep failing for
//! a reason of the bench is marked unhealthy after `[health] max_errors` errors in a row, and its
//! remaining cases are reported not run; a case that runs in between resets the count.

use miplcheck_emulator::sim::SimPort;
use miplcheck_emulator::{Modem, Options};
use miplcheck_record::HealthState;
use miplcheck_runner::report::Fanout;
use miplcheck_runner::rig::Rig;
use miplcheck_runner::suite::Suite;
use miplcheck_runner::target::{HealthReport, Target, TargetError};
use miplcheck_runner::Plan;
use miplcheck_transport::Port;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// An emulator in virtual time whose preparation fails on the calls `fails` names (call 0 is
/// the identification before the first case, call N case N − 1's), while its health check always
/// passes: a flapping USB link.
struct Flapping {
    port: SimPort,
    calls: usize,
    fails: Vec<usize>,
}

impl Flapping {
    fn new(fails: Vec<usize>) -> Self {
        Flapping { port: SimPort::new(Modem::new(Options::for_dialect("bc39")).unwrap()), calls: 0, fails }
    }
}

impl Target for Flapping {
    fn describe(&self) -> String {
        "flapping".into()
    }
    fn port(&mut self) -> &mut dyn Port {
        &mut self.port
    }
    fn prepare(&mut self) -> Result<(), TargetError> {
        self.calls += 1;
        if self.fails.contains(&(self.calls - 1)) {
            return Err(TargetError::NoOk { tries: 5, spent: Duration::from_secs(5), received: String::new() });
        }
        self.port.reset();
        Ok(())
    }
    fn health_check(&mut self) -> HealthReport {
        HealthReport { ok: true, rungs: vec!["AT: OK".into()] }
    }
}

fn plan(cases: usize, max_errors: u32) -> (Plan, tempfile::TempDir) {
    let rig = format!("kind = \"emulator\"\ndialect = \"bc39\"\n[emulator]\nlink = \"virtual\"\n[health]\nmax_errors = {max_errors}\n");
    let rig = Rig::parse(Path::new("rigs/test.toml"), &rig).unwrap();
    let mut yaml = String::from("suite: t\ncases:\n");
    for i in 0..cases {
        yaml += &format!("  - id: c{i}\n    spec: ITU-T V.250\n    steps:\n      - send: AT\n");
    }
    let suite = Suite::parse(Path::new("suites/t.yaml"), &yaml).unwrap();
    // No golden snapshots: a case that runs fails its snapshot, which is a case that ran all the
    // same; the pending snapshots go to a run folder of their own.
    let dir = tempfile::tempdir().unwrap();
    let mut p = Plan::new(rig, Arc::new(vec![suite]), dir.path().join("golden"));
    p.run_dir = Some(dir.path().join("run"));
    (p, dir)
}

#[test]
fn three_infrastructure_errors_in_a_row_give_the_rig_up() {
    let (p, _dir) = plan(6, 3);
    let mut t = Flapping::new(vec![2, 3, 4]);
    let summary = p.execute_on(&mut t, &mut Fanout::new());
    let t = summary.totals;
    // Case 0 runs, 1, 2 and 3 error (the third in a row gives the rig up), 4 and 5 never run.
    assert_eq!((t.passed + t.failed, t.errors), (1, 5), "{t:?}");
    let h = summary.health.unwrap();
    assert_eq!(h.state, HealthState::Unhealthy);
    assert!(h.reason.unwrap().contains("3 infrastructure error(s) in a row"));
}

#[test]
fn a_case_that_runs_resets_the_count() {
    let (p, _dir) = plan(6, 2);
    // Errors on cases 0, 2 and 4, each followed by one that runs: never two in a row.
    let mut t = Flapping::new(vec![1, 3, 5]);
    let summary = p.execute_on(&mut t, &mut Fanout::new());
    let t = summary.totals;
    assert_eq!((t.passed + t.failed, t.errors), (3, 3), "{t:?}");
    assert_eq!(summary.health.unwrap().state, HealthState::Good);
}
