//! The BC39 emulator's network side against the mock platform, wired together in virtual time:
//! the manual's §5 flows, both sides checked.

use miplcheck_emulator::{Modem, Options};
use miplcheck_lwm2m::{tlv, ContentFormat, Path};
use miplcheck_platform::{OpOutcome, Operation, PlatformOptions};
use std::time::Duration;

mod common;
use common::*;

#[test]
fn register_observe_discover_as_in_section_5_2_2() {
    let mut b = Bench::new(PlatformOptions::default());
    let out = b.register();
    let lines = urc_lines(&out);
    assert_eq!(lines[0], "OK");
    assert_eq!(&lines[1..3], ["+MIPLEVENT: 0,4", "+MIPLEVENT: 0,6"]);
    assert!(lines[3].starts_with("+MIPLOBSERVE: 0,") && lines[3].ends_with(",1,3311,0,-1"), "{lines:?}");
    assert!(lines[4].ends_with(",1,3311,1,-1"), "{lines:?}");
    assert!(lines[5].starts_with("+MIPLDISCOVER: 0,") && lines[5].ends_with(",3311"), "{lines:?}");
    assert_eq!(lines.len(), 6, "the /3/0 read is answered by the module: {lines:?}");
    // (counter << 16) | MID for observes.
    let first: u32 = lines[3].split(',').nth(1).unwrap().parse().unwrap();
    assert_eq!(first >> 16, 1);
    let wire = b.wire_text();
    assert!(
        wire[0].starts_with("UE→PF CON POST /rd?lwm2m=1.0&ep=866971030000001;460040000000001&b=U&lt=600"),
        "{wire:?}"
    );
    assert!(wire[0].ends_with("cf=link-format </>;rt=\"oma.lwm2m\",</3311/0>,</3311/1>"), "{wire:?}");
    assert!(
        wire.iter().any(|w| w.starts_with("UE→PF ACK 2.05") && w.contains("cf=tlv-old(1542) 0=\"Quectel\"")),
        "{wire:?}"
    );

    // §5.2.1: answer the discover.
    let mid: u32 = lines[5].split(',').nth(1).unwrap().parse().unwrap();
    let before = b.wire.len();
    assert!(b.at(&format!("AT+MIPLDISCOVERRSP=0,{mid},1,19,\"5850;5851;5706;5805\"")).contains("OK"));
    let wire = b.wire_text();
    assert!(
        wire[before].ends_with("cf=link-format </3311>,</3311/0/5850>,</3311/0/5851>,</3311/0/5706>,</3311/0/5805>,</3311/1/5850>,</3311/1/5851>,</3311/1/5706>,</3311/1/5805>"),
        "{:?}",
        &wire[before..]
    );
    assert!(
        b.at(&format!("AT+MIPLDISCOVERRSP=0,{mid},1,19,\"5850;5851;5706;5805\"")).contains("+CME ERROR: 50"),
        "answered once"
    );
}

#[test]
fn bootstrap_then_register_reports_1_2_4_6() {
    let mut b = Bench::new(PlatformOptions { auto_observe: false, ..Default::default() });
    b.at("AT+MIPLCONFIG=1,127.0.0.1,5683");
    b.at("AT+MIPLCREATE");
    b.at("AT+MIPLADDOBJ=0,3303,1,\"1\",4,2");
    let out = b.at("AT+MIPLOPEN=0,86400,60");
    assert_eq!(urc_lines(&out), ["OK", "+MIPLEVENT: 0,1", "+MIPLEVENT: 0,2", "+MIPLEVENT: 0,4", "+MIPLEVENT: 0,6"]);
    let wire = b.wire_text();
    assert!(wire[0].starts_with("UE→PF CON POST /bs?ep="), "{wire:?}");
    assert!(wire.iter().any(|w| w.starts_with("PF→UE CON PUT /0/1")), "{wire:?}");
}

#[test]
fn a_wrong_auth_code_fails_registration_with_event_7() {
    let mut b = Bench::new(PlatformOptions { auth_code: Some("Quectel123".into()), ..Default::default() });
    b.at("AT+MIPLCONFIG=4,1,\"Wrong999\"");
    let out = b.register();
    assert_eq!(urc_lines(&out), ["OK", "+MIPLEVENT: 0,4", "+MIPLEVENT: 0,7"]);
    assert!(b.pf.devices().is_empty());
}

#[test]
fn reads_of_a_resource_an_instance_and_an_object() {
    let mut b = Bench::new(PlatformOptions { auto_observe: false, ..Default::default() });
    b.register();
    // §5.3.1: one resource as text.
    let id = b.op(Operation::Read(Path::resource(3311, 0, 5805)));
    let urc = std::mem::take(&mut b.serial);
    assert!(urc.contains("+MIPLREAD: 0,") && urc.contains(",3311,0,5805"), "{urc}");
    let mid: u32 = urc.trim().split(',').nth(1).unwrap().parse().unwrap();
    assert!(b.at(&format!("AT+MIPLREADRSP=0,{mid},1,3311,0,5805,4,4,1.88,0,0")).contains("OK"));
    assert_eq!(answered(&b.pf, id), ("2.05".to_string(), b"1.88".to_vec()));
    // §5.3.2: an instance in four parts, index 3 … 0, packed into one TLV.
    let id = b.op(Operation::Read(Path::instance(3311, 0)));
    let urc = std::mem::take(&mut b.serial);
    assert!(urc.contains(",3311,0,-1"), "{urc}");
    let mid: u32 = urc.trim().split(',').nth(1).unwrap().parse().unwrap();
    for (line, last) in [
        (format!("AT+MIPLREADRSP=0,{mid},1,3311,0,5851,5,1,1,3,0"), false),
        (format!("AT+MIPLREADRSP=0,{mid},1,3311,0,5852,3,2,123,2,0"), false),
        (format!("AT+MIPLREADRSP=0,{mid},1,3311,0,5706,1,10,\"1234567890\",1,0"), false),
        (format!("AT+MIPLREADRSP=0,{mid},1,3311,0,5805,4,4,1.88,0,0"), true),
    ] {
        assert!(b.at(&line).contains("OK"), "{line}");
        assert_eq!(!matches!(b.pf.outcome(id), OpOutcome::Pending), last);
    }
    let (code, payload) = answered(&b.pf, id);
    assert_eq!(code, "2.05");
    let t = tlv::decode(&payload).unwrap();
    assert_eq!(t.iter().map(|r| r.id).collect::<Vec<_>>(), [5851, 5852, 5706, 5805]);
    assert_eq!(tlv::read_int(t[1].bytes().unwrap()), Some(123));
    assert_eq!(t[2].bytes().unwrap(), b"1234567890");
    // §5.3.3: an object: instances with their resources.
    let id = b.op(Operation::Read(Path::object(3311)));
    let mid: u32 = std::mem::take(&mut b.serial).trim().split(',').nth(1).unwrap().parse().unwrap();
    b.at(&format!("AT+MIPLREADRSP=0,{mid},1,3311,0,5851,5,1,1,1,0"));
    b.at(&format!("AT+MIPLREADRSP=0,{mid},1,3311,1,5851,5,1,0,0,0"));
    let t = tlv::decode(&answered(&b.pf, id).1).unwrap();
    assert_eq!((t.len(), t[1].id, t[1].children()[0].bytes().unwrap()), (2, 1, &[0u8][..]));
    // A refusal maps to its CoAP code (§3.2.11: 13 → 4.04).
    let id = b.op(Operation::Read(Path::resource(3311, 0, 9999)));
    let mid: u32 = std::mem::take(&mut b.serial).trim().split(',').nth(1).unwrap().parse().unwrap();
    b.at(&format!("AT+MIPLREADRSP=0,{mid},13"));
    assert_eq!(answered(&b.pf, id).0, "4.04");
}

#[test]
fn writes_execute_and_write_attributes() {
    let mut b = Bench::new(PlatformOptions { auto_observe: false, ..Default::default() });
    b.register();
    // §5.4.1: one resource, shown in hex (write format 0).
    let id = b.op(Operation::Write {
        path: Path::resource(3311, 0, 5706),
        format: ContentFormat::Text,
        payload: b"hello".to_vec(),
    });
    let urc = std::mem::take(&mut b.serial);
    let mid: u32 = urc.trim().split(',').nth(1).unwrap().parse().unwrap();
    assert_eq!(urc.trim(), format!("+MIPLWRITE: 0,{mid},3311,0,5706,2,5,68656C6C6F,0,0"));
    b.at(&format!("AT+MIPLWRITERSP=0,{mid},2"));
    assert_eq!(answered(&b.pf, id).0, "2.04");
    // §5.4.2: an instance: one URC per resource, index 2 … 0.
    let body = tlv::encode(&[
        tlv::Tlv::resource(5706, b"hello".to_vec()),
        tlv::Tlv::resource(5850, vec![1]),
        tlv::Tlv::resource(5851, vec![0, 0, 0, 2, 0xDF, 0xDC, 0x1C, 0x3E]),
    ]);
    b.op(Operation::Write { path: Path::instance(3311, 0), format: ContentFormat::Tlv, payload: body });
    let urcs = std::mem::take(&mut b.serial);
    let lines = urc_lines(&urcs);
    assert_eq!(lines.len(), 3);
    assert!(
        lines[0].ends_with(",3311,0,5706,2,5,68656C6C6F,0,2")
            && lines[2].ends_with(",3311,0,5851,2,8,00000002DFDC1C3E,0,0"),
        "{lines:?}"
    );
    // §5.5: execute with arguments.
    b.op(Operation::Execute { path: Path::resource(3303, 0, 5605), args: "reset".into() });
    let urc = std::mem::take(&mut b.serial);
    assert!(urc.trim().ends_with(",3303,0,5605,5,\"reset\""), "{urc}");
    // §5.6: write-attributes.
    b.op(Operation::WriteAttributes {
        path: Path::resource(3303, 0, 5700),
        query: "pmin=2&pmax=190&gt=100.0&lt=1.0&st=0.2".into(),
    });
    let urc = std::mem::take(&mut b.serial);
    assert!(urc.trim().ends_with(",3303,0,5700,38,\"pmin=2;pmax=190;gt=100.0;lt=1.0;st=0.2\""), "{urc}");
}

#[test]
fn notify_non_and_con_with_rai_and_cscon() {
    let mut b = Bench::new(PlatformOptions::default());
    b.register();
    b.run(Duration::from_secs(30)); // the radio goes idle: +CSCON reports are off, so nothing shows
    b.at("AT+CSCON=1");
    // §5.8.1: NON on the observation of /3311/0.
    let out = b.at("AT+MIPLNOTIFY=0,122179,3311,0,5700,4,4,25.6,0,0");
    assert_eq!(urc_lines(&out), ["OK", "+CSCON:1"]);
    // The observation's first answer (observe=0), then this notification (observe=1).
    let notes = b.pf.notifications(&Path::instance(3311, 0));
    assert_eq!(notes.len(), 2);
    assert_eq!(notes[1].get_observe_value().and_then(Result::ok), Some(1));
    let wire = b.wire_text();
    assert!(
        wire.last().unwrap().starts_with("UE→PF NON 2.05")
            && wire.last().unwrap().contains("observe=1 cf=tlv-old(1542) 5700=[41 CC CC CD]"),
        "{wire:?}"
    );
    b.run(Duration::from_secs(30));
    // §5.8.5: CON with RAI 0x400: +CSCON:1, the ACK gives event 26, then the radio is released.
    let out = b.at("AT+MIPLNOTIFY=0,307353,3311,1,5701,1,3,\"Cel\",0,0,256,0x400");
    let lines = urc_lines(&out);
    assert_eq!(lines[0], "OK");
    let mut rest = lines[1..].to_vec();
    rest.sort_unstable();
    assert_eq!(rest, ["+CSCON:0", "+CSCON:1", "+MIPLEVENT: 0,26,256"], "order not fixed (§5.8.5 note)");
    // 0x200 cannot go with an ackid (§3.2.15).
    assert!(b.at("AT+MIPLNOTIFY=0,1,3311,1,5701,1,3,\"Cel\",0,0,257,0x200").contains("+CME ERROR: 50"));
    // A declared length that does not fit the value is refused.
    assert!(b.at("AT+MIPLNOTIFY=0,1,3311,1,5701,1,4,\"Cel\",0,0").contains("+CME ERROR: 50"));
}

#[test]
fn update_and_close() {
    let mut b = Bench::new(PlatformOptions { auto_observe: false, ..Default::default() });
    b.register();
    assert_eq!(urc_lines(&b.at("AT+MIPLUPDATE=0,86400,0")), ["OK", "+MIPLEVENT: 0,11"]);
    assert_eq!(b.pf.devices()[0].lifetime, 86400);
    b.at("AT+MIPLUPDATE=0,0,1");
    assert_eq!(b.pf.devices()[0].updates, 2);
    assert!(b.at("AT+MIPLUPDATE=0,86400,0,0x200").contains("+CME ERROR: 50"), "0x200 is not allowed for an update");
    assert_eq!(urc_lines(&b.at("AT+MIPLCLOSE=0")), ["OK", "+MIPLEVENT: 0,15"]);
    assert!(b.pf.devices().is_empty());
}

#[test]
fn a_platform_that_never_answers_times_registration_out() {
    let mut o = Options::for_dialect("bc39");
    o.echo = false;
    let mut m = Modem::new(o).unwrap();
    for cmd in
        ["AT+MIPLCONFIG=0,127.0.0.1,5683", "AT+MIPLCREATE", "AT+MIPLADDOBJ=0,3311,1,\"1\",1,0", "AT+MIPLOPEN=0,600,30"]
    {
        m.input(format!("{cmd}\r").as_bytes(), Duration::ZERO);
    }
    let mut seen = String::new();
    let mut now = Duration::ZERO;
    while let Some(t) = m.next_deadline() {
        now = t;
        for e in m.poll(now) {
            seen.push_str(&String::from_utf8_lossy(&e.bytes));
        }
        m.take_datagrams();
        if seen.contains("+MIPLEVENT: 0,8") || now > Duration::from_secs(600) {
            break;
        }
    }
    assert!(seen.contains("+MIPLEVENT: 0,8"), "{seen}");
    assert_eq!(now, Duration::from_secs(30), "the <timeout> of AT+MIPLOPEN");
}

#[test]
fn update_needed_then_lifetime_expiry() {
    let mut b = Bench::new(PlatformOptions { auto_observe: false, ..Default::default() });
    b.at("AT+MIPLCONFIG=0,127.0.0.1,5683");
    b.at("AT+MIPLCREATE");
    b.at("AT+MIPLADDOBJ=0,3311,1,\"1\",4,2");
    b.at("AT+MIPLOPEN=0,100,60");
    b.serial.clear();
    // 30 s before the 100 s lifetime ends: event 14 with the seconds left (BC39 §4.7 <extend>).
    b.run(Duration::from_secs(69));
    assert_eq!(urc_lines(&std::mem::take(&mut b.serial)), Vec::<&str>::new());
    b.run(Duration::from_secs(2));
    assert_eq!(urc_lines(&std::mem::take(&mut b.serial)), ["+MIPLEVENT: 0,14,30"]);
    // An update renews the lifetime; without one, the lifetime ends with event 9.
    assert_eq!(urc_lines(&b.at("AT+MIPLUPDATE=0,100,0")), ["OK", "+MIPLEVENT: 0,11"]);
    b.run(Duration::from_secs(80));
    assert_eq!(urc_lines(&std::mem::take(&mut b.serial)), ["+MIPLEVENT: 0,14,30"]);
    b.run(Duration::from_secs(40));
    assert_eq!(urc_lines(&std::mem::take(&mut b.serial)), ["+MIPLEVENT: 0,9"]);
    assert!(b.at("AT+MIPLNOTIFY=0,0,3311,0,5700,4,4,25.6,0,0").contains("+CME ERROR"), "no longer registered");
}

#[test]
fn an_unacknowledged_con_notification_reports_25() {
    let mut b = Bench::new(PlatformOptions::default());
    b.register();
    b.serial.clear();
    // The platform goes silent: the CON is re-sent MAX_RETRANSMIT times, then event 25.
    let e = b.modem.input(b"AT+MIPLNOTIFY=0,0,3311,0,5700,4,4,25.6,0,0,300\r", b.now);
    b.take_serial(e);
    assert_eq!(b.modem.take_datagrams().len(), 1, "the notification itself, which the platform never sees");
    let mut now = b.now;
    let mut resent = 0;
    while let Some(t) = b.modem.next_deadline() {
        now = t;
        let e = b.modem.poll(now);
        b.take_serial(e);
        // Only the notification's re-sends: the auto-observe's discover, which nobody answers,
        // is ACKed empty after the TE's 10 s (BC39 §4.3).
        let notification = |d: &[u8]| coap_lite::Packet::from_bytes(d).is_ok_and(|p| !p.payload.is_empty());
        resent += b.modem.take_datagrams().iter().filter(|d| notification(&d.bytes)).count();
        if b.serial.contains("+MIPLEVENT: 0,25,300") || now > Duration::from_secs(300) {
            break;
        }
    }
    assert!(b.serial.contains("+MIPLEVENT: 0,25,300"), "{}", b.serial);
    assert_eq!(resent, 4, "MAX_RETRANSMIT re-sends before giving up");
    assert!(now >= Duration::from_secs(62), "ACK_TIMEOUT 2 s × 31 at least: {now:?}");
}

#[test]
fn update_refused_is_12_and_unanswered_is_13() {
    let mut b = Bench::new(PlatformOptions { auto_observe: false, ..Default::default() });
    b.register();
    // The platform forgets the device: its update gets 4.04, event 12 (BC39 §4.7).
    let loc = b.pf.devices()[0].location.clone();
    let mut del = coap_lite::Packet::new();
    del.header.set_type(coap_lite::MessageType::Confirmable);
    del.header.code = coap_lite::MessageClass::Request(coap_lite::RequestType::Delete);
    for seg in loc.split('/') {
        del.add_option(coap_lite::CoapOption::UriPath, seg.as_bytes().to_vec());
    }
    del.header.message_id = 9;
    b.pf.on_datagram("other".to_string(), &del.to_bytes().unwrap(), b.now);
    assert!(b.pf.devices().is_empty());
    assert_eq!(urc_lines(&b.at("AT+MIPLUPDATE=0,600,0")), ["OK", "+MIPLEVENT: 0,12"]);
    // A 4.04 says the registration is gone (LwM2M 1.0 §8.2.5): nothing is left to update.
    assert!(b.at("AT+MIPLUPDATE=0,600,0").contains("+CME ERROR: 3"));
    // No platform at all: the update is re-sent, then times out with event 13.
    let mut b = Bench::new(PlatformOptions { auto_observe: false, ..Default::default() });
    b.register();
    b.serial.clear();
    let e = b.modem.input(b"AT+MIPLUPDATE=0,600,0\r", b.now);
    b.take_serial(e);
    b.modem.take_datagrams();
    while let Some(t) = b.modem.next_deadline() {
        let e = b.modem.poll(t);
        b.take_serial(e);
        b.modem.take_datagrams();
        if b.serial.contains("+MIPLEVENT: 0,13") || t > Duration::from_secs(300) {
            break;
        }
    }
    assert!(b.serial.contains("+MIPLEVENT: 0,13"), "{}", b.serial);
}

/// The message ID of the last `+MIPLOBSERVE` in `out`.
fn observe_id(out: &str) -> u32 {
    let line = urc_lines(out).into_iter().rev().find(|l| l.starts_with("+MIPLOBSERVE:")).expect(out);
    line.split(',').nth(1).unwrap().parse().unwrap()
}

#[test]
fn notify_goes_out_on_the_observation_its_msgid_names() {
    let mut b = Bench::new(PlatformOptions::default());
    let out = b.register();
    let instance = observe_id(&urc_lines(&out)[..4].join("\r\n"));
    b.op(Operation::Observe(Path::resource(3311, 0, 5805)));
    let resource = observe_id(&std::mem::take(&mut b.serial));
    let (inst, res) = (Path::instance(3311, 0), Path::resource(3311, 0, 5805));
    let count = |b: &Bench| (b.pf.notifications(&inst).len(), b.pf.notifications(&res).len());
    let before = count(&b);
    // §5.8: the msgId +MIPLOBSERVE gave picks the observation, overlapping or not.
    assert!(b.at(&format!("AT+MIPLNOTIFY=0,{instance},3311,0,5805,4,4,1.5,0,0")).contains("OK"));
    assert_eq!(count(&b), (before.0 + 1, before.1));
    assert!(b.at(&format!("AT+MIPLNOTIFY=0,{resource},3311,0,5805,4,4,1.5,0,0")).contains("OK"));
    assert_eq!(count(&b), (before.0 + 1, before.1 + 1));
    // §3.2.15 advises 0: the module finds the narrowest observation holding the resource.
    assert!(b.at("AT+MIPLNOTIFY=0,0,3311,0,5805,4,4,1.5,0,0").contains("OK"));
    assert_eq!(count(&b), (before.0 + 1, before.1 + 2));
    // A msgId naming an observation that does not hold the resource is refused.
    assert!(b.at(&format!("AT+MIPLNOTIFY=0,{resource},3311,0,5700,4,4,1.5,0,0")).contains("+CME ERROR: 3"));
    b.op(Operation::CancelObserve(res));
    b.serial.clear();
    let sent = b.wire.len();
    let out = b.at(&format!("AT+MIPLNOTIFY=0,{resource},3311,0,5805,4,4,1.5,0,0"));
    assert!(out.contains("+CME ERROR: 50"), "a cancelled msgId: {out}");
    assert_eq!(b.wire.len(), sent, "nothing went out on another observation");
    assert_eq!(count(&b).0, before.0 + 1);
}

/// The module's own answer to a `GET /3/0` asking for `accept`: (code, Content-Format).
fn device_read(b: &mut Bench, accept: Option<u16>) -> (String, Option<u16>) {
    use coap_lite::{CoapOption, MessageClass, MessageType, Packet, RequestType};
    let mut p = Packet::new();
    p.header.set_type(MessageType::Confirmable);
    p.header.code = MessageClass::Request(RequestType::Get);
    p.header.message_id = 0x7100 + accept.unwrap_or(1);
    p.set_token(vec![0x71, accept.map_or(0, |a| a as u8)]);
    p.add_option(CoapOption::UriPath, b"3".to_vec());
    p.add_option(CoapOption::UriPath, b"0".to_vec());
    if let Some(a) = accept {
        p.add_option(CoapOption::Accept, a.to_be_bytes().to_vec());
    }
    let e = b.modem.datagram(SERVER, &p.to_bytes().unwrap(), b.now);
    b.take_serial(e);
    let out = b.modem.take_datagrams().pop().expect("an answer");
    let r = Packet::from_bytes(&out.bytes).unwrap();
    let cf = miplcheck_lwm2m::wire::number(&r, CoapOption::ContentFormat);
    (r.header.code.to_string(), cf)
}

#[test]
fn tlv_goes_out_as_1542_unless_accept_asks_for_11542_and_an_unservable_accept_is_4_06() {
    let mut b = Bench::new(PlatformOptions { auto_observe: false, ..Default::default() });
    b.register();
    assert_eq!(device_read(&mut b, None), ("2.05".into(), Some(1542)));
    assert_eq!(device_read(&mut b, Some(11542)), ("2.05".into(), Some(11542)));
    assert_eq!(device_read(&mut b, Some(1542)), ("2.05".into(), Some(1542)));
    assert_eq!(device_read(&mut b, Some(0)), ("4.06".into(), None));
}

#[test]
fn quirks_change_the_tlv_number_and_ignore_accept() {
    let mut o = Options::for_dialect("bc39");
    o.quirks.tlv_format = Some(miplcheck_emulator::quirks::TlvFormat::Tlv);
    o.quirks.ignore_accept = true;
    let mut b = Bench::with(o, PlatformOptions { auto_observe: false, ..Default::default() });
    b.register();
    assert_eq!(device_read(&mut b, None), ("2.05".into(), Some(11542)));
    assert_eq!(device_read(&mut b, Some(0)), ("2.05".into(), Some(11542)));
    assert_eq!(device_read(&mut b, Some(1542)), ("2.05".into(), Some(11542)));
}

#[rstest::rstest]
#[case(false, "+CME ERROR: 50", "+CME ERROR: 50")]
#[case(true, "OK", "OK")]
fn strictness_quirks_trailing_semicolon_and_answered_observe(
    #[case] lenient: bool,
    #[case] discover: &str,
    #[case] observe: &str,
) {
    let mut o = Options::for_dialect("bc39");
    o.quirks.discover_list_trailing_semicolon = lenient;
    o.quirks.accept_answered_observe = lenient;
    let mut b = Bench::with(o, PlatformOptions::default());
    b.at("AT+MIPLCONFIG=3,1");
    let out = b.register();
    let lines = urc_lines(&out);
    let obs: u32 = lines[3].split(',').nth(1).unwrap().parse().unwrap();
    let disc: u32 = lines[5].split(',').nth(1).unwrap().parse().unwrap();
    let r = b.at(&format!("AT+MIPLOBSERVERSP=0,{obs},1"));
    assert!(r.contains(observe), "{r}");
    let r = b.at(&format!("AT+MIPLDISCOVERRSP=0,{disc},1,10,\"5850;5851;\""));
    assert!(r.contains(discover), "{r}");
    let wire = b.wire_text().join("\n");
    assert_eq!(wire.contains("</3311/0/5850>,</3311/0/5851>"), lenient, "{wire}");
}

#[test]
fn the_radio_going_off_stops_the_instance_with_event_10() {
    let mut b = Bench::new(PlatformOptions { auto_observe: false, ..Default::default() });
    b.register();
    b.serial.clear();
    assert_eq!(urc_lines(&b.at("AT+CFUN=0")), ["OK", "+MIPLEVENT: 0,10"]);
    // Stopped: nothing goes out, nothing is timed, only deleting is left (BC39 §4.7 停止状态).
    assert!(b.modem.take_datagrams().is_empty());
    b.run(Duration::from_secs(700));
    assert_eq!(urc_lines(&std::mem::take(&mut b.serial)), Vec::<&str>::new(), "no event 14 or 9 after a stop");
    assert!(b.at("AT+MIPLCLOSE=0").contains("+CME ERROR: 3"));
    assert!(b.at("AT+MIPLDELETE=0").contains("OK"));
}

/// BC39 §4.1–§4.7: past the TE's 10 s a request is ACKed empty, and the answer goes as a separate
/// CON: acknowledged, event 21; never acknowledged, event 20 with the TE's message ID.
#[rstest::rstest]
#[case(None, "+MIPLEVENT: 0,21")]
#[case(Some(miplcheck_platform::Fault::Ignore), "+MIPLEVENT: 0,20,{mid}")]
#[case(Some(miplcheck_platform::Fault::Refuse), "+MIPLEVENT: 0,20,{mid}")]
fn an_answer_past_10_s_travels_separately(#[case] fault: Option<miplcheck_platform::Fault>, #[case] event: &str) {
    let mut b = Bench::new(PlatformOptions { auto_observe: false, ..Default::default() });
    b.register();
    let id = b.op(Operation::Read(Path::resource(3311, 0, 5805)));
    let urc = std::mem::take(&mut b.serial);
    let mid: u32 = urc.trim().split(',').nth(1).unwrap().parse().unwrap();
    b.run(Duration::from_secs(9));
    assert!(!b.wire_text().iter().any(|w| w.starts_with("UE→PF ACK")), "held for a piggy-backed answer before 10 s");
    b.run(Duration::from_secs(2));
    assert!(b.wire_text().iter().any(|w| w.starts_with("UE→PF ACK mid=")), "{:?}", b.wire_text());
    b.pf.set_fault(miplcheck_platform::Interface::Response, fault);
    let mut seen = b.at(&format!("AT+MIPLREADRSP=0,{mid},1,3311,0,5805,4,4,1.88,0,0"));
    b.run(Duration::from_secs(120));
    seen.push_str(&b.serial);
    let want = event.replace("{mid}", &mid.to_string());
    assert_eq!(urc_lines(&seen), ["OK", want.as_str()]);
    let separate = b.wire_text().iter().filter(|w| w.starts_with("UE→PF CON 2.05")).count();
    match fault {
        None => {
            assert_eq!(answered(&b.pf, id), ("2.05".to_string(), b"1.88".to_vec()));
            assert_eq!(separate, 1);
        }
        Some(miplcheck_platform::Fault::Ignore) => assert_eq!(separate, 5, "sent, then MAX_RETRANSMIT re-sends"),
        Some(miplcheck_platform::Fault::Refuse) => assert_eq!(separate, 1, "an RST ends it at once"),
    }
}
