//! Reports are written or the run says so: a report that cannot be written makes the run exit 3
//! naming the file, never 0; a reused `--out` holds only the new run's files.

mod common;
use common::miplcheck;

#[test]
fn a_report_that_cannot_be_written_exits_3_naming_it() {
    let out = tempfile::tempdir().unwrap();
    // A folder where junit.xml should go: not writable as a file, even for root.
    std::fs::create_dir(out.path().join("junit.xml")).unwrap();
    let o = miplcheck(
        &["run", "--rig", "rigs/emulator-bc39.toml", "--case", "basics/attention", "--out"]
            .into_iter()
            .chain([out.path().to_str().unwrap()])
            .collect::<Vec<_>>(),
    );
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("the junit report could not be written") && stderr.contains("junit.xml"), "{stderr}");
    assert!(out.path().join("run.json").exists(), "the other reports are still written");
}

#[test]
fn a_reused_out_holds_only_the_new_runs_files() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_str().unwrap();
    let o = miplcheck(&["run", "--rig", "rigs/emulator-bc39.toml", "--case", "basics/attention", "--out", dir]);
    assert_eq!(o.status.code(), Some(0));
    assert!(out.path().join("transcripts/basics/attention.txt").exists());
    let o = miplcheck(&["run", "--rig", "rigs/emulator-bc39.toml", "--case", "basics/revision", "--out", dir]);
    assert_eq!(o.status.code(), Some(0));
    assert!(!out.path().join("transcripts/basics/attention.txt").exists(), "the last run's transcript is gone");
    assert!(out.path().join("transcripts/basics/revision.txt").exists());
    let record = std::fs::read_to_string(out.path().join("run.json")).unwrap();
    assert!(record.contains("\"revision\"") && !record.contains("\"attention\""));
}

#[test]
fn an_out_in_use_by_another_run_is_refused() {
    let out = tempfile::tempdir().unwrap();
    // Process 1 is alive for as long as the machine is: a run that holds the folder.
    std::fs::write(out.path().join(".miplcheck.lock"), "1\n").unwrap();
    let o = miplcheck(&["run", "--rig", "rigs/emulator-bc39.toml", "--out", out.path().to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("another miplcheck run (process 1)"), "{stderr}");
}

/// A small tmpfs, unmounted when dropped; none where this process may not mount (not root).
struct Tmpfs(tempfile::TempDir);

impl Tmpfs {
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .status()
            .is_ok_and(|s| s.success());
        ok.then_some(Tmpfs(dir))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(self.0.path()).status();
    }
}

#[test]
fn a_full_disk_exits_3_and_leaves_no_half_written_report() {
    let Some(disk) = Tmpfs::mount("64k") else {
        assert!(std::env::var_os("MIPLCHECK_REQUIRE_MOUNT").is_none(), "cannot mount a tmpfs here");
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let out = disk.0.path().join("out");
    let o =
        miplcheck(&["run", "--rig", "rigs/emulator-bc39.toml", "--suite", "basics", "--out", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("could not be written") && stderr.contains("No space left"), "{stderr}");
    // What is there is whole: every report either parses or is absent, and no partial file is left.
    if let Ok(text) = std::fs::read_to_string(out.join("run.json")) {
        serde_json::from_str::<serde_json::Value>(&text).expect("a whole run.json");
    }
    if let Ok(text) = std::fs::read_to_string(out.join("junit.xml")) {
        assert!(text.trim_end().ends_with("</testsuites>"), "a whole junit.xml");
    }
    if let Ok(text) = std::fs::read_to_string(out.join("report.html")) {
        assert!(text.trim_end().ends_with("</html>"), "a whole report.html");
    }
    let partial: Vec<_> = walk(&out).into_iter().filter(|p| p.ends_with(".partial")).collect();
    assert!(partial.is_empty(), "{partial:?}");
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}
