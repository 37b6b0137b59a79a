//! Reset and power strategies and the health check, against real shell scripts, the emulator on a
//! pty and on TCP, a closed TCP port, and a fake sysfs tree whose tty re-enumerates across a
//! power cycle. Loopback only; time bounds are generous (the machine is shared).

use miplcheck_emulator::{Modem, Options};
use miplcheck_runner::rig::Rig;
use miplcheck_runner::target::power::{self, Env, Op};
use miplcheck_runner::target::{HealthReport, Reopening, Target, TargetError};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

fn rig(text: &str) -> Rig {
    Rig::parse(Path::new("rigs/test.toml"), text).unwrap()
}

/// A shell script in `dir`, run as `sh <path>`.
fn script(dir: &Path, name: &str, body: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    format!("sh {}", path.display())
}

/// A power script that logs `start <rig> <time>` and `end <rig> <time>` around a sleep of `secs`.
fn logging_cycle(dir: &Path, secs: &str) -> String {
    let log = dir.join("log");
    script(
        dir,
        "cycle.sh",
        &format!(
            "echo \"start $MIPLCHECK_RIG $(date +%s.%N)\" >> {log}\nsleep {secs}\necho \"end $MIPLCHECK_RIG $(date +%s.%N)\" >> {log}\n",
            log = log.display()
        ),
    )
}

/// The events of the log, without times: `start a`, `end a`, …
fn events(dir: &Path) -> Vec<String> {
    std::fs::read_to_string(dir.join("log"))
        .unwrap()
        .lines()
        .map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" "))
        .collect()
}

fn power_rig(name: &str, power: &str) -> Rig {
    rig(&format!(
        "name = \"{name}\"\nkind = \"tcp\"\ndialect = \"bc39\"\n[tcp]\naddress = \"127.0.0.1:1\"\n[power]\n{power}"
    ))
}

/// Cycles both rigs' power at once from two threads.
fn cycle_together(a: Rig, b: Rig) {
    let barrier = Arc::new(Barrier::new(2));
    let threads: Vec<_> = [a, b]
        .into_iter()
        .map(|r| {
            let barrier = barrier.clone();
            std::thread::spawn(move || {
                barrier.wait();
                let env = Env { rig: r.name.clone(), port: None };
                power::switch(r.power.as_ref().unwrap(), Op::Cycle, &env).unwrap();
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

#[test]
fn rigs_of_one_group_never_switch_power_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let cycle = logging_cycle(dir.path(), "0.2");
    let table = format!("cycle = \"{cycle}\"\ngroup = \"strategies-one-hub\"\n");
    cycle_together(power_rig("a", &table), power_rig("b", &table));
    let e = events(dir.path());
    assert_eq!(e.len(), 4, "{e:?}");
    assert!(e[0].starts_with("start") && e[1] == e[0].replace("start", "end"), "{e:?}");
    assert!(e[2].starts_with("start") && e[3] == e[2].replace("start", "end"), "{e:?}");
}

#[test]
fn rigs_of_different_groups_may_switch_power_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let cycle = logging_cycle(dir.path(), "1");
    let a = power_rig("a", &format!("cycle = \"{cycle}\"\ngroup = \"strategies-hub-a\"\n"));
    let b = power_rig("b", &format!("cycle = \"{cycle}\"\ngroup = \"strategies-hub-b\"\n"));
    cycle_together(a, b);
    let e = events(dir.path());
    assert_eq!(e.len(), 4, "{e:?}");
    // Both started before either ended (each sleeps a second): nothing held one back.
    assert!(e[0].starts_with("start") && e[1].starts_with("start"), "{e:?}");
}

#[test]
fn off_then_on_waits_off_time_between() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let off =
        script(dir.path(), "off.sh", &format!("echo \"off $MIPLCHECK_RIG:$MIPLCHECK_PORT\" >> {}\n", log.display()));
    let on = script(dir.path(), "on.sh", &format!("echo \"on $MIPLCHECK_RIG\" >> {}\n", log.display()));
    let r = power_rig("c", &format!("off = \"{off}\"\non = \"{on}\"\noff_time = \"300ms\"\n"));
    let t0 = Instant::now();
    power::switch(r.power.as_ref().unwrap(), Op::Cycle, &Env { rig: "c".into(), port: Some("127.0.0.1:1".into()) })
        .unwrap();
    assert!(t0.elapsed() >= Duration::from_millis(300));
    assert_eq!(std::fs::read_to_string(&log).unwrap(), "off c:127.0.0.1:1\non c\n");
}

#[test]
fn a_power_command_that_overruns_is_killed_with_what_it_started() {
    let dir = tempfile::tempdir().unwrap();
    let pidfile = dir.path().join("pid");
    let hang = script(dir.path(), "hang.sh", &format!("sleep 60 &\necho $! > {}\nwait\n", pidfile.display()));
    let r = power_rig("d", &format!("cycle = \"{hang}\"\ntimeout = \"1s\"\n"));
    let t0 = Instant::now();
    let e = power::switch(r.power.as_ref().unwrap(), Op::Cycle, &Env::default()).unwrap_err();
    assert!(t0.elapsed() < Duration::from_secs(20), "{:?}", t0.elapsed());
    let shown = e.to_string();
    assert!(
        shown.contains(&format!("power cycle (`{hang}`): still running after 1s; killed (process group")),
        "{shown}"
    );
    let pid: i32 = std::fs::read_to_string(&pidfile).unwrap().trim().parse().unwrap();
    // Gone, or a zombie waiting for a PID 1 that does not reap: either way, not sleeping.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok();
        let dead = state.as_deref().is_none_or(|s| s.rsplit(')').next().unwrap_or("").trim_start().starts_with('Z'));
        if dead {
            break;
        }
        assert!(Instant::now() < deadline, "the sleep {pid} the command started still runs: {state:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_power_command_that_fails_is_reported_with_its_status_and_last_line_of_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let fail = script(dir.path(), "fail.sh", "echo 'probing hubs' >&2\necho 'no hub at 1-1' >&2\necho\nexit 3\n");
    let r = power_rig("e", &format!("off = \"{fail}\"\non = \"true\"\n"));
    let e = power::switch(r.power.as_ref().unwrap(), Op::Cycle, &Env::default()).unwrap_err();
    assert_eq!(e.to_string(), format!("power off (`{fail}`): exit status: 3; stderr: `no hub at 1-1`"));
}

/// The emulator on a loopback TCP port, a fresh modem per connection, as `miplcheck emulate --tcp`.
fn emulator_on_tcp() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let _ = miplcheck_emulator::serve::on_tcp(listener, || Modem::new(Options::for_dialect("bc39")).unwrap());
    });
    addr
}

#[test]
fn a_reset_answered_error_fails_at_once_naming_the_command_and_the_answer() {
    let addr = emulator_on_tcp();
    // The emulator takes AT+QRST=1 (BC39's reset); another `<mode>` it refuses.
    let r = rig(&format!(
        "kind = \"tcp\"\ndialect = \"bc39\"\n[tcp]\naddress = \"{addr}\"\n[reset]\ncommand = \"AT+QRST=0\"\nready = \"RDY\"\ntimeout = \"15s\"\n"
    ));
    let mut t = Reopening::new(r);
    let t0 = Instant::now();
    let e = t.prepare().unwrap_err();
    let took = t0.elapsed();
    assert!(matches!(e, TargetError::ResetRefused { .. }), "{e}");
    assert!(e.to_string().starts_with("reset: AT+QRST=0 was answered `") && e.to_string().contains("ERROR"), "{e}");
    assert!(took < Duration::from_secs(10), "waited {took:?}, as if for the 15 s time-out");
    // The health check gets past it: the modem answers AT.
    assert_eq!(t.health_check(), HealthReport { ok: true, rungs: vec!["AT: OK".into()] });
}

#[test]
fn a_health_check_of_a_tcp_rig_to_a_closed_port_fails_quickly_saying_each_rung() {
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let r = rig(&format!(
        "kind = \"tcp\"\ndialect = \"bc39\"\n[tcp]\naddress = \"{addr}\"\n[reset]\ncommand = \"AT+QRST=1\"\nready = \"RDY\"\n"
    ));
    let mut t = Reopening::new(r);
    let t0 = Instant::now();
    let h = t.health_check();
    let took = t0.elapsed();
    assert!(!h.ok);
    assert_eq!(h.rungs.len(), 2, "{h:?}");
    assert!(h.rungs[0].starts_with(&format!("AT: cannot connect to {addr}: ")), "{h:?}");
    assert!(h.rungs[1].starts_with(&format!("reset AT+QRST=1: cannot connect to {addr}: ")), "{h:?}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
}

#[test]
fn a_health_check_climbs_to_power_and_says_what_the_cycle_gave() {
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let dir = tempfile::tempdir().unwrap();
    let fail = script(dir.path(), "cycle.sh", "echo 'uhubctl: no compatible hubs' >&2\nexit 1\n");
    let r =
        rig(&format!("kind = \"tcp\"\ndialect = \"bc39\"\n[tcp]\naddress = \"{addr}\"\n[power]\ncycle = \"{fail}\"\n"));
    let h = Reopening::new(r).health_check();
    assert!(!h.ok);
    assert_eq!(h.rungs.len(), 2, "{h:?}");
    assert_eq!(h.rungs[1], format!("power cycle (`{fail}`): exit status: 1; stderr: `uhubctl: no compatible hubs`"));

    let r = rig(&format!(
        "kind = \"tcp\"\ndialect = \"bc39\"\n[tcp]\naddress = \"{addr}\"\n[power]\ncycle = \"true\"\nsettle = \"1s\"\n"
    ));
    let h = Reopening::new(r).health_check();
    assert!(!h.ok);
    assert!(
        h.rungs[1].starts_with(&format!("power cycle (`true`): ok, then within settle 1s: cannot connect to {addr}")),
        "{h:?}"
    );
}

#[test]
fn a_health_check_of_a_healthy_emulator_passes_at_the_first_rung() {
    let mut t = Reopening::new(rig("kind = \"emulator\"\ndialect = \"bc39\"\n"));
    assert_eq!(t.health_check(), HealthReport { ok: true, rungs: vec!["AT: OK".into()] });
    // And the target is ready for a case afterwards.
    t.prepare().unwrap();
}

#[test]
fn a_port_found_by_usb_ids_is_found_again_after_a_power_cycle_renames_it() {
    let root = tempfile::tempdir().unwrap();
    let root = root.path();
    // Before: ttyUSB0 is a line nobody answers on (the modem hung). After the cycle the adapter
    // comes back as ttyUSB1, where the emulator answers.
    let hung = miplcheck_transport::pty::Pty::open().unwrap();
    let modem = miplcheck_emulator::serve::on_pty(Modem::new(Options::for_dialect("bc39")).unwrap()).unwrap();
    miplcheck_transport::fake_sysfs::plug(root, "ttyUSB0", 0, &hung.path).unwrap();
    let log = root.join("power.log");
    let off = script(
        root,
        "off.sh",
        &format!(
            "echo \"off $MIPLCHECK_RIG $MIPLCHECK_PORT\" >> {log}\nrm -r {r}/sys/class/tty/ttyUSB0 {r}/dev/ttyUSB0\n",
            log = log.display(),
            r = root.display()
        ),
    );
    let on = script(
        root,
        "on.sh",
        &format!(
            "echo on >> {log}\nmkdir -p {t}/ttyUSB1 {r}/sys/class/tty/ttyUSB1\nln -s {r}/sys/bus/usb-serial {t}/ttyUSB1/subsystem\nln -s {t}/ttyUSB1 {r}/sys/class/tty/ttyUSB1/device\nln -s {m} {r}/dev/ttyUSB1\n",
            log = log.display(),
            r = root.display(),
            t = root.join("sys/devices/usb1/1-1/1-1:1.0").display(),
            m = modem.path.display()
        ),
    );
    let r = rig(&format!(
        "name = \"bench-1\"\nkind = \"serial\"\ndialect = \"bc39\"\n[serial]\nusb = {{ vid = 0x2c7c, pid = 0x0125 }}\n[power]\noff = \"{off}\"\non = \"{on}\"\noff_time = \"0s\"\nsettle = \"5s\"\ngroup = \"strategies-usb\"\n"
    ));
    let mut t = Reopening::with_sysfs_root(r, root.to_path_buf());
    assert!(t.describe().contains("ttyUSB0"), "{}", t.describe());
    let h = t.health_check();
    assert!(h.ok, "{h:?}");
    assert_eq!(
        h.rungs,
        [
            "AT: sync: no OK to AT after 3 tries over 3.0 s; nothing came back".to_string(),
            format!("power cycle (`{off}`, 0s off, `{on}`): ok"),
        ]
    );
    assert!(t.describe().contains("ttyUSB1"), "{}", t.describe());
    let ran = std::fs::read_to_string(&log).unwrap();
    assert_eq!(ran, format!("off bench-1 {}\non\n", root.join("dev/ttyUSB0").display()));
    t.prepare().unwrap();
}
