//! Wakaama's lwm2mclient registered with our mock OneNET platform: what the platform records and
//! keeps of the device on one side, what the client prints on the other.

use crate::peer::{binaries, free_udp_port, Peer, WAIT};
use miplcheck_lwm2m::Path;
use miplcheck_platform::{udp, Control, OpOutcome, Operation, PlatformOptions, WireDir};
use std::time::Instant;

/// What the platform sent (`PF→UE …`) and received (`UE→PF …`), one summary a datagram.
fn wire(pf: &udp::Handle, seen: &mut Vec<String>) -> Vec<String> {
    for r in pf.take_records() {
        let dir = match r.dir {
            WireDir::PlatformToUe => "PF→UE",
            WireDir::UeToPlatform => "UE→PF",
        };
        seen.push(format!("{dir} {}", r.summary()));
    }
    seen.clone()
}

/// Waits until some datagram summary starts with `prefix`; returns that summary.
fn wait_wire(pf: &udp::Handle, seen: &mut Vec<String>, prefix: &str, client: &Peer) -> String {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(w) = wire(pf, seen).into_iter().find(|w| w.starts_with(prefix)) {
            return w;
        }
        if Instant::now() > deadline {
            panic!(
                "no {prefix:?} on the wire in {WAIT:?}; wire:\n{}\nclient printed:\n{}",
                seen.join("\n"),
                client.output()
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn wait<T>(what: &str, client: &Peer, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(v) = f() {
            return v;
        }
        if Instant::now() > deadline {
            panic!("timed out waiting for {what}; client printed:\n{}", client.output());
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// A platform (auto-observe as `auto_observe` says) and Wakaama's lwm2mclient `ep` registering
/// with it for `lifetime` seconds.
fn client(dir: &std::path::Path, auto_observe: bool, ep: &str, lifetime: &str) -> (udp::Handle, Peer) {
    let opts = PlatformOptions { auto_observe, ..Default::default() };
    let pf = udp::spawn("127.0.0.1:0".parse().unwrap(), opts, Instant::now()).unwrap();
    let local = free_udp_port().to_string();
    let port = pf.addr.port().to_string();
    let client = Peer::spawn(
        dir,
        "lwm2mclient",
        &["-4", "-h", "127.0.0.1", "-p", &port, "-l", &local, "-n", ep, "-t", lifetime],
    );
    (pf, client)
}

#[test]
fn wakaama_client_registers_is_observed_read_notifies_updates_and_deregisters() {
    let Some(dir) = binaries() else { return };
    let (pf, mut client) = client(&dir, true, "wakaama-ep", "60");
    let mut seen = vec![];

    let reg = wait_wire(&pf, &mut seen, "UE→PF CON POST /rd?", &client);
    assert!(reg.contains("ep=wakaama-ep") && reg.contains("lt=60"), "{reg}");
    wait_wire(&pf, &mut seen, "PF→UE ACK 2.01 location=/rd/", &client);
    let dev = wait("the device", &client, || pf.devices().into_iter().find(|d| d.endpoint == "wakaama-ep"));
    assert_eq!((dev.lifetime, dev.version.as_str()), (60, "1.1"));
    for p in [Path::instance(3, 0), Path::instance(31024, 10), Path::instance(1, 0)] {
        assert!(dev.objects.contains(&p), "{p} not among {:?}", dev.objects);
    }
    client.wait_for(r"STATE_READY");

    // Auto-observe (OneNET with "obsv" on): every instance observed, the client accepts.
    wait_wire(&pf, &mut seen, "PF→UE CON GET /3/0 observe=0", &client);
    wait_wire(&pf, &mut seen, "PF→UE CON GET /31024/10 observe=0", &client);
    wait_wire(&pf, &mut seen, "UE→PF ACK 2.05 observe=", &client);

    let id = pf.operate(Some("wakaama-ep"), Operation::Read(Path::resource(3, 0, 1))).unwrap();
    let answer = wait("the read's answer", &client, || match pf.outcome(id) {
        OpOutcome::Pending => None,
        other => Some(other),
    });
    match answer {
        OpOutcome::Answered { code, packet, .. } => {
            assert_eq!(code, "2.05");
            let body = String::from_utf8_lossy(&packet.payload).to_string();
            assert!(body.contains("Lightweight M2M Client"), "{body:?}");
        }
        other => panic!("{other:?}; client printed:\n{}", client.output()),
    }

    // The client changes an observed resource: /3/0 is observed, so a notification follows.
    client.send("change /3/0/14 +02");
    let n = wait_wire(&pf, &mut seen, "UE→PF NON 2.05 observe=", &client);
    assert!(n.contains(r#""vs":"+02""#), "{n}\n{}", seen.join("\n"));

    // Removing 31024 and adding it back: each update lists the objects the client has now.
    client.send("rm");
    wait("an update without 31024", &client, || {
        pf.devices().into_iter().find(|d| d.endpoint == "wakaama-ep" && !d.objects.iter().any(|p| p.object == 31024))
    });
    client.send("add");
    wait("an update with 31024", &client, || {
        pf.devices().into_iter().find(|d| d.endpoint == "wakaama-ep" && d.objects.contains(&Path::instance(31024, 10)))
    });
    wait_wire(&pf, &mut seen, "UE→PF CON POST /rd/1 </>;rt=\"oma.lwm2m\"", &client);

    client.send("quit");
    wait_wire(&pf, &mut seen, "UE→PF CON DELETE /rd/", &client);
    wait("the deregistration", &client, || pf.devices().iter().all(|d| d.endpoint != "wakaama-ep").then_some(()));
}

/// OneNET observes what a device lists (BC39 §5.2.2); objects an update adds are listed too, so
/// they are observed once they appear.
#[test]
fn objects_an_update_adds_are_observed() {
    let Some(dir) = binaries() else { return };
    let (pf, mut client) = client(&dir, true, "adds-ep", "60");
    let mut seen = vec![];
    wait_wire(&pf, &mut seen, "PF→UE ACK 2.01 location=/rd/", &client);
    client.wait_for(r"STATE_READY");
    client.send("rm");
    wait("an update without 31024", &client, || {
        pf.devices().into_iter().find(|d| d.endpoint == "adds-ep" && !d.objects.iter().any(|p| p.object == 31024))
    });
    seen.clear();
    client.send("add");
    wait("an update with 31024", &client, || {
        pf.devices().into_iter().find(|d| d.endpoint == "adds-ep" && d.objects.contains(&Path::instance(31024, 10)))
    });
    wait_wire(&pf, &mut seen, "PF→UE CON GET /31024/10 observe=0", &client);
}

#[test]
fn wakaama_client_updates_within_its_lifetime() {
    let Some(dir) = binaries() else { return };
    // Wakaama updates its registration before the lifetime runs out; with 20 s that is seconds.
    let (pf, client) = client(&dir, false, "lifetime-ep", "20");
    let dev = wait("the device", &client, || pf.devices().into_iter().find(|d| d.endpoint == "lifetime-ep"));
    assert_eq!(dev.lifetime, 20);
    let dev =
        wait("an update", &client, || pf.devices().into_iter().find(|d| d.endpoint == "lifetime-ep" && d.updates > 0));
    assert_eq!(dev.lifetime, 20);
}
