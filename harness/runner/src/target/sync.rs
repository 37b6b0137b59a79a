//! Getting the line into a known state: drain what is in flight, then `AT` until `OK`.

use super::TargetError;
use crate::transcript::{Dir, Entry, Transcript};
use miplcheck_transport::{Port, Received};
use std::time::Duration;

/// Reads and drops whatever arrives until the line has been quiet for `quiet`.
pub(super) fn drain(port: &mut dyn Port, quiet: Duration, limit: Duration) -> Result<(), TargetError> {
    let end = port.now() + limit;
    loop {
        let deadline = (port.now() + quiet).min(end);
        match port.read_until(deadline) {
            Received::Data(_) if port.now() < end => {}
            Received::Data(_) => return Err(TargetError::NotQuiet(limit)),
            Received::Timeout => return Ok(()),
            Received::Closed(why) => return Err(TargetError::Closed(why)),
        }
    }
}

/// Reads and drops everything up to and including `marker`, which the target writes after all it
/// wrote before (the emulator's [`Running::mark`]): no fixed quiet spell, the line is known to
/// hold nothing older once it has come.
///
/// [`Running::mark`]: miplcheck_emulator::serve::Running::mark
pub(super) fn drain_to_marker(port: &mut dyn Port, marker: &[u8], limit: Duration) -> Result<(), TargetError> {
    let end = port.now() + limit;
    // What came so far, less what cannot be the start of the marker any more.
    let mut tail: Vec<u8> = Vec::new();
    loop {
        match port.read_until(end) {
            Received::Data(c) => {
                tail.extend_from_slice(&c.bytes);
                if tail.windows(marker.len()).any(|w| w == marker) {
                    return Ok(());
                }
                let keep = tail.len().min(marker.len().saturating_sub(1));
                tail.drain(..tail.len() - keep);
            }
            Received::Timeout => return Err(TargetError::NotMarked(limit)),
            Received::Closed(why) => return Err(TargetError::Closed(why)),
        }
    }
}

/// A marker no earlier sync of this process used, so one left over from a sync that gave up is
/// never taken for this one's.
pub(super) fn fresh_marker() -> Vec<u8> {
    static SYNCS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SYNCS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("\r\n[miplcheck sync {} {n}]\r\n", std::process::id()).into_bytes()
}

/// How long the line must stay quiet after the sync's `OK` before the case may begin.
const SETTLE: Duration = Duration::from_millis(5);

/// Sends `AT` until the modem answers `OK`, dropping everything before that answer: after it, the
/// line holds nothing from before. Modems that autobaud or just booted may miss the first tries.
/// The exchange goes to `log`. A short quiet spell follows the `OK` (see [`sync_after`]).
pub(super) fn sync(
    port: &mut dyn Port,
    line_ending: &str,
    tries: u32,
    per_try: Duration,
    log: &mut Transcript,
) -> Result<(), TargetError> {
    sync_after(port, line_ending, tries, per_try, SETTLE, log)
}

/// [`sync`], with `first_settle` as the quiet spell after an `OK` to the first try. A modem may
/// still be answering the previous case's last command when the first `AT` comes, and then a
/// second `OK` follows; only a target that can have nothing in flight (the emulator, reset and
/// marked) may say `Duration::ZERO`. After a retry the spell is always taken: an earlier try may
/// be answered late.
pub(super) fn sync_after(
    port: &mut dyn Port,
    line_ending: &str,
    tries: u32,
    per_try: Duration,
    first_settle: Duration,
    log: &mut Transcript,
) -> Result<(), TargetError> {
    log.step("prepare", format!("sync: AT until OK, {tries} tries of {}", crate::engine::ms(per_try)));
    let began = port.now();
    let mut heard: Vec<u8> = Vec::new();
    for try_ in 0..tries {
        let at = format!("AT{line_ending}").into_bytes();
        // Stamped when it began to go out, as a send step's command is: the answer may come
        // before a slow write returns, and the transcript must not show it first.
        let start = port.now();
        port.write(&at).map_err(TargetError::SyncWrite)?;
        log.entry(Entry { at: start, dir: Dir::TeToUe, class: None, bytes: at, marks: vec![] });
        let deadline = port.now() + per_try;
        let mut lexer = miplcheck_at::Lexer::new();
        loop {
            match port.read_until(deadline) {
                Received::Data(c) => {
                    log.entry(Entry { at: c.at, dir: Dir::UeToTe, class: None, bytes: c.bytes.clone(), marks: vec![] });
                    if heard.len() < SYNC_HEARD {
                        heard.extend_from_slice(&c.bytes[..c.bytes.len().min(SYNC_HEARD - heard.len())]);
                    }
                    if lexer.push(&c.bytes, c.at).iter().any(|f| f.text().trim() == "OK") {
                        // An echo or a second OK may still be on its way if the modem answered
                        // an earlier try (or an earlier command) late; a short quiet spell takes it.
                        let settle = if try_ == 0 { first_settle } else { SETTLE };
                        if settle.is_zero() {
                            return Ok(());
                        }
                        return drain(port, settle, Duration::from_secs(5));
                    }
                    // A port that never stops talking would otherwise never reach the deadline.
                    if port.now() >= deadline {
                        break;
                    }
                }
                Received::Timeout => break,
                Received::Closed(why) => {
                    log.note(port.now(), format!("the link closed: {why}"));
                    return Err(TargetError::SyncClosed(why));
                }
            }
        }
    }
    let received = miplcheck_record::escape(&heard);
    Err(TargetError::NoOk { tries, spent: port.now().saturating_sub(began), received })
}

/// How many bytes heard during a failed sync its error quotes.
const SYNC_HEARD: usize = 120;

#[cfg(test)]
mod tests {
    use super::*;
    use miplcheck_transport::Chunk;
    use std::io;

    /// A port that never answers, in virtual time: every read waits out its deadline.
    struct Silent {
        now: Duration,
        garble: bool,
    }

    impl Port for Silent {
        fn describe(&self) -> String {
            "silent".into()
        }
        fn now(&self) -> Duration {
            self.now
        }
        fn write(&mut self, _: &[u8]) -> io::Result<Duration> {
            Ok(self.now)
        }
        fn read_until(&mut self, deadline: Duration) -> Received {
            if self.garble {
                self.garble = false;
                return Received::Data(Chunk { at: self.now, bytes: b"\x1b[31m\xff".to_vec() });
            }
            self.now = self.now.max(deadline);
            Received::Timeout
        }
    }

    /// A port that sends a line every millisecond, forever.
    struct Flood {
        now: Duration,
    }

    impl Port for Flood {
        fn describe(&self) -> String {
            "flood".into()
        }
        fn now(&self) -> Duration {
            self.now
        }
        fn write(&mut self, _: &[u8]) -> io::Result<Duration> {
            Ok(self.now)
        }
        fn read_until(&mut self, _: Duration) -> Received {
            self.now += Duration::from_millis(1);
            Received::Data(Chunk { at: self.now, bytes: b"+CEREG: 0\r\n".to_vec() })
        }
    }

    /// A modem that answers 1 ms after the command starts to go out, on a machine where `write`
    /// takes 5 ms to return.
    struct SlowWrite {
        now: Duration,
        pending: Vec<Chunk>,
    }

    impl Port for SlowWrite {
        fn describe(&self) -> String {
            "slow write".into()
        }
        fn now(&self) -> Duration {
            self.now
        }
        fn write(&mut self, bytes: &[u8]) -> io::Result<Duration> {
            let answer = if bytes.starts_with(b"AT+QRST") { &b"\r\nOK\r\n\r\nRDY\r\n"[..] } else { b"\r\nOK\r\n" };
            self.pending.push(Chunk { at: self.now + Duration::from_millis(1), bytes: answer.to_vec() });
            self.now += Duration::from_millis(5);
            Ok(self.now)
        }
        fn read_until(&mut self, deadline: Duration) -> Received {
            match self.pending.pop() {
                Some(c) => Received::Data(c),
                None => {
                    self.now = self.now.max(deadline);
                    Received::Timeout
                }
            }
        }
    }

    fn stamps(log: &Transcript) -> Vec<(Duration, Dir)> {
        log.items
            .iter()
            .filter_map(|i| match i {
                crate::transcript::Item::Entry(e) => Some((e.at, e.dir)),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn the_sync_and_the_reset_are_stamped_when_they_began_to_go_out() {
        let (zero, one) = (Duration::ZERO, Duration::from_millis(1));
        let mut port = SlowWrite { now: zero, pending: vec![] };
        let mut log = Transcript::default();
        sync(&mut port, "\r", 3, Duration::from_secs(1), &mut log).unwrap();
        assert_eq!(stamps(&log), [(zero, Dir::TeToUe), (one, Dir::UeToTe)], "the answer never before its command");
        let mut port = SlowWrite { now: zero, pending: vec![] };
        let mut log = Transcript::default();
        let reset = crate::rig::Reset {
            command: "AT+QRST=1".into(),
            ready: Some("RDY".into()),
            timeout: Duration::from_secs(2),
        };
        super::super::reset::run(&mut port, &reset, "\r", &mut log).unwrap();
        assert_eq!(stamps(&log)[..2], [(zero, Dir::TeToUe), (one, Dir::UeToTe)]);
    }

    #[test]
    fn a_modem_that_never_stops_talking_is_given_up_on_in_time() {
        let mut port = Flood { now: Duration::ZERO };
        let e = sync(&mut port, "\r", 3, Duration::from_secs(1), &mut Transcript::default()).unwrap_err();
        assert!(e.to_string().starts_with("sync: no OK to AT after 3 tries over 3.0 s; received `+CEREG: 0"), "{e}");
        let reset = crate::rig::Reset {
            command: "AT+QRST=1".into(),
            ready: Some("RDY".into()),
            timeout: Duration::from_secs(2),
        };
        let e = super::super::reset::run(&mut port, &reset, "\r", &mut Transcript::default()).unwrap_err();
        assert_eq!(e.to_string(), "reset: no `RDY` within 2s of AT+QRST=1");
        assert!(drain(&mut port, Duration::from_millis(100), Duration::from_secs(1)).is_err());
    }

    #[test]
    fn a_modem_that_never_syncs_is_reported_with_the_time_spent_and_what_came() {
        let mut port = Silent { now: Duration::from_secs(7), garble: true };
        let mut log = Transcript::default();
        let e = sync(&mut port, "\r", 5, Duration::from_secs(1), &mut log).unwrap_err();
        assert_eq!(e.to_string(), "sync: no OK to AT after 5 tries over 5.0 s; received `\\x1B[31m\\xFF`");
    }
}
