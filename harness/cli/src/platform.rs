//! `miplcheck platform`: the mock OneNET on UDP for a person or a script. It prints every datagram
//! decoded, reads commands on stdin — the words of a suite's `platform:` step with the device in
//! front, read by the runner's one parser (`platform_op::parse_for_device`) — and prints each
//! operation's answer as it comes; `--json` makes every line one JSON object. With `--http ADDR`
//! it also serves the OneNET-compatible HTTP API (`miplcheck_platform::http`) on the same
//! platform. It never reads a rig's secrets: the API key comes from the environment variable
//! `--api-key-env` names, and it is never printed.

use crate::exit::{Error, Exit};
use crate::{out, say};
use miplcheck_platform::{http, udp, Control, OpId, OpOutcome, PlatformOptions};
use miplcheck_runner::platform_op::{self, PlatformStep};
use serde_json::json;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// `miplcheck platform --help`: what to type, and how to reach it over HTTP.
const EXAMPLES: &str = "Commands on stdin (EP: the device's endpoint name or a part of it, its IMEI; left out before a
path, the first device registered):
  list                                   the devices registered now
  read EP /3311/0/5700                   discover EP /3311       observe EP /3311/0/5700
  cancel EP /3311/0/5700                 execute EP /3303/0/5605 [ARGS]
  write EP /3311/0/5706 text hello       write EP /3311/0/5706 opaque 68656C6C6F
  write EP /3311/0 tlv 5706=\"hello\";5850=1   (partial update, POST; `replace` for PUT)
  attributes EP /3303/0/5700 pmin=2&pmax=190
  auto-observe on|off   refuse|ignore|accept bootstrap|register|update|notify   help
Each answer and notification is printed decoded as it comes; Ctrl-C stops the platform, the end of
stdin does not.

Examples:
  miplcheck platform --listen 127.0.0.1:5683
  miplcheck platform --json --no-auto-observe      (one JSON object a line, for scripts)
  MIPL_API_KEY=s3cret miplcheck platform --http 127.0.0.1:8080 --api-key-env MIPL_API_KEY
  curl -H 'api-key: s3cret' 'http://127.0.0.1:8080/nbiot?imei=866971030000001&obj_id=3311&obj_inst_id=0&res_id=5700'";

#[derive(clap::Args)]
#[command(after_help = EXAMPLES)]
pub struct PlatformArgs {
    /// Where to listen.
    #[arg(long, default_value = "127.0.0.1:5683")]
    listen: std::net::SocketAddr,
    /// Do not observe, discover and read right after registration (OneNET's "obsv" off).
    #[arg(long)]
    no_auto_observe: bool,
    /// Refuse registrations without this auth code (CoAP option 63); better given through the
    /// MIPL_AUTH_CODE environment variable than on the command line.
    #[arg(long, env = "MIPL_AUTH_CODE", hide_env_values = true)]
    auth_code: Option<String>,
    /// Print one JSON object a line (datagrams, answers, devices, errors) for scripts.
    #[arg(long)]
    json: bool,
    /// Also serve OneNET's HTTP API (`GET /nbiot`, `POST /nbiot/execute`, `POST /devices`…) here,
    /// e.g. 127.0.0.1:8080.
    #[arg(long)]
    http: Option<std::net::SocketAddr>,
    /// The environment variable that holds the HTTP API's key (its `api-key` header).
    #[arg(long, default_value = "MIPL_API_KEY", requires = "http")]
    api_key_env: String,
}

pub fn run(a: PlatformArgs) -> Result<Exit, Error> {
    let opts = PlatformOptions {
        auto_observe: !a.no_auto_observe,
        auth_code: a.auth_code,
        server_uri: format!("coap://{}", a.listen),
        ..Default::default()
    };
    let epoch = std::time::Instant::now();
    let pf = udp::spawn(a.listen, opts, epoch).map_err(|e| Error::Usage(format!("--listen {}: {e}", a.listen)))?;
    out::warn_if_wide("the mock platform", pf.addr);
    let pf = Arc::new(pf);
    let console = Console { pf: pf.clone(), json: a.json, pending: Vec::new() };
    let _api = match a.http {
        Some(addr) => {
            let key = std::env::var(&a.api_key_env).ok().filter(|k| !k.is_empty()).ok_or_else(|| {
                Error::Usage(format!("--http needs the API key in the environment variable {}", a.api_key_env))
            })?;
            let api = http::serve(addr, pf.clone(), key).map_err(|e| Error::Usage(format!("--http {addr}: {e}")))?;
            out::warn_if_wide("the HTTP API", api.addr);
            Some(api)
        }
        None => None,
    };
    let http_addr = _api.as_ref().map(|s| s.addr);
    // A reader that went away (`| head`) ends the service quietly.
    let banner = match (a.json, http_addr) {
        (true, h) => console.emit(json!({"event": "listening", "coap": format!("coap://{}", pf.addr),
            "http": h.map(|h| format!("http://{h}"))})),
        (false, Some(h)) => {
            say!("mock OneNET platform on coap://{} and http://{h} (type help for commands; Ctrl-C stops it)", pf.addr)
        }
        (false, None) => say!("mock OneNET platform on coap://{} (type help for commands; Ctrl-C stops it)", pf.addr),
    };
    if !banner {
        return Ok(Exit::Ok);
    }
    console.serve(lines())
}

/// Lines typed on stdin, read on a thread of their own; the channel closes at the end of stdin.
fn lines() -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

struct Console {
    pf: Arc<udp::Handle>,
    json: bool,
    /// Operations started and not yet answered: their id, and the command as typed.
    pending: Vec<(OpId, String)>,
}

impl Console {
    /// Serves until stdout goes away; the end of stdin only ends the commands.
    fn serve(mut self, commands: mpsc::Receiver<String>) -> Result<Exit, Error> {
        let mut input_open = true;
        loop {
            if input_open {
                match commands.recv_timeout(Duration::from_millis(50)) {
                    Ok(line) => {
                        if !self.command(line.trim()) {
                            return Ok(Exit::Ok);
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Timeout) => {}
                    Err(mpsc::RecvTimeoutError::Disconnected) => input_open = false,
                }
            } else {
                std::thread::sleep(Duration::from_millis(100));
            }
            if !self.datagrams() || !self.answers() {
                return Ok(Exit::Ok);
            }
        }
    }

    /// Does one command; `false` once stdout is gone.
    fn command(&mut self, line: &str) -> bool {
        match line {
            "" => true,
            "help" => self.emit_text(EXAMPLES, json!({"event": "help", "text": EXAMPLES})),
            "list" => self.list(),
            _ => {
                let root = std::env::current_dir().unwrap_or_default();
                match platform_op::parse_for_device(line, &root) {
                    Ok((device, step)) => self.step(line, device.as_deref(), step),
                    Err(e) => self.error(line, &e.to_string()),
                }
            }
        }
    }

    fn step(&mut self, line: &str, device: Option<&str>, step: PlatformStep) -> bool {
        match step {
            PlatformStep::Operate(op) => match self.pf.operate(device, op) {
                Ok(id) => {
                    self.pending.push((id, line.to_string()));
                    self.emit_text(
                        &format!("#{} {line}: sent", id.0),
                        json!({"event": "sent", "op": id.0, "command": line}),
                    )
                }
                Err(e) => self.error(line, &e.to_string()),
            },
            PlatformStep::AutoObserve(on) => {
                self.pf.set_auto_observe(on);
                self.done(line)
            }
            PlatformStep::Fault(what, fault) => {
                self.pf.set_fault(what, fault);
                self.done(line)
            }
            PlatformStep::DeleteDevice(name) => match self.pf.delete_device(name.as_deref().or(device)) {
                Ok(()) => self.done(line),
                Err(e) => self.error(line, &e.to_string()),
            },
            PlatformStep::Dtls(_) | PlatformStep::AuthCode(_) | PlatformStep::BootstrapPsk(_) => {
                self.error(line, "this needs a rig's secret; the console takes none (start it with --auth-code)")
            }
        }
    }

    fn done(&self, line: &str) -> bool {
        self.emit_text(&format!("{line}: done"), json!({"event": "done", "command": line}))
    }

    fn error(&self, line: &str, why: &str) -> bool {
        self.emit_text(
            &format!("error: {line}: {why} (type help for the commands)"),
            json!({"event": "error", "command": line, "error": why}),
        )
    }

    fn list(&self) -> bool {
        let devices = self.pf.devices();
        if self.json {
            let list: Vec<_> = devices
                .iter()
                .map(|d| {
                    json!({"endpoint": d.endpoint, "peer": d.peer.to_string(), "lifetime": d.lifetime,
                        "binding": d.binding, "lwm2m": d.version, "updates": d.updates,
                        "objects": d.objects.iter().map(|p| p.to_string()).collect::<Vec<_>>()})
                })
                .collect();
            return self.emit(json!({"event": "devices", "devices": list}));
        }
        if devices.is_empty() {
            return say!("no device is registered");
        }
        devices.iter().all(|d| {
            let objects: Vec<String> = d.objects.iter().map(|p| p.to_string()).collect();
            say!(
                "{} at {} lifetime {} s, {} update(s), objects {}",
                miplcheck_record::printable(&d.endpoint),
                d.peer,
                d.lifetime,
                d.updates,
                objects.join(",")
            )
        })
    }

    /// Prints the datagrams and notes since the last call; `false` once stdout is gone.
    fn datagrams(&self) -> bool {
        for r in self.pf.take_records() {
            // Whatever a datagram carries (an `ep=` with terminal escapes) is shown escaped.
            let text = miplcheck_record::printable(&r.describe());
            let kind = if r.is_notification() { "notification" } else { "datagram" };
            let line = format!("{:>10.3}s {} {text}", r.at.as_secs_f64(), r.dir.arrow());
            let value = json!({"event": kind, "at": r.at.as_secs_f64(), "dir": r.dir.arrow(), "peer": r.peer,
                "text": r.describe()});
            if !self.emit_text(&line, value) {
                return false;
            }
        }
        // What the platform did on its own: expiries, evictions, refusals and their reasons.
        self.pf.take_notes().into_iter().all(|n| {
            let peer = n.peer.as_deref().unwrap_or("-");
            self.emit_text(
                &format!("{:>10.3}s PF    {peer} {}", n.at.as_secs_f64(), n.text),
                json!({"event": "note", "at": n.at.as_secs_f64(), "peer": n.peer, "text": n.text}),
            )
        })
    }

    /// Prints the operations that ended since the last call; `false` once stdout is gone.
    fn answers(&mut self) -> bool {
        let mut ok = true;
        let pf = self.pf.clone();
        let mut ended = Vec::new();
        self.pending.retain(|(id, line)| match pf.outcome(*id) {
            OpOutcome::Pending => true,
            outcome => {
                ended.push((*id, line.clone(), outcome));
                false
            }
        });
        for (id, line, outcome) in ended {
            let (text, value) = match outcome {
                OpOutcome::Answered { code, packet, at } => {
                    let text = miplcheck_platform::record::answer_text(&code, &packet);
                    (
                        text.clone(),
                        json!({"event": "answer", "op": id.0, "command": line, "code": code,
                        "at": at.as_secs_f64(), "answer": text}),
                    )
                }
                OpOutcome::TimedOut => {
                    let why = "no answer: the platform re-sent the request and gave up";
                    (why.to_string(), json!({"event": "timeout", "op": id.0, "command": line, "error": why}))
                }
                OpOutcome::Reset => {
                    ("RST".to_string(), json!({"event": "reset", "op": id.0, "command": line, "error": "RST"}))
                }
                OpOutcome::Cancelled(why) => (
                    format!("cancelled: {why}"),
                    json!({"event": "cancelled", "op": id.0, "command": line, "error": why}),
                ),
                OpOutcome::Pending => continue,
            };
            ok &= self.emit_text(&format!("#{} {line}: {}", id.0, miplcheck_record::printable(&text)), value);
        }
        ok
    }

    /// Prints `text` for a person or `value` for a script, as the console was started.
    fn emit_text(&self, text: &str, value: serde_json::Value) -> bool {
        if self.json {
            self.emit(value)
        } else {
            say!("{text}")
        }
    }

    fn emit(&self, value: serde_json::Value) -> bool {
        say!("{value}")
    }
}
