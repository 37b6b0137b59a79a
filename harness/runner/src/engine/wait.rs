//! `wait:` lets time pass, keeping whatever the modem says in the backlog for later steps. It
//! never fails.

use super::{Next, Session};
use miplcheck_at::Class;
use std::time::Duration;

/// Listens for `d`.
pub(super) fn run(session: &mut Session<'_, '_>, d: Duration) -> Result<(), String> {
    let until = session.port.now().saturating_add(d);
    while let Next::Frame(s) = session.next(until) {
        if matches!(s.class, Class::Urc | Class::Info | Class::Fragment) {
            session.backlog.push(s);
        }
    }
    Ok(())
}
