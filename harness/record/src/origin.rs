//! Where a run's cases came from and which share of a plan it ran: the suites' content hash and
//! git revision, and, for a sharded run (`--partition`), the shard and the whole plan it is a
//! share of. `miplcheck merge` reads these to tell shards of one plan from strangers, and a
//! missing shard from a complete set.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The suites a run read, by content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suites {
    /// `sha256:<hex>` over the selected suite files' bytes, sorted by path.
    pub hash: String,
    /// `sha256:<hex>` over the golden snapshots this rig's cases compared against (the whole
    /// plan's, not only a shard's), sorted by path; absent in a rack record, whose rigs differ.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub golden: Option<String>,
    /// `git rev-parse HEAD` of the suites' folder, with `-dirty` when `git status` shows changes
    /// to the suites or golden files; absent outside a git work tree or without git.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revision: Option<String>,
}

impl Suites {
    /// `sha256:… (git abc123)`, for messages.
    pub fn describe(&self) -> String {
        match &self.revision {
            Some(r) => format!("{} (git {r})", self.hash),
            None => format!("{} (no git revision)", self.hash),
        }
    }
}

/// How units are dealt to shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartitionKind {
    /// By a stable hash of `rig/suite/case`: adding a case moves no other.
    Hash,
    /// Round robin over the plan's units in order.
    Slice,
}

impl PartitionKind {
    /// `hash`, `slice`.
    pub fn as_str(self) -> &'static str {
        match self {
            PartitionKind::Hash => "hash",
            PartitionKind::Slice => "slice",
        }
    }
}

impl fmt::Display for PartitionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which shard of which plan a run is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Partition {
    /// `hash` or `slice`.
    pub kind: PartitionKind,
    /// This shard, counted from 1.
    pub index: usize,
    /// How many shards the plan was split into.
    pub count: usize,
    /// Units (rig × suite × case) of the whole unsharded plan, every shard's together.
    pub plan_units: usize,
    /// `sha256:<hex>` of the whole plan's unit list (`rig/suite/case`, one a line, in plan
    /// order): shards of one plan share it.
    pub plan_hash: String,
    /// In a rig's record: the plan position (0-based, across the whole plan) of each of this
    /// shard's units on the rig, in the order they run, so a merge puts cases back in plan order.
    /// Empty in a rack record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub units: Vec<usize>,
}

impl Partition {
    /// `hash:2/3`, as `--partition` takes it.
    pub fn spec(&self) -> String {
        format!("{}:{}/{}", self.kind, self.index, self.count)
    }
}
