//! wip
pub mod input_error;
pub mod pattern;
pub mod rig;
pub mod suite;
