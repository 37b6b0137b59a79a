//! Pseudo-terminals: the emulator holds the master side and the runner opens the slave path with
//! the ordinary serial code, so tests exercise the same path a bench modem does.

use nix::pty::openpty;
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
use std::fs::File;
use std::os::fd::OwnedFd;
use std::path::PathBuf;

pub struct Pty {
    /// The modem's side.
    pub master: File,
    /// Kept open so the master does not see a hang-up (EIO) each time a client closes the path.
    _slave: OwnedFd,
    pub path: PathBuf,
}

impl Pty {
    /// A raw pty: no echo, no CR/LF translation, so bytes cross exactly.
    pub fn open() -> std::io::Result<Pty> {
        let pair = openpty(None, None).map_err(std::io::Error::from)?;
        let path = nix::unistd::ttyname(&pair.slave).map_err(std::io::Error::from)?;
        let mut t = tcgetattr(&pair.slave).map_err(std::io::Error::from)?;
        cfmakeraw(&mut t);
        tcsetattr(&pair.slave, SetArg::TCSANOW, &t).map_err(std::io::Error::from)?;
        Ok(Pty { master: File::from(pair.master), _slave: pair.slave, path })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::serial::{open, SerialSettings};
    use crate::{Port, Received};
    use std::io::{Read, Write};
    use std::time::Duration;

    #[test]
    fn serial_code_reaches_the_master_side() {
        let mut pty = Pty::open().unwrap();
        let mut port = open(&SerialSettings::at_path(pty.path.to_string_lossy())).unwrap();
        port.write(b"AT\r").unwrap();
        let mut buf = [0u8; 3];
        pty.master.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"AT\r", "no CR/LF translation");
        pty.master.write_all(b"\r\nOK\r\n").unwrap();
        let deadline = port.now() + Duration::from_secs(10);
        let mut got = Vec::new();
        while got.len() < 6 {
            match port.read_until(deadline) {
                Received::Data(c) => got.extend(c.bytes),
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(got, b"\r\nOK\r\n");
    }
}
