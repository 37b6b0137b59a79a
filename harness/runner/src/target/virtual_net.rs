//! The emulator's network in virtual time: the case's mock platform as the far end of the modem's
//! datagrams ([`miplcheck_emulator::sim::Network`]), so both sides of a two-sided case run on the
//! port's one clock and the manuals' timers cost no wall time.
//!
//! Addresses are names here, never bound: the platform answers at the address a suite tells the
//! modem (`${platform.host}:${platform.port}`) and its DTLS port beside it, and the modem is one
//! device at a fixed loopback address. Host names are not looked up (no DNS in a virtual run):
//! a modem configured with anything but an address, or `localhost`, reaches nobody, as a real
//! one would with no route — its own timers report it.

use miplcheck_at::Stamp;
use miplcheck_emulator::sim::Network;
use miplcheck_platform::sim::SimPlatform;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// Where the modem's datagrams come from, as the platform sees it.
const MODEM: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 40_000);

/// The first port a rig with `listen` port 0 gets, as an operating system would hand out an
/// ephemeral one; later cases count up from it.
const FIRST_PORT: u16 = 49_152;

/// The address the case's platform answers at: the host the modem is told (an unspecified or
/// unparsable one is loopback), on the rig's port or, for port 0, a fresh one per case.
pub(super) fn platform_addr(rig: &crate::rig::PlatformRig, nth: u16) -> SocketAddr {
    let ip = match rig.advertise.parse::<IpAddr>() {
        Ok(ip) if !ip.is_unspecified() => ip,
        _ if !rig.listen.ip().is_unspecified() => rig.listen.ip(),
        _ => IpAddr::V4(Ipv4Addr::LOCALHOST),
    };
    let port = match rig.listen.port() {
        0 => FIRST_PORT + nth % (u16::MAX - FIRST_PORT),
        p => p,
    };
    SocketAddr::new(ip, port)
}

/// The platform as the modem's network.
pub(super) struct PlatformNet {
    pf: SimPlatform,
    /// The servers the modem has sent to, under the name it was configured with: replies come
    /// back under that name, as the pty emulator's socket does it.
    names: BTreeMap<SocketAddr, String>,
}

impl PlatformNet {
    pub(super) fn new(pf: SimPlatform) -> Self {
        PlatformNet { pf, names: BTreeMap::new() }
    }
}

/// `host:port` as an address, without a name lookup.
fn address(to: &str) -> Option<SocketAddr> {
    if let Ok(a) = to.parse() {
        return Some(a);
    }
    let (host, port) = to.rsplit_once(':')?;
    let port = port.parse().ok()?;
    host.eq_ignore_ascii_case("localhost").then_some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port))
}

impl Network for PlatformNet {
    fn send(&mut self, to: &str, bytes: &[u8], now: Stamp) {
        let Some(addr) = address(to) else { return };
        if self.pf.listens_on(addr) {
            self.names.insert(addr, to.to_string());
            self.pf.receive(MODEM, addr, bytes, now);
        }
    }

    fn next_deadline(&self) -> Option<Stamp> {
        self.pf.next_deadline()
    }

    fn poll(&mut self, now: Stamp) -> Vec<(String, Vec<u8>)> {
        self.pf
            .poll(now)
            .into_iter()
            .filter(|d| d.to == MODEM)
            .filter_map(|d| Some((self.names.get(&d.from)?.clone(), d.bytes)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use miplcheck_platform::{Control, PlatformOptions};

    fn rig(listen: &str, advertise: &str) -> crate::rig::PlatformRig {
        crate::rig::PlatformRig {
            listen: listen.parse().unwrap(),
            advertise: advertise.into(),
            auto_observe: true,
            check_auth_code: false,
            http: false,
        }
    }

    #[test]
    fn each_case_gets_a_port_of_its_own_at_the_advertised_host() {
        let r = rig("127.0.0.1:0", "127.0.0.1");
        assert_eq!(platform_addr(&r, 1).to_string(), "127.0.0.1:49153");
        assert_eq!(platform_addr(&r, 2).to_string(), "127.0.0.1:49154");
        assert_eq!(platform_addr(&rig("0.0.0.0:5683", "bench.local"), 1).to_string(), "127.0.0.1:5683");
        assert_eq!(platform_addr(&rig("0.0.0.0:0", "10.0.0.5"), 1).ip().to_string(), "10.0.0.5");
    }

    #[test]
    fn names_are_not_looked_up_but_localhost_is_loopback() {
        assert_eq!(address("127.0.0.1:5683"), Some("127.0.0.1:5683".parse().unwrap()));
        assert_eq!(address("LOCALHOST:5683"), Some("127.0.0.1:5683".parse().unwrap()));
        assert_eq!(address("[::1]:5683"), Some("[::1]:5683".parse().unwrap()));
        assert_eq!(address("mipl.example:5683"), None);
        assert_eq!(address("127.0.0.1"), None);
    }

    #[test]
    fn only_datagrams_to_the_platform_arrive_and_replies_come_back_under_the_name_sent_to() {
        let pf = SimPlatform::new("127.0.0.1:49153".parse().unwrap(), PlatformOptions::default());
        let mut net = PlatformNet::new(pf.clone());
        // A CoAP ping (empty CON) to the wrong port and to the platform: only one is seen and answered.
        let ping = [0x40, 0x00, 0x12, 0x34];
        net.send("127.0.0.1:5683", &ping, Stamp::from_millis(5));
        assert_eq!(net.next_deadline(), None, "nobody listens there");
        net.send("localhost:49153", &ping, Stamp::from_millis(7));
        assert_eq!(net.next_deadline(), Some(Stamp::from_millis(7)), "the RST waits to go out");
        let replies = net.poll(Stamp::from_millis(7));
        assert_eq!(replies.len(), 1, "{replies:?}");
        assert_eq!(replies[0].0, "localhost:49153");
        assert_eq!(replies[0].1[0] >> 4 & 0x3, 3, "a CoAP ping is answered with RST");
        assert_eq!(pf.take_records().len(), 2, "both directions recorded");
    }
}
