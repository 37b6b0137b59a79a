//! miplcheck's software modem.
//!
//! [`Modem`] is a pure state machine in virtual time: bytes in at a time, [`Emission`]s out, each
//! due at a time. The dialect's behaviour sits behind [`Behaviour`] (one module per dialect:
//! [`bc39`]); the 3GPP basics every driver sends are shared in [`basic`]. [`serve`] puts a modem on
//! a pty or TCP socket in real time, and [`sim::SimPort`] lets the runner talk to it in virtual
//! time, so response windows are tested without sleeping.

pub mod basic;
pub mod bc39;
mod modem;
pub mod options;
pub mod reply;
pub mod serve;
pub mod sim;

pub use modem::{Behaviour, Emission, Modem};
pub use options::Options;
