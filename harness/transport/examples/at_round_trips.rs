//! `AT` → `OK` round trips through one of the transport's links, timed: the Rust side of
//! `harness/transport/benches/remote_serial.sh`, which runs pyserial over the same links.
//!
//! ```text
//! cargo run --release -p miplcheck-transport --example at_round_trips -- rfc2217://127.0.0.1:4001 2000
//! ```
//! The link is `rfc2217://HOST:PORT` (with `?ign_set_control`), `socket://HOST:PORT`, or a device
//! path. Prints one line: the link, the count, the median, p95 and max round trip in µs.

use miplcheck_transport::rfc2217::{Rfc2217Port, Rfc2217Settings};
use miplcheck_transport::serial::{self, SerialSettings};
use miplcheck_transport::stream::StreamPort;
use miplcheck_transport::{Port, Received};
use std::time::{Duration, Instant};

fn open(link: &str) -> std::io::Result<Box<dyn Port>> {
    if let Some(rest) = link.strip_prefix("rfc2217://") {
        let (address, query) = rest.split_once('?').unwrap_or((rest, ""));
        let mut s = Rfc2217Settings::new(address);
        s.ign_set_control = query.contains("ign_set_control");
        return Ok(Box::new(Rfc2217Port::connect(&s)?));
    }
    if let Some(address) = link.strip_prefix("socket://") {
        return Ok(Box::new(StreamPort::tcp(address)?));
    }
    Ok(Box::new(serial::open(&SerialSettings::at_path(link)).map_err(std::io::Error::other)?))
}

/// Reads until `OK\r\n` has come, or fails after 5 s.
fn until_ok(port: &mut dyn Port) -> Result<(), String> {
    let deadline = port.now() + Duration::from_secs(5);
    let mut got = Vec::new();
    while !got.windows(4).any(|w| w == b"OK\r\n") {
        match port.read_until(deadline) {
            Received::Data(c) => got.extend(c.bytes),
            Received::Timeout => return Err(format!("no OK within 5 s; got {:?}", String::from_utf8_lossy(&got))),
            Received::Closed(why) => return Err(why),
        }
    }
    Ok(())
}

fn main() -> Result<(), String> {
    let mut args = std::env::args().skip(1);
    let link = args.next().ok_or("usage: at_round_trips LINK [COUNT]")?;
    let count: usize = args.next().map(|n| n.parse().map_err(|e| format!("COUNT: {e}"))).transpose()?.unwrap_or(1000);
    let mut port = open(&link).map_err(|e| format!("{link}: {e}"))?;
    // Echo off, and whatever the line held before is read away.
    port.write(b"ATE0\r").map_err(|e| e.to_string())?;
    until_ok(port.as_mut())?;
    let mut rtt = Vec::with_capacity(count);
    for _ in 0..count {
        let t = Instant::now();
        port.write(b"AT\r").map_err(|e| e.to_string())?;
        until_ok(port.as_mut())?;
        rtt.push(t.elapsed());
    }
    rtt.sort();
    let us = |d: Duration| d.as_secs_f64() * 1e6;
    let p = |q: f64| rtt[((rtt.len() as f64 * q).ceil() as usize).clamp(1, rtt.len()) - 1];
    println!(
        "miplcheck {link}: {count} round trips, median {:.0} µs, p95 {:.0} µs, max {:.0} µs",
        us(p(0.5)),
        us(p(0.95)),
        us(*rtt.last().unwrap())
    );
    Ok(())
}
