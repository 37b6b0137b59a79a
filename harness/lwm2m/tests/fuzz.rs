//! Property tests: no datagram, TLV or link payload from the network makes the LwM2M layer panic,
//! and TLV survives a round trip.

use miplcheck_lwm2m::endpoint::{Endpoint, Params};
use miplcheck_lwm2m::tlv::{self, Tlv};
use miplcheck_lwm2m::{link, Path};
use proptest::prelude::*;
use std::time::Duration;

/// `default` cases per property in CI; `PROPTEST_CASES` overrides it (`with_cases` alone would
/// ignore it).
fn cases(default: u32) -> u32 {
    std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn tlv_tree() -> impl Strategy<Value = Vec<Tlv>> {
    let resource = (any::<u16>(), prop::collection::vec(any::<u8>(), 0..300)).prop_map(|(id, b)| Tlv::resource(id, b));
    prop::collection::vec(
        (any::<u16>(), prop::collection::vec(resource, 0..5)).prop_map(|(id, r)| Tlv::instance(id, r)),
        0..4,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases(1000)))]

    #[test]
    fn tlv_round_trips(t in tlv_tree()) {
        prop_assert_eq!(tlv::decode(&tlv::encode(&t)).unwrap(), t);
    }

    #[test]
    fn decoders_take_anything(bytes in prop::collection::vec(any::<u8>(), 0..200), text in "\\PC{0,80}") {
        let _ = tlv::decode(&bytes);
        let _ = link::parse(&text);
        let _ = text.parse::<Path>();
        let mut e: Endpoint<u8> = Endpoint::new(Params::default(), 1);
        let _ = e.on_datagram(0, &bytes, Duration::ZERO);
        let _ = e.poll(Duration::from_secs(1000));
    }
}
