//! What a run's record says of where its cases came from: a content hash of the suite files
//! read, of the golden snapshots a rig's cases compare against, and the git revision of the
//! suites' folder. Nothing here fails a run: without git, or outside a work tree, the revision
//! is simply absent.

use crate::dispatch::Plan;
use crate::suite::Suite;
use miplcheck_record::Suites;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

/// `sha256:<hex>` over each file's name and bytes, sorted by path; a file that cannot be read
/// counts as its name and `missing`. Names, not paths, so two hosts' checkouts agree.
fn hash_files(mut files: Vec<PathBuf>) -> String {
    files.sort();
    files.dedup();
    let mut h = Sha256::new();
    for f in &files {
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        h.update(name.as_bytes());
        h.update([0]);
        match std::fs::read(f) {
            Ok(bytes) => {
                h.update((bytes.len() as u64).to_be_bytes());
                h.update(&bytes);
            }
            Err(_) => h.update(b"missing"),
        }
    }
    crate::partition::hex(&h.finalize())
}

/// The selected suite files' hash, with the git revision found by [`revision`] (which a run
/// starts on a thread of its own before loading the suites, so git's time is not the run's).
pub fn suites(suites: &[Suite], revision: Option<String>) -> Suites {
    Suites { hash: hash_files(suites.iter().map(|s| s.path.clone()).collect()), golden: None, revision }
}

/// The hash of the golden snapshots `plan`'s cases compare against: every case of the whole
/// (unsharded) plan the rig runs, so every shard of one plan agrees.
pub fn golden(plan: &Plan) -> String {
    let files = plan
        .planned()
        .filter(|(s, c)| plan.skip_reason(s, c).is_none())
        .map(|(s, c)| plan.golden_dir.join(format!("{}__{}.snap", s.name, c.id)))
        .collect();
    hash_files(files)
}

/// Starts `git -C dir ARGS…`; [`finish`] reads what it printed.
fn git(dir: &Path, args: &[&str]) -> Option<Child> {
    // `--no-optional-locks`: a status that only reads, never refreshing the index under the
    // user's feet (and a run that does not wait for the index lock).
    Command::new("git")
        .arg("--no-optional-locks")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()
}

/// What a started git printed, when it succeeded.
fn finish(child: Option<Child>) -> Option<String> {
    let out = child?.wait_with_output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// `git rev-parse HEAD` of `dir`, `-dirty` when `git status --porcelain` shows changes under it
/// or under `golden`; none without git or a work tree. Both gits run at once.
pub fn revision(dir: &Path, golden: &Path) -> Option<String> {
    let dir = std::path::absolute(dir).ok()?;
    let golden = std::path::absolute(golden).ok()?;
    let (d, g) = (dir.to_string_lossy().into_owned(), golden.to_string_lossy().into_owned());
    let head = git(&dir, &["rev-parse", "HEAD"]);
    let status = git(&dir, &["status", "--porcelain", "--", &d, &g]);
    let head = finish(head).filter(|h| !h.is_empty())?;
    // A golden folder outside the work tree is not git's to judge: then the suites alone.
    let status = finish(status).or_else(|| finish(git(&dir, &["status", "--porcelain", "--", &d])));
    Some(match status {
        Some(s) if !s.is_empty() => format!("{head}-dirty"),
        _ => head,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_follows_content_not_order() {
        let d = tempfile::tempdir().unwrap();
        let (a, b) = (d.path().join("a.yaml"), d.path().join("b.yaml"));
        std::fs::write(&a, "suite: a").unwrap();
        std::fs::write(&b, "suite: b").unwrap();
        let one = hash_files(vec![a.clone(), b.clone()]);
        assert_eq!(one, hash_files(vec![b.clone(), a.clone()]));
        assert!(one.starts_with("sha256:") && one.len() == 7 + 64);
        std::fs::write(&b, "suite: b2").unwrap();
        assert_ne!(one, hash_files(vec![a, b]));
    }

    #[test]
    fn no_git_work_tree_means_no_revision() {
        let d = tempfile::tempdir().unwrap();
        assert_eq!(revision(d.path(), d.path()), None);
    }
}
