//! The M5310-A emulator against the mock platform in virtual time: M5310-A §1, §2 and the flows
//! of §5–§6, both sides checked.

mod common;
use common::*;

use miplcheck_at::cis_config::CisConfig;
use miplcheck_emulator::Options;
use miplcheck_lwm2m::{tlv, ContentFormat, Path};
use miplcheck_platform::{Operation, PlatformOptions};
use std::time::Duration;

fn bench() -> Bench {
    Bench::with(Options::for_dialect("m5310a"), PlatformOptions::default())
}

/// §6.2 with CREATEEX to the mock: object 3200 instance 0, resource list for discover, OPEN.
fn register(b: &mut Bench) -> String {
    assert!(b.at("AT+MIPLCREATEEX=\"127.0.0.1:5683\",0").contains("+MIPLCREATEEX:0"));
    assert!(b.at("AT+MIPLADDOBJ=0,3200,1,\"1\",0,1").ends_with("OK\r\n"));
    assert!(b.at("AT+MIPLDISCOVERRSP=0,3200,1,14,\"5500;5501;5750\"").ends_with("OK\r\n"));
    let mut out = b.at("AT+MIPLOPEN=0,3000,30");
    b.run(Duration::from_secs(1));
    out.push_str(&std::mem::take(&mut b.serial));
    out
}

#[test]
fn registration_auto_observe_and_discover_are_answered_by_the_module() {
    let mut b = bench();
    let out = register(&mut b);
    let lines = urc_lines(&out);
    // §5.3.2.4: registered, then the platform's observe, discover and read, each answered alone.
    assert_eq!(lines[..2], ["OK", "+MIPLEVENT:0,6"], "{out}");
    assert!(lines.iter().any(|l| l.starts_with("+MIPLOBSERVE:0,") && l.ends_with(",1,3200,0,-1")), "{out}");
    assert!(lines.iter().any(|l| l.starts_with("+MIPLDISCOVER:0,") && l.ends_with(",3200")), "{out}");
    assert!(lines.iter().any(|l| l.starts_with("+MIPLREAD:0,") && l.ends_with(",3,0,-1")), "{out}");
    let wire = b.wire_text().join("\n");
    assert!(wire.contains("</3200/0/5500>,</3200/0/5501>,</3200/0/5750>"), "the declared list answers: {wire}");
    assert_eq!(b.at("AT+MIPLOPEN?"), "\r\nOK\r\n\r\n+MIPLEVENT:0,6\r\n");
    assert!(b.at("AT+MIPLLTRDP").starts_with("\r\n+MIPLLTRDP:299"));
}

#[test]
fn notify_with_parts_hex_string_and_ackid() {
    let mut b = bench();
    register(&mut b);
    // §1.9: flag 1, 2, 0 collect one instance's resources into one TLV.
    assert_eq!(b.at("AT+MIPLNOTIFY=0,0,3200,0,5500,5,1,\"0\",2,1"), "\r\nOK\r\n");
    assert_eq!(b.at("AT+MIPLNOTIFY=0,0,3200,0,5501,3,3,\"-12\",1,2"), "\r\nOK\r\n");
    b.wire.clear();
    b.at("AT+MIPLNOTIFY=0,0,3200,0,5750,1,4,\"test\",0,0");
    let wire = b.wire_text().join("\n");
    assert!(wire.contains("NON 2.05") && wire.contains("5500=[00], 5501=[F4], 5750=\"test\""), "{wire}");
    // Type 6 goes up as a string; ackid brings event 26 with it.
    b.wire.clear();
    let out = b.at("AT+MIPLNOTIFY=0,0,3200,0,5750,6,8,\"61626364\",0,0,147");
    assert!(out.ends_with("+MIPLEVENT:0,26,147\r\n"), "{out}");
    assert!(b.wire_text().join("\n").contains("CON 2.05"), "{:?}", b.wire_text());
}

#[test]
fn read_write_execute_in_mode_0_and_nsmi() {
    let mut b = bench();
    register(&mut b);
    assert_eq!(b.at("AT+MIPLNMI=0,0,1"), "\r\nOK\r\n");
    b.at("AT+MIPLNOTIFY=0,0,3200,0,5750,1,4,\"test\",0,0");
    b.serial.clear();
    let id = b.op(Operation::Read(Path::resource(3200, 0, 5750)));
    let urc = std::mem::take(&mut b.serial);
    let mid: u16 = urc.trim().strip_prefix("+MIPLREAD:0,").unwrap().split(',').next().unwrap().parse().unwrap();
    let out = b.at(&format!("AT+MIPLREADRSP=0,{mid},1,3200,0,5750,1,4,\"abcd\",0,0"));
    assert_eq!(out, format!("\r\nOK\r\n\r\n+MIPLNSMI=0,1,{}\r\n", mid & 127));
    assert_eq!(answered(&b.pf, id).1, b"abcd");
    // A write of a declared string shows as a string (§1.12).
    let id = b.op(Operation::Write {
        path: Path::instance(3200, 0),
        format: ContentFormat::Tlv,
        payload: tlv::encode(&[tlv::Tlv::resource(5750, b"xyz".to_vec())]),
    });
    let urc = std::mem::take(&mut b.serial);
    assert!(urc.contains(",3200,0,5750,1,3,xyz,0,0"), "{urc}");
    let mid = urc.trim().strip_prefix("+MIPLWRITE:0,").unwrap().split(',').next().unwrap().to_string();
    b.at(&format!("AT+MIPLWRITERSP=0,{mid},2"));
    assert_eq!(answered(&b.pf, id).0, "2.04");
}

#[test]
fn mode_1_queues_until_fetched_and_answered() {
    let mut b = bench();
    register(&mut b);
    b.at("AT+MIPLNMI=0,1,0");
    b.serial.clear();
    b.op(Operation::Read(Path::instance(3200, 0)));
    assert_eq!(std::mem::take(&mut b.serial), "\r\n+MIPLNMI:0\r\n");
    assert_eq!(b.at("AT+MIPLQMGR=0"), "\r\n+MIPLQMGR:0,QUEUES=1,DROPPED=0,BUFFERS=0\r\n\r\nOK\r\n");
    let got = b.at("AT+MIPLMGR=0");
    assert!(got.starts_with("\r\n+MIPLREAD:0,") && got.ends_with(",3200,0,-1\r\n\r\nOK\r\n"), "{got}");
    assert_eq!(b.at("AT+MIPLMGR=0"), got, "the same operation until it is answered");
    let mid = got.trim().strip_prefix("+MIPLREAD:0,").unwrap().split(',').next().unwrap().to_string();
    b.at(&format!("AT+MIPLREADRSP=0,{mid},13"));
    assert_eq!(b.at("AT+MIPLMGR=0"), "\r\nOK\r\n");
}

#[test]
fn errors_are_cis_errors() {
    let mut b = bench();
    assert_eq!(b.at("AT+MIPLOPEN?"), "\r\n+CIS ERROR:602\r\n");
    assert_eq!(b.at("AT+MIPLOPEN=0,300"), "\r\n+CIS ERROR:653\r\n", "no device");
    b.at("AT+MIPLCREATE");
    assert_eq!(b.at("AT+MIPLCREATE"), "\r\n+CIS ERROR:653\r\n", "exists");
    assert_eq!(b.at("AT+MIPLADDOBJ=0,3200,2,\"1\",0,1"), "\r\n+CIS ERROR:601\r\n", "bitmap of 1 for 2");
    assert_eq!(b.at("AT+MIPLDELOBJ=0,3200"), "\r\n+CIS ERROR:653\r\n");
    assert_eq!(b.at("AT+MIPLMGR=0"), "\r\n+CIS ERROR:602\r\n");
    assert_eq!(b.at("AT+MIPLDEVINFO?"), "\r\n+MIPLDEVINFO:\"nbiotbt.heclouds.com:5683\",1\r\n\r\nOK\r\n");
}

#[test]
fn a_configuration_stream_in_two_fragments_creates_the_device() {
    let mut b = bench();
    let mut cfg = CisConfig::new("127.0.0.1:5683", false);
    cfg.userdata = "AuthCode:cmiot;".into();
    let hex = cfg.to_hex();
    let total = hex.len() / 2;
    let (a, z) = hex.split_at(20);
    assert_eq!(b.at(&format!("AT+MIPLCREATE={total},{a},1,10,1")), "\r\nOK\r\n");
    assert_eq!(b.at(&format!("AT+MIPLCREATE={total},{z},0,{},0", total - 10)), "\r\n+MIPLCREATE:0\r\n\r\nOK\r\n");
    assert_eq!(b.at("AT+MIPLDEVINFO?"), "\r\n+MIPLDEVINFO:\"127.0.0.1:5683\",0,\"cmiot\"\r\n\r\nOK\r\n");
}

#[test]
fn close_reports_15_and_the_quirk_reports_20() {
    let mut b = bench();
    register(&mut b);
    assert_eq!(b.at("AT+MIPLCLOSE=0"), "\r\nOK\r\n\r\n+MIPLEVENT:0,15\r\n");
    let mut o = Options::for_dialect("m5310a");
    o.quirks.events.insert("deregistered".into(), 20);
    let mut q = Bench::with(o, PlatformOptions::default());
    register(&mut q);
    assert_eq!(q.at("AT+MIPLCLOSE=0"), "\r\nOK\r\n\r\n+MIPLEVENT:0,20\r\n");
}

/// §4.2 event 31: the platform deleted the device, and its update says so with 4.04.
#[test]
fn an_update_the_platform_answers_4_04_reports_31_and_ends_the_registration() {
    let mut b = bench();
    register(&mut b);
    b.pf.delete_device(None, b.now).unwrap();
    assert_eq!(b.at("AT+MIPLUPDATE=0,3000,0"), "\r\nOK\r\n\r\n+MIPLEVENT:0,31\r\n");
    assert_eq!(b.at("AT+MIPLUPDATE=0,3000,0"), "\r\n+CIS ERROR:602\r\n", "not registered any more");
}

#[test]
fn automatic_update_30_s_before_the_lifetime_ends() {
    let mut b = bench();
    b.at("AT+MIPLCREATEEX=\"127.0.0.1:5683\",0");
    b.at("AT+MIPLADDOBJ=0,3200,1,\"1\",0,1");
    assert_eq!(b.at("AT+MIPLUPDATESET=0,1"), "\r\nOK\r\n");
    b.at("AT+MIPLOPEN=0,120,30");
    b.serial.clear();
    b.run(Duration::from_secs(89));
    assert!(!b.serial.contains("+MIPLEVENT:0,11"), "{}", b.serial);
    b.run(Duration::from_secs(2));
    assert!(b.serial.contains("+MIPLEVENT:0,11"), "{}", b.serial);
}

#[test]
fn bootstrap_then_register_and_devinfo_names_the_new_server() {
    let mut b = Bench::with(
        Options::for_dialect("m5310a"),
        PlatformOptions { server_uri: "coap://127.0.0.1:5683".into(), ..PlatformOptions::default() },
    );
    b.at("AT+MIPLCREATEEX=\"127.0.0.1:5683\",1");
    b.at("AT+MIPLADDOBJ=0,3200,1,\"1\",0,1");
    let mut s = b.at("AT+MIPLOPEN=0,300");
    b.run(Duration::from_secs(1));
    s.push_str(&std::mem::take(&mut b.serial));
    assert!(s.contains("+MIPLEVENT:0,2\r\n\r\n+MIPLEVENT:0,6"), "{s}");
    assert_eq!(b.at("AT+MIPLDEVINFO?"), "\r\n+MIPLDEVINFO:\"127.0.0.1:5683\",0\r\n\r\nOK\r\n");
}

#[test]
fn notify_mid_names_the_observation_and_an_unknown_one_is_refused() {
    let mut b = bench();
    register(&mut b);
    b.op(Operation::Observe(Path::resource(3200, 0, 5750)));
    let out = std::mem::take(&mut b.serial);
    let line = urc_lines(&out).into_iter().find(|l| l.starts_with("+MIPLOBSERVE:")).expect(&out).to_string();
    let resource: u32 = line.split(',').nth(1).unwrap().parse().unwrap();
    let (inst, res) = (Path::instance(3200, 0), Path::resource(3200, 0, 5750));
    let count = |b: &Bench| (b.pf.notifications(&inst).len(), b.pf.notifications(&res).len());
    let before = count(&b);
    // §1.9's examples send 0: the module finds the narrowest observation.
    assert!(b.at("AT+MIPLNOTIFY=0,0,3200,0,5750,1,4,\"test\",0,0").ends_with("OK\r\n"));
    assert_eq!(count(&b), (before.0, before.1 + 1));
    // §1.9: <mid> is the observe's; one never given out is refused (§3.1 653).
    assert!(b.at("AT+MIPLNOTIFY=0,4242,3200,0,5750,1,4,\"test\",0,0").contains("+CIS ERROR:653"));
    b.op(Operation::CancelObserve(res));
    b.serial.clear();
    let sent = b.wire.len();
    let out = b.at(&format!("AT+MIPLNOTIFY=0,{resource},3200,0,5750,1,4,\"test\",0,0"));
    assert!(out.contains("+CIS ERROR:653"), "a cancelled mid: {out}");
    assert_eq!(b.wire.len(), sent);
    assert!(b.at("AT+MIPLNOTIFY=0,0,3200,0,5750,1,4,\"test\",0,0").ends_with("OK\r\n"));
    assert_eq!(count(&b).0, before.0 + 1, "0 now finds the instance's");
}

#[rstest::rstest]
#[case(false, "+CIS ERROR:601")]
#[case(true, "OK")]
fn a_trailing_semicolon_in_the_discover_list_is_a_quirk(#[case] lenient: bool, #[case] want: &str) {
    let mut o = Options::for_dialect("m5310a");
    o.quirks.discover_list_trailing_semicolon = lenient;
    let mut b = Bench::with(o, PlatformOptions::default());
    assert!(b.at("AT+MIPLCREATEEX=\"127.0.0.1:5683\",0").contains("+MIPLCREATEEX:0"));
    assert!(b.at("AT+MIPLADDOBJ=0,3200,1,\"1\",0,1").ends_with("OK\r\n"));
    let r = b.at("AT+MIPLDISCOVERRSP=0,3200,1,15,\"5500;5501;5750;\"");
    assert!(r.contains(want), "{r}");
}
