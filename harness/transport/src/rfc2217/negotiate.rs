//! Telnet option negotiation for an RFC 2217 client, as a pure state table: which options we
//! offer and accept, and the one reply (if any) to each WILL/WONT/DO/DONT. It must never answer
//! a request for a mode already in force (RFC 854), and refuses an unsupported option once only,
//! so two peers cannot loop refusing each other.

use super::telnet::{negotiation, Verb, BINARY, COM_PORT_OPTION, SGA};

/// Where one side of one option stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Side {
    #[default]
    Off,
    /// We asked; no answer yet.
    Requested,
    On,
    /// Unsupported and refused already: further requests for it are ignored.
    Refused,
}

/// Options we perform ourselves (answer DO with WILL).
fn local_supported(option: u8) -> bool {
    matches!(option, BINARY | SGA | COM_PORT_OPTION)
}

/// Options we let the server perform (answer WILL with DO). ECHO is not among them: the
/// modem's output must arrive as it was sent.
fn remote_supported(option: u8) -> bool {
    matches!(option, BINARY | SGA)
}

/// Both sides of every option.
#[derive(Debug, Clone)]
pub struct Negotiator {
    us: [Side; 256],
    them: [Side; 256],
}

impl Default for Negotiator {
    fn default() -> Self {
        Negotiator { us: [Side::Off; 256], them: [Side::Off; 256] }
    }
}

impl Negotiator {
    /// What the client says first: WILL COM-PORT-OPTION, BINARY both ways, SGA both ways. An
    /// option the server already asked for and we accepted (ser2net sends DO COM-PORT-OPTION as
    /// soon as it accepts) is not offered again: a second WILL would wait for an answer that,
    /// rightly, never comes.
    pub fn offer(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        for option in [COM_PORT_OPTION, BINARY, SGA] {
            if self.us[option as usize] == Side::Off {
                self.us[option as usize] = Side::Requested;
                out.extend(negotiation(Verb::Will, option));
            }
        }
        for option in [BINARY, SGA] {
            if self.them[option as usize] == Side::Off {
                self.them[option as usize] = Side::Requested;
                out.extend(negotiation(Verb::Do, option));
            }
        }
        out
    }

    /// Our side of `option`.
    pub fn us(&self, option: u8) -> Side {
        self.us[option as usize]
    }

    /// Takes the server's `verb option`; returns the reply to send, if any.
    pub fn receive(&mut self, verb: Verb, option: u8) -> Option<[u8; 3]> {
        let (table, supported, yes, no) = match verb {
            Verb::Do | Verb::Dont => (&mut self.us, local_supported(option), Verb::Will, Verb::Wont),
            Verb::Will | Verb::Wont => (&mut self.them, remote_supported(option), Verb::Do, Verb::Dont),
        };
        let side = &mut table[option as usize];
        let enable = matches!(verb, Verb::Do | Verb::Will);
        let reply = match (enable, *side) {
            (true, Side::Refused) => None,
            (true, _) if !supported => {
                *side = Side::Refused;
                Some(no)
            }
            (true, Side::On) => None,
            (true, Side::Requested) => {
                *side = Side::On;
                None
            }
            (true, Side::Off) => {
                *side = Side::On;
                Some(yes)
            }
            (false, Side::On) => {
                *side = Side::Off;
                Some(no)
            }
            // Our request was refused: that is the answer, nothing to acknowledge.
            (false, Side::Requested) => {
                *side = Side::Off;
                None
            }
            (false, Side::Off | Side::Refused) => None,
        };
        reply.map(|v| negotiation(v, option))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rfc2217::telnet::{ECHO, IAC};
    use rstest::rstest;

    #[rstest]
    #[case::do_com_port_after_offer(Verb::Do, COM_PORT_OPTION, None)]
    #[case::will_binary_after_offer(Verb::Will, BINARY, None)]
    #[case::dont_com_port_refuses(Verb::Dont, COM_PORT_OPTION, None)]
    #[case::will_echo_refused(Verb::Will, ECHO, Some(Verb::Dont))]
    #[case::do_unknown_refused(Verb::Do, 24, Some(Verb::Wont))]
    #[case::will_com_port_refused(Verb::Will, COM_PORT_OPTION, Some(Verb::Dont))]
    #[case::wont_unknown_ignored(Verb::Wont, 24, None)]
    fn first_answers_after_the_offer(#[case] verb: Verb, #[case] option: u8, #[case] reply: Option<Verb>) {
        let mut n = Negotiator::default();
        n.offer();
        assert_eq!(n.receive(verb, option), reply.map(|v| [IAC, v.code(), option]));
    }

    #[rstest]
    #[case::do_unknown(Verb::Do, 24)]
    #[case::will_echo(Verb::Will, ECHO)]
    fn unknown_options_are_refused_once(#[case] verb: Verb, #[case] option: u8) {
        let mut n = Negotiator::default();
        assert!(n.receive(verb, option).is_some());
        for _ in 0..5 {
            assert_eq!(n.receive(verb, option), None, "refused already: no loop");
        }
    }

    #[test]
    fn a_mode_already_in_force_is_not_acknowledged_again() {
        let mut n = Negotiator::default();
        n.offer();
        assert_eq!(n.receive(Verb::Do, COM_PORT_OPTION), None);
        assert_eq!(n.us(COM_PORT_OPTION), Side::On);
        assert_eq!(n.receive(Verb::Do, COM_PORT_OPTION), None);
        // Unrequested but supported: accepted once.
        let mut fresh = Negotiator::default();
        assert_eq!(fresh.receive(Verb::Will, SGA), Some([IAC, Verb::Do.code(), SGA]));
        assert_eq!(fresh.receive(Verb::Will, SGA), None);
        // Switched off by the server: acknowledged once.
        assert_eq!(fresh.receive(Verb::Wont, SGA), Some([IAC, Verb::Dont.code(), SGA]));
        assert_eq!(fresh.receive(Verb::Wont, SGA), None);
    }

    #[test]
    fn what_the_server_asked_for_first_is_not_offered_again() {
        let mut n = Negotiator::default();
        assert_eq!(n.receive(Verb::Do, COM_PORT_OPTION), Some([IAC, Verb::Will.code(), COM_PORT_OPTION]));
        let offer = n.offer();
        assert_eq!(offer.len(), 4 * 3, "{offer:?}");
        assert!(!offer.windows(3).any(|w| w == [IAC, Verb::Will.code(), COM_PORT_OPTION]), "{offer:?}");
        assert_eq!(n.us(COM_PORT_OPTION), Side::On);
    }

    #[test]
    fn a_refused_offer_is_off_without_a_reply() {
        let mut n = Negotiator::default();
        n.offer();
        assert_eq!(n.receive(Verb::Dont, COM_PORT_OPTION), None);
        assert_eq!(n.us(COM_PORT_OPTION), Side::Off);
    }
}
