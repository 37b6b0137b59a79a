//! The per-command matrix and the event and error tables: each dialect's manual table
//! (`miplcheck_at::dialect`) set against the other's, and both set against what the runs showed
//! ([`super::evidence`]). Every difference is said in words with the manual sections, because the
//! reader is a firmware engineer porting a driver, not someone reading signatures side by side.

use super::evidence::{CommandUse, Evidence};
use super::latency::at;
use miplcheck_at::dialect::{Code, CommandSpec, ErrorFamily, Rai, MEANING_FILLER, MEANING_SYNONYMS};
use miplcheck_at::signature::Signature;
use miplcheck_at::syntax::Form;
use miplcheck_at::Dialect;
use similar::{capture_diff_slices, Algorithm, DiffOp};
use std::collections::{BTreeMap, BTreeSet};

type Pair<T> = (T, T);

/// What kind of difference a row shows; a row may show several.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// One side has the command, the other does not.
    Support,
    /// Both have it, with different parameters.
    Syntax,
    /// How RAI is asked for: a `<raiMode>` parameter, or not.
    Rai,
    /// `+CME ERROR` on one side, `+CIS ERROR` on the other.
    ErrorFamily,
    /// Different `+MIPLEVENT` codes after it.
    Events,
    /// Different final results (same error family).
    Answers,
}

impl Kind {
    pub fn words(self) -> &'static str {
        match self {
            Kind::Support => "supported on one side only",
            Kind::Syntax => "different syntax",
            Kind::Rai => "RAI encoding",
            Kind::ErrorFamily => "different error family",
            Kind::Events => "different event codes",
            Kind::Answers => "different answers",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    pub kind: Kind,
    pub words: String,
}

/// Whether a side has a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Support {
    /// In the dialect's manual table.
    Manual,
    /// Not in the manual, but answered `OK` in the run.
    RunOnly,
    No,
}

#[derive(Debug, Clone)]
pub struct CommandSide {
    /// The manual's name for the side (`BC39`).
    pub model: String,
    pub spec: Option<&'static CommandSpec>,
    /// None when the run never sent it.
    pub usage: Option<CommandUse>,
    pub dialect: Option<&'static Dialect>,
}

impl CommandSide {
    pub fn support(&self) -> Support {
        if self.spec.is_some() {
            Support::Manual
        } else if self.usage.as_ref().is_some_and(CommandUse::answered_ok) {
            Support::RunOnly
        } else {
            Support::No
        }
    }

    pub fn signature(&self) -> Option<Signature> {
        self.spec.and_then(|s| s.set).and_then(|s| Signature::parse(s).ok())
    }

    /// The dialect's RAI parameter (`raiMode`), when RAI is a parameter of its own there.
    pub fn rai_param(&self) -> Option<&'static str> {
        match self.dialect?.rai {
            Rai::Param(p) => Some(p),
            Rai::FlagBits { .. } => None,
        }
    }

    /// The parameter whose bits carry RAI (`flag`) and those bits, when the dialect does it so.
    pub fn rai_flag(&self) -> Option<(&'static str, i64)> {
        match self.dialect?.rai {
            Rai::FlagBits { param, bits } => Some((param, bits)),
            Rai::Param(_) => None,
        }
    }

    fn has_param(&self, name: &str) -> bool {
        self.signature().is_some_and(|s| s.params().iter().any(|p| p.eq_ignore_ascii_case(name)))
    }

    pub fn has_rai_param(&self) -> bool {
        self.rai_param().is_some_and(|p| self.has_param(p))
    }

    /// `test, query, set`: the forms the manual lists.
    pub fn forms(&self) -> String {
        self.spec.map(|s| s.forms.iter().map(Form::to_string).collect::<Vec<_>>().join(", ")).unwrap_or_default()
    }

    /// The error families this side answered the command with, or the dialect's when no error
    /// was seen.
    pub fn families(&self) -> BTreeSet<String> {
        // A plain ERROR belongs to no family (error reporting off, or not a command at all).
        let seen: BTreeSet<String> = self
            .usage
            .iter()
            .flat_map(|u| u.errors())
            .filter_map(|(label, _)| label.split_once(':').map(|(f, _)| f.trim().to_string()))
            .collect();
        if !seen.is_empty() {
            return seen;
        }
        self.dialect.map(|d| BTreeSet::from([family_name(d.error_family).to_string()])).unwrap_or_default()
    }

    /// `+CME ERROR: 3, 50 ×2; ERROR` — the errors seen for it, codes grouped by family.
    pub fn errors_seen(&self) -> String {
        let Some(u) = &self.usage else { return String::new() };
        let mut by_family: BTreeMap<&str, Vec<(String, usize)>> = BTreeMap::new();
        for (label, n) in u.errors() {
            let (family, code) = label.split_once(':').map(|(f, c)| (f, c.trim())).unwrap_or((label.as_str(), ""));
            by_family.entry(family).or_default().push((code.to_string(), *n));
        }
        by_family
            .into_iter()
            .map(|(family, codes)| {
                let bare: usize = codes.iter().filter(|(c, _)| c.is_empty()).map(|(_, n)| n).sum();
                let codes: Vec<(String, usize)> = codes.into_iter().filter(|(c, _)| !c.is_empty()).collect();
                if codes.is_empty() {
                    counted(std::iter::once((family.to_string(), bare)))
                } else {
                    format!("{family}: {}", counted(codes.into_iter()))
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// `6 ×3, 1` — the event codes seen after it, without their meanings (the event table has them).
    pub fn event_codes(&self) -> String {
        self.usage.as_ref().map(|u| counted(u.events.iter().map(|(c, n)| (c.to_string(), *n)))).unwrap_or_default()
    }

    /// `6 (registered) ×3, 1 (bootstrap started)` — the events seen after it.
    pub fn events_seen(&self) -> String {
        let Some(u) = &self.usage else { return String::new() };
        counted(u.events.iter().map(|(code, n)| (event_words(self.dialect, *code), *n)))
    }
}

fn counted(items: impl Iterator<Item = (String, usize)>) -> String {
    items.map(|(k, n)| if n > 1 { format!("{k} ×{n}") } else { k }).collect::<Vec<_>>().join(", ")
}

/// `6 (registered)`, or the bare code when the table does not list it.
pub fn event_words(d: Option<&Dialect>, code: u16) -> String {
    match d.and_then(|d| d.event(code)) {
        Some(e) => format!("{code} ({})", e.meaning),
        None => format!("{code} (not in the manual)"),
    }
}

pub fn family_name(f: ErrorFamily) -> &'static str {
    f.prefix()
}

/// Where the manual lists its error codes: the section of its first one.
pub fn family_section(d: &Dialect) -> &'static str {
    d.errors.first().map(|e| e.section).unwrap_or(d.manual)
}

#[derive(Debug, Clone)]
pub struct CommandRow {
    /// `+MIPLDISCOVERRSP`.
    pub name: String,
    pub a: CommandSide,
    pub b: CommandSide,
    pub differences: Vec<Difference>,
    /// Worth knowing, but not a difference (forms, renamed parameters).
    pub notes: Vec<String>,
}

impl CommandRow {
    pub fn differs(&self) -> bool {
        !self.differences.is_empty()
    }

    pub fn has(&self, k: Kind) -> bool {
        self.differences.iter().any(|d| d.kind == k)
    }

    /// `AT+MIPLDISCOVERRSP`.
    pub fn at(&self) -> String {
        at(&self.name)
    }
}

/// One row per command in either manual's MIPL table or sent in either run (the 3GPP basics both
/// modules share are left to the latency table).
pub fn commands(models: Pair<&str>, dialects: Pair<Option<&'static Dialect>>, ev: Pair<&Evidence>) -> Vec<CommandRow> {
    let (da, db) = dialects;
    let mut names: Vec<String> = Vec::new();
    let mut add = |n: &str| {
        if !names.iter().any(|x| x.eq_ignore_ascii_case(n)) {
            names.push(n.to_string());
        }
    };
    for d in [da, db].into_iter().flatten() {
        d.commands.iter().for_each(|c| add(c.name));
    }
    let basic = |n: &str| {
        [da, db].into_iter().flatten().any(|d| d.command(n).is_some() && !d.commands.iter().any(|c| c.name == n))
    };
    for n in ev.0.commands.keys().chain(ev.1.commands.keys()) {
        if !basic(n) {
            add(n);
        }
    }
    names
        .into_iter()
        .map(|name| {
            let side = |model: &str, d: Option<&'static Dialect>, e: &Evidence| CommandSide {
                model: model.to_string(),
                spec: d.and_then(|d| d.commands.iter().find(|c| c.name.eq_ignore_ascii_case(&name))),
                usage: e.commands.iter().find(|(k, _)| k.eq_ignore_ascii_case(&name)).map(|(_, u)| u.clone()),
                dialect: d,
            };
            let a = side(models.0, da, ev.0);
            let b = side(models.1, db, ev.1);
            let (differences, notes) = judge(&name, &a, &b);
            CommandRow { name, a, b, differences, notes }
        })
        .collect()
}

fn judge(name: &str, a: &CommandSide, b: &CommandSide) -> (Vec<Difference>, Vec<String>) {
    let mut diffs = Vec::new();
    let mut notes = Vec::new();
    let cmd = at(name);
    let (sa, sb) = (a.support(), b.support());
    match (sa, sb) {
        (Support::No, Support::No) => {}
        (_, Support::No) | (Support::No, _) => {
            let (has, lacks) = if sb == Support::No { (a, b) } else { (b, a) };
            let what = match has.spec {
                Some(s) => format!("{} ({})", s.title, s.section),
                None => "answered OK in its run, though its manual does not list it".into(),
            };
            let mut words = format!("only {} has {cmd}: {what}; {}'s manual does not list it", has.model, lacks.model);
            let refused = lacks.errors_seen();
            if !refused.is_empty() {
                words.push_str(&format!(", and its run answered {refused}"));
            }
            diffs.push(Difference { kind: Kind::Support, words });
        }
        _ => {
            for s in [a, b] {
                if s.support() == Support::RunOnly {
                    notes.push(format!("{} answered {cmd} with OK though its manual does not list it", s.model));
                }
            }
            syntax(&cmd, a, b, &mut diffs, &mut notes);
            rai(&cmd, a, b, &mut diffs);
            families(&cmd, a, b, &mut diffs);
        }
    }
    if let (Some(ua), Some(ub)) = (&a.usage, &b.usage) {
        events_after(&cmd, a, b, ua, ub, &mut diffs);
        let same_family = a.families() == b.families();
        let (ka, kb): (BTreeSet<&String>, BTreeSet<&String>) = (ua.finals.keys().collect(), ub.finals.keys().collect());
        if same_family && sa != Support::No && sb != Support::No && ka != kb {
            let list = |s: &CommandSide, u: &CommandUse| {
                format!("{} {}", s.model, counted(u.finals.iter().map(|(k, n)| (k.clone(), *n))))
            };
            diffs.push(Difference {
                kind: Kind::Answers,
                words: format!("{cmd} was answered differently: {}; {}", list(a, ua), list(b, ub)),
            });
        }
    }
    (diffs, notes)
}

/// `AT+X?`, `AT+X`, as the TE writes a form.
fn form_label(cmd: &str, f: Form) -> String {
    match f {
        Form::Test => format!("{cmd}=?"),
        Form::Query => format!("{cmd}?"),
        Form::Set => format!("{cmd}=…"),
        Form::Exec => cmd.to_string(),
    }
}

/// A parameter name as the comparison reads it: lower case, and the common name where the
/// dialect's manual spells it otherwise (the tables' `synonyms`, `<mid>` for `<msgId>`).
fn canon(side: &CommandSide, p: &str) -> String {
    side.dialect.map(|d| d.canonical_param(p)).unwrap_or_else(|| p.to_ascii_lowercase())
}

fn arities(v: &[usize]) -> String {
    match v {
        [] => "no".into(),
        [one] => one.to_string(),
        [init @ .., last] => format!("{} or {last}", init.iter().map(usize::to_string).collect::<Vec<_>>().join(", ")),
    }
}

fn syntax(cmd: &str, a: &CommandSide, b: &CommandSide, diffs: &mut Vec<Difference>, notes: &mut Vec<String>) {
    if let (Some(sa), Some(sb)) = (a.spec, b.spec) {
        // Test forms are said once for the whole manual (`summary::test_forms`); the set form's
        // absence is a syntax difference below.
        let extra = |x: &CommandSpec, y: &CommandSpec| -> Vec<String> {
            x.forms
                .iter()
                .filter(|f| !matches!(f, Form::Test | Form::Set) && !y.forms.contains(f))
                .map(|f| form_label(cmd, *f))
                .collect()
        };
        for (s, spec, other) in [(a, sa, sb), (b, sb, sa)] {
            let e = extra(spec, other);
            if !e.is_empty() {
                notes.push(format!("only {} has {} ({})", s.model, e.join(", "), spec.section));
            }
        }
    }
    let (Some(ga), Some(gb)) = (a.signature(), b.signature()) else {
        if a.signature().is_some() != b.signature().is_some() && a.spec.is_some() && b.spec.is_some() {
            let (with, without) = if a.signature().is_some() { (a, b) } else { (b, a) };
            let (spec, sig) = (with.spec.map(|s| (s.section, s.title)), with.signature());
            let (section, title) = spec.unwrap_or_default();
            diffs.push(Difference {
                kind: Kind::Syntax,
                words: format!(
                    "{} also has a set form, `{cmd}={}` ({section}: \"{title}\"); {} takes no arguments",
                    with.model,
                    sig.map(|s| s.text().to_string()).unwrap_or_default(),
                    without.model
                ),
            });
        }
        return;
    };
    let (pa, pb) = (ga.params(), gb.params());
    let (ca, cb): (Vec<String>, Vec<String>) =
        (pa.iter().map(|p| canon(a, p)).collect(), pb.iter().map(|p| canon(b, p)).collect());
    if ca == cb && ga.arities() == gb.arities() {
        let renamed: Vec<String> =
            pa.iter().zip(&pb).filter(|(x, y)| x != y).map(|(x, y)| format!("<{x}>/<{y}>")).collect();
        if !renamed.is_empty() {
            notes.push(format!("same parameters, named differently: {}", renamed.join(", ")));
        }
        return;
    }
    let mut parts = Vec::new();
    for op in capture_diff_slices(Algorithm::Myers, &ca, &cb) {
        match op {
            DiffOp::Equal { .. } => {}
            DiffOp::Delete { old_index, old_len, .. } => {
                parts.push(format!("{} only on {}", params(&pa[old_index..old_index + old_len]), a.model))
            }
            DiffOp::Insert { new_index, new_len, .. } => {
                parts.push(format!("{} only on {}", params(&pb[new_index..new_index + new_len]), b.model))
            }
            DiffOp::Replace { old_index, old_len, new_index, new_len } => parts.push(format!(
                "{} on {} where {} has {}",
                params(&pa[old_index..old_index + old_len]),
                a.model,
                b.model,
                params(&pb[new_index..new_index + new_len])
            )),
        }
    }
    if ga.arities() != gb.arities() {
        parts.push(format!(
            "{} takes {} arguments, {} {}",
            a.model,
            arities(&ga.arities()),
            b.model,
            arities(&gb.arities())
        ));
    }
    let mut words = format!(
        "{cmd} is written `{}` on {} and `{}` on {}: {}.",
        ga.text(),
        a.model,
        gb.text(),
        b.model,
        parts.join("; ")
    );
    if let Some(k) = keying(a, &ca, b, &cb) {
        words.push(' ');
        words.push_str(&k);
    }
    diffs.push(Difference { kind: Kind::Syntax, words });
}

fn params(p: &[&str]) -> String {
    p.iter().map(|x| format!("`<{x}>`")).collect::<Vec<_>>().join(", ")
}

/// What the command is keyed by: a request's message ID (one answer per request) or an object
/// ID (one declaration per object), when the two sides differ in that, with where the runs sent
/// it relative to registration.
fn keying(a: &CommandSide, ca: &[String], b: &CommandSide, cb: &[String]) -> Option<String> {
    // The parameter after `<ref>` is what the command addresses.
    let key = |c: &[String]| c.get(1).cloned().unwrap_or_default();
    let (ka, kb) = (key(ca), key(cb));
    if ka == kb {
        return None;
    }
    let say = |s: &CommandSide, k: &str| -> Option<String> {
        let spec = s.spec?;
        let how = match k {
            "msgid" => "answers each request, keyed by the request's message ID",
            "objid" => "declares per object, keyed by the object ID",
            _ => return None,
        };
        Some(format!("{} {how} ({}: \"{}\")", s.model, spec.section, spec.title))
    };
    let mut out = vec![say(a, &ka)?, say(b, &kb)?];
    let when = |s: &CommandSide| {
        s.usage.as_ref().map(|u| {
            let before = u.before_open;
            if before == u.sent {
                format!("{}'s run sent it before registering (AT+MIPLOPEN) every time ({})", s.model, u.sent)
            } else if before == 0 {
                format!("{}'s run sent it after registering every time ({})", s.model, u.sent)
            } else {
                format!("{}'s run sent it before registering {before} of {} times", s.model, u.sent)
            }
        })
    };
    let timing: Vec<String> = [when(a), when(b)].into_iter().flatten().collect();
    if !timing.is_empty() {
        out.push(timing.join("; "));
    }
    Some(format!("{}.", out.join("; ")))
}

fn rai(cmd: &str, a: &CommandSide, b: &CommandSide, diffs: &mut Vec<Difference>) {
    if a.has_rai_param() == b.has_rai_param() {
        return;
    }
    let (with, without) = if a.has_rai_param() { (a, b) } else { (b, a) };
    let param = with.rai_param().unwrap_or_default();
    let flag = without.rai_flag().filter(|(p, _)| without.has_param(p));
    let in_flag = without.usage.as_ref().map(|u| (u.rai_flag, u.sent)).filter(|(n, _)| *n > 0);
    let rest = match (in_flag, flag) {
        (Some((n, sent)), Some((p, bits))) => format!(
            "{} has no such parameter and carries RAI in `<{p}>` ({} set in {n} of {sent} sends in its run)",
            without.model,
            bit_list(bits)
        ),
        (None, Some((p, bits))) => format!(
            "{} has no `<{param}>`, and its run set no RAI bits ({}) in `<{p}>` here",
            without.model,
            bit_list(bits)
        ),
        (_, None) => format!("{} has no RAI parameter on this command", without.model),
    };
    let used = with.usage.as_ref().map(|u| u.rai_param).filter(|n| *n > 0);
    let used = used.map(|n| format!(" ({n} sends with RAI in its run)")).unwrap_or_default();
    diffs.push(Difference {
        kind: Kind::Rai,
        words: format!("RAI on {cmd}: {} asks for it with a `<{param}>` parameter{used}; {rest}.", with.model),
    });
}

/// `0x200 / 0x400`: the bits of a mask, lowest first.
fn bit_list(bits: i64) -> String {
    (0..64).map(|i| 1i64 << i).filter(|b| bits & b != 0).map(|b| format!("{b:#x}")).collect::<Vec<_>>().join(" / ")
}

fn families(cmd: &str, a: &CommandSide, b: &CommandSide, diffs: &mut Vec<Difference>) {
    let (fa, fb) = (a.families(), b.families());
    if fa.is_empty() || fb.is_empty() || fa == fb {
        return;
    }
    let say = |s: &CommandSide, f: &BTreeSet<String>| {
        let fam = f.iter().map(|x| format!("`{x}: <n>`")).collect::<Vec<_>>().join(" / ");
        let section = s.dialect.map(|d| format!(" ({})", family_section(d))).unwrap_or_default();
        let seen = s.errors_seen();
        let seen = if seen.is_empty() { String::new() } else { format!(", seen: {seen}") };
        format!("{} {fam}{section}{seen}", s.model)
    };
    diffs.push(Difference {
        kind: Kind::ErrorFamily,
        words: format!("{cmd} reports errors as {}; {}.", say(a, &fa), say(b, &fb)),
    });
}

fn events_after(
    cmd: &str,
    a: &CommandSide,
    b: &CommandSide,
    ua: &CommandUse,
    ub: &CommandUse,
    diffs: &mut Vec<Difference>,
) {
    let (ka, kb): (BTreeSet<u16>, BTreeSet<u16>) =
        (ua.events.keys().copied().collect(), ub.events.keys().copied().collect());
    let meanings_differ = ka.intersection(&kb).any(|c| {
        let m = |s: &CommandSide| s.dialect.and_then(|d| d.event(*c)).map(|e| canon_meaning(e.meaning));
        !same_meaning(m(a), m(b))
    });
    if ka == kb && !meanings_differ {
        return;
    }
    let list = |s: &CommandSide, k: &mut dyn Iterator<Item = &u16>| {
        k.map(|c| event_words(s.dialect, *c)).collect::<Vec<_>>().join(", ")
    };
    let mut parts = Vec::new();
    let both: Vec<u16> = ka.intersection(&kb).copied().collect();
    if !both.is_empty() {
        parts.push(format!("both reported {}", list(a, &mut both.iter())));
    }
    if meanings_differ {
        parts.push(format!("but {} reads {}", b.model, list(b, &mut both.iter())));
    }
    let only_a: Vec<u16> = ka.difference(&kb).copied().collect();
    if !only_a.is_empty() {
        parts.push(format!("only {} reported {}", a.model, list(a, &mut only_a.iter())));
    }
    let only_b: Vec<u16> = kb.difference(&ka).copied().collect();
    if !only_b.is_empty() {
        parts.push(format!("only {} reported {}", b.model, list(b, &mut only_b.iter())));
    }
    diffs.push(Difference { kind: Kind::Events, words: format!("after {cmd}, {}.", parts.join("; ")) });
}

/// A meaning as a set of words, without its parenthetical remarks and filler, so "registered on
/// OneNET" and "registered" match, and "update succeeded" and "firmware update succeeded" do not.
fn canon_meaning(m: &str) -> BTreeSet<String> {
    let mut s = String::new();
    let mut depth = 0usize;
    for c in m.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth == 0 => s.push(c),
            _ => {}
        }
    }
    s.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        // English filler, then the words the tables' meanings use to place an event rather than
        // name it (M5310-A's "lifetime update succeeded" is BC39's "update succeeded").
        .filter(|w| !w.is_empty() && !["the", "a", "on", "by", "with"].contains(&w.as_str()))
        .filter(|w| !MEANING_FILLER.contains(&w.as_str()))
        // One manual's word for another's ("acknowledged" by the platform is BC39's "succeeded").
        .map(|w| MEANING_SYNONYMS.iter().find(|(own, _)| *own == w).map(|(_, c)| c.to_string()).unwrap_or(w))
        .collect()
}

fn same_meaning(a: Option<BTreeSet<String>>, b: Option<BTreeSet<String>>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => !x.is_empty() && x == y,
        (None, None) => true,
        _ => false,
    }
}

/// How an event code compares between the two tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    Same,
    DifferentMeaning,
    OnlyA,
    OnlyB,
    /// Seen in a run, listed in neither table.
    Unlisted,
}

#[derive(Debug, Clone)]
pub struct EventRow {
    pub code: u16,
    pub a: Option<&'static Code>,
    pub b: Option<&'static Code>,
    pub seen: Pair<usize>,
    pub relation: Relation,
    /// The difference in words; empty when there is none.
    pub words: String,
}

impl EventRow {
    pub fn differs(&self) -> bool {
        !self.words.is_empty()
    }
}

/// Event codes by number: both tables (by meaning where they differ) and how often each run saw
/// them. With one dialect on both sides only the counts can differ.
pub fn events(models: Pair<&str>, dialects: Pair<Option<&'static Dialect>>, ev: Pair<&Evidence>) -> Vec<EventRow> {
    let (da, db) = dialects;
    let same_dialect = matches!((da, db), (Some(x), Some(y)) if x.name == y.name);
    let table = |d: Option<&'static Dialect>| d.map(|d| d.events).unwrap_or_default();
    let mut codes: BTreeSet<u16> = table(da).iter().chain(table(db)).map(|c| c.code).collect();
    codes.extend(ev.0.events.keys().chain(ev.1.events.keys()));
    codes
        .into_iter()
        .map(|code| {
            let a = da.and_then(|d| d.event(code));
            let b = db.and_then(|d| d.event(code));
            let seen = (ev.0.events.get(&code).copied().unwrap_or(0), ev.1.events.get(&code).copied().unwrap_or(0));
            let relation = match (a, b) {
                (Some(x), Some(y)) if same_meaning(Some(canon_meaning(x.meaning)), Some(canon_meaning(y.meaning))) => {
                    Relation::Same
                }
                (Some(_), Some(_)) => Relation::DifferentMeaning,
                (Some(_), None) => Relation::OnlyA,
                (None, Some(_)) => Relation::OnlyB,
                (None, None) => Relation::Unlisted,
            };
            let words = event_difference(models, dialects, code, a, b, relation, seen, same_dialect);
            EventRow { code, a, b, seen, relation, words }
        })
        .collect()
}

#[allow(clippy::too_many_arguments)]
fn event_difference(
    models: Pair<&str>,
    dialects: Pair<Option<&'static Dialect>>,
    code: u16,
    a: Option<&Code>,
    b: Option<&Code>,
    relation: Relation,
    seen: Pair<usize>,
    same_dialect: bool,
) -> String {
    let (ma, mb) = models;
    // Where the other table has this meaning under other codes.
    let elsewhere = |meaning: &str, d: Option<&'static Dialect>| -> Vec<String> {
        let m = canon_meaning(meaning);
        d.map(|d| d.events)
            .unwrap_or_default()
            .iter()
            .filter(|e| e.code != code && same_meaning(Some(m.clone()), Some(canon_meaning(e.meaning))))
            .map(|e| format!("{} ({})", e.code, e.section))
            .collect()
    };
    let mut words = match (relation, a, b) {
        (Relation::Same, Some(x), Some(y)) => {
            let other = elsewhere(x.meaning, dialects.1);
            let mine = elsewhere(y.meaning, dialects.0);
            let mut w = Vec::new();
            if !same_dialect && !other.is_empty() {
                w.push(format!("{mb} also uses {} for \"{}\"", other.join(", "), x.meaning));
            }
            if !same_dialect && !mine.is_empty() {
                w.push(format!("{ma} also uses {} for \"{}\"", mine.join(", "), y.meaning));
            }
            w.join("; ")
        }
        (Relation::DifferentMeaning, Some(x), Some(y)) => format!(
            "same code, different meaning: a driver written for {ma} reads {mb}'s {code} (\"{}\") as \"{}\"",
            y.meaning, x.meaning
        ),
        (Relation::OnlyA, Some(x), _) => only(ma, mb, x, &elsewhere(x.meaning, dialects.1)),
        (Relation::OnlyB, _, Some(y)) => only(mb, ma, y, &elsewhere(y.meaning, dialects.0)),
        _ => format!("event {code} is in neither manual"),
    };
    if same_dialect && seen.0 != seen.1 {
        let w = format!("reported {} time(s) in A's run, {} in B's", seen.0, seen.1);
        words = if words.is_empty() { w } else { format!("{words}; {w}") };
    }
    words
}

fn only(has: &str, lacks: &str, _e: &Code, elsewhere: &[String]) -> String {
    if elsewhere.is_empty() {
        format!("{has} only; {lacks}'s manual has no such event")
    } else {
        format!("{has} only; {lacks} reports it as {}", elsewhere.join(", "))
    }
}

/// A meaning both tables have under different codes: "deregistered" is 15 on BC39, 15 and 20
/// (§5.3.4's example) on M5310-A.
#[derive(Debug, Clone)]
pub struct MeaningRow {
    pub meaning: String,
    pub a: Vec<&'static Code>,
    pub b: Vec<&'static Code>,
}

pub fn meanings(dialects: Pair<Option<&'static Dialect>>) -> Vec<MeaningRow> {
    let (Some(da), Some(db)) = dialects else { return Vec::new() };
    let by_meaning = |d: &'static Dialect| {
        let mut m: BTreeMap<Vec<String>, Vec<&'static Code>> = BTreeMap::new();
        for e in d.events {
            m.entry(canon_meaning(e.meaning).into_iter().collect()).or_default().push(e);
        }
        m
    };
    let (ma, mb) = (by_meaning(da), by_meaning(db));
    let mut rows: Vec<MeaningRow> = ma
        .iter()
        .filter_map(|(k, a)| {
            let b = mb.get(k)?;
            let codes = |v: &[&Code]| v.iter().map(|e| e.code).collect::<Vec<_>>();
            (codes(a) != codes(b)).then(|| MeaningRow { meaning: a[0].meaning.to_string(), a: a.clone(), b: b.clone() })
        })
        .collect();
    rows.sort_by_key(|r| r.a[0].code);
    rows
}

/// One error result either run showed.
#[derive(Debug, Clone)]
pub struct ErrorRow {
    /// `+CME ERROR: 50`, `ERROR`.
    pub label: String,
    /// The manual's meaning, with its section, from the side whose family it is.
    pub meaning: Option<String>,
    pub seen: Pair<usize>,
    /// The commands that got it on each side.
    pub commands: Pair<Vec<String>>,
}

pub fn errors(dialects: Pair<Option<&'static Dialect>>, ev: Pair<&Evidence>) -> Vec<ErrorRow> {
    let labels: BTreeSet<&String> = ev.0.errors.keys().chain(ev.1.errors.keys()).collect();
    labels
        .into_iter()
        .map(|label| {
            let meaning = [dialects.0, dialects.1].into_iter().flatten().find_map(|d| meaning_of(d, label));
            let get = |e: &Evidence| {
                e.errors
                    .get(label)
                    .map(|(n, cmds)| (*n, cmds.iter().map(|c| at(c)).collect::<Vec<_>>()))
                    .unwrap_or_default()
            };
            let ((na, ca), (nb, cb)) = (get(ev.0), get(ev.1));
            ErrorRow { label: label.clone(), meaning, seen: (na, nb), commands: (ca, cb) }
        })
        .collect()
}

fn meaning_of(d: &Dialect, label: &str) -> Option<String> {
    if label == "ERROR" {
        return Some("plain ERROR: no code (error reporting off, or not a command)".into());
    }
    let (family, code) = label.split_once(':')?;
    if family.trim() != family_name(d.error_family) {
        return None;
    }
    let e = d.error(code.trim().parse().ok()?)?;
    Some(format!("{} ({})", e.meaning, e.section))
}

/// Commands with a given kind of difference, for the summary.
pub fn by_kind(rows: &[CommandRow]) -> BTreeMap<Kind, Vec<String>> {
    let mut m: BTreeMap<Kind, Vec<String>> = BTreeMap::new();
    for r in rows {
        for d in &r.differences {
            let v = m.entry(d.kind).or_default();
            if !v.contains(&r.at()) {
                v.push(r.at());
            }
        }
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{case, entry, exchange, run};
    use crate::{compare, Options};
    use miplcheck_record::{Class, Dir, Verdict};

    fn vendor() -> crate::Comparison {
        let mut ta = exchange("step 1", "AT+MIPLOPEN=0,600,60", &["OK"]);
        ta.push(entry(Dir::UeToTe, Some(Class::Urc), "\\r\\n+MIPLEVENT: 0,6\\r\\n"));
        ta.extend(exchange("step 2", "AT+MIPLDISCOVERRSP=0,26384,1,19,\"5850;5851;5706;5805\"", &["OK"]));
        ta.extend(exchange("step 3", "AT+MIPLOPEN=0,600,60", &["+CME ERROR: 3"]));
        ta.extend(exchange("step 4", "AT+MIPLNOTIFY=0,1,3303,0,5700,4,4,25.6,0,0,0,0x400", &["OK"]));
        let mut tb = exchange("setup 1", "AT+MIPLDISCOVERRSP=0,3200,1,14,\"5500;5501;5750\"", &["OK"]);
        tb.extend(exchange("step 1", "AT+MIPLOPEN=0,300,30", &["OK"]));
        tb.push(entry(Dir::UeToTe, Some(Class::Urc), "\\r\\n+MIPLEVENT:0,6\\r\\n"));
        tb.extend(exchange("step 2", "AT+MIPLOPEN=0,300,30", &["+CIS ERROR:602"]));
        tb.extend(exchange("step 3", "AT+MIPLNOTIFY=0,0,3200,0,5750,1,4,\"abcd\",0,0x400", &["OK"]));
        let a = run("emulator-bc39", "bc39", vec![case("register", "x", Verdict::Passed, ta, vec![])]);
        let b = run("emulator-m5310a", "m5310a", vec![case("m5310a-register", "y", Verdict::Passed, tb, vec![])]);
        compare(&a, &b, Options::default())
    }

    fn row<'c>(c: &'c crate::Comparison, name: &str) -> &'c CommandRow {
        c.commands.iter().find(|r| r.name == name).unwrap()
    }

    #[test]
    fn discoverrsp_has_a_different_syntax_said_in_words() {
        let c = vendor();
        let r = row(&c, "+MIPLDISCOVERRSP");
        assert!(r.has(Kind::Syntax), "{r:#?}");
        let w = &r.differences.iter().find(|d| d.kind == Kind::Syntax).unwrap().words;
        assert!(w.contains("`<msgId>` on BC39 where M5310-A has `<objid>`"), "{w}");
        assert!(w.contains("BC39 answers each request") && w.contains("M5310-A declares per object"), "{w}");
        assert!(w.contains("M5310-A's run sent it before registering (AT+MIPLOPEN) every time (1)"), "{w}");
        assert!(w.contains("BC39 §3.2.9") && w.contains("M5310-A §1.5"), "{w}");
        // OPEN's parameters are the same on both.
        assert!(!row(&c, "+MIPLOPEN").has(Kind::Syntax));
    }

    #[test]
    fn error_family_cme_vs_cis() {
        let c = vendor();
        let r = row(&c, "+MIPLOPEN");
        let w = &r.differences.iter().find(|d| d.kind == Kind::ErrorFamily).expect("family differs").words;
        assert!(w.contains("BC39 `+CME ERROR: <n>` (BC39 §6 table 3), seen: +CME ERROR: 3"), "{w}");
        assert!(w.contains("M5310-A `+CIS ERROR: <n>` (M5310-A §3.1), seen: +CIS ERROR: 602"), "{w}");
        // A command neither run got an error for still differs by the dialects' families.
        assert!(row(&c, "+MIPLCLOSE").has(Kind::ErrorFamily));
        let e = c.errors.iter().find(|e| e.label == "+CIS ERROR: 602").unwrap();
        assert!(e.meaning.as_deref().unwrap().contains("M5310-A §3.1"));
    }

    #[test]
    fn bit_lists_are_lowest_first() {
        assert_eq!(bit_list(0x600), "0x200 / 0x400");
        assert_eq!(bit_list(0x100), "0x100");
    }

    #[test]
    fn rai_is_a_parameter_on_bc39_and_flag_bits_on_m5310a() {
        let c = vendor();
        let r = row(&c, "+MIPLNOTIFY");
        let w = &r.differences.iter().find(|d| d.kind == Kind::Rai).expect("rai note").words;
        assert!(w.contains("BC39 asks for it with a `<raiMode>` parameter (1 sends with RAI in its run)"), "{w}");
        assert!(w.contains("M5310-A has no such parameter and carries RAI in `<flag>`"), "{w}");
        assert!(row(&c, "+MIPLUPDATE").differences.iter().any(|d| d.words.contains("no RAI parameter")));
    }

    #[test]
    fn commands_of_one_side_only_and_event_tables() {
        let c = vendor();
        assert!(row(&c, "+QSOTAINFO").has(Kind::Support));
        assert!(row(&c, "+MIPLNMI").differences[0].words.starts_with("only M5310-A has AT+MIPLNMI"));
        let ev = |code: u16| c.events.iter().find(|e| e.code == code).unwrap();
        assert_eq!(ev(15).relation, Relation::Same);
        assert!(ev(15).words.contains("M5310-A also uses 20 (M5310-A §5.3.4)"), "{}", ev(15).words);
        assert_eq!(ev(10).relation, Relation::DifferentMeaning);
        assert_eq!(ev(26).relation, Relation::Same, "an acknowledged NOTIFY is BC39's success");
        assert!(ev(11).words.contains("M5310-A also uses 10"), "{}", ev(11).words);
        assert!(!ev(11).words.contains("44"), "firmware update succeeded is another event: {}", ev(11).words);
        let m: Vec<(String, Vec<u16>, Vec<u16>)> = c
            .meanings
            .iter()
            .map(|r| (r.meaning.clone(), r.a.iter().map(|e| e.code).collect(), r.b.iter().map(|e| e.code).collect()))
            .collect();
        assert_eq!(
            m,
            vec![
                ("update succeeded".to_string(), vec![11], vec![10, 11]),
                ("deregistered".to_string(), vec![15], vec![15, 20])
            ]
        );
        assert_eq!(ev(31).relation, Relation::OnlyB);
        assert_eq!(ev(14).words, "BC39 only; M5310-A's manual has no such event");
        assert!(ev(10).words.contains("a driver written for BC39 reads M5310-A's 10"), "{}", ev(10).words);
        assert_eq!(ev(6).seen, (1, 1));
        assert!(!ev(6).differs());
    }

    #[test]
    fn one_dialect_on_both_sides_differs_only_by_evidence() {
        let ta = exchange("step 1", "AT+MIPLCLOSE=0", &["OK"]);
        let mut tb = ta.clone();
        tb.push(entry(Dir::UeToTe, Some(Class::Urc), "+MIPLEVENT: 0,15\\r\\n"));
        let a = run("r", "bc39", vec![case("register", "close", Verdict::Passed, ta, vec![])]);
        let b = run("r", "bc39", vec![case("register", "close", Verdict::Passed, tb, vec![])]);
        let c = compare(&a, &b, Options::default());
        let differing: Vec<_> = c.commands.iter().filter(|r| r.differs()).map(|r| r.name.as_str()).collect();
        assert_eq!(differing, vec!["+MIPLCLOSE"]);
        assert!(row(&c, "+MIPLCLOSE").has(Kind::Events));
        let e15 = c.events.iter().find(|e| e.code == 15).unwrap();
        assert_eq!(e15.words, "reported 0 time(s) in A's run, 1 in B's");
        assert_eq!(c.events.iter().filter(|e| e.differs()).count(), 1);
    }
}
