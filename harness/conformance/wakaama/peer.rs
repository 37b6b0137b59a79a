//! A Wakaama example program driven through its stdin console, its output kept for the failure
//! message. Each child runs in its own process group and is killed by its PID when dropped.

use regex::Regex;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Generous: a loaded two-core machine runs four builds beside these tests.
pub const WAIT: Duration = Duration::from_secs(60);

/// Where the Wakaama binaries are, or `None` (test skipped, with a message) when they are not
/// built and CI did not ask for them.
pub fn binaries() -> Option<PathBuf> {
    let dir = std::env::var_os("MIPLCHECK_WAKAAMA_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/peers/bin"));
    if ["lwm2mserver", "lwm2mclient", "lwm2mclient_tinydtls"].iter().all(|b| dir.join(b).is_file()) {
        return Some(dir);
    }
    let how = "harness/conformance/peers/build-wakaama.sh";
    if std::env::var_os("MIPLCHECK_REQUIRE_WAKAAMA").is_some() {
        panic!("Wakaama is required (MIPLCHECK_REQUIRE_WAKAAMA is set) but not built in {}: run {how}", dir.display());
    }
    eprintln!("SKIPPED: Wakaama is not built in {} (run {how})", dir.display());
    None
}

pub struct Peer {
    name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    out: Arc<Mutex<String>>,
    /// How far `wait_for` has read: each wait looks only at what came after the last match.
    seen: usize,
}

impl Peer {
    pub fn spawn(dir: &Path, program: &str, args: &[&str]) -> Peer {
        let path = dir.join(program);
        // One stream in the order written: Wakaama prints its datagram dumps on stderr and what
        // they mean on stdout. The client examples never flush stdout: stdbuf line-buffers both.
        // `exec` keeps the program at the PID we hold.
        let stdbuf = if Path::new("/usr/bin/stdbuf").exists() { "/usr/bin/stdbuf -oL -eL " } else { "" };
        let mut cmd = Command::new("/bin/sh");
        cmd.arg("-c").arg(format!("exec {stdbuf}\"$0\" \"$@\" 2>&1")).arg(&path);
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()));
        let out = Arc::new(Mutex::new(String::new()));
        if let Some(stream) = child.stdout.take() {
            let out = out.clone();
            std::thread::spawn(move || pump(Box::new(stream), &out));
        }
        Peer { name: format!("{program} {}", args.join(" ")), stdin: child.stdin.take(), child, out, seen: 0 }
    }

    /// Types one console line.
    pub fn send(&mut self, line: &str) {
        let ok = self.stdin.as_mut().map(|s| s.write_all(format!("{line}\n").as_bytes()).and_then(|_| s.flush()));
        if !matches!(ok, Some(Ok(()))) {
            panic!("{} no longer reads its console ({line:?}):\n{}", self.name, self.output());
        }
    }

    /// Waits for `pattern` in what the peer printed since the last match; returns its groups.
    pub fn wait_for(&mut self, pattern: &str) -> Vec<String> {
        let re = Regex::new(pattern).expect("test pattern");
        let deadline = Instant::now() + WAIT;
        loop {
            {
                let out = self.out.lock().unwrap_or_else(|e| e.into_inner());
                if let Some(c) = re.captures(&out[self.seen..]) {
                    let groups = c.iter().map(|g| g.map(|g| g.as_str().to_string()).unwrap_or_default()).collect();
                    self.seen += c.get(0).map(|m| m.end()).unwrap_or(0);
                    return groups;
                }
            }
            if Instant::now() > deadline {
                panic!("{} printed no {pattern:?} in {WAIT:?}; all it printed:\n{}", self.name, self.output());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn output(&self) -> String {
        self.out.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

fn pump(mut stream: Box<dyn Read + Send>, out: &Mutex<String>) {
    let mut buf = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buf) {
        if n == 0 {
            break;
        }
        // Wakaama ends its lines with CR LF; one form keeps the patterns simple.
        let text = String::from_utf8_lossy(&buf[..n]).replace('\r', "");
        out.lock().unwrap_or_else(|e| e.into_inner()).push_str(&text);
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        // A test failing on our side (an AT answer, a platform outcome) still shows what the
        // peer saw: its console is the other half of the evidence.
        if std::thread::panicking() {
            eprintln!("--- {} printed:\n{}\n---", self.name, self.output());
        }
        // The group: stdbuf execs the program, but a shell or helper it forked would die too.
        let pid = self.child.id() as libc::pid_t;
        // SAFETY: signalling our own child's process group, made by `process_group(0)` above.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
