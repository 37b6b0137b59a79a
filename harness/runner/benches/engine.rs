//! The runner's own cost per case: the whole config suite against the emulator in virtual time
//! (no waiting), so what is measured is parsing, matching, recording and normalising.
//! `cargo bench -p miplcheck-runner --bench engine`; results in docs/benchmarks.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use miplcheck_runner::engine::{run_case, Context};
use miplcheck_runner::transcript::Redactor;
use miplcheck_runner::{target, Plan, Selection};
use std::path::Path;

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let plan = Plan::load(
        &root.join("rigs/emulator-bc39.toml"),
        &root.join("suites"),
        &root.join("golden"),
        Selection::suite("config"),
    )
    .unwrap();
    let rig = plan.rig.clone().with_virtual_link();
    let cases: Vec<_> = plan.selected().collect();
    let ctx = Context {
        dialect: rig.dialect,
        timing: &rig.timing,
        line_ending: &rig.line_ending,
        secrets: &rig.secrets,
        platform: None,
        onenet: None,
        tolerate: &rig.tolerate,
        progress: None,
    };
    let redactor = Redactor::new(&rig.secrets);
    let mut t = target::open(&rig).unwrap();
    let mut g = c.benchmark_group("engine");
    g.throughput(Throughput::Elements(cases.len() as u64));
    g.bench_function("config suite, virtual time", |b| {
        b.iter(|| {
            let mut lines = 0;
            for (suite, case) in &cases {
                t.prepare().unwrap();
                let run = run_case(t.port(), &ctx, suite, case);
                assert!(run.failure.is_none());
                lines += run.transcript.normalized(&redactor).len();
            }
            lines
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
