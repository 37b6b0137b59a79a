//! `package:` receives a file the modem hands over piece by piece (BC39 §5.10, a SOTA package
//! arriving as `+MIPLWRITE` lines): each URC matching `each:` carries a piece in its `{data}`
//! capture and is answered with `reply:` (a `send:` with the manual's window), until one matches
//! `until:`; then the pieces must make the file, byte for byte.

use super::{ms, Claimed, Next, Session, StepOutcome};
use crate::pattern::Pattern;
use crate::suite::{Package, Step, DEFAULT_URC_WINDOW};
use crate::transcript::escape;
use miplcheck_at::Class;
use sha2::{Digest, Sha256};

/// Receives `p.file` in pieces, answering each, and compares what they make with it.
pub(super) fn run(
    session: &mut Session<'_, '_>,
    step: &Step,
    p: &Package,
    out: &mut StepOutcome,
) -> Result<(), String> {
    let each = p.each.bind(&session.vars).map_err(|e| e.to_string())?;
    let until = p.until.bind(&session.vars).map_err(|e| e.to_string())?;
    let window = session.scaled(step.window.unwrap_or(DEFAULT_URC_WINDOW));
    out.window = Some(window);
    let ok = Pattern::new("OK").map_err(|e| e.to_string())?;
    // Each answer is timed by the manual's window for the reply command, not the piece's.
    let reply_step = Step { window: None, ..step.clone() };
    let (mut got, mut pieces) = (Vec::new(), 0usize);
    loop {
        let anchor = session.last_sent.unwrap_or(session.started);
        let hard = anchor.saturating_add(window).saturating_add(session.ctx.timing.late_grace);
        let seen = loop {
            let hit = (0..session.backlog.len()).find(|&i| {
                let b = &session.backlog[i];
                b.frame.at >= anchor
                    && (each.captures(&b.frame.text()).is_some() || until.captures(&b.frame.text()).is_some())
            });
            if let Some(i) = hit {
                break session.backlog.remove(i);
            }
            match session.next(hard) {
                Next::Frame(s) if matches!(s.class, Class::Urc | Class::Info | Class::Fragment) => {
                    session.backlog.push(s)
                }
                Next::Frame(_) => {}
                Next::Timeout => {
                    return Err(format!(
                        "after {pieces} piece(s) ({} bytes) neither `{}` nor `{}` came within {}",
                        got.len(),
                        each.source(),
                        until.source(),
                        ms(window)
                    ))
                }
                Next::Closed(why) => return Err(format!("the link closed after {pieces} piece(s) ({why})")),
            }
        };
        let text = seen.frame.text();
        let last = until.captures(&text).is_some();
        let pattern = if last { &until } else { &each };
        let caps = pattern.captures(&text).unwrap_or_default();
        let data = caps.iter().find(|c| c.name == "data").map(|c| c.value.trim_matches('"').to_string());
        session.remember(vec![Claimed { index: seen.index, offset: seen.frame.content.start, caps }]);
        if last {
            break;
        }
        let bytes = data.as_deref().and_then(miplcheck_lwm2m::wire::unhex).ok_or_else(|| {
            format!("piece {} is not hexadecimal: `{}`", pieces + 1, crate::cap::line(&escape(seen.frame.content())))
        })?;
        got.extend(bytes);
        pieces += 1;
        super::send::run(session, &reply_step, &p.reply, &[], &ok, out)?;
    }
    out.window = Some(window);
    match difference(&got, pieces, &p.bytes, &p.file.display().to_string()) {
        Some(why) => Err(why),
        None => Ok(()),
    }
}

/// What the pieces made, against what the file holds; `None` when they are the same.
fn difference(got: &[u8], pieces: usize, want: &[u8], file: &str) -> Option<String> {
    if got == want {
        return None;
    }
    let first = got.iter().zip(want).position(|(a, b)| a != b).unwrap_or(got.len().min(want.len()));
    Some(format!(
        "the package arrived as {} bytes in {pieces} pieces (sha256 {}), but {file} has {} bytes (sha256 {}); \
         they differ from byte {first}",
        got.len(),
        short_sha(got),
        want.len(),
        short_sha(want)
    ))
}

/// The first 16 hex digits of the SHA-256: enough to tell packages apart in a message.
fn short_sha(b: &[u8]) -> String {
    Sha256::digest(b).iter().take(8).map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_bytes_are_no_difference() {
        assert_eq!(difference(b"abc", 1, b"abc", "f"), None);
    }

    #[test]
    fn a_short_package_says_how_short_and_where() {
        let d = difference(b"abX", 2, b"abcd", "suites/data/p.bin").unwrap();
        assert!(d.contains("3 bytes in 2 pieces") && d.contains("has 4 bytes") && d.contains("from byte 2"), "{d}");
    }
}
