//! Standard output for people and pipes: a reader that goes away (`miplcheck run … | head -1`)
//! ends the output quietly instead of panicking as `println!` does; and a warning when a service
//! listens wider than this machine.

use std::io::Write;

/// Writes `args` to standard output and flushes; `false` once nothing reads it (a closed pipe,
/// or any other write error), so a caller that only prints can stop quietly.
pub fn stdout(args: std::fmt::Arguments<'_>) -> bool {
    let mut out = std::io::stdout().lock();
    out.write_fmt(args).and_then(|()| out.flush()).is_ok()
}

/// `println!` that returns whether the line was written (see [`stdout`]) instead of panicking.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::out::stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// Warns (in the log, on standard error) when `what` listens on an address other hosts can reach.
pub fn warn_if_wide(what: &str, addr: std::net::SocketAddr) {
    if is_wide(addr) {
        tracing::warn!(
            "{what} listens on {addr}, reachable from other hosts; give a loopback address (127.0.0.1) \
             to keep it on this machine"
        );
    }
}

/// Whether other hosts can reach `addr` (anything but loopback: the unspecified address listens
/// on every interface).
fn is_wide(addr: std::net::SocketAddr) -> bool {
    !addr.ip().is_loopback()
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_loopback_is_narrow() {
        for (addr, wide) in
            [("127.0.0.1:5683", false), ("[::1]:7000", false), ("0.0.0.0:5683", true), ("192.0.2.10:1", true)]
        {
            assert_eq!(super::is_wide(addr.parse().unwrap()), wide, "{addr}");
        }
    }
}
