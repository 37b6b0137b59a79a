//! The AT wire model: everything miplcheck knows about the AT side of a modem that needs no I/O.
//!
//! Bytes from the modem become [`Frame`]s (lines and prompts, exact bytes kept) in [`lexer`];
//! [`classify`] tells echo, information response, final result code and URC apart;
//! [`syntax`] splits a command or response line into its name and arguments; [`signature`]
//! reads the manuals' own parameter syntax (`<ref>,<msgId>[,<raiMode>]`) and [`dialect`] holds the
//! MIPL command and URC tables of the BC39 and M5310-A manuals built from it.

pub mod cis_config;
pub mod classify;
pub mod dialect;
pub mod lexer;
pub mod result;
pub mod signature;
pub mod syntax;

pub use cis_config::{CisConfig, ConfigStreamError};
pub use classify::{Class, Classifier};
pub use dialect::Dialect;
pub use lexer::{Frame, FrameKind, Lexer, Stamp};
pub use result::FinalResult;
