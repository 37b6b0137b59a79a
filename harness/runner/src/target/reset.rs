//! The reset strategy of a bench modem (`[reset]`): its reset command, then its ready line.

use super::TargetError;
use crate::rig::Reset;
use crate::transcript::{Dir, Entry, Transcript};
use miplcheck_transport::{Port, Received};
use std::time::Duration;

/// Without a `ready` line, how long to listen for the command's answer: long enough to hear an
/// `ERROR`, short enough not to slow every case down on modems that reboot without answering.
const ANSWER_WAIT: Duration = Duration::from_secs(1);

/// Sends the rig's reset command and waits for its `ready` line (or, without one, the command's
/// answer). Returns the line that said the modem is back. A refusal (`ERROR`, `+CME ERROR: …`,
/// `+CIS ERROR: …`) fails at once: a modem that refuses will not send its ready line however long
/// it is waited for.
pub(super) fn run(
    port: &mut dyn Port,
    reset: &Reset,
    line_ending: &str,
    log: &mut Transcript,
) -> Result<String, TargetError> {
    let pat =
        reset.ready.as_deref().map(crate::pattern::Pattern::new).transpose().map_err(TargetError::ReadyPattern)?;
    let until = match &reset.ready {
        Some(r) => format!("`{r}` within {}", crate::engine::ms(reset.timeout)),
        None => format!("its answer within {}", crate::engine::ms(ANSWER_WAIT.min(reset.timeout))),
    };
    log.step("prepare", format!("reset: {} until {until}", reset.command));
    let line = format!("{}{line_ending}", reset.command).into_bytes();
    // Stamped when it began to go out (see `sync`).
    let start = port.now();
    port.write(&line).map_err(|source| TargetError::ResetWrite { command: reset.command.clone(), source })?;
    log.entry(Entry { at: start, dir: Dir::TeToUe, class: None, bytes: line, marks: vec![] });
    let wait = if pat.is_some() { reset.timeout } else { ANSWER_WAIT.min(reset.timeout) };
    let deadline = port.now() + wait;
    let mut lexer = miplcheck_at::Lexer::new();
    loop {
        match port.read_until(deadline) {
            Received::Data(c) => {
                log.entry(Entry { at: c.at, dir: Dir::UeToTe, class: None, bytes: c.bytes.clone(), marks: vec![] });
                for frame in lexer.push(&c.bytes, c.at) {
                    let text = frame.text();
                    let text = text.trim();
                    if refusal(text) {
                        return Err(TargetError::ResetRefused {
                            command: reset.command.clone(),
                            answer: crate::cap::line(&miplcheck_record::printable(text)).into_owned(),
                        });
                    }
                    match &pat {
                        Some(p) if p.matches(text) => return Ok(text.to_string()),
                        None if text == "OK" => return Ok(text.to_string()),
                        _ => {}
                    }
                }
                // A port that never stops talking would otherwise never reach the deadline.
                if port.now() >= deadline {
                    return not_ready(reset);
                }
            }
            Received::Timeout => return not_ready(reset),
            Received::Closed(why) => return Err(TargetError::ResetClosed(why)),
        }
    }
}

/// The end of the wait with no ready line: a failure when one was asked for.
fn not_ready(reset: &Reset) -> Result<String, TargetError> {
    match &reset.ready {
        Some(ready) => {
            Err(TargetError::NotReady { ready: ready.clone(), timeout: reset.timeout, command: reset.command.clone() })
        }
        // Many modems reboot before answering; the AT/OK sync after this tells.
        None => Ok("no answer".into()),
    }
}

/// A final result code that refuses the command, in either dialect's error family.
fn refusal(line: &str) -> bool {
    line == "ERROR" || line.starts_with("+CME ERROR") || line.starts_with("+CIS ERROR")
}

#[cfg(test)]
mod tests {
    use super::*;
    use miplcheck_transport::Chunk;
    use rstest::rstest;
    use std::io;

    /// A modem in virtual time that answers each write with `answer` 10 ms later, then is silent.
    struct Scripted {
        now: Duration,
        answer: Vec<u8>,
        due: Option<Duration>,
    }

    impl Port for Scripted {
        fn describe(&self) -> String {
            "scripted".into()
        }
        fn now(&self) -> Duration {
            self.now
        }
        fn write(&mut self, _: &[u8]) -> io::Result<Duration> {
            self.due = Some(self.now + Duration::from_millis(10));
            Ok(self.now)
        }
        fn read_until(&mut self, deadline: Duration) -> Received {
            match self.due.take() {
                Some(at) if at <= deadline => {
                    self.now = at;
                    Received::Data(Chunk { at, bytes: std::mem::take(&mut self.answer) })
                }
                _ => {
                    self.now = self.now.max(deadline);
                    Received::Timeout
                }
            }
        }
    }

    fn reset(ready: Option<&str>) -> Reset {
        Reset { command: "AT+QRST=1".into(), ready: ready.map(str::to_string), timeout: Duration::from_secs(15) }
    }

    #[rstest]
    #[case(Some("RDY"), "\r\nERROR\r\n", "reset: AT+QRST=1 was answered `ERROR`")]
    #[case(Some("RDY"), "AT+QRST=1\r\r\n+CME ERROR: 100\r\n", "reset: AT+QRST=1 was answered `+CME ERROR: 100`")]
    #[case(None, "\r\n+CIS ERROR: 601\r\n", "reset: AT+QRST=1 was answered `+CIS ERROR: 601`")]
    fn a_refused_reset_fails_at_once(#[case] ready: Option<&str>, #[case] answer: &str, #[case] says: &str) {
        let mut port = Scripted { now: Duration::ZERO, answer: answer.as_bytes().to_vec(), due: None };
        let e = run(&mut port, &reset(ready), "\r", &mut Transcript::default()).unwrap_err();
        assert_eq!(e.to_string(), says);
        assert_eq!(port.now, Duration::from_millis(10), "waited past the answer");
    }

    #[rstest]
    #[case(Some("RDY"), "\r\nOK\r\n\r\nRDY\r\n", Ok("RDY"), 10)]
    #[case(None, "\r\nOK\r\n", Ok("OK"), 10)]
    #[case(None, "", Ok("no answer"), 1000)]
    #[case(Some("RDY"), "\r\nOK\r\n", Err("reset: no `RDY` within 15s of AT+QRST=1"), 15_000)]
    fn a_reset_waits_for_its_ready_line_and_no_longer(
        #[case] ready: Option<&str>,
        #[case] answer: &str,
        #[case] gives: Result<&str, &str>,
        #[case] spent_ms: u64,
    ) {
        let mut port = Scripted { now: Duration::ZERO, answer: answer.as_bytes().to_vec(), due: None };
        let r = run(&mut port, &reset(ready), "\r", &mut Transcript::default()).map_err(|e| e.to_string());
        assert_eq!(r.as_deref().map_err(String::as_str), gives);
        assert_eq!(port.now, Duration::from_millis(spent_ms));
    }

    /// The emulator's own reset command, rehearsed as a bench rig's `[reset]`: the strategy hears
    /// its ready line after the boot time, and the reboot detection knows the banner.
    #[rstest]
    #[case("bc39")]
    #[case("m5310a")]
    fn the_emulators_reset_command_is_a_reset_strategy(#[case] dialect: &str) {
        use miplcheck_emulator::{sim::SimPort, Modem, Options};
        let d = miplcheck_at::Dialect::by_name(dialect).unwrap();
        let mut port = SimPort::new(Modem::new(Options::for_dialect(dialect)).unwrap());
        let r = Reset {
            command: d.restart.command.into(),
            ready: Some(d.restart.ready().into()),
            timeout: Duration::from_secs(15),
        };
        let mut log = Transcript::default();
        assert_eq!(run(&mut port, &r, "\r", &mut log).unwrap(), d.restart.ready());
        assert!(port.now() >= Duration::from_millis(d.restart.boot_ms), "ready only after the boot time");
        let (line, _) = crate::engine::reboot_in(&log, d).expect("the banner is seen as a reboot");
        assert!(d.restart.banner.contains(&line.as_str()) || line == d.restart.answer, "{line}");
    }
}
