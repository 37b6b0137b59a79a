//! `miplcheck platform …` as a user starts it: stdin and stdout piped, every line it prints kept
//! in order for a test to wait on, the child killed when the test ends.

use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Generous: a loaded two-core machine must not fail these tests.
pub const WAIT: Duration = Duration::from_secs(40);

pub struct Served {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    /// Every line printed so far, for failure messages and for what must never be printed.
    pub seen: Vec<String>,
}

impl Served {
    /// Starts `miplcheck ARGS` with `env` set and waits for its first line (the banner).
    pub fn start(args: &[&str], env: &[(&str, &str)]) -> (Served, String) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_miplcheck"));
        cmd.args(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let (tx, lines) = mpsc::channel();
        for out in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
        let stdin = child.stdin.take();
        let mut served = Served { child, stdin, lines, seen: Vec::new() };
        let banner = served.line(|_| true, "the banner");
        (served, banner)
    }

    /// Types `command` on its stdin.
    pub fn type_line(&mut self, command: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        writeln!(stdin, "{command}").unwrap();
        stdin.flush().unwrap();
    }

    /// Closes its stdin (the end of input).
    pub fn close_stdin(&mut self) {
        self.stdin = None;
    }

    /// The next line that `fits`, waiting up to [`WAIT`].
    pub fn line(&mut self, fits: impl Fn(&str) -> bool, what: &str) -> String {
        let deadline = Instant::now() + WAIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if fits(&line) {
                        return line;
                    }
                }
                Err(e) => panic!("no line with {what} ({e}); it printed:\n{}", self.seen.join("\n")),
            }
        }
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The port of `coap://127.0.0.1:PORT` in a banner.
pub fn coap_port(banner: &str) -> u16 {
    let rest = banner.split("coap://127.0.0.1:").nth(1).unwrap_or_else(|| panic!("{banner}"));
    rest.chars().take_while(char::is_ascii_digit).collect::<String>().parse().unwrap()
}
