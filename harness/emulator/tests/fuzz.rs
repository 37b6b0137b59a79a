//! Property tests: whatever a TE sends, the emulator answers without panicking, in time order,
//! every command line gets exactly one final result code, and it stays usable afterwards.
//!
//! CI runs a bounded number of cases per property; `PROPTEST_CASES=100000 cargo test -p
//! miplcheck-emulator --test fuzz --release` runs longer (docs/benchmarks.md, "Fuzzing"). The
//! hand-made corpus of issue 10's hostile lines is replayed by `the_corpus_is_answered`.

use miplcheck_at::dialect::Dialect;
use miplcheck_at::FinalResult;
use miplcheck_emulator::{Emission, Modem, Options};
use proptest::prelude::*;
use std::time::Duration;

/// `default` cases per property in CI; `PROPTEST_CASES` overrides it (`with_cases` alone would
/// ignore it).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn te_bytes() -> impl Strategy<Value = Vec<u8>> {
    let atoms = prop_oneof![
        Just(b"\r".to_vec()),
        Just(b"AT".to_vec()),
        Just(b"AT+MIPLCONFIG=".to_vec()),
        Just(b"AT+MIPLADDOBJ=0,".to_vec()),
        Just(b"AT+MIPLCREATE\r".to_vec()),
        Just(b"AT+MIPLDELETE=0\r".to_vec()),
        // M5310-A: the configuration stream, CREATEEX, the downlink queue, NOTIFY flags.
        Just(b"AT+MIPLCREATE=74,13004AF10003".to_vec()),
        Just(b"AT+MIPLCREATEEX=\"127.0.0.1:5684\",1,,\"".to_vec()),
        Just(b"AT+MIPLNMI=0,".to_vec()),
        Just(b"AT+MIPLMGR=0\r".to_vec()),
        Just(b"AT+MIPLQMGR=0\r".to_vec()),
        Just(b"AT+MIPLNOTIFY=0,0,3200,0,5750,6,".to_vec()),
        Just(b"AT+MIPLOPEN=0,".to_vec()),
        Just(b"AT+QSOTAINFO=\"".to_vec()),
        Just(b"AT+QSOTARESULT=".to_vec()),
        Just(b"AT+CMEE=0\r".to_vec()),
        Just(b"ATE0\r".to_vec()),
        Just(b"?".to_vec()),
        Just(b"=?".to_vec()),
        Just(b",".to_vec()),
        Just(b"\"".to_vec()),
        "[0-9]{1,6}".prop_map(|s| s.into_bytes()),
        prop::collection::vec(any::<u8>(), 0..6),
    ];
    prop::collection::vec(atoms, 0..60).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(1000)))]

    #[test]
    fn the_emulator_takes_anything(input in te_bytes(), step in 1usize..16, m5310a: bool) {
        let mut m = Modem::new(Options::for_dialect(if m5310a { "m5310a" } else { "bc39" })).unwrap();
        let mut t = Duration::ZERO;
        for chunk in input.chunks(step) {
            for e in m.input(chunk, t) {
                prop_assert!(e.at >= t);
            }
            t += Duration::from_millis(1);
        }
        // Still answers a plain AT.
        let out: Vec<u8> = m.input(b"\rAT\r", t).into_iter().flat_map(|e| e.bytes).collect();
        prop_assert!(String::from_utf8_lossy(&out).ends_with("OK\r\n"), "{:?}", String::from_utf8_lossy(&out));
    }
}

/// Parameter values no manual allows: huge and negative numbers, hex, unbalanced quotes, NULs,
/// escapes, separators.
fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(
            &[
                "99999999999999999999999999",
                "18446744073709551616",
                "9223372036854775808",
                "-9223372036854775809",
                "4294967296",
                "65536",
                "-1",
                "-0",
                "+1",
                "0x10",
                "1e9",
                "1.5",
                "",
                "\"",
                "\"unbalanced",
                "unbalanced\"",
                "\"\"\"",
                "\u{0}",
                "\u{1b}[31mRED",
                ",,,,",
                ";",
                "=?",
                "?",
                // Valid enough to get past `<ref>` and reach the other parameters.
                "0",
                "1",
                "3311",
                "3200",
            ][..]
        )
        .prop_map(str::to_string),
        "[0-9]{10,40}",
        "-[0-9]{1,30}",
        "\"[0-9A-F]{0,64}",
        "[ -~]{0,12}".prop_map(|s| s.replace('\r', "")),
        (1usize..6000).prop_map(|n| "9".repeat(n)),
    ]
}

/// One line a hostile TE sends (without its `\r`).
#[derive(Debug, Clone)]
enum Line {
    /// The set form of the dialect's command number `cmd % commands.len()`, each parameter of its
    /// signature (and a few more or fewer) given a hostile value.
    Set { cmd: usize, values: Vec<String>, extra: i8 },
    /// `AT<name>?`, `AT<name>=?`, `AT<name>`.
    Other { cmd: usize, suffix: &'static str },
    /// Any bytes but `\r`.
    Raw(Vec<u8>),
    /// A line longer than the emulator accepts.
    Overlong(usize, u8),
}

fn line() -> impl Strategy<Value = Line> {
    prop_oneof![
        6 => (any::<usize>(), prop::collection::vec(hostile_value(), 0..14), -2i8..3)
            .prop_map(|(cmd, values, extra)| Line::Set { cmd, values, extra }),
        2 => (any::<usize>(), prop::sample::select(&["?", "=?", "", "=", "?=", "=??"][..]))
            .prop_map(|(cmd, suffix)| Line::Other { cmd, suffix }),
        2 => prop::collection::vec(any::<u8>().prop_filter("no CR", |b| *b != b'\r'), 0..80).prop_map(Line::Raw),
        1 => (4000usize..70_000, prop::sample::select(&[b'A', b'9', b'"', 0u8, b',', b'\n'][..]))
            .prop_map(|(n, b)| Line::Overlong(n, b)),
    ]
}

impl Line {
    fn bytes(&self, d: &Dialect) -> Vec<u8> {
        match self {
            Line::Set { cmd, values, extra } => {
                let spec = &d.commands[cmd % d.commands.len()];
                let n = spec.signature().map_or(1, |s| s.params().len());
                let n = (n as isize + isize::from(*extra)).max(0) as usize;
                let args: Vec<String> = (0..n).map(|i| values.get(i).cloned().unwrap_or_default()).collect();
                format!("AT{}={}", spec.name, args.join(",")).into_bytes()
            }
            Line::Other { cmd, suffix } => {
                format!("AT{}{suffix}", d.commands[cmd % d.commands.len()].name).into_bytes()
            }
            Line::Raw(b) => b.clone(),
            Line::Overlong(n, b) => {
                let mut v = b"AT+MIPLCONFIG=".to_vec();
                v.resize(*n, *b);
                v
            }
        }
    }
}

/// Final result codes in what the modem sent.
fn finals(out: &[Emission]) -> Vec<String> {
    let text: String = out.iter().map(|e| String::from_utf8_lossy(&e.bytes).into_owned()).collect();
    text.split("\r\n").filter(|l| FinalResult::parse(l).is_some()).map(str::to_string).collect()
}

fn quiet_modem(dialect: &str) -> Modem {
    let mut o = Options::for_dialect(dialect);
    o.echo = false;
    Modem::new(o).unwrap()
}

fn still_answers_at(m: &mut Modem, t: Duration) -> Result<(), TestCaseError> {
    let out = m.input(b"AT\r", t);
    let text: String = out.iter().map(|e| String::from_utf8_lossy(&e.bytes).into_owned()).collect();
    prop_assert_eq!(text, "\r\nOK\r\n");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(2000)))]

    /// Hostile lines in both dialects, each command a line of its own, time passing between them.
    #[test]
    fn every_hostile_line_gets_one_final_result(
        lines in prop::collection::vec((line(), 0u64..20_000), 1..16),
        m5310a: bool,
        setup: bool,
    ) {
        let d = Dialect::all()[usize::from(m5310a)];
        let mut m = quiet_modem(d.name);
        let mut t = Duration::ZERO;
        // Half the time an instance exists, with an object, and registration is under way, so
        // the hostile lines reach the commands' state and not only their syntax.
        let setup: &[&str] = match (setup, m5310a) {
            (false, _) => &[],
            (true, false) => &["AT+MIPLCREATE", "AT+MIPLADDOBJ=0,3311,1,\"1\",0,0", "AT+MIPLOPEN=0,600"],
            (true, true) => &["AT+MIPLCREATEEX=\"127.0.0.1:5683\",0", "AT+MIPLADDOBJ=0,3200,1,\"1\",0,1", "AT+MIPLOPEN=0,3000,30"],
        };
        for l in setup {
            let f = finals(&m.input(format!("{l}\r").as_bytes(), t));
            prop_assert_eq!(f, ["OK"], "{}", l);
        }
        for (l, wait) in &lines {
            let mut bytes = l.bytes(d);
            // `\n` ends a line as `\r` does: each non-blank piece is a line of its own.
            let lines = bytes.split(|b| *b == b'\n').filter(|p| !p.iter().all(u8::is_ascii_whitespace)).count();
            bytes.push(b'\r');
            // A reset command's boot time passes before the next line, as a host waits for RDY.
            t = t.max(m.ready_at());
            let out = m.input(&bytes, t);
            let f = finals(&out);
            prop_assert!(
                f.len() == lines || (f.len() < lines && m.ready_at() > t),
                "{:?} got {:?}", String::from_utf8_lossy(&bytes[..bytes.len().min(200)]), f
            );
            for e in &out {
                prop_assert!(e.at >= t);
            }
            // Timers (registration, lifetime, retransmissions) bring URCs, never a final result.
            t += Duration::from_millis(*wait);
            let later = m.poll(t);
            prop_assert!(finals(&later).is_empty(), "a final result from a timer: {:?}", finals(&later));
        }
        let up = t.max(m.ready_at());
        still_answers_at(&mut m, up)?;
    }

    /// `\r` storms, `\n`s and NULs between commands: blank lines get nothing, commands one answer.
    #[test]
    fn cr_storms_and_nuls_between_commands(
        gaps in prop::collection::vec(prop::collection::vec(prop::sample::select(&[b'\r', b'\n', b' ', b'\t'][..]), 0..200), 1..8),
        m5310a: bool,
    ) {
        let d = Dialect::all()[usize::from(m5310a)];
        let mut m = quiet_modem(d.name);
        let mut input = vec![];
        for g in &gaps {
            input.extend(g);
            input.extend(b"\rAT\0+MIPLVER?\r\rAT\r");
        }
        let f = finals(&m.input(&input, Duration::ZERO));
        prop_assert_eq!(f.len(), 2 * gaps.len(), "{:?}", f);
        still_answers_at(&mut m, Duration::ZERO)?;
    }
}

/// Issue 10's hostile lines: a 64 KB line, 10,000 `+MIPLEVENT`-like lines, every MIPL command
/// with every parameter huge, negative and unbalanced, in both dialects.
#[test]
fn the_corpus_is_answered() {
    for d in Dialect::all() {
        let mut m = quiet_modem(d.name);
        let mut at = Duration::ZERO;
        let mut one = |m: &mut Modem, line: &[u8], what: &str| {
            let mut b = line.to_vec();
            b.push(b'\r');
            let f = finals(&m.input(&b, at));
            assert_eq!(f.len(), 1, "{}: {what}: {f:?}", d.name);
            at += Duration::from_millis(1);
            m.poll(at);
        };
        let mut long = b"AT+MIPLCONFIG=".to_vec();
        long.resize(64 * 1024, b'9');
        one(&mut m, &long, "a 64 KB line");
        one(&mut m, &[0u8; 64 * 1024], "64 KB of NULs");
        for i in 0..10_000 {
            let l = format!("+MIPLEVENT: 0,{}", i % 30);
            one(&mut m, l.as_bytes(), "a +MIPLEVENT line from the TE");
        }
        for spec in d.commands {
            let n = spec.signature().map_or(1, |s| s.params().len());
            for v in ["99999999999999999999999999", "-1", "-9223372036854775809", "\"unbalanced", "\u{0}", ""] {
                let args = vec![v; n].join(",");
                one(&mut m, format!("AT{}={args}", spec.name).as_bytes(), &format!("{} with {v:?}", spec.name));
            }
        }
        let out = m.input(b"AT\r", at);
        assert_eq!(finals(&out), ["OK"], "{}", d.name);
    }
}

/// The modem side of the same corpus: 10,000 `+MIPLEVENT` lines and a 64 KB line through the
/// harness's lexer and classifier, one frame each, no panic.
#[test]
fn the_harness_reads_the_corpus() {
    use miplcheck_at::{Classifier, Lexer};
    for d in Dialect::all() {
        let mut lexer = Lexer::new();
        let mut classifier = Classifier::new(d.urcs.iter().map(|u| u.name));
        let mut bytes = vec![];
        for i in 0..10_000 {
            bytes.extend(format!("\r\n+MIPLEVENT: 0,{}\r\n", i % 30).into_bytes());
        }
        bytes.extend(b"\r\n");
        bytes.extend(vec![b'9'; 64 * 1024]);
        bytes.extend(b"\r\n");
        let frames = lexer.push(&bytes, Duration::ZERO);
        assert_eq!(frames.len(), 10_001, "{}", d.name);
        for f in &frames {
            classifier.classify(f);
        }
    }
}
