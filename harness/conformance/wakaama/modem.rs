//! Our emulator on a pty with a real UDP socket, driven with AT commands as a host MCU would:
//! commands wait for their final result, URCs are collected and matched as they come.

use miplcheck_emulator::serve::{on_pty, PtyModem};
use miplcheck_emulator::{Modem, Options};
use miplcheck_transport::serial::{open, SerialSettings};
use miplcheck_transport::{Port, Received};
use regex::Regex;
use std::collections::VecDeque;
use std::time::Duration;

const WAIT: Duration = super::peer::WAIT;

pub struct Host {
    _modem: PtyModem,
    at: Box<dyn Port>,
    partial: String,
    lines: VecDeque<String>,
    /// URCs not matched yet, in the order they came.
    pending_urcs: VecDeque<String>,
    /// Everything both ways, for the failure message.
    pub transcript: String,
}

impl Host {
    pub fn start(dialect: &str) -> Host {
        let mut o = Options::for_dialect(dialect);
        o.echo = false;
        let modem = on_pty(Modem::new(o).expect("emulator options")).expect("pty");
        let at = open(&SerialSettings::at_path(modem.path.to_string_lossy())).expect("open the pty");
        Host {
            _modem: modem,
            at: Box::new(at),
            partial: String::new(),
            lines: VecDeque::new(),
            pending_urcs: VecDeque::new(),
            transcript: String::new(),
        }
    }

    fn read_more(&mut self, deadline: Duration, what: &str) {
        match self.at.read_until(deadline) {
            Received::Data(c) => {
                let text = String::from_utf8_lossy(&c.bytes).to_string();
                self.transcript.push_str(&text);
                self.partial.push_str(&text);
                while let Some(i) = self.partial.find('\n') {
                    let line = self.partial[..i].trim_end_matches('\r').to_string();
                    self.partial.drain(..=i);
                    if !line.is_empty() {
                        self.lines.push_back(line);
                    }
                }
            }
            Received::Timeout => panic!("no {what} from the module in {WAIT:?}; AT transcript:\n{}", self.transcript),
            Received::Closed(why) => {
                panic!("the AT port closed ({why}) waiting for {what}; AT transcript:\n{}", self.transcript)
            }
        }
    }

    /// Sends `cmd` and returns the lines of its answer up to `OK`; panics on an error result.
    pub fn cmd(&mut self, cmd: &str) -> Vec<String> {
        self.transcript.push_str(&format!("> {cmd}\n"));
        self.at.write(format!("{cmd}\r").as_bytes()).expect("write to the pty");
        let deadline = self.at.now() + WAIT;
        let mut answer = vec![];
        loop {
            while let Some(line) = self.lines.pop_front() {
                if line == "OK" {
                    return answer;
                }
                if line == "ERROR" || line.starts_with("+CME ERROR") || line.starts_with("+CIS ERROR") {
                    panic!("{cmd} answered {line}; AT transcript:\n{}", self.transcript);
                }
                if line.starts_with("+MIPL") && !line.starts_with(&cmd_name(cmd)) {
                    // A URC that came in between: keep it for `urc`.
                    self.pending_urcs.push_back(line);
                } else {
                    answer.push(line);
                }
            }
            self.read_more(deadline, &format!("answer to {cmd}"));
        }
    }

    /// Waits for a URC matching `pattern` (anchored); returns its groups. Other URCs stay queued.
    pub fn urc(&mut self, pattern: &str) -> Vec<String> {
        let re = Regex::new(&format!("^{pattern}$")).expect("test pattern");
        let deadline = self.at.now() + WAIT;
        loop {
            while let Some(line) = self.lines.pop_front() {
                self.pending_urcs.push_back(line);
            }
            if let Some(i) = self.pending_urcs.iter().position(|l| re.is_match(l)) {
                let line = self.pending_urcs.remove(i).unwrap_or_default();
                let c = re.captures(&line).expect("matched above");
                return c.iter().map(|g| g.map(|g| g.as_str().to_string()).unwrap_or_default()).collect();
            }
            self.read_more(deadline, pattern);
        }
    }
}

/// `+MIPLCREATE` of `AT+MIPLCREATE=…`: the prefix of the command's own information response.
fn cmd_name(cmd: &str) -> String {
    let name = cmd.trim_start_matches("AT").split(['=', '?']).next().unwrap_or("");
    name.to_string()
}
