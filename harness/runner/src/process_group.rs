//! A bench's own commands — `[power]` switches, a `[flash]` tool, `labgrid-client` — run in a
//! process group of their own: their output's end kept by a reader thread ([`Tail`]), waited for
//! up to a deadline, and past it killed with everything they started ([`wait`]).
//!
//! This module must not decide what an exit status or an overrun means (its callers do: a bench
//! fault, never the firmware's), and must not signal a process it did not start: the only group
//! it kills is a child's own, made at spawn (`CommandExt::process_group(0)`), before the child is
//! reaped.

use std::io::Read;
use std::process::{Child, ExitStatus};
use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The end of what a child writes to one pipe, read on a thread of its own so a chatty command
/// cannot fill the pipe and stall.
pub struct Tail {
    kept: Arc<Mutex<Vec<u8>>>,
    closed: Receiver<()>,
    limit: usize,
}

impl Tail {
    /// Reads `pipe` (none: nothing to read) to its end, keeping at most about `limit` bytes.
    pub fn of(pipe: Option<impl Read + Send + 'static>, limit: usize) -> Tail {
        let kept = Arc::new(Mutex::new(Vec::new()));
        let (tx, closed) = mpsc::channel();
        match pipe {
            Some(mut pipe) => {
                let kept = kept.clone();
                std::thread::spawn(move || {
                    let mut chunk = [0u8; 4096];
                    while let Ok(n @ 1..) = pipe.read(&mut chunk) {
                        let mut b = kept.lock().unwrap_or_else(|p| p.into_inner());
                        b.extend_from_slice(&chunk[..n]);
                        if b.len() > 2 * limit {
                            let cut = b.len() - limit;
                            b.drain(..cut);
                        }
                    }
                    let _ = tx.send(());
                });
            }
            None => {
                let _ = tx.send(());
            }
        }
        Tail { kept, closed, limit }
    }

    /// Waits up to `within` for the pipe to close; a grandchild that escaped the group may hold
    /// it open, so the reader is never joined. True when it closed.
    pub fn wait(&self, within: Duration) -> bool {
        self.closed.recv_timeout(within).is_ok()
    }

    /// What was read so far: the last `limit` bytes, as text.
    pub fn text(&self) -> String {
        let b = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        let from = b.len().saturating_sub(self.limit);
        String::from_utf8_lossy(&b[from..]).into_owned()
    }
}

/// How a child's wait ended.
#[derive(Debug)]
pub enum Ended<S> {
    /// It exited by itself.
    Exited(ExitStatus),
    /// The deadline came first: its group was killed.
    Overran,
    /// `stop` said to stop before it exited: its group was killed.
    Stopped(S),
}

/// Waits for `child`, spawned as the leader of its own process group, until `deadline`, asking
/// `stop` every `poll`; on an overrun, a stop or a failed wait the whole group is killed and the
/// child reaped.
pub fn wait<S>(
    child: &mut Child,
    deadline: Instant,
    poll: Duration,
    stop: impl Fn() -> Option<S>,
) -> std::io::Result<Ended<S>> {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(Ended::Exited(status)),
            Ok(None) => {
                let stopped = stop();
                if Instant::now() < deadline && stopped.is_none() {
                    std::thread::sleep(poll);
                    continue;
                }
                kill(child);
                return Ok(stopped.map_or(Ended::Overran, Ended::Stopped));
            }
            Err(e) => {
                kill(child);
                return Err(e);
            }
        }
    }
}

/// Kills the group `child` leads (the shell and everything it started) and reaps the child.
fn kill(child: &mut Child) {
    if let Ok(pgid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: killpg only sends a signal; the group is the child's own, made at spawn, and
        // the child is not reaped yet, so its ID cannot have been reused.
        unsafe {
            libc::killpg(pgid, libc::SIGKILL);
        }
    }
    let _ = child.wait();
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};

    fn sh(script: &str) -> Child {
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap()
    }

    #[test]
    fn an_exit_is_waited_for_and_its_output_kept_to_the_limit() {
        let mut child = sh("printf 'abcdefghij'; exit 3");
        let out = Tail::of(child.stdout.take(), 4);
        let ended = wait(&mut child, Instant::now() + Duration::from_secs(60), Duration::from_millis(5), || None::<()>);
        assert!(matches!(ended, Ok(Ended::Exited(s)) if s.code() == Some(3)), "{ended:?}");
        assert!(out.wait(Duration::from_secs(60)));
        assert_eq!(out.text(), "ghij");
    }

    #[test]
    fn an_overrun_is_killed_with_its_group_and_says_what_it_printed() {
        // The background sleep holds the pipe too: only killing the group closes it.
        let mut child = sh("echo started; sleep 60 & sleep 60");
        let out = Tail::of(child.stdout.take(), 1024);
        let ended =
            wait(&mut child, Instant::now() + Duration::from_millis(200), Duration::from_millis(5), || None::<()>);
        assert!(matches!(ended, Ok(Ended::Overran)), "{ended:?}");
        assert!(out.wait(Duration::from_secs(30)), "the group's pipe stayed open");
        assert_eq!(out.text(), "started\n");
    }

    #[test]
    fn a_stop_kills_it_before_its_deadline() {
        let mut child = sh("sleep 60");
        let ended =
            wait(&mut child, Instant::now() + Duration::from_secs(600), Duration::from_millis(5), || Some("stop"));
        assert!(matches!(ended, Ok(Ended::Stopped("stop"))), "{ended:?}");
        assert!(child.try_wait().unwrap().is_some(), "reaped");
    }

    #[test]
    fn no_pipe_is_closed_at_once() {
        let t = Tail::of(None::<std::fs::File>, 8);
        assert!(t.wait(Duration::ZERO) || t.wait(Duration::from_secs(1)));
        assert_eq!(t.text(), "");
    }
}
