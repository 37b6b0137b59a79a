//! Debian's `ser2net` (4.x) on loopback in front of a device, for tests of the RFC 2217 and TCP
//! links against a real server. Not for production use: it writes a config under the temp dir
//! and starts the binary found on the machine.
//!
//! What ser2net 4.3 does, found by experiment (recorded here because the tests depend on it):
//! - Config: `connection: &name` with `accepter: telnet(rfc2217),tcp,127.0.0.1,PORT` (or
//!   `tcp,127.0.0.1,PORT` for raw), `connector: serialdev,/dev/pts/N,115200n81,local` and
//!   `options: { kickolduser: true }`. `local` matters on a pty: without it ser2net waits on
//!   modem-control lines a pty does not have.
//! - `-n` keeps it in the foreground, `-u` skips UUCP locks (no /var/lock needed), `-c` takes the
//!   YAML. No pid file is written unless `-P` is given. It prints "Unable to start mdns" and goes
//!   on.
//! - On accepting a telnet connection it sends WILL SGA, DO SGA, WILL ECHO, DONT ECHO, DO BINARY,
//!   WILL BINARY and DO COM-PORT-OPTION before the client says anything, and NOTIFY-MODEMSTATE 0
//!   once COM-PORT-OPTION is on.
//! - On a pty it answers SET-BAUDRATE/DATASIZE/PARITY/STOPSIZE with the value set (the pty's
//!   termios shows the new speed), SET-CONTROL flow control "none" with 1, and PURGE-DATA with
//!   3, but never answers SET-CONTROL DTR/RTS (the modem-control ioctls fail on a pty), nor the
//!   line/modem-state masks: hence `ign_set_control`.

use std::io::{self, ErrorKind};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Set to `1` where ser2net must be there (CI): a missing ser2net fails the tests instead of
/// skipping them.
pub const REQUIRE_ENV: &str = "MIPLCHECK_REQUIRE_SER2NET";

/// How long ser2net gets to start listening (the machine may be loaded).
const START_TIMEOUT: Duration = Duration::from_secs(15);

/// How long [`Ser2net::start_at`] keeps trying its port while an old socket may linger.
const REBIND_TIMEOUT: Duration = Duration::from_secs(5);

/// A loopback listener whose accept queue is full: further SYNs are dropped, as by a server
/// behind a firewall. Returns the listener and the connections that fill it (keep both alive
/// while the address is used).
pub fn silent_listener() -> (TcpListener, Vec<TcpStream>, SocketAddr) {
    use std::os::fd::AsRawFd;
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    // Listening again updates the backlog: 0 leaves room for one connection.
    // SAFETY: listen(2) on a socket this function owns; no memory is passed.
    assert_eq!(unsafe { libc::listen(listener.as_raw_fd(), 0) }, 0, "listen");
    let addr = listener.local_addr().expect("local address");
    let mut fill = Vec::new();
    for _ in 0..16 {
        match TcpStream::connect_timeout(&addr, Duration::from_millis(300)) {
            Ok(s) => fill.push(s),
            Err(_) => return (listener, fill, addr),
        }
    }
    panic!("the backlog never filled");
}

/// The kind of TCP port ser2net offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Accepter {
    /// Telnet with COM-PORT-OPTION.
    Rfc2217,
    /// Bytes as they are.
    Raw,
}

/// A running ser2net; killed on drop.
#[derive(Debug)]
pub struct Ser2net {
    child: Option<Child>,
    address: String,
    dir: PathBuf,
}

/// Names the ser2net binary to use instead of looking for one (a path that does not exist
/// stands for "not installed", to try the skip).
pub const BINARY_ENV: &str = "MIPLCHECK_SER2NET";

/// The ser2net binary: [`BINARY_ENV`], else on `PATH` or in the sbin folders a non-root `PATH`
/// may lack.
pub fn binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(BINARY_ENV) {
        return Some(PathBuf::from(p)).filter(|p| p.is_file());
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|d| d.join("ser2net"))
        .find(|p| p.is_file())
}

/// Whether ser2net is installed.
pub fn available() -> bool {
    binary().is_some()
}

/// Whether the environment demands ser2net ([`REQUIRE_ENV`] is `1`).
pub fn required() -> bool {
    std::env::var(REQUIRE_ENV).is_ok_and(|v| v == "1")
}

impl Ser2net {
    /// Starts ser2net serving `device` on a free loopback port and waits until it listens.
    pub fn start(device: &Path, accepter: Accepter) -> io::Result<Ser2net> {
        let bin = binary().ok_or_else(|| io::Error::new(ErrorKind::NotFound, "ser2net is not installed"))?;
        let dir = Self::scratch()?;
        // The free port is found by binding and letting go, so another process may take it
        // first: ser2net then exits, and a new port is tried.
        let mut last = None;
        for _ in 0..3 {
            match Self::try_start(&bin, &dir, device, accepter, None) {
                Ok(child) => return Ok(child),
                Err(e) => last = Some(e),
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        Err(last.expect("tried"))
    }

    /// Starts ser2net again where an earlier one listened (`127.0.0.1:PORT`): a serial server
    /// restarted under a client that reconnects.
    pub fn start_at(device: &Path, accepter: Accepter, address: &str) -> io::Result<Ser2net> {
        let bin = binary().ok_or_else(|| io::Error::new(ErrorKind::NotFound, "ser2net is not installed"))?;
        let port = address
            .strip_prefix("127.0.0.1:")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| io::Error::new(ErrorKind::InvalidInput, format!("{address} is not 127.0.0.1:PORT")))?;
        let dir = Self::scratch()?;
        // The old ser2net's socket may not be gone yet: try the port for a while.
        let started = Instant::now();
        loop {
            match Self::try_start(&bin, &dir, device, accepter, Some(port)) {
                Ok(s) => return Ok(s),
                Err(e) if started.elapsed() > REBIND_TIMEOUT => {
                    let _ = std::fs::remove_dir_all(&dir);
                    return Err(e);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    /// A folder of its own for one ser2net's config and log.
    fn scratch() -> io::Result<PathBuf> {
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "miplcheck-ser2net-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&dir)?;
        Ok(dir)
    }

    fn try_start(bin: &Path, dir: &Path, device: &Path, accepter: Accepter, port: Option<u16>) -> io::Result<Ser2net> {
        let port = match port {
            Some(p) => p,
            None => std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port(),
        };
        let accepter = match accepter {
            Accepter::Rfc2217 => format!("telnet(rfc2217),tcp,127.0.0.1,{port}"),
            Accepter::Raw => format!("tcp,127.0.0.1,{port}"),
        };
        // Again on each try: a failed one's drop removed it.
        std::fs::create_dir_all(dir)?;
        let config = dir.join("ser2net.yaml");
        std::fs::write(
            &config,
            format!(
                "connection: &miplcheck\n  accepter: {accepter}\n  connector: serialdev,{},115200n81,local\n  \
                 options:\n    kickolduser: true\n",
                device.display()
            ),
        )?;
        let log = std::fs::File::create(dir.join("ser2net.log"))?;
        let child = Command::new(bin)
            .args(["-n", "-u", "-c"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()?;
        let pid = child.id();
        let mut s = Ser2net { child: Some(child), address: format!("127.0.0.1:{port}"), dir: dir.to_path_buf() };
        let started = Instant::now();
        loop {
            match listener_on(port, pid) {
                Listener::Ours => return Ok(s),
                Listener::Theirs => {
                    // Someone else took the port: a failed start, never a client talking to the
                    // wrong server. Our ser2net cannot bind it.
                    let log = s.log();
                    s.kill();
                    return Err(io::Error::new(
                        ErrorKind::AddrInUse,
                        format!("port {port} is held by another process, not ser2net (pid {pid}): {log}"),
                    ));
                }
                Listener::None => {}
            }
            if let Some(status) = s.child.as_mut().expect("running").try_wait()? {
                s.child = None;
                return Err(io::Error::other(format!("ser2net exited ({status}) before listening: {}", s.log())));
            }
            if started.elapsed() > START_TIMEOUT {
                let log = s.log();
                s.kill();
                return Err(io::Error::new(
                    ErrorKind::TimedOut,
                    format!("ser2net not listening on port {port} after {START_TIMEOUT:?}: {log}"),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        self.address.clone()
    }

    /// What ser2net printed so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("ser2net.log")).unwrap_or_default().trim().to_string()
    }

    /// Kills ser2net (by its PID, through the child handle) and waits for it.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Ser2net {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Who listens where ser2net should.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listener {
    /// Process `pid` listens on 127.0.0.1:PORT.
    Ours,
    /// Nobody it could be, yet.
    None,
    /// Another process listens on the port (on loopback or every address), so `pid` cannot.
    Theirs,
}

/// Who listens on loopback `port`, from `/proc/net/tcp{,6}` and `/proc/<pid>/fd`: unlike a probe
/// connection, it does not make ser2net open the device and start a session the test's client
/// then kicks. A listening socket is `pid`'s when one of its fds links to `socket:[INODE]`.
fn listener_on(port: u16, pid: u32) -> Listener {
    let port = format!(":{port:04X}");
    // Loopback or the wildcard, in IPv4 and IPv6: where another listener keeps ser2net out.
    let clashes = ["0100007F", "00000000", "00000000000000000000000000000000"].map(|a| format!("{a}{port}"));
    let mut ours = false;
    let mut theirs = false;
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let Ok(t) = std::fs::read_to_string(table) else { continue };
        for l in t.lines().skip(1) {
            let f: Vec<&str> = l.split_whitespace().collect();
            if f.len() <= 9 || f[3] != "0A" || !clashes.iter().any(|c| c == f[1]) {
                continue;
            }
            if f[1] == clashes[0] && owns_socket(pid, f[9]) {
                ours = true;
            } else if !owns_socket(pid, f[9]) {
                theirs = true;
            }
        }
    }
    match (ours, theirs) {
        (true, _) => Listener::Ours,
        (false, true) => Listener::Theirs,
        (false, false) => Listener::None,
    }
}

/// Whether process `pid` has the socket with this inode open.
fn owns_socket(pid: u32, inode: &str) -> bool {
    let want = format!("socket:[{inode}]");
    std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|fds| {
        fds.flatten().any(|fd| std::fs::read_link(fd.path()).is_ok_and(|l| l.as_os_str() == want.as_str()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listener_is_told_apart_by_the_process_that_owns_it() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        assert_eq!(listener_on(port, std::process::id()), Listener::Ours);
        // A process that does not hold it (a child that never saw the socket).
        let mut other = Command::new("sleep").arg("30").spawn().unwrap();
        assert_eq!(listener_on(port, other.id()), Listener::Theirs);
        let _ = other.kill();
        let _ = other.wait();
        drop(l);
        assert_eq!(listener_on(port, std::process::id()), Listener::None);
    }
}
