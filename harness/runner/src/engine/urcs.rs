//! `urc:`, `urcs:` (in the listed order) and `unordered:` (as a set) wait for URCs: lines from the
//! backlog, or new ones, that arrived since the last command, read through the rig's `tolerate`
//! list, claimed from the backlog once all the patterns are found, and timed from that command
//! (the case's start if none). Which lines answer which patterns is [`super::matching`]'s.

use super::matching::{as_a_set, in_order, unmatched};
use super::{ms, Claimed, Next, Seen, Session, StepOutcome};
use crate::pattern::Pattern;
use crate::suite::{Step, DEFAULT_URC_WINDOW};
use crate::transcript::escape;
use miplcheck_at::Class;

/// Waits for lines matching `patterns`, in the listed order when `ordered`, else as a set.
pub(super) fn run(
    session: &mut Session<'_, '_>,
    step: &Step,
    patterns: &[Pattern],
    ordered: bool,
    out: &mut StepOutcome,
) -> Result<(), String> {
    let patterns = &patterns
        .iter()
        .map(|p| p.bind(&session.vars).map(std::borrow::Cow::into_owned))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    // URCs are timed from the command that caused them; lines older than that are not theirs.
    let anchor = session.last_sent.unwrap_or(session.started);
    let window = session.scaled(step.window.unwrap_or(DEFAULT_URC_WINDOW));
    out.window = Some(window);
    let hard = anchor.saturating_add(window).saturating_add(session.ctx.timing.late_grace);
    let choice = loop {
        let eligible: Vec<usize> =
            (0..session.backlog.len()).filter(|&i| session.backlog[i].frame.at >= anchor).collect();
        let texts: Vec<String> =
            eligible.iter().map(|&i| session.ctx.tolerate.reading(&session.backlog[i].frame.text())).collect();
        let found = if ordered { in_order(patterns, &texts) } else { as_a_set(patterns, &texts) };
        if let Ok(picks) = found {
            break picks.into_iter().map(|k| eligible[k]).collect::<Vec<usize>>();
        }
        match session.next(hard) {
            Next::Frame(s) => {
                if matches!(s.class, Class::Urc | Class::Info | Class::Fragment) {
                    session.backlog.push(s);
                }
            }
            Next::Timeout => {
                session.flush_partial();
                let matched = found.err().unwrap_or_default();
                let missing = unmatched(patterns, &matched);
                let seen: Vec<String> = session.backlog.iter().map(|s| escape(s.frame.content())).collect();
                let texts: Vec<String> = session.backlog.iter().map(|s| s.frame.text()).collect();
                let hint = missing
                    .iter()
                    .find_map(|m| crate::explain::event_instead(m, &texts, session.ctx.dialect))
                    .map(|h| format!(" — {h}"))
                    .unwrap_or_default();
                return Err(format!(
                    "no `{}` within {} of the last command{}; unclaimed lines: {}{hint}",
                    missing.join("`, `"),
                    ms(window),
                    if ordered && patterns.len() > 1 { " (in the listed order)" } else { "" },
                    if seen.is_empty() { "none".to_string() } else { crate::cap::list(&seen) }
                ));
            }
            Next::Closed(why) => return Err(format!("the link closed while waiting for URCs ({why})")),
        }
    };
    // Claim the chosen lines, highest backlog index first so the others keep their places.
    let mut claimed: Vec<(usize, Seen)> = Vec::new();
    let mut order: Vec<(usize, usize)> = choice.iter().copied().enumerate().collect();
    order.sort_by_key(|&(_, b)| std::cmp::Reverse(b));
    for (j, b) in order {
        claimed.push((j, session.backlog.remove(b)));
    }
    claimed.sort_by_key(|(j, _)| *j);
    let latest = claimed.iter().map(|(_, s)| s.frame.at).max().unwrap_or(anchor);
    let latency = latest.saturating_sub(anchor);
    out.latency = Some(latency);
    let captured = claimed
        .into_iter()
        .map(|(j, s)| Claimed {
            index: s.index,
            offset: s.frame.content.start,
            caps: patterns[j].captures(&session.ctx.tolerate.reading(&s.frame.text())).unwrap_or_default(),
        })
        .collect();
    session.remember(captured);
    if latency > window {
        return Err(format!("the last URC arrived {} after the command, after its {} window", ms(latency), ms(window)));
    }
    Ok(())
}
