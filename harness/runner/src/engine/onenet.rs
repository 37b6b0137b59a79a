//! `onenet:` starts a call of the OneNET HTTP API ([`crate::onenet_api`]) on a thread of its own,
//! so later steps can answer the modem's `+MIPLREAD` while the call waits for the device;
//! `onenet-answer:` waits for its envelope and matches it as [`crate::onenet_api::answer_text`]
//! words it. The request and the answer are transcript lines (`HTTP GET /nbiot?…`,
//! `HTTP → errno 0 succ …`); the api-key is a header only and never written down.

use super::{ms, Session, StepOutcome};
use crate::onenet_api::{answer_text, Call};
use crate::pattern::Pattern;
use crate::suite::Step;
use std::time::Duration;

/// How long `onenet-answer:` waits when it names no window: past the API's own 25 s time-out.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(30);

/// Starts `call` for the device registered with the case's platform.
pub(super) fn start(session: &mut Session<'_, '_>, call: &Call) -> Result<(), String> {
    let (client, _) =
        session.ctx.onenet.ok_or("the rig's [platform] has no `http = true`, so there is no OneNET API to call")?;
    let pf = session.platform()?;
    // OneNET names a device by IMEI; the mock's registered endpoint is `<IMEI>;<IMSI>`.
    let device = pf.devices().into_iter().next().ok_or("no device is registered with the platform")?;
    let imei = device.endpoint.split(';').next().unwrap_or_default().to_string();
    let req = call.request(&imei, None);
    let now = session.port.now();
    session.transcript.api(now, format!("HTTP {}", req.shown()));
    let (tx, rx) = std::sync::mpsc::channel();
    let client = client.clone();
    std::thread::Builder::new()
        .name("onenet call".into())
        .spawn(move || {
            let _ = tx.send(client.send(&req));
        })
        .map_err(|e| format!("cannot start the HTTP call: {e}"))?;
    session.last_call = Some((rx, now));
    Ok(())
}

/// Waits for the last call's envelope and matches it against `pattern`.
pub(super) fn answer(
    session: &mut Session<'_, '_>,
    step: &Step,
    pattern: &Pattern,
    out: &mut StepOutcome,
) -> Result<(), String> {
    let (rx, started) = session.last_call.take().ok_or("no onenet call before this onenet-answer step")?;
    let pattern = pattern.bind(&session.vars).map_err(|e| e.to_string())?;
    let window = session.scaled(step.window.unwrap_or(DEFAULT_WINDOW));
    out.window = Some(window);
    let hard = started.saturating_add(window).saturating_add(session.ctx.timing.late_grace);
    loop {
        match rx.try_recv() {
            Ok(result) => {
                let now = session.port.now();
                let latency = now.saturating_sub(started);
                out.latency = Some(latency);
                let envelope = result?;
                let text = answer_text(&envelope);
                session.transcript.api(now, format!("HTTP → {text}"));
                if pattern.captures(&text).is_none() {
                    return Err(format!(
                        "OneNET's API answered `{}`, expected `{}`",
                        crate::cap::line(&text),
                        pattern.source()
                    ));
                }
                if latency > window {
                    return Err(format!("the API answered after {}, past its {} window", ms(latency), ms(window)));
                }
                return Ok(());
            }
            Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                return Err("the HTTP call ended without an answer".into())
            }
            Err(std::sync::mpsc::TryRecvError::Empty) if session.port.now() >= hard => {
                return Err(format!("no answer from the API within the {} window", ms(window)));
            }
            Err(std::sync::mpsc::TryRecvError::Empty) => session.pause(hard),
        }
    }
}
