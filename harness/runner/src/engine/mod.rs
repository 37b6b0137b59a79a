//! The case engine: runs one case's steps against a port, records the transcript, and judges
//! every expectation and response window.
//!
//! [`run_case`] plays the suite's setup, the case's steps (up to the first failure) and the
//! suite's teardown (whose failures are only warnings) through one [`Session`], and returns a
//! [`CaseRun`]: each step's [`StepOutcome`] (latency, window, the failure in words), the two-sided
//! [`Transcript`] with its volatile values named, and the raw datagrams the mock platform saw.
//! [`ask`] sends one command outside any case (the firmware and identity queries before a run).
//!
//! This file is the session's core: it reads and classifies frames, keeps the backlog of lines
//! (and of datagrams) no step has claimed yet, records both sides in the transcript, holds the
//! variables (captures, `${secret.…}`, `${platform.…}`) and scales windows by the rig's timing,
//! never past [`MAX_WINDOW`]. Each step kind is a module beside it with one entry point,
//! `pub(super) fn run(session, step, <the action's fields>, out) -> Result<(), String>` (taking
//! what it needs of those, `Err` being the failure in words), and [`Session::step`] dispatches on
//! [`Action`] in one `match`:
//!
//! - `send`: `send:` with `expect:`, `final:` and `window:`;
//! - `urcs`: `urc:`, `urcs:` and `unordered:`, with the pure line matchers in `matching`;
//! - `wait`: `wait:`;
//! - `platform`: `platform:`, an order to the mock platform;
//! - `answer`: `answer:`, the device's answer to the last platform operation;
//! - `wire`: `wire:`, datagrams between the modem and the platform;
//! - `package`: `package:`, a file received piece by piece, and its byte-for-byte check.
//!
//! A new step kind is a variant of [`Action`], a module here, and an arm in that `match`.
//!
//! What the engine never does:
//! - decide a snapshot verdict: a case whose steps all passed is compared with its golden
//!   transcript by [`crate::golden`], driven by [`crate::dispatch`];
//! - print, read or write a file: the [`crate::report`]ers write, and suites arrive loaded;
//! - redact secrets or mask device identities: its transcript and messages hold the real values,
//!   and the dispatcher redacts and masks them, once, on the way out;
//! - know a rig beyond [`Context`]: no rig files, targets, resets or capabilities.

use crate::pattern::Capture;
use crate::rig::Timing;
use crate::suite::{Action, Case, Step, Suite};
use crate::transcript::{Dir, Entry, Mark, Transcript};
use miplcheck_at::dialect::Dialect;
use miplcheck_at::{Class, Classifier, Frame, Lexer, Stamp};
use miplcheck_transport::{Port, Received};
use std::collections::{BTreeMap, VecDeque};
use std::time::Duration;

mod answer;
mod matching;
mod onenet;
mod package;
mod platform;
mod send;
mod urcs;
mod wait;
mod wire;

/// No window is longer than this, whatever a rig's scale says: a day is "never" on a bench.
pub const MAX_WINDOW: Duration = Duration::from_secs(24 * 3600);

/// What the engine needs to know about the rig.
#[derive(Clone)]
pub struct Context<'a> {
    pub dialect: &'static Dialect,
    pub timing: &'a Timing,
    pub line_ending: &'a str,
    pub secrets: &'a BTreeMap<String, String>,
    /// The mock platform for this case, and the host the modem is told to use.
    pub platform: Option<(&'a dyn miplcheck_platform::Control, &'a str)>,
    /// The platform's OneNET HTTP API for `onenet:` steps, and where it listens (`host:port`,
    /// `${platform.http}`); none when the rig's `[platform]` has no `http = true`.
    pub onenet: Option<(&'a crate::onenet_api::Client, &'a str)>,
    /// Departures the rig accepts; tolerated event codes are read as the ones expected.
    pub tolerate: &'a crate::rig::Tolerate,
    /// Told each step as it starts (`step 4: urc +MIPLEVENT: 0,6`), for a progress line.
    pub progress: Option<&'a Progress>,
}

/// Where a run says what it is doing now: a progress bar's message. Only people read it.
#[derive(Clone)]
pub struct Progress(pub std::sync::Arc<dyn Fn(&str) + Send + Sync>);

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Progress")
    }
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
    /// A send step's response time: the latency less the characters' time on the serial line
    /// ([`crate::line_time`]); the latency itself on a rig without a line.
    pub response: Option<Duration>,
    /// The line settings the response time was corrected for (`9600 8N1`); none: no correction.
    pub serial_line: Option<String>,
    /// Which figure the send step's window was judged on.
    pub judged_on: Option<crate::rig::ResponseTime>,
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
    /// Every datagram the platform saw, raw, for the capture file.
    pub wire: Vec<miplcheck_platform::WireRecord>,
    /// The run was asked to stop (SIGINT, SIGTERM) and this case stopped before the step
    /// [`CaseRun::failure`] names; its teardown did not run either.
    pub interrupted: Option<crate::interrupt::Signal>,
    /// The link to the modem closed during the case (a USB port that vanished, a serial server
    /// that hung up): a reason of the bench, not of the firmware.
    pub link_lost: Option<String>,
}

/// Captures taken from one transcript entry: which entry, where its content starts, what matched.
struct Claimed {
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
    /// When the case started: the anchor of a URC step with no command before it.
    started: Stamp,
    closed: Option<String>,
    /// The last platform operation and when it started.
    last_op: Option<(miplcheck_platform::OpId, Stamp)>,
    /// Wire lines not yet claimed by a `wire:` step: transcript index, time, matching text.
    wire_backlog: Vec<(usize, Stamp, String)>,
    /// A `wire:` step looks at datagrams from here on: after those the previous one claimed
    /// (several commands may cause one datagram, e.g. the parts of a notification).
    wire_from: Stamp,
    /// Raw datagrams for the capture file.
    wire_raw: Vec<miplcheck_platform::WireRecord>,
    /// The last `onenet:` call in flight (its answer comes on the channel) and when it started.
    last_call: Option<(std::sync::mpsc::Receiver<Result<serde_json::Value, String>>, Stamp)>,
    /// The rig's serial line as records name it (`9600 8N1`), made once: every send step keeps it.
    line_label: Option<String>,
}

pub fn run_case(port: &mut dyn Port, ctx: &Context<'_>, suite: &Suite, case: &Case) -> CaseRun {
    let mut s = Session::new(port, ctx);
    let start = s.port.now();
    let mut steps = Vec::new();
    let mut failure = None;
    let mut interrupted = None;
    let plan = suite
        .setup
        .iter()
        .enumerate()
        .map(|(i, st)| (format!("setup {}", i + 1), st))
        .chain(case.steps.iter().enumerate().map(|(i, st)| (format!("step {}", i + 1), st)));
    for (label, step) in plan {
        // Stop between steps: a step in progress finishes, so its transcript is whole.
        if let Some(signal) = crate::interrupt::requested() {
            failure = Some((label, format!("interrupted by {} before this step", signal.name())));
            interrupted = Some(signal);
            break;
        }
        let outcome = s.step(&label, step);
        let failed = outcome.failure.clone();
        steps.push(outcome);
        if let Some(why) = failed {
            failure = Some((label, why));
            break;
        }
    }
    // A boot banner in the middle of a case explains whatever failed after it.
    if let Some((label, why)) = &mut failure {
        if let Some((line, at)) = reboot_in(&s.transcript, ctx.dialect) {
            let said = format!(
                "the modem rebooted mid-case (`{}` at {}): {why}",
                crate::transcript::escape(line.as_bytes()),
                ms(at.saturating_sub(start))
            );
            if let Some(step) = steps.iter_mut().rev().find(|st| st.label == *label) {
                step.failure = Some(said.clone());
            }
            *why = said;
        }
    }
    let mut warnings = Vec::new();
    for (i, step) in suite.teardown.iter().enumerate().filter(|_| interrupted.is_none()) {
        let outcome = s.step(&format!("teardown {}", i + 1), step);
        if let Some(why) = &outcome.failure {
            warnings.push(format!("{}: {why}", outcome.label));
        }
        steps.push(outcome);
    }
    s.pull_wire();
    let duration = s.port.now().saturating_sub(start);
    let link_lost = s.closed.take();
    CaseRun { steps, transcript: s.transcript, failure, warnings, duration, wire: s.wire_raw, interrupted, link_lost }
}

/// The first line from the modem in `transcript` that its dialect prints when it (re)starts, and
/// when it came.
pub fn reboot_in(transcript: &Transcript, dialect: &Dialect) -> Option<(String, Stamp)> {
    transcript.items.iter().find_map(|item| match item {
        crate::transcript::Item::Entry(e) if e.dir == Dir::UeToTe => {
            let text = String::from_utf8_lossy(&e.bytes);
            text.split(['\r', '\n']).find_map(|l| dialect.boot_line(l)).map(|l| (l.to_string(), e.at))
        }
        _ => None,
    })
}

/// Why [`ask`] got no information lines.
#[derive(Debug, thiserror::Error)]
pub enum AskError {
    /// The command could not be written.
    #[error("cannot write to {port}: {source}")]
    Write {
        /// The port, as it describes itself.
        port: String,
        /// Why writing failed.
        source: std::io::Error,
    },
    /// The modem answered with an error result.
    #[error("`{command}` answered `{answer}`")]
    Refused {
        /// The command sent.
        command: String,
        /// The final result line, trimmed.
        answer: String,
    },
    /// No final result within the command's window.
    #[error("`{0}` got no answer")]
    NoAnswer(
        /// The command sent.
        String,
    ),
    /// The modem printed its boot banner or ready line instead of answering.
    #[error("the modem rebooted while answering `{command}` (`{line}`)")]
    Rebooted {
        /// The command sent.
        command: String,
        /// The boot line, escaped.
        line: String,
    },
    /// The link closed before the answer.
    #[error("the link closed ({0})")]
    Closed(
        /// The port's reason.
        String,
    ),
}

/// Sends one command outside any case and returns its information lines (for `AT+CGMR` and
/// `AT+CGSN=1` before a run); an error answer or silence is an `Err` naming it.
pub fn ask(port: &mut dyn Port, ctx: &Context<'_>, command: &str) -> Result<Vec<String>, AskError> {
    let mut s = Session::new(port, ctx);
    let mut bytes = command.as_bytes().to_vec();
    bytes.extend_from_slice(ctx.line_ending.as_bytes());
    let began = s.port.now();
    let sent = s.port.write(&bytes).map_err(|source| AskError::Write { port: s.port.describe(), source })?;
    s.classifier.command_sent_at(command, began);
    let hard = sent.saturating_add(s.scaled(ctx.dialect.max_response(command)).max(Duration::from_secs(1)));
    let mut infos = vec![];
    loop {
        match s.next(hard) {
            Next::Frame(f) if ctx.dialect.is_boot_line(&f.frame.text()) => {
                let text = f.frame.text();
                let line = ctx.dialect.boot_line(&text).unwrap_or_default();
                return Err(AskError::Rebooted {
                    command: command.to_string(),
                    line: crate::transcript::escape(line.as_bytes()),
                });
            }
            Next::Frame(f) => match f.class {
                Class::Info => infos.push(f.frame.text()),
                Class::Final(r) if r.is_ok() => return Ok(infos),
                Class::Final(_) => {
                    return Err(AskError::Refused {
                        command: command.to_string(),
                        answer: f.frame.text().trim().to_string(),
                    })
                }
                _ => {}
            },
            Next::Timeout => return Err(AskError::NoAnswer(command.to_string())),
            Next::Closed(why) => return Err(AskError::Closed(why)),
        }
    }
}

impl<'p, 'c> Session<'p, 'c> {
    pub fn new(port: &'p mut dyn Port, ctx: &'c Context<'c>) -> Self {
        let mut vars = BTreeMap::new();
        for (k, v) in ctx.secrets {
            vars.insert(format!("secret.{k}"), v.clone());
        }
        if let Some((pf, host)) = ctx.platform {
            vars.insert("platform.host".into(), host.to_string());
            vars.insert("platform.port".into(), pf.addr().port().to_string());
            if let Some(d) = pf.dtls_addr() {
                vars.insert("platform.dtls_host".into(), d.ip().to_string());
            }
            // M5310-A §1.1: the configuration stream cis_cgtool would make for this platform,
            // direct (`platform.cis_config`) or through its bootstrap server (`….bs`).
            let server = format!("{host}:{}", pf.addr().port());
            for (name, bootstrap) in [("platform.cis_config", false), ("platform.cis_config.bs", true)] {
                let cfg = miplcheck_at::cis_config::CisConfig::new(&server, bootstrap);
                vars.insert(format!("{name}.size"), cfg.to_bytes().len().to_string());
                vars.insert(name.into(), cfg.to_hex());
            }
        }
        if let Some((_, http)) = ctx.onenet {
            vars.insert("platform.http".into(), http.to_string());
        }
        let started = port.now();
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
            started,
            closed: None,
            last_op: None,
            wire_backlog: vec![],
            wire_from: started,
            wire_raw: vec![],
            last_call: None,
            line_label: ctx.timing.line.map(|l| l.label()),
        }
    }

    fn scaled(&self, w: Duration) -> Duration {
        w.mul_f64(self.ctx.timing.window_scale).min(MAX_WINDOW)
    }

    pub fn step(&mut self, label: &str, step: &Step) -> StepOutcome {
        let what = step.describe();
        let header = match &step.note {
            Some(n) => format!("{what} — {n}"),
            None => what.clone(),
        };
        if let Some(p) = self.ctx.progress {
            (p.0)(&format!("{label}: {header}"));
        }
        self.transcript.step(label, header);
        let mut out = StepOutcome {
            label: label.to_string(),
            line: step.line,
            what,
            latency: None,
            response: None,
            serial_line: None,
            judged_on: None,
            window: None,
            failure: None,
        };
        let r = match &step.action {
            Action::Send { line, expect, final_ } => send::run(self, step, line, expect, final_, &mut out),
            Action::Urcs { patterns, ordered } => urcs::run(self, step, patterns, *ordered, &mut out),
            Action::Wait(d) => wait::run(self, *d),
            Action::Platform(op, _) => platform::run(self, op),
            Action::Answer(p) => answer::run(self, step, p, &mut out),
            Action::Wire(ps) => wire::run(self, step, ps, &mut out),
            Action::Package(p) => package::run(self, step, p, &mut out),
            Action::Onenet(call, _) => onenet::start(self, call),
            Action::OnenetAnswer(p) => onenet::answer(self, step, p, &mut out),
        };
        self.pull_wire();
        if let Err(why) = r {
            self.transcript.note(self.port.now(), format!("{label} failed: {why}"));
            out.failure = Some(why);
        }
        out
    }

    fn platform(&self) -> Result<&'c dyn miplcheck_platform::Control, String> {
        self.ctx
            .platform
            .map(|(pf, _)| pf)
            .ok_or_else(|| "the rig has no [platform] table; add one to run platform steps".to_string())
    }

    /// Waits up to 10 ms, keeping whatever the modem says for later steps.
    fn pause(&mut self, until: Stamp) {
        let t = self.port.now().saturating_add(Duration::from_millis(10)).min(until);
        if let Next::Frame(s) = self.next(t) {
            if matches!(s.class, Class::Urc | Class::Info | Class::Fragment) {
                self.backlog.push(s);
            }
        }
        self.pull_wire();
    }

    /// Moves what the platform recorded into the transcript and the wire backlog.
    fn pull_wire(&mut self) {
        let Some((pf, _)) = self.ctx.platform else { return };
        for r in pf.take_records() {
            let dir = match r.dir {
                miplcheck_platform::WireDir::PlatformToUe => Dir::PfToUe,
                miplcheck_platform::WireDir::UeToPlatform => Dir::UeToPf,
            };
            let text = r.describe();
            let mut marks: Vec<Mark> = ["mid=", "token="]
                .iter()
                .filter_map(|key| {
                    let start = text.find(&format!(" {key}"))? + 1 + key.len();
                    let end = text[start..].find(' ').map(|e| start + e).unwrap_or(text.len());
                    Some(Mark { range: start..end, name: format!("coap.{}", key.trim_end_matches('=')) })
                })
                .collect();
            // The DTLS port's address is new for every case too.
            if let Some(host) = self.vars.get("platform.dtls_host") {
                for (i, _) in text.match_indices(host.as_str()) {
                    marks.push(Mark { range: i..i + host.len(), name: "platform.dtls_host".into() });
                }
            }
            // The platform's port is new for every case; name it wherever a payload carries it.
            if let Some(port) = self.vars.get("platform.port") {
                let needle = format!(":{port}");
                for (i, _) in text.match_indices(&needle) {
                    let after = i + needle.len();
                    if !text[after..].starts_with(|c: char| c.is_ascii_digit()) {
                        marks.push(Mark { range: i + 1..after, name: "platform.port".into() });
                    }
                }
            }
            let index =
                self.transcript.entry(Entry { at: r.at, dir, class: Some("coap"), bytes: text.into_bytes(), marks });
            self.wire_backlog.push((index, r.at, format!("{} {}", dir.arrow(), r.summary())));
            self.wire_raw.push(r);
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

#[cfg(test)]
mod ask_error_tests {
    use super::AskError;

    #[test]
    fn ask_errors_read_as_before() {
        let e = AskError::Refused { command: "AT+CGMR".into(), answer: "+CME ERROR: 4".into() };
        assert_eq!(e.to_string(), "`AT+CGMR` answered `+CME ERROR: 4`");
        assert_eq!(AskError::NoAnswer("AT+CIMI".into()).to_string(), "`AT+CIMI` got no answer");
    }
}
