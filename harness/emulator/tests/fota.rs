//! The module's FOTA (`client::fota`) against the mock platform's FOTA job, in virtual time: what
//! the suites cannot vary cheaply (block sizes, requests out of order, reads mid-download).

use miplcheck_lwm2m::package::Header;
use miplcheck_lwm2m::Path;
use miplcheck_platform::{FotaJob, OpOutcome, Operation, PlatformOptions};
use std::time::Duration;

mod common;
use common::*;

fn bench() -> Bench {
    let mut b = Bench::new(PlatformOptions { auto_observe: false, ..Default::default() });
    assert!(b.register().contains("+MIPLEVENT: 0,6"));
    b
}

fn read(b: &mut Bench, r: u16) -> (String, Vec<u8>) {
    let id = b.op(Operation::Read(Path::resource(5, 0, r)));
    answered(&b.pf, id)
}

fn summary(b: &Bench, id: miplcheck_platform::OpId) -> String {
    match b.pf.outcome(id) {
        OpOutcome::Answered { code, .. } => code,
        other => panic!("{other:?}"),
    }
}

/// With 16-byte blocks the header spans blocks: 40 only once it is read, the image whole.
#[test]
fn small_blocks_carry_the_header_over_several_blocks_and_the_module_reboots_into_it() {
    let mut b = bench();
    let package = Header::build("BC39", "BC39_V9", &[0x5A; 100]);
    let blocks = package.len().div_ceil(16);
    let job = FotaJob::new(package, "BC39_V9").with_block_size(16).unwrap();
    let id = b.op(Operation::Fota(job));
    b.run(Duration::from_secs(5));
    let seen = std::mem::take(&mut b.serial);
    assert_eq!(urc_lines(&seen), ["+MIPLEVENT: 0,40", "+MIPLEVENT: 0,42", "+MIPLEVENT: 0,43", "RDY"], "{seen}");
    // Back up: the TE sets up again and registers; the job ends with the new revision.
    assert!(b.register().contains("+MIPLEVENT: 0,44"));
    b.run(Duration::from_secs(5));
    let s = summary(&b, id);
    let bytes = b.pf.sota_report(id).unwrap().bytes;
    assert!(s.starts_with(&format!("fota {bytes} bytes in {blocks} blocks")), "{s}");
    assert!(s.ends_with("-> BC39_V9 result 1 erased"), "{s}");
    assert!(b.at("AT+CGMR").contains("Revision: BC39_V9"));
}

/// Object 5's State and Update Result read as LwM2M 1.0 gives them; an Update with nothing
/// downloaded is a bad request, as in the SDK.
#[test]
fn state_and_result_reads_and_an_update_with_nothing_downloaded() {
    let mut b = bench();
    assert_eq!(read(&mut b, 3), ("2.05".into(), b"0".to_vec()));
    assert_eq!(read(&mut b, 5), ("2.05".into(), b"0".to_vec()));
    let id = b.op(Operation::Execute { path: Path::resource(5, 0, 2), args: String::new() });
    assert_eq!(answered(&b.pf, id).0, "4.00");
    let id = b.op(Operation::Read(Path::resource(3, 0, 3)));
    assert_eq!(answered(&b.pf, id), ("2.05".into(), b"BC39NBR01A04_ONT".to_vec()));
    assert_eq!(b.serial, "", "the TE hears nothing of it");
}

/// A block that does not continue what the module holds is 4.08 (RFC 7959 §2.9.2); a download
/// left without blocks is interrupted (47) with Update Result 4, and State stays downloading.
#[test]
fn a_block_out_of_order_and_an_abandoned_download() {
    let mut b = bench();
    let put = |num: u32, more: bool, payload: Vec<u8>| {
        let mut p = coap_lite::Packet::new();
        p.header.code = coap_lite::MessageClass::Request(coap_lite::RequestType::Put);
        for s in ["5", "0", "0"] {
            p.add_option(coap_lite::CoapOption::UriPath, s.as_bytes().to_vec());
        }
        p.add_option(coap_lite::CoapOption::Block1, miplcheck_lwm2m::block::Block { num, more, szx: 4 }.encode());
        p.payload = payload;
        p
    };
    let package = Header::build("BC39", "V2", &[1; 600]);
    // Drive the module directly: the platform's own job never sends out of order.
    let send = |b: &mut Bench, p: coap_lite::Packet| {
        let mut p = p;
        p.header.set_type(coap_lite::MessageType::Confirmable);
        p.header.message_id = 40_000 + p.payload.len() as u16 + b.now.as_millis() as u16;
        p.set_token(vec![1, 2, p.payload.len() as u8]);
        let e = b.modem.datagram(SERVER, &p.to_bytes().unwrap(), b.now);
        b.take_serial(e);
        let out = b.modem.take_datagrams();
        coap_lite::Packet::from_bytes(&out.last().unwrap().bytes).unwrap()
    };
    let a = send(&mut b, put(0, true, package[..256].to_vec()));
    assert_eq!(a.header.code, coap_lite::MessageClass::Response(coap_lite::ResponseType::Continue));
    let a = send(&mut b, put(2, false, package[512..].to_vec()));
    assert_eq!(a.header.code, coap_lite::MessageClass::Response(coap_lite::ResponseType::RequestEntityIncomplete));
    b.serial.clear();
    b.run(Duration::from_secs(6));
    assert_eq!(urc_lines(&b.serial), ["+MIPLEVENT: 0,47"]);
    assert_eq!(read(&mut b, 3), ("2.05".into(), b"1".to_vec()), "still downloading, resumable");
    assert_eq!(read(&mut b, 5), ("2.05".into(), b"4".to_vec()), "connection lost");
}
