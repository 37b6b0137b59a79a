//! The HTML report: one self-contained file (`report.html`) made from a run record, for people.
//! It opens offline — style and charts are inline, nothing is fetched — and reads top-down the way
//! a firmware engineer checks a night's run: what ran on what, how many passed, which failed and
//! why, whether the modem kept its response windows, then every case with its transcript.
//!
//! A rack run gets `rack.html` ([`render_rack`], `rack`): its rigs and the matrix of their
//! verdicts, linking into each rig's `report.html`.
//!
//! Input is a [`RunRecord`], already redacted and masked; everything taken from it is escaped
//! ([`escape`], or the side files' script, which escapes the same). `page` holds the layout and
//! style, `cases` and `transcript` the per-case parts, `data` the same parts as a side file's
//! data and [`side`] the side files and the script that renders them, `windows` the per-command
//! numbers and `svg` the charts drawn from them.

mod cases;
#[doc(hidden)]
pub mod chromium_fixture;
mod data;
pub mod escape;
#[cfg(test)]
mod fixture;
mod page;
mod rack;
pub mod side;
mod svg;
mod transcript;
mod units;
pub mod windows;

use escape::esc;
use miplcheck_record::{CaseRecord, FlashOutcome, RackRecord, RunRecord, Verdict};
use std::fmt::Write;

/// The report's file name, beside `run.json`.
pub const FILE: &str = "report.html";

/// The rack page's file name, beside `rack.json`.
pub const RACK_FILE: &str = "rack.html";

/// The whole page for one rack run: its totals, its rigs with their health, and the matrix of
/// cases × rigs, each cell linking to the case in the rig's own [`FILE`] (in [`RackRig::folder`],
/// relative to the rack page).
///
/// [`RackRig::folder`]: miplcheck_record::RackRig::folder
pub fn render_rack(rack: &RackRecord) -> String {
    rack::render(rack)
}

/// The whole page for one run, everything inline: one file that can be mailed on its own.
pub fn render(record: &RunRecord) -> String {
    render_with(record, &mut side::Side::inline())
}

/// The page for one run as a folder: [`FILE`] and, in [`side::DIR`], the steps and transcripts
/// of the passing cases as data, which the page loads and renders when one is opened (a
/// `<script src>` each, so it works from `file://` with no server). Failed cases keep theirs inline. A run with no passing
/// transcripts gets the same page [`render`] makes, and no side files.
pub fn render_folder(record: &RunRecord) -> side::Folder {
    let mut side = side::Side::files();
    let html = render_with(record, &mut side);
    side::Folder { html, files: side.finish() }
}

fn render_with(record: &RunRecord, side: &mut side::Side) -> String {
    let stats = windows::per_command(record);
    let mut ids = cases::Ids::default();
    let suites = cases::by_suite(&record.cases, &mut ids);
    let suite_ids: Vec<String> = suites.iter().map(|(name, _)| ids.take("suite", name)).collect();

    let mut body = String::new();
    header(&mut body, record);
    body.push_str(
        r##"<nav class="toc"><a href="#summary">Summary</a><a href="#windows">Response windows</a><a href="#charts">Charts</a><a href="#cases">Cases</a></nav>"##,
    );
    summary(&mut body, record, &suites, &suite_ids);
    window_table(&mut body, &stats, windows::any_corrected(record));
    charts(&mut body, &stats);
    let _ = write!(body, r#"<section id="cases"><h2>Cases</h2>{}<div class="tools"></div>"#, page::legend());
    if record.cases.is_empty() {
        body.push_str(r#"<p class="muted">This run has no cases.</p>"#);
    }
    body.push_str("</section>");
    let in_order: Vec<&CaseRecord> = suites.iter().flat_map(|(_, list)| list.iter().map(|(c, _)| *c)).collect();
    let mut bodies = cases::bodies(&in_order, side.enabled()).into_iter();
    for ((name, list), id) in suites.iter().zip(&suite_ids) {
        cases::suite(&mut body, name, list, id, &mut bodies, side);
    }
    let _ = write!(
        body,
        "<footer>Made by miplcheck {} from the run record ({}). Secrets are redacted and the modem's identities masked.</footer>",
        esc(&record.tool),
        esc(&record.schema)
    );
    let title = format!("miplcheck · {} · {} · {}", record.rig.name, verdict_text(record), record.started);
    // Only a record that has what 0.1.0 never wrote gets the rules for it: an old record's page
    // stays the same to the byte.
    let bench = record.health.is_some()
        || record
            .cases
            .iter()
            .any(|c| c.verdict == miplcheck_record::Verdict::Error || !c.attempts.is_empty() || c.quarantine.is_some());
    if side.used() {
        page::styled_with_script(&title, if bench { cases::BENCH_STYLE } else { "" }, &body, side::SCRIPT)
    } else {
        page::styled(&title, if bench { cases::BENCH_STYLE } else { "" }, &body)
    }
}

fn verdict_text(r: &RunRecord) -> String {
    // Its cases are "not run" errors, but the bench did its part: the firmware is the wrong one.
    if r.firmware.flash.as_ref().is_some_and(|f| f.outcome == FlashOutcome::WrongFirmware) && r.incomplete.is_none() {
        return "wrong firmware".into();
    }
    verdict_words(&r.summary, r.incomplete.is_some())
}

/// A run's or a rack's verdict in a few words, for the title and the header's badge.
pub(crate) fn verdict_words(t: &miplcheck_record::Totals, incomplete: bool) -> String {
    if incomplete {
        "incomplete".into()
    } else if t.failed > 0 {
        format!("{} failed", t.failed)
    } else if t.errors > 0 {
        format!("{} error{} (infrastructure)", t.errors, if t.errors == 1 { "" } else { "s" })
    } else if t.passed > 0 {
        "all passed".into()
    } else {
        "nothing passed".into()
    }
}

fn header(out: &mut String, r: &RunRecord) {
    let bad = r.summary.failed > 0 || r.summary.errors > 0 || r.summary.passed == 0 || r.incomplete.is_some();
    let class = if bad { "failed" } else { "passed" };
    let _ = write!(
        out,
        r#"<header class="run"><h1>miplcheck · {} <span class="badge big {class}">{}</span></h1><dl class="facts">"#,
        esc(&r.rig.name),
        esc(&verdict_text(r).to_uppercase())
    );
    let none = || "–".to_string();
    let facts = [
        ("Dialect", esc(&r.rig.dialect)),
        ("Started", esc(&r.started)),
        ("Target", esc(&r.rig.target)),
        ("Duration", units::ms(r.duration_ms as f64)),
        ("Firmware", esc(&r.firmware.revision)),
        ("IMEI", r.firmware.imei.as_deref().or(r.firmware.note.as_deref()).map(esc).unwrap_or_else(none)),
        ("Capabilities", if r.rig.capabilities.is_empty() { none() } else { esc(&r.rig.capabilities.join(", ")) }),
        ("Window scale", format!("×{}", r.rig.window_scale)),
        (
            "Secrets",
            if r.rig.secrets.is_empty() { none() } else { format!("{} (redacted)", esc(&r.rig.secrets.join(", "))) },
        ),
        ("Record", format!("{} · miplcheck {}", esc(&r.schema), esc(&r.tool))),
    ];
    for (k, v) in facts {
        let _ = write!(out, "<dt>{k}</dt><dd>{v}</dd>");
    }
    if let Some(h) = &r.health {
        let why = h.reason.as_deref().map(|w| format!(": {}", esc(w))).unwrap_or_default();
        let _ = write!(out, r#"<dt>Health</dt><dd id="health"><b>{}</b>{why}</dd>"#, h.state.as_str());
    }
    if let Some(f) = &r.firmware.flash {
        flashed(out, f);
    }
    out.push_str("</dl>");
    if let Some(f) = r.firmware.flash.as_ref().filter(|f| f.outcome != FlashOutcome::Qualified) {
        let what = if f.outcome == FlashOutcome::WrongFirmware { "Wrong firmware" } else { "Flash failed" };
        let _ = write!(
            out,
            r#"<div class="box fail" id="flash-refused"><b>{what}:</b> {} — no case ran.</div>"#,
            esc(f.reason.as_deref().unwrap_or(f.outcome.as_str()))
        );
    }
    if let Some(why) = &r.incomplete {
        let _ = write!(
            out,
            r#"<div class="box fail"><b>Incomplete run:</b> {} — the cases below are those that finished.</div>"#,
            esc(why)
        );
    }
    out.push_str("</header>");
}

/// `run --firmware`: the file flashed (name, size, SHA-256), how, and the revisions before and
/// after against the one expected.
fn flashed(out: &mut String, f: &miplcheck_record::Flash) {
    let unknown = || "unknown".to_string();
    let _ = write!(
        out,
        r#"<dt>Flashed</dt><dd id="flash"><code>{}</code> ({} bytes, <code>{}</code>) by {}</dd><dt>Revision</dt><dd id="flash-revisions">{} → {}; expected <code>{}</code> ({}): <b>{}</b></dd>"#,
        esc(&f.file),
        f.size,
        esc(&f.sha256),
        esc(&f.via),
        esc(&f.before.clone().unwrap_or_else(unknown)),
        esc(&f.after.clone().unwrap_or_else(unknown)),
        esc(&f.expected),
        esc(&f.expected_from),
        f.outcome.as_str(),
    );
}

type Suites<'a> = [(String, Vec<(&'a miplcheck_record::CaseRecord, String)>)];

fn summary(out: &mut String, r: &RunRecord, suites: &Suites<'_>, suite_ids: &[String]) {
    let t = &r.summary;
    let _ = write!(
        out,
        r#"<section id="summary"><h2>Summary</h2><div class="tiles"><div class="tile passed" id="summary-passed"><span class="n">{}</span>passed</div><div class="tile failed{}" id="summary-failed"><span class="n">{}</span>failed</div><div class="tile skipped" id="summary-skipped"><span class="n">{}</span>skipped</div></div>"#,
        t.passed,
        if t.failed == 0 { " zero" } else { "" },
        t.failed,
        t.skipped
    );
    // The sentence the terminal prints, so a search for it finds the same words here.
    let _ = write!(
        out,
        r#"<p class="totals" id="summary-line">{} passed, {} failed, {} skipped in {}</p>"#,
        t.passed,
        t.failed,
        t.skipped,
        units::ms(r.duration_ms as f64)
    );
    if t.errors + t.flaky + t.quarantined > 0 {
        let _ = write!(
            out,
            r#"<p class="totals" id="summary-bench">{} infrastructure error(s) (not judged: the bench failed, not the firmware), {} flaky (passed on a retry), {} quarantined (failed, listed with a reason, not failing the run)</p>"#,
            t.errors, t.flaky, t.quarantined
        );
    }
    let all = (t.passed + t.failed + t.skipped).max(1) as f64;
    let _ = write!(
        out,
        r#"<div class="ratio" title="passed / failed / skipped"><span class="passed" style="width:{:.2}%"></span><span class="failed" style="width:{:.2}%"></span><span class="skipped" style="width:{:.2}%"></span></div>"#,
        t.passed as f64 / all * 100.0,
        t.failed as f64 / all * 100.0,
        t.skipped as f64 / all * 100.0
    );
    let failed: Vec<(&miplcheck_record::CaseRecord, &String)> = suites
        .iter()
        .flat_map(|(_, l)| l.iter())
        .filter(|(c, _)| c.verdict == Verdict::Failed)
        .map(|(c, id)| (*c, id))
        .collect();
    if !failed.is_empty() {
        out.push_str(r#"<h3>Failed</h3><ul class="failures">"#);
        for (c, id) in failed {
            let _ = write!(
                out,
                r##"<li><a href="#{id}"><b>{}/{}</b></a> <span class="where">{}</span> {}</li>"##,
                esc(&c.suite),
                esc(&c.case),
                cases::place(c),
                esc(c.reason.as_deref().unwrap_or(""))
            );
        }
        out.push_str("</ul>");
    }
    let warned = r.cases.iter().filter(|c| !c.warnings.is_empty()).count();
    if warned > 0 {
        let _ = write!(
            out,
            r#"<p><span class="badge warn">{warned} case{} passed with tolerated quirks</span></p>"#,
            if warned == 1 { "" } else { "s" }
        );
    }
    if !suites.is_empty() {
        out.push_str(r#"<h3>Suites</h3><table class="suites"><thead><tr><th>Suite</th><th class="num">Cases</th><th class="num">Passed</th><th class="num">Failed</th><th class="num">Skipped</th><th class="num">Duration</th></tr></thead><tbody>"#);
        for ((name, list), id) in suites.iter().zip(suite_ids) {
            let n = |v: Verdict| list.iter().filter(|(c, _)| c.verdict == v).count();
            let d: f64 = list.iter().map(|(c, _)| c.duration_ms).filter(|d| d.is_finite()).sum();
            let _ = write!(
                out,
                r##"<tr class="{}"><td><a href="#{id}">{}</a></td><td class="num">{}</td>{}{}{}<td class="num">{}</td></tr>"##,
                if n(Verdict::Failed) > 0 { "failed" } else { "" },
                esc(name),
                list.len(),
                count(n(Verdict::Passed), ""),
                count(n(Verdict::Failed), "over"),
                count(n(Verdict::Skipped), ""),
                units::ms(d)
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>");
}

/// A count cell; zeros are dimmed so the eye lands on what is not zero.
fn count(n: usize, class: &str) -> String {
    let zero = if n == 0 { " zero" } else { "" };
    let sep = if class.is_empty() { "" } else { " " };
    format!(r#"<td class="num{sep}{class}{zero}">{n}</td>"#)
}

fn window_table(out: &mut String, stats: &[windows::CommandStats], corrected: bool) {
    out.push_str(r#"<section id="windows"><h2>Response windows <small>per AT command, over every send step of the run</small></h2>"#);
    if stats.is_empty() {
        out.push_str(r#"<p class="muted">No AT command was sent.</p></section>"#);
        return;
    }
    out.push_str(r#"<table class="windows"><thead><tr><th>Command</th><th class="num">Sent</th><th class="num">Median</th><th class="num">p95</th><th class="num">Max</th><th class="num">Window</th><th class="num">Over window</th><th class="num">No answer</th></tr></thead><tbody>"#);
    let opt = |v: Option<f64>| v.map(units::ms).unwrap_or_else(|| "–".into());
    for s in stats {
        let window = match s.window {
            Some((a, b)) if a == b => units::ms(a),
            Some((a, b)) => format!("{}–{}", units::ms(a), units::ms(b)),
            None => "–".into(),
        };
        let _ = write!(
            out,
            r#"<tr class="{}"><td><code>{}</code></td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{}</td><td class="num">{window}</td>{}{}</tr>"#,
            if s.exceeded() > 0 { "over" } else { "" },
            esc(&s.command),
            s.sent,
            opt(s.median),
            opt(s.p95),
            opt(s.max),
            count(s.late, "over"),
            count(s.silent, "over")
        );
    }
    out.push_str(
        "</tbody></table><p class=\"muted\">Latency is from the command's write to its final result code. p95 is by \
         nearest rank (a latency that was measured). The window is the case's own or the manual's \
         maximum response time, times the rig's window scale; a range means cases differed. \"No answer\": no final result \
         code even after the grace period.</p>",
    );
    // Only then: a record without corrected figures renders as it always did.
    if corrected {
        out.push_str(
            "<p class=\"muted\" id=\"windows-corrected\">On a serial line the figures are those the windows were \
             judged on: the latency less the characters' time on the wire at the rig's line settings (the command \
             still in flight, the answer up to its final result code); each step shows its raw latency beside it.</p>",
        );
    }
    out.push_str("</section>");
}

fn charts(out: &mut String, stats: &[windows::CommandStats]) {
    out.push_str(r#"<section id="charts"><h2>Charts</h2>"#);
    match (svg::latency(stats), svg::distribution(stats)) {
        (Some(a), Some(b)) => {
            let _ = write!(
                out,
                r#"<div class="charts"><div><h3>Latency per command against its window</h3>{a}</div><div><h3>Distribution per command</h3>{b}</div></div>"#
            );
        }
        _ => out
            .push_str(r#"<p class="muted">No latencies were measured in this run, so there is nothing to chart.</p>"#),
    }
    out.push_str("</section>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bench_run_shows_health_errors_flaky_attempts_and_quarantine() {
        use miplcheck_record::{FailedAt, Health, HealthState, Verdict};
        let mut r = fixture::run();
        let mut first = fixture::case("config", "sdk-version", Verdict::Failed, vec![]);
        first.failed_at = Some(FailedAt::Step("step 1".into()));
        first.reason = Some("missing `+MIPLVER: {_}`".into());
        first.transcript = vec![fixture::entry(0.0, miplcheck_record::Dir::UeToTe, None, "ERROR<b>")];
        let mut flaky = fixture::case("config", "sdk-version", Verdict::Passed, vec![]);
        flaky.attempts = vec![first];
        let mut error = fixture::case("config", "delobj", Verdict::Error, vec![]);
        error.failed_at = Some(FailedAt::Prepare);
        error.reason = Some("sync: no OK to AT after 3 tries".into());
        let mut quarantined = fixture::case("config", "mode0", Verdict::Failed, vec![]);
        quarantined.quarantine = Some("JIRA-1 <x>".into());
        r.cases = vec![flaky, error, quarantined];
        r.summary = miplcheck_record::Totals::of(&r.cases);
        r.health = Some(Health { state: HealthState::Good, reason: None, checks: vec![] });
        let html = render(&r);
        assert!(html.contains(r#"<dd id="health"><b>good</b>"#), "{html}");
        assert!(html.contains("flaky: passed on attempt 2") && html.contains("Attempt 1 of 2"), "{html}");
        assert!(html.contains("ERROR&lt;b&gt;"), "the earlier attempt's transcript, escaped");
        assert!(html.contains("Infrastructure error") && html.contains("sync: no OK to AT after 3 tries"));
        assert!(html.contains("<b>Quarantined:</b> JIRA-1 &lt;x&gt;"));
        assert!(
            html.contains("1 infrastructure error(s)") && html.contains("1 flaky") && html.contains("1 quarantined")
        );
        assert!(html.contains(".badge.error"), "the bench rules are in this page");
        assert!(!render(&fixture::run()).contains(".badge.error"), "and not in an older record's");
    }

    fn flash(outcome: FlashOutcome, after: &str, reason: Option<&str>) -> miplcheck_record::Flash {
        miplcheck_record::Flash {
            file: "fw_<v2>.bin".into(),
            size: 3133,
            sha256: "sha256:ab12".into(),
            via: "fota".into(),
            expected: "BC39NBR01A05_ONT".into(),
            expected_from: "package".into(),
            before: Some("BC39NBR01A04_ONT".into()),
            after: Some(after.into()),
            outcome,
            reason: reason.map(Into::into),
            evidence: Some("flash.log".into()),
            duration_ms: 12.0,
        }
    }

    #[test]
    fn a_flashed_firmware_is_named_with_its_revisions() {
        let mut r = fixture::run();
        r.firmware.flash = Some(flash(FlashOutcome::Qualified, "BC39NBR01A05_ONT", None));
        let html = render(&r);
        assert!(
            html.contains("<code>fw_&lt;v2&gt;.bin</code> (3133 bytes, <code>sha256:ab12</code>) by fota"),
            "{html}"
        );
        assert!(html.contains(
            "BC39NBR01A04_ONT → BC39NBR01A05_ONT; expected <code>BC39NBR01A05_ONT</code> (package): <b>qualified</b>"
        ));
        assert!(!html.contains("flash-refused"), "a qualified firmware is no failure");
        let why = "wrong firmware: expected BC39NBR01A05_ONT, modem reports BC39NBR01A04_ONT";
        r.firmware.flash = Some(flash(FlashOutcome::WrongFirmware, "BC39NBR01A04_ONT", Some(why)));
        let html = render(&r);
        assert!(html.contains(&format!("<b>Wrong firmware:</b> {why} — no case ran.")), "{html}");
        assert!(html.contains("<b>wrong-firmware</b>") && html.contains("WRONG FIRMWARE</span>"), "{html}");
        r.firmware.flash = Some(flash(FlashOutcome::Failed, "", Some("flash failed: exit status: 3")));
        assert!(render(&r).contains("<b>Flash failed:</b> flash failed: exit status: 3"));
        assert!(!render(&fixture::run()).contains("Flashed"), "a run that flashed nothing says nothing of it");
    }

    #[test]
    fn markup_from_the_record_never_becomes_markup() {
        let mut r = fixture::run();
        r.rig.target = "<img src=x onerror=alert(1)>".into();
        let html = render(&r);
        assert_eq!(html.matches("<script").count(), 1, "only the page's own script");
        assert!(!html.contains("<img"), "the target is text");
        assert!(html.contains("&lt;script&gt;alert(&#39;x &amp; y&#39;)&lt;/script&gt;"));
        assert!(html.contains("bench-&lt;1&gt;"), "the rig name is escaped in title and header");
    }

    #[test]
    fn the_summary_and_a_failed_case_show_reason_place_and_diff() {
        let html = render(&fixture::run());
        assert!(html.contains(r#"id="summary""#) && html.contains("1 passed, 1 failed, 1 skipped in 1.22 s"), "{html}");
        assert!(
            html.contains(r#"<details class="case failed" id="case-session-update" open>"#),
            "failed cases start open"
        );
        assert!(html.contains("OK came after 412 ms, past the 300 ms window"));
        assert!(html.contains("step 1 · line 31"), "where it failed");
        assert!(html.contains(r#"<span class="del">-+MIPLEVENT: 0,11</span>"#));
        assert!(html.contains(r#"<span class="add">++MIPLEVENT: 0,12</span>"#));
        assert!(html.contains("URC ahead of OK (tolerated)"), "warnings are shown");
        assert!(html.contains("the rig lacks capability `sota`"), "why a case was skipped");
    }

    #[test]
    fn charts_and_the_window_table_for_a_run_with_latencies() {
        let html = render(&fixture::run());
        for needle in
            [r#"class="chart chart-latency""#, r#"class="chart chart-distribution""#, "<title>Latency per AT command"]
        {
            assert!(html.contains(needle), "{needle}");
        }
        // +MIPLUPDATE answered after 412 ms with a 300 ms window: one over.
        assert!(html.contains(r#"<tr class="over"><td><code>+MIPLUPDATE</code></td><td class="num">1</td>"#), "{html}");
    }

    #[test]
    fn a_run_without_cases_or_latencies_still_renders() {
        let html = render(&fixture::empty());
        assert!(html.contains("0 passed, 0 failed, 0 skipped"));
        assert!(html.contains("No AT command was sent.") && html.contains("nothing to chart"));
        assert!(!html.contains("<svg"));
        let mut r = fixture::with_steps(vec![fixture::step("step 1", "+MIPLOPEN", None, 300.0)]);
        r.cases[0].steps[0].window_ms = None;
        let html = render(&r);
        assert!(html.contains("nothing to chart") && html.contains("No transcript"));
    }

    #[test]
    fn the_page_is_self_contained() {
        let html = render(&fixture::run());
        assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<style>"));
        for external in ["http://", "https://", "src=", "<link"] {
            assert!(!html.contains(external), "{external}");
        }
    }
}
