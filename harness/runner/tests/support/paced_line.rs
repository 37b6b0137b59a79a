//! A serial line in software: a relay between a pty the harness opens and the emulator's pty that
//! lets each byte through, both ways, no sooner than a UART at the given character time would.
//!
//! Each direction has a reader that stamps bytes as they arrive and a pacer that writes byte `k`
//! at `max(arrival_k, deadline_{k-1}) + t_char`: the UART model (a byte starts when it is in the
//! FIFO and the line is free), computed from the previous *deadline*, not from when the last
//! write happened, so sleep overshoot on a loaded machine never accumulates, and no byte is ever
//! delivered early. The pacer sleeps; nothing busy-loops.

use miplcheck_transport::pty::Pty;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

pub struct PacedLine {
    /// Where the harness opens the line (the rig's `[serial] port`).
    pub path: PathBuf,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    _pty: Pty,
}

impl PacedLine {
    /// Relays between a new pty and `modem` (the emulator's pty path) at `char_time` a byte.
    pub fn start(modem: &Path, char_time: Duration) -> std::io::Result<PacedLine> {
        let pty = Pty::open()?;
        let far = std::fs::OpenOptions::new().read(true).write(true).open(modem)?;
        let stop = Arc::new(AtomicBool::new(false));
        let mut threads = Vec::new();
        for (from, to) in [(pty.master.try_clone()?, far.try_clone()?), (far, pty.master.try_clone()?)] {
            let (tx, rx) = channel();
            let s = stop.clone();
            threads.push(std::thread::spawn(move || read_stamped(from, tx, s)));
            let s = stop.clone();
            threads.push(std::thread::spawn(move || pace(rx, to, char_time, s)));
        }
        Ok(PacedLine { path: pty.path.clone(), stop, threads, _pty: pty })
    }
}

impl Drop for PacedLine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Reads `from` with a poll timeout (so the thread can stop) and sends each chunk with the instant
/// it arrived.
fn read_stamped(mut from: File, tx: Sender<(Instant, Vec<u8>)>, stop: Arc<AtomicBool>) {
    let mut buf = [0u8; 512];
    while !stop.load(Ordering::Relaxed) {
        let mut fds = [libc::pollfd { fd: from.as_raw_fd(), events: libc::POLLIN, revents: 0 }];
        // SAFETY: one valid pollfd for an fd this thread owns, for the length given.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), 1, 50) };
        if n <= 0 {
            continue;
        }
        match from.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                if tx.send((Instant::now(), buf[..n].to_vec())).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // The far side closed (EIO on a pty master once nobody holds the slave).
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Writes each byte at its deadline.
fn pace(rx: Receiver<(Instant, Vec<u8>)>, mut to: File, char_time: Duration, stop: Arc<AtomicBool>) {
    let mut line_free = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let (arrived, bytes) = match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(c) => c,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        for b in bytes {
            let deadline = line_free.max(arrived) + char_time;
            if let Some(wait) = deadline.checked_duration_since(Instant::now()) {
                std::thread::sleep(wait);
            }
            if to.write_all(&[b]).is_err() {
                return;
            }
            line_free = deadline;
        }
    }
}

/// A character's time at `baud` with `bits` a character (10 at 8N1).
pub fn char_time(baud: u32, bits: u32) -> Duration {
    Duration::from_nanos(u64::from(bits) * 1_000_000_000 / u64::from(baud))
}
