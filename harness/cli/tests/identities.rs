//! The modem's identities never leave a run unmasked: every file a run writes (run.json,
//! report.html, junit.xml, coverage, transcripts, pcapng captures) and everything it prints
//! (also with `-v`) carry the emulator's IMEI and IMSI only masked, unless the rig opts out.
//! CI scans the full runs of both emulator rigs the same way (`.ci/run`).

mod common;
use common::{miplcheck, root};
use std::path::Path;

/// What each emulator says it is (`AT+CGSN=1`, `AT+CIMI`), and the IMEI as reports show it.
const BC39: Identity = Identity { imei: "866971030000001", imsi: "460040000000001", shown: "86697103*******" };
const M5310A: Identity = Identity { imei: "869975030000461", imsi: "1064826326459", shown: "86997503*******" };
const IMEI: &str = BC39.imei;

struct Identity {
    imei: &'static str,
    imsi: &'static str,
    shown: &'static str,
}

/// A file's name and bytes.
type File = (String, Vec<u8>);

/// Every file under `dir`, with its bytes.
fn files(dir: &Path) -> Vec<File> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

/// Runs the selection into a fresh folder, every case failing on its missing snapshot (an empty
/// golden folder) so that `-v` prints every transcript; returns the files and the output.
fn run(rig: &Path, selection: &[&str]) -> (tempfile::TempDir, Vec<File>, Vec<u8>) {
    let out = tempfile::tempdir().unwrap();
    let golden = tempfile::tempdir().unwrap();
    let mut args = vec!["run", "--rig", rig.to_str().unwrap(), "-v", "--golden", golden.path().to_str().unwrap()];
    args.extend_from_slice(selection);
    args.extend_from_slice(&["--out", out.path().to_str().unwrap()]);
    let o = miplcheck(&args);
    assert_eq!(o.status.code(), Some(1), "every case fails on its missing snapshot");
    let printed = [o.stdout, o.stderr].concat();
    let written = files(out.path());
    (out, written, printed)
}

#[test]
fn no_artefact_of_either_emulator_rig_carries_the_imei_or_imsi() {
    let runs = [
        ("rigs/emulator-bc39.toml", ["--suite", "basics"], &BC39),
        ("rigs/emulator-bc39.toml", ["--case", "register/register-"], &BC39),
        ("rigs/emulator-m5310a.toml", ["--suite", "basics"], &M5310A),
        ("rigs/emulator-m5310a.toml", ["--case", "m5310a-register/register-auto-observe"], &M5310A),
    ];
    let mut kinds = std::collections::BTreeSet::new();
    for (rig, selection, id) in runs {
        let (_dir, written, printed) = run(&root().join(rig), &selection);
        for (name, bytes) in written.iter().chain([(format!("{rig} output"), printed.clone())].iter()) {
            for secret in [BC39.imei, BC39.imsi, M5310A.imei, M5310A.imsi] {
                assert!(!contains(bytes, secret), "{name} carries {secret}");
            }
            kinds.insert(name.rsplit('.').next().unwrap_or("").to_string());
        }
        let record = written.iter().find(|(n, _)| n.ends_with("run.json")).expect("run.json");
        assert!(contains(&record.1, id.shown), "{rig}: the record keeps the model's TAC");
        assert!(contains(&printed, id.shown), "{rig}: -v shows the transcript, masked");
    }
    for kind in ["json", "html", "xml", "md", "txt", "pcapng"] {
        assert!(kinds.contains(kind), "no .{kind} file was scanned: {kinds:?}");
    }
}

#[test]
fn a_private_bench_can_keep_identities() {
    let dir = tempfile::tempdir().unwrap();
    let rig = dir.path().join("private.toml");
    let text = std::fs::read_to_string(root().join("rigs/emulator-bc39.toml")).unwrap();
    std::fs::write(&rig, format!("{text}\n[privacy]\nidentity = \"keep\"\n")).unwrap();
    let (_out, written, printed) = run(&rig, &["--case", "basics/imei"]);
    let record = written.iter().find(|(n, _)| n.ends_with("run.json")).expect("run.json");
    assert!(contains(&record.1, IMEI) && contains(&printed, IMEI), "kept as the modem says it");
}
