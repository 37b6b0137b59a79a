//! The bench both network test files use: a modem and the mock platform wired in virtual time.
#![allow(dead_code)]

use miplcheck_emulator::{Modem, Options};
use miplcheck_platform::{OpId, OpOutcome, Operation, Platform, PlatformOptions, WireRecord};
use std::time::Duration;

pub const SERVER: &str = "127.0.0.1:5683";
pub const UE: &str = "ue";

pub struct Bench {
    pub modem: Modem,
    pub pf: Platform<String>,
    pub now: Duration,
    pub serial: String,
    pub wire: Vec<WireRecord>,
}

impl Bench {
    pub fn new(pf: PlatformOptions) -> Self {
        Self::with(Options::for_dialect("bc39"), pf)
    }

    pub fn with(mut o: Options, pf: PlatformOptions) -> Self {
        o.echo = false;
        Bench {
            modem: Modem::new(o).unwrap(),
            pf: Platform::new(pf),
            now: Duration::ZERO,
            serial: String::new(),
            wire: vec![],
        }
    }

    pub fn take_serial(&mut self, e: Vec<miplcheck_emulator::Emission>) {
        for e in e {
            self.serial.push_str(&String::from_utf8_lossy(&e.bytes));
        }
    }

    /// Delivers datagrams both ways and fires timers until nothing is due before `now + d`.
    pub fn run(&mut self, d: Duration) {
        let until = self.now + d;
        loop {
            let mut moved = false;
            for out in self.modem.take_datagrams() {
                moved = true;
                assert_eq!(out.to, SERVER);
                let replies = self.pf.on_datagram(UE.to_string(), &out.bytes, self.now);
                for r in replies {
                    let e = self.modem.datagram(SERVER, &r.bytes, self.now);
                    self.take_serial(e);
                }
            }
            self.wire.extend(self.pf.take_records());
            if moved {
                continue;
            }
            let next = [self.modem.next_deadline(), self.pf.next_deadline()].into_iter().flatten().min();
            match next {
                Some(t) if t <= until => {
                    self.now = self.now.max(t);
                    let e = self.modem.poll(self.now);
                    self.take_serial(e);
                    for r in self.pf.poll(self.now) {
                        let e = self.modem.datagram(SERVER, &r.bytes, self.now);
                        self.take_serial(e);
                    }
                }
                _ => break,
            }
        }
        self.now = until;
    }

    /// Sends a command; returns everything the TE saw (answer and URCs) within 100 ms.
    pub fn at(&mut self, cmd: &str) -> String {
        self.serial.clear();
        let e = self.modem.input(format!("{cmd}\r").as_bytes(), self.now);
        self.take_serial(e);
        self.run(Duration::from_millis(100));
        std::mem::take(&mut self.serial)
    }

    pub fn op(&mut self, op: Operation) -> OpId {
        let (id, out) = self.pf.operate(None, op, self.now).unwrap();
        for d in out {
            let e = self.modem.datagram(SERVER, &d.bytes, self.now);
            self.take_serial(e);
        }
        self.run(Duration::from_millis(10));
        id
    }

    pub fn wire_text(&self) -> Vec<String> {
        self.wire.iter().map(|r| format!("{} {}", r.dir.arrow(), r.describe())).collect()
    }

    /// Config for a direct (no bootstrap) registration with the mock, one object 3311 with two
    /// instances, then AT+MIPLOPEN.
    pub fn register(&mut self) -> String {
        assert!(self.at("AT+MIPLCONFIG=0,127.0.0.1,5683").contains("OK"));
        self.at("AT+MIPLCREATE");
        self.at("AT+MIPLADDOBJ=0,3311,2,\"11\",4,2");
        self.serial.clear();
        let mut out = self.at("AT+MIPLOPEN=0,600,60");
        out.push_str(&std::mem::take(&mut self.serial));
        out
    }
}

pub fn urc_lines(s: &str) -> Vec<&str> {
    s.split("\r\n").filter(|l| !l.is_empty()).collect()
}

pub fn answered(pf: &Platform<String>, id: OpId) -> (String, Vec<u8>) {
    match pf.outcome(id) {
        OpOutcome::Answered { code, packet, .. } => (code, packet.payload),
        other => panic!("{other:?}"),
    }
}
