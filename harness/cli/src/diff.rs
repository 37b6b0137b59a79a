//! `miplcheck diff RUN_A RUN_B`: two run records compared (vendor A vs vendor B, or firmware N-1
//! vs N), written as `diff.html` and `diff.md`, with a short summary on standard output.
//! Two rack folders (`rack.json`, as `run --rack` and `merge` write them) are compared rig by
//! rig, rigs paired by name, a diff per rig in `<out>/<rig>/`.
//! Exit status: 0 no regression; 1 a case that passed in A fails in B, or a command's latency in B
//! is slower beyond the threshold (and by at least `--min-delta`) in the bulk of its answers, at
//! the 95% lower bound of the shift, and in its p95 as well once both sides have
//! `--p95-min-samples` (the rule: `miplcheck_diff::latency`); 2 bad input (a record that cannot
//! be read, an argument that does not parse).

use crate::exit::{Error, Exit};
use clap::Args;
use miplcheck_diff::matrix::by_kind;
use miplcheck_diff::{self as diff, latency, latency::Threshold, summary, Options};
use miplcheck_record::{RecordError, RunRecord};
use miplcheck_runner::InputError;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct DiffArgs {
    /// The reference run: a run folder (with run.json) or a run.json file.
    run_a: PathBuf,
    /// The run compared with it.
    run_b: PathBuf,
    /// Where diff.html and diff.md go; `reports/diff-<A>-vs-<B>` by default.
    #[arg(long)]
    out: Option<PathBuf>,
    /// How much slower B may be per command: a percentage of A's median (20%) or a time (50ms).
    /// A command regresses when B is slower by more than this in the bulk of its answers (at the
    /// 95% lower bound of the shift of every B sample against every A sample) and, with
    /// `--p95-min-samples` a side, in its p95 too.
    #[arg(long, default_value = "20%")]
    threshold: Threshold,
    /// Commands timed fewer times than this on either side are shown but not judged.
    #[arg(long, default_value_t = 3)]
    min_samples: usize,
    /// Fewer samples than this on a side and the p95 is not judged, only the bulk: below 20 the
    /// nearest-rank p95 is the slowest sample, one scheduling spike.
    #[arg(long, default_value_t = 20)]
    p95_min_samples: usize,
    /// A change smaller than this is never a regression, whatever the threshold (timer and
    /// USB-serial jitter); 0 turns it off.
    #[arg(long, default_value = "5ms", value_parser = latency::parse_ms)]
    min_delta: f64,
}

/// A record, or which argument named one that cannot be read.
fn load(p: &Path, arg: &str) -> Result<RunRecord, Error> {
    RunRecord::load_streaming(p).map_err(|e: RecordError| InputError::new(e.path(), e.detail()).field(arg).into())
}

/// A run's name for the default folder: the rig, or the folder when both runs share a rig.
fn name(r: &RunRecord, p: &Path, same_rig: bool) -> String {
    let raw = if same_rig {
        let folder = if p.is_dir() { p } else { p.parent().unwrap_or(p) };
        folder.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_else(|| r.rig.name.clone())
    } else {
        r.rig.name.clone()
    };
    raw.chars().map(|c| if c.is_ascii_alphanumeric() || "-_.".contains(c) { c } else { '_' }).collect()
}

/// A rack folder (with `rack.json` and no `run.json`): its rigs' records by name.
fn rack_rigs(p: &Path, arg: &str) -> Result<Option<Vec<(String, PathBuf)>>, Error> {
    if !p.is_dir() || p.join("run.json").exists() || !p.join("rack.json").exists() {
        return Ok(None);
    }
    let rack = miplcheck_record::RackRecord::load(p)
        .map_err(|e: RecordError| Error::from(InputError::new(e.path(), e.detail()).field(arg)))?;
    Ok(Some(rack.rigs.iter().map(|r| (r.name.clone(), p.join(&r.folder))).collect()))
}

pub fn run(a: DiffArgs) -> Result<Exit, Error> {
    match (rack_rigs(&a.run_a, "RUN_A")?, rack_rigs(&a.run_b, "RUN_B")?) {
        (Some(ra), Some(rb)) => return racks(a, ra, rb),
        (Some(_), None) | (None, Some(_)) => {
            return Err(Error::Usage(
                "one run is a rack and the other is not: compare two racks, or a rig's folder of each".into(),
            ))
        }
        (None, None) => {}
    }
    one(a)
}

/// Two racks, rig by rig (rigs by name): a diff per rig in `<out>/<rig>/`; a regression in any
/// rig is the rack's.
fn racks(a: DiffArgs, ra: Vec<(String, PathBuf)>, rb: Vec<(String, PathBuf)>) -> Result<Exit, Error> {
    let out = a.out.clone().unwrap_or_else(|| {
        let stem = |p: &Path| p.file_name().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
        Path::new("reports").join(format!("diff-{}-vs-{}", stem(&a.run_a), stem(&a.run_b)))
    });
    let mut worst = Exit::Ok;
    for (name, pa) in &ra {
        let Some((_, pb)) = rb.iter().find(|(n, _)| n == name) else {
            // Every case of a rig that is gone went unrun: a regression, not a footnote.
            crate::say!(
                "rig {name}: only in {}: each of its cases is missing from B (a regression)",
                a.run_a.display()
            );
            worst = Exit::Failed;
            continue;
        };
        crate::say!("rig {name}:");
        let one_args = DiffArgs {
            run_a: pa.clone(),
            run_b: pb.clone(),
            out: Some(out.join(miplcheck_runner::rack::folder_name(name))),
            threshold: a.threshold,
            min_samples: a.min_samples,
            p95_min_samples: a.p95_min_samples,
            min_delta: a.min_delta,
        };
        let exit = one(one_args)?;
        if exit != Exit::Ok {
            worst = exit;
        }
    }
    for (name, _) in rb.iter().filter(|(n, _)| !ra.iter().any(|(m, _)| m == n)) {
        crate::say!("rig {name}: only in {}", a.run_b.display());
    }
    crate::say!(
        "racks: {}",
        if worst == Exit::Ok { "no rig regresses (exit status 0)" } else { "a rig regresses (exit status 1)" }
    );
    Ok(worst)
}

/// Two runs of one rig each.
fn one(a: DiffArgs) -> Result<Exit, Error> {
    // Both at once, each read as it is parsed so that neither holds its text: reading is half
    // of a big diff's time, and two texts beside two records would double the peak.
    let (ra, rb) = std::thread::scope(|s| {
        let b = s.spawn(|| load(&a.run_b, "RUN_B"));
        let ra = load(&a.run_a, "RUN_A");
        (ra, b.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
    });
    let (ra, rb) = (ra?, rb?);
    let same_rig = ra.rig.name == rb.rig.name;
    let out = a.out.unwrap_or_else(|| {
        Path::new("reports").join(format!(
            "diff-{}-vs-{}",
            name(&ra, &a.run_a, same_rig),
            name(&rb, &a.run_b, same_rig)
        ))
    });
    let c = diff::compare(
        &ra,
        &rb,
        Options {
            threshold: a.threshold,
            min_samples: a.min_samples,
            p95_min_samples: a.p95_min_samples,
            min_delta_ms: a.min_delta,
        },
    );
    std::fs::create_dir_all(&out)
        .map_err(|e| InputError::new(&out, format!("cannot create the report folder: {e}")).field("--out"))?;
    let (md, html) = (out.join("diff.md"), out.join("diff.html"));
    for (path, text) in [(&md, diff::markdown::render(&c)), (&html, diff::html::render(&c))] {
        std::fs::write(path, text).map_err(|e| InputError::new(path, format!("cannot write: {e}")).field("--out"))?;
    }
    let n = c.counts();
    let (code, verdict) = summary::verdict(&c);
    for i in [&c.a, &c.b] {
        crate::say!("{}: {} ({}), {}, started {}", i.side, i.rig, i.model, i.firmware, i.started);
    }
    crate::say!(
        "cases: {} compared, {} differ, {} verdict regression(s); {} ran on one side only, {} in one record only",
        n.compared,
        n.differing,
        n.verdict_regressions,
        n.ran_one_side,
        n.record_one_side
    );
    let kinds: Vec<String> = by_kind(&c.commands).iter().map(|(k, v)| format!("{} {}", k.words(), v.len())).collect();
    let kinds = if kinds.is_empty() { String::new() } else { format!(" ({})", kinds.join(", ")) };
    crate::say!(
        "commands: {} of {} differ{kinds}; event codes: {} differ",
        n.commands_differing,
        n.commands,
        n.events_differing
    );
    let p95 = match latency::p95_not_judged(&c.latency, c.options) {
        0 => String::new(),
        k => format!(
            "; p95 not judged for {k} of them (fewer than {} samples a side)",
            c.options.p95_min_samples.max(c.options.min_samples)
        ),
    };
    crate::say!(
        "latency: {} regression(s) beyond {} among {} command(s) timed in both runs{p95}",
        n.latency_regressions,
        latency::describe(c.options),
        n.latency_compared
    );
    crate::say!("{verdict}");
    crate::say!("reports: {} {}", md.display(), html.display());
    // Freeing two big records and their comparison is a tenth of a big diff's time, and nothing
    // waits for it: a thread does it while the next rig is compared, or the process ends.
    std::thread::spawn(move || drop((c, ra, rb)));
    Ok(if code == 0 { Exit::Ok } else { Exit::Failed })
}
