//! The report folder (`--out`) belongs to one run at a time: [`OutFolder::claim`] takes a lock
//! file in it (a second run into the same folder is refused, naming the first one's process), and
//! clears what a previous run wrote there, so a folder never mixes two runs' files. Only the
//! files miplcheck writes are removed; anything else in the folder is left alone.

use crate::input_error::InputError;
use std::path::{Path, PathBuf};

/// The lock file's name.
pub const LOCK: &str = ".miplcheck.lock";

/// What a run writes into its folder, and so what the next run into it clears first.
pub const WRITTEN: &[&str] = &[
    "run.json",
    "junit.xml",
    "report.html",
    "coverage.md",
    "coverage.json",
    "rack.json",
    "rack.html",
    super::journal::FILE,
];
/// The folders a run writes.
pub const WRITTEN_DIRS: &[&str] = &["transcripts", "captures", crate::golden::PENDING];

/// A claimed report folder; the lock goes when this is dropped.
#[derive(Debug)]
pub struct OutFolder {
    dir: PathBuf,
}

impl OutFolder {
    /// Creates `dir` if needed, locks it for this process and clears a previous run's files.
    pub fn claim(dir: &Path) -> Result<OutFolder, InputError> {
        let bad = |m: String| InputError::new(dir, m).field("--out");
        std::fs::create_dir_all(dir).map_err(|e| bad(format!("cannot create the report folder: {e}")))?;
        let lock = dir.join(LOCK);
        let me = std::process::id();
        loop {
            match std::fs::OpenOptions::new().write(true).create_new(true).open(&lock) {
                Ok(mut f) => {
                    use std::io::Write as _;
                    let _ = writeln!(f, "{me}");
                    break;
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(&lock).ok().and_then(|t| t.trim().parse::<u32>().ok());
                    match holder {
                        Some(pid) if pid != me && Path::new(&format!("/proc/{pid}")).exists() => {
                            return Err(bad(format!(
                                "another miplcheck run (process {pid}) is writing its reports here; give this run \
                                 its own --out"
                            )));
                        }
                        // Left by a run that died: take it over.
                        _ => std::fs::remove_file(&lock).map_err(|e| bad(format!("cannot take over {LOCK}: {e}")))?,
                    }
                }
                Err(e) => return Err(bad(format!("cannot lock the report folder: {e}"))),
            }
        }
        let folder = OutFolder { dir: dir.to_path_buf() };
        folder.clear().map_err(|e| bad(format!("cannot clear the previous run's files: {e}")))?;
        Ok(folder)
    }

    fn clear(&self) -> std::io::Result<()> {
        let gone = |r: std::io::Result<()>| match r {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        };
        // Only files: a folder of that name is not something a run wrote.
        let file = |p: &Path| std::fs::symlink_metadata(p).is_ok_and(|m| !m.is_dir());
        for f in WRITTEN {
            for p in [self.dir.join(f), super::atomic::partial(&self.dir.join(f))] {
                if file(&p) {
                    gone(std::fs::remove_file(&p))?;
                }
            }
        }
        for d in WRITTEN_DIRS {
            gone(std::fs::remove_dir_all(self.dir.join(d)))?;
        }
        Ok(())
    }

    /// The folder.
    pub fn path(&self) -> &Path {
        &self.dir
    }
}

impl Drop for OutFolder {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(self.dir.join(LOCK));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_folder_is_cleared_of_the_last_runs_files_only() {
        let d = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(d.path().join("transcripts/config")).unwrap();
        std::fs::write(d.path().join("transcripts/config/old.txt"), "old").unwrap();
        std::fs::write(d.path().join("run.json"), "{}").unwrap();
        std::fs::write(d.path().join("notes.txt"), "mine").unwrap();
        let f = OutFolder::claim(d.path()).unwrap();
        assert!(!d.path().join("run.json").exists() && !d.path().join("transcripts").exists());
        assert!(d.path().join("notes.txt").exists(), "a file miplcheck did not write stays");
        assert!(d.path().join(LOCK).exists());
        drop(f);
        assert!(!d.path().join(LOCK).exists());
    }

    #[test]
    fn a_folder_in_use_is_refused_and_a_stale_lock_is_taken_over() {
        let d = tempfile::tempdir().unwrap();
        // Process 1 (init) is always alive and never a miplcheck run of ours.
        std::fs::write(d.path().join(LOCK), "1\n").unwrap();
        let e = OutFolder::claim(d.path()).unwrap_err().to_string();
        assert!(e.contains("process 1") && e.contains("--out"), "{e}");
        std::fs::write(d.path().join(LOCK), "999999999\n").unwrap();
        assert!(OutFolder::claim(d.path()).is_ok(), "a lock whose process is gone is stale");
    }
}
