//! Values between the AT side and CoAP: the TE's typed values as CoAP payloads, and what a
//! platform's write carries. The value types and result codes are the same in both manuals
//! (BC39 §3.2.9, §3.2.11; M5310-A §1.9, §1.11), except type 6 (hex string), M5310-A only.

use coap_lite::{CoapOption, Packet, ResponseType};
use miplcheck_lwm2m::tlv::{self, Tlv};
use miplcheck_lwm2m::{wire, ContentFormat, Path};

/// One resource value from `AT+MIPLREADRSP` or `AT+MIPLNOTIFY`.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub path: Path,
    pub value_type: i64,
    /// The declared `<len>`: for integers, the width to encode (2, 4 or 8 bytes).
    pub len: usize,
    pub value: String,
}

/// BC39 §3.2.9: result codes and the CoAP codes they stand for.
pub fn result_code(r: i64) -> Option<ResponseType> {
    Some(match r {
        1 => ResponseType::Content,
        2 => ResponseType::Changed,
        11 => ResponseType::BadRequest,
        12 => ResponseType::Unauthorized,
        13 => ResponseType::NotFound,
        14 => ResponseType::MethodNotAllowed,
        15 => ResponseType::NotAcceptable,
        _ => return None,
    })
}

/// A value as the TE gave it, as bytes for TLV (BC39 §3.2.11 value types 1–5, M5310-A §1.9 type 6).
pub fn value_bytes(p: &Part) -> Vec<u8> {
    let v = p.value.trim_matches('"');
    match p.value_type {
        // Opaque (2) and hex string (6, M5310-A §1.9) are both written in hex on the AT line.
        2 | 6 => wire::unhex(v).unwrap_or_default(),
        3 => {
            let n: i64 = v.parse().unwrap_or(0);
            match p.len {
                2 => (n as i16).to_be_bytes().to_vec(),
                4 => (n as i32).to_be_bytes().to_vec(),
                8 => n.to_be_bytes().to_vec(),
                _ => tlv::int_bytes(n),
            }
        }
        4 if p.len == 8 => v.parse::<f64>().map(|f| f.to_be_bytes().to_vec()).unwrap_or_default(),
        4 => v.parse::<f32>().map(|f| f.to_be_bytes().to_vec()).unwrap_or_default(),
        5 => vec![u8::from(v == "1" || v.eq_ignore_ascii_case("true"))],
        _ => v.as_bytes().to_vec(),
    }
}

/// One resource as text/plain (opaque as 42); an instance or object as TLV.
/// `tlv_asked`: the request's Accept named TLV, so even one resource goes out as TLV (Wakaama's
/// `read` of a resource asks `Accept: 11542`; text would be 4.06 Not Acceptable).
pub fn encode_parts(path: Path, parts: &[Part], tlv_asked: bool) -> (ContentFormat, Vec<u8>) {
    if let (Some(r), true, [p]) = (path.resource, tlv_asked, parts) {
        return (ContentFormat::Tlv, tlv::encode(&[Tlv::resource(r, value_bytes(p))]));
    }
    if path.resource.is_some() && parts.len() == 1 {
        let p = &parts[0];
        return match p.value_type {
            2 => (ContentFormat::Opaque, value_bytes(p)),
            // M5310-A §1.9: "converted to ASCII and uploaded as a string (type 1)".
            6 => (ContentFormat::Text, value_bytes(p)),
            _ => (ContentFormat::Text, p.value.trim_matches('"').as_bytes().to_vec()),
        };
    }
    let resources = |inst: u16| -> Vec<Tlv> {
        parts
            .iter()
            .filter(|p| p.path.instance == Some(inst))
            .filter_map(|p| p.path.resource.map(|r| Tlv::resource(r, value_bytes(p))))
            .collect()
    };
    let body = if path.instance.is_some() {
        resources(path.instance.unwrap_or(0))
    } else {
        let mut insts: Vec<u16> = parts.iter().filter_map(|p| p.path.instance).collect();
        insts.dedup();
        insts.into_iter().map(|i| Tlv::instance(i, resources(i))).collect()
    };
    (ContentFormat::Tlv, tlv::encode(&body))
}

/// The resources a WRITE carries: one for a resource path, each TLV resource otherwise.
pub fn written_values(req: &Packet, path: Path) -> Vec<(Path, Vec<u8>)> {
    let cf = wire::number(req, CoapOption::ContentFormat).map(ContentFormat::from_number);
    if cf.is_some_and(ContentFormat::is_tlv) {
        let Ok(items) = tlv::decode(&req.payload) else { return vec![] };
        let mut out = vec![];
        for t in items {
            match t.kind {
                tlv::Kind::ObjectInstance => {
                    for r in t.children() {
                        out.push((Path::resource(path.object, t.id, r.id), r.bytes().unwrap_or_default().to_vec()));
                    }
                }
                _ => out.push((
                    Path::resource(path.object, path.instance.unwrap_or(0), t.id),
                    t.bytes().unwrap_or_default().to_vec(),
                )),
            }
        }
        return out;
    }
    if path.resource.is_some() {
        return vec![(path, req.payload.clone())];
    }
    vec![]
}

/// The resource IDs of a DISCOVERRSP `<valuestring>` ("5850;5851;5706"). Neither manual allows a
/// trailing `;` ("5700;5701;"); `trailing_ok` (quirk `discover-list-trailing-semicolon`) accepts
/// one, as a host driver that joins with a `;` after each ID sends it.
pub fn resource_list(s: &str, trailing_ok: bool) -> Option<Vec<u16>> {
    let s = if trailing_ok { s.strip_suffix(';').unwrap_or(s) } else { s };
    s.split(';').map(|r| r.trim().parse::<u16>().ok()).collect()
}

#[cfg(test)]
mod list_tests {
    use super::resource_list;
    use rstest::rstest;

    #[rstest]
    #[case("5700;5701", false, Some(vec![5700, 5701]))]
    #[case("5700;5701;", false, None)]
    #[case("5700;5701;", true, Some(vec![5700, 5701]))]
    #[case("5700;;5701", true, None)]
    #[case("", true, None)]
    fn resource_lists(#[case] s: &str, #[case] lenient: bool, #[case] want: Option<Vec<u16>>) {
        assert_eq!(resource_list(s, lenient), want);
    }
}
