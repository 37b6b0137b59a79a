//! One night's plan split across hosts and put back together: `run --partition` shards and
//! `merge` give what the unsharded run gives — the same cases, verdicts and order — for one rig
//! and for a rack; `merge` refuses shards that do not make one run, saying what to do; `diff`
//! finds no regression between the unsharded run and the merged one. The rigs are the shipped
//! emulators in virtual time (`[emulator] link = "virtual"`), so every run takes a fraction of a
//! second.

mod common;
use common::{miplcheck, root};

use miplcheck_record::{RackRecord, RunRecord};
use std::path::{Path, PathBuf};
use std::process::Output;

fn text(o: &Output) -> String {
    format!("{}\n{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The shipped emulator rigs with a virtual link, named `v-bc39` and `v-m5310a`, in `dir`.
fn rigs(dir: &Path) -> (PathBuf, PathBuf) {
    let make = |shipped: &str, name: &str| {
        let t = std::fs::read_to_string(root().join(shipped)).unwrap();
        let t = t.replacen("link = \"pty\"", "link = \"virtual\"", 1);
        let t = t.lines().map(|l| if l.starts_with("name = ") { format!("name = \"{name}\"") } else { l.into() });
        let path = dir.join(format!("{name}.toml"));
        std::fs::write(&path, t.collect::<Vec<_>>().join("\n") + "\n").unwrap();
        path
    };
    (make("rigs/emulator-bc39.toml", "v-bc39"), make("rigs/emulator-m5310a.toml", "v-m5310a"))
}

fn run(args: &[&str], out: &Path) -> Output {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.extend(["--out", out.to_str().unwrap()]);
    miplcheck(&all)
}

/// `miplcheck diff A B --out OUT`.
fn diff(a: &str, b: &str, out: PathBuf) -> Output {
    miplcheck(&["diff", a, b, "--out", out.to_str().unwrap()])
}

fn merge(runs: &[&Path], out: &Path) -> Output {
    let mut all = vec!["merge".to_string()];
    all.extend(runs.iter().map(|p| p.display().to_string()));
    all.extend(["--out".into(), out.display().to_string()]);
    miplcheck(&all.iter().map(String::as_str).collect::<Vec<_>>())
}

/// A record's cases without timings or run-to-run values: what must match between runs.
fn cases(r: &RunRecord) -> Vec<String> {
    r.cases
        .iter()
        .map(|c| {
            let steps: Vec<&str> = c.steps.iter().map(|s| s.label.as_str()).collect();
            format!(
                "{}/{} {} {:?} {} {:?} {:?} attempts={} steps={steps:?}",
                c.suite,
                c.case,
                c.verdict,
                c.failed_at,
                c.snapshot,
                c.reason,
                c.quarantine,
                c.attempt_count()
            )
        })
        .collect()
}

/// The unsharded run and `count` shards of `kind`, merged; the folders.
struct Sharded {
    _dir: tempfile::TempDir,
    whole: PathBuf,
    shards: Vec<PathBuf>,
    merged: PathBuf,
}

fn sharded(rig_args: &[&str], kind: &str, count: usize, dir: tempfile::TempDir) -> Sharded {
    let whole = dir.path().join("whole");
    let o = run(rig_args, &whole);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let mut shards = vec![];
    for k in 1..=count {
        let out = dir.path().join(format!("shard-{k}"));
        let spec = format!("{kind}:{k}/{count}");
        let mut args = rig_args.to_vec();
        args.extend(["--partition", spec.as_str()]);
        let o = run(&args, &out);
        assert_eq!(o.status.code(), Some(0), "{spec}: {}", text(&o));
        shards.push(out);
    }
    let merged = dir.path().join("merged");
    let o = merge(&shards.iter().map(PathBuf::as_path).collect::<Vec<_>>(), &merged);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    Sharded { _dir: dir, whole, shards, merged }
}

#[test]
fn hashed_shards_merge_into_the_unsharded_run() {
    let dir = tempfile::tempdir().unwrap();
    let (bc39, _) = rigs(dir.path());
    let rig = bc39.to_str().unwrap().to_string();
    let s = sharded(&["--rig", &rig, "--suite", "config"], "hash", 2, dir);

    let whole = RunRecord::load(&s.whole).unwrap();
    let merged = RunRecord::load(&s.merged).unwrap();
    assert!(whole.cases.len() > 20, "{}", whole.cases.len());
    assert_eq!(cases(&merged), cases(&whole));
    assert_eq!(merged.summary, whole.summary);
    assert_eq!(merged.suites, whole.suites);
    assert!(merged.partition.is_none() && merged.merged_from.len() == 2, "{:?}", merged.merged_from);

    // Each shard ran only its own units, none of them twice, and says which plan they are of.
    let parts: Vec<RunRecord> = s.shards.iter().map(|p| RunRecord::load(p).unwrap()).collect();
    assert_eq!(parts.iter().map(|p| p.cases.len()).sum::<usize>(), whole.cases.len());
    assert!(parts.iter().all(|p| !p.cases.is_empty() && p.cases.len() < whole.cases.len()));
    let p = parts[0].partition.as_ref().unwrap();
    assert_eq!((p.kind.as_str(), p.index, p.count, p.plan_units), ("hash", 1, 2, whole.cases.len()));
    assert_eq!(p.plan_hash, parts[1].partition.as_ref().unwrap().plan_hash);
    let suites = whole.suites.as_ref().unwrap();
    assert!(suites.hash.starts_with("sha256:") && suites.golden.is_some(), "{suites:?}");

    // Every verdict keeps its evidence, and every report is there.
    for c in merged.cases.iter().filter(|c| c.verdict != miplcheck_record::Verdict::Skipped) {
        let t = s.merged.join("transcripts").join(&c.suite).join(format!("{}.txt", c.case));
        assert!(t.is_file(), "{}", t.display());
    }
    for f in ["junit.xml", "report.html", "coverage.md"] {
        assert!(s.merged.join(f).is_file(), "{f}");
    }
    let junit = std::fs::read_to_string(s.merged.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), whole.cases.len());

    // diff finds no regression between the unsharded run and the merged one.
    let o = diff(s.whole.to_str().unwrap(), s.merged.to_str().unwrap(), s.merged.join("diff"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("0 verdict regression(s)"), "{}", text(&o));

    // A shard that was interrupted leaves cases unjudged: the merge is not a pass.
    let second = s.shards[1].join("run.json");
    let mut record = RunRecord::load(&s.shards[1]).unwrap();
    record.cases.pop();
    record.summary = miplcheck_record::Totals::of(&record.cases);
    record.incomplete = Some("interrupted by SIGTERM after 19 case(s)".into());
    record.save(&second).unwrap();
    let o = merge(&[&s.shards[0], &s.shards[1]], &s.merged.join("again"));
    assert_eq!(o.status.code(), Some(4), "{}", text(&o));
    assert!(text(&o).contains("incomplete: "), "{}", text(&o));
}

#[test]
fn a_sliced_rack_merges_into_the_rack_run() {
    let dir = tempfile::tempdir().unwrap();
    let (bc39, m5310a) = rigs(dir.path());
    let (a, b) = (bc39.to_str().unwrap().to_string(), m5310a.to_str().unwrap().to_string());
    let args = ["--rig", &a, "--rig", &b, "--suite", "config", "--suite", "m5310a-device"];
    let s = sharded(&args, "slice", 3, dir);

    let whole = RackRecord::load(&s.whole).unwrap();
    let merged = RackRecord::load(&s.merged).unwrap();
    assert_eq!(merged.rigs.iter().map(|r| &r.name).collect::<Vec<_>>(), ["v-bc39", "v-m5310a"]);
    assert_eq!(merged.summary, whole.summary);
    assert_eq!(merged.suites.as_ref().map(|s| &s.hash), whole.suites.as_ref().map(|s| &s.hash));
    for (w, m) in whole.rigs.iter().zip(&merged.rigs) {
        let names = |r: &miplcheck_record::RackRig| {
            r.cases.iter().map(|c| format!("{} {}", c.name, c.verdict)).collect::<Vec<_>>()
        };
        assert_eq!(names(m), names(w), "{}", w.name);
        let (wr, mr) =
            (RunRecord::load(&s.whole.join(&w.folder)).unwrap(), RunRecord::load(&s.merged.join(&m.folder)).unwrap());
        assert_eq!(cases(&mr), cases(&wr), "{}", w.name);
    }
    // Slices deal the rack's units round robin across both rigs: each shard has some of each.
    for shard in &s.shards {
        let r = RackRecord::load(shard).unwrap();
        assert_eq!(r.rigs.len(), 2, "{}", shard.display());
        let p = r.partition.as_ref().unwrap();
        assert_eq!(p.plan_units, whole.rigs.iter().map(|r| r.cases.len()).sum::<usize>());
    }
    for f in ["junit.xml", "rack.html", "v-bc39/report.html", "v-m5310a/junit.xml"] {
        assert!(s.merged.join(f).is_file(), "{f}");
    }
    let junit = std::fs::read_to_string(s.merged.join("junit.xml")).unwrap();
    assert!(junit.contains("<testsuite name=\"v-bc39\"") && junit.contains("<testsuite name=\"v-m5310a\""));

    // Racks are compared rig by rig.
    let o = diff(s.whole.to_str().unwrap(), s.merged.to_str().unwrap(), s.merged.join("diff"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(s.merged.join("diff/v-m5310a/diff.md").is_file(), "{}", text(&o));

    // A rig gone from tonight's rack took all its cases with it: that regresses.
    let mut fewer = RackRecord::load(&s.merged).unwrap();
    fewer.rigs.retain(|r| r.name == "v-bc39");
    fewer.save(&s.merged.join("rack.json")).unwrap();
    let o = diff(s.whole.to_str().unwrap(), s.merged.to_str().unwrap(), s.merged.join("diff-fewer"));
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("rig v-m5310a: only in"), "{}", text(&o));
}

#[test]
fn merge_refuses_what_is_not_one_run_and_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let (bc39, m5310a) = rigs(dir.path());
    let rig = bc39.to_str().unwrap().to_string();
    let d = dir.path();
    let base = ["--rig", rig.as_str(), "--suite", "config"];
    let shard = |spec: &str, name: &str, extra: &[&str]| {
        let out = d.join(name);
        let mut args = base.to_vec();
        args.extend(["--partition", spec]);
        args.extend_from_slice(extra);
        let o = run(&args, &out);
        assert_eq!(o.status.code(), Some(0), "{spec}: {}", text(&o));
        out
    };
    let h1 = shard("hash:1/3", "h1", &[]);
    let h2 = shard("hash:2/3", "h2", &[]);
    let h3 = shard("hash:3/3", "h3", &[]);
    let refused = |runs: &[&Path], said: &[&str]| {
        let o = merge(runs, &d.join("merged"));
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{t}");
        for s in said {
            assert!(t.contains(s), "{s:?} not in {t}");
        }
    };

    refused(&[&h1, &h3], &["shard 2/3 is missing: give the folder of the run with --partition hash:2/3"]);
    refused(
        &[&h1, &h1, &h2, &h3],
        &["is in both", &format!("{}", h1.display()), "v-bc39/config/", "give each shard's folder once"],
    );
    let s2 = shard("slice:2/3", "s2", &[]);
    refused(&[&h1, &s2, &h3], &["is shard hash:1/3 but", "is shard slice:2/3", "kind and count"]);
    let h2of2 = shard("hash:2/2", "h2of2", &[]);
    refused(&[&h1, &h2of2], &["is shard hash:1/3 but", "is shard hash:2/2"]);

    // Other suites: the same cases, a suite file changed.
    let suites = d.join("suites");
    let copied = std::process::Command::new("cp").arg("-r").arg(root().join("suites")).arg(&suites).status().unwrap();
    assert!(copied.success());
    let mut config = std::fs::read(suites.join("config.yaml")).unwrap();
    config.extend_from_slice(b"\n# changed\n");
    std::fs::write(suites.join("config.yaml"), config).unwrap();
    let other = shard("hash:2/3", "other", &["--suites", suites.to_str().unwrap()]);
    refused(&[&h1, &other, &h3], &["the shards ran different suites", "sha256:", "same revision of the suites"]);

    let whole = d.join("whole");
    assert_eq!(run(&base, &whole).status.code(), Some(0));
    refused(&[&h1, &h2, &h3, &whole], &["is a whole run (no --partition)"]);
    let empty = d.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    refused(&[&h1, &empty], &["is not a run", "run.json", "rack.json"]);
    assert!(!d.join("merged/run.json").exists(), "a refused merge writes nothing");

    // Whole runs of different rigs over the same suites are a rack assembled afterwards.
    let m = d.join("m5310a");
    let o = run(&["--rig", m5310a.to_str().unwrap(), "--suite", "config"], &m);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = merge(&[&whole, &m], &d.join("assembled"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let rack = RackRecord::load(&d.join("assembled")).unwrap();
    assert_eq!(rack.rigs.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(), ["v-bc39", "v-m5310a"]);

    // Two rigs whose reports would land in one folder (`v bc39` and `v_bc39` are both `v_bc39/`).
    let renamed = |name: &str| {
        let rig = std::fs::read_to_string(&bc39).unwrap().replace("name = \"v-bc39\"", &format!("name = \"{name}\""));
        let path = d.join(format!("renamed-{}.toml", name.replace(' ', "-")));
        std::fs::write(&path, rig).unwrap();
        let out = d.join(format!("run-{}", name.replace(' ', "-")));
        let o = run(&["--rig", path.to_str().unwrap(), "--suite", "config"], &out);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        out
    };
    let (spaced, underscored) = (renamed("v bc39"), renamed("v_bc39"));
    refused(&[&spaced, &underscored], &["rigs \"v bc39\" and \"v_bc39\" would both write", "another `name`"]);
}

#[test]
fn partition_values_list_and_empty_shards() {
    let dir = tempfile::tempdir().unwrap();
    let (bc39, m5310a) = rigs(dir.path());
    let (a, b) = (bc39.to_str().unwrap(), m5310a.to_str().unwrap());
    for bad in ["hash:0/2", "slice:3/2", "foo:1/2", "hash:1/0"] {
        let o = miplcheck(&["run", "--rig", a, "--suite", "config", "--list", "--partition", bad]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{bad}: {t}");
        assert!(t.contains("--partition") && t.contains(bad), "{bad}: {t}");
    }

    // --list shows only the shard's plan; the shards' lists together are the whole plan's.
    let listed = |extra: &[&str]| {
        let mut args = vec!["run", "--rig", a, "--rig", b, "--suite", "config", "--suite", "m5310a-device", "--list"];
        args.extend_from_slice(extra);
        let o = miplcheck(&args);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    let whole = listed(&[]);
    let lines = |t: &str, rig: &str| {
        let mut out = vec![];
        let mut in_rig = false;
        for l in t.lines() {
            if l.starts_with("rig ") {
                in_rig = l.starts_with(&format!("rig {rig} "));
            } else if in_rig && l.starts_with("  ") {
                out.push(l.to_string());
            }
        }
        out.sort();
        out
    };
    for rig in ["v-bc39", "v-m5310a"] {
        let mut together: Vec<String> = vec![];
        for k in 1..=3 {
            let t = listed(&["--partition", &format!("hash:{k}/3")]);
            assert!(t.starts_with(&format!("shard hash:{k}/3: ")) && t.contains(" of the plan's 94 units"), "{t}");
            let mine = lines(&t, rig);
            assert!(mine.len() < lines(&whole, rig).len(), "{t}");
            together.extend(mine);
        }
        together.sort();
        assert_eq!(together, lines(&whole, rig), "{rig}");
    }

    // A shard with no units is a valid, empty, passing run.
    let out = dir.path().join("empty");
    let o = run(&["--rig", a, "--case", "config/sdk-version", "--partition", "slice:2/2"], &out);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let r = RunRecord::load(&out).unwrap();
    assert!(r.cases.is_empty() && r.partition.as_ref().is_some_and(|p| p.plan_units == 1), "{:?}", r.partition);
    let one = dir.path().join("one");
    let o = run(&["--rig", a, "--case", "config/sdk-version", "--partition", "slice:1/2"], &one);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = merge(&[&out, &one], &dir.path().join("merged"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(RunRecord::load(&dir.path().join("merged")).unwrap().cases.len(), 1);
}
