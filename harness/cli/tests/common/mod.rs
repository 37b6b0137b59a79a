//! What every CLI test needs: the repository root, and the `miplcheck` binary run from it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// `miplcheck ARGS` from the repository root, as under CI: no `.snap.new` files from these runs.
pub fn miplcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_miplcheck")).args(args).current_dir(root()).env("CI", "true").output().unwrap()
}

pub mod mcu;
pub mod served;
