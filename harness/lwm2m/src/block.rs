//! RFC 7959 block-wise transfers: the Block1/Block2 option value, and the uint encoding CoAP uses
//! for it and for Size1. The platform's SOTA job sends blocks, the emulator answers them, and the
//! wire records show them, all with this one reading.

use coap_lite::{CoapOption, Packet};

/// A Block1/Block2 option value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Block {
    pub num: u32,
    pub more: bool,
    pub szx: u8,
}

impl Block {
    pub fn size(&self) -> usize {
        16 << self.szx.min(6)
    }

    pub fn encode(&self) -> Vec<u8> {
        uint_bytes((self.num << 4) | (u32::from(self.more) << 3) | u32::from(self.szx & 7))
    }

    /// `None` for more than three bytes or the reserved SZX 7.
    pub fn decode(v: &[u8]) -> Option<Block> {
        if v.len() > 3 {
            return None;
        }
        let n = v.iter().fold(0u32, |a, b| (a << 8) | u32::from(*b));
        let szx = (n & 7) as u8;
        (szx < 7).then_some(Block { num: n >> 4, more: n & 8 != 0, szx })
    }

    /// The packet's Block1 option, if it has a readable one.
    pub fn block1(p: &Packet) -> Option<Block> {
        p.get_option(CoapOption::Block1).and_then(|l| l.front()).and_then(|v| Block::decode(v))
    }
}

/// A CoAP uint option value: big-endian, no leading zero bytes (RFC 7252 §3.2).
pub fn uint_bytes(v: u32) -> Vec<u8> {
    let b = v.to_be_bytes();
    let skip = b.iter().take_while(|&&x| x == 0).count();
    b[skip..].to_vec()
}

/// The first value of a uint option of up to four bytes (Size1).
pub fn uint(p: &Packet, o: CoapOption) -> Option<u32> {
    let v = p.get_option(o)?.front()?.clone();
    (v.len() <= 4).then(|| v.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_round_trip_in_the_fewest_bytes() {
        let b = Block { num: 19, more: false, szx: 5 };
        assert_eq!(b.encode(), vec![0x01, 0x35]);
        assert_eq!(Block::decode(&b.encode()), Some(b));
        assert_eq!(b.size(), 512);
        assert_eq!(uint_bytes(0), Vec::<u8>::new());
        assert_eq!(Block::decode(&[0x07]), None, "SZX 7 is reserved");
    }

    #[test]
    fn size1_reads_back() {
        let mut p = Packet::new();
        p.add_option(CoapOption::Size1, uint_bytes(10_000));
        assert_eq!(uint(&p, CoapOption::Size1), Some(10_000));
    }
}
