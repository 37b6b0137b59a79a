//! Coverage of the manuals: which commands (each form), URCs, `+MIPLEVENT` codes, `<result>` codes
//! and error codes in a dialect's tables the cases really exercised, with those cases and the
//! manual section — read from golden snapshots (`miplcheck coverage`) or from a run's transcripts
//! (`coverage.md` in the run's report folder).
//!
//! [`analyse`] is pure: the dialect, the event codes its emulator can produce, and each case's
//! lines in, a [`Coverage`] out. The lines come from a run record's typed transcript
//! ([`lines::of_record`]) or from a golden snapshot's text ([`lines::parse_snapshot`]), the one
//! transcript text this crate reads back. [`render`] writes text, Markdown and JSON. It reads no
//! files and knows no runner: the caller gathers the evidence (the runner's `coverage_sources`
//! reads the snapshots of the suites' cases).

pub mod lines;
pub mod render;
mod sighting;

pub use lines::Line;

use miplcheck_at::dialect::Dialect;
use serde::Serialize;
use sighting::{error_label, form_label, sightings};
use std::fmt::Write as _;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Command,
    Urc,
    Event,
    ResultCode,
    ErrorCode,
}

impl Category {
    pub fn noun(self) -> &'static str {
        match self {
            Category::Command => "command",
            Category::Urc => "URC",
            Category::Event => "event",
            Category::ResultCode => "result code",
            Category::ErrorCode => "error code",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Status {
    Covered,
    Uncovered,
    /// An event code no case showed that the emulator's own tables cannot emit: a producer to
    /// add (or a case that sets the code, `emulator-events`). Still a gap for completeness.
    NotProduced,
}

/// One row of a dialect's tables and the cases that exercised it.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    pub category: Category,
    /// `AT+MIPLCONFIG=?`, `+MIPLREAD`, `6`, `+CME ERROR: 50`.
    pub label: String,
    /// A command form's command (`+MIPLCONFIG`): the command counts as covered when any form is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    pub section: String,
    pub title: String,
    /// For an event: whether the emulator can emit it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub producible: Option<bool>,
    pub status: Status,
    /// `suite/case`, in the order the cases were given.
    pub cases: Vec<String>,
}

impl Item {
    pub fn covered(&self) -> bool {
        self.status == Status::Covered
    }
}

/// Something the cases showed that the manual's tables do not list.
#[derive(Debug, Clone, Serialize)]
pub struct Unlisted {
    pub category: Category,
    pub label: String,
    pub why: String,
    pub cases: Vec<String>,
}

/// A case and the section it cites.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseRef {
    pub id: String,
    pub spec: String,
}

/// One case's transcript, as the analyser takes it.
#[derive(Debug, Clone)]
pub struct CaseLines {
    /// `config/create-instance`.
    pub id: String,
    /// The section the case cites: `BC39 §3.2.2`.
    pub spec: String,
    pub lines: Vec<Line>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Coverage {
    pub dialect: String,
    pub manual: String,
    pub cases: Vec<CaseRef>,
    pub items: Vec<Item>,
    pub not_in_manual: Vec<Unlisted>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Tally {
    pub covered: usize,
    pub total: usize,
}

impl Tally {
    fn count(&mut self, covered: bool) {
        self.total += 1;
        self.covered += usize::from(covered);
    }

    pub fn full(&self) -> bool {
        self.covered == self.total
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub commands: Tally,
    pub forms: Tally,
    pub urcs: Tally,
    pub events: Tally,
    /// Events the emulator's own tables produce (shown beside the manual's; every event of the
    /// manual is the goal).
    pub producible_events: Tally,
    pub result_codes: Tally,
    pub error_codes: Tally,
    pub not_in_manual: usize,
    /// Every command (in some form), every URC and every event of the manual covered: an event
    /// the emulator cannot produce is a gap too (a producer to add, or a case the manual rules
    /// out, which then has no row in the dialect's table).
    pub complete: bool,
}

impl Summary {
    /// `bc39: commands 21/21 (forms 40/44), URCs 7/7, events 16/20 producible (16/34 in the manual), …`
    pub fn line(&self, dialect: &str) -> String {
        let t = |t: Tally| format!("{}/{}", t.covered, t.total);
        let mut s = format!(
            "{dialect}: commands {} (forms {}), URCs {}, events {} producible ({} in the manual), \
             result codes {}, error codes {}",
            t(self.commands),
            t(self.forms),
            t(self.urcs),
            t(self.producible_events),
            t(self.events),
            t(self.result_codes),
            t(self.error_codes),
        );
        if self.not_in_manual > 0 {
            let _ = write!(s, "; {} seen but not in the manual", self.not_in_manual);
        }
        s
    }
}

impl Coverage {
    pub fn summary(&self) -> Summary {
        let mut s = Summary {
            commands: Tally::default(),
            forms: Tally::default(),
            urcs: Tally::default(),
            events: Tally::default(),
            producible_events: Tally::default(),
            result_codes: Tally::default(),
            error_codes: Tally::default(),
            not_in_manual: self.not_in_manual.len(),
            complete: false,
        };
        for i in &self.items {
            match i.category {
                Category::Command => s.forms.count(i.covered()),
                Category::Urc => s.urcs.count(i.covered()),
                Category::Event => {
                    s.events.count(i.covered());
                    if i.producible == Some(true) {
                        s.producible_events.count(i.covered());
                    }
                }
                Category::ResultCode => s.result_codes.count(i.covered()),
                Category::ErrorCode => s.error_codes.count(i.covered()),
            }
        }
        let uncovered = self.uncovered_commands().len();
        s.commands = Tally { covered: self.commands().len() - uncovered, total: self.commands().len() };
        s.complete = s.commands.full() && s.urcs.full() && s.events.full();
        s
    }

    /// The commands of the table, in its order.
    pub fn commands(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for c in self.items.iter().filter_map(|i| i.command.as_deref()) {
            if !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    /// Commands none of whose forms was exercised.
    pub fn uncovered_commands(&self) -> Vec<&str> {
        let covered = |c: &str| self.items.iter().any(|i| i.command.as_deref() == Some(c) && i.covered());
        self.commands().into_iter().filter(|c| !covered(c)).collect()
    }

    /// The goals not met: forms of uncovered commands, URCs, every event of the manual not seen
    /// (whether the emulator can produce it or not).
    pub fn missing_goals(&self) -> Vec<&Item> {
        let bare = self.uncovered_commands();
        self.items
            .iter()
            .filter(|i| !i.covered())
            .filter(|i| match i.category {
                Category::Command => i.command.as_deref().is_some_and(|c| bare.contains(&c)),
                Category::Urc | Category::Event => true,
                Category::ResultCode | Category::ErrorCode => false,
            })
            .collect()
    }

    pub fn case(&self, id: &str) -> Option<&CaseRef> {
        self.cases.iter().find(|c| c.id == id)
    }
}

/// Reads every case's lines against `dialect`'s tables. `producible`: the event codes the
/// emulator can emit (`miplcheck_emulator::events_produced`), which decide whether an uncovered
/// event is a goal.
pub fn analyse(dialect: &Dialect, producible: &[u16], cases: &[CaseLines]) -> Coverage {
    let mut items = table(dialect, producible);
    let mut not_in_manual: Vec<Unlisted> = Vec::new();
    for case in cases {
        for s in sightings(dialect, &case.lines) {
            let cases = match &s.unlisted {
                None => items.iter_mut().find(|i| i.category == s.category && i.label == s.label).map(|i| &mut i.cases),
                Some(why) => {
                    let at = not_in_manual.iter().position(|u| u.category == s.category && u.label == s.label);
                    let at = at.unwrap_or_else(|| {
                        not_in_manual.push(Unlisted {
                            category: s.category,
                            label: s.label.clone(),
                            why: why.clone(),
                            cases: vec![],
                        });
                        not_in_manual.len() - 1
                    });
                    Some(&mut not_in_manual[at].cases)
                }
            };
            if let Some(cases) = cases.filter(|c| !c.contains(&case.id)) {
                cases.push(case.id.clone());
            }
        }
    }
    for i in &mut items {
        i.status = match (i.cases.is_empty(), i.producible) {
            (false, _) => Status::Covered,
            (true, Some(false)) => Status::NotProduced,
            (true, _) => Status::Uncovered,
        };
    }
    not_in_manual.sort_by_key(|u| u.category);
    Coverage {
        dialect: dialect.name.to_string(),
        manual: dialect.manual.to_string(),
        cases: cases.iter().map(|c| CaseRef { id: c.id.clone(), spec: c.spec.clone() }).collect(),
        items,
        not_in_manual,
    }
}

/// Every row of the tables, uncovered.
fn table(d: &Dialect, producible: &[u16]) -> Vec<Item> {
    let item = |category, label: String, section: &str, title: &str| Item {
        category,
        label,
        command: None,
        section: section.to_string(),
        title: title.to_string(),
        producible: None,
        status: Status::Uncovered,
        cases: vec![],
    };
    let mut out = Vec::new();
    for c in d.commands {
        for f in c.forms {
            out.push(Item {
                command: Some(c.name.to_string()),
                ..item(Category::Command, form_label(c.name, *f), c.section, c.title)
            });
        }
    }
    for u in d.urcs {
        out.push(item(Category::Urc, u.name.to_string(), u.section, u.title));
    }
    for e in d.events {
        out.push(Item {
            producible: Some(producible.contains(&e.code)),
            ..item(Category::Event, e.code.to_string(), e.section, e.meaning)
        });
    }
    for r in d.result_codes {
        out.push(item(Category::ResultCode, r.code.to_string(), r.section, r.meaning));
    }
    for e in d.errors {
        out.push(item(Category::ErrorCode, error_label(d.error_family, e.code), e.section, e.meaning));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use miplcheck_at::dialect::{BC39, M5310A};
    use miplcheck_record::{Class, Dir};
    use rstest::rstest;

    fn case(id: &str, rows: &[(Dir, Option<Class>, &str)]) -> CaseLines {
        CaseLines {
            id: id.to_string(),
            spec: "BC39 §5.2.1".to_string(),
            lines: rows.iter().map(|(d, c, t)| Line::new(*d, *c, t)).collect(),
        }
    }

    fn register() -> CaseLines {
        case(
            "register/open",
            &[
                (Dir::TeToUe, None, "AT+MIPLOPEN=0,600,60"),
                (Dir::UeToTe, Some(Class::Final), "OK"),
                (Dir::UeToTe, Some(Class::Urc), "+MIPLEVENT: 0,6"),
                (Dir::UeToTe, Some(Class::Urc), "+MIPLEVENT: 0,77"),
                (Dir::TeToUe, None, "AT+MIPLCLOSE=9"),
                (Dir::UeToTe, Some(Class::Final), "+CME ERROR: 50"),
            ],
        )
    }

    fn item<'a>(c: &'a Coverage, cat: Category, label: &str) -> &'a Item {
        c.items.iter().find(|i| i.category == cat && i.label == label).unwrap_or_else(|| panic!("no {label}"))
    }

    #[rstest]
    #[case(Category::Command, "AT+MIPLOPEN=…", Status::Covered, "BC39 §3.2.7")]
    #[case(Category::Command, "AT+MIPLOPEN=?", Status::Uncovered, "BC39 §3.2.7")]
    #[case(Category::Command, "AT+MIPLCLOSE=…", Status::Covered, "BC39 §3.2.8")]
    #[case(Category::Urc, "+MIPLEVENT", Status::Covered, "BC39 §4.7")]
    #[case(Category::Urc, "+MIPLREAD", Status::Uncovered, "BC39 §4.3")]
    #[case(Category::Event, "6", Status::Covered, "BC39 §4.7")]
    #[case(Category::Event, "7", Status::Uncovered, "BC39 §4.7")]
    #[case(Category::Event, "10", Status::NotProduced, "BC39 §4.7")]
    #[case(Category::ErrorCode, "+CME ERROR: 50", Status::Covered, "BC39 §6 table 3")]
    #[case(Category::ErrorCode, "+CME ERROR: 3", Status::Uncovered, "BC39 §6 table 3")]
    #[case(Category::ResultCode, "1", Status::Uncovered, "BC39 §3.2.9")]
    fn items_get_their_status_and_section(
        #[case] cat: Category,
        #[case] label: &str,
        #[case] status: Status,
        #[case] section: &str,
    ) {
        let c = analyse(&BC39, &[6, 7], &[register()]);
        let i = item(&c, cat, label);
        assert_eq!((i.status, i.section.as_str()), (status, section));
        assert_eq!(i.cases.is_empty(), status != Status::Covered);
    }

    #[test]
    fn every_table_row_is_an_item() {
        let c = analyse(&BC39, &[], &[]);
        let forms: usize = BC39.commands.iter().map(|c| c.forms.len()).sum();
        let s = c.summary();
        assert_eq!(s.forms.total, forms);
        assert_eq!(s.commands.total, BC39.commands.len());
        assert_eq!(s.urcs.total, BC39.urcs.len());
        assert_eq!(s.events.total, BC39.events.len());
        assert_eq!(s.result_codes.total, BC39.result_codes.len());
        assert_eq!(s.error_codes.total, BC39.errors.len());
        assert_eq!((s.forms.covered, s.not_in_manual, s.complete), (0, 0, false));
    }

    #[test]
    fn what_the_manual_does_not_list_is_reported_with_its_cases() {
        let c =
            analyse(&BC39, &[6], &[register(), case("x/again", &[(Dir::UeToTe, Some(Class::Urc), "+MIPLEVENT:0,77")])]);
        assert_eq!(c.not_in_manual.len(), 1, "{:?}", c.not_in_manual);
        let u = &c.not_in_manual[0];
        assert_eq!((u.category, u.label.as_str()), (Category::Event, "77"));
        assert_eq!(u.cases, ["register/open", "x/again"]);
        assert!(c.summary().line("bc39").ends_with("; 1 seen but not in the manual"), "{}", c.summary().line("bc39"));
    }

    #[test]
    fn a_case_is_listed_once_per_item() {
        let twice = case(
            "x/twice",
            &[(Dir::UeToTe, Some(Class::Urc), "+MIPLEVENT: 0,6"), (Dir::UeToTe, Some(Class::Urc), "+MIPLEVENT: 0,6")],
        );
        let c = analyse(&BC39, &[], &[twice.clone(), twice]);
        assert_eq!(item(&c, Category::Event, "6").cases, ["x/twice"]);
    }

    #[test]
    fn a_command_is_covered_by_any_of_its_forms() {
        let c = analyse(&BC39, &[], &[register()]);
        let s = c.summary();
        assert_eq!(s.commands.covered, 2, "OPEN and CLOSE");
        assert!(!c.uncovered_commands().contains(&"+MIPLOPEN"));
        let goals: Vec<&str> = c.missing_goals().iter().map(|i| i.label.as_str()).collect();
        assert!(goals.contains(&"AT+MIPLCREATE") && !goals.contains(&"AT+MIPLOPEN=?"), "{goals:?}");
    }

    proptest::proptest! {
        /// Transcripts edited by hand, cut short or from another tool: never a panic.
        #[test]
        fn odd_transcripts_do_not_panic(
            rows in proptest::collection::vec(
                "( *[0-9.]{0,6}s)?(TE→UE|UE→TE|UE→PF)? ?(urc|final|info|echo)? *\
                 (AT|\\+MIPLEVENT: ?|\\+MIPL[A-Z]{0,8}[:=]|\\+C[IM][SE] ERROR: ?)?[-0-9,?=\"{}#a-z\\\\ ]{0,24}",
                0..8,
            )
        ) {
            let case = CaseLines { id: "x/odd".into(), spec: String::new(), lines: lines::parse_snapshot(&rows.join("\n")) };
            for d in Dialect::all() {
                let c = analyse(d, &[6], std::slice::from_ref(&case));
                let _ = (render::text(&c, true), render::markdown(&c), render::json(&[c]));
            }
        }
    }

    #[test]
    fn complete_needs_every_command_urc_and_event_of_the_manual() {
        let rows_without = |skipped: Option<u16>| {
            let mut rows: Vec<(Dir, Option<Class>, String)> = Vec::new();
            for c in M5310A.commands {
                rows.push((Dir::TeToUe, None, form_label(c.name, c.forms[0]).replace('…', "0")));
            }
            for u in M5310A.urcs {
                rows.push((Dir::UeToTe, Some(Class::Urc), format!("{}: 0,2", u.name)));
            }
            for e in M5310A.events.iter().filter(|e| Some(e.code) != skipped) {
                rows.push((Dir::UeToTe, Some(Class::Urc), format!("+MIPLEVENT:0,{}", e.code)));
            }
            rows
        };
        let lines = |rows: &[(Dir, Option<Class>, String)]| {
            let rows: Vec<(Dir, Option<Class>, &str)> = rows.iter().map(|(d, c, t)| (*d, *c, t.as_str())).collect();
            case("x/all", &rows)
        };
        let all = lines(&rows_without(None));
        assert!(analyse(&M5310A, &[2], &[all]).summary().complete, "seen is enough, produced or not");
        let c = analyse(&M5310A, &[2], &[lines(&rows_without(Some(3)))]);
        assert!(!c.summary().complete, "event 3 is in the manual but was not seen");
        assert_eq!(c.missing_goals().iter().map(|i| i.label.as_str()).collect::<Vec<_>>(), ["3"]);
    }
}
