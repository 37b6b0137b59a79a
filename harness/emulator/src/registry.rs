//! Which dialect name gets which [`Behaviour`], and what follows about a dialect from its modules
//! (the `+MIPLEVENT` codes it can print): the one place that names every dialect module.
//!
//! Adding a dialect is a row in [`DIALECTS`]. The Modem asks here for its behaviour; no dialect
//! module, nor the interface or the shared helpers they use, may look here, or the circle between
//! the Modem and the dialects that this module exists to break would close again.

use crate::behaviour::Behaviour;
use crate::notice::EventTable;
use crate::options::OptionsError;
use crate::{bc39, m5310a};
use std::sync::OnceLock;

/// A dialect the emulator speaks.
struct Entry {
    /// The rig's `dialect` value, in lower case (`miplcheck_at::Dialect::name`).
    name: &'static str,
    /// The behaviour at power-on.
    make: fn() -> Box<dyn Behaviour>,
    /// Its renderer's `<evtid>` table: the only codes it prints (quirks aside).
    events: EventTable,
}

const DIALECTS: &[Entry] = &[
    Entry { name: "bc39", make: power_on::<bc39::Bc39>, events: bc39::render::EVENTS },
    Entry { name: "m5310a", make: power_on::<m5310a::M5310a>, events: m5310a::render::EVENTS },
];

fn power_on<B: Behaviour + Default + 'static>() -> Box<dyn Behaviour> {
    Box::new(B::default())
}

/// Where `dialect` (any case) is in [`DIALECTS`].
fn index(dialect: &str) -> Option<usize> {
    DIALECTS.iter().position(|e| e.name.eq_ignore_ascii_case(dialect))
}

/// A power-on behaviour for `dialect` (any case).
pub fn behaviour_for(dialect: &str) -> Result<Box<dyn Behaviour>, OptionsError> {
    index(dialect).map(|i| (DIALECTS[i].make)()).ok_or_else(|| OptionsError::Unspoken(dialect.to_ascii_lowercase()))
}

/// The `+MIPLEVENT` codes the emulator can emit for `dialect` (any case), sorted, each once;
/// empty for a dialect it does not speak.
pub fn events_produced(dialect: &str) -> &'static [u16] {
    // Computed once, so callers get a `'static` slice without a hand-kept copy of the tables.
    static CODES: OnceLock<Vec<Vec<u16>>> = OnceLock::new();
    let codes = CODES.get_or_init(|| DIALECTS.iter().map(|e| codes(e.events)).collect());
    index(dialect).map_or(&[], |i| &codes[i])
}

fn codes(table: EventTable) -> Vec<u16> {
    let mut codes: Vec<u16> = table.iter().map(|(_, code)| *code).collect();
    codes.sort_unstable();
    codes.dedup();
    codes
}

#[cfg(test)]
mod tests {
    use super::*;
    use miplcheck_at::Dialect;

    #[test]
    fn each_entry_makes_the_dialect_it_is_named_for() {
        for e in DIALECTS {
            assert_eq!((e.make)().dialect().name, e.name);
            assert_eq!(behaviour_for(&e.name.to_ascii_uppercase()).unwrap().dialect().name, e.name);
        }
    }

    #[test]
    fn an_unknown_dialect_is_refused_by_name() {
        let err = behaviour_for("SIM800").err().unwrap();
        assert_eq!(err, OptionsError::Unspoken("sim800".into()));
        assert_eq!(err.to_string(), "the emulator does not speak the sim800 dialect yet");
    }

    /// What the renderers' tables give today; a change here is a change to what coverage reports.
    #[test]
    fn the_codes_each_dialect_produces() {
        let bc39: &[u16] = &[
            1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 20, 21, 25, 26, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49,
            50, 51, 52, 53, 54,
        ];
        assert_eq!(events_produced("bc39"), bc39);
        assert_eq!(events_produced("BC39"), bc39);
        assert_eq!(events_produced("m5310a"), &[2, 3, 6, 7, 11, 15, 26, 31, 32]);
    }

    #[test]
    fn every_produced_event_is_in_the_manual() {
        for e in DIALECTS {
            let d = Dialect::by_name(e.name).expect("a dialect the manuals' tables know");
            for code in events_produced(e.name) {
                assert!(d.event(*code).is_some(), "{}: event {code} is not in the manual's table", d.name);
            }
        }
    }

    #[test]
    fn an_unknown_dialect_produces_nothing() {
        assert!(events_produced("sim800").is_empty());
        assert!(events_produced("").is_empty());
    }
}
