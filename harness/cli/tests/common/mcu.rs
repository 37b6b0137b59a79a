//! A host MCU on an emulated BC39's pty, for tests that need a device on the other side of the
//! mock platform: commands wait for their final result, URCs are kept until a test asks for them.

use miplcheck_emulator::{serve, Modem, Options};
use miplcheck_transport::{serial, Port, Received};
use std::collections::VecDeque;
use std::time::Duration;

/// Generous: a loaded two-core machine must not fail these tests.
const WAIT: Duration = Duration::from_secs(30);

pub struct Mcu {
    port: Box<dyn Port>,
    _modem: serve::PtyModem,
    partial: String,
    lines: VecDeque<String>,
}

impl Mcu {
    /// An emulated BC39 on a pty of its own, with the MCU on its other end.
    pub fn bc39() -> Mcu {
        let modem = serve::on_pty(Modem::new(Options::for_dialect("bc39")).unwrap()).unwrap();
        let port = serial::open(&serial::SerialSettings::at_path(modem.path.to_str().unwrap())).unwrap();
        Mcu { port: Box::new(port), _modem: modem, partial: String::new(), lines: VecDeque::new() }
    }

    /// Registers with the platform at 127.0.0.1:`port`, objects 3311 (two instances) and 3303.
    pub fn register(&mut self, port: u16) {
        self.send("AT+CMEE=1");
        self.send(&format!("AT+MIPLCONFIG=0,127.0.0.1,{port}"));
        self.send("AT+MIPLCREATE");
        self.send("AT+MIPLADDOBJ=0,3311,2,\"11\",4,2");
        self.send("AT+MIPLADDOBJ=0,3303,1,\"1\",4,2");
        self.send("AT+MIPLOPEN=0,600,60");
        self.urc("+MIPLEVENT: 0,6");
    }

    /// Sends `cmd` and returns its answer up to `OK` (an `ERROR` fails the test).
    pub fn send(&mut self, cmd: &str) -> Vec<String> {
        self.port.write(format!("{cmd}\r").as_bytes()).unwrap();
        let mut answer = Vec::new();
        loop {
            let line = self.next_line(cmd);
            if line == "OK" {
                return answer;
            }
            assert!(!line.contains("ERROR"), "{cmd}: {line}");
            if line.starts_with("+MIPL") && !line.starts_with(&cmd[2..cmd.find('=').unwrap_or(cmd.len())]) {
                self.lines.push_back(line);
            } else {
                answer.push(line);
            }
        }
    }

    /// The next URC that starts with `prefix`, waiting up to 30 s.
    pub fn urc(&mut self, prefix: &str) -> String {
        if let Some(i) = self.lines.iter().position(|l| l.starts_with(prefix)) {
            return self.lines.remove(i).unwrap();
        }
        loop {
            let line = self.next_line(prefix);
            if line.starts_with(prefix) {
                return line;
            }
            self.lines.push_back(line);
        }
    }

    /// The message ID (second field) of a URC such as `+MIPLREAD: 0,1234,3311,0,5700`.
    pub fn msg_id(urc: &str) -> String {
        urc.split(',').nth(1).unwrap().to_string()
    }

    fn next_line(&mut self, waiting_for: &str) -> String {
        let deadline = self.port.now() + WAIT;
        loop {
            if let Some(i) = self.partial.find("\r\n") {
                let line = self.partial[..i].trim().to_string();
                self.partial.drain(..i + 2);
                if !line.is_empty() {
                    return line;
                }
                continue;
            }
            match self.port.read_until(deadline) {
                Received::Data(c) => self.partial.push_str(&String::from_utf8_lossy(&c.bytes)),
                other => panic!("waiting for {waiting_for}: {other:?}; lines kept {:?}", self.lines),
            }
        }
    }
}
