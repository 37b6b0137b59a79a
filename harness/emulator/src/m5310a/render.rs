//! How the M5310-A prints what the client reports (M5310-A §1.10–§1.18, §4): no space after the
//! `:`, event codes of §4.2, written values shown in the type the TE declared (§1.12).

use crate::notice::{event_fields, field as id, EventTable, Notice};
use crate::options::Options;
use miplcheck_lwm2m::{wire, ContentFormat, Path};
use std::collections::BTreeMap;

/// M5310-A §4.2, with §1.6's reading for a registration that timed out or a DTLS handshake that
/// failed (both are a failed registration to the TE). Events the manual does not list (BC39's 1,
/// 4, 9, 14, 25, …) are not reported. 31: an update the platform answers 4.04 (it deleted the
/// device); 32: the `AT+MIPLDTLSNAT` interval passed without a datagram (§2.7).
pub const EVENTS: EventTable = &[
    ("bootstrap-done", 2),
    ("bootstrap-failed", 3),
    ("registered", 6),
    ("register-failed", 7),
    ("register-timeout", 7),
    ("connect-failed", 7),
    ("update-done", 11),
    ("deregistered", 15),
    ("notify-acked", 26),
    ("device-deleted", 31),
    ("dtls-address-aged", 32),
];

fn at(path: &Path) -> String {
    format!("{},{},{}", path.object, id(path.instance), id(path.resource))
}

pub fn render(n: &Notice, opts: &Options, declared: &BTreeMap<(u16, u16, u16), i64>) -> Vec<String> {
    match n {
        Notice::Event(e) => {
            event_fields(EVENTS, &opts.quirks.events, e).map(|f| format!("+MIPLEVENT:{f}")).into_iter().collect()
        }
        Notice::Observe { id: msg, on, path, .. } => {
            vec![format!("+MIPLOBSERVE:0,{msg},{},{}", u8::from(*on), at(path))]
        }
        Notice::Discover { mid, object, .. } => vec![format!("+MIPLDISCOVER:0,{mid},{object}")],
        Notice::Read { mid, path, .. } => vec![format!("+MIPLREAD:0,{mid},{}", at(path))],
        Notice::Parameter { mid, path, params, .. } => {
            vec![format!("+MIPLPARAMETER:0,{mid},{},{},\"{params}\"", at(path), params.len())]
        }
        Notice::Execute { mid, path, args } if args.is_empty() => vec![format!("+MIPLEXECUTE:0,{mid},{}", at(path))],
        Notice::Execute { mid, path, args } => {
            vec![format!("+MIPLEXECUTE:0,{mid},{},{},\"{args}\"", at(path), args.len())]
        }
        Notice::Write { mid, format, values, .. } => {
            let n = values.len();
            values
                .iter()
                .enumerate()
                .map(|(k, (p, bytes))| {
                    let key = (p.object, p.instance.unwrap_or(0), p.resource.unwrap_or(0));
                    let (ty, value) = shown(declared.get(&key).copied(), *format, bytes);
                    // §1.12 `<flag>`: 1 first, 2 middle, 0 last; §2.2's examples print index 0.
                    let flag = match k {
                        _ if k + 1 == n => 0,
                        0 => 1,
                        _ => 2,
                    };
                    format!("+MIPLWRITE:0,{mid},{},{ty},{},{value},{flag},0", at(p), value.len())
                })
                .collect()
        }
    }
}

/// A written value as §1.12 prints it: in the type the TE declared for the resource, or opaque
/// (hex) when it declared none.
fn shown(declared: Option<i64>, format: Option<ContentFormat>, bytes: &[u8]) -> (i64, String) {
    let text = format == Some(ContentFormat::Text);
    let as_text = || String::from_utf8(bytes.to_vec()).ok();
    let v = match declared {
        Some(1) => as_text(),
        Some(3) if text => as_text(),
        Some(3) if (1..=8).contains(&bytes.len()) => {
            let mut n: i64 = if bytes[0] & 0x80 != 0 { -1 } else { 0 };
            for b in bytes {
                n = (n << 8) | i64::from(*b);
            }
            Some(n.to_string())
        }
        Some(4) if text => as_text(),
        Some(4) => match bytes.len() {
            4 => Some(f32::from_be_bytes(bytes.try_into().unwrap_or_default()).to_string()),
            8 => Some(f64::from_be_bytes(bytes.try_into().unwrap_or_default()).to_string()),
            _ => None,
        },
        Some(5) if text => as_text(),
        Some(5) if bytes.len() == 1 => Some(bytes[0].min(1).to_string()),
        _ => None,
    };
    match (declared, v) {
        (Some(t), Some(v)) => (t, v),
        _ => (2, wire::hex(bytes)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::notice::Event;

    fn opts() -> Options {
        Options::for_dialect("m5310a")
    }

    #[test]
    fn events_follow_section_4_2_and_quirks_override() {
        let d = BTreeMap::new();
        assert_eq!(render(&Notice::Event(Event::Deregistered), &opts(), &d), ["+MIPLEVENT:0,15"]);
        assert!(render(&Notice::Event(Event::Connected), &opts(), &d).is_empty(), "no event 4 on M5310-A");
        assert_eq!(render(&Notice::Event(Event::NotifyAcked { ackid: 278 }), &opts(), &d), ["+MIPLEVENT:0,26,278"]);
        let mut o = opts();
        o.quirks.events.insert("deregistered".into(), 20);
        assert_eq!(render(&Notice::Event(Event::Deregistered), &o, &d), ["+MIPLEVENT:0,20"]);
    }

    #[test]
    fn writes_show_the_declared_type() {
        // §2.2: `+MIPLWRITE:0,8173,3200,0,5501,3,4,1860,1,0` then `…,5750,1,4,test,0,0`.
        let mut d = BTreeMap::new();
        d.insert((3200, 0, 5501), 3);
        d.insert((3200, 0, 5750), 1);
        let w = Notice::Write {
            mid: 8173,
            path: Path::instance(3200, 0),
            format: Some(ContentFormat::Tlv),
            values: vec![
                (Path::resource(3200, 0, 5501), vec![0x07, 0x44]),
                (Path::resource(3200, 0, 5750), b"test".to_vec()),
            ],
        };
        assert_eq!(
            render(&w, &opts(), &d),
            ["+MIPLWRITE:0,8173,3200,0,5501,3,4,1860,1,0", "+MIPLWRITE:0,8173,3200,0,5750,1,4,test,0,0"]
        );
        let undeclared = Notice::Write {
            mid: 1,
            path: Path::resource(3200, 0, 5505),
            format: Some(ContentFormat::Text),
            values: vec![(Path::resource(3200, 0, 5505), b"ab".to_vec())],
        };
        assert_eq!(render(&undeclared, &opts(), &d), ["+MIPLWRITE:0,1,3200,0,5505,2,4,6162,0,0"]);
    }
}
