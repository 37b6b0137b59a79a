//! `answer:` waits for the device's answer to the last `platform:` operation and matches it (code,
//! options, payload, as the wire description shows them) within the window, timed from the
//! operation's start.

use super::{ms, Session, StepOutcome};
use crate::pattern::Pattern;
use crate::suite::{Step, DEFAULT_URC_WINDOW};
use miplcheck_platform::OpOutcome;

/// Waits for the answer to the last platform operation and matches it against `pattern`.
pub(super) fn run(
    session: &mut Session<'_, '_>,
    step: &Step,
    pattern: &Pattern,
    out: &mut StepOutcome,
) -> Result<(), String> {
    let pf = session.platform()?;
    let (id, started) = session.last_op.ok_or("no platform operation before this answer step")?;
    let pattern = pattern.bind(&session.vars).map_err(|e| e.to_string())?;
    let window = session.scaled(step.window.unwrap_or(DEFAULT_URC_WINDOW));
    out.window = Some(window);
    let hard = started.saturating_add(window).saturating_add(session.ctx.timing.late_grace);
    loop {
        match pf.outcome(id) {
            OpOutcome::Answered { code, packet, at } => {
                let latency = at.saturating_sub(started);
                out.latency = Some(latency);
                let text = miplcheck_platform::record::answer_text(&code, &packet);
                if pattern.captures(&text).is_none() {
                    return Err(format!(
                        "the device answered `{}`, expected `{}`",
                        crate::cap::line(&text),
                        pattern.source()
                    ));
                }
                if latency > window {
                    return Err(format!("the device answered after {}, past its {} window", ms(latency), ms(window)));
                }
                return Ok(());
            }
            OpOutcome::TimedOut => {
                return Err("the device never answered: the platform re-sent the request and gave up".into())
            }
            OpOutcome::Reset => return Err("the device answered the request with RST".into()),
            OpOutcome::Cancelled(why) => return Err(format!("the platform stopped waiting for the answer: {why}")),
            OpOutcome::Pending if session.port.now() >= hard => {
                return Err(format!("no answer within the {} window", ms(window)));
            }
            OpOutcome::Pending => session.pause(hard),
        }
    }
}
