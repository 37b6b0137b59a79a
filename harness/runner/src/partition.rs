//! `--partition hash:K/N` and `--partition slice:K/N`: one night's plan split across hosts, as
//! cargo-nextest splits tests (K counted from 1, 1 ≤ K ≤ N). A **unit** is one case on one rig —
//! (rig, suite, case) across the whole plan, skipped cases included, in plan order (the rigs in
//! the rack's order, each rig's selected cases in file order).
//!
//! - `hash`: a unit belongs to shard K when the first 8 bytes of SHA-256(`rig/suite/case`), read
//!   big-endian, mod N equal K − 1; adding a case moves no other case between shards.
//! - `slice`: unit i (0-based, in plan order) belongs to shard (i mod N) + 1.
//!
//! Units outside the shard are not run and not recorded. Each rig's record names its units'
//! plan positions, and every record the whole plan's unit count and hash, so `miplcheck merge`
//! can put cases back in order and tell a missing shard.

use crate::dispatch::Plan;
use miplcheck_record::PartitionKind;
use sha2::{Digest, Sha256};
use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

/// A shard of the plan: `hash:2/3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub kind: PartitionKind,
    /// Counted from 1.
    pub index: usize,
    pub count: usize,
}

impl FromStr for Partition {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let form = "expected hash:K/N or slice:K/N, the shard K of N counted from 1";
        let (kind, rest) = s.split_once(':').ok_or_else(|| format!("{form}, not `{s}`"))?;
        let kind = match kind {
            "hash" => PartitionKind::Hash,
            "slice" => PartitionKind::Slice,
            other => return Err(format!("unknown partition kind `{other}`: {form}")),
        };
        let (k, n) = rest.split_once('/').ok_or_else(|| format!("{form}, not `{s}`"))?;
        let number = |t: &str, what: &str| {
            t.parse::<usize>().map_err(|e| format!("cannot read the {what} `{t}` of `{s}` as a number: {e}"))
        };
        let (index, count) = (number(k, "shard")?, number(n, "number of shards")?);
        if count == 0 {
            return Err(format!("the number of shards in `{s}` must be at least 1"));
        }
        if !(1..=count).contains(&index) {
            return Err(format!(
                "shard {index} must be a number between 1 and the number of shards {count}, inclusive"
            ));
        }
        Ok(Partition { kind, index, count })
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}/{}", self.kind, self.index, self.count)
    }
}

/// A unit's name: `rig/suite/case`.
pub fn unit_key(rig: &str, suite: &str, case: &str) -> String {
    format!("{rig}/{suite}/{case}")
}

/// The unit's stable hash: SHA-256 of its key, the first 8 bytes big-endian. Fixed for good:
/// changing it would move units between the shards of runs already made.
pub fn unit_hash(key: &str) -> u64 {
    let d = Sha256::digest(key.as_bytes());
    u64::from_be_bytes(d[..8].try_into().expect("a SHA-256 digest has 32 bytes"))
}

impl Partition {
    /// Is the unit at `position` (0-based, in plan order) named `key` in this shard?
    pub fn picks(&self, position: usize, key: &str) -> bool {
        let bucket = match self.kind {
            PartitionKind::Hash => (unit_hash(key) % self.count as u64) as usize,
            PartitionKind::Slice => position % self.count,
        };
        bucket == self.index - 1
    }

    /// The positions of this shard's units among `keys` (the whole plan, in order).
    pub fn deal(&self, keys: &[String]) -> Vec<usize> {
        keys.iter().enumerate().filter(|(i, k)| self.picks(*i, k)).map(|(i, _)| i).collect()
    }
}

/// `sha256:<hex>` of the plan's unit list, one key a line.
pub fn plan_hash(keys: &[String]) -> String {
    let mut h = Sha256::new();
    for k in keys {
        h.update(k.as_bytes());
        h.update(b"\n");
    }
    hex(&h.finalize())
}

/// `sha256:` and the digest in lowercase hex.
pub(crate) fn hex(digest: &[u8]) -> String {
    let mut s = String::with_capacity(7 + digest.len() * 2);
    s.push_str("sha256:");
    for b in digest {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// What one rig keeps of a sharded plan.
#[derive(Debug, Clone)]
pub struct RigShard {
    /// `suite/case` of the units kept.
    keep: BTreeSet<String>,
    /// What the rig's record says of the shard (with its units' plan positions).
    pub record: miplcheck_record::Partition,
}

impl RigShard {
    /// Is `suite/case` in this rig's share?
    pub fn keeps(&self, suite: &str, case: &str) -> bool {
        self.keep.contains(&format!("{suite}/{case}"))
    }
}

/// The whole plan's units, in order: each rig's selected cases (skipped ones too).
pub fn units(plans: &[Plan]) -> Vec<String> {
    plans.iter().flat_map(|p| p.planned().map(|(s, c)| unit_key(&p.rig.name, &s.name, &c.id))).collect()
}

/// Shards `plans`: each keeps only its units in `partition`. Returns what the rack's record
/// says of the shard (no unit positions).
pub fn apply(partition: Partition, plans: &mut [Plan]) -> miplcheck_record::Partition {
    let keys = units(plans);
    let whole = miplcheck_record::Partition {
        kind: partition.kind,
        index: partition.index,
        count: partition.count,
        plan_units: keys.len(),
        plan_hash: plan_hash(&keys),
        units: vec![],
    };
    let mut position = 0;
    for plan in plans.iter_mut() {
        let mut keep = BTreeSet::new();
        let mut units = Vec::new();
        for (s, c) in plan.planned() {
            if partition.picks(position, &keys[position]) {
                keep.insert(format!("{}/{}", s.name, c.id));
                units.push(position);
            }
            position += 1;
        }
        plan.shard = Some(Arc::new(RigShard { keep, record: miplcheck_record::Partition { units, ..whole.clone() } }));
    }
    whole
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn keys(n: usize) -> Vec<String> {
        (0..n).map(|i| unit_key(if i % 2 == 0 { "bc39" } else { "m5310a" }, "config", &format!("case-{i}"))).collect()
    }

    #[rstest]
    #[case("hash:1/2", PartitionKind::Hash, 1, 2)]
    #[case("hash:3/3", PartitionKind::Hash, 3, 3)]
    #[case("slice:1/1", PartitionKind::Slice, 1, 1)]
    #[case("slice:7/9", PartitionKind::Slice, 7, 9)]
    fn good_partitions_read(#[case] s: &str, #[case] kind: PartitionKind, #[case] index: usize, #[case] count: usize) {
        let p: Partition = s.parse().unwrap();
        assert_eq!(p, Partition { kind, index, count });
        assert_eq!(p.to_string(), s);
    }

    #[rstest]
    #[case("hash:0/2", "shard 0 must be a number between 1 and the number of shards 2")]
    #[case("slice:3/2", "shard 3 must be a number between 1 and the number of shards 2")]
    #[case("foo:1/2", "unknown partition kind `foo`")]
    #[case("hash:1/0", "must be at least 1")]
    #[case("hash", "expected hash:K/N or slice:K/N")]
    #[case("hash:1-2", "expected hash:K/N or slice:K/N")]
    #[case("hash:x/2", "cannot read the shard `x`")]
    #[case("count:1/2", "unknown partition kind `count`")]
    fn bad_partitions_say_why(#[case] s: &str, #[case] said: &str) {
        let e = s.parse::<Partition>().unwrap_err();
        assert!(e.contains(said), "{s}: {e}");
    }

    /// Every unit in exactly one shard, for N = 1..7, both kinds.
    #[rstest]
    fn every_unit_in_exactly_one_shard(
        #[values(PartitionKind::Hash, PartitionKind::Slice)] kind: PartitionKind,
        #[values(1, 2, 3, 4, 5, 6, 7)] count: usize,
    ) {
        let keys = keys(100);
        let mut seen = vec![0; keys.len()];
        for index in 1..=count {
            for i in (Partition { kind, index, count }).deal(&keys) {
                seen[i] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n == 1), "{kind}/{count}: {seen:?}");
    }

    /// Slices are exact round robin; hashed shards are roughly even.
    #[rstest]
    #[case(PartitionKind::Slice, 2, 500, 500)]
    #[case(PartitionKind::Slice, 3, 333, 334)]
    #[case(PartitionKind::Hash, 2, 440, 560)]
    #[case(PartitionKind::Hash, 4, 200, 300)]
    fn units_are_spread(#[case] kind: PartitionKind, #[case] count: usize, #[case] least: usize, #[case] most: usize) {
        let keys = keys(1000);
        for index in 1..=count {
            let n = (Partition { kind, index, count }).deal(&keys).len();
            assert!((least..=most).contains(&n), "{kind}:{index}/{count} has {n}");
        }
    }

    #[test]
    fn slices_go_round_robin_in_plan_order() {
        let p = Partition { kind: PartitionKind::Slice, index: 2, count: 3 };
        assert_eq!(p.deal(&keys(8)), vec![1, 4, 7]);
    }

    /// Adding a case (anywhere) moves no other case between hashed shards.
    #[rstest]
    #[case(0)]
    #[case(17)]
    #[case(50)]
    fn a_new_case_moves_no_other_hashed_unit(#[case] at: usize) {
        let before = keys(50);
        let mut after = before.clone();
        after.insert(at, unit_key("bc39", "config", "a-new-case"));
        for index in 1..=3 {
            let p = Partition { kind: PartitionKind::Hash, index, count: 3 };
            let was: BTreeSet<&String> = p.deal(&before).into_iter().map(|i| &before[i]).collect();
            let is: BTreeSet<&String> =
                p.deal(&after).into_iter().map(|i| &after[i]).filter(|k| !k.ends_with("a-new-case")).collect();
            assert_eq!(was, is, "shard {index}/3");
        }
    }

    #[test]
    fn the_hash_is_fixed() {
        // SHA-256 of the empty string, pinned so no release moves units between shards silently.
        assert_eq!(format!("{:016x}", unit_hash("")), "e3b0c44298fc1c14");
        assert_eq!(plan_hash(&[]), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
