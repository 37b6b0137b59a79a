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
