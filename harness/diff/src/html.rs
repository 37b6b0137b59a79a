//! `diff.html`: the comparison as one self-contained page (inline CSS, no script, no external
//! URL), so it can be attached to a ticket or opened from a CI artefact. Transcripts are shown side
//! by side, A left and B right, with changed, removed and inserted lines coloured.

use super::align::{Mark, Shown, StepDiff};
use super::latency::{Delta, Stats};
use super::matrix::{CommandSide, Kind, Relation, Support};
use super::{summary, CaseChange, CaseRow, CaseSide, Comparison};
use miplcheck_record::{Class, Dir, Verdict};
use std::fmt::Write as _;

const STYLE: &str = r#"
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1400px; padding: 0 1em; color: #1b1f24; }
h1 { font-size: 1.6em; } h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2em; margin-top: 2em; } h3 { font-size: 1.05em; margin-bottom: .3em; }
table { border-collapse: collapse; margin: .5em 0 1em; } th, td { border: 1px solid #d0d7de; padding: .25em .5em; vertical-align: top; text-align: left; }
th { background: #f6f8fa; } code, .tx { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
code { background: #f6f8fa; padding: 0 .2em; border-radius: 3px; }
.ok { color: #1a7f37; } .bad { color: #cf222e; font-weight: 600; } .muted { color: #6e7781; }
.verdict { padding: .6em 1em; border-radius: 6px; font-weight: 600; } .verdict.pass { background: #dafbe1; } .verdict.fail { background: #ffebe9; }
td.diff { background: #fff8c5; } ul.words li { margin: .2em 0; }
table.tx { width: 100%; table-layout: fixed; } table.tx td { border: none; border-bottom: 1px solid #eaeef2; white-space: pre-wrap; word-break: break-all; }
table.tx col.m { width: 1.6em; } table.tx col.d { width: 9em; } table.tx td.m { text-align: center; } table.tx td.d { color: #57606a; }
tr.hdr td { background: #f6f8fa; font-weight: 600; } tr.chg td.a { background: #ffebe9; } tr.chg td.b { background: #dafbe1; }
tr.del td.a { background: #ffebe9; } tr.ins td.b { background: #dafbe1; }
details { margin: .3em 0 1em; } summary { cursor: pointer; }
"#;

/// Escapes text for HTML: the run report's escaping, so both pages treat transcripts alike.
pub use miplcheck_html::escape::esc;

/// Escapes text and turns its `code` spans into `<code>`.
fn inline(t: &str) -> String {
    let mut out = String::new();
    for (i, part) in t.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", esc(part));
        } else {
            out.push_str(&esc(part));
        }
    }
    out
}

pub fn render(c: &Comparison) -> String {
    let mut s = String::new();
    let title = format!("miplcheck diff: {} vs {}", c.a.label, c.b.label);
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head><body>\n",
        esc(&title)
    );
    let _ = writeln!(s, "<h1>{}</h1>", esc(&title));
    let _ = writeln!(s, "<p>A is the reference, B the candidate. {}</p>", inline(&summary::kind(c)));
    runs(&mut s, c);
    let (code, verdict) = summary::verdict(c);
    let _ = writeln!(s, "<h2>Summary</h2>");
    let _ = writeln!(s, "<p class=\"verdict {}\">{}</p>", if code == 0 { "pass" } else { "fail" }, inline(&verdict));
    let _ = writeln!(s, "<ul>");
    for l in summary::lines(c) {
        let _ = writeln!(s, "<li>{}</li>", inline(&l));
    }
    let _ = writeln!(s, "</ul>");
    words(&mut s, c);
    matrix(&mut s, c);
    events(&mut s, c);
    errors(&mut s, c);
    latency(&mut s, c);
    cases(&mut s, c);
    transcripts(&mut s, c);
    let _ = writeln!(
        s,
        "<p class=\"muted\">Exit status {code}. 0: no regression; 1: a case passed in A and fails in B, or a command's \
         latency in B moved beyond the threshold (above); 2: a run record could not be read.</p>\n</body></html>"
    );
    s
}

fn runs(s: &mut String, c: &Comparison) {
    let _ = writeln!(s, "<table><tr><th></th><th>A</th><th>B</th></tr>");
    for (what, a, b) in summary::run_rows(c) {
        let _ = writeln!(s, "<tr><th>{what}</th><td>{}</td><td>{}</td></tr>", esc(&a), esc(&b));
    }
    let _ = writeln!(s, "</table>");
}

fn words(s: &mut String, c: &Comparison) {
    let _ = writeln!(s, "<h2>What differs, command by command</h2>");
    let rows: Vec<_> = c.commands.iter().filter(|r| r.differs()).collect();
    if rows.is_empty() {
        let _ =
            writeln!(s, "<p>Nothing: every command has the same syntax, answers, errors and events in both runs.</p>");
        return;
    }
    let family = summary::families(c);
    for general in [&family, &summary::test_forms(c)].into_iter().flatten() {
        let _ = writeln!(s, "<p>{}</p>", inline(general));
    }
    let (only, both): (Vec<_>, Vec<_>) = rows.into_iter().partition(|r| r.has(Kind::Support));
    for r in both {
        let shown: Vec<_> =
            r.differences.iter().filter(|d| !(family.is_some() && d.kind == Kind::ErrorFamily)).collect();
        if shown.is_empty() {
            continue;
        }
        let _ = writeln!(s, "<h3 id=\"cmd-{}\">{}</h3><ul class=\"words\">", esc(&r.name), esc(&r.at()));
        for d in shown {
            let _ = writeln!(s, "<li><strong>{}</strong>: {}</li>", esc(d.kind.words()), inline(&d.words));
        }
        for n in &r.notes {
            let _ = writeln!(s, "<li class=\"muted\">note: {}</li>", inline(n));
        }
        let _ = writeln!(s, "</ul>");
    }
    if !only.is_empty() {
        let _ = writeln!(s, "<h3>Commands on one side only</h3><ul class=\"words\">");
        for r in only {
            for d in &r.differences {
                let _ = writeln!(s, "<li><strong>{}</strong>: {}</li>", esc(&r.at()), inline(&d.words));
            }
        }
        let _ = writeln!(s, "</ul>");
    }
}

fn side_cells(side: &CommandSide) -> String {
    let supported = match (side.support(), side.spec) {
        (Support::Manual, Some(spec)) => format!("yes, {} ({})", esc(spec.section), esc(&side.forms())),
        (Support::RunOnly, _) => "answered OK, not in the manual".into(),
        _ => "<span class=\"muted\">—</span>".into(),
    };
    let syntax = side.spec.and_then(|s| s.set).map(|g| format!("<code>{}</code>", esc(g))).unwrap_or_default();
    let sent = side.usage.as_ref().map(|u| u.sent.to_string()).unwrap_or_default();
    let errors = if side.support() == Support::No {
        String::new()
    } else {
        let fam = side.families().into_iter().collect::<Vec<_>>().join(" / ");
        let seen = side.errors_seen();
        if seen.is_empty() {
            esc(&fam)
        } else {
            format!("{}<br><span class=\"muted\">{}</span>", esc(&fam), esc(&seen))
        }
    };
    format!(
        "<td>{supported}</td><td>{syntax}</td><td>{sent}</td><td>{errors}</td><td title=\"{}\">{}</td>",
        esc(&side.events_seen()),
        esc(&side.event_codes())
    )
}

fn matrix(s: &mut String, c: &Comparison) {
    let _ = writeln!(s, "<h2>Command matrix</h2>");
    let _ = writeln!(
        s,
        "<p>Each side: the manual's section and forms, its set syntax, how often the run sent the command, the error \
         family with the errors seen, and the <code>+MIPLEVENT</code> codes reported after it (the event table below \
         says what they mean; hover for the meanings).</p>"
    );
    let _ = writeln!(
        s,
        "<table><tr><th rowspan=\"2\">command</th><th colspan=\"5\">A: {}</th><th colspan=\"5\">B: {}</th><th rowspan=\"2\">differences</th></tr>",
        esc(&c.a.model),
        esc(&c.b.model)
    );
    let sub = "<th>in the manual (forms)</th><th>set syntax</th><th>sent</th><th>errors</th><th>events after it</th>";
    let _ = writeln!(s, "<tr>{sub}{sub}</tr>");
    for r in &c.commands {
        let mut kinds: Vec<Kind> = r.differences.iter().map(|d| d.kind).collect();
        kinds.dedup();
        let diff = if kinds.is_empty() {
            "<span class=\"ok\">same</span>".to_string()
        } else {
            let k: Vec<&str> = kinds.iter().map(|k| k.words()).collect();
            let rai = r.differences.iter().find(|d| d.kind == Kind::Rai).map(|d| format!("<br>{}", inline(&d.words)));
            format!("<span class=\"bad\">{}</span>{}", esc(&k.join(", ")), rai.unwrap_or_default())
        };
        let cls = if r.differs() { " class=\"diff\"" } else { "" };
        let _ = writeln!(
            s,
            "<tr><td>{}</td>{}{}<td{cls}>{diff}</td></tr>",
            esc(&r.at()),
            side_cells(&r.a),
            side_cells(&r.b)
        );
    }
    let _ = writeln!(s, "</table>");
}

fn events(s: &mut String, c: &Comparison) {
    let _ = writeln!(s, "<h2>Event codes (<code>+MIPLEVENT</code>)</h2>");
    let rows: Vec<_> = c
        .events
        .iter()
        .filter(|e| if c.same_dialect { e.differs() || e.seen.0 + e.seen.1 > 0 } else { true })
        .filter(|e| c.same_dialect || e.relation != Relation::Same || e.differs() || e.seen != (0, 0))
        .collect();
    if !c.same_dialect {
        let same: Vec<String> = c
            .events
            .iter()
            .filter(|e| e.relation == Relation::Same && !e.differs())
            .map(|e| e.code.to_string())
            .collect();
        let _ = writeln!(
            s,
            "<p>Both tables by code. Same meaning on both, nothing more to say: {}.</p>",
            if same.is_empty() { "none".into() } else { same.join(", ") }
        );
    }
    if !c.meanings.is_empty() {
        let _ = writeln!(s, "<p>Meanings both tables have, under different codes:</p>");
        let _ = writeln!(
            s,
            "<table><tr><th>meaning</th><th>A: {}</th><th>B: {}</th></tr>",
            esc(&c.a.model),
            esc(&c.b.model)
        );
        let codes = |v: &[&miplcheck_at::dialect::Code]| {
            v.iter()
                .map(|e| esc(&format!("{} ({}: {})", e.code, e.section, e.meaning)))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        for m in &c.meanings {
            let _ =
                writeln!(s, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", esc(&m.meaning), codes(&m.a), codes(&m.b));
        }
        let _ = writeln!(s, "</table><p>Every code:</p>");
    }
    if rows.is_empty() {
        let _ = writeln!(s, "<p>No event was reported in either run.</p>");
        return;
    }
    let meanings = if c.same_dialect {
        format!("<th>meaning ({})</th>", esc(&c.a.model))
    } else {
        format!("<th>A: {}</th><th>B: {}</th>", esc(&c.a.model), esc(&c.b.model))
    };
    let _ = writeln!(s, "<table><tr><th>code</th>{meanings}<th>seen A</th><th>seen B</th><th>difference</th></tr>");
    for e in rows {
        let m = |x: Option<&miplcheck_at::dialect::Code>| {
            x.map(|x| format!("{} <span class=\"muted\">({})</span>", esc(x.meaning), esc(x.section)))
                .unwrap_or_else(|| "—".into())
        };
        let (cls, w) = if e.words.is_empty() {
            ("", "<span class=\"ok\">same</span>".to_string())
        } else {
            (" class=\"diff\"", inline(&e.words))
        };
        let meaning = if c.same_dialect {
            format!("<td>{}</td>", m(e.a.or(e.b)))
        } else {
            format!("<td>{}</td><td>{}</td>", m(e.a), m(e.b))
        };
        let _ = writeln!(
            s,
            "<tr><td>{}</td>{meaning}<td>{}</td><td>{}</td><td{cls}>{w}</td></tr>",
            e.code, e.seen.0, e.seen.1
        );
    }
    let _ = writeln!(s, "</table>");
}

fn errors(s: &mut String, c: &Comparison) {
    let _ = writeln!(s, "<h2>Errors seen</h2>");
    if c.errors.is_empty() {
        let _ = writeln!(s, "<p>Neither run saw an error result.</p>");
        return;
    }
    let _ = writeln!(
        s,
        "<table><tr><th>result</th><th>meaning</th><th>A</th><th>B</th><th>commands in A</th><th>commands in B</th></tr>"
    );
    for e in &c.errors {
        let _ = writeln!(
            s,
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&e.label),
            esc(e.meaning.as_deref().unwrap_or("3GPP TS 27.007 (not the MIPL manual's)")),
            e.seen.0,
            e.seen.1,
            esc(&e.commands.0.join(", ")),
            esc(&e.commands.1.join(", "))
        );
    }
    let _ = writeln!(s, "</table>");
}

fn latency(s: &mut String, c: &Comparison) {
    let _ = writeln!(s, "<h2>Latency per command (ms)</h2>");
    let _ = writeln!(s, "<p>{}</p>", esc(&super::latency::rule(c.options)));
    if c.latency_corrected {
        let _ = writeln!(s, "<p>{}</p>", esc(super::latency::CORRECTED_NOTE));
    }
    if c.latency.is_empty() {
        let _ = writeln!(s, "<p>No send step was timed in either run.</p>");
        return;
    }
    let _ = writeln!(
        s,
        "<table><tr><th>command</th><th>n A</th><th>median A</th><th>p95 A</th><th>n B</th><th>median B</th><th>p95 B</th><th>Δ median</th><th>Δ p95</th><th></th></tr>"
    );
    for r in &c.latency {
        let st = |x: Option<Stats>| match x {
            Some(x) => format!("<td>{}</td><td>{:.2}</td><td>{:.2}</td>", x.n, x.median, x.p95),
            None => "<td>0</td><td>—</td><td>—</td>".into(),
        };
        let d = |x: Option<Delta>| x.map(|d| d.to_string()).unwrap_or_else(|| "—".into());
        let (cls, flag) = match (&r.regression, &r.note) {
            (Some(w), _) => (" class=\"diff\"", format!("<span class=\"bad\">regression</span>: {}", esc(w))),
            (None, Some(n)) => ("", format!("<span class=\"muted\">{}</span>", esc(n))),
            (None, None) => ("", "<span class=\"ok\">ok</span>".into()),
        };
        let _ = writeln!(
            s,
            "<tr><td>{}</td>{}{}<td>{}</td><td>{}</td><td{cls}>{flag}</td></tr>",
            esc(&r.at()),
            st(r.a),
            st(r.b),
            esc(&d(r.median())),
            esc(&d(r.p95()))
        );
    }
    let _ = writeln!(s, "</table>");
}

fn verdict(side: &Option<CaseSide>) -> String {
    match side {
        Some(x) => {
            let cls = match x.verdict {
                Verdict::Passed => "ok",
                Verdict::Failed | Verdict::Error => "bad",
                Verdict::Skipped => "muted",
            };
            format!("<span class=\"{cls}\">{}</span>", esc(&x.words()))
        }
        None => "<span class=\"muted\">not in the record</span>".into(),
    }
}

fn anchor(key: &str) -> String {
    key.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect()
}

fn cases(s: &mut String, c: &Comparison) {
    let _ = writeln!(s, "<h2>Cases</h2>");
    let both: Vec<&CaseRow> = c
        .cases
        .iter()
        .filter(|r| {
            matches!(
                r.change,
                CaseChange::Regression | CaseChange::Fixed | CaseChange::TranscriptDiffers | CaseChange::Same
            )
        })
        .collect();
    if both.is_empty() {
        let _ = writeln!(s, "<p>No case ran in both runs.</p>");
    } else {
        let _ = writeln!(s, "<table><tr><th>case</th><th>spec</th><th>A</th><th>B</th><th>comparison</th></tr>");
        for r in both {
            let change = if r.differing_steps().next().is_some() {
                format!("<a href=\"#case-{}\">{}</a>", anchor(&r.key), esc(r.change.words()))
            } else {
                esc(r.change.words())
            };
            let cls = if r.change.differs() { " class=\"diff\"" } else { "" };
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td{cls}>{change}</td></tr>",
                esc(&r.key),
                esc(&r.spec),
                verdict(&r.a),
                verdict(&r.b)
            );
        }
        let _ = writeln!(s, "</table>");
    }
    for ch in [CaseChange::RanInAOnly, CaseChange::RanInBOnly, CaseChange::OnlyInA, CaseChange::OnlyInB] {
        let rows: Vec<&CaseRow> = c.cases.iter().filter(|r| r.change == ch).collect();
        if rows.is_empty() {
            continue;
        }
        let _ = writeln!(s, "<details><summary>{} ({})</summary><table>", esc(ch.words()), rows.len());
        let _ = writeln!(s, "<tr><th>case</th><th>spec</th><th>A</th><th>B</th></tr>");
        for r in rows {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&r.key),
                esc(&r.spec),
                verdict(&r.a),
                verdict(&r.b)
            );
        }
        let _ = writeln!(s, "</table></details>");
    }
}

fn transcripts(s: &mut String, c: &Comparison) {
    let _ = writeln!(s, "<h2>Transcripts that differ</h2>");
    let rows: Vec<&CaseRow> = c.cases.iter().filter(|r| r.differing_steps().next().is_some()).collect();
    if rows.is_empty() {
        let _ = writeln!(
            s,
            "<p>Every case that ran in both runs has the same transcript, once message IDs, tokens, the platform's \
             port and times are set aside.</p>"
        );
        return;
    }
    let _ = writeln!(
        s,
        "<p>Aligned step by step, A left and B right. Message IDs, tokens, the platform's port and times are set aside. \
         Red: A's side of a changed or removed line; green: B's side of a changed or inserted line. Steps that are the \
         same are folded.</p>"
    );
    for r in rows {
        let title = r.title.as_deref().map(|t| format!(" — {t}")).unwrap_or_default();
        let _ = writeln!(s, "<h3 id=\"case-{}\">{}{}</h3>", anchor(&r.key), esc(&r.key), esc(&title));
        let _ = writeln!(s, "<p>{} · A: {} · B: {}</p>", esc(&r.spec), verdict(&r.a), verdict(&r.b));
        // Fixed layout takes its widths from the first row, which may be a folded-steps row.
        let _ = writeln!(
            s,
            "<table class=\"tx\"><colgroup><col class=\"m\"><col class=\"d\"><col><col class=\"m\"><col class=\"d\"><col></colgroup>"
        );
        let mut folded = 0;
        for step in &r.steps {
            if step.differs() {
                if folded > 0 {
                    let _ = writeln!(s, "<tr><td colspan=\"6\" class=\"muted\">… {folded} step(s) the same</td></tr>");
                    folded = 0;
                }
                step_rows(s, step);
            } else {
                folded += 1;
            }
        }
        if folded > 0 {
            let _ = writeln!(s, "<tr><td colspan=\"6\" class=\"muted\">… {folded} step(s) the same</td></tr>");
        }
        let _ = writeln!(s, "</table>");
    }
}

fn cells(l: Option<&Shown>, side: &str) -> String {
    match l {
        Some(l) => format!(
            "<td class=\"d {side}\">{} {}</td><td class=\"{side}\">{}</td>",
            l.dir.map(Dir::arrow).unwrap_or("note"),
            l.class.map(Class::name).unwrap_or(""),
            esc(&l.text)
        ),
        None => format!("<td class=\"d {side}\"></td><td class=\"{side}\"></td>"),
    }
}

fn step_rows(s: &mut String, step: &StepDiff) {
    let h = |x: &Option<String>| x.as_deref().map(esc).unwrap_or_else(|| "(no such step)".into());
    let mark = if step.header_changed() { "≠" } else { "" };
    let _ = writeln!(
        s,
        "<tr class=\"hdr\"><td class=\"m\">{mark}</td><td colspan=\"2\">{}</td><td class=\"m\"></td><td colspan=\"2\">{}</td></tr>",
        if step.header_a.is_none() && step.header_b.is_none() { esc(&step.label) } else { h(&step.header_a) },
        if step.header_a.is_none() && step.header_b.is_none() { esc(&step.label) } else { h(&step.header_b) },
    );
    for l in &step.lines {
        let (cls, m) = match l.mark {
            Mark::Same => ("", ""),
            Mark::Changed => ("chg", "≠"),
            Mark::Removed => ("del", "−"),
            Mark::Inserted => ("ins", "+"),
        };
        let _ = writeln!(
            s,
            "<tr class=\"{cls}\"><td class=\"m\">{m}</td>{}<td class=\"m\"></td>{}</tr>",
            cells(l.a.as_ref(), "a"),
            cells(l.b.as_ref(), "b")
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{case, exchange, run};
    use crate::{compare, Options};
    use miplcheck_record::Verdict;

    #[test]
    fn the_page_is_self_contained_and_escaped() {
        let a = run(
            "a<b>",
            "bc39",
            vec![case("basics", "x", Verdict::Passed, exchange("step 1", "AT+CGMR", &["<rev>", "OK"]), vec![])],
        );
        let b = run(
            "b",
            "m5310a",
            vec![case("basics", "x", Verdict::Passed, exchange("step 1", "AT+CGMR", &["&rev", "OK"]), vec![])],
        );
        let h = super::render(&compare(&a, &b, Options::default()));
        assert!(h.starts_with("<!DOCTYPE html>") && h.ends_with("</html>\n"));
        assert!(!h.contains("http://") && !h.contains("https://") && !h.contains("<script"), "self-contained");
        assert!(h.contains("a&lt;b&gt;") && h.contains("&lt;rev&gt;") && h.contains("&amp;rev"));
        assert!(h.contains("<tr class=\"chg\">"));
        assert!(h.contains("<code>&lt;ref&gt;,&lt;msgId&gt;"), "signatures are code");
    }
}
