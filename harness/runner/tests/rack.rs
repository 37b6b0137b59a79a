//! The rack scheduler: every rig runs, its results come back in the rack's order whatever order
//! the workers finished in, `--jobs` caps how many rigs run at once, and rig names are unique.

use miplcheck_runner::rack::{folder_name, Rack};
use miplcheck_runner::report::{Event, Fanout, Reporter};
use miplcheck_runner::rig::Rig;
use miplcheck_runner::suite::Suite;
use miplcheck_runner::Plan;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

const SUITE: &str =
    "suite: t\ncases:\n  - id: at\n    spec: ITU-T V.250\n    steps:\n      - send: AT\n      - wait: 2s\n";

fn plan(name: &str, golden: &Path) -> Plan {
    let text = format!("name = \"{name}\"\nkind = \"emulator\"\ndialect = \"bc39\"\n[emulator]\nlink = \"virtual\"\n");
    let rig = Rig::parse(Path::new("rigs/test.toml"), &text).unwrap();
    let suite = Suite::parse(Path::new("suites/t.yaml"), SUITE).unwrap();
    Plan::new(rig, Arc::new(vec![suite]), golden.to_path_buf())
}

/// Counts the rigs running at once, and the most there ever were.
struct Concurrency {
    now: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
}

impl Reporter for Concurrency {
    fn on(&mut self, event: &Event<'_>) -> std::io::Result<()> {
        match event {
            Event::RunStarted { .. } => {
                let n = self.now.fetch_add(1, Ordering::SeqCst) + 1;
                self.most.fetch_max(n, Ordering::SeqCst);
                // Long enough that rigs allowed to overlap would.
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Event::RunFinished(_) => {
                self.now.fetch_sub(1, Ordering::SeqCst);
            }
            _ => {}
        }
        Ok(())
    }
}

fn most_at_once(jobs: usize) -> (usize, Vec<String>) {
    let golden = tempfile::tempdir().unwrap();
    let out = tempfile::tempdir().unwrap();
    let plans = (0..4).map(|i| plan(&format!("rig-{i}"), golden.path())).collect();
    let rack = Rack::new("t".into(), plans, Some(jobs)).unwrap();
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let make = |_: &Plan, _: &Path| {
        let r = Concurrency { now: now.clone(), most: most.clone() };
        (Fanout::new().add("count", Box::new(r)), None)
    };
    let run = rack.run(out.path(), &make);
    let names = run.rigs.iter().map(|r| r.record.as_ref().unwrap().rig.name.clone()).collect();
    (most.load(Ordering::SeqCst), names)
}

#[test]
fn jobs_caps_the_rigs_running_at_once_and_results_keep_the_racks_order() {
    let (most, names) = most_at_once(1);
    assert_eq!(most, 1);
    assert_eq!(names, ["rig-0", "rig-1", "rig-2", "rig-3"]);
    let (most, names) = most_at_once(2);
    assert!(most <= 2, "{most}");
    assert_eq!(names, ["rig-0", "rig-1", "rig-2", "rig-3"]);
}

#[test]
fn every_rig_needs_its_own_name() {
    let golden = tempfile::tempdir().unwrap();
    let e = Rack::new("t".into(), vec![plan("a/b", golden.path()), plan("a_b", golden.path())], None).unwrap_err();
    assert!(e.to_string().contains("each rig of a rack needs its own name"), "{e}");
    assert_eq!(folder_name("bench 1/ttyUSB0"), "bench_1_ttyUSB0");
}
