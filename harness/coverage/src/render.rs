//! A [`Coverage`] for people and tools: a terminal summary with the gaps, Markdown tables per
//! category (the run report's `coverage.md`), and JSON.

use super::{Category, Coverage, Item, Status, Summary};
use serde::Serialize;
use std::fmt::Write as _;

/// How many cases a Markdown cell names before it only counts.
const CASES_SHOWN: usize = 3;

/// The summary line, what is uncovered with its manual section, and (verbose) every item with its
/// cases.
pub fn text(c: &Coverage, verbose: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", c.summary().line(&c.dialect));
    let bare = c.uncovered_commands();
    let gaps: Vec<&Item> = c
        .items
        .iter()
        .filter(|i| {
            i.status == Status::Uncovered && matches!(i.category, Category::Command | Category::Urc | Category::Event)
        })
        .collect();
    if !gaps.is_empty() {
        let _ = writeln!(out, "  uncovered:");
        for i in gaps {
            let kind = match (i.category, i.command.as_deref()) {
                (Category::Command, Some(cmd)) if !bare.contains(&cmd) => "form",
                (cat, _) => cat.noun(),
            };
            let _ = writeln!(out, "    {kind:<8} {:<22} {:<16} {}{}", i.label, i.section, i.title, producible_note(i));
        }
    }
    for (cat, what) in [
        (Category::Event, "events not produced by the emulator"),
        (Category::ResultCode, "result codes not seen"),
        (Category::ErrorCode, "error codes not seen"),
    ] {
        let wanted = if cat == Category::Event { Status::NotProduced } else { Status::Uncovered };
        let codes = by_section(c.items.iter().filter(|i| i.category == cat && i.status == wanted));
        if !codes.is_empty() {
            let _ = writeln!(out, "  {what}: {codes}");
        }
    }
    if !c.not_in_manual.is_empty() {
        let _ = writeln!(out, "  seen but not in the manual:");
        for u in &c.not_in_manual {
            let _ = writeln!(out, "    {:<8} {:<22} {} — {}", short(u.category), u.label, u.why, u.cases.join(", "));
        }
    }
    if verbose {
        let _ = writeln!(out, "  every item:");
        for i in &c.items {
            let cases: Vec<String> = i.cases.iter().map(|id| cited(c, id)).collect();
            let _ = writeln!(
                out,
                "    {:<8} {:<22} {:<16} {:<10} {}",
                short(i.category),
                i.label,
                i.section,
                status(i),
                cases.join(", ")
            );
        }
    }
    out
}

/// Markdown: the summary, then a table per category, then what the manual does not list.
pub fn markdown(c: &Coverage) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "## Coverage of {} — {}\n", c.dialect, c.manual);
    let _ = writeln!(out, "{}\n", c.summary().line(&c.dialect));
    let _ = writeln!(out, "From {} case(s).\n", c.cases.len());
    for (cat, heading) in [
        (Category::Command, "Commands (each form)"),
        (Category::Urc, "URCs"),
        (Category::Event, "Event codes (`+MIPLEVENT`)"),
        (Category::ResultCode, "Result codes (`<result>` of the *RSP commands)"),
        (Category::ErrorCode, "Error codes"),
    ] {
        let _ = writeln!(out, "### {heading}\n");
        let _ = writeln!(out, "| item | meaning | section | status | cases |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for i in c.items.iter().filter(|i| i.category == cat) {
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} | {} |",
                cell(&i.label),
                cell(&i.title),
                cell(&i.section),
                status(i),
                cases_cell(&i.cases)
            );
        }
        out.push('\n');
    }
    if !c.not_in_manual.is_empty() {
        let _ = writeln!(out, "### Seen but not in the manual\n");
        let _ = writeln!(out, "| kind | item | why | cases |");
        let _ = writeln!(out, "|---|---|---|---|");
        for u in &c.not_in_manual {
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} |",
                u.category.noun(),
                cell(&u.label),
                cell(&u.why),
                cases_cell(&u.cases)
            );
        }
        out.push('\n');
    }
    out
}

#[derive(Serialize)]
struct Dialect<'a> {
    summary: Summary,
    #[serde(flatten)]
    coverage: &'a Coverage,
}

/// JSON: one object per dialect, its summary beside every item.
pub fn json(all: &[Coverage]) -> String {
    let all: Vec<Dialect> = all.iter().map(|c| Dialect { summary: c.summary(), coverage: c }).collect();
    // Only strings, numbers and derived structs: serialising cannot fail.
    serde_json::to_string_pretty(&all).unwrap_or_default() + "\n"
}

fn status(i: &Item) -> &'static str {
    match (i.status, i.producible) {
        (Status::Covered, _) => "covered",
        (Status::Uncovered, Some(true)) => "uncovered (emulator can produce it)",
        (Status::Uncovered, _) => "uncovered",
        (Status::NotProduced, _) => "not produced by the emulator",
    }
}

fn producible_note(i: &Item) -> &'static str {
    if i.producible == Some(true) {
        " (the emulator can produce it)"
    } else {
        ""
    }
}

fn short(c: Category) -> &'static str {
    match c {
        Category::ResultCode => "result",
        Category::ErrorCode => "error",
        other => other.noun(),
    }
}

/// `config/create-instance (BC39 §3.2.2)`.
fn cited(c: &Coverage, id: &str) -> String {
    match c.case(id) {
        Some(r) if !r.spec.is_empty() => format!("{id} ({})", r.spec),
        _ => id.to_string(),
    }
}

/// Codes grouped by section: `4, 23 (BC39 §6 table 3); 300 (BC39 §6 table 4)`.
fn by_section<'a>(items: impl Iterator<Item = &'a Item>) -> String {
    let mut groups: Vec<(&str, Vec<&str>)> = Vec::new();
    for i in items {
        let code = i.label.rsplit(' ').next().unwrap_or(&i.label);
        match groups.iter_mut().find(|(s, _)| *s == i.section) {
            Some((_, codes)) => codes.push(code),
            None => groups.push((&i.section, vec![code])),
        }
    }
    groups.iter().map(|(s, codes)| format!("{} ({s})", codes.join(", "))).collect::<Vec<_>>().join("; ")
}

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

fn cases_cell(cases: &[String]) -> String {
    let shown: Vec<&str> = cases.iter().take(CASES_SHOWN).map(String::as_str).collect();
    match cases.len() {
        0 => "—".to_string(),
        n if n <= CASES_SHOWN => shown.join(", "),
        n => format!("{} (+{} more; {n} in all)", shown.join(", "), n - CASES_SHOWN),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{analyse, CaseLines, Line};
    use miplcheck_at::dialect::BC39;
    use miplcheck_record::{Class, Dir};

    fn sample() -> Coverage {
        let lines = vec![
            Line::new(Dir::TeToUe, None, "AT+MIPLCREATE"),
            Line::new(Dir::UeToTe, Some(Class::Urc), "+MIPLEVENT: 0,6"),
            Line::new(Dir::UeToTe, Some(Class::Urc), "+MIPLEVENT: 0,99"),
            Line::new(Dir::UeToTe, Some(Class::Final), "+CME ERROR: 50"),
        ];
        let cases: Vec<CaseLines> = (1..=5)
            .map(|n| CaseLines { id: format!("x/c{n}"), spec: "BC39 §3.2.2".into(), lines: lines.clone() })
            .collect();
        analyse(&BC39, &[6, 7], &cases)
    }

    #[test]
    fn text_names_gaps_with_their_sections() {
        let t = text(&sample(), false);
        let first = t.lines().next().unwrap();
        assert!(first.starts_with("bc39: commands 1/18 (forms 1/"), "{first}");
        assert!(t.contains("events 1/2 producible (1/34 in the manual)"), "{first}");
        assert!(t.contains("command  AT+MIPLVER?") && t.contains("BC39 §3.2.4"), "{t}");
        assert!(t.contains("event    7") && t.contains("(the emulator can produce it)"), "{t}");
        assert!(t.contains("events not produced by the emulator: 1, 2,"), "{t}");
        assert!(t.contains("error codes not seen: 3, 4, 23,"), "{t}");
        assert!(t.contains("event    99") && t.contains("not an event code of the manual"), "{t}");
        assert!(!t.contains("every item"));
        let v = text(&sample(), true);
        assert!(v.contains("AT+MIPLCREATE") && v.contains("x/c1 (BC39 §3.2.2)"), "{v}");
    }

    #[test]
    fn markdown_has_a_table_per_category_and_shortens_case_lists() {
        let m = markdown(&sample());
        for h in ["### Commands", "### URCs", "### Event codes", "### Result codes", "### Error codes", "### Seen but"]
        {
            assert!(m.contains(h), "{h}\n{m}");
        }
        let row = "| `AT+MIPLCREATE` | create a OneNET suite instance | BC39 §3.2.2 | covered | \
                   x/c1, x/c2, x/c3 (+2 more; 5 in all) |";
        assert!(m.contains(row), "{m}");
        assert!(
            m.contains("| `7` | registration failed | BC39 §4.7 | uncovered (emulator can produce it) | — |"),
            "{m}"
        );
        assert!(m.contains("| `10` | stopped | BC39 §4.7 | not produced by the emulator | — |"), "{m}");
    }

    #[test]
    fn json_carries_the_summary_and_the_items() {
        let j: serde_json::Value = serde_json::from_str(&json(&[sample()])).unwrap();
        assert_eq!(j[0]["dialect"], "bc39");
        assert_eq!(j[0]["summary"]["producible_events"]["covered"], 1);
        assert_eq!(j[0]["summary"]["complete"], false);
        let create = j[0]["items"].as_array().unwrap().iter().find(|i| i["label"] == "AT+MIPLCREATE").unwrap();
        assert_eq!(create["status"], "covered");
        assert_eq!(create["cases"].as_array().unwrap().len(), 5);
        assert_eq!(j[0]["not_in_manual"][0]["category"], "event");
    }
}
