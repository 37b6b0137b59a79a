//! Small readers shared by everything that handles CoAP messages and their payloads: option values
//! as text or numbers, and hexadecimal as the MIPL commands and transcripts print bytes.

use coap_lite::{CoapOption, Packet};

/// Every value of a repeatable option as text (`Uri-Path`, `Uri-Query`, `Location-Path`).
pub fn strings(p: &Packet, o: CoapOption) -> Vec<String> {
    p.get_option(o).map(|l| l.iter().map(|v| String::from_utf8_lossy(v).into_owned()).collect()).unwrap_or_default()
}

/// The first value of a numeric option (`Content-Format`, `Accept`), big-endian.
pub fn number(p: &Packet, o: CoapOption) -> Option<u16> {
    p.get_option(o).and_then(|l| l.front()).map(|v| v.iter().fold(0u16, |a, b| (a << 8) | u16::from(*b)))
}

/// `68656C6C6F` for `hello`.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// Bytes from hexadecimal digits, two per byte; `None` for anything else.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips() {
        assert_eq!(hex(b"hello"), "68656C6C6F");
        assert_eq!(unhex("68656c6c6F").as_deref(), Some(&b"hello"[..]));
        assert_eq!(unhex("6"), None);
        assert_eq!(unhex("zz"), None);
        assert_eq!(unhex("é0"), None);
    }

    #[test]
    fn options() {
        let mut p = Packet::new();
        p.add_option(CoapOption::UriPath, b"rd".to_vec());
        p.add_option(CoapOption::UriPath, b"1".to_vec());
        p.add_option(CoapOption::ContentFormat, 1542u16.to_be_bytes().to_vec());
        assert_eq!(strings(&p, CoapOption::UriPath), ["rd", "1"]);
        assert_eq!(number(&p, CoapOption::ContentFormat), Some(1542));
        assert_eq!(number(&p, CoapOption::Accept), None);
    }
}
