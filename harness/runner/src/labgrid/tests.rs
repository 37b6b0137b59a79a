use super::client::{run, CallError};
use super::parse::*;
use super::*;
use rstest::rstest;

/// `labgrid-client -x 127.0.0.1:33589 -p bc39-a show` before acquiring (labgrid 26.0.1).
const SHOW_FREE: &str = "Place 'bc39-a':
  matches:
    exp1/modem-a/*
  acquired: None
  acquired resources:
  created: 2026-12-02 05:45:02.606464
  changed: 2026-12-02 05:45:04.506440
Matching resource 'NetworkPowerPort' (exp1/modem-a/NetworkPowerPort/NetworkPowerPort):
  {'acquired': None,
   'avail': True,
   'cls': 'NetworkPowerPort',
   'params': {'extra': {'proxy': 'localhost', 'proxy_required': False},
              'host': 'http://127.0.0.1:8765/relay/{index}/{value}',
              'index': 0,
              'model': 'simplerest'}}
Matching resource 'RawSerialPort' (exp1/modem-a/NetworkSerialPort/RawSerialPort):
  {'acquired': None,
   'avail': True,
   'cls': 'NetworkSerialPort',
   'params': {'extra': {'path': '/dev/pts/0',
                        'proxy': 'localhost',
                        'proxy_required': False},
              'host': '127.0.0.1',
              'port': None,
              'speed': 115200}}
";

/// The same after `acquire`.
const SHOW_ACQUIRED: &str = "Place 'bc39-a':
  matches:
    exp1/modem-a/*
  acquired: vm/root
  acquired resources:
    exp1/modem-a/NetworkPowerPort/NetworkPowerPort
    exp1/modem-a/NetworkSerialPort/RawSerialPort
  created: 2026-12-02 05:45:02.606464
  changed: 2026-12-02 05:45:27.061362
  reservation: 8UY7OX6Y33
Acquired resource 'NetworkPowerPort' (exp1/modem-a/NetworkPowerPort/NetworkPowerPort):
  {'acquired': 'bc39-a',
   'avail': True,
   'cls': 'NetworkPowerPort',
   'params': {'extra': {'proxy': 'localhost', 'proxy_required': False},
              'host': 'http://127.0.0.1:8765/relay/{index}/{value}',
              'index': 0,
              'model': 'simplerest'}}
Acquired resource 'RawSerialPort' (exp1/modem-a/NetworkSerialPort/RawSerialPort):
  {'acquired': 'bc39-a',
   'avail': True,
   'cls': 'NetworkSerialPort',
   'params': {'extra': {'path': '/dev/pts/0',
                        'proxy': 'localhost',
                        'proxy_required': False},
              'host': '127.0.0.1',
              'port': 38281,
              'speed': 115200}}
";

/// A place with no resources matching (its exporter is not running).
const SHOW_EMPTY: &str = "Place 'bare':
  matches:
    exp9/none/*
  acquired: None
  acquired resources:
  created: 2026-12-02 05:50:00.000000
  changed: 2026-12-02 05:50:00.000000
";

#[test]
fn show_before_and_after_acquiring() {
    let free = show(SHOW_FREE).unwrap();
    assert_eq!(free.name, "bc39-a");
    assert_eq!(free.acquired, None);
    assert_eq!(free.resources.len(), 2);
    assert!(free.resources.iter().all(|r| r.state == ResourceState::Matching && r.avail == Some(true)));
    assert_eq!(serial(&free), Err(SerialProblem::Missing), "a matching resource is not acquired yet");

    let held = show(SHOW_ACQUIRED).unwrap();
    assert_eq!(held.acquired.as_deref(), Some("vm/root"));
    assert_eq!(held.reservation.as_deref(), Some("8UY7OX6Y33"));
    let s = serial(&held).unwrap().unwrap();
    assert_eq!(
        s,
        RemoteSerial {
            host: "127.0.0.1".into(),
            port: 38281,
            protocol: SerialProtocol::Rfc2217,
            speed: Some(115200),
            resource: "RawSerialPort".into()
        }
    );
    assert_eq!(s.address(), "127.0.0.1:38281");
    let power = &held.resources[0];
    assert_eq!(power.cls, "NetworkPowerPort");
    assert_eq!(power.param("model").and_then(PyValue::as_text).as_deref(), Some("simplerest"));
    assert_eq!(power.param("index").and_then(PyValue::as_text).as_deref(), Some("0"));
}

#[rstest]
#[case::port_not_yet_published(SHOW_ACQUIRED.replace("'port': 38281", "'port': None"), Ok(None))]
#[case::raw(SHOW_ACQUIRED.replace("'speed': 115200}}", "'protocol': 'raw', 'speed': 9600}}"), Ok(Some((SerialProtocol::Raw, Some(9600)))))]
#[case::no_speed(SHOW_ACQUIRED.replace(",\n              'speed': 115200", ""), Ok(Some((SerialProtocol::Rfc2217, None))))]
#[case::odd_protocol(SHOW_ACQUIRED.replace("'speed': 115200}}", "'protocol': 'ssh', 'speed': 1}}"), Err(()))]
#[case::port_out_of_range(SHOW_ACQUIRED.replace("38281", "70000"), Err(()))]
#[case::power_only(SHOW_ACQUIRED.split("Acquired resource 'RawSerialPort'").next().unwrap().to_string(), Err(()))]
fn serial_parameters(#[case] text: String, #[case] want: Result<Option<(SerialProtocol, Option<u32>)>, ()>) {
    let got = serial(&show(&text).unwrap()).map(|s| s.map(|s| (s.protocol, s.speed))).map_err(|_| ());
    assert_eq!(got, want);
}

#[rstest]
#[case::extra_lines_around(format!("Selected role main from configuration file\n{SHOW_ACQUIRED}warning: something\n"))]
#[case::comment_and_tags(SHOW_ACQUIRED.replace("  matches:\n", "  comment: lab A, shelf 2\n  tags: board=bc39\n  matches:\n"))]
#[case::crlf(SHOW_ACQUIRED.replace('\n', "\r\n"))]
#[case::long_string_wrapped(SHOW_ACQUIRED.replace("'host': '127.0.0.1',", "'host': ('127.0.'\n                       '0.1'),"))]
fn show_is_robust(#[case] text: String) {
    let s = serial(&show(&text).unwrap()).unwrap().unwrap();
    assert_eq!((s.host.as_str(), s.port), ("127.0.0.1", 38281));
}

#[rstest]
#[case::empty("")]
#[case::garbage("\u{0}\u{ff}{{{{[[[('")]
#[case::not_show("acquired place bc39-a\n")]
#[case::broken_dict("Place 'x':\nAcquired resource 'R' (e/g/NetworkSerialPort/R):\n  {'cls': 'NetworkSerialPort', 'params': {'port': \n")]
#[case::deep(format!("Place 'x':\nAcquired resource 'R' (e/g/C/R):\n  {}\n", "[".repeat(10_000)))]
fn odd_output_is_an_error_not_a_panic(#[case] text: String) {
    assert!(show(&text).is_err());
}

#[test]
fn a_place_without_resources() {
    let s = show(SHOW_EMPTY).unwrap();
    assert_eq!(s.name, "bare");
    assert!(s.resources.is_empty());
    assert_eq!(serial(&s), Err(SerialProblem::Missing));
}

#[rstest]
#[case(
    "{'a': 1, 'b': [None, True, False], 'c': (1, 2), 'd': ('x' 'y'), 'e': -2.5}",
    "{a:1 b:[None true false] c:[1 2] d:xy e:-2.5}"
)]
#[case(r#"{"k": 'it\'s', 'n': 'a\nb\x41\u00e9'}"#, "{k:it's n:a\nbAé}")]
#[case("OrderedDict([('port', '/dev/pts/0'), ('speed', 115200)])", "[[port /dev/pts/0] [speed 115200]]")]
#[case("{}", "{}")]
fn python_literals(#[case] text: &str, #[case] want: &str) {
    fn render(v: &PyValue) -> String {
        match v {
            PyValue::Dict(items) => format!(
                "{{{}}}",
                items.iter().map(|(k, v)| format!("{}:{}", render(k), render(v))).collect::<Vec<_>>().join(" ")
            ),
            PyValue::List(items) => format!("[{}]", items.iter().map(render).collect::<Vec<_>>().join(" ")),
            PyValue::None => "None".into(),
            other => other.as_text().unwrap_or_default(),
        }
    }
    assert_eq!(render(&literal(text).unwrap()), want);
}

#[rstest]
#[case::shell("export LG_TOKEN=8UY7OX6Y33\n", Some("8UY7OX6Y33"))]
#[case::with_noise("Selected role x\nexport LG_TOKEN=AB12\nWaiting…\n", Some("AB12"))]
#[case::plain("LG_TOKEN='Q1'\n", Some("Q1"))]
#[case::none("Reservation 'U1MS3005FB':\n  owner: vm/root\n", None)]
#[case::odd("export LG_TOKEN=$(rm -rf)\n", None)]
fn tokens(#[case] stdout: &str, #[case] want: Option<&str>) {
    assert_eq!(token(stdout).as_deref(), want);
}

/// stderr of labgrid-client 26.0.1 in each case, captured.
#[rstest]
#[case::refused(
        "ERROR              root: coordinator is unavailable: failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Failed to connect to remote host: Connection refused\nServer error: Error: Could not connect to coordinator\n",
        Failure::CoordinatorDown("failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Failed to connect to remote host: Connection refused".into())
    )]
#[case::silent_peer(
        "ERROR              root: coordinator is unavailable: failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:34999: connection attempt timed out before receiving SETTINGS frame\nServer error: Error: Could not connect to coordinator\n",
        Failure::CoordinatorDown("failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:34999: connection attempt timed out before receiving SETTINGS frame".into())
    )]
#[case::other_user(
        "labgrid-client: Error: Place bc39-a is already acquired by otherhost/alice. To work simultaneously, alice can execute 'labgrid-client -p bc39-a allow vm/root' on otherhost.\n",
        Failure::Busy(Some("otherhost/alice".into()))
    )]
#[case::ourselves("labgrid-client: Error: You have already acquired place bc39-a.\n", Failure::Busy(Some("this host and user (another run of yours?)".into())))]
#[case::no_place("labgrid-client: Error: place pattern nosuch matches nothing\n", Failure::NoSuchPlace)]
#[case::no_place_by_that_exact_name(
    "labgrid-client: Error: pattern bc39 matches multiple places (bc39-b, bc39-a)\n",
    Failure::NoSuchPlace
)]
#[case::not_acquired("labgrid-client: Error: place bc39-a is not acquired\n", Failure::NotAcquired)]
#[case::no_reservation("Server error: Error: Reservation 8UY7OX6Y33 does not exist\n", Failure::NoReservation)]
#[case::unknown("Traceback (most recent call last):\n  ...\nKeyError: 'x'\n", Failure::Other)]
fn stderr_is_classified(#[case] stderr: &str, #[case] want: Failure) {
    assert_eq!(classify(stderr), want);
}

#[test]
fn power_commands_are_quoted_for_sh() {
    let rig = LabgridRig::new("127.0.0.1:20408", "bc39 a");
    let client = Client { rig: &rig };
    let shown = show(&SHOW_ACQUIRED.replace("Place 'bc39-a'", "Place 'bc39 a'")).unwrap();
    let p = client.power_of(&shown).unwrap();
    assert_eq!(
        (p.cls.as_str(), p.model.as_deref(), p.index.as_deref()),
        ("NetworkPowerPort", Some("simplerest"), Some("0"))
    );
    assert_eq!(p.commands().cycle, "labgrid-client -x 127.0.0.1:20408 -p 'bc39 a' power cycle");
    assert_eq!(p.commands().off, "labgrid-client -x 127.0.0.1:20408 -p 'bc39 a' power off");
    assert_eq!(shell_quote("it's"), r"'it'\''s'");
}

#[test]
fn a_rig_table_with_defaults() {
    let rig: LabgridRig = toml::from_str("coordinator = \"labgrid.example:20408\"\nplace = \"bc39-a\"\n").unwrap();
    assert_eq!(rig, LabgridRig::new("labgrid.example:20408", "bc39-a"));
    let rig: LabgridRig = toml::from_str(
            "coordinator = \"c:1\"\nplace = \"p\"\nclient = \"/opt/lg/bin/labgrid-client\"\ntimeout = \"5s\"\nreserve_wait = \"2m\"\n",
        )
        .unwrap();
    assert_eq!((rig.timeout, rig.reserve_wait), (Duration::from_secs(5), Duration::from_secs(120)));
    assert!(toml::from_str::<LabgridRig>("coordinator = \"c:1\"\nplace = \"p\"\ntimeuot = \"5s\"\n").is_err());
}

#[test]
fn messages_say_what_to_do() {
    let e = LabgridError::Busy {
        place: "bc39-a".into(),
        coordinator: "127.0.0.1:20408".into(),
        holder: Some("otherhost/alice".into()),
        waited: Some(Duration::from_secs(600)),
    };
    assert_eq!(
            e.to_string(),
            "place bc39-a on coordinator 127.0.0.1:20408 is acquired by otherhost/alice (waited 10m for it, [labgrid] reserve_wait); try again later, or ask them to release it (`labgrid-client -x 127.0.0.1:20408 -p bc39-a release`; a run of yours that was killed leaves it acquired too)"
        );
    let e = LabgridError::NoSerial { place: "p".into(), coordinator: "c:1".into(), resources: vec![] };
    assert!(e
        .to_string()
        .starts_with("place p on coordinator c:1 has no NetworkSerialPort (no resources match it now)"));
}

#[test]
fn a_client_that_is_not_there() {
    let mut rig = LabgridRig::new("127.0.0.1:1", "p");
    rig.client = PathBuf::from("/nonexistent/labgrid-client");
    let e = Lease::acquire(&rig).unwrap_err();
    assert!(matches!(e, LabgridError::NotInstalled { .. }), "{e}");
    assert!(e.to_string().contains("pip install labgrid"), "{e}");
}

#[test]
fn a_client_that_hangs_is_killed_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("labgrid-client");
    std::fs::write(&fake, "#!/bin/sh\necho 'export LG_TOKEN=ABC'\nsleep 60 & sleep 60\n").unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let t = Instant::now();
    let r = run(&fake, "127.0.0.1:1", &["show"], Duration::from_millis(300), false);
    let Err(CallError::Overrun(o)) = r else { panic!("not an overrun") };
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    assert_eq!(token(&o.stdout).as_deref(), Some("ABC"));
}
