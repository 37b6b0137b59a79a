//! The drift guard between the page's two renderers of a case's body: Rust's, for the cases kept
//! in the page, and the script's, for the cases whose data waits in a side file. The same record
//! as one file (`render`, everything inline) and as a folder (`render_folder`), each opened in
//! headless Chromium from `file://` with every case opened by the page's own "Expand all": the
//! cases in the two DOMs must be the same, byte for byte of Chromium's serialisation.
//!
//! The record is made to find where the two could part: hostile text everywhere text goes,
//! every direction and class, notes, odd times, steps over and under their windows, a corrected
//! step, a passing case with a snapshot diff, and enough bytes for two side files.
//!
//! Without a Chromium binary the test is skipped (and says so), unless
//! `MIPLCHECK_REQUIRE_CHROMIUM=1` makes it mandatory, as CI does.

use miplcheck_html::chromium_fixture::{self, rendered_dom};
use miplcheck_record::{
    CaseRecord, Class, Dir, Firmware, JudgedOn, Line, RigInfo, RunRecord, SnapshotResult, StepRecord, Totals, Verdict,
    SCHEMA,
};
use std::path::{Path, PathBuf};

/// Text that would be markup, script, a string's end or a line's end if it slipped through.
const HOSTILE: &str =
    "<script>alert(\"x\")</script> <b>'q'</b> &amp; \\ \\\\r \\x1B\\xZZ \u{2028}\u{2029}\0\u{1}\r\n\t é 注 </td></tr>";

fn step(label: &str, latency: Option<f64>, window: Option<f64>) -> StepRecord {
    StepRecord {
        label: label.into(),
        line: 20,
        what: format!("send AT+X={label}"),
        command: Some("+X".into()),
        latency_ms: latency,
        response_ms: None,
        serial_line: None,
        judged_on: None,
        window_ms: window,
        failure: None,
    }
}

fn case(name: &str, verdict: Verdict) -> CaseRecord {
    CaseRecord {
        suite: "s".into(),
        case: name.into(),
        spec: "BC39 §3.2.4".into(),
        title: Some(format!("{name} does its thing")),
        verdict,
        failed_at: None,
        line: None,
        reason: None,
        duration_ms: 4.2,
        steps: vec![],
        snapshot: SnapshotResult::Matched,
        snapshot_diff: None,
        warnings: vec![],
        transcript: vec![],
        suite_file: None,
        attempts: vec![],
        quarantine: None,
    }
}

/// Every kind of row, with `text` in each.
fn transcript(text: &str) -> Vec<Line> {
    let mut lines = vec![Line::step("step 1", text)];
    for (i, dir) in Dir::ALL.into_iter().enumerate() {
        lines.push(Line::entry(i as f64 * 0.5, dir, None, format!(r"AT+MIPLVER?\r {text}")));
        for (k, class) in Class::ALL.into_iter().enumerate() {
            let at = 1.0 + (i * 8 + k) as f64 * 137.0625;
            lines.push(Line::entry(at, dir, Some(class), format!(r"\r\n+MIPLEVENT: 0,{k}\r\n{text}")));
        }
    }
    lines.extend([
        Line::note(0.0005, text),
        Line::note(412.0, format!("step 1 failed: {text}")),
        Line::entry(-0.25, Dir::UeToTe, Some(Class::Final), r"OK\r\n"),
        Line { at_ms: None, ..Line::entry(0.0, Dir::UeToTe, Some(Class::Urc), "no time") },
        Line { at_ms: Some(f64::NAN), ..Line::note(0.0, "not a time") },
        Line { dir: None, ..Line::entry(2.5, Dir::UeToTe, None, "an entry without a direction") },
        Line::entry(86_400_000.0 * 20.0, Dir::PfToUe, Some(Class::Coap), "twenty days in"),
    ]);
    lines
}

fn record() -> RunRecord {
    let mut steps = vec![
        step("step 1", Some(210.5), Some(3000.0)),
        step("step 2", Some(412.0), Some(300.0)),
        step("step 3", Some(0.2), Some(300.0)),
        step("step 4", Some(1.5), None),
        step("step 5", None, Some(300.0)),
        step("step 6", None, None),
        step("step 7", Some(1.0), Some(0.0)),
        step("step 8", Some(299.95), Some(300.0)),
        StepRecord {
            response_ms: Some(250.0),
            serial_line: Some(format!("9600 8N1 {HOSTILE}")),
            judged_on: Some(JudgedOn::Corrected),
            ..step("step 9", Some(383.0), Some(300.0))
        },
        StepRecord { failure: Some(HOSTILE.into()), ..step(HOSTILE, Some(75_000.0), Some(90_000.0)) },
    ];
    steps[0].what = HOSTILE.into();

    let mut hostile = case("hostile", Verdict::Passed);
    hostile.steps = steps.clone();
    hostile.transcript = transcript(HOSTILE);
    hostile.snapshot = SnapshotResult::Tolerated;
    hostile.snapshot_diff = Some(format!(" AT+X\\r\r\n-+MIPLEVENT: 0,11 {HOSTILE}\n++MIPLEVENT: 0,12\n…\n\n+\n"));
    hostile.warnings = vec![HOSTILE.into()];

    let mut plain = case("plain", Verdict::Passed);
    plain.steps = vec![step("step 1", Some(12.0), Some(300.0))];
    plain.transcript = transcript("plain");

    // More than a side file holds, so the cases after it are in the second.
    let mut big = case("big", Verdict::Passed);
    big.transcript = (0..2400)
        .map(|i| {
            Line::entry(
                f64::from(i) * 1.25,
                Dir::UeToTe,
                Some(Class::Info),
                format!("+MIPLREAD: {i},{}", "x".repeat(480)),
            )
        })
        .collect();

    let mut after = case("after-big", Verdict::Passed);
    after.transcript = transcript("'after'");

    let mut skipped = case("skipped-with-lines", Verdict::Skipped);
    skipped.reason = Some("the rig lacks `sota`".into());
    skipped.transcript = vec![Line::entry(0.0, Dir::TeToUe, None, r"AT+MIPLVER?\r")];

    let mut no_steps = case("no-steps", Verdict::Passed);
    no_steps.transcript = vec![Line::step("setup 1", "wait")];

    let mut failed = case("failed", Verdict::Failed);
    failed.steps = steps;
    failed.reason = Some(format!("late: {HOSTILE}"));
    failed.snapshot = SnapshotResult::Changed;
    failed.snapshot_diff = Some(format!("-a\n+{HOSTILE}\n"));
    failed.transcript = transcript(HOSTILE);

    let mut flaky = case("flaky", Verdict::Passed);
    let mut first = flaky.clone();
    first.verdict = Verdict::Failed;
    first.transcript = transcript("first try");
    flaky.attempts = vec![first];
    flaky.transcript = transcript("second try");

    let cases = vec![
        hostile,
        plain,
        big,
        after,
        skipped,
        no_steps,
        case("passed-without-lines", Verdict::Passed),
        failed,
        flaky,
    ];
    RunRecord {
        schema: SCHEMA.into(),
        tool: "0.1.0".into(),
        started: "2026-11-21T11:20:05Z".into(),
        duration_ms: 1218,
        rig: RigInfo {
            name: "bench-1".into(),
            dialect: "bc39".into(),
            target: "serial on /dev/ttyUSB0".into(),
            capabilities: vec![],
            window_scale: 1.0,
            secrets: vec![],
        },
        firmware: Firmware { revision: "BC39NBR01A04_ONT".into(), imei: None, note: None, flash: None },
        summary: Totals::of(&cases),
        cases,
        incomplete: None,
        health: None,
        suites: None,
        partition: None,
        merged_from: vec![],
    }
}

/// The page's own "Expand all" pressed once its script has run, as a reader would: the test's
/// only addition to the page.
const EXPAND_ALL: &str = "<script>Array.prototype.forEach.call(document.querySelectorAll('.tools button'), \
     function (b) { if (b.textContent === 'Expand all') b.click(); });</script>\n</body>";

/// `html` written as `dir/report.html` with [`EXPAND_ALL`], and `files` beside it.
fn write_page(dir: &Path, html: &str, files: &[(String, String)]) -> PathBuf {
    let at = html.rfind("</body>").expect("the page ends its body");
    let page = dir.join("report.html");
    std::fs::write(&page, format!("{}{EXPAND_ALL}{}", &html[..at], &html[at + "</body>".len()..])).unwrap();
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    page
}

/// Each case's `<details>` in the DOM, by its id, in order: from one case's start to the next's
/// (or the end of its suite).
fn cases(dom: &str) -> Vec<(String, String)> {
    let start = dom.find(r#"<section class="suite""#).expect("a suite in the page");
    let end = dom.rfind("<footer>").expect("the page's footer");
    let all = &dom[start..end];
    let mut out = vec![];
    let mut parts = all.split(r#"<details class="case "#).skip(1);
    for part in parts.by_ref() {
        let id = part.split(r#"id=""#).nth(1).and_then(|s| s.split('"').next()).unwrap_or_default().to_string();
        let body = part.split("</section>").next().unwrap_or(part).to_string();
        out.push((id, body));
    }
    out
}

#[test]
fn side_files_render_into_the_markup_the_page_has_inline() {
    let record = record();
    let inline = miplcheck_html::render(&record);
    let folder = miplcheck_html::render_folder(&record);
    assert!(folder.files.len() >= 2, "the big case fills a side file: {} files", folder.files.len());
    assert!(!inline.contains("miplcheckSide") && folder.html.contains("miplcheckSide"));

    let Some(browser) = chromium_fixture::find() else {
        eprintln!(
            "skipped: no chromium or chromium-browser on PATH (apt-get install chromium to compare the renderers)"
        );
        return;
    };
    let root = tempfile::tempdir().unwrap();
    let (one, two) = (root.path().join("inline"), root.path().join("folder"));
    for d in [&one, &two] {
        std::fs::create_dir_all(d.join("scratch")).unwrap();
    }
    let one_dom = rendered_dom(&browser, &write_page(&one, &inline, &[]), "", &one.join("scratch"));
    let two_dom = rendered_dom(&browser, &write_page(&two, &folder.html, &folder.files), "", &two.join("scratch"));

    let (a, b) = (cases(&one_dom), cases(&two_dom));
    assert_eq!(a.len(), record.cases.len(), "every case is in the inline page's DOM");
    assert_eq!(
        a.iter().map(|(id, _)| id).collect::<Vec<_>>(),
        b.iter().map(|(id, _)| id).collect::<Vec<_>>(),
        "the same cases in the same order"
    );
    assert!(two_dom.contains(">Expand all</button>"), "the page's script ran");
    for ((id, x), (_, y)) in a.iter().zip(&b) {
        let tag = |s: &str| s.split('>').next().unwrap_or_default().to_string();
        assert!(tag(x).contains(" open") && tag(y).contains(" open"), "{id} was opened: {}", tag(y));
        assert!(!y.contains(r#"class="side""#), "{id}: its placeholder is replaced:\n{y}");
        assert!(!x.contains("<script") && !y.contains("<script"), "{id}: hostile text stays text");
        if x != y {
            let at = x.bytes().zip(y.bytes()).position(|(p, q)| p != q).unwrap_or(x.len().min(y.len()));
            let around = |s: &str| {
                let (mut from, mut to) = (at.saturating_sub(300), (at + 300).min(s.len()));
                while !s.is_char_boundary(from) {
                    from -= 1;
                }
                while !s.is_char_boundary(to) {
                    to += 1;
                }
                s[from..to].to_string()
            };
            panic!("case {id} differs at byte {at}:\n inline: {}\n   side: {}", around(x), around(y));
        }
    }
    // The bodies really came from the side files, all of them.
    for (id, body) in &b {
        if ["case-s-hostile", "case-s-plain", "case-s-after-big", "case-s-big"].contains(&id.as_str()) {
            assert!(body.contains(r#"<table class="transcript">"#), "{id}:\n{body}");
        }
    }
    let hostile = &b[0].1;
    assert!(hostile.contains(r#"<tr class="ue-pf coap">"#) && hostile.contains(r#"<span class="ctl">\x1B</span>"#));
    assert!(hostile.contains("&lt;script&gt;alert(\"x\")&lt;/script&gt;"), "{hostile}");
}
