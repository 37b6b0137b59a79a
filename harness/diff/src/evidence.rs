//! What one run's transcripts show about each command: how often it was sent, what it was answered
//! (`OK`, `+CIS ERROR: 601`), which `+MIPLEVENT` codes came after it (before the next command),
//! whether it went out before registration (`AT+MIPLOPEN`), and whether RAI was asked for through
//! a `<raiMode>` argument or through `<flag>` bits. The matrix compares these between the runs.

use super::volatile::display;
use miplcheck_at::dialect::Rai;
use miplcheck_at::syntax::Command;
use miplcheck_at::{Dialect, FinalResult};
use miplcheck_record::{Class, Dir, RunRecord, Verdict};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommandUse {
    pub sent: usize,
    /// The final result codes, as `OK`, `ERROR`, `+CME ERROR: 3`.
    pub finals: BTreeMap<String, usize>,
    /// `+MIPLEVENT` codes reported after it and before the next command.
    pub events: BTreeMap<u16, usize>,
    /// Sent before the case's first `AT+MIPLOPEN`.
    pub before_open: usize,
    /// Sent with a non-zero RAI parameter (BC39's `<raiMode>`).
    pub rai_param: usize,
    /// Sent with RAI bits in the parameter that carries them (M5310-A's `<flag>`, 0x200 / 0x400).
    pub rai_flag: usize,
}

impl CommandUse {
    pub fn answered_ok(&self) -> bool {
        self.finals.get("OK").is_some_and(|n| *n > 0)
    }

    /// The error results only.
    pub fn errors(&self) -> impl Iterator<Item = (&String, &usize)> {
        self.finals.iter().filter(|(k, _)| k.as_str() != "OK")
    }
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    /// By command name (`+MIPLOPEN`), as the table spells it when it lists it.
    pub commands: BTreeMap<String, CommandUse>,
    /// Every `+MIPLEVENT` code the modem reported.
    pub events: BTreeMap<u16, usize>,
    /// Every error result, with the commands that got it.
    pub errors: BTreeMap<String, (usize, BTreeSet<String>)>,
}

impl Evidence {
    /// Reads the cases that ran, or only those named in `scope` (`suite/case`).
    pub fn of(run: &RunRecord, dialect: Option<&Dialect>, scope: Option<&BTreeSet<String>>) -> Self {
        let mut ev = Evidence::default();
        let in_scope = |c: &&miplcheck_record::CaseRecord| {
            c.verdict != Verdict::Skipped && scope.is_none_or(|s| s.contains(&format!("{}/{}", c.suite, c.case)))
        };
        for case in run.cases.iter().filter(in_scope) {
            let mut in_flight: Option<String> = None;
            let mut opened = false;
            for line in &case.transcript {
                let text = display(&line.text);
                match line.dir {
                    Some(Dir::TeToUe) => {
                        let Ok(cmd) = Command::parse(&text) else { continue };
                        if cmd.name.is_empty() {
                            in_flight = None;
                            continue;
                        }
                        let name = dialect
                            .and_then(|d| d.command(&cmd.name))
                            .map(|s| s.name.to_string())
                            .unwrap_or_else(|| cmd.name.to_ascii_uppercase());
                        let (rai_param, rai_flag) = rai(dialect, &text);
                        let u = ev.commands.entry(name.clone()).or_default();
                        u.sent += 1;
                        u.before_open += usize::from(!opened);
                        u.rai_param += usize::from(rai_param);
                        u.rai_flag += usize::from(rai_flag);
                        opened |= name == "+MIPLOPEN";
                        in_flight = Some(name);
                    }
                    Some(Dir::UeToTe) if line.class == Some(Class::Final) => {
                        let Some(f) = FinalResult::parse(&text) else { continue };
                        let label = f.to_string();
                        if !f.is_ok() {
                            let e = ev.errors.entry(label.clone()).or_default();
                            e.0 += 1;
                            e.1.extend(in_flight.clone());
                        }
                        if let Some(u) = in_flight.as_ref().and_then(|n| ev.commands.get_mut(n)) {
                            *u.finals.entry(label).or_default() += 1;
                        }
                    }
                    Some(Dir::UeToTe) if line.class != Some(Class::Echo) => {
                        let Some(code) = event_code(&text) else { continue };
                        *ev.events.entry(code).or_default() += 1;
                        if let Some(u) = in_flight.as_ref().and_then(|n| ev.commands.get_mut(n)) {
                            *u.events.entry(code).or_default() += 1;
                        }
                    }
                    _ => {}
                }
            }
        }
        ev
    }
}

pub use miplcheck_at::syntax::event_code;

/// Whether a command line asks for RAI, through a parameter of its own (BC39's `<raiMode>`) or
/// through bits of another (M5310-A's `<flag>`), as the dialect's table says.
fn rai(dialect: Option<&Dialect>, line: &str) -> (bool, bool) {
    let Some(d) = dialect else { return (false, false) };
    let Some(bound) = d.read_command(line).ok().and_then(|i| i.bound) else {
        return (false, false);
    };
    let asks = bound.get(d.rai.param()).and_then(|a| int_or_hex(a.value())).is_some_and(|v| d.rai.asks(v));
    match d.rai {
        Rai::Param(_) => (asks, false),
        Rai::FlagBits { .. } => (false, asks),
    }
}

fn int_or_hex(v: &str) -> Option<i64> {
    let v = v.trim();
    match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(h) => i64::from_str_radix(h, 16).ok(),
        None => v.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{case, entry, exchange, run};
    use miplcheck_record::{Class, Dir, Verdict};

    #[test]
    fn answers_events_and_rai_are_read_per_command() {
        let mut t = exchange("setup 1", "AT+MIPLDISCOVERRSP=0,3200,1,14,\"5500;5501;5750\"", &["OK"]);
        t.extend(exchange("step 1", "AT+MIPLOPEN=0,300,30", &["OK"]));
        t.push(entry(Dir::UeToTe, Some(Class::Urc), "\\r\\n+MIPLEVENT:0,6\\r\\n"));
        t.extend(exchange("step 2", "AT+MIPLNOTIFY=0,0,3200,0,5750,1,4,\"abcd\",0,0x400", &["OK"]));
        t.extend(exchange("step 3", "AT+MIPLOPEN=0,300,30", &["+CIS ERROR:602"]));
        let r = run("m", "m5310a", vec![case("m5310a-data", "x", Verdict::Passed, t, vec![])]);
        let e = Evidence::of(&r, Dialect::by_name("m5310a"), None);
        let open = &e.commands["+MIPLOPEN"];
        assert_eq!(open.sent, 2);
        assert_eq!(open.finals.get("+CIS ERROR: 602"), Some(&1));
        assert_eq!(open.events.get(&6), Some(&1));
        assert_eq!(e.commands["+MIPLDISCOVERRSP"].before_open, 1);
        assert_eq!(e.commands["+MIPLNOTIFY"].rai_flag, 1);
        assert_eq!(e.errors["+CIS ERROR: 602"].1.iter().collect::<Vec<_>>(), vec!["+MIPLOPEN"]);
    }

    #[test]
    fn skipped_cases_and_odd_lines_are_ignored() {
        let t = vec![entry(Dir::UeToTe, Some(Class::Urc), "+MIPLEVENT: x"), entry(Dir::TeToUe, None, "garbage")];
        let r = run(
            "b",
            "bc39",
            vec![case("s", "c", Verdict::Passed, t.clone(), vec![]), case("s", "d", Verdict::Skipped, t, vec![])],
        );
        let e = Evidence::of(&r, None, None);
        assert!(e.commands.is_empty() && e.events.is_empty());
        let t = exchange("step 1", "AT+MIPLOPEN=0,300,30", &["OK"]);
        let r = run(
            "b",
            "bc39",
            vec![case("s", "c", Verdict::Passed, t.clone(), vec![]), case("s", "d", Verdict::Passed, t, vec![])],
        );
        let scope = BTreeSet::from(["s/d".to_string()]);
        assert_eq!(Evidence::of(&r, None, Some(&scope)).commands["+MIPLOPEN"].sent, 1);
    }
}
