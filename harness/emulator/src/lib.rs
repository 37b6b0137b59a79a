//! miplcheck's software modem.
//!
//! [`Modem`] is a pure state machine in virtual time: bytes in at a time, [`Emission`]s out, each
//! due at a time. The dialect's behaviour sits behind [`Behaviour`] (one module per dialect:
//! [`bc39`], [`m5310a`]); the 3GPP basics every driver sends are shared in [`basic`], the LwM2M
//! client in [`client`]. [`serve`] puts a modem on a pty or TCP socket in real time, and
//! [`sim::SimPort`] lets the runner talk to it in virtual time, so response windows are tested
//! without sleeping.
//!
//! Imports point one way: a dialect module sees the interface (`behaviour`, `ctx`) and the shared
//! helpers (`client`, `basic`, `notice`, `reply`, `options`, `quirks`); the registry (`registry`)
//! is the one module that names the dialects; the Modem sees the registry and the interface.
//! Nothing below the Modem imports it or the registry.

pub mod basic;
pub mod bc39;
mod behaviour;
pub mod client;
mod ctx;
pub mod faults;
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
pub use options::{Options, OptionsError};
pub use registry::events_produced;
