//! Suite files: one YAML file per spec section, a list of cases, each a script of steps that reads
//! like the manual's own examples. Loading checks everything that can be checked without a modem,
//! so a typo is an exit-2 error naming the file and line, never a failed case at 3 a.m.

use crate::input_error::{field_path, InputError};
use crate::pattern::{Pattern, Template};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSuite {
    suite: String,
    title: Option<String>,
    spec: Option<String>,
    dialects: Option<Vec<String>>,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    setup: Vec<Spanned<RawStep>>,
    #[serde(default)]
    teardown: Vec<Spanned<RawStep>>,
    cases: Vec<Spanned<RawCase>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCase {
    id: String,
    spec: String,
    title: Option<String>,
    dialects: Option<Vec<String>>,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default, rename = "emulator-events")]
    emulator_events: BTreeMap<String, u16>,
    steps: Vec<Spanned<RawStep>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    send: Option<String>,
    expect: Option<Vec<String>>,
    #[serde(rename = "final")]
    final_: Option<String>,
    urc: Option<String>,
    urcs: Option<Vec<String>>,
    unordered: Option<Vec<String>>,
    #[serde(default, with = "humantime_serde")]
    window: Option<Duration>,
    #[serde(default, with = "humantime_serde")]
    wait: Option<Duration>,
    /// Ask the mock platform to do something (`read /3311/0/5805`).
    platform: Option<String>,
    /// The answer to the last platform operation: `2.05 cf=text/plain 1.88`.
    answer: Option<String>,
    /// Datagrams on the wire, in order: `UE→PF CON POST /rd?{_}`.
    wire: Option<Vec<String>>,
    /// Start a call of the OneNET HTTP API (`read /3311/0/5700`); it runs while later steps go on.
    onenet: Option<String>,
    /// The answer to the last `onenet:` call: `errno 0 succ{*}`.
    #[serde(rename = "onenet-answer")]
    onenet_answer: Option<String>,
    /// A file the modem should hand over piece by piece (SOTA): with `each`, `reply`, `until`.
    package: Option<String>,
    each: Option<String>,
    reply: Option<String>,
    until: Option<String>,
    note: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Suite {
    pub path: PathBuf,
    pub name: String,
    pub title: Option<String>,
    pub spec: Option<String>,
    pub setup: Vec<Step>,
    pub teardown: Vec<Step>,
    pub cases: Vec<Case>,
}

impl Suite {
    /// Whether a case (with its setup and teardown) needs the rig's mock platform.
    pub fn uses_platform(&self, case: &Case) -> bool {
        self.setup.iter().chain(&case.steps).chain(&self.teardown).any(|s| {
            matches!(
                s.action,
                Action::Platform(..)
                    | Action::Answer(_)
                    | Action::Wire(_)
                    | Action::Onenet(..)
                    | Action::OnenetAnswer(_)
            ) || s.references().iter().any(|r| r.starts_with("platform."))
        })
    }

    /// `${secret.x}` names a case uses, with its suite's setup and teardown (`platform: dtls on`
    /// uses `psk`, `platform: auth-code on` uses `auth_code`).
    pub fn secrets_used(&self, case: &Case) -> BTreeSet<String> {
        let steps = || self.setup.iter().chain(&case.steps).chain(&self.teardown);
        let mut used: BTreeSet<String> =
            steps().flat_map(Step::references).filter_map(|h| h.strip_prefix("secret.").map(str::to_string)).collect();
        if steps().any(|s| matches!(s.action, Action::Platform(crate::platform_op::PlatformStep::Dtls(true), _))) {
            used.insert("psk".into());
        }
        if steps().any(|s| matches!(s.action, Action::Platform(crate::platform_op::PlatformStep::AuthCode(true), _))) {
            used.insert("auth_code".into());
        }
        if steps().any(|s| matches!(s.action, Action::Onenet(..))) {
            used.insert("api_key".into());
        }
        used
    }
}

#[derive(Debug, Clone)]
pub struct Case {
    pub id: String,
    pub spec: String,
    pub title: Option<String>,
    /// Dialects the case applies to; all when empty.
    pub dialects: Vec<String>,
    /// Rig capabilities the case needs (`dtls`, `sota`, `rai`).
    pub requires: Vec<String>,
    /// Event codes by event name over the emulator's own for this case, as a rig's
    /// `[emulator.quirks] events` (`{ deregistered = 20 }`): how a case shows a reading only a
    /// manual's example gives (M5310-A §5.3.4). Such a case runs on emulator rigs only.
    pub emulator_events: BTreeMap<String, u16>,
    pub steps: Vec<Step>,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub line: usize,
    pub action: Action,
    /// Overrides the manual's window (send) or sets one (urcs).
    pub window: Option<Duration>,
    pub note: Option<String>,
}

#[derive(Debug, Clone)]
pub enum Action {
    /// Send a command; expect its information lines (in order, all of them) and its final result.
    Send { line: Template, expect: Vec<Pattern>, final_: Pattern },
    /// Wait for URCs: in the given order, or as an unordered set.
    Urcs { patterns: Vec<Pattern>, ordered: bool },
    /// Let time pass, collecting whatever arrives.
    Wait(Duration),
    /// Start an operation on the mock platform.
    Platform(crate::platform_op::PlatformStep, String),
    /// Wait for the answer to the last platform operation.
    Answer(Pattern),
    /// Wait for datagrams on the wire, in order (matched without `mid=` and `token=`).
    Wire(Vec<Pattern>),
    /// Receive a file in pieces: each URC matching `each` carries a piece in its `{data}` capture
    /// (hex) and is answered with `reply`, until a URC matches `until`; then the pieces must make
    /// the file, byte for byte.
    Package(Box<Package>),
    /// Start a call of the OneNET HTTP API on a thread (the MCU answers the modem meanwhile).
    Onenet(crate::onenet_api::Call, String),
    /// Wait for the answer to the last `onenet:` call and match it (`errno 0 succ …`).
    OnenetAnswer(Pattern),
}

#[derive(Debug, Clone)]
pub struct Package {
    pub file: PathBuf,
    pub bytes: Vec<u8>,
    pub each: Pattern,
    pub reply: Template,
    pub until: Pattern,
}

/// How long a URC step waits when it names no window.
pub const DEFAULT_URC_WINDOW: Duration = Duration::from_secs(10);

impl Step {
    /// One line for humans: `send AT+MIPLCONFIG?`, `urc +MIPLEVENT: 0,6`.
    pub fn describe(&self) -> String {
        match &self.action {
            Action::Send { line, .. } => format!("send {}", line.source()),
            Action::Urcs { patterns, ordered } => {
                let list: Vec<&str> = patterns.iter().map(Pattern::source).collect();
                let kind = if patterns.len() == 1 {
                    "urc"
                } else if *ordered {
                    "urcs"
                } else {
                    "unordered urcs"
                };
                format!("{kind} {}", list.join(" · "))
            }
            Action::Wait(d) => format!("wait {}", humantime::format_duration(*d)),
            Action::Platform(_, text) => format!("platform {text}"),
            Action::Answer(p) => format!("answer {}", p.source()),
            Action::Wire(ps) => format!("wire {}", ps.iter().map(Pattern::source).collect::<Vec<_>>().join(" · ")),
            Action::Package(p) => format!("package {} until {}", p.file.display(), p.until.source()),
            Action::Onenet(_, text) => format!("onenet {text}"),
            Action::OnenetAnswer(p) => format!("onenet-answer {}", p.source()),
        }
    }

    /// `${name}` references in what the step sends and expects.
    pub fn references(&self) -> Vec<String> {
        match &self.action {
            Action::Send { line, expect, final_ } => {
                let mut r = line.holes().unwrap_or_default();
                r.extend(expect.iter().chain(std::iter::once(final_)).flat_map(|p| p.references().iter().cloned()));
                r
            }
            Action::Urcs { patterns, .. } | Action::Wire(patterns) => {
                patterns.iter().flat_map(|p| p.references().iter().cloned()).collect()
            }
            Action::Answer(p) | Action::OnenetAnswer(p) => p.references().to_vec(),
            Action::Package(p) => {
                let mut r = p.reply.holes().unwrap_or_default();
                r.extend(p.each.references().iter().chain(p.until.references()).cloned());
                r
            }
            Action::Wait(_) | Action::Platform(..) | Action::Onenet(..) => vec![],
        }
    }

    /// Capture names this step defines.
    pub fn defines(&self) -> Vec<String> {
        let pats: Vec<&Pattern> = match &self.action {
            Action::Send { expect, final_, .. } => expect.iter().chain(std::iter::once(final_)).collect(),
            Action::Urcs { patterns, .. } | Action::Wire(patterns) => patterns.iter().collect(),
            Action::Answer(p) | Action::OnenetAnswer(p) => vec![p],
            Action::Package(p) => vec![&p.each, &p.until],
            Action::Wait(_) | Action::Platform(..) | Action::Onenet(..) => vec![],
        };
        pats.iter().flat_map(|p| p.capture_names().iter().cloned()).collect()
    }
}

impl Case {
    pub fn applies_to(&self, dialect: &str) -> bool {
        self.dialects.is_empty() || self.dialects.iter().any(|d| d.eq_ignore_ascii_case(dialect))
    }
}

impl Suite {
    pub fn load(path: &Path) -> Result<Suite, InputError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| InputError::new(path, format!("cannot read the suite file: {e}")))?;
        Self::parse(path, &text)
    }

    /// The suite's name alone, read without parsing or checking the rest: how a run that selects
    /// other suites learns every file's name (they must be unique) without paying for their
    /// checks. Only a plain `suite: NAME` line at the start of a line (a top-level key: anything
    /// nested is indented) of a file with one document counts; `None` for anything else, and
    /// the caller loads the file, so a file this cannot read is judged by [`Suite::load`].
    pub fn name_of(path: &Path) -> Option<String> {
        let text = std::fs::read_to_string(path).ok()?;
        // A second document, or a flow mapping, could hold another `suite:`: leave it to the parser.
        if text.lines().any(|l| l.starts_with("---") || l.starts_with("...") || l.starts_with('{')) {
            return None;
        }
        let mut names = text.lines().filter_map(|l| l.strip_prefix("suite:"));
        let value = names.next()?;
        if names.next().is_some() {
            return None;
        }
        let value = value.split(" #").next()?.trim();
        let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
        let value = value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')).unwrap_or(value);
        let plain = !value.is_empty() && value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        plain.then(|| value.to_string())
    }

    pub fn parse(path: &Path, text: &str) -> Result<Suite, InputError> {
        let raw: RawSuite = serde_saphyr::from_str(text).map_err(|e| yaml_error(path, text, &e))?;
        let err = |line: usize, field: &str, msg: String| InputError::new(path, msg).at_line(Some(line)).field(field);
        // Files a step names (a SOTA package) are relative to the repository root: suites/'s parent.
        let root = path.parent().and_then(Path::parent).unwrap_or(Path::new(""));

        if raw.suite.is_empty() || !raw.suite.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') {
            return Err(err(
                1,
                "suite",
                format!(
                    "suite name {:?} must be letters, digits, - or _ (it names folders and snapshot files)",
                    raw.suite
                ),
            ));
        }
        let suite_dialects = raw.dialects.clone().unwrap_or_default();
        for d in &suite_dialects {
            if miplcheck_at::Dialect::by_name(d).is_none() {
                return Err(err(1, "dialects", format!("unknown dialect {d:?}")));
            }
        }
        let setup = steps(&raw.setup, "setup", root, &err)?;
        let teardown = steps(&raw.teardown, "teardown", root, &err)?;
        // Setup steps may only refer to what earlier setup steps captured; teardown to the setup's.
        let mut setup_defines: Vec<String> = Vec::new();
        for (list, name) in [(&setup, "setup"), (&teardown, "teardown")] {
            let mut known: BTreeSet<String> = setup_defines.iter().cloned().collect();
            for (si, s) in list.iter().enumerate() {
                if let Some(h) = s.references().into_iter().find(|h| !is_provided(h) && !known.contains(h)) {
                    return Err(err(
                        s.line,
                        &format!("{name}[{si}]"),
                        format!("${{{h}}} is not captured by an earlier {name} step"),
                    ));
                }
                known.extend(s.defines());
            }
            if name == "setup" {
                setup_defines = known.into_iter().collect();
            }
        }
        let mut cases = Vec::new();
        let mut ids = BTreeSet::new();
        for (ci, c) in raw.cases.iter().enumerate() {
            let line = c.referenced.line() as usize;
            let rc = &c.value;
            let at = format!("cases[{ci}]");
            if rc.id.is_empty() || !rc.id.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '-' || ch == '_') {
                return Err(err(
                    line,
                    &format!("{at}.id"),
                    format!("case id {:?} must be letters, digits, - or _ (it names the snapshot file)", rc.id),
                ));
            }
            if !ids.insert(rc.id.clone()) {
                return Err(err(line, &format!("{at}.id"), format!("case id {:?} is used twice in this suite", rc.id)));
            }
            if !miplcheck_at::Dialect::spec_prefixes().iter().any(|p| rc.spec.starts_with(p.as_str())) {
                return Err(err(
                    line,
                    &format!("{at}.spec"),
                    format!("spec {:?} should cite a manual section, like `BC39 §3.2.1` or `M5310-A §2.5`", rc.spec),
                ));
            }
            let dialects = rc.dialects.clone().unwrap_or_else(|| suite_dialects.clone());
            for d in &dialects {
                if miplcheck_at::Dialect::by_name(d).is_none() {
                    return Err(err(line, &format!("{at}.dialects"), format!("unknown dialect {d:?}")));
                }
            }
            emulator_events(&rc.emulator_events, &dialects, line, &format!("{at}.emulator-events"), &err)?;
            let steps = steps(&rc.steps, &format!("{at}.steps"), root, &err)?;
            if steps.is_empty() {
                return Err(err(line, &format!("{at}.steps"), "a case needs at least one step".into()));
            }
            // Every ${name} must be captured by an earlier step (or the setup).
            let mut known: BTreeSet<String> = setup_defines.iter().cloned().collect();
            for (si, s) in steps.iter().enumerate() {
                for h in s.references() {
                    if !is_provided(&h) && !known.contains(&h) {
                        return Err(err(
                            s.line,
                            &format!("{at}.steps[{si}]"),
                            format!("${{{h}}} is not captured by an earlier step; capture it with {{{h}}} in an expect or urc line"),
                        ));
                    }
                }
                known.extend(s.defines());
            }
            let mut requires = raw.requires.clone();
            requires.extend(rc.requires.iter().cloned());
            cases.push(Case {
                id: rc.id.clone(),
                spec: rc.spec.clone(),
                title: rc.title.clone(),
                dialects,
                requires,
                emulator_events: rc.emulator_events.clone(),
                steps,
                line,
            });
        }
        Ok(Suite {
            path: path.to_path_buf(),
            name: raw.suite,
            title: raw.title,
            spec: raw.spec,
            setup,
            teardown,
            cases,
        })
    }
}

/// A case's `emulator-events`: names the emulator reports, codes in the manual of each dialect
/// the case applies to.
fn emulator_events(
    events: &BTreeMap<String, u16>,
    dialects: &[String],
    line: usize,
    at: &str,
    err: &dyn Fn(usize, &str, String) -> InputError,
) -> Result<(), InputError> {
    let known = miplcheck_emulator::notice::Event::NAMES;
    for (name, code) in events {
        if !known.contains(&name.as_str()) {
            return Err(err(line, at, format!("no event {name:?}; the emulator reports {}", known.join(", "))));
        }
        let manuals = dialects.iter().filter_map(|d| miplcheck_at::Dialect::by_name(d));
        if let Some(d) = manuals.into_iter().find(|d| d.event(*code).is_none()) {
            return Err(err(line, at, format!("event code {code} is not in the {} manual's table", d.name)));
        }
    }
    Ok(())
}

/// Names the rig provides rather than an earlier capture: `${secret.psk}`, `${platform.port}`.
fn is_provided(name: &str) -> bool {
    name.starts_with("secret.") || name.starts_with("platform.")
}

fn steps(
    raw: &[Spanned<RawStep>],
    at: &str,
    root: &Path,
    err: &dyn Fn(usize, &str, String) -> InputError,
) -> Result<Vec<Step>, InputError> {
    raw.iter()
        .enumerate()
        .map(|(i, s)| step(&s.value, s.referenced.line() as usize, &format!("{at}[{i}]"), root, err))
        .collect()
}

fn step(
    r: &RawStep,
    line: usize,
    at: &str,
    root: &Path,
    err: &dyn Fn(usize, &str, String) -> InputError,
) -> Result<Step, InputError> {
    let pat = |p: &str, field: &str| {
        Pattern::new(p).map_err(|e| err(line, &format!("{at}.{field}"), format!("{e} in {p:?}")))
    };
    let kinds = [
        r.send.is_some(),
        r.urc.is_some(),
        r.urcs.is_some(),
        r.unordered.is_some(),
        r.wait.is_some(),
        r.platform.is_some(),
        r.answer.is_some(),
        r.wire.is_some(),
        r.package.is_some(),
        r.onenet.is_some(),
        r.onenet_answer.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err(err(
            line,
            at,
            "a step is exactly one of: send, urc, urcs, unordered, wait, platform, answer, wire, package, onenet, onenet-answer"
                .into(),
        ));
    }
    if r.package.is_none() && (r.each.is_some() || r.reply.is_some() || r.until.is_some()) {
        return Err(err(line, at, "`each`, `reply` and `until` belong to a `package` step".into()));
    }
    if r.send.is_none() && (r.expect.is_some() || r.final_.is_some()) {
        return Err(err(line, at, "`expect` and `final` belong to a `send` step".into()));
    }
    let action = if let Some(s) = &r.send {
        let line_t = Template::new(s).map_err(|e| err(line, &format!("{at}.send"), e.to_string()))?;
        if !s.trim_start().to_ascii_uppercase().starts_with("AT") {
            return Err(err(line, &format!("{at}.send"), format!("{s:?} is not an AT command line")));
        }
        let expect = r.expect.iter().flatten().map(|p| pat(p, "expect")).collect::<Result<Vec<_>, _>>()?;
        let final_ = pat(r.final_.as_deref().unwrap_or("OK"), "final")?;
        Action::Send { line: line_t, expect, final_ }
    } else if let Some(u) = &r.urc {
        Action::Urcs { patterns: vec![pat(u, "urc")?], ordered: true }
    } else if let Some(us) = r.urcs.as_ref().or(r.unordered.as_ref()) {
        let field = if r.urcs.is_some() { "urcs" } else { "unordered" };
        if us.is_empty() {
            return Err(err(line, &format!("{at}.{field}"), "list at least one URC".into()));
        }
        let patterns = us.iter().map(|p| pat(p, field)).collect::<Result<Vec<_>, _>>()?;
        Action::Urcs { patterns, ordered: r.urcs.is_some() }
    } else if let Some(op) = &r.platform {
        let parsed =
            crate::platform_op::parse(op, root).map_err(|e| err(line, &format!("{at}.platform"), e.to_string()))?;
        Action::Platform(parsed, op.trim().to_string())
    } else if let Some(a) = &r.answer {
        Action::Answer(pat(a, "answer")?)
    } else if let Some(call) = &r.onenet {
        let parsed = crate::onenet_api::parse(call).map_err(|e| err(line, &format!("{at}.onenet"), e))?;
        Action::Onenet(parsed, call.trim().to_string())
    } else if let Some(a) = &r.onenet_answer {
        Action::OnenetAnswer(pat(a, "onenet-answer")?)
    } else if let Some(w) = &r.wire {
        if w.is_empty() {
            return Err(err(line, &format!("{at}.wire"), "list at least one datagram".into()));
        }
        Action::Wire(w.iter().map(|p| pat(p, "wire")).collect::<Result<Vec<_>, _>>()?)
    } else if let Some(f) = &r.package {
        let need = |v: &Option<String>, field: &str| {
            v.clone().ok_or_else(|| err(line, &format!("{at}.{field}"), format!("a package step needs `{field}`")))
        };
        let each = pat(&need(&r.each, "each")?, "each")?;
        if !each.capture_names().iter().any(|n| n == "data") {
            return Err(err(line, &format!("{at}.each"), "capture the piece as {data}".into()));
        }
        let reply_text = need(&r.reply, "reply")?;
        let reply = Template::new(&reply_text).map_err(|e| err(line, &format!("{at}.reply"), e.to_string()))?;
        let until = pat(&need(&r.until, "until")?, "until")?;
        let file = root.join(f);
        let bytes = std::fs::read(&file)
            .map_err(|e| err(line, &format!("{at}.package"), format!("cannot read {}: {e}", file.display())))?;
        Action::Package(Box::new(Package { file: PathBuf::from(f), bytes, each, reply, until }))
    } else {
        Action::Wait(r.wait.expect("counted above"))
    };
    if matches!(action, Action::Wait(_) | Action::Platform(..) | Action::Onenet(..)) && r.window.is_some() {
        return Err(err(line, &format!("{at}.window"), "wait, platform and onenet steps have no window".into()));
    }
    if r.window.is_some_and(|w| w.is_zero()) {
        return Err(err(line, &format!("{at}.window"), "a window must be longer than 0".into()));
    }
    for (field, d) in [("window", r.window), ("wait", r.wait)] {
        if d.is_some_and(|d| d > crate::rig::MAX_DURATION) {
            return Err(err(line, &format!("{at}.{field}"), format!("a {field} must be at most a day")));
        }
    }
    Ok(Step { line, action, window: r.window, note: r.note.clone() })
}

fn yaml_error(path: &Path, text: &str, e: &serde_saphyr::Error) -> InputError {
    let line = e.location().map(|l| l.line() as usize);
    let msg = crate::yaml::strip_location(&e.to_string());
    InputError::new(path, msg.clone()).at_line(line).field(field_path(&crate::yaml::error_path::<RawSuite>(text), &msg))
}

/// All `*.yaml` suites in a folder, sorted by file name.
pub fn discover(dir: &Path) -> Result<Vec<PathBuf>, InputError> {
    let rd = std::fs::read_dir(dir).map_err(|e| InputError::new(dir, format!("cannot list suites: {e}")))?;
    let mut out: Vec<PathBuf> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|x| x.to_str()), Some("yaml" | "yml")))
        .collect();
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    const GOOD: &str = r#"
suite: config
dialects: [bc39]
setup:
  - send: AT+CMEE=1
cases:
  - id: create
    spec: BC39 §3.2.2
    steps:
      - send: AT+MIPLCREATE
        expect: ["+MIPLCREATE:{ref}"]
      - send: AT+MIPLDELETE=${ref}
        window: 3s
  - id: events
    spec: BC39 §5.8.5
    steps:
      - unordered: ["+CSCON:1", "+MIPLEVENT: 0,26,256"]
        window: 5s
      - wait: 100ms
"#;

    fn parse(text: &str) -> Result<Suite, InputError> {
        Suite::parse(Path::new("suites/t.yaml"), text)
    }

    #[rstest]
    #[case("suite: config\ncases: []\n", Some("config"))]
    #[case("# a comment\ntitle: x\nsuite: \"m5310a-data\"  # the name\ncases: []\n", Some("m5310a-data"))]
    #[case("suite: 'rwx'\n", Some("rwx"))]
    #[case("cases:\n  - suite: nested\n", None)]
    #[case("suite: a\n---\nsuite: b\n", None)]
    #[case("{suite: flow}\n", None)]
    #[case("suite: has space\n", None)]
    #[case("suite:\n  config\n", None)]
    #[case("suite: a\nsuite: b\n", None)]
    fn a_name_is_read_only_when_it_is_certain(#[case] text: &str, #[case] want: Option<&str>) {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("s.yaml");
        std::fs::write(&p, text).unwrap();
        assert_eq!(Suite::name_of(&p).as_deref(), want);
    }

    #[test]
    fn every_suite_of_the_repository_is_named_alike_by_both_readers() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../suites");
        for path in discover(&dir).unwrap() {
            let full = Suite::load(&path).unwrap();
            assert_eq!(Suite::name_of(&path), Some(full.name), "{}", path.display());
        }
    }

    #[test]
    fn reads_a_good_suite() {
        let s = parse(GOOD).unwrap();
        assert_eq!(s.name, "config");
        assert_eq!(s.cases.len(), 2);
        assert_eq!(s.cases[0].line, 7);
        assert_eq!(s.cases[0].steps[1].line, 12);
        assert_eq!(s.cases[0].steps[1].window, Some(Duration::from_secs(3)));
        assert_eq!(s.cases[0].steps[1].describe(), "send AT+MIPLDELETE=${ref}");
        assert!(matches!(s.cases[1].steps[0].action, Action::Urcs { ordered: false, .. }));
        assert!(s.cases[0].applies_to("BC39"));
        assert!(!s.cases[0].applies_to("m5310a"));
    }

    #[rstest]
    #[case("suite: x\ncases:\n  - id: a\n    spec: BC39 §1\n    steps:\n      - sned: AT\n", 6, "unknown field `sned`")]
    #[case("suite: x\ncases:\n  - id: a\n    steps:\n      - send: AT\n", 4, "missing field `spec`")]
    #[case(
        "suite: x\ncases:\n  - id: a\n    spec: section 1\n    steps:\n      - send: AT\n",
        3,
        "should cite a manual section"
    )]
    #[case(
        "suite: x\ncases:\n  - id: a\n    spec: BC39 §1\n    steps:\n      - send: AT\n        urc: OK\n",
        6,
        "exactly one of"
    )]
    #[case(
        "suite: x\ncases:\n  - id: a\n    spec: BC39 §1\n    steps:\n      - send: AT+X=${mid}\n",
        6,
        "not captured by an earlier step"
    )]
    #[case(
        "suite: x\ncases:\n  - id: a\n    spec: BC39 §1\n    steps:\n      - send: AT\n        final: \"{oops\"\n",
        6,
        "unclosed"
    )]
    #[case(
        "suite: x\ncases:\n  - id: a\n    spec: BC39 §1\n    steps:\n      - send: AT\n        window: fast\n",
        7,
        ""
    )]
    #[case("suite: x\ncases:\n  - id: a b\n    spec: BC39 §1\n    steps:\n      - send: AT\n", 3, "must be letters")]
    #[case("suite: x\ncases:\n  - id: a\n    spec: BC39 §1\n    steps: []\n", 3, "at least one step")]
    #[case("suite: x\ncases: [\n", 0, "")]
    #[case("suite: ../x\ncases:\n  - id: a\n    spec: BC39 §1\n    steps:\n      - send: AT\n", 1, "suite name")]
    #[case("suite: x\ncases:\n  - id: a\n    spec: BC39 §1\n    steps:\n      - wait: 400000y\n", 6, "at most a day")]
    #[case(
        "suite: x\nsetup:\n  - send: AT+X=${v}\ncases:\n  - id: a\n    spec: BC39 §1\n    steps:\n      - send: AT\n",
        3,
        "earlier setup step"
    )]
    #[case("suite: x\ncases:\n  - id: a\n    spec: BC39 §1\n    steps:\n      - send: hello\n", 6, "not an AT command")]
    #[case(
        "suite: x\ncases:\n  - id: a\n    spec: BC39 §5.10\n    steps:\n      - platform: sota suites/data/no.bin\n",
        6,
        "cannot read the SOTA package suites/data/no.bin"
    )]
    #[case(
        "suite: x\ncases:\n  - id: a\n    spec: BC39 §1\n    steps:\n      - send: AT\n      - onenet: poke /3311\n",
        7,
        "field `cases[0].steps[1].onenet`: unknown call \"poke\""
    )]
    #[case(
        "suite: x\ncases:\n  - id: a\n    spec: BC39 §1\n    steps:\n      - onenet: write /3311/0/5850 1\n",
        6,
        "`write` takes an instance like /3311/0"
    )]
    #[case(
        "suite: x\ncases:\n  - id: a\n    spec: BC39 §1\n    steps:\n      - onenet: read /3311\n        window: 5s\n",
        6,
        "onenet steps have no window"
    )]
    #[case(
        "suite: x\ndialects: [m5310a]\ncases:\n  - id: a\n    spec: M5310-A §5.3.4\n    emulator-events: { closed: 20 }\n    steps:\n      - send: AT\n",
        4,
        "field `cases[0].emulator-events`: no event \"closed\"; the emulator reports bootstrap-started"
    )]
    #[case(
        "suite: x\ndialects: [m5310a]\ncases:\n  - id: a\n    spec: M5310-A §5.3.4\n    emulator-events: { deregistered: 21 }\n    steps:\n      - send: AT\n",
        4,
        "event code 21 is not in the m5310a manual's table"
    )]
    fn bad_suites_name_the_line(#[case] text: &str, #[case] line: usize, #[case] says: &str) {
        let e = parse(text).unwrap_err();
        let shown = e.to_string();
        assert!(shown.starts_with("suites/t.yaml"), "{shown}");
        if line > 0 {
            assert_eq!(e.line, Some(line), "{shown}");
        }
        assert!(shown.contains(says), "{shown}");
    }

    #[test]
    fn a_case_may_set_the_emulators_event_codes() {
        let s = parse(
            "suite: x\ndialects: [m5310a]\ncases:\n  - id: a\n    spec: M5310-A §5.3.4\n    emulator-events: { deregistered: 20 }\n    steps:\n      - send: AT\n  - id: b\n    spec: M5310-A §1.8\n    steps:\n      - send: AT\n",
        )
        .unwrap();
        assert_eq!(s.cases[0].emulator_events, [("deregistered".to_string(), 20)].into());
        assert!(s.cases[1].emulator_events.is_empty());
    }

    #[test]
    fn onenet_steps_need_the_api_key_and_the_platform() {
        let s = parse(
            "suite: x\nrequires: [onenet-http]\ncases:\n  - id: a\n    spec: BC39 §1\n    steps:\n      - onenet: read /3311/0/5700\n      - onenet-answer: errno 0 succ{*}\n",
        )
        .unwrap();
        let c = &s.cases[0];
        assert!(s.uses_platform(c));
        assert!(s.secrets_used(c).contains("api_key"));
        assert_eq!(c.requires, ["onenet-http"]);
        assert_eq!(c.steps[0].describe(), "onenet read /3311/0/5700");
        assert_eq!(c.steps[1].describe(), "onenet-answer errno 0 succ{*}");
    }

    #[test]
    fn field_path_of_a_typo() {
        let e = parse("suite: x\ncases:\n  - id: a\n    spec: BC39 §1\n    steps:\n      - sned: AT\n").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("cases[0].steps[0].sned"), "{e}");
    }
}
