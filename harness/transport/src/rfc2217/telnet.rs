//! The telnet layer (RFC 854/855/856) as a pure, incremental codec: bytes in, events out, no I/O
//! and no policy. It un-doubles IAC in data and subnegotiations, keeps its state across calls so
//! a command split over two TCP reads is still one command, and never holds more than
//! `sb_limit` bytes of a subnegotiation. What to answer is `negotiate`'s business, not this one's.

/// Interpret As Command: starts every telnet command; doubled to send a 0xFF data byte.
pub const IAC: u8 = 255;
/// Asks the peer to stop performing an option (or refuses its WILL).
pub const DONT: u8 = 254;
/// Asks the peer to perform an option (or accepts its WILL).
pub const DO: u8 = 253;
/// Refuses to perform an option (or stops).
pub const WONT: u8 = 252;
/// Offers to perform an option (or accepts a DO).
pub const WILL: u8 = 251;
/// Subnegotiation Begin: `IAC SB option payload… IAC SE`.
pub const SB: u8 = 250;
/// Subnegotiation End.
pub const SE: u8 = 240;

/// Option codes this client knows by name. Binary transmission (RFC 856): 8-bit data, no CR/NUL rules.
pub const BINARY: u8 = 0;
/// Echo (RFC 857).
pub const ECHO: u8 = 1;
/// Suppress Go Ahead.
pub const SGA: u8 = 3;
/// RFC 2217's COM-PORT-OPTION.
pub const COM_PORT_OPTION: u8 = 44;

/// The four option-negotiation verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// `IAC WILL`.
    Will,
    /// `IAC WONT`.
    Wont,
    /// `IAC DO`.
    Do,
    /// `IAC DONT`.
    Dont,
}

impl Verb {
    /// The verb's command byte.
    pub fn code(self) -> u8 {
        match self {
            Verb::Will => WILL,
            Verb::Wont => WONT,
            Verb::Do => DO,
            Verb::Dont => DONT,
        }
    }

    fn from_code(b: u8) -> Option<Verb> {
        Some(match b {
            WILL => Verb::Will,
            WONT => Verb::Wont,
            DO => Verb::Do,
            DONT => Verb::Dont,
            _ => return None,
        })
    }
}

/// What the decoder found in the stream, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Data bytes, IAC already un-doubled (consecutive data in one `feed` is one event).
    Data(Vec<u8>),
    /// `IAC WILL/WONT/DO/DONT option`.
    Negotiate(Verb, u8),
    /// A complete `IAC SB option … IAC SE`, payload un-doubled.
    Subnegotiation {
        /// The option negotiated (44 for COM-PORT-OPTION).
        option: u8,
        /// The bytes between the option and `IAC SE`.
        payload: Vec<u8>,
    },
    /// A subnegotiation grew past the limit: it is dropped, whatever else arrives of it is
    /// discarded up to its `IAC SE`. Reported once, when the limit is crossed.
    SubnegotiationTooLong {
        /// The option of the subnegotiation dropped.
        option: u8,
        /// The decoder's limit, in payload bytes.
        limit: usize,
    },
    /// A subnegotiation broken off by `IAC` and something other than `IAC` or `SE`: dropped, and
    /// the byte after `IAC` is read as a command.
    SubnegotiationBroken {
        /// The option of the subnegotiation dropped.
        option: u8,
    },
    /// Any other command (NOP, GA, BRK, AYT…): reported, carries no data.
    Command(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Data,
    Iac,
    Verb(Verb),
    SbOption,
    Sb,
    SbIac,
}

/// An incremental telnet decoder. Feed it whatever each read returned.
#[derive(Debug)]
pub struct Decoder {
    state: State,
    sb_option: u8,
    sb: Vec<u8>,
    sb_limit: usize,
    sb_overflowed: bool,
}

impl Decoder {
    /// A decoder that keeps at most `sb_limit` payload bytes of a subnegotiation.
    pub fn new(sb_limit: usize) -> Self {
        Decoder { state: State::Data, sb_option: 0, sb: Vec::new(), sb_limit, sb_overflowed: false }
    }

    /// Decodes `bytes`, appending events to `out`.
    pub fn feed(&mut self, bytes: &[u8], out: &mut Vec<Event>) {
        let mut data = Vec::new();
        for &b in bytes {
            self.byte(b, &mut data, out);
        }
        flush(&mut data, out);
    }

    fn byte(&mut self, b: u8, data: &mut Vec<u8>, out: &mut Vec<Event>) {
        match self.state {
            State::Data if b == IAC => self.state = State::Iac,
            State::Data => data.push(b),
            State::Iac => self.command(b, data, out),
            State::Verb(v) => {
                flush(data, out);
                out.push(Event::Negotiate(v, b));
                self.state = State::Data;
            }
            State::SbOption => {
                self.sb_option = b;
                self.sb.clear();
                self.sb_overflowed = false;
                self.state = State::Sb;
            }
            State::Sb if b == IAC => self.state = State::SbIac,
            State::Sb => self.sb_push(b, out),
            State::SbIac => match b {
                IAC => {
                    self.sb_push(IAC, out);
                    self.state = State::Sb;
                }
                SE => {
                    if !self.sb_overflowed {
                        flush(data, out);
                        let payload = std::mem::take(&mut self.sb);
                        out.push(Event::Subnegotiation { option: self.sb_option, payload });
                    }
                    self.sb = Vec::new();
                    self.state = State::Data;
                }
                other => {
                    flush(data, out);
                    out.push(Event::SubnegotiationBroken { option: self.sb_option });
                    self.sb = Vec::new();
                    self.command(other, data, out);
                }
            },
        }
    }

    /// The byte after an IAC outside a subnegotiation.
    fn command(&mut self, b: u8, data: &mut Vec<u8>, out: &mut Vec<Event>) {
        self.state = State::Data;
        match b {
            IAC => data.push(IAC),
            SB => self.state = State::SbOption,
            // A stray SE ends nothing; dropping it keeps it out of the data.
            SE => {}
            _ => match Verb::from_code(b) {
                Some(v) => self.state = State::Verb(v),
                None => {
                    flush(data, out);
                    out.push(Event::Command(b));
                }
            },
        }
    }

    fn sb_push(&mut self, b: u8, out: &mut Vec<Event>) {
        if self.sb_overflowed {
            return;
        }
        if self.sb.len() >= self.sb_limit {
            self.sb_overflowed = true;
            // Give the memory back now: the rest of this subnegotiation may never end.
            self.sb = Vec::new();
            out.push(Event::SubnegotiationTooLong { option: self.sb_option, limit: self.sb_limit });
            return;
        }
        self.sb.push(b);
    }
}

fn flush(data: &mut Vec<u8>, out: &mut Vec<Event>) {
    if !data.is_empty() {
        out.push(Event::Data(std::mem::take(data)));
    }
}

/// Data as it must go on the wire: every 0xFF doubled.
pub fn escape(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + data.len() / 16);
    for &b in data {
        out.push(b);
        if b == IAC {
            out.push(IAC);
        }
    }
    out
}

/// `IAC verb option`.
pub fn negotiation(verb: Verb, option: u8) -> [u8; 3] {
    [IAC, verb.code(), option]
}

/// `IAC SB option payload IAC SE`, with IAC in the payload doubled.
pub fn subnegotiation(option: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![IAC, SB, option];
    out.extend(escape(payload));
    out.extend([IAC, SE]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn decode(reads: &[&[u8]], limit: usize) -> Vec<Event> {
        let mut d = Decoder::new(limit);
        let mut out = Vec::new();
        for r in reads {
            d.feed(r, &mut out);
        }
        out
    }

    /// Joins adjacent Data events, which depend on how the bytes were split.
    fn merged(events: Vec<Event>) -> Vec<Event> {
        let mut out: Vec<Event> = Vec::new();
        for e in events {
            match (out.last_mut(), e) {
                (Some(Event::Data(a)), Event::Data(b)) => a.extend(b),
                (_, e) => out.push(e),
            }
        }
        out
    }

    #[rstest]
    #[case::plain(b"AT\r", b"AT\r")]
    #[case::one_ff(b"\xff", b"\xff\xff")]
    #[case::two_ff(b"a\xff\xffb", b"a\xff\xff\xff\xffb")]
    #[case::empty(b"", b"")]
    fn escaping(#[case] data: &[u8], #[case] wire: &[u8]) {
        assert_eq!(escape(data), wire);
        // And back, however the wire is split.
        for cut in 0..=wire.len() {
            let got = merged(decode(&[&wire[..cut], &wire[cut..]], 16));
            let want = if data.is_empty() { vec![] } else { vec![Event::Data(data.to_vec())] };
            assert_eq!(got, want, "cut at {cut}");
        }
    }

    #[rstest]
    #[case::ff_split(&[&b"a\xff"[..], &b"\xffb"[..]], vec![Event::Data(b"a\xffb".to_vec())])]
    #[case::verb_split(&[&b"x\xff"[..], &b"\xfb"[..], &b",y"[..]], vec![
        Event::Data(b"x".to_vec()), Event::Negotiate(Verb::Will, 44), Event::Data(b"y".to_vec())])]
    #[case::nop(&[&b"a\xff\xf1b"[..]], vec![Event::Data(b"a".to_vec()), Event::Command(0xf1), Event::Data(b"b".to_vec())])]
    #[case::stray_se(&[&b"a\xff\xf0b"[..]], vec![Event::Data(b"ab".to_vec())])]
    #[case::sb_with_iac_iac(&[&b"\xff\xfa,\x65\x00\x01\xff\xff\xff\xff\xff\xf0"[..]], vec![
        Event::Subnegotiation { option: 44, payload: vec![101, 0, 1, 0xff, 0xff] }])]
    #[case::sb_split_everywhere(&[&b"\xff"[..], &b"\xfa"[..], &b","[..], &b"\x6b"[..], &b"\x30"[..], &b"\xff"[..], &b"\xf0"[..], &b"z"[..]], vec![
        Event::Subnegotiation { option: 44, payload: vec![107, 0x30] }, Event::Data(b"z".to_vec())])]
    #[case::sb_broken(&[&b"\xff\xfa,\x01\xff\xfb\x00q"[..]], vec![
        Event::SubnegotiationBroken { option: 44 }, Event::Negotiate(Verb::Will, 0), Event::Data(b"q".to_vec())])]
    fn decoding(#[case] reads: &[&[u8]], #[case] want: Vec<Event>) {
        assert_eq!(merged(decode(reads, 16)), want);
    }

    #[test]
    fn baud_0x0001ffff_round_trips_through_a_subnegotiation() {
        let payload = [1, 0x00, 0x01, 0xff, 0xff];
        let wire = subnegotiation(44, &payload);
        assert_eq!(wire, [IAC, SB, 44, 1, 0, 1, 0xff, 0xff, 0xff, 0xff, IAC, SE]);
        assert_eq!(decode(&[&wire], 16), vec![Event::Subnegotiation { option: 44, payload: payload.to_vec() }]);
    }

    #[rstest]
    #[case::ends(true)]
    #[case::never_ends(false)]
    fn an_oversize_subnegotiation_is_capped_reported_once_and_dropped(#[case] ends: bool) {
        let mut d = Decoder::new(8);
        let mut out = Vec::new();
        d.feed(&[IAC, SB, 44, 107], &mut out);
        for _ in 0..10_000 {
            d.feed(&[0x41; 100], &mut out);
            assert!(d.sb.capacity() <= 64, "the payload must not grow");
        }
        assert_eq!(out, vec![Event::SubnegotiationTooLong { option: 44, limit: 8 }]);
        out.clear();
        if ends {
            d.feed(&[IAC, SE, b'o', b'k'], &mut out);
            assert_eq!(out, vec![Event::Data(b"ok".to_vec())]);
        } else {
            d.feed(b"ok", &mut out);
            assert_eq!(out, vec![], "still inside the subnegotiation: nothing leaks into data");
        }
    }

    #[test]
    fn a_subnegotiation_at_the_limit_is_kept() {
        let wire = subnegotiation(44, &[7; 8]);
        assert_eq!(decode(&[&wire], 8), vec![Event::Subnegotiation { option: 44, payload: vec![7; 8] }]);
    }
}
