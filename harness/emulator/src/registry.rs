//! Which dialect name gets which [`Behaviour`]: the one place that names every dialect module.
//!
//! Adding a dialect is a row in [`DIALECTS`]. The Modem asks here for its behaviour; no dialect
//! module, nor the interface or the shared helpers they use, may look here, or the circle between
//! the Modem and the dialects that this module exists to break would close again.

use crate::behaviour::Behaviour;
use crate::{bc39, m5310a};

/// A dialect the emulator speaks.
struct Entry {
    /// The rig's `dialect` value, in lower case (`miplcheck_at::Dialect::name`).
    name: &'static str,
    /// The behaviour at power-on.
    make: fn() -> Box<dyn Behaviour>,
}

const DIALECTS: &[Entry] =
    &[Entry { name: "bc39", make: power_on::<bc39::Bc39> }, Entry { name: "m5310a", make: power_on::<m5310a::M5310a> }];

fn power_on<B: Behaviour + Default + 'static>() -> Box<dyn Behaviour> {
    Box::new(B::default())
}

fn entry(dialect: &str) -> Option<&'static Entry> {
    DIALECTS.iter().find(|e| e.name.eq_ignore_ascii_case(dialect))
}

/// A power-on behaviour for `dialect` (any case).
pub fn behaviour_for(dialect: &str) -> Result<Box<dyn Behaviour>, String> {
    entry(dialect)
        .map(|e| (e.make)())
        .ok_or_else(|| format!("the emulator does not speak the {} dialect yet", dialect.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(err, "the emulator does not speak the sim800 dialect yet");
    }
}
