//! Property tests: whatever a TE sends, the emulator answers without panicking, in time order,
//! and stays usable afterwards.

use miplcheck_emulator::{Modem, Options};
use proptest::prelude::*;
use std::time::Duration;

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
    #![proptest_config(ProptestConfig::with_cases(1000))]

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
