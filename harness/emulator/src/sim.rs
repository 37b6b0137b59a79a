//! The emulator as a [`Port`] in virtual time: a write is answered at exactly the time the modem
//! schedules, and waiting costs nothing. Response-window logic is tested here to the millisecond
//! on any machine, however loaded.

use crate::modem::{Emission, Modem};
use miplcheck_at::Stamp;
use miplcheck_transport::{Chunk, Port, Received};
use std::collections::VecDeque;
use std::io;

pub struct SimPort {
    modem: Modem,
    now: Stamp,
    queue: VecDeque<Emission>,
}

impl SimPort {
    pub fn new(modem: Modem) -> Self {
        SimPort { modem, now: Stamp::ZERO, queue: VecDeque::new() }
    }

    pub fn reset(&mut self) {
        self.modem.reset();
        self.queue.clear();
    }

    pub fn modem(&mut self) -> &mut Modem {
        &mut self.modem
    }
}

impl Port for SimPort {
    fn describe(&self) -> String {
        format!("emulator {} (virtual time)", self.modem.dialect().name)
    }

    fn now(&self) -> Stamp {
        self.now
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<Stamp> {
        let out = self.modem.input(bytes, self.now);
        // No network in this port yet: datagrams are dropped, as with no coverage, and the
        // modem's own timers report it (registration time-out).
        self.modem.take_datagrams();
        self.queue.extend(out);
        self.queue.make_contiguous().sort_by_key(|e| e.at);
        Ok(self.now)
    }

    fn read_until(&mut self, deadline: Stamp) -> Received {
        match self.queue.front() {
            Some(e) if e.at <= deadline => {
                let e = self.queue.pop_front().expect("front exists");
                self.now = self.now.max(e.at);
                Received::Data(Chunk { at: e.at, bytes: e.bytes })
            }
            _ => {
                self.now = self.now.max(deadline);
                Received::Timeout
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Options;
    use std::time::Duration;

    #[test]
    fn answers_arrive_at_the_scheduled_virtual_time() {
        let mut o = Options::for_dialect("bc39");
        o.echo = false;
        o.delays.insert("+MIPLVER".into(), Duration::from_millis(250));
        let mut p = SimPort::new(Modem::new(o).unwrap());
        let sent = p.write(b"AT+MIPLVER?\r").unwrap();
        assert_eq!(p.read_until(sent + Duration::from_millis(100)), Received::Timeout);
        assert_eq!(p.now(), Duration::from_millis(100));
        match p.read_until(sent + Duration::from_secs(1)) {
            Received::Data(c) => assert_eq!(c.at, Duration::from_millis(250)),
            other => panic!("{other:?}"),
        }
    }

    fn read_all(p: &mut SimPort) -> String {
        let mut heard = String::new();
        while let Received::Data(c) = p.read_until(p.now() + Duration::from_secs(10)) {
            heard.push_str(&String::from_utf8_lossy(&c.bytes));
        }
        heard
    }

    #[test]
    fn faults_outlive_the_port_reset_the_runner_does_before_each_case() {
        let mut o = Options::for_dialect("bc39");
        o.echo = false;
        o.faults = toml::from_str(
            r#"hang_after = 3
            fail_first = { command = "+MIPLVER" }"#,
        )
        .unwrap();
        let mut p = SimPort::new(Modem::new(o).unwrap());
        p.write(b"AT+MIPLVER?\r").unwrap();
        assert_eq!(read_all(&mut p), "\r\nERROR\r\n", "the first case fails");
        p.reset();
        p.write(b"AT+MIPLVER?\r").unwrap();
        assert!(read_all(&mut p).contains("+MIPLVER:"), "its retry passes");
        p.reset();
        p.write(b"AT\r").unwrap();
        assert_eq!(read_all(&mut p), "\r\nOK\r\n");
        p.reset();
        p.write(b"AT\r").unwrap();
        assert_eq!(read_all(&mut p), "", "wedged after three lines");
        assert_eq!(p.now(), Duration::from_secs(40), "four quiet spells of ten seconds, all virtual");
    }
}
