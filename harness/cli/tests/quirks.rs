//! Quirk profiles: the M5310-A suites against emulators that depart from the manual the way real
//! firmware does (`rigs/quirks/`). Each departure must fail its case with a message that names it,
//! and a rig that tolerates them must pass with each one as a warning.

mod common;
use common::miplcheck;

/// Runs one case against a rig; returns the exit status and what was printed.
fn run(rig: &str, case: &str) -> (Option<i32>, String) {
    let out = tempfile::tempdir().unwrap();
    let o = miplcheck(&["run", "--rig", rig, "--case", case, "--out", out.path().to_str().unwrap()]);
    let text = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    (o.status.code(), text)
}

#[test]
fn event_codes_from_the_manuals_examples_are_named_with_both_sections() {
    let rig = "rigs/quirks/m5310a-manual-examples.toml";
    let (code, text) = run(rig, "m5310a-register/close-and-delete");
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("event 20 came instead: 15 is deregistered (M5310-A §4.2); 20 is deregistered (§5.3.4 only"),
        "{text}"
    );
    let (code, text) = run(rig, "m5310a-data/notify-con-ackid");
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("event 11 came instead: 26 is NOTIFY acknowledged"), "{text}");
}

#[test]
fn spacing_urc_order_and_repeats_are_each_named() {
    let (code, text) = run("rigs/quirks/m5310a-loose-firmware.toml", "m5310a-data/read-late-answer");
    assert_eq!(code, Some(1), "{text}");
    for says in [
        "is now `+MIPLCREATEEX: 0`: a space after `:`",
        ": a space after `,`",
        "`+MIPLEVENT: 0, 6` now comes before the `OK` of `AT+MIPLOPEN=0,3000,30`, the command that caused it",
        "is printed again, with the same message ID",
    ] {
        assert!(text.contains(says), "missing {says:?} in\n{text}");
    }
}

#[test]
fn a_rig_that_tolerates_the_departures_passes_with_warnings() {
    let rig = "rigs/quirks/m5310a-tolerant.toml";
    let (code, text) = run(rig, "m5310a-data/read-late-answer");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("warning: tolerated: ") && text.contains("printed again"), "{text}");
    let (code, text) = run(rig, "m5310a-register/close-and-delete");
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("tolerated: event 20 came where the golden transcript has event 15"), "{text}");
}
