//! What a recorded session said, made into step texts that hold nothing volatile and nothing
//! secret: a value first seen in an answer or URC and used again by a later command becomes a
//! capture (`{ref}`, `{msgid}`, named after the manual's parameter) and `${…}` where it is used;
//! a message ID nobody answers matches as `{_}`; the mock platform's address becomes
//! `${platform.host}`/`${platform.port}`; the rig's secrets `${secret.name}` in commands and
//! `{_}` in answers; the IMEI and IMSI the patterns basics.yaml uses (`{imei:\d{15}}`), captured
//! first by an `AT+CGSN=1` / `AT+CIMI` the case is given when a command carries them.
//! Pure: no I/O, no clocks.

use super::session::{Exchange, Said};
use miplcheck_at::syntax::{Arg, Command, Form, Response};
use miplcheck_at::Dialect;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// What the recorder knows that a case must not spell out.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// The mock platform's host and port as the MCU was told them.
    pub platform: Option<(String, u16)>,
    /// The rig's secrets by name.
    pub secrets: BTreeMap<String, String>,
    pub imei: Option<String>,
    pub imsi: Option<String>,
}

/// A step's texts, ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Send {
        template: String,
        expect: Vec<String>,
        /// The final result code's pattern; `None` for `OK`.
        fin: Option<String>,
        /// The command's name for the dialect table (`+MIPLOPEN`).
        name: String,
        latency: Duration,
    },
    Urc {
        pattern: String,
        /// How long after the last command it came.
        after: Duration,
    },
}

const IMEI: &str = r"\d{15}";
const IMSI: &str = r"\d{6,15}";

/// A literal piece of a pattern: braces doubled.
fn literal(s: &str) -> String {
    s.replace('{', "{{").replace('}', "}}")
}

/// Whether a parameter is an identifier the modem hands out afresh (`<ref>`, `<msgId>`): what is
/// captured. An object, instance or resource ID comes from the MCU or the platform's request and
/// is the same in every run, so it stays literal and is checked.
fn volatile(name: &str) -> bool {
    name == "ref" || name == "msgid"
}

/// A command's arguments bound to the dialect's (canonical) parameter names, where the set form
/// binds; else unnamed.
fn named_args(dialect: &Dialect, c: &Command) -> Vec<(Option<String>, Arg)> {
    let bound = (c.form == Form::Set)
        .then(|| dialect.command(&c.name).and_then(|s| s.signature()).and_then(|s| s.bind(&c.args)))
        .flatten();
    match bound {
        Some(b) => b.pairs.into_iter().map(|(n, a)| (Some(dialect.canonical_param(&n)), a)).collect(),
        None => c.args.iter().map(|a| (None, a.clone())).collect(),
    }
}

struct Commands {
    /// Per exchange index in `said`: its named arguments.
    args: BTreeMap<usize, Vec<(Option<String>, Arg)>>,
}

impl Commands {
    /// The parameter name under which a command after `i` uses `value`, if one does.
    fn later_use(&self, i: usize, value: &str) -> Option<&str> {
        self.args.range(i + 1..).flat_map(|(_, a)| a).find_map(|(n, a)| match n {
            Some(n) if a.value() == value && !value.is_empty() => Some(n.as_str()),
            _ => None,
        })
    }

    /// Whether a command after `i` uses `value` under `name`.
    fn used_later(&self, i: usize, name: &str, value: &str) -> bool {
        self.args.range(i + 1..).flat_map(|(_, a)| a).any(|(n, a)| n.as_deref() == Some(name) && a.value() == value)
    }

    /// Whether a command before `i` gave `value` itself under `name` (an object ID the MCU added is
    /// its own, not the modem's).
    fn given_before(&self, i: usize, name: &str, value: &str) -> bool {
        self.args.range(..i).flat_map(|(_, a)| a).any(|(n, a)| n.as_deref() == Some(name) && a.value() == value)
    }
}

/// The session's steps, and the identity captures the case must begin with.
pub fn steps(dialect: &Dialect, said: &[Said], known: &Known) -> Vec<Step> {
    let commands = Commands {
        args: said
            .iter()
            .enumerate()
            .filter_map(|(i, s)| match s {
                Said::Command(x) => Command::parse(&x.line).ok().map(|c| (i, named_args(dialect, &c))),
                Said::Urc { .. } => None,
            })
            .collect(),
    };
    let mut g = Generaliser { dialect, known, commands: &commands, vars: BTreeMap::new(), needs: BTreeSet::new() };
    let mut out: Vec<Step> = Vec::new();
    for (i, s) in said.iter().enumerate() {
        match s {
            Said::Command(x) => {
                let Some((fin, at)) = &x.fin else { continue };
                let expect = x.info.iter().map(|l| g.answer(i, l, None)).collect();
                let fin = (fin != "OK").then(|| literal(fin));
                let name = Command::parse(&x.line).map(|c| c.name).unwrap_or_default();
                out.push(Step::Send {
                    template: g.command(i, x),
                    expect,
                    fin,
                    name,
                    latency: at.saturating_sub(x.sent),
                });
            }
            Said::Urc { at, line, since } => {
                let spec = Response::parse(line).and_then(|r| dialect.urc(&r.name));
                let pattern = g.answer(i, line, spec.map(|s| s.signature()));
                out.push(Step::Urc { pattern, after: at.saturating_sub(*since) });
            }
        }
    }
    // Identities a command carried before any answer showed them: asked first, as basics.yaml does.
    let mut first = Vec::new();
    for (need, command, pattern) in
        [("imei", "AT+CGSN=1", "+CGSN: {imei:\\d{15}}"), ("imsi", "AT+CIMI", "{imsi:\\d{6,15}}")]
    {
        if g.needs.contains(need) {
            let name = Command::parse(command).map(|c| c.name).unwrap_or_default();
            first.push(Step::Send {
                template: command.into(),
                expect: vec![pattern.into()],
                fin: None,
                name,
                latency: Duration::ZERO,
            });
        }
    }
    first.extend(out);
    first
}

struct Generaliser<'a> {
    dialect: &'a Dialect,
    known: &'a Known,
    commands: &'a Commands,
    /// Captured so far, by variable name (`msgid`, `msgid_2`): the value a later `${name}` stands for.
    vars: BTreeMap<String, String>,
    /// Identities used by a command before an answer captured them.
    needs: BTreeSet<&'static str>,
}

impl<'a> Generaliser<'a> {
    fn identities(&self) -> [(&'static str, Option<&'a str>); 2] {
        [("imei", self.known.imei.as_deref()), ("imsi", self.known.imsi.as_deref())]
    }

    /// The command line as a template.
    fn command(&mut self, i: usize, x: &Exchange) -> String {
        let mut line = x.line.clone();
        if let (Ok(c), Some(args)) = (Command::parse(&x.line), self.commands.args.get(&i)) {
            let mut changed = false;
            let mut texts = Vec::new();
            for (name, a) in args {
                let v = a.value();
                let by_var = name.as_deref().and_then(|n| self.var_for(n, v));
                let by_platform = self.known.platform.as_ref().and_then(|(h, p)| {
                    if v == p.to_string() {
                        Some("platform.port".to_string())
                    } else {
                        (v == h).then(|| "platform.host".to_string())
                    }
                });
                match by_var.or(by_platform) {
                    Some(n) if !v.is_empty() => {
                        changed = true;
                        texts.push(if a.quoted { format!("\"${{{n}}}\"") } else { format!("${{{n}}}") });
                    }
                    _ => texts.push(a.raw.clone()),
                }
            }
            if changed {
                line = format!("AT{}={}", c.name, texts.join(","));
            }
        }
        for (name, value) in &self.known.secrets {
            if !value.is_empty() {
                line = line.replace(value.as_str(), &format!("${{secret.{name}}}"));
            }
        }
        for (name, value) in self.identities() {
            if let Some(v) = value.filter(|v| line.contains(*v)) {
                if !self.vars.contains_key(name) {
                    self.needs.insert(name);
                    self.vars.insert(name.to_string(), v.to_string());
                }
                line = line.replace(v, &format!("${{{name}}}"));
            }
        }
        line
    }

    /// An information line or URC as a pattern; `signature` names a URC's parameters.
    fn answer(&mut self, i: usize, line: &str, signature: Option<miplcheck_at::signature::Signature>) -> String {
        if let Some(whole) = self.identity(line) {
            return whole;
        }
        let Some(r) = Response::parse(line) else {
            return self.hide(&literal(line));
        };
        let names: Vec<Option<String>> = match signature.and_then(|s| s.bind(&r.args)) {
            Some(b) => b.pairs.into_iter().map(|(n, _)| Some(self.dialect.canonical_param(&n))).collect(),
            None => vec![None; r.args.len()],
        };
        let mut in_line = BTreeSet::new();
        let mut parts = Vec::new();
        for (a, name) in r.args.iter().zip(names) {
            parts.push(self.field(i, a, name.as_deref(), &mut in_line));
        }
        let sep = if r.separator == ':' { ": ".to_string() } else { r.separator.to_string() };
        format!("{}{sep}{}", literal(&r.name), parts.join(","))
    }

    /// One field of an answer as a pattern piece.
    fn field(&mut self, i: usize, a: &Arg, name: Option<&str>, in_line: &mut BTreeSet<String>) -> String {
        let v = a.value();
        if let Some(p) = self.identity(v) {
            return if a.quoted { format!("\"{p}\"") } else { p };
        }
        if self.known.secrets.values().any(|s| !s.is_empty() && s == v) {
            return "{_}".into();
        }
        if let Some(known) = name.and_then(|n| self.var_for(n, v)) {
            return format!("${{{known}}}");
        }
        let reused = self.commands.later_use(i, v).map(str::to_string);
        let capture = match (name, reused) {
            // A URC's field, used again under its own name.
            (Some(n), Some(u)) if n == u && volatile(n) && !self.commands.given_before(i, n, v) => Some(n.to_string()),
            // An information line's field, used again as an identifier.
            (None, Some(u)) if volatile(&u) && !self.commands.given_before(i, &u, v) => Some(u),
            _ => None,
        };
        // A message ID is handed out afresh every time: captured even when no one answers it, so
        // the snapshot names it rather than holding this session's number.
        let capture = capture.or_else(|| name.filter(|n| *n == "msgid").map(str::to_string));
        match capture {
            Some(base) => {
                let n = self.fresh(i, &base, in_line);
                in_line.insert(n.clone());
                self.vars.insert(n.clone(), v.to_string());
                format!("{{{n}}}")
            }
            None => self.hide(&literal(&a.raw)),
        }
    }

    /// The variable holding `value` that was captured as `base` (`msgid`, `msgid_2`, …), if any.
    fn var_for(&self, base: &str, value: &str) -> Option<String> {
        self.vars
            .iter()
            .filter(|(k, v)| *v == value && (*k == base || k.strip_prefix(base).is_some_and(|r| r.starts_with('_'))))
            .map(|(k, _)| k.clone())
            .next()
    }

    /// A name for a new capture of `base` after `i`: `base` itself unless it holds a value a later
    /// command still uses (two requests pending at once), else `base_2`, `base_3`, …
    fn fresh(&self, i: usize, base: &str, in_line: &BTreeSet<String>) -> String {
        let free = |n: &String| {
            !in_line.contains(n) && self.vars.get(n).is_none_or(|old| !self.commands.used_later(i, base, old))
        };
        std::iter::once(base.to_string()).chain((2..).map(|k| format!("{base}_{k}"))).find(free).expect("unbounded")
    }

    /// A whole value that is the IMEI or IMSI: captured the first time, compared after.
    fn identity(&mut self, v: &str) -> Option<String> {
        let (name, _) = self.identities().into_iter().find(|(_, id)| id.is_some_and(|id| id == v.trim()))?;
        Some(match self.vars.get(name) {
            Some(known) if known == v.trim() => format!("${{{name}}}"),
            _ => {
                self.vars.insert(name.to_string(), v.trim().to_string());
                format!("{{{name}:{}}}", if name == "imei" { IMEI } else { IMSI })
            }
        })
    }

    /// A literal with any identity or secret inside it matched instead of spelled out.
    fn hide(&self, text: &str) -> String {
        let mut s = text.to_string();
        for (name, value) in self.identities() {
            if let Some(v) = value.filter(|v| v.len() >= 6) {
                s = s.replace(v, &format!("{{_:{}}}", if name == "imei" { IMEI } else { IMSI }));
            }
        }
        for value in self.known.secrets.values().filter(|v| !v.is_empty()) {
            s = s.replace(&literal(value), "{*}");
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::session::Exchange;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    fn cmd(line: &str, info: &[&str]) -> Said {
        Said::Command(Exchange {
            line: line.into(),
            sent: ms(0),
            info: info.iter().map(|s| s.to_string()).collect(),
            fin: Some(("OK".into(), ms(20))),
        })
    }

    fn urc(line: &str) -> Said {
        Said::Urc { at: ms(50), line: line.into(), since: ms(0) }
    }

    fn texts(steps: &[Step]) -> Vec<String> {
        steps
            .iter()
            .map(|s| match s {
                Step::Send { template, expect, .. } => format!("{template} {}", expect.join(" | ")).trim().to_string(),
                Step::Urc { pattern, .. } => format!("urc {pattern}"),
            })
            .collect()
    }

    fn bc39() -> &'static Dialect {
        Dialect::by_name("bc39").unwrap()
    }

    #[test]
    fn the_ref_and_message_ids_become_captures() {
        let said = [
            cmd("AT+MIPLCONFIG=0,127.0.0.1,40123", &[]),
            cmd("AT+MIPLCREATE", &["+MIPLCREATE: 0"]),
            cmd("AT+MIPLADDOBJ=0,3311,2,\"11\",4,2", &[]),
            cmd("AT+MIPLOPEN=0,600,60", &[]),
            urc("+MIPLEVENT: 0,6"),
            urc("+MIPLOBSERVE: 0,69234,1,3311,0,-1"),
            urc("+MIPLDISCOVER: 0,69235,3311"),
            cmd("AT+MIPLDISCOVERRSP=0,69235,1,4,\"5850\"", &[]),
        ];
        let known = Known { platform: Some(("127.0.0.1".into(), 40123)), ..Default::default() };
        let got = texts(&steps(bc39(), &said, &known));
        assert_eq!(
            got,
            [
                "AT+MIPLCONFIG=0,${platform.host},${platform.port}",
                "AT+MIPLCREATE +MIPLCREATE: {ref}",
                "AT+MIPLADDOBJ=${ref},3311,2,\"11\",4,2",
                "AT+MIPLOPEN=${ref},600,60",
                "urc +MIPLEVENT: ${ref},6",
                "urc +MIPLOBSERVE: ${ref},{msgid},1,3311,0,-1",
                "urc +MIPLDISCOVER: ${ref},{msgid},3311",
                "AT+MIPLDISCOVERRSP=${ref},${msgid},1,4,\"5850\"",
            ]
        );
    }

    #[test]
    fn requests_pending_at_once_keep_their_own_captures() {
        let said = [
            cmd("AT+MIPLCREATE", &["+MIPLCREATE: 0"]),
            urc("+MIPLREAD: 0,101,3311,0,5850"),
            urc("+MIPLREAD: 0,102,3311,0,5851"),
            cmd("AT+MIPLREADRSP=0,102,1,3311,0,5851,1,1,0,0,0", &[]),
            cmd("AT+MIPLREADRSP=0,101,1,3311,0,5850,1,1,1,0,0", &[]),
            urc("+MIPLREAD: 0,103,3311,0,5850"),
            cmd("AT+MIPLREADRSP=0,103,1,3311,0,5850,1,1,1,0,0", &[]),
        ];
        let got = texts(&steps(bc39(), &said, &Known::default()));
        assert_eq!(
            got[1..],
            [
                "urc +MIPLREAD: ${ref},{msgid},3311,0,5850",
                "urc +MIPLREAD: ${ref},{msgid_2},3311,0,5851",
                "AT+MIPLREADRSP=${ref},${msgid_2},1,3311,0,5851,1,1,0,0,0",
                "AT+MIPLREADRSP=${ref},${msgid},1,3311,0,5850,1,1,1,0,0",
                "urc +MIPLREAD: ${ref},{msgid},3311,0,5850",
                "AT+MIPLREADRSP=${ref},${msgid},1,3311,0,5850,1,1,1,0,0",
            ]
        );
    }

    #[test]
    fn secrets_and_identities_are_never_spelled_out() {
        let said = [
            cmd("AT+MIPLCONFIG=5,\"FhyvhmgIRQrde4In\"", &[]),
            cmd("AT+MIPLCONFIG=1,\"866971030000001\"", &[]),
            cmd("AT+CGSN=1", &["+CGSN: 866971030000001"]),
            cmd("AT+CIMI", &["460040000000001"]),
            cmd("AT+MIPLCONFIG?", &["+MIPLCONFIG: 5,\"FhyvhmgIRQrde4In\""]),
        ];
        let known = Known {
            secrets: [("psk".to_string(), "FhyvhmgIRQrde4In".to_string())].into_iter().collect(),
            imei: Some("866971030000001".into()),
            imsi: Some("460040000000001".into()),
            ..Default::default()
        };
        let got = texts(&steps(bc39(), &said, &known));
        let all = got.join("\n");
        assert!(
            !all.contains("FhyvhmgIRQrde4In") && !all.contains("866971030000001") && !all.contains("4600400"),
            "{all}"
        );
        assert_eq!(got[0], "AT+CGSN=1 +CGSN: {imei:\\d{15}}", "asked first, since a command carries it");
        assert_eq!(got[1], "AT+MIPLCONFIG=5,\"${secret.psk}\"");
        assert_eq!(got[3], "AT+CGSN=1 +CGSN: ${imei}");
        assert_eq!(got[4], "AT+CIMI {imsi:\\d{6,15}}");
        assert_eq!(got[5], "AT+MIPLCONFIG? +MIPLCONFIG: 5,{_}");
    }

    #[test]
    fn braces_in_answers_are_literal() {
        let got = texts(&steps(bc39(), &[cmd("AT+X", &["{odd}"])], &Known::default()));
        assert_eq!(got, ["AT+X {{odd}}"]);
    }

    #[test]
    fn a_command_with_no_final_code_is_left_out() {
        let said = [Said::Command(Exchange { line: "AT".into(), sent: ms(0), info: vec![], fin: None })];
        assert!(steps(bc39(), &said, &Known::default()).is_empty());
    }
}
