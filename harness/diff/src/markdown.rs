//! `diff.md`: the comparison as Markdown (GitHub's flavour), for a merge request or a ticket. The
//! order is what a firmware engineer asks first: is it worse, what differs in words, the tables,
//! then the transcripts of the cases that differ.

use super::align::{Mark, Shown, StepDiff};
use super::matrix::{CommandRow, CommandSide, Kind, Relation, Support};
use super::{summary, CaseChange, CaseRow, Comparison};
use miplcheck_record::{Class, Dir, Verdict};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Cases whose transcripts are printed in full; the rest are named (diff.html has them all).
const MAX_TRANSCRIPTS: usize = 40;

pub fn render(c: &Comparison) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# miplcheck diff: {} vs {}\n", cell(&c.a.label), cell(&c.b.label));
    let _ = writeln!(s, "A is the reference, B the candidate. {}\n", summary::kind(c));
    runs(&mut s, c);
    let (code, verdict) = summary::verdict(c);
    let _ = writeln!(s, "## Summary\n");
    let _ = writeln!(s, "**{}**\n", md(&verdict));
    for l in summary::lines(c) {
        let _ = writeln!(s, "- {}", md(&l));
    }
    let _ = writeln!(s);
    words(&mut s, c);
    matrix(&mut s, c);
    events(&mut s, c);
    errors(&mut s, c);
    latency(&mut s, c);
    cases(&mut s, c);
    transcripts(&mut s, c);
    let _ = writeln!(
        s,
        "---\nExit status {code}. 0: no regression; 1: a case passed in A and fails in B, or a command's latency in B \
         moved beyond the threshold (above); 2: a run record could not be read."
    );
    s
}

/// Free text: `<ackid>` outside a code span would be read as an HTML tag and vanish.
fn md(t: &str) -> String {
    t.split('`')
        .enumerate()
        .map(|(i, part)| if i % 2 == 1 { part.to_string() } else { part.replace('<', "&lt;").replace('>', "&gt;") })
        .collect::<Vec<_>>()
        .join("`")
}

/// A table cell: no line breaks, no bare `|`, no stray tags.
fn cell(t: &str) -> String {
    md(t).replace('|', "\\|").replace(['\r', '\n'], " ")
}

fn runs(s: &mut String, c: &Comparison) {
    let _ = writeln!(s, "| | A | B |\n|---|---|---|");
    for (what, a, b) in summary::run_rows(c) {
        let _ = writeln!(s, "| {what} | {} | {} |", cell(&a), cell(&b));
    }
    let _ = writeln!(s);
}

fn words(s: &mut String, c: &Comparison) {
    let rows: Vec<&CommandRow> = c.commands.iter().filter(|r| r.differs()).collect();
    let _ = writeln!(s, "## What differs, command by command\n");
    if rows.is_empty() {
        let _ = writeln!(s, "Nothing: every command has the same syntax, answers, errors and events in both runs.\n");
        return;
    }
    let family_said = summary::families(c);
    for general in [&family_said, &summary::test_forms(c)].into_iter().flatten() {
        let _ = writeln!(s, "{}\n", md(general));
    }
    // Commands only one side has are listed together: one line each says enough.
    let (only, both): (Vec<&CommandRow>, Vec<&CommandRow>) = rows.into_iter().partition(|r| r.has(Kind::Support));
    for r in both {
        let shown: Vec<_> =
            r.differences.iter().filter(|d| !(family_said.is_some() && d.kind == Kind::ErrorFamily)).collect();
        if shown.is_empty() {
            continue;
        }
        let _ = writeln!(s, "### {}\n", r.at());
        for d in shown {
            let _ = writeln!(s, "- **{}**: {}", d.kind.words(), md(&d.words));
        }
        for n in &r.notes {
            let _ = writeln!(s, "- note: {}", md(n));
        }
        let _ = writeln!(s);
    }
    if !only.is_empty() {
        let _ = writeln!(s, "### Commands on one side only\n");
        for r in only {
            for d in &r.differences {
                let _ = writeln!(s, "- **{}**: {}", r.at(), md(&d.words));
            }
        }
        let _ = writeln!(s);
    }
}

fn side_cell(side: &CommandSide) -> String {
    let mut parts = Vec::new();
    match (side.support(), side.spec) {
        (Support::Manual, Some(spec)) => {
            let sig = spec.set.map(|g| format!(" `{g}`")).unwrap_or_default();
            parts.push(format!("yes, {} ({}){sig}", spec.section, side.forms()));
        }
        (Support::RunOnly, _) => parts.push("answered OK, not in the manual".into()),
        _ => parts.push("—".into()),
    }
    if let Some(u) = &side.usage {
        parts.push(format!("sent ×{}", u.sent));
        let e = side.errors_seen();
        if !e.is_empty() {
            parts.push(format!("errors: {e}"));
        }
        let ev = side.event_codes();
        if !ev.is_empty() {
            parts.push(format!("events: {ev}"));
        }
    }
    if side.support() != Support::No {
        let fam: Vec<String> = side.families().into_iter().collect();
        if !fam.is_empty() && side.errors_seen().is_empty() {
            parts.push(format!("errors as {}", fam.join(" / ")));
        }
    }
    parts.iter().map(|p| cell(p)).collect::<Vec<_>>().join("<br>")
}

fn matrix(s: &mut String, c: &Comparison) {
    let _ = writeln!(s, "## Command matrix\n");
    let _ = writeln!(
        s,
        "Each side: in the manual (section, forms, set syntax), how often the run sent it, the errors and \
         `+MIPLEVENT` codes that followed it (the event table below says what each code means).\n"
    );
    let _ =
        writeln!(s, "| command | A: {} | B: {} | differences |\n|---|---|---|---|", cell(&c.a.model), cell(&c.b.model));
    for r in &c.commands {
        let kinds: Vec<&str> = {
            let mut k: Vec<Kind> = r.differences.iter().map(|d| d.kind).collect();
            k.dedup();
            k.into_iter().map(Kind::words).collect()
        };
        let diff = if kinds.is_empty() { "same".to_string() } else { format!("**{}**", kinds.join(", ")) };
        let rai = r
            .differences
            .iter()
            .find(|d| d.kind == Kind::Rai)
            .map(|d| format!("<br>{}", cell(&d.words)))
            .unwrap_or_default();
        let _ = writeln!(s, "| {} | {} | {} | {diff}{rai} |", r.at(), side_cell(&r.a), side_cell(&r.b));
    }
    let _ = writeln!(s);
}

fn events(s: &mut String, c: &Comparison) {
    let _ = writeln!(s, "## Event codes (`+MIPLEVENT`)\n");
    let rows: Vec<_> = if c.same_dialect {
        c.events.iter().filter(|e| e.differs() || e.seen.0 + e.seen.1 > 0).collect()
    } else {
        c.events.iter().collect()
    };
    if c.same_dialect {
        let _ = writeln!(
            s,
            "One event table ({}); the codes either run reported, and how often.\n",
            c.a.manual.unwrap_or(&c.a.model)
        );
    } else {
        let same: Vec<String> = c
            .events
            .iter()
            .filter(|e| e.relation == Relation::Same && !e.differs())
            .map(|e| e.code.to_string())
            .collect();
        let _ = writeln!(
            s,
            "Both tables by code. Same meaning on both, nothing more to say: {}. \"seen\" counts the events each run \
             reported.\n",
            if same.is_empty() { "none".into() } else { same.join(", ") }
        );
    }
    if !c.meanings.is_empty() {
        let _ = writeln!(s, "Meanings both tables have, under different codes:\n");
        let _ = writeln!(s, "| meaning | A: {} | B: {} |\n|---|---|---|", cell(&c.a.model), cell(&c.b.model));
        let codes = |v: &[&miplcheck_at::dialect::Code]| {
            v.iter()
                .map(|e| cell(&format!("{} ({}: {})", e.code, e.section, e.meaning)))
                .collect::<Vec<_>>()
                .join("<br>")
        };
        for m in &c.meanings {
            let _ = writeln!(s, "| {} | {} | {} |", cell(&m.meaning), codes(&m.a), codes(&m.b));
        }
        let _ = writeln!(s, "\nEvery code:\n");
    }
    if rows.is_empty() {
        let _ = writeln!(s, "No event was reported in either run.\n");
        return;
    }
    let meanings = if c.same_dialect {
        format!("meaning ({})", cell(&c.a.model))
    } else {
        format!("A: {} | B: {}", cell(&c.a.model), cell(&c.b.model))
    };
    let rule = if c.same_dialect { "|---|---|---|---|---|" } else { "|---|---|---|---|---|---|" };
    let _ = writeln!(s, "| code | {meanings} | seen A | seen B | difference |\n{rule}");
    for e in rows {
        if !c.same_dialect && e.relation == Relation::Same && !e.differs() && e.seen == (0, 0) {
            continue;
        }
        let m = |x: Option<&miplcheck_at::dialect::Code>| {
            x.map(|x| format!("{} ({})", x.meaning, x.section)).unwrap_or_else(|| "—".into())
        };
        let meaning =
            if c.same_dialect { cell(&m(e.a.or(e.b))) } else { format!("{} | {}", cell(&m(e.a)), cell(&m(e.b))) };
        let _ = writeln!(
            s,
            "| {} | {meaning} | {} | {} | {} |",
            e.code,
            e.seen.0,
            e.seen.1,
            if e.words.is_empty() { "same".into() } else { cell(&e.words) }
        );
    }
    let _ = writeln!(s);
}

fn errors(s: &mut String, c: &Comparison) {
    let _ = writeln!(s, "## Errors seen\n");
    if c.errors.is_empty() {
        let _ = writeln!(s, "Neither run saw an error result.\n");
        return;
    }
    let _ = writeln!(s, "| result | meaning | A | B | commands in A | commands in B |\n|---|---|---|---|---|---|");
    for e in &c.errors {
        let _ = writeln!(
            s,
            "| `{}` | {} | {} | {} | {} | {} |",
            cell(&e.label),
            cell(e.meaning.as_deref().unwrap_or("3GPP TS 27.007 (not the MIPL manual's)")),
            e.seen.0,
            e.seen.1,
            cell(&e.commands.0.join(", ")),
            cell(&e.commands.1.join(", "))
        );
    }
    let _ = writeln!(s);
}

fn ms(v: f64) -> String {
    format!("{v:.2}")
}

fn latency(s: &mut String, c: &Comparison) {
    let _ = writeln!(s, "## Latency per command (ms)\n");
    let _ = writeln!(s, "From the send steps' measured answer times. {}\n", super::latency::rule(c.options));
    if c.latency_corrected {
        let _ = writeln!(s, "{}\n", super::latency::CORRECTED_NOTE);
    }
    if c.latency.is_empty() {
        let _ = writeln!(s, "No send step was timed in either run.\n");
        return;
    }
    let _ = writeln!(
        s,
        "| command | n A | median A | p95 A | n B | median B | p95 B | Δ median | Δ p95 | |\n|---|---|---|---|---|---|---|---|---|---|"
    );
    for r in &c.latency {
        let st = |x: Option<super::latency::Stats>| match x {
            Some(x) => format!("{} | {} | {}", x.n, ms(x.median), ms(x.p95)),
            None => "0 | — | —".into(),
        };
        let d = |x: Option<super::latency::Delta>| x.map(|d| d.to_string()).unwrap_or_else(|| "—".into());
        let flag = match (&r.regression, &r.note) {
            (Some(_), None) => "**regression**".to_string(),
            (Some(_), Some(n)) => format!("**regression** ({})", cell(n)),
            (None, Some(n)) => cell(n),
            (None, None) => "ok".into(),
        };
        let _ = writeln!(s, "| {} | {} | {} | {} | {} | {flag} |", r.at(), st(r.a), st(r.b), d(r.median()), d(r.p95()));
    }
    let _ = writeln!(s);
}

fn verdict(side: &Option<super::CaseSide>) -> String {
    side.as_ref().map(|x| cell(&x.words())).unwrap_or_else(|| "not in the record".into())
}

fn cases(s: &mut String, c: &Comparison) {
    let _ = writeln!(s, "## Cases\n");
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
        let _ = writeln!(s, "No case ran in both runs.\n");
    } else {
        let _ = writeln!(s, "Cases that ran in both runs, verdicts side by side:\n");
        let _ = writeln!(s, "| case | spec | A | B | comparison |\n|---|---|---|---|---|");
        for r in both {
            let change = if r.change == CaseChange::Same {
                r.change.words().to_string()
            } else {
                format!("**{}**", r.change.words())
            };
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {change} |",
                cell(&r.key),
                cell(&r.spec),
                verdict(&r.a),
                verdict(&r.b)
            );
        }
        let _ = writeln!(s);
    }
    // One side only: by suite, since a vendor comparison has dozens.
    for ch in [CaseChange::RanInAOnly, CaseChange::RanInBOnly, CaseChange::OnlyInA, CaseChange::OnlyInB] {
        let rows: Vec<&CaseRow> = c.cases.iter().filter(|r| r.change == ch).collect();
        if rows.is_empty() {
            continue;
        }
        let mut suites: BTreeMap<&str, Vec<&CaseRow>> = BTreeMap::new();
        for r in &rows {
            suites.entry(r.key.split('/').next().unwrap_or("")).or_default().push(r);
        }
        let _ = writeln!(s, "**{}** ({}):\n", capital(ch.words()), rows.len());
        for (suite, rs) in suites {
            let failed: Vec<&str> = rs
                .iter()
                .filter(|r| [&r.a, &r.b].iter().any(|x| x.as_ref().is_some_and(|x| x.verdict == Verdict::Failed)))
                .map(|r| r.key.as_str())
                .collect();
            let skip = rs.iter().find_map(|r| {
                [&r.a, &r.b]
                    .into_iter()
                    .flatten()
                    .find(|x| x.verdict == Verdict::Skipped)
                    .and_then(|x| x.reason.clone())
            });
            let mut line = format!("- `{suite}`: {} case(s)", rs.len());
            if !failed.is_empty() {
                line.push_str(&format!(", failed: {}", failed.join(", ")));
            }
            if let Some(why) = skip {
                line.push_str(&format!(" — the other side skipped: {}", cell(&why)));
            }
            let _ = writeln!(s, "{line}");
        }
        let _ = writeln!(s);
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
}

fn transcripts(s: &mut String, c: &Comparison) {
    let rows: Vec<&CaseRow> = c.cases.iter().filter(|r| r.differing_steps().next().is_some()).collect();
    let _ = writeln!(s, "## Transcripts that differ\n");
    if rows.is_empty() {
        let _ = writeln!(
            s,
            "Every case that ran in both runs has the same transcript, once message IDs, tokens, the platform's \
             port and times are set aside.\n"
        );
        return;
    }
    let _ = writeln!(
        s,
        "Aligned step by step; message IDs, tokens, the platform's port and times are set aside. `-` is A's line, \
         `+` B's (a changed line shows both, `-` then `+`); unmarked lines are the same on both.\n"
    );
    for r in rows.iter().take(MAX_TRANSCRIPTS) {
        let title = r.title.as_deref().map(|t| format!(" — {t}")).unwrap_or_default();
        let _ = writeln!(s, "### {}{}\n", r.key, cell(&title));
        let _ = writeln!(s, "{} · A: {} · B: {}\n", cell(&r.spec), verdict(&r.a), verdict(&r.b));
        let same = r.steps.iter().filter(|x| !x.differs()).count();
        let _ = writeln!(s, "```diff");
        for step in r.differing_steps() {
            step_lines(s, step);
        }
        if same > 0 {
            let _ = writeln!(s, "  … {same} step(s) the same on both sides");
        }
        let _ = writeln!(s, "```\n");
    }
    if rows.len() > MAX_TRANSCRIPTS {
        let rest: Vec<&str> = rows[MAX_TRANSCRIPTS..].iter().map(|r| r.key.as_str()).collect();
        let _ = writeln!(s, "And {} more (in diff.html): {}\n", rest.len(), rest.join(", "));
    }
}

fn shown(prefix: char, l: &Shown) -> String {
    let dir = l.dir.map(Dir::arrow).unwrap_or("note");
    format!("{prefix} {dir} {:<6} {}", l.class.map(Class::name).unwrap_or(""), l.text)
}

fn step_lines(s: &mut String, step: &StepDiff) {
    match (&step.header_a, &step.header_b) {
        (Some(a), Some(b)) if a != b => {
            let _ = writeln!(s, "- ── {a}\n+ ── {b}");
        }
        (Some(h), None) => {
            let _ = writeln!(s, "- ── {h}   (A only)");
        }
        (None, Some(h)) => {
            let _ = writeln!(s, "+ ── {h}   (B only)");
        }
        (Some(h), Some(_)) => {
            let _ = writeln!(s, "  ── {h}");
        }
        (None, None) => {
            let _ = writeln!(s, "  ── {}", step.label);
        }
    }
    for l in &step.lines {
        match (l.mark, &l.a, &l.b) {
            (Mark::Same, Some(a), _) => {
                let _ = writeln!(s, "{}", shown(' ', a));
            }
            (Mark::Changed, Some(a), Some(b)) => {
                let _ = writeln!(s, "{}\n{}", shown('-', a), shown('+', b));
            }
            (_, Some(a), None) => {
                let _ = writeln!(s, "{}", shown('-', a));
            }
            (_, None, Some(b)) => {
                let _ = writeln!(s, "{}", shown('+', b));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::{case, exchange, latency, run};
    use crate::{compare, Options};
    use miplcheck_record::Verdict;

    #[test]
    fn the_report_says_the_differences_in_words() {
        let mut ta = exchange("step 1", "AT+CGMR", &["Revision: BC39", "OK"]);
        ta.extend(exchange("step 2", "AT+MIPLOPEN=0,600,60", &["+CME ERROR: 3"]));
        let tb = exchange("step 1", "AT+CGMR", &["Revision: M5310-A | x", "OK"]);
        let steps: Vec<_> = (0..3).map(|_| latency("step 1", "+CGMR", 1.0)).collect();
        let a = run("emulator-bc39", "bc39", vec![case("basics", "revision", Verdict::Passed, ta, steps.clone())]);
        let b = run("emulator-m5310a", "m5310a", vec![case("basics", "revision", Verdict::Passed, tb, steps)]);
        let md = super::render(&compare(&a, &b, Options::default()));
        assert!(md.starts_with("# miplcheck diff: emulator-bc39 vs emulator-m5310a"), "{md}");
        assert!(md.contains("**No regression"), "{md}");
        assert!(md.contains("### AT+MIPLDISCOVERRSP"), "{md}");
        assert!(md.contains("Error family: BC39 answers `+CME ERROR: <n>`"), "{md}");
        assert!(md.contains("- UE→TE info   Revision: BC39\n+ UE→TE info   Revision: M5310-A | x"), "{md}");
        assert!(
            md.contains("| AT+CGMR | 3 | 1.00 | 1.00 | 3 | 1.00 | 1.00 | +0.00 ms (+0%) | +0.00 ms (+0%) | p95 not judged: 3 samples, needs 20 |"),
            "{md}"
        );
        assert!(md.contains("| 10 | stopped (BC39 §4.7) | lifetime update succeeded"), "{md}");
    }
}
