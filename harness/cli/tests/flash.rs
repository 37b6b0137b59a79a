//! Qualifying a firmware in one command, on the BC39 emulator in virtual time (README "Qualifying
//! a firmware"): firmware N's record, then `run --firmware` of N+1 through the mock platform's
//! FOTA job (`[flash] via = "fota"`), its revision proved by `AT+CGMR` before any case, and
//! `miplcheck diff` of the two records as the gate; a package that is not the revision expected
//! refused with exit 5 and no case run; and a `[flash] command` (a real shell script) that
//! succeeds — writing the emulator's `flash_slot`, N to N+1 — fails or overruns, its output kept
//! on disk and a failure the bench's (exit 4).

mod common;
use common::{miplcheck, root};

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

const N: &str = "BC39NBR01A04_ONT";
const N_PLUS_1: &str = "BC39NBR01A05_ONT";
const PACKAGE: &str = "suites/data/fw_bc39_v2.bin";
/// Two-sided and quick, and nothing in it (nor in its goldens) names the revision: a firmware
/// that behaves the same passes it on either.
const SUITE: &str = "register";

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The virtual BC39 rig with `extra` (a `[flash]` table) added, written into `dir`.
fn rig(dir: &Path, name: &str, extra: &str) -> PathBuf {
    let base = std::fs::read_to_string(root().join("rigs/virtual-bc39.toml")).unwrap();
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, format!("{base}\n{extra}")).unwrap();
    path
}

fn run(rig: &Path, out: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["run", "--rig", rig.to_str().unwrap(), "--suite", SUITE, "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let o = miplcheck(&args);
    (o.status.code(), text(&o))
}

fn record(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap()
}

/// Every case of the record, as `(verdict, failed_at)`.
fn verdicts(r: &Value) -> Vec<(String, String)> {
    r["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["verdict"].as_str().unwrap_or("").into(), c["failed_at"].as_str().unwrap_or("").into()))
        .collect()
}

fn sha256(path: &Path) -> String {
    let o = std::process::Command::new("sha256sum").arg(path).output().unwrap();
    let out = String::from_utf8(o.stdout).unwrap();
    format!("sha256:{}", out.split_whitespace().next().unwrap())
}

#[test]
fn n_to_n_plus_1_by_fota_qualifies_and_the_diff_against_n_gates_clean() {
    let dir = tempfile::tempdir().unwrap();
    // Firmware N's record: the rig's own firmware, nothing flashed.
    let n = dir.path().join("N");
    let (code, said) = run(&root().join("rigs/virtual-bc39.toml"), &n, &[]);
    assert_eq!(code, Some(0), "{said}");
    assert_eq!(record(&n)["firmware"]["revision"], format!("Revision: {N}"));

    let fota = rig(dir.path(), "bench", "[flash]\nvia = \"fota\"\n");
    let b = dir.path().join("N+1");
    let (code, said) = run(&fota, &b, &["--firmware", PACKAGE]);
    assert_eq!(code, Some(0), "{said}");
    let says = "flashed fw_bc39_v2.bin (3133 bytes, sha256:";
    assert!(said.contains(says) && said.contains(&format!("by fota: {N} -> {N_PLUS_1}")), "{said}");
    let r = record(&b);
    assert_eq!(r["firmware"]["revision"], format!("Revision: {N_PLUS_1}"), "the cases ran on N+1");
    let f = &r["firmware"]["flash"];
    assert_eq!(f["outcome"], "qualified", "{f}");
    assert_eq!((f["file"].as_str(), f["size"].as_u64()), (Some("fw_bc39_v2.bin"), Some(3133)));
    assert_eq!(f["sha256"].as_str(), Some(sha256(&root().join(PACKAGE)).as_str()));
    assert_eq!((f["via"].as_str(), f["expected_from"].as_str()), (Some("fota"), Some("package")));
    assert_eq!(
        (f["before"].as_str(), f["after"].as_str(), f["expected"].as_str()),
        (Some(N), Some(N_PLUS_1), Some(N_PLUS_1))
    );
    assert!(verdicts(&r).iter().all(|(v, _)| v == "passed"), "{:?}", verdicts(&r));
    // The FOTA exchange is the flash's evidence, in the run's folder.
    let log = std::fs::read_to_string(b.join("flash.log")).unwrap();
    assert!(log.contains("+MIPLEVENT: 0,43") && log.contains("RDY"), "{log}");
    assert!(!log.contains("Quectel123") && !log.contains("866971030000001"), "secrets and identities masked");
    let junit = std::fs::read_to_string(b.join("junit.xml")).unwrap();
    for prop in [r#"name="firmware.file" value="fw_bc39_v2.bin""#, r#"name="firmware.flash" value="qualified""#] {
        assert!(junit.contains(prop), "{prop} in {junit}");
    }
    assert!(junit.contains(&format!(r#"name="firmware.after" value="{N_PLUS_1}""#)));
    let page = std::fs::read_to_string(b.join("report.html")).unwrap();
    assert!(page.contains("<dt>Flashed</dt>") && page.contains(&format!("{N} → {N_PLUS_1}")), "report.html");

    // The gate: N+1 against N's record.
    let d = dir.path().join("diff");
    let o = miplcheck(&["diff", n.to_str().unwrap(), b.to_str().unwrap(), "--out", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(d.join("diff.md").exists());
}

#[test]
fn the_gate_fails_when_a_case_that_passed_on_n_fails_on_n_plus_1() {
    let dir = tempfile::tempdir().unwrap();
    let run_basics = |rig: &Path, out: &Path, extra: &[&str]| {
        let mut args = vec!["run", "--rig", rig.to_str().unwrap(), "--suite", "basics", "--out", out.to_str().unwrap()];
        args.extend_from_slice(extra);
        let o = miplcheck(&args);
        (o.status.code(), text(&o))
    };
    let n = dir.path().join("N");
    let (code, said) = run_basics(&root().join("rigs/virtual-bc39.toml"), &n, &[]);
    assert_eq!(code, Some(0), "{said}");
    // basics/revision's golden transcript has N's AT+CGMR answer: N+1 changes it.
    let fota = rig(dir.path(), "bench", "[flash]\nvia = \"fota\"\n");
    let b = dir.path().join("N+1");
    let (code, said) = run_basics(&fota, &b, &["--firmware", PACKAGE]);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("basics/revision"), "{said}");
    let d = dir.path().join("diff");
    let o = miplcheck(&["diff", n.to_str().unwrap(), b.to_str().unwrap(), "--out", d.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let md = std::fs::read_to_string(d.join("diff.md")).unwrap();
    assert!(md.contains("revision") && md.contains(N_PLUS_1), "{md}");
}

#[test]
fn the_m5310a_goes_to_its_next_revision_by_fota_too() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(root().join("rigs/virtual-m5310a.toml")).unwrap();
    let bench = dir.path().join("bench.toml");
    std::fs::write(&bench, format!("{base}\n[flash]\nvia = \"fota\"\n")).unwrap();
    let out = dir.path().join("out");
    let o = miplcheck(&[
        "run",
        "--rig",
        bench.to_str().unwrap(),
        "--suite",
        "m5310a-register",
        "--firmware",
        "suites/data/fw_m5310a_v2.bin",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let f = &record(&out)["firmware"]["flash"];
    assert_eq!(
        (f["outcome"].as_str(), f["before"].as_str(), f["after"].as_str()),
        (Some("qualified"), Some("M5310-A_V1.6"), Some("M5310-A_V1.7")),
        "{f}"
    );
}

#[test]
fn a_package_that_is_not_the_expected_revision_exits_5_with_no_case_run() {
    let dir = tempfile::tempdir().unwrap();
    let fota = rig(dir.path(), "bench", "[flash]\nvia = \"fota\"\n");
    let out = dir.path().join("out");
    let (code, said) = run(&fota, &out, &["--firmware", PACKAGE, "--expect-revision", "BC39NBR01A09_ONT"]);
    assert_eq!(code, Some(5), "{said}");
    let why = format!("wrong firmware: expected BC39NBR01A09_ONT, modem reports {N_PLUS_1}");
    assert!(said.contains(&why), "{said}");
    let r = record(&out);
    assert_eq!(r["firmware"]["flash"]["outcome"], "wrong-firmware");
    assert_eq!(r["firmware"]["flash"]["expected_from"], "--expect-revision");
    let cases = verdicts(&r);
    assert!(!cases.is_empty() && cases.iter().all(|c| c == &("error".into(), "not-run".into())), "{cases:?}");
    assert!(r["cases"][0]["reason"].as_str().unwrap().contains(&why));
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(junit.contains(r#"name="firmware.flash" value="wrong-firmware""#), "{junit}");
}

/// A flash script that records what it was given and then does `then`.
fn script(dir: &Path, then: &str, timeout: &str) -> String {
    let slot = dir.join("slot");
    std::fs::create_dir_all(&slot).unwrap();
    let path = dir.join("flash.sh");
    std::fs::write(
        &path,
        format!("set -e\necho \"flashing $1 on $MIPLCHECK_RIG\"\ncp \"$1\" '{}/modem.bin'\n{then}\n", slot.display()),
    )
    .unwrap();
    format!("[flash]\ncommand = \"sh '{}' ${{firmware}}\"\ntimeout = \"{timeout}\"\n", path.display())
}

#[test]
fn a_flash_command_that_succeeds_is_checked_by_the_revision_it_leaves() {
    let dir = tempfile::tempdir().unwrap();
    let bench = rig(dir.path(), "bench", &script(dir.path(), "echo done", "20s"));
    // This emulator has no flash slot, so what the script copies is not booted: it reports N.
    let out = dir.path().join("same");
    let (code, said) = run(&bench, &out, &["--firmware", PACKAGE, "--expect-revision", N]);
    assert_eq!(code, Some(0), "{said}");
    assert_eq!(std::fs::read(dir.path().join("slot/modem.bin")).unwrap(), std::fs::read(root().join(PACKAGE)).unwrap());
    let f = &record(&out)["firmware"]["flash"];
    assert_eq!((f["outcome"].as_str(), f["after"].as_str()), (Some("qualified"), Some(N)), "{f}");
    assert!(f["via"].as_str().unwrap().starts_with("command `sh "), "{f}");
    let log = std::fs::read_to_string(out.join("flash.log")).unwrap();
    assert!(
        log.contains("flashing ") && log.contains("fw_bc39_v2.bin on virtual-bc39") && log.contains("done"),
        "{log}"
    );
    // The package's own revision is not what the modem reports afterwards: refused.
    let out = dir.path().join("refused");
    let (code, said) = run(&bench, &out, &["--firmware", PACKAGE]);
    assert_eq!(code, Some(5), "{said}");
    assert!(said.contains(&format!("wrong firmware: expected {N_PLUS_1}, modem reports {N}")), "{said}");
}

#[test]
fn a_flash_script_writing_the_emulator_s_flash_slot_takes_it_from_n_to_n_plus_1() {
    let dir = tempfile::tempdir().unwrap();
    let base = std::fs::read_to_string(root().join("rigs/virtual-bc39.toml")).unwrap();
    let slot = dir.path().join("slot/modem.bin");
    let with_slot = base.replace("[emulator]\n", &format!("[emulator]\nflash_slot = '{}'\n", slot.display()));
    assert_ne!(with_slot, base);
    let bench = dir.path().join("bench.toml");
    std::fs::write(&bench, format!("{with_slot}\n{}", script(dir.path(), "echo written", "20s"))).unwrap();
    let out = dir.path().join("N+1");
    let (code, said) = run(&bench, &out, &["--firmware", PACKAGE]);
    assert_eq!(code, Some(0), "{said}");
    let r = record(&out);
    let f = &r["firmware"]["flash"];
    assert_eq!((f["before"].as_str(), f["after"].as_str()), (Some(N), Some(N_PLUS_1)), "{f}");
    assert_eq!((f["outcome"].as_str(), f["expected_from"].as_str()), (Some("qualified"), Some("package")));
    assert_eq!(r["firmware"]["revision"], format!("Revision: {N_PLUS_1}"), "the cases ran on N+1");
    assert!(verdicts(&r).iter().all(|(v, _)| v == "passed"), "{:?}", verdicts(&r));
    // An image for another model over it: the bootloader refuses it and boots the rig's own
    // firmware, which the revision check refuses.
    let out = dir.path().join("other-model");
    let (code, said) = run(&bench, &out, &["--firmware", "suites/data/fw_m5310a_v2.bin"]);
    assert_eq!(code, Some(5), "{said}");
    assert!(said.contains(&format!("modem reports {N}")), "{said}");
}

#[test]
fn a_flash_command_that_fails_or_overruns_is_the_bench_s_with_its_output_kept() {
    let dir = tempfile::tempdir().unwrap();
    for (name, then, timeout, says) in [
        ("fails", "echo 'no device on the port' >&2; exit 3", "20s", "exit status: 3"),
        ("overruns", "echo 'waiting for the bootloader'; sleep 30", "1s", "still running after 1s"),
    ] {
        let sub = dir.path().join(name);
        std::fs::create_dir_all(&sub).unwrap();
        let bench = rig(&sub, "bench", &script(&sub, then, timeout));
        let out = sub.join("out");
        let (code, said) = run(&bench, &out, &["--firmware", PACKAGE]);
        assert_eq!(code, Some(4), "{name}: {said}");
        let r = record(&out);
        let f = &r["firmware"]["flash"];
        assert_eq!(f["outcome"], "failed", "{name}: {f}");
        assert!(f["reason"].as_str().unwrap().contains(says), "{name}: {f}");
        assert!(f["after"].is_null(), "{name}: {f}");
        let cases = verdicts(&r);
        assert!(cases.iter().all(|c| c == &("error".into(), "not-run".into())), "{name}: {cases:?}");
        let log = std::fs::read_to_string(out.join("flash.log")).unwrap();
        let printed = if name == "fails" { "no device on the port" } else { "waiting for the bootloader" };
        assert!(log.contains(printed) && log.contains("flashing "), "{name}: {log}");
    }
}

#[test]
fn firmware_without_a_flash_table_a_known_revision_or_the_rig_s_model_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let (code, said) = run(&root().join("rigs/virtual-bc39.toml"), &out, &["--firmware", PACKAGE]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("add a [flash] table"), "{said}");
    let bench = rig(dir.path(), "bench", "[flash]\nvia = \"fota\"\n");
    let (code, said) = run(&bench, &out, &["--firmware", "suites/data/mcu_sw_v2.bin"]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("give --expect-revision REV"), "{said}");
    let (code, said) = run(&bench, &out, &["--firmware", "suites/data/fw_m5310a_v2.bin"]);
    assert_eq!(code, Some(2), "{said}");
    assert!(said.contains("is a package for M5310-A, but") && said.contains("is a BC39 (bc39)"), "{said}");
    assert!(!out.join("run.json").exists(), "nothing ran");
}
