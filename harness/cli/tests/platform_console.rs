//! `miplcheck platform` driven by hand as a user would: commands typed on its stdin, an emulated
//! BC39 registered with it over real UDP, its MCU answering on the pty; the answers and a
//! notification printed decoded, and the same as one JSON object a line with `--json`.

mod common;
use common::mcu::Mcu;
use common::served::{coap_port, Served};
use std::time::Duration;

const IMEI: &str = "866971030000001";

fn platform(json: bool) -> (Served, Mcu) {
    let mut args = vec!["platform", "--listen", "127.0.0.1:0", "--no-auto-observe"];
    if json {
        args.push("--json");
    }
    let (served, banner) = Served::start(&args, &[]);
    let mut mcu = Mcu::bc39();
    mcu.register(coap_port(&banner));
    (served, mcu)
}

#[test]
fn the_console_reads_writes_and_observes_a_registered_device() {
    let (mut pf, mut mcu) = platform(false);
    pf.type_line("list");
    let listed = pf.line(|l| l.contains(IMEI) && l.contains("lifetime 600"), "the device listed");
    assert!(listed.contains("/3311/0,/3311/1"), "{listed}");

    pf.type_line("help");
    pf.line(|l| l.contains("read EP /3311/0/5700"), "help's commands");
    pf.type_line("reed /3311");
    let e = pf.line(|l| l.starts_with("error:"), "an error line");
    assert!(e.contains("\"reed\" is not a platform operation"), "{e}");

    pf.type_line(&format!("read {IMEI} /3311/0/5700"));
    let urc = mcu.urc("+MIPLREAD: 0,");
    assert!(urc.ends_with(",3311,0,5700"), "{urc}");
    mcu.send(&format!("AT+MIPLREADRSP=0,{},1,3311,0,5700,4,4,25.5,0,0", Mcu::msg_id(&urc)));
    let answer = pf.line(|l| l.contains("read 866971030000001 /3311/0/5700: 2"), "the read's answer");
    assert!(answer.ends_with(": 2.05 cf=text/plain 25.5"), "{answer}");

    // Without the device: the only one registered.
    pf.type_line("write /3311/0/5706 text hello");
    let urc = mcu.urc("+MIPLWRITE: 0,");
    assert!(urc.contains(",3311,0,5706,2,5,68656C6C6F,"), "{urc}");
    mcu.send(&format!("AT+MIPLWRITERSP=0,{},2", Mcu::msg_id(&urc)));
    let answer = pf.line(|l| l.contains("text hello: 2"), "the write's answer");
    assert!(answer.ends_with(": 2.04"), "{answer}");

    pf.type_line(&format!("observe {IMEI} /3311/0/5700"));
    let urc = mcu.urc("+MIPLOBSERVE: 0,");
    let id = Mcu::msg_id(&urc);
    pf.line(|l| l.contains("observe 866971030000001 /3311/0/5700: 2.05"), "the observe's answer");
    mcu.send(&format!("AT+MIPLNOTIFY=0,{id},3311,0,5700,4,4,26.5,0,0"));
    let note = pf.line(|l| l.contains("UE→PF") && l.contains("26.5"), "the notification");
    assert!(note.contains("observe="), "{note}");

    // A command for a device that is not there is one clear line, and the console goes on.
    pf.type_line("read 999 /3311/0/5700");
    let e = pf.line(|l| l.starts_with("error:"), "no such device");
    assert!(e.contains("no device is registered"), "{e}");

    // The end of stdin does not stop the platform.
    pf.close_stdin();
    std::thread::sleep(Duration::from_millis(500));
    assert!(pf.running(), "EOF on stdin stopped it:\n{}", pf.seen.join("\n"));
}

#[test]
fn the_console_speaks_json_a_line_to_scripts() {
    let (mut pf, mut mcu) = platform(true);
    pf.type_line("list");
    let list = pf.line(|l| l.contains("\"devices\""), "the device list");
    let v: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(v["devices"][0]["lifetime"], 600, "{v}");
    assert!(v["devices"][0]["endpoint"].as_str().unwrap().starts_with(IMEI), "{v}");

    pf.type_line("execute /3311/0/5850 go");
    let urc = mcu.urc("+MIPLEXECUTE: 0,");
    mcu.send(&format!("AT+MIPLEXECUTERSP=0,{},2", Mcu::msg_id(&urc)));
    let answer = pf.line(|l| l.contains("\"answer\""), "the execute's answer");
    let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(
        (v["event"].as_str(), v["code"].as_str(), v["command"].as_str()),
        (Some("answer"), Some("2.04"), Some("execute /3311/0/5850 go")),
        "{v}"
    );

    pf.type_line("write /3311/0/5706 json {}");
    let e = pf.line(|l| l.contains("\"error\""), "the error");
    let v: serde_json::Value = serde_json::from_str(&e).unwrap();
    assert_eq!(v["event"], "error", "{v}");
    // Every line is one JSON object.
    for line in &pf.seen {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["event"].is_string(), "{line}");
    }
}
