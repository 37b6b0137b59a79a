//! A serial port's writing side: one `write(2)` a command when the line takes it, which is every
//! time on a modem that keeps up.
//!
//! `serialport`'s own writer polls the descriptor before every write and drains the line
//! (`tcdrain`) after it: three system calls a command, on the path every `send:` step's round
//! trip takes (issue 14 measured the engine's step against a raw Python loop that makes one).
//! Here the descriptor is non-blocking, so a write that the line takes goes at once and only a
//! full buffer (a modem holding CTS, or not reading its pty) waits in `poll`, for at most the
//! port's write time-out as before. The drain stays where it means something: on a real UART it
//! returns when the characters are on the wire, which is the moment a step's raw latency counts
//! from (`line_time`); a pseudo-terminal has no wire, and its drain only costs a system call.
//!
//! It must not own the port's settings: the `TTYPort` it holds keeps them (and the exclusive
//! lock) for as long as the link is open.

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags};
use std::io::{self, ErrorKind, Write};
use std::os::fd::{AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

/// The first device major of Linux's UNIX 98 pty slaves (`/dev/pts/N`); they take eight.
const PTY_SLAVE_MAJORS: std::ops::Range<u64> = 136..144;

/// Writes to a tty, blocking only while its buffer is full.
pub(crate) struct TtyWriter {
    port: serialport::TTYPort,
    timeout: Duration,
    drains: bool,
}

impl TtyWriter {
    /// Makes `port`'s open file non-blocking (its reader, which shares it, polls before it
    /// reads and takes `WouldBlock` as "nothing yet"). A write that can make no progress for
    /// `timeout` fails with `TimedOut`, as `serialport`'s did.
    pub(crate) fn new(port: serialport::TTYPort, timeout: Duration) -> io::Result<TtyWriter> {
        use nix::fcntl::{fcntl, FcntlArg, OFlag};
        let fd = port.as_raw_fd();
        // SAFETY: `port` owns `fd` and outlives the borrow.
        let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
        let flags = OFlag::from_bits_truncate(fcntl(borrowed, FcntlArg::F_GETFL)?);
        fcntl(borrowed, FcntlArg::F_SETFL(flags | OFlag::O_NONBLOCK))?;
        let drains = !is_pty(borrowed);
        Ok(TtyWriter { port, timeout, drains })
    }

    fn fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the descriptor belongs to `self.port`, which lives as long as `self`.
        unsafe { BorrowedFd::borrow_raw(self.port.as_raw_fd()) }
    }
}

/// Is `fd` the slave end of a pseudo-terminal? Asked once, when the port opens.
fn is_pty(fd: BorrowedFd<'_>) -> bool {
    nix::sys::stat::fstat(fd).is_ok_and(|st| PTY_SLAVE_MAJORS.contains(&nix::sys::stat::major(st.st_rdev)))
}

impl Write for TtyWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let deadline = Instant::now() + self.timeout;
        loop {
            match nix::unistd::write(self.fd(), buf) {
                Ok(n) => return Ok(n),
                Err(Errno::EINTR) => {}
                Err(Errno::EAGAIN) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
                    if ms == 0 {
                        return Err(io::Error::new(
                            ErrorKind::TimedOut,
                            "the port took no byte within its write time-out",
                        ));
                    }
                    let fd = self.fd();
                    let mut fds = [PollFd::new(fd, PollFlags::POLLOUT)];
                    match poll(&mut fds, ms) {
                        Ok(_) | Err(Errno::EINTR) => {}
                        Err(e) => return Err(e.into()),
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.drains {
            nix::sys::termios::tcdrain(self.fd())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::pty::openpty;
    use std::os::fd::AsFd;

    #[test]
    fn a_pty_is_told_from_other_files() {
        let pty = openpty(None, None).unwrap();
        assert!(is_pty(pty.slave.as_fd()), "the slave end is a pty");
        let file = tempfile::tempfile().unwrap();
        assert!(!is_pty(file.as_fd()));
    }
}
