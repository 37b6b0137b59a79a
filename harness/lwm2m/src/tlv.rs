//! OMA TLV (LwM2M 1.0 §6.4.3), content formats 11542 and, under its pre-registration number, 1542: how an instance or object travels
//! in a READ answer or a NOTIFY, and how a WRITE of several resources arrives.
//!
//! Decoding never panics and never trusts a length: a truncated or nested-too-deep input is an
//! error naming the byte offset.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `00`: an object instance holding resources.
    ObjectInstance,
    /// `01`: one instance of a multiple resource.
    ResourceInstance,
    /// `10`: a multiple resource holding resource instances.
    MultipleResource,
    /// `11`: a single resource with its value.
    Resource,
}

impl Kind {
    fn bits(self) -> u8 {
        match self {
            Kind::ObjectInstance => 0b00,
            Kind::ResourceInstance => 0b01,
            Kind::MultipleResource => 0b10,
            Kind::Resource => 0b11,
        }
    }

    fn holds_children(self) -> bool {
        matches!(self, Kind::ObjectInstance | Kind::MultipleResource)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Bytes(Vec<u8>),
    Children(Vec<Tlv>),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tlv {
    pub kind: Kind,
    pub id: u16,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("bad TLV at byte {offset}: {why}")]
pub struct TlvError {
    pub offset: usize,
    pub why: &'static str,
}

/// Instances inside objects inside… deeper than this is not LwM2M.
const MAX_DEPTH: usize = 3;

impl Tlv {
    pub fn resource(id: u16, bytes: Vec<u8>) -> Self {
        Tlv { kind: Kind::Resource, id, value: Value::Bytes(bytes) }
    }

    pub fn instance(id: u16, resources: Vec<Tlv>) -> Self {
        Tlv { kind: Kind::ObjectInstance, id, value: Value::Children(resources) }
    }

    pub fn bytes(&self) -> Option<&[u8]> {
        match &self.value {
            Value::Bytes(b) => Some(b),
            Value::Children(_) => None,
        }
    }

    pub fn children(&self) -> &[Tlv] {
        match &self.value {
            Value::Children(c) => c,
            Value::Bytes(_) => &[],
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        let body = match &self.value {
            Value::Bytes(b) => b.clone(),
            Value::Children(c) => encode(c),
        };
        let len = body.len();
        let mut t = self.kind.bits() << 6;
        if self.id > 0xFF {
            t |= 1 << 5;
        }
        let len_bytes: Vec<u8> = match len {
            0..=7 => {
                t |= len as u8;
                vec![]
            }
            8..=0xFF => {
                t |= 0b01 << 3;
                vec![len as u8]
            }
            0x100..=0xFFFF => {
                t |= 0b10 << 3;
                (len as u16).to_be_bytes().to_vec()
            }
            _ => {
                t |= 0b11 << 3;
                (len as u32).to_be_bytes()[1..].to_vec()
            }
        };
        out.push(t);
        if self.id > 0xFF {
            out.extend_from_slice(&self.id.to_be_bytes());
        } else {
            out.push(self.id as u8);
        }
        out.extend(len_bytes);
        out.extend(body);
    }
}

pub fn encode(items: &[Tlv]) -> Vec<u8> {
    let mut out = Vec::new();
    for t in items {
        t.write(&mut out);
    }
    out
}

pub fn decode(input: &[u8]) -> Result<Vec<Tlv>, TlvError> {
    decode_at(input, 0, 0)
}

fn decode_at(input: &[u8], base: usize, depth: usize) -> Result<Vec<Tlv>, TlvError> {
    if depth > MAX_DEPTH {
        return Err(TlvError { offset: base, why: "nested too deep" });
    }
    let mut out = Vec::new();
    let mut i = 0;
    let need =
        |i: usize, n: usize, why| if i + n <= input.len() { Ok(()) } else { Err(TlvError { offset: base + i, why }) };
    while i < input.len() {
        let t = input[i];
        i += 1;
        let kind = match t >> 6 {
            0b00 => Kind::ObjectInstance,
            0b01 => Kind::ResourceInstance,
            0b10 => Kind::MultipleResource,
            _ => Kind::Resource,
        };
        let id_len = if t & (1 << 5) != 0 { 2 } else { 1 };
        need(i, id_len, "identifier cut short")?;
        let id = if id_len == 2 { u16::from_be_bytes([input[i], input[i + 1]]) } else { u16::from(input[i]) };
        i += id_len;
        let len_len = usize::from((t >> 3) & 0b11);
        let len = if len_len == 0 {
            usize::from(t & 0b111)
        } else {
            need(i, len_len, "length cut short")?;
            let l = input[i..i + len_len].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
            i += len_len;
            l
        };
        need(i, len, "value shorter than its length")?;
        let body = &input[i..i + len];
        let value = if kind.holds_children() {
            Value::Children(decode_at(body, base + i, depth + 1)?)
        } else {
            Value::Bytes(body.to_vec())
        };
        i += len;
        out.push(Tlv { kind, id, value });
    }
    Ok(out)
}

/// The shortest two's-complement big-endian form of an integer LwM2M accepts (1, 2, 4 or 8 bytes).
pub fn int_bytes(n: i64) -> Vec<u8> {
    if let Ok(v) = i8::try_from(n) {
        v.to_be_bytes().to_vec()
    } else if let Ok(v) = i16::try_from(n) {
        v.to_be_bytes().to_vec()
    } else if let Ok(v) = i32::try_from(n) {
        v.to_be_bytes().to_vec()
    } else {
        n.to_be_bytes().to_vec()
    }
}

/// An integer from 1, 2, 4 or 8 bytes.
pub fn read_int(b: &[u8]) -> Option<i64> {
    Some(match b.len() {
        1 => i64::from(i8::from_be_bytes([b[0]])),
        2 => i64::from(i16::from_be_bytes(b.try_into().ok()?)),
        4 => i64::from(i32::from_be_bytes(b.try_into().ok()?)),
        8 => i64::from_be_bytes(b.try_into().ok()?),
        _ => return None,
    })
}

/// A float from 4 or 8 bytes.
pub fn read_float(b: &[u8]) -> Option<f64> {
    match b.len() {
        4 => Some(f64::from(f32::from_be_bytes(b.try_into().ok()?))),
        8 => Some(f64::from_be_bytes(b.try_into().ok()?)),
        _ => None,
    }
}

impl fmt::Display for Tlv {
    /// `5700=[41 CC CC CD]`, `0(5700=…, 5701=…)` — how transcripts show a decoded payload (no
    /// braces, which suite patterns use for holes).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.value {
            Value::Bytes(b) => {
                write!(f, "{}=", self.id)?;
                // Text only when every byte is printable ASCII: a float's bytes can be valid UTF-8.
                match std::str::from_utf8(b) {
                    Ok(s) if !s.is_empty() && b.iter().all(|c| (0x20..=0x7E).contains(c)) => write!(f, "\"{s}\""),
                    _ => {
                        write!(f, "[")?;
                        for (k, byte) in b.iter().enumerate() {
                            if k > 0 {
                                write!(f, " ")?;
                            }
                            write!(f, "{byte:02X}")?;
                        }
                        write!(f, "]")
                    }
                }
            }
            Value::Children(c) => {
                write!(f, "{}(", self.id)?;
                for (k, t) in c.iter().enumerate() {
                    if k > 0 {
                        write!(f, ", ")?;
                    }
                    write!(f, "{t}")?;
                }
                write!(f, ")")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// LwM2M 1.0 §6.4.3.1 example: a single Device object instance.
    #[test]
    fn the_specifications_device_example_decodes() {
        let bytes: &[u8] = &[
            0xC8, 0x00, 0x14, b'O', b'p', b'e', b'n', b' ', b'M', b'o', b'b', b'i', b'l', b'e', b' ', b'A', b'l', b'l',
            b'i', b'a', b'n', b'c', b'e', // 0: Manufacturer
            0xC8, 0x01, 0x16, b'L', b'i', b'g', b'h', b't', b'w', b'e', b'i', b'g', b'h', b't', b' ', b'M', b'2', b'M',
            b' ', b'C', b'l', b'i', b'e', b'n', b't', // 1: Model
            0x86, 0x06, 0x41, 0x00, 0x01, 0x41, 0x01, 0x05, // 6: Available power sources [1, 5]
        ];
        let t = decode(bytes).unwrap();
        assert_eq!(t.len(), 3);
        assert_eq!(t[0].bytes().unwrap(), b"Open Mobile Alliance");
        assert_eq!(t[2].kind, Kind::MultipleResource);
        assert_eq!(t[2].children()[1].bytes().unwrap(), [5]);
        assert_eq!(encode(&t), bytes, "encoding gives the same bytes back");
    }

    #[test]
    fn an_instance_with_long_ids_and_lengths() {
        let big = vec![0xAB; 300];
        let t = vec![Tlv::instance(1, vec![Tlv::resource(5700, int_bytes(-2)), Tlv::resource(26500, big.clone())])];
        let back = decode(&encode(&t)).unwrap();
        assert_eq!(back, t);
        assert_eq!(back[0].children()[1].bytes().unwrap().len(), 300);
    }

    #[test]
    fn integers_and_floats() {
        for n in [0, 1, -1, 127, 128, -129, 40000, -40000, 1 << 40] {
            assert_eq!(read_int(&int_bytes(n)), Some(n));
        }
        assert_eq!(int_bytes(123).len(), 1);
        assert_eq!(int_bytes(1 << 20).len(), 4);
        assert_eq!(read_float(&1.88f32.to_be_bytes()).map(|f| (f * 100.0).round()), Some(188.0));
        assert_eq!(read_int(&[1, 2, 3]), None);
    }

    #[test]
    fn truncated_input_is_an_error_with_its_offset() {
        let mut b = encode(&[Tlv::resource(5700, vec![1, 2, 3, 4, 5, 6, 7, 8, 9])]);
        b.pop();
        let e = decode(&b).unwrap_err();
        assert_eq!(e.why, "value shorter than its length");
        assert!(decode(&[0xE0]).is_err());
        assert!(decode(&[0xD8]).is_err());
    }

    #[test]
    fn float_bytes_that_happen_to_be_utf8_show_as_bytes() {
        let t = Tlv::resource(5602, 100.86f32.to_be_bytes().to_vec());
        assert_eq!(t.to_string(), "5602=[42 C9 B8 52]");
    }

    #[test]
    fn display_for_transcripts() {
        let t = Tlv::instance(0, vec![Tlv::resource(5701, b"Cel".to_vec()), Tlv::resource(5700, vec![0x41, 0xCC])]);
        assert_eq!(t.to_string(), "0(5701=\"Cel\", 5700=[41 CC])");
    }
}
