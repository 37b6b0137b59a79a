//! miplcheck's software modem.
//!
//! [`Modem`] is a pure state machine in virtual time: bytes in at a time, [`Emission`]s out, each
//! due at a time. The dialect's behaviour sits behind [`Behaviour`] (one module per dialect:
//! [`bc39`]); the 3GPP basics every driver sends are shared in [`basic`]. [`serve`] puts a modem on
//! a pty or TCP socket in real time, and [`sim::SimPort`] lets the runner talk to it in virtual
//! time, so response windows are tested without sleeping.

pub mod basic;
pub mod bc39;
mod behaviour;
pub mod client;
mod ctx;
pub mod m5310a;
mod modem;
pub mod notice;
pub mod options;
pub mod quirks;
mod registry;
pub mod reply;
pub mod serve;
pub mod sim;

pub use behaviour::Behaviour;
pub use modem::{Emission, Modem};
pub use options::Options;

/// The `+MIPLEVENT` codes this emulator can emit for that dialect (`bc39`, `m5310a`); kept true by a test.
pub fn events_produced(dialect: &str) -> &'static [u16] {
    match dialect.to_ascii_lowercase().as_str() {
        "bc39" => &[1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14, 15, 25, 26, 51, 52, 53, 54],
        // The M5310-A emulator is being written: these are the codes its flows are meant to report;
        // 31 and 32 (device deleted, DTLS address aged out) wait until it is clear they can happen.
        "m5310a" => &[2, 3, 6, 7, 11, 15, 26],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::events_produced;
    use miplcheck_at::Dialect;

    /// The codes each dialect's renderer can print are exactly the ones listed.
    #[test]
    fn the_list_is_the_renderers_event_table() {
        let mut table: Vec<u16> = crate::bc39::render::EVENTS.iter().map(|(_, c)| *c).collect();
        table.sort_unstable();
        assert_eq!(events_produced("bc39"), table.as_slice());
        let mut table: Vec<u16> = crate::m5310a::render::EVENTS.iter().map(|(_, c)| *c).collect();
        table.sort_unstable();
        table.dedup();
        assert_eq!(events_produced("m5310a"), table.as_slice());
    }

    #[test]
    fn every_listed_event_is_in_the_manual() {
        for d in Dialect::all() {
            for code in events_produced(d.name) {
                assert!(d.event(*code).is_some(), "{}: event {code} is not in the manual's table", d.name);
            }
        }
        assert!(events_produced("sim800").is_empty());
    }
}
