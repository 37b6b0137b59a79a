//! Links from the harness to a modem's AT port.
//!
//! Every link is a [`Port`]: write bytes, read timestamped chunks until a deadline. Real links
//! ([`stream::StreamPort`]) read on a thread and stamp each chunk with the monotonic time it
//! arrived; the emulator's virtual-time port implements the same trait, so the runner cannot tell
//! them apart and window tests run without wall-clock sleeps.

#[doc(hidden)]
pub mod fake_sysfs;
mod inbox;
pub mod pty;
pub mod rfc2217;
#[doc(hidden)]
pub mod ser2net_fixture;
pub mod serial;
pub mod stream;
mod tty_writer;

pub use rfc2217::{Negotiated, Rfc2217Port, Rfc2217Settings};
pub use serial::{SerialSettings, SettingsError};

use miplcheck_at::Stamp;
use std::io;

/// Bytes as they came off the link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub at: Stamp,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Received {
    Data(Chunk),
    /// Nothing arrived before the deadline.
    Timeout,
    /// The link is gone (unplugged, port closed, peer hung up): the reason, as the OS put it.
    Closed(String),
}

/// A link to a modem's AT port.
pub trait Port: Send {
    /// What the link is, for reports: `serial /dev/ttyUSB0 @115200 8N1`, `pty /dev/pts/4`.
    fn describe(&self) -> String;
    /// Time on this link's clock.
    fn now(&self) -> Stamp;
    /// The real instant this link's clock counts from, if it runs in real time: other recorders
    /// (the mock platform) stamp on it so their lines merge with this link's.
    fn epoch(&self) -> Option<std::time::Instant> {
        None
    }
    /// Writes all bytes; returns the time the write completed.
    fn write(&mut self, bytes: &[u8]) -> io::Result<Stamp>;
    /// The next chunk, or `Timeout` once `deadline` (on this link's clock) has passed.
    fn read_until(&mut self, deadline: Stamp) -> Received;
    /// Drops what is buffered on the line, both ways, where the link can (RFC 2217's PURGE-DATA);
    /// a no-op elsewhere.
    fn purge(&mut self) -> io::Result<()> {
        Ok(())
    }
}
