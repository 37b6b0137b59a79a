//! Snapshots belong to the run: a changed transcript leaves its new snapshot in the run's folder,
//! never beside the golden file, and `miplcheck accept` shows the diff and moves it into the golden
//! folder, after which the same run passes.

mod common;
use common::{miplcheck, root};

#[test]
fn a_changed_snapshot_waits_in_the_run_folder_until_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let golden = dir.path().join("golden");
    std::fs::create_dir_all(golden.join("bc39")).unwrap();
    let snap = "config__sdk-version.snap";
    std::fs::copy(root().join("golden/bc39").join(snap), golden.join("bc39").join(snap)).unwrap();
    let rig = dir.path().join("new-sdk.toml");
    let text = std::fs::read_to_string(root().join("rigs/emulator-bc39.toml")).unwrap();
    std::fs::write(&rig, text.replace("[emulator]", "[emulator]\nsdk_version = \"9.9.9\"")).unwrap();
    let out = dir.path().join("out");
    let (rig, golden_arg, out_arg) = (rig.to_str().unwrap(), golden.to_str().unwrap(), out.to_str().unwrap());
    let run =
        || miplcheck(&["run", "--rig", rig, "--case", "config/sdk-version", "--golden", golden_arg, "--out", out_arg]);

    let o = run();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains(&format!("miplcheck accept {out_arg} --case config/sdk-version")), "{stdout}");
    let pending = out.join("snapshots/bc39/config__sdk-version.snap.new");
    assert!(pending.exists(), "the new snapshot is kept with the run");
    assert!(!golden.join("bc39/config__sdk-version.snap.new").exists(), "nothing is written beside the golden");

    let o = miplcheck(&["accept", out_arg, "--golden", golden_arg, "--dry-run"]);
    let shown = String::from_utf8_lossy(&o.stdout);
    assert!(
        shown.contains("-UE→TE info   +MIPLVER: 2.3.0") && shown.contains("+UE→TE info   +MIPLVER: 9.9.9"),
        "{shown}"
    );
    assert!(pending.exists(), "a dry run changes nothing");

    let o = miplcheck(&["accept", out_arg, "--golden", golden_arg, "--case", "config/*"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("accepted: "));
    assert!(!pending.exists());
    let accepted = std::fs::read_to_string(golden.join("bc39").join(snap)).unwrap();
    assert!(accepted.contains("+MIPLVER: 9.9.9"));

    // A developer's pending review beside the golden file is theirs: a passing run leaves it.
    let theirs = golden.join("bc39/config__sdk-version.snap.new");
    std::fs::write(&theirs, "a developer's pending review").unwrap();
    let o = run();
    assert_eq!(
        o.status.code(),
        Some(0),
        "the accepted snapshot is the new golden: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(theirs.exists(), "a run never deletes a .snap.new beside the golden files");
}
