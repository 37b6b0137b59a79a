//! A labgrid lab on loopback for tests: a real `labgrid-coordinator`, a real `labgrid-exporter`
//! (which starts ser2net itself) serving the ptys of miplcheck's emulated modems, and a tiny HTTP
//! relay for `simplerest` power ports. Every process is started here, in a process group of its
//! own, and killed by that group when the [`Lab`] is dropped; every wait is bounded.
//!
//! Share it with `#[path = "support/labgrid_fixture.rs"] mod labgrid_fixture;` (from another
//! crate's tests, a relative path to this file).
#![allow(dead_code)]

use miplcheck_emulator::serve::{on_pty, PtyModem};
use miplcheck_emulator::{Modem, Options};
use miplcheck_runner::labgrid::LabgridRig;
use std::fs::File;
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The programs a lab needs, and whether each is there.
fn missing_programs() -> Vec<&'static str> {
    let on_path = |name: &str| {
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file())).unwrap_or(false)
    };
    let mut missing = vec![];
    for p in ["labgrid-client", "labgrid-coordinator", "labgrid-exporter", "python3"] {
        if !on_path(p) {
            missing.push(p);
        }
    }
    if !on_path("ser2net") && !Path::new("/usr/sbin/ser2net").is_file() {
        missing.push("ser2net");
    }
    missing
}

/// Whether labgrid's tests can run here. When they cannot, says so and gives `false` — unless
/// `MIPLCHECK_REQUIRE_LABGRID=1` (CI), which makes it a failure.
pub fn labgrid_or_skip(test: &str) -> bool {
    let missing = missing_programs();
    if missing.is_empty() {
        return true;
    }
    if std::env::var("MIPLCHECK_REQUIRE_LABGRID").as_deref() == Ok("1") {
        panic!("{test}: MIPLCHECK_REQUIRE_LABGRID=1 but {} not installed (pip install labgrid==26.0.1; apt-get install ser2net)", missing.join(", "));
    }
    eprintln!(
        "skipped {test}: {} not installed (pip install labgrid==26.0.1; apt-get install ser2net)",
        missing.join(", ")
    );
    false
}

/// A free TCP port on 127.0.0.1 (free when asked; the race is the test's to lose).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A process this lab started, killed with its group on drop.
struct Started {
    name: String,
    child: Child,
}

impl Drop for Started {
    fn drop(&mut self) {
        if let Ok(pgid) = libc::pid_t::try_from(self.child.id()) {
            // SAFETY: only a signal; the group is the child's own (made at spawn) and the child
            // is not reaped yet, so the ID cannot have been reused.
            unsafe {
                libc::killpg(pgid, libc::SIGKILL);
            }
        }
        let _ = self.child.wait();
    }
}

/// A coordinator, exporters, emulated modems and relays on loopback, in a temporary folder.
pub struct Lab {
    pub coordinator: String,
    /// Exporters and relays first: they go before the coordinator.
    procs: Vec<Started>,
    coordinator_proc: Option<Started>,
    modems: Vec<PtyModem>,
    dir: tempfile::TempDir,
    /// How long the coordinator took to listen.
    pub coordinator_started_in: Duration,
}

impl Drop for Lab {
    fn drop(&mut self) {
        self.procs.clear();
        self.coordinator_proc = None;
    }
}

fn wait_until(what: &str, within: Duration, mut ok: impl FnMut() -> bool) {
    let end = Instant::now() + within;
    while !ok() {
        assert!(Instant::now() < end, "{what}: not within {within:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

impl Lab {
    /// A coordinator on a free loopback port, its state (places.yaml) in a temporary folder.
    pub fn start() -> Lab {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let coordinator = format!("127.0.0.1:{port}");
        let t = Instant::now();
        let proc = spawn(dir.path(), "coordinator", Command::new("labgrid-coordinator").args(["-l", &coordinator]));
        let mut lab = Lab {
            coordinator,
            procs: vec![],
            coordinator_proc: Some(proc),
            modems: vec![],
            dir,
            coordinator_started_in: Duration::ZERO,
        };
        wait_until("labgrid-coordinator listening", Duration::from_secs(60), || {
            TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok()
        });
        lab.coordinator_started_in = t.elapsed();
        lab
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// An emulated BC39 on a pty (it answers `AT\r` with `OK`); its path, for an exporter.
    pub fn emulated_modem(&mut self) -> PathBuf {
        self.emulated_modem_with(Options::for_dialect("bc39"))
    }

    /// An emulated modem with these options (a rig file's `[emulator]`) on a pty; its path.
    pub fn emulated_modem_with(&mut self, options: Options) -> PathBuf {
        let modem = on_pty(Modem::new(options).unwrap()).unwrap();
        let path = modem.path.clone();
        self.modems.push(modem);
        path
    }

    /// A `simplerest` relay: `GET /relay/INDEX/VALUE` switches, `GET /relay/INDEX` reads; each
    /// request is a line in the returned log file. Gives its URL template and the log.
    pub fn relay(&mut self) -> (String, PathBuf) {
        let port = free_port();
        let log = self.dir().join(format!("relay-{port}.log"));
        let script = r#"
import http.server, sys
state = {}
log = open(sys.argv[2], "a", buffering=1)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if len(parts) == 3:
            state[parts[1]] = parts[2]
        log.write(self.path + "\n")
        body = state.get(parts[1] if len(parts) > 1 else "", "0").encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"#;
        let proc = spawn(
            self.dir.path(),
            "relay",
            Command::new("python3").args(["-c", script, &port.to_string(), &log.to_string_lossy()]),
        );
        self.procs.push(proc);
        wait_until("the relay listening", Duration::from_secs(30), || {
            TcpStream::connect_timeout(&([127, 0, 0, 1], port).into(), Duration::from_millis(200)).is_ok()
        });
        (format!("http://127.0.0.1:{port}/relay/{{index}}/{{value}}"), log)
    }

    /// Starts `labgrid-exporter --name NAME --hostname 127.0.0.1` with this YAML and waits until
    /// the coordinator lists each of its groups. Gives how long that took.
    pub fn export(&mut self, name: &str, yaml: &str) -> Duration {
        let config = self.dir().join(format!("{name}.yaml"));
        std::fs::write(&config, yaml).unwrap();
        let t = Instant::now();
        let proc = spawn(
            self.dir.path(),
            name,
            Command::new("labgrid-exporter")
                .args(["-c", &self.coordinator, "-n", name, "--hostname", "127.0.0.1"])
                .arg(&config),
        );
        self.procs.push(proc);
        let groups: Vec<String> = yaml
            .lines()
            .filter(|l| !l.starts_with([' ', '#']) && l.trim_end().ends_with(':'))
            .map(|l| format!("{name}/{}/", l.trim_end().trim_end_matches(':')))
            .collect();
        wait_until(&format!("exporter {name} known to the coordinator"), Duration::from_secs(90), || {
            let out = self.client(&["resources"]);
            let listed = String::from_utf8_lossy(&out.stdout);
            groups.iter().all(|g| listed.contains(g.as_str()))
        });
        t.elapsed()
    }

    /// `labgrid-client -x COORDINATOR ARGS…`, bounded (60 s), as this host and user.
    pub fn client(&self, args: &[&str]) -> Output {
        self.client_as(None, args)
    }

    /// The same as another host and user (`LG_HOSTNAME`, `LG_USERNAME`): `("otherhost", "alice")`.
    pub fn client_as(&self, who: Option<(&str, &str)>, args: &[&str]) -> Output {
        let mut cmd = Command::new("timeout");
        cmd.args(["-s", "KILL", "60", "labgrid-client", "-x", &self.coordinator]).args(args);
        cmd.env("PYTHONUNBUFFERED", "1").env_remove("LG_TOKEN").env_remove("LG_PLACE").env_remove("LG_ENV");
        if let Some((host, user)) = who {
            cmd.env("LG_HOSTNAME", host).env("LG_USERNAME", user);
        }
        cmd.stdin(Stdio::null()).output().unwrap()
    }

    /// `create` and `add-match`.
    pub fn create_place(&self, place: &str, matches: &[&str]) {
        let out = self.client(&["-p", place, "create"]);
        assert!(out.status.success(), "create {place}: {}", String::from_utf8_lossy(&out.stderr));
        let mut args = vec!["-p", place, "add-match"];
        args.extend_from_slice(matches);
        let out = self.client(&args);
        assert!(out.status.success(), "add-match {place}: {}", String::from_utf8_lossy(&out.stderr));
    }

    /// Who holds the place, from `show` (`None`: free).
    pub fn holder(&self, place: &str) -> Option<String> {
        let out = self.client(&["-p", place, "show"]);
        assert!(out.status.success(), "show {place}: {}", String::from_utf8_lossy(&out.stderr));
        let shown = miplcheck_runner::labgrid::parse::show(&String::from_utf8_lossy(&out.stdout)).unwrap();
        shown.acquired
    }

    /// `reservations` as it prints them.
    pub fn reservations(&self) -> String {
        String::from_utf8_lossy(&self.client(&["reservations"]).stdout).into_owned()
    }

    /// A rig for the place: the client on PATH, 30 s a call, 20 s for the reservation (the
    /// client, a Python program, takes seconds to start on a loaded machine before it even asks).
    pub fn rig(&self, place: &str) -> LabgridRig {
        self.rig_waiting(place, Duration::from_secs(20))
    }

    /// The same, waiting `reserve_wait` for a place someone else holds.
    pub fn rig_waiting(&self, place: &str, reserve_wait: Duration) -> LabgridRig {
        let mut rig = LabgridRig::new(self.coordinator.clone(), place);
        rig.reserve_wait = reserve_wait;
        rig
    }

    /// The log of a process this lab started (`coordinator`, an exporter's name, `relay`).
    pub fn log(&self, name: &str) -> String {
        let mut s = String::new();
        if let Ok(mut f) = File::open(self.dir().join(format!("{name}.log"))) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }
}

fn spawn(dir: &Path, name: &str, cmd: &mut Command) -> Started {
    let log = File::create(dir.join(format!("{name}.log"))).unwrap();
    let child = cmd
        .current_dir(dir)
        .env("PYTHONUNBUFFERED", "1")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .process_group(0)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
    Started { name: name.to_string(), child }
}

/// The exporter YAML for a modem's serial port.
pub fn serial_group(group: &str, pty: &Path) -> String {
    format!("{group}:\n  RawSerialPort:\n    port: {}\n    speed: 115200\n", pty.display())
}

/// The exporter YAML for a `simplerest` power port.
pub fn power_port(url: &str, index: u32) -> String {
    format!("  NetworkPowerPort:\n    model: simplerest\n    host: '{url}'\n    index: {index}\n")
}

/// Sends `AT\r` over a telnet (RFC 2217) connection and waits for `OK`, skipping the server's
/// option negotiation (IAC sequences); gives what came, negotiation stripped.
pub fn at_over_telnet(address: &str, within: Duration) -> Result<String, String> {
    use std::io::Write;
    let mut s = TcpStream::connect(address).map_err(|e| format!("connect {address}: {e}"))?;
    s.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    s.write_all(b"AT\r").map_err(|e| e.to_string())?;
    let end = Instant::now() + within;
    let mut raw = Vec::new();
    let mut buf = [0u8; 512];
    while Instant::now() < end {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {}
            Err(e) => return Err(e.to_string()),
        }
        let text = strip_telnet(&raw);
        if text.contains("OK") {
            return Ok(text);
        }
    }
    Err(format!("no OK within {within:?}; got {:?}", strip_telnet(&raw)))
}

/// The data bytes of a telnet stream: IAC commands, options and subnegotiations removed.
pub fn strip_telnet(raw: &[u8]) -> String {
    const IAC: u8 = 255;
    let mut out = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        if raw[i] != IAC {
            out.push(raw[i]);
            i += 1;
            continue;
        }
        match raw.get(i + 1) {
            Some(&IAC) => {
                out.push(IAC);
                i += 2;
            }
            // WILL, WONT, DO, DONT: an option byte follows.
            Some(251..=254) => i += 3,
            // SB … IAC SE
            Some(250) => {
                i += 2;
                while i + 1 < raw.len() && !(raw[i] == IAC && raw[i + 1] == 240) {
                    i += 1;
                }
                i += 2;
            }
            _ => i += 2,
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
