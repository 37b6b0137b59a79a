//! The sentences both reports open with and the CLI prints: what kind of comparison this is, what
//! differs, and what the exit status will be. Plain text, so each renderer only escapes it.

use super::matrix::{by_kind, family_name, family_section, Kind};
use super::{CaseChange, Comparison};
use miplcheck_at::Dialect;

/// "vendor A vs vendor B" or "firmware N vs firmware N-1", in a sentence.
pub fn kind(c: &Comparison) -> String {
    if c.same_dialect {
        format!(
            "Both runs speak {} ({}): a firmware or rig comparison. The manual tables are the same, so the \
             differences below come from the runs: verdicts, answers, events, errors and timing.",
            c.a.model,
            c.a.manual.unwrap_or("manual unknown")
        )
    } else {
        format!(
            "{} vs {}: two dialects, so most suites ran on one side only; the per-command matrix compares the \
             manuals' tables and what each run showed, and the cases both ran (such as `basics`) are compared \
             line by line.",
            c.a.model, c.b.model
        )
    }
}

/// The exit status and why.
pub fn verdict(c: &Comparison) -> (u8, String) {
    let r = c.regressions();
    if r.is_empty() {
        (
            0,
            format!(
                "No regression: no case that passed in A fails in B, and no command's latency moved beyond the {} \
                 threshold (exit status 0).",
                super::latency::describe(c.options)
            ),
        )
    } else {
        (1, format!("Regression (exit status 1): {}.", r.join("; ")))
    }
}

/// The summary, a sentence each.
pub fn lines(c: &Comparison) -> Vec<String> {
    let n = c.counts();
    let mut out = Vec::new();
    let mut cases = format!("{} case(s) ran in both runs; {} differ", n.compared, n.differing);
    if n.verdict_regressions + n.fixed > 0 {
        cases.push_str(&format!(
            " ({} passed in A and fail in B, {} failed in A and pass in B)",
            n.verdict_regressions, n.fixed
        ));
    }
    let one = |ch: CaseChange| c.cases.iter().filter(|r| r.change == ch).count();
    let (ra, rb, oa, ob) =
        (one(CaseChange::RanInAOnly), one(CaseChange::RanInBOnly), one(CaseChange::OnlyInA), one(CaseChange::OnlyInB));
    if ra + rb > 0 {
        cases.push_str(&format!("; {ra} ran in A only and {rb} in B only (skipped on the other side)"));
    }
    if oa + ob > 0 {
        cases.push_str(&format!("; {oa} are in A's record only and {ob} in B's only"));
    }
    out.push(format!("{cases}."));
    let kinds = by_kind(&c.commands);
    let mut cmds = format!("{} of {} command(s) differ", n.commands_differing, n.commands);
    if !kinds.is_empty() {
        let parts: Vec<String> = kinds.iter().map(|(k, v)| format!("{}: {}", k.words(), v.join(", "))).collect();
        cmds.push_str(&format!(" — {}", parts.join("; ")));
    }
    out.push(format!("{cmds}."));
    let events = c.events.iter().filter(|e| e.differs()).count();
    if c.same_dialect {
        out.push(format!("{events} event code(s) were reported a different number of times."));
    } else {
        out.push(format!("{events} of {} event code(s) differ between the two tables.", c.events.len()));
    }
    out.push(format!(
        "{} latency regression(s) beyond {} (the bulk of the answers at the 95% bound from {} samples a side, and \
         the p95 too from {}) among {} command(s) timed in both runs.",
        n.latency_regressions,
        super::latency::describe(c.options),
        c.options.min_samples,
        c.options.p95_min_samples.max(c.options.min_samples),
        n.latency_compared
    ));
    out
}

/// Test forms (`AT+X=?`), when one manual has them and the other has none: said once rather
/// than on every command.
pub fn test_forms(c: &Comparison) -> Option<String> {
    let (da, db) = (Dialect::by_name(&c.a.dialect)?, Dialect::by_name(&c.b.dialect)?);
    let count = |d: &Dialect| d.commands.iter().filter(|x| x.forms.contains(&miplcheck_at::syntax::Form::Test)).count();
    let (na, nb) = (count(da), count(db));
    let ((none, _), (has, d, n)) = match (na, nb) {
        (0, 0) => return None,
        (0, _) => ((&c.a.model, da), (&c.b.model, db, nb)),
        (_, 0) => ((&c.b.model, db), (&c.a.model, da, na)),
        _ => return None,
    };
    Some(format!(
        "{none}'s manual gives no test form (`AT+X=?`) for any command; {has}'s gives one for {n} of its {} commands.",
        d.commands.len()
    ))
}

/// The error families, when they differ: said once rather than on every command.
pub fn families(c: &Comparison) -> Option<String> {
    let (da, db) = (Dialect::by_name(&c.a.dialect)?, Dialect::by_name(&c.b.dialect)?);
    if da.error_family == db.error_family {
        return None;
    }
    let n = by_kind(&c.commands).get(&Kind::ErrorFamily).map(Vec::len).unwrap_or(0);
    Some(format!(
        "Error family: {} answers `{}: <n>` ({}), {} answers `{}: <n>` ({}); {n} command(s) show it. A driver that \
         matches one of them misses every error of the other.",
        c.a.model,
        family_name(da.error_family),
        family_section(da),
        c.b.model,
        family_name(db.error_family),
        family_section(db),
    ))
}

/// The two runs side by side, a row each (what, A, B), for both the Markdown and the HTML page.
pub fn run_rows(c: &Comparison) -> Vec<(&'static str, String, String)> {
    let dialect = |i: &super::RunInfo| format!("{} — {}", i.model, i.manual.unwrap_or("not a dialect miplcheck knows"));
    let cases = |i: &super::RunInfo| format!("{} passed, {} failed, {} skipped", i.passed, i.failed, i.skipped);
    vec![
        ("rig", format!("{} ({})", c.a.rig, c.a.target), format!("{} ({})", c.b.rig, c.b.target)),
        ("dialect", dialect(&c.a), dialect(&c.b)),
        ("firmware", c.a.firmware.clone(), c.b.firmware.clone()),
        ("started", c.a.started.clone(), c.b.started.clone()),
        ("cases", cases(&c.a), cases(&c.b)),
        ("miplcheck", c.a.tool.clone(), c.b.tool.clone()),
    ]
}
