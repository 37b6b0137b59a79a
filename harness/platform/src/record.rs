//! Datagrams as transcript lines: type, code, MID, token, options and the payload decoded in its
//! content format.

use coap_lite::{CoapOption, MessageClass, MessageType, Packet};
use miplcheck_lwm2m::block::{uint, Block};
use miplcheck_lwm2m::{tlv, wire, ContentFormat};
use std::fmt::Write as _;
use std::time::Duration;

/// The OneNET-specific option that carries the auth code.
pub const AUTH_CODE_OPTION: u16 = 63;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireDir {
    /// The platform to the device.
    PlatformToUe,
    /// The device to the platform.
    UeToPlatform,
}

impl WireDir {
    pub fn arrow(self) -> &'static str {
        match self {
            WireDir::PlatformToUe => "PF→UE",
            WireDir::UeToPlatform => "UE→PF",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRecord {
    pub at: Duration,
    pub dir: WireDir,
    /// The device's address as the platform saw it (`ip:port`).
    pub peer: String,
    pub bytes: Vec<u8>,
}

impl WireRecord {
    /// `CON POST /rd?ep=866971030000001;460040000000001&lt=600 mid=4660 token=0A0B cf=link-format
    /// </>;rt="oma.lwm2m",</3311/0>`, or `undecodable: …` for bytes that are not CoAP.
    pub fn describe(&self) -> String {
        match Packet::from_bytes(&self.bytes) {
            Ok(p) => describe(&p),
            Err(e) => format!("undecodable ({e:?}): {}", hex(&self.bytes)),
        }
    }

    /// A device's notification (RFC 7641): a response from the device with an Observe option.
    pub fn is_notification(&self) -> bool {
        self.dir == WireDir::UeToPlatform
            && Packet::from_bytes(&self.bytes)
                .is_ok_and(|p| matches!(p.header.code, MessageClass::Response(_)) && p.get_observe_value().is_some())
    }

    /// The description without `mid=` and `token=`, which change from run to run: what suite
    /// `wire:` patterns match.
    pub fn summary(&self) -> String {
        self.describe()
            .split(' ')
            .filter(|w| !w.starts_with("mid=") && !w.starts_with("token="))
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// An operation's answer as suites' `answer:` patterns and the platform console see it: the code,
/// then options and payload as [`describe`] shows them, without `mid=` and `token=`
/// (`2.05 cf=text/plain 1.88`).
pub fn answer_text(code: &str, packet: &Packet) -> String {
    let described = describe(packet);
    let rest: Vec<&str> =
        described.split(' ').skip(2).filter(|w| !w.starts_with("mid=") && !w.starts_with("token=")).collect();
    if rest.is_empty() {
        code.to_string()
    } else {
        format!("{code} {}", rest.join(" "))
    }
}

pub fn describe(p: &Packet) -> String {
    let mut s = String::new();
    let t = match p.header.get_type() {
        MessageType::Confirmable => "CON",
        MessageType::NonConfirmable => "NON",
        MessageType::Acknowledgement => "ACK",
        MessageType::Reset => "RST",
    };
    s.push_str(t);
    match p.header.code {
        MessageClass::Empty => {}
        MessageClass::Request(r) => {
            let _ = write!(s, " {}", format!("{r:?}").to_uppercase());
            let path = wire::strings(p, CoapOption::UriPath);
            let _ = write!(s, " /{}", path.join("/"));
            let q = wire::strings(p, CoapOption::UriQuery);
            if !q.is_empty() {
                let _ = write!(s, "?{}", q.join("&"));
            }
        }
        MessageClass::Response(r) => {
            let n: u8 = MessageClass::Response(r).into();
            let _ = write!(s, " {}.{:02}", n >> 5, n & 0x1F);
        }
        MessageClass::Reserved(n) => {
            let _ = write!(s, " code {n}");
        }
    }
    let _ = write!(s, " mid={}", p.header.message_id);
    if !p.get_token().is_empty() {
        let _ = write!(s, " token={}", hex(p.get_token()));
    }
    if let Some(o) = p.get_observe_value() {
        match o {
            Ok(v) => {
                let _ = write!(s, " observe={v}");
            }
            Err(_) => s.push_str(" observe=?"),
        }
    }
    let loc = wire::strings(p, CoapOption::LocationPath);
    if !loc.is_empty() {
        let _ = write!(s, " location=/{}", loc.join("/"));
    }
    if p.get_option(CoapOption::Unknown(AUTH_CODE_OPTION)).is_some() {
        s.push_str(" auth-code");
    }
    // RFC 7959: NUM/M/size of a block, and the whole transfer's size.
    if let Some(b) = Block::block1(p) {
        let _ = write!(s, " block1={}/{}/{}", b.num, u8::from(b.more), b.size());
    }
    if let Some(n) = uint(p, CoapOption::Size1) {
        let _ = write!(s, " size1={n}");
    }
    let cf = wire::number(p, CoapOption::ContentFormat).map(ContentFormat::from_number);
    if let Some(cf) = cf {
        let _ = write!(s, " cf={}", cf.name());
    }
    if !p.payload.is_empty() {
        let _ = write!(s, " {}", payload(cf, &p.payload));
    }
    s
}

/// Longer opaque payloads (package blocks) show their first bytes and their size.
const OPAQUE_SHOWN: usize = 64;

fn payload(cf: Option<ContentFormat>, b: &[u8]) -> String {
    match cf {
        Some(ContentFormat::Opaque) if b.len() > OPAQUE_SHOWN => {
            format!("{}… ({} bytes)", hex(&b[..16]), b.len())
        }
        Some(cf) if cf.is_tlv() => match tlv::decode(b) {
            Ok(items) => items.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", "),
            Err(e) => format!("{e}: {}", hex(b)),
        },
        Some(ContentFormat::Opaque) => hex(b),
        _ => match std::str::from_utf8(b) {
            Ok(t) if !t.chars().any(char::is_control) => t.to_string(),
            _ => hex(b),
        },
    }
}

pub use miplcheck_lwm2m::wire::hex;

#[cfg(test)]
mod tests {
    use super::*;
    use coap_lite::RequestType;

    #[rstest::rstest]
    #[case(11542, "cf=tlv 5700=[41 CC CC CD]")]
    #[case(1542, "cf=tlv-old(1542) 5700=[41 CC CC CD]")]
    fn both_tlv_numbers_are_decoded_and_named_as_wakaama_names_them(#[case] cf: u16, #[case] want: &str) {
        let mut p = Packet::new();
        p.header.code = MessageClass::Response(coap_lite::ResponseType::Content);
        p.add_option(CoapOption::ContentFormat, cf.to_be_bytes().to_vec());
        p.payload =
            miplcheck_lwm2m::tlv::encode(&[miplcheck_lwm2m::tlv::Tlv::resource(5700, vec![0x41, 0xCC, 0xCC, 0xCD])]);
        let d = describe(&p);
        assert!(d.ends_with(want), "{d}");
    }

    #[test]
    fn a_registration_reads_like_the_wire() {
        let mut p = Packet::new();
        p.header.set_type(MessageType::Confirmable);
        p.header.code = MessageClass::Request(RequestType::Post);
        p.header.message_id = 4660;
        p.set_token(vec![0x0A, 0x0B]);
        p.add_option(CoapOption::UriPath, b"rd".to_vec());
        p.add_option(CoapOption::UriQuery, b"lwm2m=1.0".to_vec());
        p.add_option(CoapOption::UriQuery, b"ep=866971030000001;460040000000001".to_vec());
        p.add_option(CoapOption::Unknown(AUTH_CODE_OPTION), b"Quectel123".to_vec());
        p.set_content_format(coap_lite::ContentFormat::ApplicationLinkFormat);
        p.payload = b"</>;rt=\"oma.lwm2m\",</3311/0>".to_vec();
        let r = WireRecord {
            at: Duration::ZERO,
            dir: WireDir::UeToPlatform,
            peer: "ue".into(),
            bytes: p.to_bytes().unwrap(),
        };
        assert_eq!(
            r.describe(),
            "CON POST /rd?lwm2m=1.0&ep=866971030000001;460040000000001 mid=4660 token=0A0B auth-code cf=link-format </>;rt=\"oma.lwm2m\",</3311/0>"
        );
    }

    #[test]
    fn summaries_leave_out_mid_and_token() {
        let mut p = Packet::new();
        p.header.set_type(MessageType::NonConfirmable);
        p.header.code = MessageClass::Response(coap_lite::ResponseType::Content);
        p.header.message_id = 7;
        p.set_token(vec![1]);
        p.payload = b"25.6".to_vec();
        let r = WireRecord {
            at: Duration::ZERO,
            dir: WireDir::UeToPlatform,
            peer: "ue".into(),
            bytes: p.to_bytes().unwrap(),
        };
        assert_eq!(r.describe(), "NON 2.05 mid=7 token=01 25.6");
        assert_eq!(r.summary(), "NON 2.05 25.6");
    }

    #[test]
    fn garbage_is_shown_as_hex() {
        let r = WireRecord { at: Duration::ZERO, dir: WireDir::UeToPlatform, peer: "ue".into(), bytes: vec![0xFF, 1] };
        assert!(r.describe().starts_with("undecodable"), "{}", r.describe());
    }
}
