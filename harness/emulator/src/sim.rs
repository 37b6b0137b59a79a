//! The emulator as a [`Port`] in virtual time: a write is answered at exactly the time the modem
//! schedules, and waiting costs nothing. Response-window logic is tested here to the millisecond
//! on any machine, however loaded. With a [`Network`] attached the modem's datagrams run on the
//! same clock, so the manuals' timers on both sides (registration time-out, lifetimes, CoAP's
//! back-off, the radio's inactivity) elapse at once.

use crate::modem::{Emission, Modem};
use miplcheck_at::Stamp;
use miplcheck_transport::{Chunk, Port, Received};
use std::collections::VecDeque;
use std::io;

/// The other end of the modem's datagrams on the same virtual clock: in the runner, the case's
/// mock platform. Delivery takes no time; a datagram to nobody is lost, as on a real network.
pub trait Network: Send {
    /// A datagram the modem sent at `now` to `to`, the `host:port` it was configured with.
    fn send(&mut self, to: &str, bytes: &[u8], now: Stamp);
    /// When the network next has something to do (a datagram to deliver, a timer).
    fn next_deadline(&self) -> Option<Stamp>;
    /// Runs the network's timers due by `now` and hands over the datagrams for the modem, each
    /// with its sender under the name the modem sent to.
    fn poll(&mut self, now: Stamp) -> Vec<(String, Vec<u8>)>;
}

/// How many things may happen at one instant before the port stops to let time run: far more
/// than any exchange needs, so only a modem and a network feeding each other forever hit it.
const MAX_EVENTS_AT_ONCE: usize = 100_000;

pub struct SimPort {
    modem: Modem,
    now: Stamp,
    queue: VecDeque<Emission>,
    net: Option<Box<dyn Network>>,
}

impl SimPort {
    pub fn new(modem: Modem) -> Self {
        SimPort { modem, now: Stamp::ZERO, queue: VecDeque::new(), net: None }
    }

    /// Power-on state; the network is gone with it (the next case attaches its own).
    pub fn reset(&mut self) {
        self.modem.reset();
        self.queue.clear();
        self.net = None;
    }

    pub fn modem(&mut self) -> &mut Modem {
        &mut self.modem
    }

    /// Connects the modem's datagrams to `net` from now on; without one they are dropped, as
    /// with no coverage, and the modem's own timers report it (registration time-out).
    pub fn attach(&mut self, net: Box<dyn Network>) {
        self.net = Some(net);
    }

    /// Serial output the modem scheduled, kept in time order (stable: same-time output keeps its order).
    fn schedule(&mut self, out: Vec<Emission>) {
        if !out.is_empty() {
            self.queue.extend(out);
            self.queue.make_contiguous().sort_by_key(|e| e.at);
        }
    }

    /// Hands the modem's datagrams to the network (or drops them).
    fn pump(&mut self) {
        let out = self.modem.take_datagrams();
        if let Some(net) = self.net.as_mut() {
            for d in out {
                net.send(&d.to, &d.bytes, d.at.max(self.now));
            }
        }
    }

    /// The next timer of the modem or the network.
    fn next_event(&self) -> Option<Stamp> {
        let net = self.net.as_ref().and_then(|n| n.next_deadline());
        [self.modem.next_deadline(), net].into_iter().flatten().min()
    }

    /// Everything due at `self.now`: the modem's timers, then the network's, whose datagrams go
    /// to the modem at once.
    fn fire(&mut self) {
        let now = self.now;
        if self.modem.next_deadline().is_some_and(|t| t <= now) {
            let out = self.modem.poll(now);
            self.schedule(out);
        }
        let incoming = self.net.as_mut().map(|n| n.poll(now)).unwrap_or_default();
        for (from, bytes) in incoming {
            let out = self.modem.datagram(&from, &bytes, now);
            self.schedule(out);
        }
        self.pump();
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
        // What was due before the bytes came has happened: a datagram the platform sent a moment
        // ago reached the modem before the command that asks about it.
        for _ in 0..MAX_EVENTS_AT_ONCE {
            if self.next_event().is_none_or(|t| t > self.now) {
                break;
            }
            self.fire();
        }
        let out = self.modem.input(bytes, self.now);
        self.schedule(out);
        self.pump();
        Ok(self.now)
    }

    /// Runs the modem and its network in time order up to the first serial output due by
    /// `deadline`, or to `deadline`: timers and datagrams first when they are due no later than
    /// that output, since they may bring output of their own before it.
    fn read_until(&mut self, deadline: Stamp) -> Received {
        let mut at_once = 0;
        loop {
            let output = self.queue.front().map(|e| e.at).filter(|&t| t <= deadline);
            match self.next_event().filter(|&t| t <= deadline && output.is_none_or(|o| t <= o)) {
                Some(t) if at_once < MAX_EVENTS_AT_ONCE => {
                    at_once = if t <= self.now { at_once + 1 } else { 0 };
                    self.now = self.now.max(t);
                    self.fire();
                }
                _ => match output {
                    Some(_) => {
                        let e = self.queue.pop_front().expect("front exists");
                        self.now = self.now.max(e.at);
                        return Received::Data(Chunk { at: e.at, bytes: e.bytes });
                    }
                    None => {
                        self.now = self.now.max(deadline);
                        // Whatever is due by now has happened, so an operation the engine starts
                        // next begins on the same clock.
                        self.fire();
                        if self.queue.front().is_some_and(|e| e.at <= deadline) && at_once < MAX_EVENTS_AT_ONCE {
                            at_once += 1;
                            continue;
                        }
                        return Received::Timeout;
                    }
                },
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

    /// A network nobody answers on: it keeps what the modem sent and when, and has one timer of
    /// its own, to show the port fires it in time order.
    struct Deaf {
        sent: std::sync::Arc<std::sync::Mutex<Vec<(String, Stamp)>>>,
        timer: Option<Stamp>,
        fired: std::sync::Arc<std::sync::Mutex<Vec<Stamp>>>,
    }

    impl Network for Deaf {
        fn send(&mut self, to: &str, _bytes: &[u8], now: Stamp) {
            self.sent.lock().unwrap().push((to.to_string(), now));
        }
        fn next_deadline(&self) -> Option<Stamp> {
            self.timer
        }
        fn poll(&mut self, now: Stamp) -> Vec<(String, Vec<u8>)> {
            if self.timer.is_some_and(|t| t <= now) {
                self.timer = None;
                self.fired.lock().unwrap().push(now);
            }
            vec![]
        }
    }

    #[test]
    fn an_attached_network_gets_each_datagram_when_sent_and_its_timers_run_in_order() {
        let mut o = Options::for_dialect("bc39");
        o.echo = false;
        let mut p = SimPort::new(Modem::new(o).unwrap());
        let (sent, fired) = (Default::default(), Default::default());
        let deaf = Deaf {
            sent: std::sync::Arc::clone(&sent),
            timer: Some(Duration::from_secs(7)),
            fired: std::sync::Arc::clone(&fired),
        };
        p.attach(Box::new(deaf));
        open_with_one_object(&mut p);
        // BC39 §3.2.7: nobody answers the registration, so event 8 comes after the 30 s <timeout>.
        let heard = read_all_until(&mut p, Duration::from_secs(60));
        assert!(heard.contains("+MIPLEVENT: 0,8"), "{heard}");
        let n = {
            let sent = sent.lock().unwrap();
            assert_eq!(sent[0], ("127.0.0.1:5683".to_string(), Duration::from_millis(300)), "at the OPEN's write");
            assert!(sent.len() > 1 && sent.windows(2).all(|w| w[0].1 < w[1].1), "re-sent later: {sent:?}");
            sent.len()
        };
        assert_eq!(*fired.lock().unwrap(), [Duration::from_secs(7)], "the network's own timer, once, on time");
        // A reset detaches the network: the next registration goes nowhere.
        p.reset();
        open_with_one_object(&mut p);
        assert!(read_all_until(&mut p, Duration::from_secs(60)).contains("+MIPLEVENT: 0,8"));
        assert_eq!(sent.lock().unwrap().len(), n);
    }

    /// Configures a server on loopback and one object, and registers (BC39 §5.2.2's sequence),
    /// a tenth of a second a command.
    fn open_with_one_object(p: &mut SimPort) {
        for cmd in [
            "AT+MIPLCONFIG=0,127.0.0.1,5683\r",
            "AT+MIPLCREATE\r",
            "AT+MIPLADDOBJ=0,3311,1,\"1\",4,2\r",
            "AT+MIPLOPEN=0,600,30\r",
        ] {
            p.write(cmd.as_bytes()).unwrap();
            read_all_until(p, Duration::from_millis(100));
        }
    }

    /// What the modem says within `d` of now.
    fn read_all_until(p: &mut SimPort, d: Duration) -> String {
        let until = p.now() + d;
        let mut heard = String::new();
        while let Received::Data(c) = p.read_until(until) {
            heard.push_str(&String::from_utf8_lossy(&c.bytes));
        }
        heard
    }
}
