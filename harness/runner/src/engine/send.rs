//! `send:` writes one command and judges its answer: the information lines (`expect:`, in order,
//! all of them, nothing more), the final result code (`final:`), then the response window (the
//! step's `window:`, or the manual's 最大响应时间 for the command, scaled by the rig). URCs that
//! arrive meanwhile go to the backlog for later `urc:` steps. The `package:` step sends its
//! replies through here too.
//!
//! On a rig with a serial line the window is judged on the response time corrected for the
//! characters' time on the wire ([`crate::line_time`]), unless the rig says
//! `[timing] response_time = "raw"`; both figures are kept and a late answer names both.

use super::{ms, Claimed, Next, Seen, Session, StepOutcome};
use crate::line_time::Exchange;
use crate::pattern::{Pattern, Template};
use crate::rig::ResponseTime;
use crate::suite::Step;
use crate::transcript::{escape, Dir, Entry, Mark};
use miplcheck_at::dialect::Dialect;
use miplcheck_at::{Class, FinalResult};

/// Sends `template`, filled from the variables, and judges the answer against `expect` and `final_`.
pub(super) fn run(
    session: &mut Session<'_, '_>,
    step: &Step,
    template: &Template,
    expect: &[Pattern],
    final_: &Pattern,
    out: &mut StepOutcome,
) -> Result<(), String> {
    let filled = template.fill(&session.vars).map_err(|e| e.to_string())?;
    let mut bytes = filled.text.clone().into_bytes();
    bytes.extend_from_slice(session.ctx.line_ending.as_bytes());
    let command_bytes = bytes.len();
    // Before writing: an answer cannot be older than this (a fast modem's echo can be stamped
    // by the reader before `write` returns).
    let began = session.port.now();
    let sent = session.port.write(&bytes).map_err(|e| format!("cannot write to {}: {e}", session.port.describe()))?;
    let marks: Vec<Mark> = filled
        .marks
        .iter()
        .filter(|m| !m.name.starts_with("secret."))
        .map(|m| Mark { range: m.range.clone(), name: m.name.clone() })
        .collect();
    let echo_marks: Vec<Mark> = marks.clone();
    // Stamped when it began to go out: the modem may have echoed and answered before a write on
    // a loaded machine returned, and the transcript must not show the answer first.
    session.transcript.entry(Entry { at: began, dir: Dir::TeToUe, class: None, bytes, marks });
    session.classifier.command_sent_at(&filled.text, began);
    // URCs are claimed from before the write: the reader can stamp them before `write` returns.
    session.last_sent = Some(began);

    let manual = step.window.unwrap_or_else(|| session.ctx.dialect.max_response(&filled.text));
    let window = session.scaled(manual);
    out.window = Some(window);
    // A window judged on the corrected figure can pass an answer whose raw latency is past it:
    // listen for the command's own line time longer (the answer's is in the late grace).
    let on_line = session.ctx.timing.line.map(|l| l.chars(command_bytes)).unwrap_or_default();
    let hard = sent.saturating_add(window).saturating_add(session.ctx.timing.late_grace).saturating_add(on_line);
    let mut infos: Vec<Seen> = Vec::new();
    let fin = loop {
        match session.next(hard) {
            Next::Frame(s) => match s.class {
                // The echo is the command again: name its volatile values the same way.
                Class::Echo => {
                    for m in &echo_marks {
                        let r = s.frame.content.start + m.range.start..s.frame.content.start + m.range.end;
                        session.transcript.mark(s.index, Mark { range: r, name: m.name.clone() });
                    }
                }
                Class::Urc => session.backlog.push(s),
                Class::Final(_) => break s,
                Class::Info | Class::Prompt | Class::Fragment => infos.push(s),
                // Completed before the command was written: kept in the transcript only.
                Class::Stale => {}
            },
            Next::Timeout => {
                session.classifier.abandon();
                session.flush_partial();
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
    let exchange = Exchange {
        began,
        sent,
        finished: fin.frame.at,
        command_bytes,
        answer_bytes: infos.iter().map(|s| s.frame.raw.len()).sum::<usize>() + fin.frame.bytes_by_stamp(),
    };
    let line = session.ctx.timing.line.as_ref();
    let (latency, response) = (exchange.raw(), exchange.corrected(line));
    let judged_on = session.ctx.timing.response_time;
    out.latency = Some(latency);
    out.response = Some(response);
    out.serial_line = session.line_label.clone();
    out.judged_on = Some(judged_on);

    // Content first: a wrong answer matters more than a late one.
    let expect =
        expect.iter().map(|p| p.bind(&session.vars)).collect::<Result<Vec<_>, _>>().map_err(|e| e.to_string())?;
    let final_ = final_.bind(&session.vars).map_err(|e| e.to_string())?;
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
            Some(c) => captured.push(Claimed { index: got.index, offset: got.frame.content.start, caps: c }),
            None => {
                return Err(format!(
                    "information line {} should match `{}`, got `{}`",
                    i + 1,
                    p.source(),
                    crate::cap::line(&escape(got.frame.content()))
                ))
            }
        }
    }
    if infos.len() > expect.len() {
        return Err(format!(
            "unexpected information line `{}`",
            crate::cap::line(&escape(infos[expect.len()].frame.content()))
        ));
    }
    let fin_text = fin.frame.text();
    match final_.captures(&fin_text) {
        Some(c) => captured.push(Claimed { index: fin.index, offset: fin.frame.content.start, caps: c }),
        None => {
            return Err(format!(
                "expected final `{}`, got `{}`{}",
                final_.source(),
                crate::cap::line(fin_text.trim()),
                explain(session.ctx.dialect, &fin.class)
            ))
        }
    }
    session.remember(captured);
    let judged = match judged_on {
        ResponseTime::Corrected => response,
        ResponseTime::Raw => latency,
    };
    if judged > window {
        let figures = match (&out.serial_line, judged_on) {
            (None, _) => ms(latency),
            (Some(l), ResponseTime::Corrected) => format!("{} ({} corrected for {l})", ms(latency), ms(response)),
            (Some(l), ResponseTime::Raw) => {
                format!("{} (judged raw; {} corrected for {l})", ms(latency), ms(response))
            }
        };
        return Err(format!(
            "answered in {figures}, after its {} window ({})",
            ms(window),
            window_source(session.ctx.dialect, &filled.text, step.window.is_some())
        ));
    }
    Ok(())
}

fn explain(dialect: &Dialect, class: &Class) -> String {
    let code = match class {
        Class::Final(FinalResult::Cme(n)) | Class::Final(FinalResult::Cis(n)) => *n,
        _ => return String::new(),
    };
    match dialect.error(code) {
        Some(c) => format!(" ({}, {})", c.meaning, c.section),
        None => String::new(),
    }
}

fn received(infos: &[Seen]) -> String {
    if infos.is_empty() {
        return "nothing".into();
    }
    crate::cap::list(&infos.iter().map(|s| escape(&s.frame.raw)).collect::<Vec<_>>())
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
