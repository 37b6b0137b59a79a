//! The case engine: runs one case's steps against a port, records the transcript, judges every
//! expectation and response window. It knows nothing of files, reports or terminals.

use crate::pattern::{Capture, Pattern};
use crate::rig::Timing;
use crate::suite::{Action, Case, Step, Suite, DEFAULT_URC_WINDOW};
use crate::transcript::{escape, Dir, Entry, Mark, Transcript};
use miplcheck_at::dialect::Dialect;
use miplcheck_at::{Class, Classifier, FinalResult, Frame, Lexer, Stamp};
use miplcheck_transport::{Port, Received};
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

/// What the engine needs to know about the rig.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    pub dialect: &'static Dialect,
    pub timing: &'a Timing,
    pub line_ending: &'a str,
    pub secrets: &'a BTreeMap<String, String>,
}

/// How one step went.
#[derive(Debug, Clone, PartialEq)]
pub struct StepOutcome {
    /// `setup 1`, `step 3`, `teardown 1`.
    pub label: String,
    /// Line in the suite file.
    pub line: usize,
    pub what: String,
    /// Time from the command (or the last command, for URCs) to the answer.
    pub latency: Option<Duration>,
    pub window: Option<Duration>,
    /// Why the step failed, in words a firmware engineer reads.
    pub failure: Option<String>,
}

/// How a case went, before the golden comparison.
#[derive(Debug, Clone)]
pub struct CaseRun {
    pub steps: Vec<StepOutcome>,
    pub transcript: Transcript,
    /// The first failing step's label and reason.
    pub failure: Option<(String, String)>,
    /// Teardown problems: reported, but they do not fail the case.
    pub warnings: Vec<String>,
    pub duration: Duration,
}

/// Captures taken from one transcript entry: which entry, where its content starts, what matched.
struct Claimed {
    at: Stamp,
    index: usize,
    offset: usize,
    caps: Vec<Capture>,
}

struct Seen {
    index: usize,
    frame: Frame,
    class: Class,
}

enum Next {
    Frame(Seen),
    Timeout,
    Closed(String),
}

/// One case's conversation with the modem.
pub struct Session<'p, 'c> {
    port: &'p mut dyn Port,
    ctx: &'c Context<'c>,
    lexer: Lexer,
    classifier: Classifier,
    transcript: Transcript,
    ready: VecDeque<Seen>,
    /// URCs (and stray lines) not yet claimed by a step.
    backlog: Vec<Seen>,
    vars: BTreeMap<String, String>,
    last_sent: Option<Stamp>,
    closed: Option<String>,
}

pub fn run_case(port: &mut dyn Port, ctx: &Context<'_>, suite: &Suite, case: &Case) -> CaseRun {
    let mut s = Session::new(port, ctx);
    let start = s.port.now();
    let mut steps = Vec::new();
    let mut failure = None;
    let plan = suite
        .setup
        .iter()
        .enumerate()
        .map(|(i, st)| (format!("setup {}", i + 1), st))
        .chain(case.steps.iter().enumerate().map(|(i, st)| (format!("step {}", i + 1), st)));
    for (label, step) in plan {
        let outcome = s.step(&label, step);
        let failed = outcome.failure.clone();
        steps.push(outcome);
        if let Some(why) = failed {
            failure = Some((label, why));
            break;
        }
    }
    let mut warnings = Vec::new();
    for (i, step) in suite.teardown.iter().enumerate() {
        let outcome = s.step(&format!("teardown {}", i + 1), step);
        if let Some(why) = &outcome.failure {
            warnings.push(format!("{}: {why}", outcome.label));
        }
        steps.push(outcome);
    }
    let duration = s.port.now().saturating_sub(start);
    CaseRun { steps, transcript: s.transcript, failure, warnings, duration }
}

impl<'p, 'c> Session<'p, 'c> {
    pub fn new(port: &'p mut dyn Port, ctx: &'c Context<'c>) -> Self {
        let mut vars = BTreeMap::new();
        for (k, v) in ctx.secrets {
            vars.insert(format!("secret.{k}"), v.clone());
        }
        Session {
            port,
            ctx,
            lexer: Lexer::new(),
            classifier: Classifier::new(ctx.dialect.urc_prefixes()),
            transcript: Transcript::default(),
            ready: VecDeque::new(),
            backlog: Vec::new(),
            vars,
            last_sent: None,
            closed: None,
        }
    }

    fn scaled(&self, w: Duration) -> Duration {
        w.mul_f64(self.ctx.timing.window_scale)
    }

    pub fn step(&mut self, label: &str, step: &Step) -> StepOutcome {
        self.transcript.step(label, step.describe());
        let mut out = StepOutcome {
            label: label.to_string(),
            line: step.line,
            what: step.describe(),
            latency: None,
            window: None,
            failure: None,
        };
        let r = match &step.action {
            Action::Send { line, expect, final_ } => self.send(step, line, expect, final_, &mut out),
            Action::Urcs { patterns, ordered } => self.urcs(step, patterns, *ordered, &mut out),
            Action::Wait(d) => {
                self.wait(*d);
                Ok(())
            }
        };
        if let Err(why) = r {
            self.transcript.note(self.port.now(), format!("{label} failed: {why}"));
            out.failure = Some(why);
        }
        out
    }

    fn send(
        &mut self,
        step: &Step,
        template: &crate::pattern::Template,
        expect: &[Pattern],
        final_: &Pattern,
        out: &mut StepOutcome,
    ) -> Result<(), String> {
        let filled = template.fill(&self.vars)?;
        let mut bytes = filled.text.clone().into_bytes();
        bytes.extend_from_slice(self.ctx.line_ending.as_bytes());
        let sent = self.port.write(&bytes).map_err(|e| format!("cannot write to {}: {e}", self.port.describe()))?;
        let marks: Vec<Mark> = filled
            .marks
            .iter()
            .filter(|m| !m.name.starts_with("secret."))
            .map(|m| Mark { range: m.range.clone(), name: m.name.clone() })
            .collect();
        let echo_marks: Vec<Mark> = marks.clone();
        self.transcript.entry(Entry { at: sent, dir: Dir::TeToUe, class: None, bytes, marks });
        self.classifier.command_sent(&filled.text);
        self.last_sent = Some(sent);

        let manual = step.window.unwrap_or_else(|| self.ctx.dialect.max_response(&filled.text));
        let window = self.scaled(manual);
        out.window = Some(window);
        let hard = sent + window + self.ctx.timing.late_grace;
        let mut infos: Vec<Seen> = Vec::new();
        let fin = loop {
            match self.next(hard) {
                Next::Frame(s) => match s.class {
                    // The echo is the command again: name its volatile values the same way.
                    Class::Echo => {
                        for m in &echo_marks {
                            let r = s.frame.content.start + m.range.start..s.frame.content.start + m.range.end;
                            self.transcript.mark(s.index, Mark { range: r, name: m.name.clone() });
                        }
                    }
                    Class::Urc => self.backlog.push(s),
                    Class::Final(_) => break s,
                    Class::Info | Class::Prompt | Class::Fragment => infos.push(s),
                },
                Next::Timeout => {
                    self.classifier.abandon();
                    self.flush_partial();
                    return Err(format!(
                        "no final result code within the {} window (listened {} in all); received {}",
                        ms(window),
                        ms(hard.saturating_sub(sent)),
                        received(&infos)
                    ));
                }
                Next::Closed(why) => {
                    return Err(format!(
                        "the link closed while waiting for the answer ({why}); received {}",
                        received(&infos)
                    ));
                }
            }
        };
        let latency = fin.frame.at.saturating_sub(sent);
        out.latency = Some(latency);

        // Content first: a wrong answer matters more than a late one.
        let expect = expect.iter().map(|p| p.bind(&self.vars)).collect::<Result<Vec<_>, _>>()?;
        let final_ = final_.bind(&self.vars)?;
        let mut captured: Vec<Claimed> = Vec::new();
        for (i, p) in expect.iter().enumerate() {
            let Some(got) = infos.get(i) else {
                return Err(format!(
                    "expected {} information line(s), got {}; missing `{}`",
                    expect.len(),
                    infos.len(),
                    p.source()
                ));
            };
            match p.captures(&got.frame.text()) {
                Some(c) => captured.push(Claimed {
                    at: got.frame.at,
                    index: got.index,
                    offset: got.frame.content.start,
                    caps: c,
                }),
                None => {
                    return Err(format!(
                        "information line {} should match `{}`, got `{}`",
                        i + 1,
                        p.source(),
                        escape(got.frame.content())
                    ))
                }
            }
        }
        if infos.len() > expect.len() {
            return Err(format!("unexpected information line `{}`", escape(infos[expect.len()].frame.content())));
        }
        let fin_text = fin.frame.text();
        match final_.captures(&fin_text) {
            Some(c) => {
                captured.push(Claimed { at: fin.frame.at, index: fin.index, offset: fin.frame.content.start, caps: c })
            }
            None => {
                return Err(format!(
                    "expected final `{}`, got `{}`{}",
                    final_.source(),
                    fin_text.trim(),
                    self.explain(&fin.class)
                ))
            }
        }
        self.remember(captured);
        if latency > window {
            return Err(format!(
                "answered in {}, after its {} window ({})",
                ms(latency),
                ms(window),
                window_source(self.ctx.dialect, &filled.text, step.window.is_some())
            ));
        }
        Ok(())
    }

    fn urcs(&mut self, step: &Step, patterns: &[Pattern], ordered: bool, out: &mut StepOutcome) -> Result<(), String> {
        let patterns = &patterns.iter().map(|p| p.bind(&self.vars)).collect::<Result<Vec<_>, _>>()?;
        let anchor = self.last_sent.unwrap_or_else(|| self.port.now());
        let window = self.scaled(step.window.unwrap_or(DEFAULT_URC_WINDOW));
        out.window = Some(window);
        let hard = anchor + window + self.ctx.timing.late_grace;
        let mut matched: Vec<Option<Claimed>> = (0..patterns.len()).map(|_| None).collect();
        let mut after: Stamp = Stamp::ZERO;
        loop {
            // Claim from the backlog, oldest first.
            let mut i = 0;
            while i < self.backlog.len() {
                let text = self.backlog[i].frame.text();
                let at = self.backlog[i].frame.at;
                let slot = if ordered {
                    matched.iter().position(Option::is_none).filter(|&j| at >= after && patterns[j].matches(&text))
                } else {
                    (0..patterns.len()).find(|&j| matched[j].is_none() && patterns[j].matches(&text))
                };
                if let Some(j) = slot {
                    let s = self.backlog.remove(i);
                    let caps = patterns[j].captures(&text).unwrap_or_default();
                    after = s.frame.at;
                    matched[j] = Some(Claimed { at: s.frame.at, index: s.index, offset: s.frame.content.start, caps });
                } else {
                    i += 1;
                }
            }
            if matched.iter().all(Option::is_some) {
                break;
            }
            match self.next(hard) {
                Next::Frame(s) => {
                    if matches!(s.class, Class::Urc | Class::Info | Class::Fragment) {
                        self.backlog.push(s);
                    }
                }
                Next::Timeout => {
                    self.flush_partial();
                    let missing: Vec<&str> =
                        patterns.iter().zip(&matched).filter(|(_, m)| m.is_none()).map(|(p, _)| p.source()).collect();
                    let seen: Vec<String> =
                        self.backlog.iter().map(|s| format!("`{}`", escape(s.frame.content()))).collect();
                    return Err(format!(
                        "no `{}` within {} of the last command{}; unclaimed lines: {}",
                        missing.join("`, `"),
                        ms(window),
                        if ordered && patterns.len() > 1 { " (in the listed order)" } else { "" },
                        if seen.is_empty() { "none".to_string() } else { seen.join(", ") }
                    ));
                }
                Next::Closed(why) => return Err(format!("the link closed while waiting for URCs ({why})")),
            }
        }
        let latest = matched.iter().flatten().map(|m| m.at).max().unwrap_or(anchor);
        let latency = latest.saturating_sub(anchor);
        out.latency = Some(latency);
        self.remember(matched.into_iter().flatten().collect());
        if latency > window {
            return Err(format!(
                "the last URC arrived {} after the command, after its {} window",
                ms(latency),
                ms(window)
            ));
        }
        Ok(())
    }

    fn wait(&mut self, d: Duration) {
        let until = self.port.now() + d;
        while let Next::Frame(s) = self.next(until) {
            if matches!(s.class, Class::Urc | Class::Info | Class::Fragment) {
                self.backlog.push(s);
            }
        }
    }

    /// Stores captures as variables and marks them in the transcript.
    fn remember(&mut self, captured: Vec<Claimed>) {
        for Claimed { index, offset, caps, .. } in captured {
            for c in caps {
                // Secrets are hidden by value everywhere; naming them would add nothing.
                if c.name.starts_with("secret.") {
                    continue;
                }
                self.transcript
                    .mark(index, Mark { range: offset + c.range.start..offset + c.range.end, name: c.name.clone() });
                self.vars.insert(c.name, c.value);
            }
        }
    }

    fn explain(&self, class: &Class) -> String {
        let code = match class {
            Class::Final(FinalResult::Cme(n)) | Class::Final(FinalResult::Cis(n)) => *n,
            _ => return String::new(),
        };
        match self.ctx.dialect.error(code) {
            Some(c) => format!(" ({}, {})", c.meaning, c.section),
            None => String::new(),
        }
    }

    fn next(&mut self, deadline: Stamp) -> Next {
        loop {
            if let Some(s) = self.ready.pop_front() {
                return Next::Frame(s);
            }
            if let Some(why) = &self.closed {
                return Next::Closed(why.clone());
            }
            match self.port.read_until(deadline) {
                Received::Data(chunk) => {
                    for f in self.lexer.push(&chunk.bytes, chunk.at) {
                        self.record(f);
                    }
                }
                Received::Timeout => return Next::Timeout,
                Received::Closed(why) => {
                    self.flush_partial();
                    self.transcript.note(self.port.now(), format!("link closed: {why}"));
                    self.closed = Some(why);
                }
            }
        }
    }

    /// Bytes with no terminator yet become a fragment, so a failure shows everything received.
    fn flush_partial(&mut self) {
        if let Some(f) = self.lexer.flush(self.port.now()) {
            self.record(f);
        }
    }

    fn record(&mut self, frame: Frame) {
        let class = self.classifier.classify(&frame);
        let index = self.transcript.entry(Entry {
            at: frame.at,
            dir: Dir::UeToTe,
            class: Some(class.label()),
            bytes: frame.raw.clone(),
            marks: vec![],
        });
        self.ready.push_back(Seen { index, frame, class });
    }
}

fn received(infos: &[Seen]) -> String {
    if infos.is_empty() {
        return "nothing".into();
    }
    infos.iter().map(|s| format!("`{}`", escape(&s.frame.raw))).collect::<Vec<_>>().join(", ")
}

fn window_source(d: &Dialect, line: &str, from_case: bool) -> String {
    if from_case {
        return "set by the case".into();
    }
    match miplcheck_at::syntax::Command::parse(line).ok().and_then(|c| d.command(&c.name)) {
        Some(spec) => format!("最大响应时间 of {}", spec.section),
        None => "the default window".into(),
    }
}

/// `300 ms`, `3 s`, `1.250 s`.
pub fn ms(d: Duration) -> String {
    let m = d.as_secs_f64() * 1000.0;
    if m < 1000.0 {
        format!("{} ms", m.round() as u64)
    } else if (m % 1000.0).abs() < 0.5 {
        format!("{} s", (m / 1000.0).round() as u64)
    } else {
        format!("{:.3} s", m / 1000.0)
    }
}
