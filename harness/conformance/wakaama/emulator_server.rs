//! Our emulator, driven over its pty as a host MCU would, registered with Wakaama's lwm2mserver.
//! Each test checks both sides: the URCs and answers in our AT transcript, and what
//! lwm2mserver prints of the module's answers.

use crate::modem::Host;
use crate::peer::{binaries, free_udp_port, Peer};

/// A BC39 with two 3311 instances registered with a fresh lwm2mserver (its client #0).
fn bc39_registered() -> Option<(Peer, Host)> {
    let dir = binaries()?;
    let port = free_udp_port();
    let mut server = Peer::spawn(&dir, "lwm2mserver", &["-4", "-l", &port.to_string()]);
    let mut host = Host::start("bc39");
    host.cmd("AT+CMEE=1");
    host.cmd(&format!("AT+MIPLCONFIG=0,127.0.0.1,{port}"));
    // Observe requests are the TE's to answer (BC39 §5.7 precondition 3).
    host.cmd("AT+MIPLCONFIG=3,0");
    host.cmd("AT+MIPLCREATE");
    host.cmd("AT+MIPLADDOBJ=0,3311,2,\"11\",4,2");
    host.cmd("AT+MIPLOPEN=0,600,60");
    host.urc(r"\+MIPLEVENT: 0,6");
    server.wait_for(r"New client #0 registered");
    // Wakaama prints every instance of an object with the first one's id (`/3311/0, /3311/0`);
    // the registration's payload, in its hex dump, names both.
    server.wait_for(r#"version: "1.0"\n\s*binding: "UDP"\n\s*lifetime: 600 sec\n\s*objects: /3311/0, /3311/0,"#);
    Some((server, host))
}

/// A regex for `bytes` (hex, space-separated) in lwm2mserver's dump of a datagram, which prints
/// 16 bytes a line with their ASCII beside them: the bytes may wrap onto the next line.
fn in_dump(bytes: &str) -> String {
    bytes.split(' ').collect::<Vec<_>>().join(r"(?:\s{1,2}|\s{3,}[^\n]*\n\s*)")
}

/// The answer to a read of `path`, in TLV holding `tlv` (hex), as lwm2mserver prints it.
fn tlv_answer(path: &str, tlv: &str) -> String {
    format!(
        r"bytes received from[^>]*?{}[^>]*?Client #0 {} : 2.05 \(COAP_205_CONTENT\)\n[^\n]*\n\s*\d+ bytes received of type application/vnd\.oma\.lwm2m\+tlv:",
        in_dump(tlv),
        regex::escape(path)
    )
}

#[test]
fn bc39_read_of_a_resource_an_instance_and_an_object() {
    let Some((mut server, mut host)) = bc39_registered() else { return };
    // lwm2mserver asks `Accept: 11542` even for one resource, so the module answers TLV. Its
    // console names TLV but cannot show it ("Unsupported."): the values are found in its dump of
    // the datagram.
    server.send("read 0 /3311/0/5805");
    let g = host.urc(r"\+MIPLREAD: 0,(\d+),3311,0,5805");
    host.cmd(&format!("AT+MIPLREADRSP=0,{},1,3311,0,5805,4,4,1.88,0,0", g[1]));
    // 5805 as a 4-byte float: 1.88 is 3FF0A3D7.
    server.wait_for(&tlv_answer("/3311/0/5805", "FF E4 16 AD 3F F0 A3 D7"));

    server.send("read 0 /3311/0");
    let g = host.urc(r"\+MIPLREAD: 0,(\d+),3311,0,-1");
    host.cmd(&format!("AT+MIPLREADRSP=0,{},1,3311,0,5851,5,1,1,1,0", g[1]));
    host.cmd(&format!("AT+MIPLREADRSP=0,{},1,3311,0,5706,1,10,\"1234567890\",0,0", g[1]));
    server.wait_for(&tlv_answer("/3311/0", "FF E1 16 DB 01 E8 16 4A 0A 31 32 33 34 35 36 37 38 39 30"));

    server.send("read 0 /3311");
    let g = host.urc(r"\+MIPLREAD: 0,(\d+),3311,-1,-1");
    host.cmd(&format!("AT+MIPLREADRSP=0,{},1,3311,0,5851,5,1,1,1,0", g[1]));
    host.cmd(&format!("AT+MIPLREADRSP=0,{},1,3311,1,5851,5,1,0,0,0", g[1]));
    // Two object instances (04: 8-bit ID, 4 bytes), each holding 5851.
    server.wait_for(&tlv_answer("/3311", "FF 04 00 E1 16 DB 01 04 01 E1 16 DB 00"));
}

#[test]
fn bc39_write_as_text_and_as_tlv() {
    let Some((mut server, mut host)) = bc39_registered() else { return };
    server.send("write 0 /3311/0/5706 hello");
    // Write format 0 (the default) shows the value in hex, format 1 as a string (BC39 §3.2.14).
    let g = host.urc(r"\+MIPLWRITE: 0,(\d+),3311,0,5706,2,5,(?:68656C6C6F|hello),0,0");
    host.cmd(&format!("AT+MIPLWRITERSP=0,{},2", g[1]));
    server.wait_for(r"Client #0 /3311/0/5706 : 2.04 \(COAP_204_CHANGED\)");

    // Given SenML JSON, lwm2mserver writes in the client's format: TLV (11542) for LwM2M 1.0.
    server.send(r#"write 0 /3311/0 [{"bn":"/3311/0/","n":"5706","vs":"hi"},{"n":"5850","vb":true}]"#);
    let a = host.urc(r"\+MIPLWRITE: 0,(\d+),3311,0,5706,2,2,(?:6869|hi),0,1");
    let b = host.urc(r"\+MIPLWRITE: 0,(\d+),3311,0,5850,2,1,01,0,0");
    assert_eq!(a[1], b[1], "one write, one message ID; AT transcript:\n{}", host.transcript);
    host.cmd(&format!("AT+MIPLWRITERSP=0,{},2", a[1]));
    server.wait_for(r"Client #0 /3311/0 : 2.04 \(COAP_204_CHANGED\)");
}

#[test]
fn bc39_execute_with_and_without_arguments() {
    let Some((mut server, mut host)) = bc39_registered() else { return };
    server.send("exec 0 /3311/0/5850");
    let g = host.urc(r"\+MIPLEXECUTE: 0,(\d+),3311,0,5850");
    host.cmd(&format!("AT+MIPLEXECUTERSP=0,{},2", g[1]));
    server.wait_for(r"Client #0 /3311/0/5850 : 2.04 \(COAP_204_CHANGED\)");

    server.send("exec 0 /3311/1/5850 reset");
    let g = host.urc(r#"\+MIPLEXECUTE: 0,(\d+),3311,1,5850,5,"reset""#);
    host.cmd(&format!("AT+MIPLEXECUTERSP=0,{},2", g[1]));
    server.wait_for(r"Client #0 /3311/1/5850 : 2.04 \(COAP_204_CHANGED\)");
}

#[test]
fn bc39_write_attributes_and_a_scoped_discover() {
    let Some((mut server, mut host)) = bc39_registered() else { return };
    server.send("time 0 /3311/0/5805 5 60");
    let g = host.urc(r#"\+MIPLPARAMETER: 0,(\d+),3311,0,5805,14,"pmin=5;pmax=60""#);
    host.cmd(&format!("AT+MIPLPARAMETERRSP=0,{},2", g[1]));
    server.wait_for(r"Client #0 /3311/0/5805 : 2.04 \(COAP_204_CHANGED\)");

    // A discover of instance 1 answers instance 1 only (LwM2M 1.0 §5.4.2).
    server.send("disc 0 /3311/1");
    let g = host.urc(r"\+MIPLDISCOVER: 0,(\d+),3311");
    host.cmd(&format!("AT+MIPLDISCOVERRSP=0,{},1,9,\"5850;5706\"", g[1]));
    let got = server.wait_for(
        r"Client #0 /3311/1 : 2.05 \(COAP_205_CONTENT\)\n[^\n]*\n\s*\d+ bytes received of type application/link-format:\n\s*([^\n]*)",
    );
    assert_eq!(got[1].trim(), "</3311/1>,</3311/1/5850>,</3311/1/5706>", "{}", server.output());
}

#[test]
fn bc39_observe_notify_non_and_con_overlapping_then_cancel() {
    let Some((mut server, mut host)) = bc39_registered() else { return };
    server.send("observe 0 /3311/0/5805");
    let res = host.urc(r"\+MIPLOBSERVE: 0,(\d+),1,3311,0,5805");
    host.cmd(&format!("AT+MIPLOBSERVERSP=0,{},1", res[1]));
    // Wakaama shows the answer to an observe as its notification number 0.
    server.wait_for(r"Notify from client #0 /3311/0/5805 number 0");
    server.send("observe 0 /3311/0");
    let inst = host.urc(r"\+MIPLOBSERVE: 0,(\d+),1,3311,0,-1");
    host.cmd(&format!("AT+MIPLOBSERVERSP=0,{},1", inst[1]));
    server.wait_for(r"Notify from client #0 /3311/0 number 0");

    // NON: no acknowledgement id. Wakaama prints the datagram before it names the observation:
    // its first byte tells the message type (0x5_ is NON, 0x4_ CON).
    host.cmd(&format!("AT+MIPLNOTIFY=0,{},3311,0,5805,4,4,2.5,0,0", res[1]));
    let g = server
        .wait_for(r"bytes received from \[127\.0\.0\.1\]:\d+\n([0-9A-F]{2})[^>]*?Notify from client #0 (\S+) number");
    assert_eq!((&g[1][..1], g[2].as_str()), ("5", "/3311/0/5805"), "{}", server.output());
    server.wait_for(r"7 bytes received of type application/vnd\.oma\.lwm2m\+tlv:");

    // CON: the acknowledgement id comes back as event 26 once Wakaama ACKs (BC39 §3.2.15).
    host.cmd(&format!("AT+MIPLNOTIFY=0,{},3311,0,5805,4,4,4.5,0,0,77", res[1]));
    let g = server
        .wait_for(r"bytes received from \[127\.0\.0\.1\]:\d+\n([0-9A-F]{2})[^>]*?Notify from client #0 (\S+) number 2");
    assert_eq!((&g[1][..1], g[2].as_str()), ("4", "/3311/0/5805"), "{}", server.output());
    host.urc(r"\+MIPLEVENT: 0,26,77");

    // The other observation's msgId: the instance observation, whatever the resource.
    host.cmd(&format!("AT+MIPLNOTIFY=0,{},3311,0,5805,4,4,3.5,0,0", inst[1]));
    let g = server
        .wait_for(r"bytes received from \[127\.0\.0\.1\]:\d+\n([0-9A-F]{2})[^>]*?Notify from client #0 (\S+) number");
    assert_eq!((&g[1][..1], g[2].as_str()), ("5", "/3311/0"), "{}", server.output());

    server.send("cancel 0 /3311/0/5805");
    let off = host.urc(r"\+MIPLOBSERVE: 0,(\d+),0,3311,0,5805");
    host.cmd(&format!("AT+MIPLOBSERVERSP=0,{},1", off[1]));
    // Wakaama reports a cancel its client answered 2.05 as status 0, "no error" (core/observe.c).
    server.wait_for(r"Client #0 /3311/0/5805 : 0\.00 \(COAP_NO_ERROR\)");
}

#[test]
fn bc39_update_then_close() {
    let Some((mut server, mut host)) = bc39_registered() else { return };
    host.cmd("AT+MIPLUPDATE=0,300,1");
    host.urc(r"\+MIPLEVENT: 0,11");
    server.wait_for(r"Client #0 updated\.\n[\s\S]*?lifetime: 300 sec");
    host.cmd("AT+MIPLCLOSE=0");
    host.urc(r"\+MIPLEVENT: 0,15");
    server.wait_for(r"Client #0 unregistered\.");
}
