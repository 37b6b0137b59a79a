//! How long loading the suites takes per step: every file under `suites/` read, parsed, checked
//! and its patterns compiled, as a run does once at its start. A timing, not a test of speed:
//! it prints its figures (docs/benchmarks.md) and only checks that the suites load.
//!
//! `cargo test --release -p miplcheck-runner --test suite_load -- --ignored --nocapture`

use miplcheck_runner::suite::{self, Suite};
use std::path::Path;
use std::time::{Duration, Instant};

#[test]
#[ignore = "a timing for docs/benchmarks.md; run with --ignored --nocapture"]
fn suite_load_per_step() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../suites");
    let paths = suite::discover(&dir).unwrap();
    let load = || -> (Duration, usize) {
        let t = Instant::now();
        let suites: Vec<Suite> = paths.iter().map(|p| Suite::load(p).unwrap()).collect();
        let took = t.elapsed();
        let steps = suites
            .iter()
            .map(|s| s.setup.len() + s.teardown.len() + s.cases.iter().map(|c| c.steps.len()).sum::<usize>())
            .sum();
        (took, steps)
    };
    // The first load is a run's (nothing compiled yet in this process); the later ones show what
    // a process that loads the same suites again pays.
    let (first, steps) = load();
    assert!(steps > 100, "the suites hold {steps} steps");
    let mut again: Vec<Duration> = (0..20).map(|_| load().0).collect();
    again.sort();
    let per_step = |d: Duration| d.as_secs_f64() * 1e6 / steps as f64;
    println!(
        "suite load: {} files, {steps} steps; first load {:.1} ms ({:.1} µs/step), again median {:.1} ms ({:.1} µs/step)",
        paths.len(),
        first.as_secs_f64() * 1e3,
        per_step(first),
        again[again.len() / 2].as_secs_f64() * 1e3,
        per_step(again[again.len() / 2]),
    );
}
