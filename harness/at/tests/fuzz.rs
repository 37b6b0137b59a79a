//! Property tests: nothing a modem or a user can send makes the AT model panic, and the lexer
//! never loses or invents a byte however the input is split.

use miplcheck_at::dialect::Dialect;
use miplcheck_at::signature::Signature;
use miplcheck_at::syntax::{split_args, Command, Response};
use miplcheck_at::{Classifier, FinalResult, Lexer};
use proptest::prelude::*;
use std::time::Duration;

/// `default` cases per property in CI; `PROPTEST_CASES` overrides it (`with_cases` alone would
/// ignore it).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Bytes that look like modem output often enough to reach deep paths.
fn modem_bytes() -> impl Strategy<Value = Vec<u8>> {
    let atoms = prop_oneof![
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"OK".to_vec()),
        Just(b"+CME ERROR: ".to_vec()),
        Just(b"+MIPLEVENT:".to_vec()),
        Just(b"> ".to_vec()),
        Just(b",".to_vec()),
        Just(b"\"".to_vec()),
        prop::collection::vec(any::<u8>(), 0..8),
    ];
    prop::collection::vec(atoms, 0..40).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(2000)))]

    #[test]
    fn lexer_keeps_every_byte(input in modem_bytes(), cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..6)) {
        let mut points: Vec<usize> = cuts.iter().map(|c| c.index(input.len() + 1)).collect();
        points.sort_unstable();
        let mut lx = Lexer::new();
        let mut out = Vec::new();
        let mut prev = 0;
        for p in points.into_iter().chain([input.len()]) {
            for f in lx.push(&input[prev..p], Duration::ZERO) {
                out.extend(f.raw);
            }
            prev = p;
        }
        if let Some(f) = lx.flush(Duration::ZERO) {
            out.extend(f.raw);
        }
        prop_assert_eq!(out, input);
    }

    #[test]
    fn classifier_takes_anything(sent in ".{0,40}", input in modem_bytes()) {
        let mut c = Classifier::new(Dialect::by_name("bc39").unwrap().urc_prefixes());
        c.command_sent(&sent);
        let mut lx = Lexer::new();
        for f in lx.push(&input, Duration::ZERO).iter().chain(lx.flush(Duration::ZERO).iter()) {
            let _ = c.classify(f);
        }
    }

    #[test]
    fn line_parsers_take_anything(line in "\\PC{0,80}") {
        let _ = Command::parse(&line);
        let _ = Response::parse(&line);
        let _ = split_args(&line);
        let _ = FinalResult::parse(&line);
        let _ = Signature::parse(&line);
        for d in Dialect::all() {
            let _ = d.read_command(&line);
            let _ = d.read_urc(&line);
            let _ = d.max_response(&line);
        }
    }

    #[test]
    fn commands_and_responses_round_trip(
        name in "\\+[A-Z]{2,14}",
        args in prop::collection::vec(prop_oneof!["-?[0-9]{1,6}", "0x[0-9A-F]{1,4}", "\"[a-zA-Z0-9;,. ]{0,10}\"", "[A-F0-9]{2,8}"], 1..12),
        colon_space in any::<bool>(),
        comma_space in any::<bool>(),
    ) {
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let cmd = Command::set(&name, &refs);
        prop_assert_eq!(Command::parse(&cmd.format()).unwrap(), cmd.clone());
        let resp = Response::parse(&format!("{name}: {}", args.join(","))).unwrap();
        let spacing = miplcheck_at::syntax::Spacing { after_colon: colon_space, after_comma: comma_space };
        let again = Response::parse(&resp.format(spacing)).unwrap();
        prop_assert_eq!(again, resp);
    }

    #[test]
    fn at_shaped_lines_read_without_panics(
        name in "[A-Z]{2,16}",
        form in prop_oneof![Just("=?"), Just("?"), Just("="), Just("")],
        args in prop::collection::vec("[0-9a-zA-Z\" ,.;x-]{0,12}", 0..14),
    ) {
        let line = format!("AT+{name}{form}{}", args.join(","));
        for d in Dialect::all() {
            let _ = d.read_command(&line);
            let _ = d.read_urc(&format!("+{name}: {}", args.join(",")));
        }
    }
}
