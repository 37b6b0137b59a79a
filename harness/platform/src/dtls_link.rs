//! DTLS on one of the platform's sockets: a key, an association per device address. Shared by
//! the UDP driver and the virtual-time one, so both seal and open datagrams alike.

use std::net::SocketAddr;

/// Where a platform on loopback speaks DTLS only: OneNET's port 5684 on a loopback address of its
/// own, derived from its (unique) main port, so platforms never share it. None off loopback.
pub fn dtls_addr_for(main: SocketAddr) -> Option<SocketAddr> {
    let SocketAddr::V4(v4) = main else { return None };
    if !v4.ip().is_loopback() {
        return None;
    }
    let [hi, lo] = main.port().to_be_bytes();
    Some(SocketAddr::from((std::net::Ipv4Addr::new(127, hi, lo, 1), 5684)))
}

/// DTLS associations kept per socket at most (see [`Link::receive`]).
pub const MAX_DTLS_SESSIONS: usize = 256;

/// DTLS on one socket: a key, an association per device address.
#[derive(Default)]
pub(crate) struct Link {
    /// Every datagram is DTLS (the 5684 port), not only after `set_dtls`.
    pub(crate) always: bool,
    pub(crate) key: Option<Vec<u8>>,
    /// The key a device gets from the bootstrap server, used when it shakes hands again.
    pub(crate) assigned: Option<Vec<u8>>,
    pub(crate) sessions: std::collections::BTreeMap<SocketAddr, miplcheck_lwm2m::dtls::Session>,
}

/// A DTLS record carrying a ClientHello in epoch 0: a new handshake.
fn client_hello(b: &[u8]) -> bool {
    b.len() > 13 && b[0] == 22 && b[3] == 0 && b[4] == 0 && b[13] == 1
}

impl Link {
    pub(crate) fn set_key(&mut self, key: Option<Vec<u8>>) {
        self.key = key;
        self.sessions.clear();
    }

    /// A datagram in: what to send back (handshake flights) and the CoAP it carried.
    pub(crate) fn receive(&mut self, from: SocketAddr, bytes: &[u8]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let Some(key) = self.key.clone() else {
            return if self.always { (vec![], vec![]) } else { (vec![], vec![bytes.to_vec()]) };
        };
        // A device that shakes hands again (after a bootstrap, or a new address lease) gets a
        // new association; with the key the bootstrap server handed out, if it did.
        let again = self.sessions.get(&from).is_some_and(|s| s.is_connected()) && client_hello(bytes);
        if again {
            self.sessions.remove(&from);
        }
        if !self.sessions.contains_key(&from) {
            // Bounded: a half-made association goes first, else any (its device shakes hands again).
            while self.sessions.len() >= MAX_DTLS_SESSIONS {
                let victim = self.sessions.iter().find(|(_, s)| !s.is_connected()).map(|(a, _)| *a);
                match victim.or_else(|| self.sessions.keys().next().copied()) {
                    Some(a) => {
                        self.sessions.remove(&a);
                    }
                    None => break,
                }
            }
            let key = if again { self.assigned.clone().unwrap_or(key) } else { key };
            match miplcheck_lwm2m::dtls::Session::server(move |_identity| Some(key.clone())) {
                Ok(s) => {
                    self.sessions.insert(from, s);
                }
                Err(e) => eprintln!("platform: DTLS: {e}"),
            }
        }
        match self.sessions.get_mut(&from) {
            Some(session) => {
                let p = session.on_datagram(bytes);
                (p.send, p.plaintext)
            }
            None => (vec![], vec![]),
        }
    }

    /// A CoAP message out: sealed for a device that speaks DTLS with us.
    pub(crate) fn seal(&mut self, to: SocketAddr, bytes: Vec<u8>) -> Vec<Vec<u8>> {
        match self.sessions.get_mut(&to) {
            Some(session) if session.is_connected() => session.seal(&bytes).unwrap_or_else(|e| {
                eprintln!("platform: DTLS: {e}");
                vec![]
            }),
            _ => vec![bytes],
        }
    }
}

/// The platform's two ways in: the main port, which speaks DTLS only after `set_dtls`, and the
/// DTLS port (OneNET's 5684), which always does.
pub(crate) struct Links {
    pub(crate) main: Link,
    pub(crate) secure: Link,
}

impl Default for Links {
    fn default() -> Self {
        Links { main: Link::default(), secure: Link { always: true, ..Link::default() } }
    }
}

impl Links {
    /// Speaks DTLS with this key on both ports from now on (plain CoAP on the main port with `None`).
    pub(crate) fn set_key(&mut self, key: Option<Vec<u8>>) {
        self.main.set_key(key.clone());
        self.secure.set_key(key);
    }

    /// The key the bootstrap server hands out, for a device that shakes hands again on the DTLS port.
    pub(crate) fn assign(&mut self, key: Option<Vec<u8>>) {
        self.secure.assigned = key;
    }

    /// A datagram in on the DTLS port (`secure`) or the main one: what to send back on that
    /// port (handshake flights) and the CoAP it carried.
    pub(crate) fn receive(&mut self, secure: bool, from: SocketAddr, bytes: &[u8]) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        if secure {
            self.secure.receive(from, bytes)
        } else {
            self.main.receive(from, bytes)
        }
    }

    /// A CoAP message out to `to`: whether it leaves by the DTLS port (a device that shook hands
    /// there), and the datagrams, sealed for a device that speaks DTLS with us.
    pub(crate) fn seal(&mut self, to: SocketAddr, bytes: Vec<u8>, has_secure_port: bool) -> (bool, Vec<Vec<u8>>) {
        let secure = has_secure_port && self.secure.sessions.contains_key(&to);
        let link = if secure { &mut self.secure } else { &mut self.main };
        (secure, link.seal(to, bytes))
    }
}
