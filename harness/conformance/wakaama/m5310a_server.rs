//! Our M5310-A emulator, driven over its pty, registered with Wakaama's lwm2mserver. The
//! M5310-A answers observe and discover itself (M5310-A §5.3.2.4): the TE only shows them.

use crate::modem::Host;
use crate::peer::{binaries, free_udp_port, Peer};

/// An M5310-A with one 3200 instance registered with a fresh lwm2mserver (its client #0).
fn m5310a_registered() -> Option<(Peer, Host)> {
    let dir = binaries()?;
    let port = free_udp_port();
    let mut server = Peer::spawn(&dir, "lwm2mserver", &["-4", "-l", &port.to_string()]);
    let mut host = Host::start("m5310a");
    host.cmd("AT+CMEE=1");
    // Without an auth code: Wakaama answers OneNET's critical option 63 with 4.02.
    host.cmd(&format!("AT+MIPLCREATEEX=\"127.0.0.1:{port}\",0"));
    host.cmd("AT+MIPLADDOBJ=0,3200,1,\"1\",0,1");
    host.cmd("AT+MIPLDISCOVERRSP=0,3200,1,14,\"5500;5501;5750\"");
    host.cmd("AT+MIPLOPEN=0,3000,30");
    host.urc(r"\+MIPLEVENT:0,6");
    server.wait_for(r#"New client #0 registered\.\n[\s\S]*?version: "1\.0"\n\s*binding: "UDP"\n\s*lifetime: 3000 sec\n\s*objects: /3200/0,"#);
    Some((server, host))
}

#[test]
fn m5310a_read_write_execute_discover() {
    let Some((mut server, mut host)) = m5310a_registered() else { return };
    // lwm2mserver asks `Accept: 11542` even for one resource, so the module answers TLV, which its
    // console names but cannot show ("Unsupported."): the value is checked on the AT side.
    server.send("read 0 /3200/0/5750");
    let g = host.urc(r"\+MIPLREAD:0,(\d+),3200,0,5750");
    host.cmd(&format!("AT+MIPLREADRSP=0,{},1,3200,0,5750,1,4,\"abcd\",0,0", g[1]));
    server.wait_for(r"Client #0 /3200/0/5750 : 2.05 \(COAP_205_CONTENT\)\n[^\n]*\n\s*7 bytes received of type application/vnd\.oma\.lwm2m\+tlv:");

    server.send("write 0 /3200/0/5750 hello");
    let g = host.urc(r"\+MIPLWRITE:0,(\d+),3200,0,5750,(?:1,5,hello|2,10,68656C6C6F),0,0");
    host.cmd(&format!("AT+MIPLWRITERSP=0,{},2", g[1]));
    server.wait_for(r"Client #0 /3200/0/5750 : 2.04 \(COAP_204_CHANGED\)");

    server.send("exec 0 /3200/0/5750 go");
    let g = host.urc(r#"\+MIPLEXECUTE:0,(\d+),3200,0,5750,2,"go""#);
    host.cmd(&format!("AT+MIPLEXECUTERSP=0,{},2", g[1]));
    server.wait_for(r"Client #0 /3200/0/5750 : 2.04 \(COAP_204_CHANGED\)");

    server.send("disc 0 /3200/0");
    host.urc(r"\+MIPLDISCOVER:0,\d+,3200");
    let got = server.wait_for(
        r"Client #0 /3200/0 : 2.05 \(COAP_205_CONTENT\)\n[^\n]*\n\s*\d+ bytes received of type application/link-format:\n\s*([^\n]*)",
    );
    assert_eq!(got[1].trim(), "</3200/0>,</3200/0/5500>,</3200/0/5501>,</3200/0/5750>", "{}", server.output());
}

#[test]
fn m5310a_observe_notify_cancel_update_close() {
    let Some((mut server, mut host)) = m5310a_registered() else { return };
    server.send("observe 0 /3200/0/5750");
    let obs = host.urc(r"\+MIPLOBSERVE:0,(\d+),1,3200,0,5750");
    server.wait_for(r"Notify from client #0 /3200/0/5750 number 0");
    host.cmd(&format!("AT+MIPLNOTIFY=0,{},3200,0,5750,1,4,\"abcd\",0,0", obs[1]));
    let g = server
        .wait_for(r"bytes received from \[127\.0\.0\.1\]:\d+\n([0-9A-F]{2})[^>]*?Notify from client #0 (\S+) number 1");
    assert_eq!((&g[1][..1], g[2].as_str()), ("5", "/3200/0/5750"), "{}", server.output());
    server.wait_for(r"7 bytes received of type application/vnd\.oma\.lwm2m\+tlv:");
    // CON: event 26 with the acknowledgement id once Wakaama ACKs (M5310-A §1.9).
    host.cmd(&format!("AT+MIPLNOTIFY=0,{},3200,0,5750,1,4,\"wxyz\",0,0,147", obs[1]));
    let g = server
        .wait_for(r"bytes received from \[127\.0\.0\.1\]:\d+\n([0-9A-F]{2})[^>]*?Notify from client #0 (\S+) number 2");
    assert_eq!((&g[1][..1], g[2].as_str()), ("4", "/3200/0/5750"), "{}", server.output());
    host.urc(r"\+MIPLEVENT:0,26,147");

    server.send("cancel 0 /3200/0/5750");
    host.urc(r"\+MIPLOBSERVE:0,\d+,0,3200,0,5750");
    // Wakaama reports a cancel its client answered 2.05 as status 0, "no error" (core/observe.c).
    server.wait_for(r"Client #0 /3200/0/5750 : 0\.00 \(COAP_NO_ERROR\)");

    host.cmd("AT+MIPLUPDATE=0,300,1");
    host.urc(r"\+MIPLEVENT:0,11");
    server.wait_for(r"Client #0 updated\.\n[\s\S]*?lifetime: 300 sec");
    host.cmd("AT+MIPLCLOSE=0");
    host.urc(r"\+MIPLEVENT:0,15");
    server.wait_for(r"Client #0 unregistered\.");
}
