//! Captures as pcapng files Wireshark opens: each datagram wrapped in the IPv4 and UDP headers it
//! had on the wire (link type 228, raw IPv4), stamped in microseconds.

use crate::record::{WireDir, WireRecord};
use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const LINKTYPE_IPV4: u16 = 228;

/// Where a peer we cannot place (an in-process device) is drawn.
const NOWHERE: SocketAddrV4 = SocketAddrV4::new(Ipv4Addr::new(192, 0, 2, 1), 5683);

fn v4(addr: &str) -> SocketAddrV4 {
    match addr.parse::<SocketAddr>() {
        Ok(SocketAddr::V4(a)) => a,
        _ => NOWHERE,
    }
}

fn block(out: &mut impl Write, kind: u32, body: &[u8]) -> io::Result<()> {
    let padded = body.len().div_ceil(4) * 4;
    let total = (12 + padded) as u32;
    out.write_all(&kind.to_le_bytes())?;
    out.write_all(&total.to_le_bytes())?;
    out.write_all(body)?;
    out.write_all(&vec![0u8; padded - body.len()])?;
    out.write_all(&total.to_le_bytes())
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data.chunks(2).map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]))).sum();
    while sum > 0xFFFF {
        sum = (sum & 0xFFFF) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4 packet carrying `payload` in UDP from `src` to `dst`.
fn ipv4_udp(src: SocketAddrV4, dst: SocketAddrV4, payload: &[u8]) -> Vec<u8> {
    let udp_len = 8 + payload.len();
    let total = 20 + udp_len;
    let mut ip = vec![0x45, 0, 0, 0, 0, 0, 0x40, 0, 64, 17, 0, 0];
    ip[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    ip.extend_from_slice(&src.ip().octets());
    ip.extend_from_slice(&dst.ip().octets());
    let c = checksum(&ip);
    ip[10..12].copy_from_slice(&c.to_be_bytes());
    ip.extend_from_slice(&src.port().to_be_bytes());
    ip.extend_from_slice(&dst.port().to_be_bytes());
    ip.extend_from_slice(&(udp_len as u16).to_be_bytes());
    // UDP checksum 0: "not computed", which IPv4 allows and Wireshark accepts.
    ip.extend_from_slice(&[0, 0]);
    ip.extend_from_slice(payload);
    ip
}

/// Writes `records` as a pcapng capture. `platform` is the platform's own address; `started` is
/// the wall-clock time the records' durations count from.
pub fn write(out: &mut impl Write, records: &[WireRecord], platform: &str, started: SystemTime) -> io::Result<()> {
    // Section header: byte-order magic, version 1.0, section length unknown.
    let mut shb = Vec::new();
    shb.extend_from_slice(&0x1A2B_3C4Du32.to_le_bytes());
    shb.extend_from_slice(&1u16.to_le_bytes());
    shb.extend_from_slice(&0u16.to_le_bytes());
    shb.extend_from_slice(&(-1i64).to_le_bytes());
    block(out, 0x0A0D_0D0A, &shb)?;
    // Interface description: raw IPv4, no snap length limit.
    let mut idb = Vec::new();
    idb.extend_from_slice(&LINKTYPE_IPV4.to_le_bytes());
    idb.extend_from_slice(&0u16.to_le_bytes());
    idb.extend_from_slice(&0u32.to_le_bytes());
    block(out, 0x0000_0001, &idb)?;
    let base = started.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO);
    let pf = v4(platform);
    for r in records {
        let (src, dst) = match r.dir {
            WireDir::UeToPlatform => (v4(&r.peer), pf),
            WireDir::PlatformToUe => (pf, v4(&r.peer)),
        };
        let packet = ipv4_udp(src, dst, &r.bytes);
        let micros = (base + r.at).as_micros() as u64;
        let mut epb = Vec::new();
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&((micros >> 32) as u32).to_le_bytes());
        epb.extend_from_slice(&(micros as u32).to_le_bytes());
        epb.extend_from_slice(&(packet.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(packet.len() as u32).to_le_bytes());
        epb.extend_from_slice(&packet);
        let pad = epb.len().div_ceil(4) * 4 - epb.len();
        epb.extend(std::iter::repeat_n(0u8, pad));
        block(out, 0x0000_0006, &epb)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(dir: WireDir, bytes: &[u8], ms: u64) -> WireRecord {
        WireRecord { at: Duration::from_millis(ms), dir, peer: "127.0.0.1:40000".into(), bytes: bytes.to_vec() }
    }

    #[test]
    fn blocks_are_well_formed() {
        let mut out = Vec::new();
        let recs = [
            record(WireDir::UeToPlatform, &[0x40, 0, 0x12, 0x34], 1),
            record(WireDir::PlatformToUe, &[0x70, 0, 0x12, 0x34], 2),
        ];
        write(&mut out, &recs, "127.0.0.1:5683", UNIX_EPOCH).unwrap();
        let mut i = 0;
        let mut kinds = vec![];
        while i < out.len() {
            let kind = u32::from_le_bytes(out[i..i + 4].try_into().unwrap());
            let len = u32::from_le_bytes(out[i + 4..i + 8].try_into().unwrap()) as usize;
            assert_eq!(len % 4, 0);
            assert_eq!(
                u32::from_le_bytes(out[i + len - 4..i + len].try_into().unwrap()) as usize,
                len,
                "trailing length"
            );
            kinds.push(kind);
            i += len;
        }
        assert_eq!(kinds, [0x0A0D_0D0A, 1, 6, 6]);
    }

    #[test]
    fn the_ip_header_checksum_verifies() {
        let p = ipv4_udp("127.0.0.1:40000".parse().unwrap(), "127.0.0.1:5683".parse().unwrap(), b"x");
        assert_eq!(checksum(&p[..20]), 0, "a header with its checksum sums to zero");
        assert_eq!(u16::from_be_bytes([p[22], p[23]]), 5683);
    }
}
