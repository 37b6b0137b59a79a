//! Dialects: the documented command and URC sets of one module family, as data.
//!
//! A new dialect is a new file here with one [`Dialect`] value; nothing else in the harness needs an
//! `if dialect == …`. Each entry cites its manual section so reports and coverage can point there.

mod basic;
mod bc39;
mod m5310a;

use crate::result::FinalResult;
use crate::signature::{Bound, Signature};
use crate::syntax::{Command, Form, Response};
use std::time::Duration;

pub use bc39::BC39;
pub use m5310a::M5310A;

/// How a dialect reports errors in its final result codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorFamily {
    /// `+CME ERROR: <n>` (BC39 §6); plain `ERROR` when `AT+CMEE=0`.
    Cme,
    /// `+CIS ERROR: <n>` (M5310-A §3).
    Cis,
}

impl ErrorFamily {
    /// `+CME ERROR`: how the family's final result codes start, before `: <n>`.
    pub fn prefix(self) -> &'static str {
        match self {
            ErrorFamily::Cme => "+CME ERROR",
            ErrorFamily::Cis => "+CIS ERROR",
        }
    }

    /// The family and code of a numbered error result (`+CIS ERROR: 601`), if it is one.
    pub fn of(result: &FinalResult) -> Option<(ErrorFamily, u16)> {
        match *result {
            FinalResult::Cme(n) => Some((ErrorFamily::Cme, n)),
            FinalResult::Cis(n) => Some((ErrorFamily::Cis, n)),
            _ => None,
        }
    }

    /// `+CIS ERROR: 601`, as the family prints a code.
    pub fn label(self, code: u16) -> String {
        format!("{}: {code}", self.prefix())
    }
}

#[derive(Debug, Clone, Copy)]
pub struct CommandSpec {
    /// `+MIPLCONFIG`, or `E` for `ATE0/1`.
    pub name: &'static str,
    /// `BC39 §3.2.1`.
    pub section: &'static str,
    pub title: &'static str,
    pub forms: &'static [Form],
    /// The set form's parameters, in the manual's own syntax.
    pub set: Option<&'static str>,
    /// What the test form prints, as the manual shows it.
    pub test_response: Option<&'static str>,
    /// 最大响应时间 (maximum response time) from the manual.
    pub max_response_ms: u64,
}

impl CommandSpec {
    pub fn max_response(&self) -> Duration {
        Duration::from_millis(self.max_response_ms)
    }

    pub fn signature(&self) -> Option<Signature> {
        // The tables are checked by a unit test, so a bad entry cannot reach a user.
        self.set.map(|s| Signature::parse(s).expect("dialect table signature"))
    }
}

#[derive(Debug, Clone, Copy)]
pub struct UrcSpec {
    pub name: &'static str,
    pub section: &'static str,
    pub title: &'static str,
    pub signature: &'static str,
    /// How long the TE has to answer it (BC39 §4.1: 10 s), if it must.
    pub answer_within_s: Option<u64>,
}

impl UrcSpec {
    pub fn signature(&self) -> Signature {
        Signature::parse(self.signature).expect("dialect table signature")
    }
}

/// A numbered code with its meaning: `+MIPLEVENT` events, result codes, error codes.
#[derive(Debug, Clone, Copy)]
pub struct Code {
    pub code: u16,
    pub meaning: &'static str,
    pub section: &'static str,
}

/// How a dialect's commands ask for RAI (release assistance indication, 3GPP TS 24.301): 0x200
/// releases the connection after the uplink, 0x400 after the downlink that answers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rai {
    /// A parameter of its own, non-zero to ask (BC39 §3.2.9–§3.2.16 `<raiMode>`).
    Param(&'static str),
    /// Bits of another parameter (M5310-A §1.9 `<flag>` 0x200 / 0x400).
    FlagBits { param: &'static str, bits: i64 },
}

impl Rai {
    /// The parameter that carries RAI, as the manual names it.
    pub fn param(self) -> &'static str {
        match self {
            Rai::Param(p) | Rai::FlagBits { param: p, .. } => p,
        }
    }

    /// Whether a value of [`Rai::param`] asks for RAI.
    pub fn asks(self, value: i64) -> bool {
        match self {
            Rai::Param(_) => value != 0,
            Rai::FlagBits { bits, .. } => value & bits != 0,
        }
    }
}

/// Words the tables' event meanings use to place an event rather than name it, left out when the
/// meanings of two manuals are compared: M5310-A §4.2's "registered on OneNET" is BC39 §4.7's
/// "registered", M5310-A §5.3.5's "lifetime update succeeded" BC39's "update succeeded".
pub const MEANING_FILLER: &[&str] = &["onenet", "platform", "lifetime"];

/// A word of one manual's event meanings with the word another uses for the same thing: the
/// platform acknowledging a NOTIFY (M5310-A §4.2, event 26) is what BC39 calls its success.
pub const MEANING_SYNONYMS: &[(&str, &str)] = &[("acknowledged", "succeeded")];

/// The standards a case may cite besides a dialect's manual (`3GPP TS 24.301 §5.5.3`).
pub const STANDARDS: &[&str] = &["3GPP TS ", "ITU-T V.250"];

#[derive(Debug)]
pub struct Dialect {
    /// `bc39`, `m5310a`: what rig files and `--dialect` say.
    pub name: &'static str,
    /// `BC39`, `M5310-A`: the module's name as its manual writes it, and what its sections cite.
    pub model: &'static str,
    pub manual: &'static str,
    pub commands: &'static [CommandSpec],
    pub urcs: &'static [UrcSpec],
    pub events: &'static [Code],
    /// `<result>` of the *RSP commands and the CoAP code each maps to, in `meaning`.
    pub result_codes: &'static [Code],
    pub errors: &'static [Code],
    pub error_family: ErrorFamily,
    /// How its commands ask for RAI.
    pub rai: Rai,
    /// Its parameter names (lower case) that another manual spells differently for the same thing,
    /// each with the common (lower-case) name the comparison uses (commands and URCs alike).
    pub synonyms: &'static [(&'static str, &'static str)],
    /// Lines the module prints when it (re)starts — its boot banner and ready line — each exact
    /// or, ending in `*`, a prefix. Seen mid-case, they mean the modem rebooted.
    pub boot: &'static [&'static str],
    /// What `AT+CGMI` prints: the manufacturer as the module names itself.
    pub manufacturer: &'static str,
    /// How the module reboots on command, and what it prints doing so.
    pub restart: &'static Restart,
}

/// A dialect's reset command (a row of its command table) and what the module prints around the
/// reboot: the answer first, then, once it is up again, its banner.
#[derive(Debug)]
pub struct Restart {
    /// Its table row. Kept out of [`Dialect::commands`], which lists the OneNET manual's own
    /// commands (what coverage and comparisons count); [`Dialect::command`] finds it.
    pub spec: CommandSpec,
    /// The command line exactly as the family's AT manual gives it (`AT+QRST=1`): what a rig's
    /// `[reset] command` sends.
    pub command: &'static str,
    /// The line it answers before going down (`OK`, or `REBOOTING`).
    pub answer: &'static str,
    /// The lines printed once the module is up, in order; the last is its ready line. Each must
    /// be a [`Dialect::boot`] line, so a reboot mid-case is recognised.
    pub banner: &'static [&'static str],
    /// A final result code the firmware prints after its banner, closing the reset command that
    /// answered with an information line (Boudica's `OK` after `Neul`).
    pub closing: Option<&'static str>,
    /// From the answer to the banner: the firmware's boot time. Input meanwhile is lost.
    pub boot_ms: u64,
}

impl Restart {
    /// The ready line a rig's `[reset] ready` waits for.
    pub fn ready(&self) -> &'static str {
        self.banner.last().copied().unwrap_or(self.answer)
    }
}

/// A URC table entry, as the dialect files write them.
const fn urc(
    name: &'static str,
    section: &'static str,
    title: &'static str,
    signature: &'static str,
    answer_within_s: Option<u64>,
) -> UrcSpec {
    UrcSpec { name, section, title, signature, answer_within_s }
}

/// An event, result or error code table entry.
const fn code(code: u16, meaning: &'static str, section: &'static str) -> Code {
    Code { code, meaning, section }
}

/// The default response window when a command is not in any table.
pub const DEFAULT_MAX_RESPONSE: Duration = Duration::from_millis(300);

impl Dialect {
    /// Whether `line` is one the module prints when it (re)starts (see [`Dialect::boot`]). Bytes
    /// a rebooting UART garbles before the banner (NUL, `\xFF`, other control characters) and
    /// the line's blanks are ignored.
    pub fn is_boot_line(&self, line: &str) -> bool {
        self.boot_line(line).is_some()
    }

    /// The boot line in `line` without the garbled bytes before it, if `line` is one (see
    /// [`Dialect::is_boot_line`]).
    pub fn boot_line<'l>(&self, line: &'l str) -> Option<&'l str> {
        let line = line.trim_start_matches(|c: char| c.is_control() || c == '\u{FFFD}' || c == '\u{FF}').trim();
        let known = self.boot.iter().any(|b| match b.strip_suffix('*') {
            Some(prefix) => line.starts_with(prefix),
            None => line == *b,
        });
        (known && !line.is_empty()).then_some(line)
    }

    pub fn all() -> [&'static Dialect; 2] {
        [&BC39, &M5310A]
    }

    pub fn by_name(name: &str) -> Option<&'static Dialect> {
        Self::all().into_iter().find(|d| d.name.eq_ignore_ascii_case(name))
    }

    pub fn names() -> Vec<&'static str> {
        Self::all().iter().map(|d| d.name).collect()
    }

    /// `BC39 §`: how a citation of this dialect's manual starts.
    pub fn spec_prefix(&self) -> String {
        format!("{} §", self.model)
    }

    /// Every prefix a case's `spec` may start with: each dialect's manual, then [`STANDARDS`].
    pub fn spec_prefixes() -> Vec<String> {
        Self::all().iter().map(|d| d.spec_prefix()).chain(STANDARDS.iter().map(|s| s.to_string())).collect()
    }

    /// A parameter name in lower case, or the common name when another manual spells it differently.
    pub fn canonical_param(&self, p: &str) -> String {
        let l = p.to_ascii_lowercase();
        self.synonyms.iter().find(|(own, _)| *own == l).map(|(_, common)| common.to_string()).unwrap_or(l)
    }

    pub fn command(&self, name: &str) -> Option<&'static CommandSpec> {
        let restart = std::iter::once(&self.restart.spec);
        self.commands.iter().chain(basic::COMMANDS).chain(restart).find(|c| c.name.eq_ignore_ascii_case(name))
    }

    pub fn urc(&self, name: &str) -> Option<&'static UrcSpec> {
        self.urcs.iter().chain(basic::URCS).find(|u| u.name.eq_ignore_ascii_case(name))
    }

    pub fn urc_prefixes(&self) -> Vec<&'static str> {
        self.urcs.iter().chain(basic::URCS).map(|u| u.name).collect()
    }

    pub fn event(&self, code: u16) -> Option<&'static Code> {
        self.events.iter().find(|e| e.code == code)
    }

    pub fn error(&self, code: u16) -> Option<&'static Code> {
        self.errors.iter().find(|e| e.code == code)
    }

    /// The manual's response window for a command line, or the 300 ms default.
    pub fn max_response(&self, line: &str) -> Duration {
        Command::parse(line)
            .ok()
            .and_then(|c| self.command(&c.name))
            .map(CommandSpec::max_response)
            .unwrap_or(DEFAULT_MAX_RESPONSE)
    }

    /// Reads a command line against this dialect's tables.
    pub fn read_command(&self, line: &str) -> Result<Invocation, Misfit> {
        let cmd = Command::parse(line).map_err(|e| Misfit::Syntax(e.to_string()))?;
        let spec = self.command(&cmd.name).ok_or_else(|| Misfit::UnknownCommand(cmd.name.clone()))?;
        if !spec.forms.contains(&cmd.form) {
            return Err(Misfit::UnsupportedForm { name: cmd.name.clone(), form: cmd.form });
        }
        let bound = match (cmd.form, spec.signature()) {
            (Form::Set, Some(sig)) => Some(sig.bind(&cmd.args).ok_or_else(|| Misfit::Arity {
                name: cmd.name.clone(),
                got: cmd.args.len(),
                signature: sig.text().to_string(),
            })?),
            _ => None,
        };
        Ok(Invocation { spec, command: cmd, bound })
    }

    /// Reads a URC line against this dialect's tables.
    pub fn read_urc(&self, line: &str) -> Result<UrcLine, Misfit> {
        let resp = Response::parse(line).ok_or_else(|| Misfit::Syntax(format!("not a +NAME: line: {line:?}")))?;
        let spec = self.urc(&resp.name).ok_or_else(|| Misfit::UnknownUrc(resp.name.clone()))?;
        let sig = spec.signature();
        let bound = sig.bind(&resp.args).ok_or_else(|| Misfit::Arity {
            name: resp.name.clone(),
            got: resp.args.len(),
            signature: sig.text().to_string(),
        })?;
        Ok(UrcLine { spec, response: resp, bound })
    }
}

/// A command line read against a dialect.
#[derive(Debug, Clone)]
pub struct Invocation {
    pub spec: &'static CommandSpec,
    pub command: Command,
    /// The set form's arguments bound to the manual's names.
    pub bound: Option<Bound>,
}

#[derive(Debug, Clone)]
pub struct UrcLine {
    pub spec: &'static UrcSpec,
    pub response: Response,
    pub bound: Bound,
}

/// Why a line does not fit a dialect.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Misfit {
    #[error("{0}")]
    Syntax(String),
    #[error("{0} is not a command of this dialect")]
    UnknownCommand(String),
    #[error("{0} is not a URC of this dialect")]
    UnknownUrc(String),
    #[error("{name} has no {form} form in this dialect")]
    UnsupportedForm { name: String, form: Form },
    #[error("{name} takes {signature}, got {got} argument(s)")]
    Arity { name: String, got: usize, signature: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boot_lines_are_known_through_garbled_bytes() {
        for d in Dialect::all() {
            assert!(d.is_boot_line("RDY"), "{}", d.name);
            assert!(d.is_boot_line("\u{0}\u{FFFD}Boot: Unsigned"), "{}", d.name);
            assert!(!d.is_boot_line("OK") && !d.is_boot_line("") && !d.is_boot_line("+MIPLREAD: 0,1"), "{}", d.name);
        }
    }

    /// A reboot the emulator performs must be one the runner recognises and a rig can send.
    #[test]
    fn the_restart_is_a_table_command_and_its_banner_boot_lines() {
        for d in Dialect::all() {
            let inv = d.read_command(d.restart.command).unwrap_or_else(|e| panic!("{}: {e}", d.name));
            assert!(std::ptr::eq(inv.spec, &d.restart.spec), "{}", d.name);
            assert!(!d.commands.iter().chain(basic::COMMANDS).any(|c| c.name == d.restart.spec.name), "{}", d.name);
            if let Some(sig) = d.restart.spec.set {
                Signature::parse(sig).unwrap();
            }
            assert!(!d.restart.banner.is_empty(), "{}", d.name);
            for line in d.restart.banner {
                assert!(d.is_boot_line(line), "{}: {line} is not a boot line", d.name);
            }
            assert_eq!(d.restart.ready(), *d.restart.banner.last().unwrap());
            assert!(!d.manufacturer.is_empty());
        }
    }

    #[test]
    fn every_table_signature_parses() {
        for d in Dialect::all() {
            for c in d.commands.iter().chain(basic::COMMANDS) {
                if let Some(s) = c.set {
                    Signature::parse(s).unwrap_or_else(|e| panic!("{} {}: {e}", d.name, c.name));
                    assert!(c.forms.contains(&Form::Set), "{} {} has a signature but no set form", d.name, c.name);
                }
            }
            for u in d.urcs.iter().chain(basic::URCS) {
                Signature::parse(u.signature).unwrap_or_else(|e| panic!("{} {}: {e}", d.name, u.name));
            }
        }
    }

    #[test]
    fn names_are_unique_within_a_dialect() {
        for d in Dialect::all() {
            let mut names: Vec<_> = d.commands.iter().chain(basic::COMMANDS).map(|c| c.name).collect();
            names.sort_unstable();
            let before = names.len();
            names.dedup();
            assert_eq!(before, names.len(), "{} lists a command twice", d.name);
        }
    }

    #[test]
    fn windows_come_from_the_manual() {
        assert_eq!(BC39.max_response("AT+MIPLDELETE=0"), Duration::from_secs(3));
        assert_eq!(BC39.max_response("AT+MIPLCLOSE=0"), Duration::from_secs(3));
        assert_eq!(BC39.max_response("AT+MIPLCONFIG?"), Duration::from_millis(300));
        assert_eq!(BC39.max_response("AT+UNKNOWN"), DEFAULT_MAX_RESPONSE);
    }

    #[test]
    fn every_dialect_has_a_model_its_sections_start_with() {
        for d in Dialect::all() {
            assert!(!d.model.is_empty(), "{} has no model name", d.name);
            let prefix = d.spec_prefix();
            for s in d.commands.iter().map(|c| c.section).chain(d.urcs.iter().map(|u| u.section)) {
                assert!(s.starts_with(&prefix), "{}: section {s:?} does not start with {prefix:?}", d.name);
            }
            for c in d.events.iter().chain(d.result_codes).chain(d.errors) {
                assert!(
                    c.section.starts_with(&prefix),
                    "{}: section {:?} does not start with {prefix:?}",
                    d.name,
                    c.section
                );
            }
        }
        assert_eq!(BC39.spec_prefix(), "BC39 §");
        assert_eq!(M5310A.spec_prefix(), "M5310-A §");
        assert_eq!(Dialect::spec_prefixes(), ["BC39 §", "M5310-A §", "3GPP TS ", "ITU-T V.250"]);
    }

    #[test]
    fn rai_is_as_the_manuals_say() {
        // BC39 §3.2.9–§3.2.16: a trailing `<raiMode>` on every *RSP, NOTIFY and UPDATE.
        assert_eq!(BC39.rai, Rai::Param("raiMode"));
        for name in [
            "+MIPLDISCOVERRSP",
            "+MIPLOBSERVERSP",
            "+MIPLREADRSP",
            "+MIPLWRITERSP",
            "+MIPLEXECUTERSP",
            "+MIPLPARAMETERRSP",
            "+MIPLNOTIFY",
            "+MIPLUPDATE",
        ] {
            let c = BC39.command(name).unwrap();
            assert!(c.section.starts_with("BC39 §3.2."), "{name}: {}", c.section);
            assert_eq!(c.signature().unwrap().params().last().copied(), Some("raiMode"), "{name}");
        }
        // M5310-A §1.9: no RAI parameter; `<flag>` 0x200 / 0x400 carry it.
        assert_eq!(M5310A.rai, Rai::FlagBits { param: "flag", bits: 0x200 | 0x400 });
        let notify = M5310A.command("+MIPLNOTIFY").unwrap();
        assert_eq!(notify.section, "M5310-A §1.9");
        assert!(notify.signature().unwrap().params().contains(&"flag"));
        assert!(M5310A.commands.iter().filter_map(|c| c.signature()).all(|s| !s.params().contains(&"raiMode")));
        assert!(M5310A.rai.asks(0x400) && M5310A.rai.asks(0x200) && !M5310A.rai.asks(1) && !M5310A.rai.asks(0x100));
        assert!(BC39.rai.asks(0x400) && !BC39.rai.asks(0));
    }

    #[test]
    fn synonyms_map_own_parameters_to_common_names() {
        assert_eq!(M5310A.canonical_param("mid"), "msgid");
        assert_eq!(BC39.canonical_param("msgId"), "msgid");
        assert_eq!(M5310A.canonical_param("objid"), BC39.canonical_param("objId"));
        let params = |d: &Dialect| -> Vec<String> {
            d.commands
                .iter()
                .filter_map(|c| c.signature())
                .chain(d.urcs.iter().map(|u| u.signature()))
                .flat_map(|s| s.params().iter().map(|p| d.canonical_param(p)).collect::<Vec<_>>())
                .collect()
        };
        for d in Dialect::all() {
            let own_params: Vec<String> = d
                .commands
                .iter()
                .filter_map(|c| c.signature())
                .chain(d.urcs.iter().map(|u| u.signature()))
                .flat_map(|s| s.params().iter().map(|p| p.to_ascii_lowercase()).collect::<Vec<_>>())
                .collect();
            for (own, common) in d.synonyms {
                assert_eq!(*own, own.to_ascii_lowercase(), "{}: synonyms are lower case", d.name);
                assert!(own_params.contains(&own.to_string()), "{}: {own} is not a parameter of its tables", d.name);
                // A synonym pairs two manuals: some other dialect calls it by the common name.
                let elsewhere = Dialect::all()
                    .into_iter()
                    .filter(|o| o.name != d.name)
                    .any(|o| params(o).contains(&common.to_string()));
                assert!(elsewhere, "{}: no other dialect has a parameter {common}", d.name);
            }
        }
    }

    #[test]
    fn error_families_print_as_final_results_do() {
        for (f, r) in [(ErrorFamily::Cme, FinalResult::Cme(50)), (ErrorFamily::Cis, FinalResult::Cis(601))] {
            let (family, code) = ErrorFamily::of(&r).unwrap();
            assert_eq!(family, f);
            assert_eq!(f.label(code), r.to_string());
        }
        assert_eq!(ErrorFamily::of(&FinalResult::Ok), None);
        assert_eq!(BC39.error_family.prefix(), "+CME ERROR");
        assert_eq!(M5310A.error_family.prefix(), "+CIS ERROR");
    }

    #[test]
    fn meaning_words_are_words_of_the_tables() {
        let words = |d: &Dialect| -> Vec<String> {
            d.events
                .iter()
                .flat_map(|e| {
                    e.meaning.split(|c: char| !c.is_alphanumeric()).map(str::to_lowercase).collect::<Vec<_>>()
                })
                .collect()
        };
        let all: Vec<String> = Dialect::all().into_iter().flat_map(words).collect();
        for w in MEANING_FILLER {
            assert!(all.contains(&w.to_string()), "{w} is in no event meaning");
        }
        for (own, common) in MEANING_SYNONYMS {
            let holders: Vec<_> = Dialect::all().into_iter().filter(|d| words(d).contains(&own.to_string())).collect();
            assert!(!holders.is_empty(), "{own} is in no event meaning");
            let elsewhere = Dialect::all()
                .into_iter()
                .filter(|d| holders.iter().all(|h| h.name != d.name))
                .any(|d| words(d).contains(&common.to_string()));
            assert!(elsewhere, "{common} is in no other manual's event meanings");
        }
    }

    #[test]
    fn lookups_by_name() {
        assert_eq!(Dialect::by_name("BC39").unwrap().name, "bc39");
        assert!(Dialect::by_name("m5310a").is_some());
        assert!(Dialect::by_name("sim800").is_none());
    }
}
