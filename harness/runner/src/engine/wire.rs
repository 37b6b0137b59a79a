//! `wire:` waits for datagrams between the modem and the mock platform, in the listed order,
//! matched against their summaries (no `mid=`, no `token=`) and timed from the later of the last
//! command and the last platform operation. Each step looks only after the datagrams the previous
//! one claimed. The datagrams reach the transcript and the wire backlog in [`Session`]'s core.

use super::matching::{in_order, unmatched};
use super::{ms, Session, StepOutcome};
use crate::pattern::Pattern;
use crate::suite::{Step, DEFAULT_URC_WINDOW};

/// Waits for datagrams matching `patterns`, in the listed order.
pub(super) fn run(
    session: &mut Session<'_, '_>,
    step: &Step,
    patterns: &[Pattern],
    out: &mut StepOutcome,
) -> Result<(), String> {
    session.platform()?;
    let patterns = patterns
        .iter()
        .map(|p| p.bind(&session.vars).map(std::borrow::Cow::into_owned))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let anchor =
        [session.last_sent, session.last_op.map(|o| o.1)].into_iter().flatten().max().unwrap_or(session.started);
    let window = session.scaled(step.window.unwrap_or(DEFAULT_URC_WINDOW));
    out.window = Some(window);
    let hard = anchor.saturating_add(window).saturating_add(session.ctx.timing.late_grace);
    loop {
        let eligible: Vec<usize> =
            (0..session.wire_backlog.len()).filter(|&i| session.wire_backlog[i].1 >= session.wire_from).collect();
        let texts: Vec<String> = eligible.iter().map(|&i| session.wire_backlog[i].2.clone()).collect();
        match in_order(&patterns, &texts) {
            Ok(picks) => {
                let chosen: Vec<usize> = picks.into_iter().map(|k| eligible[k]).collect();
                // Captures become variables; the transcript line is the full description
                // (with mid and token), so they are not marked in it.
                for (j, &i) in chosen.iter().enumerate() {
                    for c in patterns[j].captures(&session.wire_backlog[i].2).unwrap_or_default() {
                        if !c.name.starts_with("secret.") {
                            session.vars.insert(c.name, c.value);
                        }
                    }
                }
                let latest = chosen.iter().map(|&i| session.wire_backlog[i].1).max().unwrap_or(anchor);
                session.wire_from = session.wire_from.max(latest);
                let mut sorted = chosen.clone();
                sorted.sort_unstable_by(|a, b| b.cmp(a));
                for i in sorted {
                    session.wire_backlog.remove(i);
                }
                let latency = latest.saturating_sub(anchor);
                out.latency = Some(latency);
                if latency > window {
                    return Err(format!(
                        "the last datagram came {} after the command, past its {} window",
                        ms(latency),
                        ms(window)
                    ));
                }
                return Ok(());
            }
            Err(matched) if session.port.now() >= hard => {
                let missing = unmatched(&patterns, &matched);
                let mut seen: Vec<String> = session
                    .wire_backlog
                    .iter()
                    .take(crate::cap::QUOTED)
                    .map(|w| crate::cap::line(&w.2).into_owned())
                    .collect();
                if session.wire_backlog.len() > crate::cap::QUOTED {
                    seen.push(format!("and {} more", session.wire_backlog.len() - crate::cap::QUOTED));
                }
                return Err(format!(
                    "no `{}` on the wire within {} (in the listed order); unclaimed datagrams: {}",
                    missing.join("`, `"),
                    ms(window),
                    if seen.is_empty() { "none".to_string() } else { seen.join(", ") }
                ));
            }
            Err(_) => session.pause(hard),
        }
    }
}
