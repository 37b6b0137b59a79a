//! Shards of one plan (`miplcheck run --partition …`, each on its own host) put back together:
//! one record per rig with its cases in plan order, checked first — every shard there once, no
//! case counted twice, every shard from the same suites and the same plan. Runs of different
//! rigs that were never sharded merge too (a rack assembled afterwards) when they read the same
//! suites.
//!
//! Records only: this module reads `run.json` and `rack.json` and hands back records; writing
//! the reports, and copying each case's evidence, is the caller's (`miplcheck merge`).

use crate::case::CaseRecord;
use crate::error::RecordError;
use crate::origin::{Partition, Suites};
use crate::rack::{Health, HealthState, RackRecord};
use crate::run::{RunRecord, Totals};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Why shards cannot be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// A record that cannot be read; the message names the file.
    #[error(transparent)]
    Record(#[from] RecordError),
    /// Records that do not belong together, or a folder that is not a run; the message says
    /// what to do.
    #[error("{0}")]
    Refused(String),
}

/// One rig's record in a shard, and the folder its evidence is in.
#[derive(Debug, Clone)]
pub struct RigShard {
    /// The rig's folder: the shard's folder (single-rig layout) or `<shard>/<rig>`.
    pub folder: PathBuf,
    /// Its record.
    pub record: RunRecord,
}

/// One folder given to merge: a single rig's run or a rack's.
#[derive(Debug, Clone)]
pub struct Shard {
    /// The folder as given.
    pub folder: PathBuf,
    /// Its `rack.json`, for the rack layout.
    pub rack: Option<RackRecord>,
    /// Every rig's record, in the order the shard lists them.
    pub rigs: Vec<RigShard>,
}

impl Shard {
    /// Reads a run folder: `rack.json` and each rig's `run.json` under it, or a single
    /// `run.json`. A folder with neither is refused, naming what is missing.
    pub fn load(folder: &Path) -> Result<Shard, MergeError> {
        let rack_file = folder.join("rack.json");
        if rack_file.is_file() {
            let rack = RackRecord::load(&rack_file)?;
            let mut rigs = Vec::new();
            for r in &rack.rigs {
                let dir = folder.join(&r.folder);
                if !dir.join("run.json").is_file() {
                    return Err(MergeError::Refused(format!(
                        "{} names rig {} in {}, but {} is not there: give the whole folder of the rack run",
                        rack_file.display(),
                        r.name,
                        dir.display(),
                        dir.join("run.json").display()
                    )));
                }
                rigs.push(RigShard { record: RunRecord::load(&dir)?, folder: dir });
            }
            return Ok(Shard { folder: folder.to_path_buf(), rack: Some(rack), rigs });
        }
        let run_file = folder.join("run.json");
        if run_file.is_file() {
            let record = RunRecord::load(&run_file)?;
            return Ok(Shard {
                folder: folder.to_path_buf(),
                rack: None,
                rigs: vec![RigShard { folder: folder.to_path_buf(), record }],
            });
        }
        Err(MergeError::Refused(format!(
            "{} is not a run: it has neither {} nor {}; give the --out folder of a `miplcheck run`",
            folder.display(),
            run_file.display(),
            rack_file.display()
        )))
    }

    /// The partition this shard ran: the rack's, or its one rig's.
    pub fn partition(&self) -> Option<&Partition> {
        match &self.rack {
            Some(r) => r.partition.as_ref(),
            None => self.rigs.first().and_then(|r| r.record.partition.as_ref()),
        }
    }

    /// The suites it read: the rack's, or its one rig's.
    fn suites(&self) -> Option<&Suites> {
        match &self.rack {
            Some(r) => r.suites.as_ref().or_else(|| self.rigs.first().and_then(|r| r.record.suites.as_ref())),
            None => self.rigs.first().and_then(|r| r.record.suites.as_ref()),
        }
    }

    /// `shard-2 (hash:2/3)`, for messages and `merged_from`.
    fn describe(&self) -> String {
        match self.partition() {
            Some(p) => format!("{} ({})", self.folder.display(), p.spec()),
            None => self.folder.display().to_string(),
        }
    }
}

/// A merged rig: its record, and for each of its cases the folder its evidence is in.
#[derive(Debug, Clone)]
pub struct MergedRig {
    /// The rig's whole record, its cases in plan order.
    pub record: RunRecord,
    /// Parallel to `record.cases`: the rig folder of the shard the case came from.
    pub sources: Vec<PathBuf>,
}

/// What the shards came to.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The rack's name (the first rack shard's), or the rig's.
    pub name: String,
    /// Write the rack layout: more than one rig, or the shards were racks.
    pub rack: bool,
    /// Every rig, in plan order.
    pub rigs: Vec<MergedRig>,
    /// The suites every shard read.
    pub suites: Option<Suites>,
    /// The shards, as given (`shard-1 (hash:1/3)`).
    pub merged_from: Vec<String>,
    /// The earliest shard's start.
    pub started: String,
    /// The longest shard's wall time (the shards ran side by side).
    pub duration_ms: u64,
    /// Why the merged run is not whole, when it is not.
    pub incomplete: Option<String>,
}

impl Merged {
    /// The rack record of the merged rigs, given each rig's folder under the merged one.
    pub fn rack_record<'a>(&'a self, tool: &str, folders: &'a [String]) -> RackRecord {
        let rigs = self.rigs.iter().zip(folders).map(|(r, f)| (&r.record, f.as_str()));
        let mut rack = RackRecord::of(&self.name, tool, &self.started, self.duration_ms, rigs);
        rack.suites = self.suites.clone().map(|s| Suites { golden: None, ..s });
        rack.merged_from = self.merged_from.clone();
        rack.incomplete = match (rack.incomplete.take(), &self.incomplete) {
            (Some(a), Some(b)) if a.contains(b.as_str()) => Some(a),
            (Some(a), Some(b)) => Some(format!("{b}; {a}")),
            (a, b) => a.or_else(|| b.clone()),
        };
        rack
    }

    /// Every rig's cases added up.
    pub fn totals(&self) -> Totals {
        let mut t = Totals::default();
        for r in &self.rigs {
            t.merge(&r.record.summary);
        }
        t
    }
}

/// One case on its way into the merged record.
struct Placed<'a> {
    position: usize,
    case: &'a CaseRecord,
    source: &'a Path,
}

/// Merges shards of one plan (or unsharded runs of different rigs) into one record per rig.
pub fn merge(shards: &[Shard]) -> Result<Merged, MergeError> {
    let Some(first) = shards.first() else {
        return Err(MergeError::Refused("no run folder to merge".into()));
    };
    check_suites(shards)?;
    let partition = check_partitions(shards)?;

    // Every case once, placed by its plan position.
    let mut seen: BTreeMap<(String, String, String), &Path> = BTreeMap::new();
    let mut by_rig: Vec<(String, Vec<Placed<'_>>, Vec<&RigShard>)> = Vec::new();
    let mut next_unsharded = 0usize;
    for shard in shards {
        for rig in &shard.rigs {
            let rec = &rig.record;
            let units = rec.partition.as_ref().map(|p| p.units.as_slice());
            if let Some(u) = units.filter(|u| u.len() < rec.cases.len()) {
                return Err(MergeError::Refused(format!(
                    "{}: {} cases but the partition lists {} units; the record was altered",
                    rig.folder.join("run.json").display(),
                    rec.cases.len(),
                    u.len()
                )));
            }
            let i = match by_rig.iter().position(|(n, ..)| *n == rec.rig.name) {
                Some(i) => i,
                None => {
                    by_rig.push((rec.rig.name.clone(), vec![], vec![]));
                    by_rig.len() - 1
                }
            };
            by_rig[i].2.push(rig);
            for (k, case) in rec.cases.iter().enumerate() {
                let key = (rec.rig.name.clone(), case.suite.clone(), case.case.clone());
                if let Some(other) = seen.get(&key) {
                    let twice = if *other == rig.folder.as_path() { " (one folder given twice)" } else { "" };
                    return Err(MergeError::Refused(format!(
                        "case {}/{}/{} is in both {} and {}{twice}: each case may be counted once; give each \
                         shard's folder once, and only shards of one sharded run",
                        key.0,
                        key.1,
                        key.2,
                        other.display(),
                        rig.folder.display()
                    )));
                }
                seen.insert(key, &rig.folder);
                let position = match units {
                    Some(u) => u[k],
                    None => next_unsharded + k,
                };
                by_rig[i].1.push(Placed { position, case, source: &rig.folder });
            }
            if units.is_none() {
                next_unsharded += rec.cases.len();
            }
        }
    }

    let mut incomplete: Vec<String> = Vec::new();
    if let Some(p) = &partition {
        let given: Vec<usize> = shards.iter().filter_map(|s| s.partition().map(|p| p.index)).collect();
        for (i, k) in given.iter().enumerate() {
            if given[..i].contains(k) {
                return Err(MergeError::Refused(format!(
                    "shard {k}/{} is given twice ({} and another folder): give each shard's folder once",
                    p.count,
                    shards[i].folder.display()
                )));
            }
        }
        let missing: Vec<String> = (1..=p.count)
            .filter(|k| !given.contains(k))
            .map(|k| {
                format!(
                    "shard {k}/{} is missing: give the folder of the run with --partition {}:{k}/{}",
                    p.count, p.kind, p.count
                )
            })
            .collect();
        if !missing.is_empty() {
            return Err(MergeError::Refused(missing.join("; ")));
        }
        let recorded: usize = by_rig.iter().map(|(_, c, _)| c.len()).sum();
        if recorded < p.plan_units {
            incomplete.push(format!("{recorded} of the plan's {} units were recorded", p.plan_units));
        }
    }
    for shard in shards {
        let whys = shard
            .rack
            .as_ref()
            .and_then(|r| r.incomplete.clone())
            .into_iter()
            .chain(shard.rigs.iter().filter_map(|r| r.record.incomplete.clone()));
        let whys: Vec<String> = whys.collect();
        if !whys.is_empty() {
            let mut whys = whys;
            whys.dedup();
            incomplete.push(format!("{}: {}", shard.describe(), whys.join("; ")));
        }
    }

    let sharded = partition.is_some();
    let mut rigs: Vec<(usize, MergedRig)> = by_rig
        .into_iter()
        .map(|(_, mut placed, parts)| {
            placed.sort_by_key(|p| p.position);
            let first_position = placed.first().map_or(usize::MAX, |p| p.position);
            (first_position, merge_rig(&parts, placed, sharded))
        })
        .collect();
    rigs.sort_by_key(|(p, _)| *p);
    let rigs: Vec<MergedRig> = rigs.into_iter().map(|(_, r)| r).collect();
    let rack = rigs.len() > 1 || shards.iter().any(|s| s.rack.is_some());
    let name = shards
        .iter()
        .find_map(|s| s.rack.as_ref().map(|r| r.name.clone()))
        .or_else(|| rigs.first().map(|r| r.record.rig.name.clone()))
        .unwrap_or_else(|| "rack".into());
    let started = shards
        .iter()
        .filter_map(|s| {
            s.rack.as_ref().map(|r| r.started.clone()).or_else(|| s.rigs.first().map(|r| r.record.started.clone()))
        })
        .min()
        .unwrap_or_default();
    let duration_ms = shards
        .iter()
        .map(|s| {
            s.rack.as_ref().map(|r| r.duration_ms).unwrap_or_else(|| s.rigs.iter().map(|r| r.record.duration_ms).sum())
        })
        .max()
        .unwrap_or(0);
    Ok(Merged {
        name,
        rack,
        rigs,
        suites: first.suites().cloned().or_else(|| shards.iter().find_map(|s| s.suites().cloned())),
        merged_from: shards.iter().map(Shard::describe).collect(),
        started,
        duration_ms,
        incomplete: (!incomplete.is_empty()).then(|| incomplete.join("; ")),
    })
}

/// One rig's parts into one record.
fn merge_rig(parts: &[&RigShard], placed: Vec<Placed<'_>>, sharded: bool) -> MergedRig {
    let head = &parts[0].record;
    let mut record = head.clone();
    record.partition = None;
    record.started = parts.iter().map(|p| p.record.started.clone()).min().unwrap_or_default();
    record.duration_ms = parts.iter().map(|p| p.record.duration_ms).max().unwrap_or(0);
    let others: Vec<&str> =
        parts.iter().map(|p| p.record.firmware.revision.as_str()).filter(|r| *r != head.firmware.revision).collect();
    if !others.is_empty() {
        let note = format!("the shards' modems reported other firmware too: {}", others.join("; "));
        record.firmware.note = Some(match record.firmware.note.take() {
            Some(n) => format!("{n}; {note}"),
            None => note,
        });
    }
    record.health = merge_health(parts, sharded);
    let whys: Vec<String> = parts.iter().filter_map(|p| p.record.incomplete.clone()).collect();
    record.incomplete = (!whys.is_empty()).then(|| whys.join("; "));
    let sources = placed.iter().map(|p| p.source.to_path_buf()).collect();
    record.cases = placed.into_iter().map(|p| p.case.clone()).collect();
    record.summary = Totals::of(&record.cases);
    record.merged_from = parts.iter().map(|p| shard_label(&p.record, &p.folder)).collect();
    MergedRig { record, sources }
}

fn shard_label(r: &RunRecord, folder: &Path) -> String {
    match &r.partition {
        Some(p) => format!("{} ({})", folder.display(), p.spec()),
        None => folder.display().to_string(),
    }
}

/// Unhealthy if any shard's rig ended unhealthy; every check kept, named by its shard.
fn merge_health(parts: &[&RigShard], sharded: bool) -> Option<Health> {
    let healths: Vec<(&RigShard, &Health)> =
        parts.iter().filter_map(|p| p.record.health.as_ref().map(|h| (*p, h))).collect();
    if healths.is_empty() {
        return None;
    }
    let label = |p: &RigShard| match (&p.record.partition, sharded) {
        (Some(s), true) => format!("shard {}/{}: ", s.index, s.count),
        _ => String::new(),
    };
    let state = if healths.iter().any(|(_, h)| h.state == HealthState::Unhealthy) {
        HealthState::Unhealthy
    } else if healths.iter().any(|(_, h)| h.state == HealthState::Good) {
        HealthState::Good
    } else {
        HealthState::Unknown
    };
    let reasons: Vec<String> =
        healths.iter().filter_map(|(p, h)| h.reason.as_ref().map(|r| format!("{}{r}", label(p)))).collect();
    let checks = healths
        .iter()
        .flat_map(|(p, h)| {
            let l = label(p);
            h.checks.iter().map(move |c| {
                let mut c = c.clone();
                c.when = format!("{l}{}", c.when);
                c
            })
        })
        .collect();
    Some(Health { state, reason: (!reasons.is_empty()).then(|| reasons.join("; ")), checks })
}

/// Every record read the same suites (and each rig the same golden snapshots).
fn check_suites(shards: &[Shard]) -> Result<(), MergeError> {
    let mut all: Vec<(String, Option<&Suites>, &str)> = Vec::new();
    for s in shards {
        for r in &s.rigs {
            all.push((r.folder.join("run.json").display().to_string(), r.record.suites.as_ref(), &r.record.rig.name));
        }
    }
    let Some((ref_file, Some(reference), _)) = all.iter().find(|(_, s, _)| s.is_some()).cloned() else {
        return Ok(());
    };
    for (file, suites, rig) in &all {
        let Some(s) = suites else {
            return Err(MergeError::Refused(format!(
                "{file} records no suites hash (written by an older miplcheck) while {ref_file} does: cannot tell they \
                 ran the same suites; run both again with this miplcheck"
            )));
        };
        if s.hash != reference.hash {
            return Err(MergeError::Refused(format!(
                "the shards ran different suites: {ref_file} read {} but {file} read {}; run every shard from the same \
                 revision of the suites",
                reference.describe(),
                s.describe()
            )));
        }
        // Golden snapshots are per dialect: compare them between records of one rig.
        let same_rig = all.iter().find(|(_, o, r)| r == rig && o.is_some_and(|o| o.golden.is_some()));
        if let (Some((other_file, Some(o), _)), Some(g)) = (same_rig, &s.golden) {
            if o.golden.as_ref() != Some(g) {
                return Err(MergeError::Refused(format!(
                    "the shards of rig {rig} compared against different golden snapshots: {} in {other_file}, {g} in \
                     {file}; run every shard from the same revision of the golden folder",
                    o.golden.as_deref().unwrap_or("")
                )));
            }
        }
    }
    Ok(())
}

/// All shards or none; one kind, one count, one plan. The partition they share.
fn check_partitions(shards: &[Shard]) -> Result<Option<Partition>, MergeError> {
    let first = &shards[0];
    let Some(p) = shards.iter().find_map(Shard::partition) else { return Ok(None) };
    let with = shards.iter().find(|s| s.partition().is_some()).unwrap_or(first);
    for s in shards {
        let Some(q) = s.partition() else {
            return Err(MergeError::Refused(format!(
                "{} is shard {} but {} is a whole run (no --partition): merge the shards of one sharded run, or whole \
                 runs of different rigs",
                with.folder.display(),
                p.spec(),
                s.folder.display()
            )));
        };
        if q.kind != p.kind || q.count != p.count {
            return Err(MergeError::Refused(format!(
                "{} is shard {} but {} is shard {}: shards of one run share the partition's kind and count; give the \
                 folders of one `--partition {}:K/{}` run",
                with.folder.display(),
                p.spec(),
                s.folder.display(),
                q.spec(),
                p.kind,
                p.count
            )));
        }
        if q.plan_hash != p.plan_hash || q.plan_units != p.plan_units {
            return Err(MergeError::Refused(format!(
                "{} and {} are shards of different plans ({} units, {} vs {} units, {}): run every shard with the same \
                 rigs, suites and selection",
                with.folder.display(),
                s.folder.display(),
                p.plan_units,
                p.plan_hash,
                q.plan_units,
                q.plan_hash
            )));
        }
    }
    Ok(Some(Partition { units: vec![], ..p.clone() }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::PartitionKind;

    fn whole() -> RunRecord {
        let mut r =
            RunRecord::load(Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/v1/bc39-basics"))).unwrap();
        r.suites = Some(Suites { hash: "sha256:aa".into(), golden: Some("sha256:bb".into()), revision: None });
        r
    }

    /// `whole` split by slice into `count` single-rig shards.
    fn shards(count: usize) -> Vec<Shard> {
        let w = whole();
        (1..=count)
            .map(|index| {
                let mut r = w.clone();
                let units: Vec<usize> = (0..w.cases.len()).filter(|i| i % count == index - 1).collect();
                r.cases = units.iter().map(|&i| w.cases[i].clone()).collect();
                r.partition = Some(Partition {
                    kind: PartitionKind::Slice,
                    index,
                    count,
                    plan_units: w.cases.len(),
                    plan_hash: "sha256:cc".into(),
                    units,
                });
                let folder = PathBuf::from(format!("shard-{index}"));
                Shard { folder: folder.clone(), rack: None, rigs: vec![RigShard { folder, record: r }] }
            })
            .collect()
    }

    fn refused(shards: &[Shard]) -> String {
        match merge(shards) {
            Err(MergeError::Refused(m)) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn shards_merge_back_in_plan_order() {
        let w = whole();
        assert!(w.cases.len() >= 3);
        let mut s = shards(3);
        s.reverse();
        let m = merge(&s).unwrap();
        assert!(!m.rack && m.incomplete.is_none());
        let names = |r: &RunRecord| r.cases.iter().map(CaseRecord::full_name).collect::<Vec<_>>();
        assert_eq!(names(&m.rigs[0].record), names(&w));
        assert_eq!(m.rigs[0].record.summary, Totals::of(&w.cases));
        assert_eq!(m.rigs[0].sources.len(), w.cases.len());
    }

    #[test]
    fn a_missing_shard_is_named_with_the_flag_to_run_it() {
        let s = shards(3);
        let m = refused(&[s[0].clone(), s[2].clone()]);
        assert_eq!(m, "shard 2/3 is missing: give the folder of the run with --partition slice:2/3");
    }

    #[test]
    fn a_case_counted_twice_names_both_folders() {
        let s = shards(2);
        let mut again = s[0].clone();
        again.folder = "copy".into();
        again.rigs[0].folder = "copy".into();
        let m = refused(&[s[0].clone(), again, s[1].clone()]);
        assert!(m.contains("is in both shard-1 and copy"), "{m}");
    }

    #[test]
    fn other_suites_kinds_and_plans_are_refused() {
        let mut s = shards(2);
        s[1].rigs[0].record.suites.as_mut().unwrap().hash = "sha256:other".into();
        assert!(refused(&s).contains("different suites"), "{}", refused(&s));
        let mut s = shards(2);
        s[1].rigs[0].record.partition.as_mut().unwrap().kind = PartitionKind::Hash;
        assert!(refused(&s).contains("is shard slice:1/2 but shard-2 is shard hash:2/2"), "{}", refused(&s));
        let mut s = shards(2);
        s[1].rigs[0].record.partition.as_mut().unwrap().plan_hash = "sha256:dd".into();
        assert!(refused(&s).contains("different plans"), "{}", refused(&s));
        let mut s = shards(2);
        s[1].rigs[0].record.partition = None;
        assert!(refused(&s).contains("is a whole run"), "{}", refused(&s));
    }

    #[test]
    fn an_incomplete_shard_makes_the_merge_incomplete() {
        let mut s = shards(2);
        s[1].rigs[0].record.incomplete = Some("interrupted by SIGINT (Ctrl-C) after 1 of 3 cases".into());
        s[1].rigs[0].record.cases.truncate(1);
        let m = merge(&s).unwrap();
        let why = m.incomplete.unwrap();
        assert!(why.contains("units were recorded") && why.contains("SIGINT"), "{why}");
        assert!(m.rigs[0].record.incomplete.is_some());
    }
}
