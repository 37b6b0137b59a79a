//! labgrid places against real labgrid on loopback (a coordinator, an exporter whose ser2net
//! serves emulated modems' ptys, a `simplerest` relay): no mocks. Without labgrid installed each
//! test says it skipped and passes, unless `MIPLCHECK_REQUIRE_LABGRID=1`.

#[path = "support/labgrid_fixture.rs"]
mod labgrid_fixture;

use labgrid_fixture::{at_over_telnet, labgrid_or_skip, power_port, serial_group, Lab};
use miplcheck_runner::labgrid::{LabgridError, LabgridRig, Lease, SerialProtocol};
use std::net::TcpListener;
use std::time::{Duration, Instant};

/// A lab with two emulated modems: place `bc39-a` (serial and a relay's power port 0), place
/// `bc39-b` (serial only), and place `relay-only` (a power port, no serial port).
fn lab() -> (Lab, std::path::PathBuf) {
    let mut lab = Lab::start();
    let a = lab.emulated_modem();
    let b = lab.emulated_modem();
    let (url, relay_log) = lab.relay();
    let yaml = serial_group("modem-a", &a)
        + &power_port(&url, 0)
        + &serial_group("modem-b", &b)
        + "relay-only:\n"
        + &power_port(&url, 7);
    let exported_in = lab.export("exp1", &yaml);
    eprintln!(
        "coordinator listening after {:?}; exporter's resources listed after {exported_in:?}",
        lab.coordinator_started_in
    );
    lab.create_place("bc39-a", &["exp1/modem-a/*"]);
    lab.create_place("bc39-b", &["exp1/modem-b/*"]);
    lab.create_place("relay-only", &["exp1/relay-only/*"]);
    (lab, relay_log)
}

fn timed<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let r = f();
    eprintln!("{what}: {:?}", t.elapsed());
    r
}

#[test]
fn a_lease_reaches_the_modem_over_rfc2217_and_release_frees_the_place() {
    if !labgrid_or_skip("a_lease_reaches_the_modem_over_rfc2217_and_release_frees_the_place") {
        return;
    }
    let (lab, _) = lab();
    let a = timed("acquire bc39-a", || Lease::acquire(&lab.rig("bc39-a"))).unwrap();
    let b = timed("acquire bc39-b", || Lease::acquire(&lab.rig("bc39-b"))).unwrap();
    for lease in [&a, &b] {
        let s = lease.serial();
        assert_eq!((s.host.as_str(), s.protocol, s.speed), ("127.0.0.1", SerialProtocol::Rfc2217, Some(115200)));
        assert_eq!(s.resource, "RawSerialPort");
        let answer = at_over_telnet(&s.address(), Duration::from_secs(10)).unwrap();
        assert!(answer.contains("OK"), "{answer:?}");
    }
    assert_ne!(a.serial().port, b.serial().port);
    // The response time is corrected at the place's speed, not at `[serial]`'s 9600.
    let rig = miplcheck_runner::rig::Rig::parse(
        std::path::Path::new("rigs/lab.toml"),
        &format!(
            "kind = \"labgrid\"\ndialect = \"bc39\"\n[labgrid]\ncoordinator = \"{}\"\nplace = \"bc39-a\"\n\
             [serial]\nbaud = 9600\nparity = \"even\"\n",
            a.rig().coordinator
        ),
    )
    .unwrap();
    assert_eq!(rig.timing.line.map(|l| l.label()).as_deref(), Some("9600 8E1"));
    let leased = miplcheck_runner::target::place::leased_rig(&rig, &a);
    assert_eq!(leased.timing.line.map(|l| l.label()).as_deref(), Some("115200 8E1"));
    assert!(lab.holder("bc39-a").is_some());
    let power = a.power().expect("bc39-a has a power port");
    assert_eq!(
        (power.cls.as_str(), power.model.as_deref(), power.index.as_deref()),
        ("NetworkPowerPort", Some("simplerest"), Some("0"))
    );
    assert!(b.power().is_none());

    timed("release bc39-a", || a.release()).unwrap();
    assert_eq!(lab.holder("bc39-a"), None, "released");
    assert!(lab.holder("bc39-b").is_some(), "the other place is still held");
    timed("release bc39-b", || b.release()).unwrap();
    assert_eq!(lab.holder("bc39-b"), None);
    let who = String::from_utf8_lossy(&lab.client(&["who"]).stdout).into_owned();
    assert!(!who.contains("bc39-"), "{who}");
    let reservations = lab.reservations();
    assert!(!reservations.contains("state: allocated") && !reservations.contains("state: waiting"), "{reservations}");
}

#[test]
fn drop_releases_the_place_and_so_does_unwinding() {
    if !labgrid_or_skip("drop_releases_the_place_and_so_does_unwinding") {
        return;
    }
    let (lab, _) = lab();
    let lease = Lease::acquire(&lab.rig("bc39-a")).unwrap();
    assert!(lab.holder("bc39-a").is_some());
    timed("drop", || drop(lease));
    assert_eq!(lab.holder("bc39-a"), None, "dropped");

    // A run stopped by Ctrl-C returns through its callers, and a panicking case unwinds through
    // them: either way the lease is dropped.
    let rig = lab.rig("bc39-a");
    let caught = std::panic::catch_unwind(|| {
        let lease = Lease::acquire(&rig).unwrap();
        assert!(at_over_telnet(&lease.serial().address(), Duration::from_secs(10)).is_ok());
        panic!("a case blew up while the place was held");
    });
    assert!(caught.is_err());
    assert_eq!(lab.holder("bc39-a"), None, "released while unwinding");
    // And it can be leased again at once.
    Lease::acquire(&rig).unwrap().release().unwrap();
}

#[test]
fn a_place_held_elsewhere_fails_in_bounded_time_naming_the_holder() {
    if !labgrid_or_skip("a_place_held_elsewhere_fails_in_bounded_time_naming_the_holder") {
        return;
    }
    let (lab, _) = lab();
    // Held by this very process: a second acquire waits out reserve_wait (8 s) and fails.
    let held = Lease::acquire(&lab.rig("bc39-a")).unwrap();
    let t = Instant::now();
    let e = Lease::acquire(&lab.rig_waiting("bc39-a", Duration::from_secs(8))).unwrap_err();
    let spent = t.elapsed();
    eprintln!("second acquire failed after {spent:?}: {e}");
    assert!(spent < Duration::from_secs(60), "{spent:?}");
    assert!(matches!(&e, LabgridError::Busy { holder: Some(_), waited: Some(_), .. }), "{e}");
    assert!(e.to_string().contains("place bc39-a on coordinator 127.0.0.1:"), "{e}");
    assert!(held.serial().port > 0);
    held.release().unwrap();

    // Held by another user on another host, through labgrid itself.
    let alice = Some(("otherhost", "alice"));
    let out = lab.client_as(alice, &["reserve", "--wait", "--shell", "name=bc39-b"]);
    let token = miplcheck_runner::labgrid::parse::token(&String::from_utf8_lossy(&out.stdout)).unwrap();
    let by_token = format!("+{token}");
    assert!(lab.client_as(alice, &["-p", &by_token, "acquire"]).status.success());
    let t = Instant::now();
    let e = Lease::acquire(&lab.rig_waiting("bc39-b", Duration::from_secs(8))).unwrap_err();
    eprintln!("acquire of a place alice holds failed after {:?}: {e}", t.elapsed());
    assert!(t.elapsed() < Duration::from_secs(60));
    assert!(e.to_string().contains("is acquired by otherhost/alice"), "{e}");
    assert_eq!(lab.holder("bc39-b").as_deref(), Some("otherhost/alice"), "alice keeps it");
    // Our reservation was cancelled, not left waiting for the place.
    let reservations = lab.reservations();
    assert!(!reservations.contains("state: waiting"), "{reservations}");
}

#[test]
fn a_coordinator_that_is_down_or_silent_fails_in_bounded_time() {
    if !labgrid_or_skip("a_coordinator_that_is_down_or_silent_fails_in_bounded_time") {
        return;
    }
    // Nothing listens: refused, in the client's start-up time.
    let port = labgrid_fixture::free_port();
    let rig = LabgridRig::new(format!("127.0.0.1:{port}"), "bc39-a");
    let t = Instant::now();
    let e = Lease::acquire(&rig).unwrap_err();
    eprintln!("refused after {:?}: {e}", t.elapsed());
    assert!(matches!(e, LabgridError::CoordinatorDown { .. }), "{e}");
    assert!(e.to_string().contains(&format!("cannot reach coordinator 127.0.0.1:{port}")), "{e}");
    assert!(t.elapsed() < Duration::from_secs(30));

    // Something accepts and never speaks gRPC: labgrid-client alone would give up after ~20 s;
    // our own time-out kills it first.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut rig = LabgridRig::new(silent.local_addr().unwrap().to_string(), "bc39-a");
    rig.timeout = Duration::from_secs(4);
    let t = Instant::now();
    let e = Lease::acquire(&rig).unwrap_err();
    eprintln!("silent coordinator: {:?}: {e}", t.elapsed());
    assert!(matches!(e, LabgridError::NoAnswer { .. }), "{e}");
    assert!(e.to_string().contains("did not answer within 4s"), "{e}");
    assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
}

#[test]
fn a_place_without_a_serial_port_or_not_there_is_refused_before_reserving() {
    if !labgrid_or_skip("a_place_without_a_serial_port_or_not_there_is_refused_before_reserving") {
        return;
    }
    let (lab, _) = lab();
    let e = Lease::acquire(&lab.rig("relay-only")).unwrap_err();
    assert!(matches!(e, LabgridError::NoSerial { .. }), "{e}");
    assert!(e.to_string().contains("place relay-only on coordinator 127.0.0.1:"), "{e}");
    assert!(
        e.to_string().contains("has no NetworkSerialPort (it has exp1/relay-only/NetworkPowerPort/NetworkPowerPort)"),
        "{e}"
    );
    let e = Lease::acquire(&lab.rig("nosuch")).unwrap_err();
    assert!(matches!(e, LabgridError::NoSuchPlace { .. }), "{e}");
    // `-p bc39` alone would match bc39-a and bc39-b by substring; a rig names a place exactly.
    let e = Lease::acquire(&lab.rig("bc39")).unwrap_err();
    assert!(matches!(e, LabgridError::NoSuchPlace { .. }), "{e}");
    assert!(!lab.reservations().contains("Reservation"), "nothing reserved: {}", lab.reservations());
}

#[test]
fn the_places_power_commands_switch_its_relay_through_the_power_strategy() {
    if !labgrid_or_skip("the_places_power_commands_switch_its_relay_through_the_power_strategy") {
        return;
    }
    use miplcheck_runner::target::power::{switch, Env, Op};
    let (lab, relay_log) = lab();
    let lease = Lease::acquire(&lab.rig("bc39-a")).unwrap();
    let commands = lease.power().unwrap().commands();
    let power = miplcheck_runner::rig::Power {
        off: Some(commands.off.clone()),
        on: Some(commands.on.clone()),
        cycle: Some(commands.cycle.clone()),
        timeout: Duration::from_secs(60),
        off_time: Duration::from_secs(1),
        settle: Duration::from_secs(5),
        group: None,
    };
    let env = Env { rig: "bc39-lab-a".into(), port: Some(lease.serial().address()) };
    timed("power cycle", || switch(&power, Op::Cycle, &env)).unwrap();
    timed("power off", || switch(&power, Op::Off, &env)).unwrap();
    let log = std::fs::read_to_string(&relay_log).unwrap();
    assert_eq!(log.lines().collect::<Vec<_>>(), ["/relay/0/0", "/relay/0/1", "/relay/0/0"], "{log}");
    lease.release().unwrap();
    // Once released the place's power is not ours to switch.
    let e = switch(&power, Op::On, &env).unwrap_err();
    assert!(e.to_string().contains("is not acquired"), "{e}");
}

/// Ctrl-C while the reservation is waited for ends the wait at once and cancels the reservation;
/// a lease held when the run was asked to stop is still released when it is dropped (the runner
/// finishes its case and returns). A real SIGINT, so in a child process of its own: signals and
/// the runner's stop flag are process-wide.
#[test]
fn an_interrupt_cuts_the_reservation_wait_short_and_a_held_lease_is_still_released() {
    const NAME: &str = "an_interrupt_cuts_the_reservation_wait_short_and_a_held_lease_is_still_released";
    if !labgrid_or_skip(NAME) {
        return;
    }
    if std::env::var_os("MIPLCHECK_LABGRID_SIGNALLED").is_none() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([NAME, "--exact", "--nocapture", "--test-threads", "1"])
            .env("MIPLCHECK_LABGRID_SIGNALLED", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success() && text.contains("1 passed"), "{text}");
        eprintln!("{text}");
        return;
    }
    let (lab, _) = lab();
    miplcheck_runner::interrupt::install().unwrap();
    let held = Lease::acquire(&lab.rig("bc39-a")).unwrap();
    let mut rig = lab.rig("bc39-a");
    rig.reserve_wait = Duration::from_secs(300);
    let coordinator = lab.coordinator.clone();
    // Ctrl-C once our second reservation is waiting.
    let signaller = std::thread::spawn(move || {
        let end = Instant::now() + Duration::from_secs(60);
        while Instant::now() < end {
            let out = std::process::Command::new("labgrid-client").args(["-x", &coordinator, "reservations"]).output();
            if out.is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("state: waiting")) {
                // SAFETY: a signal to this very process, whose handlers interrupt::install set.
                unsafe {
                    libc::kill(libc::getpid(), libc::SIGINT);
                }
                return Instant::now();
            }
        }
        panic!("the reservation never showed as waiting");
    });
    let e = Lease::acquire(&rig).unwrap_err();
    let signalled = signaller.join().unwrap();
    eprintln!("interrupted {:?} after the signal: {e}", signalled.elapsed());
    // The wait ends at once; the cancel after it is one more labgrid-client call (Python's start,
    // seconds on a loaded box), so the bound is far from the reserve_wait of 300 s, not tight.
    assert!(signalled.elapsed() < Duration::from_secs(60), "{:?}", signalled.elapsed());
    assert!(matches!(e, LabgridError::Interrupted { cancelled: true, .. }), "{e}");
    assert!(e.to_string().contains("SIGINT (Ctrl-C) while waiting for the reservation; it was cancelled"), "{e}");
    assert!(!lab.reservations().contains("state: waiting"), "{}", lab.reservations());
    assert_eq!(miplcheck_runner::interrupt::requested(), Some(miplcheck_runner::interrupt::Signal::Interrupt));
    // The run returns; its lease is dropped on the way out, and labgrid-client still runs.
    drop(held);
    assert_eq!(lab.holder("bc39-a"), None, "released after the interrupt");
}
