//! The suites and their cases: per suite a compact table (verdict, spec, title, duration, why it
//! failed and where), then per case a `<details>` with its steps, failure, warnings, snapshot diff
//! and transcript. Failed cases start open, so the morning's reading starts where it should.

use super::escape::{esc, slug};
use super::side::Side;
use super::{data, transcript, units};
use miplcheck_record::{CaseRecord, JudgedOn, SnapshotResult, StepRecord, Verdict};
use std::collections::HashSet;
use std::fmt::Write;

/// Fragment ids for cases, unique even when two names slug the same.
#[derive(Default)]
pub struct Ids {
    seen: HashSet<String>,
}

impl Ids {
    pub fn take(&mut self, prefix: &str, name: &str) -> String {
        let base = format!("{prefix}-{}", slug(name));
        let mut id = base.clone();
        let mut n = 1;
        while !self.seen.insert(id.clone()) {
            n += 1;
            id = format!("{base}-{n}");
        }
        id
    }
}

/// A case's fragment id on its run's page, from its `suite/case` name. Taken for every case in
/// the record's order, before any other id: the rack page links to the same ids by doing the same.
pub fn case_id(ids: &mut Ids, full_name: &str) -> String {
    ids.take("case", full_name)
}

/// The suites in the order the run met them, each with its cases and their ids.
pub fn by_suite<'a>(cases: &'a [CaseRecord], ids: &mut Ids) -> Vec<(String, Vec<(&'a CaseRecord, String)>)> {
    let mut suites: Vec<(String, Vec<(&CaseRecord, String)>)> = vec![];
    for c in cases {
        let id = case_id(ids, &c.full_name());
        match suites.iter_mut().find(|(s, _)| *s == c.suite) {
            Some((_, list)) => list.push((c, id)),
            None => suites.push((c.suite.clone(), vec![(c, id)])),
        }
    }
    suites
}

pub fn badge(verdict: Verdict) -> String {
    format!(r#"<span class="badge {verdict}">{}</span>"#, verdict.word())
}

/// Where a case failed: `step 3 · line 27`.
pub fn place(c: &CaseRecord) -> String {
    let mut parts = vec![];
    if let Some(at) = &c.failed_at {
        parts.push(esc(&at.to_string()));
    }
    if let Some(line) = c.line {
        parts.push(format!("line {line}"));
    }
    parts.join(" · ")
}

/// A case's steps, snapshot diff and transcript: markup for the page, or, for a case whose body
/// waits in a side file, the data the side file holds.
pub enum Body {
    /// Markup that goes in the page.
    Inline(String),
    /// The body as the data a side file holds ([`data::literal`]), for the page's script to
    /// render.
    Side(String),
}

/// Each case's [`Body`] (see [`case`]), in the order given, made on every core: on a big run they
/// are nearly all of the page's bytes. With `to_side`, those that wait in a side file come as
/// its data.
pub fn bodies(cases: &[&CaseRecord], to_side: bool) -> Vec<Body> {
    let make =
        |c: &CaseRecord| if to_side && deferred(c) { Body::Side(data::literal(c)) } else { Body::Inline(body(c)) };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).clamp(1, 8);
    let per = cases.len().div_ceil(threads).max(64);
    if cases.len() <= per {
        return cases.iter().map(|c| make(c)).collect();
    }
    std::thread::scope(|scope| {
        let parts: Vec<_> = cases
            .chunks(per)
            .map(|part| scope.spawn(move || part.iter().map(|c| make(c)).collect::<Vec<_>>()))
            .collect();
        parts.into_iter().flat_map(|p| p.join().unwrap_or_else(|e| std::panic::resume_unwind(e))).collect()
    })
}

/// Does a case's body wait in a side file (when the page has them)? A case that starts open tells
/// its story without a click, so it is all in the page; so is one with no transcript.
fn deferred(c: &CaseRecord) -> bool {
    !starts_open(c) && !c.transcript.is_empty()
}

/// Does a case's body have a transcript section? A skipped case that sent nothing has none.
pub(crate) fn shows_transcript(c: &CaseRecord) -> bool {
    c.verdict != Verdict::Skipped || !c.transcript.is_empty()
}

fn body(c: &CaseRecord) -> String {
    let mut body = String::new();
    if !c.steps.is_empty() {
        steps(&mut body, c);
    }
    if let Some(d) = &c.snapshot_diff {
        body.push_str(DIFF_HEAD);
        body.push_str(&transcript::diff(d));
    }
    if shows_transcript(c) {
        body.push_str("<h3>Transcript</h3>");
        body.push_str(&transcript::table(&c.transcript));
    }
    body
}

/// One suite: its table, then its cases, each with the next of `bodies` (see [`bodies`]).
pub fn suite(
    out: &mut String,
    name: &str,
    cases: &[(&CaseRecord, String)],
    suite_id: &str,
    bodies: &mut impl Iterator<Item = Body>,
    side: &mut Side,
) {
    let count = |v: Verdict| cases.iter().filter(|(c, _)| c.verdict == v).count();
    let duration: f64 = cases.iter().map(|(c, _)| c.duration_ms).filter(|d| d.is_finite()).sum();
    let _ = write!(
        out,
        r#"<section class="suite" id="{suite_id}"><h2>{}<small>{} cases · {} passed · {} failed · {} skipped · {}</small></h2>"#,
        esc(name),
        cases.len(),
        count(Verdict::Passed),
        count(Verdict::Failed),
        count(Verdict::Skipped),
        units::ms(duration)
    );
    out.push_str(
        r#"<table class="cases"><thead><tr><th></th><th>Case</th><th>Spec</th><th>Title</th><th class="num">Duration</th><th>Failure or reason</th></tr></thead><tbody>"#,
    );
    for (c, id) in cases {
        let v = c.verdict;
        let reason = match (v, &c.reason) {
            (Verdict::Failed | Verdict::Error, Some(r)) => {
                format!(r#"<span class="where">{}</span> {}"#, place(c), esc(r))
            }
            (Verdict::Failed, None) => place(c),
            (_, Some(r)) => esc(r),
            (_, None) => String::new(),
        };
        let _ = write!(
            out,
            r##"<tr class="{v}"><td>{}</td><td class="case-name"><a href="#{id}">{}</a></td><td class="spec">{}</td><td>{}</td><td class="num">{}</td><td class="reason">{reason}</td></tr>"##,
            badge(v),
            esc(&c.case),
            esc(&c.spec),
            esc(c.title.as_deref().unwrap_or("")),
            units::ms(c.duration_ms),
        );
    }
    out.push_str(r#"</tbody></table><h3>Steps and transcripts <small>click a case to open it</small></h3>"#);
    for (c, id) in cases {
        case(out, c, id, bodies.next().unwrap_or(Body::Inline(String::new())), side);
    }
    out.push_str("</section>");
}

/// The rules for what a bench run adds (infrastructure errors, flaky and quarantined cases),
/// added only to pages whose record has them.
pub const BENCH_STYLE: &str = "
.badge.error { color: #8250df; background: #fbefff; }
.box.error { background: #fbefff; border-left: 4px solid #8250df; }
details.attempt { margin: 6px 0 6px 12px; }
";

/// One case, collapsed unless it failed, with its `body`; a collapsed case's body may go to a
/// side file.
pub fn case(out: &mut String, c: &CaseRecord, id: &str, body: Body, side: &mut Side) {
    let v = c.verdict;
    let mut flags = String::new();
    if c.flaky() {
        let _ = write!(flags, r#" <span class="badge warn">flaky: passed on attempt {}</span>"#, c.attempt_count());
    } else if !c.attempts.is_empty() {
        let _ = write!(flags, r#" <span class="badge failed">{} attempts</span>"#, c.attempt_count());
    }
    if c.quarantine.is_some() {
        flags.push_str(r#" <span class="badge skipped">quarantined</span>"#);
    }
    if c.snapshot.failed() {
        let _ = write!(flags, r#" <span class="badge failed">snapshot {}</span>"#, c.snapshot);
    }
    if c.snapshot == SnapshotResult::Tolerated || !c.warnings.is_empty() {
        let n = c.warnings.len();
        let _ = write!(flags, r#" <span class="badge warn">{n} warning{}</span>"#, if n == 1 { "" } else { "s" });
    }
    let _ = write!(
        out,
        r#"<details class="case {v}" id="{id}"{}><summary>{} <b>{}</b>/<b>{}</b><span class="title">{}</span>{flags}<span class="dur">{}</span></summary><div class="case-body">"#,
        if starts_open(c) { " open" } else { "" },
        badge(v),
        esc(&c.suite),
        esc(&c.case),
        esc(c.title.as_deref().unwrap_or("")),
        units::ms(c.duration_ms)
    );
    let _ = write!(
        out,
        r#"<p class="muted">{} · snapshot <b>{}</b></p>"#,
        if c.spec.is_empty() { "no spec".to_string() } else { esc(&c.spec) },
        c.snapshot
    );
    match (v, &c.reason) {
        (Verdict::Failed, _) => why_box(out, "fail", "<b>Failed</b>", c),
        (Verdict::Skipped, Some(r)) => {
            let _ = write!(out, r#"<div class="box"><b>Skipped:</b> {}</div>"#, esc(r));
        }
        (Verdict::Error, _) => {
            why_box(out, "error", "<b>Infrastructure error</b> (not judged: the bench failed, not the firmware)", c)
        }
        _ => {}
    }
    if let Some(q) = &c.quarantine {
        let _ = write!(out, r#"<div class="box"><b>Quarantined:</b> {}</div>"#, esc(q));
    }
    for (i, a) in c.attempts.iter().enumerate() {
        let _ = write!(
            out,
            r#"<details class="attempt"><summary>Attempt {} of {}: {} <span class="where">{}</span> {}</summary>{}</details>"#,
            i + 1,
            c.attempt_count(),
            badge(a.verdict),
            place(a),
            esc(a.reason.as_deref().unwrap_or("")),
            transcript::table(&a.transcript)
        );
    }
    if !c.warnings.is_empty() {
        out.push_str(r#"<div class="box warn"><b>Warnings</b> (tolerated by the rig)<ul>"#);
        for w in &c.warnings {
            let _ = write!(out, "<li>{}</li>", esc(w));
        }
        out.push_str("</ul></div>");
    }
    // A passing case's steps and transcript wait in a side file until it is opened ([`deferred`]).
    match body {
        Body::Side(literal) => {
            let what = format!("{} steps and {} transcript lines", c.steps.len(), c.transcript.len());
            side.put(out, id, &literal, &what);
        }
        Body::Inline(markup) => out.push_str(&markup),
    }
    out.push_str("</div></details>");
}

/// Failed, errored or flaky: the cases a reader opens first.
fn starts_open(c: &CaseRecord) -> bool {
    matches!(c.verdict, Verdict::Failed | Verdict::Error) || c.flaky()
}

/// Why a case did not pass, in a box of `class`: `heading`, where, and the reason.
fn why_box(out: &mut String, class: &str, heading: &str, c: &CaseRecord) {
    let _ = write!(
        out,
        r#"<div class="box {class}">{heading} <span class="where">{}</span><br>{}</div>"#,
        place(c),
        esc(c.reason.as_deref().unwrap_or("no reason recorded"))
    );
}

/// Which figure the cell shows, when it is not the raw latency: the line corrected for and the
/// raw latency as `units::ms`, shown as `corrected for 9600 8N1; raw 328 ms`.
pub(crate) fn corrected(s: &StepRecord) -> Option<(&str, String)> {
    match (s.judged_on, &s.serial_line, s.latency_ms) {
        (Some(JudgedOn::Corrected), Some(line), Some(raw)) => Some((line, units::ms(raw))),
        _ => None,
    }
}

/// Is a step's row marked failed: it failed, or its judged figure is past its window.
pub(crate) fn step_failed(s: &StepRecord) -> bool {
    s.failure.is_some() || matches!((s.judged_ms(), s.window_ms), (Some(l), Some(w)) if l > w)
}

/// The snapshot diff's heading.
pub(crate) const DIFF_HEAD: &str = r#"<h3>Snapshot diff <small>− golden, + this run</small></h3>"#;

/// The steps table's heading and head, before its rows.
pub(crate) const STEPS_HEAD: &str = r#"<h3>Steps</h3><table class="steps"><thead><tr><th>Step</th><th class="num">Line</th><th>What</th><th>Latency / window</th><th>Failure</th></tr></thead><tbody>"#;

fn steps(out: &mut String, c: &CaseRecord) {
    out.push_str(STEPS_HEAD);
    for s in &c.steps {
        let mut cell = transcript::latency_cell(s.judged_ms(), s.window_ms);
        if let Some((line, raw)) = corrected(s) {
            let _ = write!(cell, r#"<br><span class="muted">corrected for {}; raw {raw}</span>"#, esc(line));
        }
        let _ = write!(
            out,
            r#"<tr class="{}"><td class="where">{}</td><td class="num">{}</td><td><code>{}</code></td><td class="num">{cell}</td><td class="reason">{}</td></tr>"#,
            if step_failed(s) { "failed" } else { "" },
            esc(&s.label),
            s.line,
            esc(&s.what),
            esc(s.failure.as_deref().unwrap_or(""))
        );
    }
    out.push_str("</tbody></table>");
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{step, with_steps};
    use miplcheck_record::{JudgedOn, StepRecord};

    #[test]
    fn bodies_made_on_many_threads_come_back_in_order() {
        use super::super::fixture::{case, entry};
        use miplcheck_record::Verdict;
        let cases: Vec<_> = (0..700)
            .map(|i| {
                let mut c = case(
                    "s",
                    &format!("c{i}"),
                    Verdict::Passed,
                    vec![step("step 1", &format!("AT+X={i}"), Some(1.0), 300.0)],
                );
                c.transcript = vec![entry(0.0, miplcheck_record::Dir::TeToUe, None, &format!("AT+X={i}\\r"))];
                c
            })
            .collect();
        let refs: Vec<_> = cases.iter().collect();
        let one_by_one: Vec<String> = refs.iter().map(|c| super::body(c)).collect();
        let text = |b: super::Body| match b {
            super::Body::Inline(m) => ("inline", m),
            super::Body::Side(l) => ("side", l),
        };
        let inline: Vec<_> = super::bodies(&refs, false).into_iter().map(text).collect();
        assert_eq!(inline, one_by_one.iter().map(|m| ("inline", m.clone())).collect::<Vec<_>>());
        // For a page with side files a passing case's body comes as the data the file holds.
        let side: Vec<_> = super::bodies(&refs, true).into_iter().map(text).collect();
        assert_eq!(side, cases.iter().map(|c| ("side", super::data::literal(c))).collect::<Vec<_>>());
        assert!(one_by_one[699].contains("AT+X=699"));
    }

    #[test]
    fn a_corrected_step_shows_the_judged_figure_and_its_raw_latency() {
        let s = StepRecord {
            response_ms: Some(250.0),
            serial_line: Some("9600 8N1".into()),
            judged_on: Some(JudgedOn::Corrected),
            ..step("step 1", "+MIPLCONFIG", Some(383.0), 300.0)
        };
        let html = crate::render(&with_steps(vec![s.clone()]));
        assert!(html.contains("250 ms <span class=\"muted\">/ 300 ms</span>"), "the judged figure first");
        assert!(html.contains("corrected for 9600 8N1; raw 383 ms"));
        assert!(html.contains("id=\"windows-corrected\""));
        let raw = crate::render(&with_steps(vec![StepRecord { judged_on: Some(JudgedOn::Raw), ..s }]));
        assert!(raw.contains("383 ms <span class=\"muted\">/ 300 ms</span>") && !raw.contains("corrected for"));
    }
}
