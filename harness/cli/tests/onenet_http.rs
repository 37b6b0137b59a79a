//! The OneNET-compatible HTTP API of `miplcheck platform --http`, driven with a real HTTP client
//! (ureq) as a cloud application would: the api-key, missing parameters, an offline device, and
//! read / write / execute / observe against an emulated BC39 registered over real UDP, whose MCU
//! answers on the pty; a device that never answers is OneNET's time-out.

mod common;
use common::mcu::Mcu;
use common::served::{coap_port, Served};
use rstest::rstest;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

const IMEI: &str = "866971030000001";
const KEY: &str = "k3y-for-tests-only";

/// A platform with the API, its HTTP base URL.
fn served() -> (Served, String, u16) {
    let (pf, banner) = Served::start(
        &[
            "platform",
            "--listen",
            "127.0.0.1:0",
            "--no-auto-observe",
            "--http",
            "127.0.0.1:0",
            "--api-key-env",
            "TEST_ONENET_KEY",
        ],
        &[("TEST_ONENET_KEY", KEY)],
    );
    let http = banner.split("http://").nth(1).unwrap_or_else(|| panic!("{banner}"));
    let http = format!("http://{}", http.split(' ').next().unwrap());
    (pf, http, coap_port(&banner))
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder().timeout_global(Some(Duration::from_secs(90))).build().into()
}

fn get(url: &str, key: Option<&str>) -> Value {
    let mut req = agent().get(url);
    if let Some(k) = key {
        req = req.header("api-key", k);
    }
    req.call().unwrap().body_mut().read_json().unwrap()
}

fn post(url: &str, key: &str, body: Value) -> Value {
    agent().post(url).header("api-key", key).send_json(body).unwrap().body_mut().read_json().unwrap()
}

#[rstest]
#[case::no_key("/nbiot?imei=1&obj_id=3311", None, 1, "auth failed: api-key")]
#[case::wrong_key("/nbiot?imei=1&obj_id=3311", Some("k3y-for-tests-onlx"), 1, "auth failed: api-key")]
#[case::no_imei("/nbiot?obj_id=3311", Some(KEY), 3, "parameter required: imei")]
#[case::no_object("/nbiot?imei=1", Some(KEY), 3, "parameter required: obj_id")]
#[case::bad_timeout(
    "/nbiot?imei=1&obj_id=3311&timeout=90",
    Some(KEY),
    5108,
    "invalid parameter: timeout (5 to 40 seconds)"
)]
#[case::offline("/nbiot?imei=123456789012345&obj_id=3311", Some(KEY), 2001, "device not online: 123456789012345")]
#[case::resources_offline(
    "/nbiot/resources?imei=123456789012345",
    Some(KEY),
    2001,
    "device not online: 123456789012345"
)]
fn requests_that_cannot_be_served_get_onenet_errnos(
    #[case] path: &str,
    #[case] key: Option<&str>,
    #[case] errno: u32,
    #[case] error: &str,
) {
    let (pf, http, _) = served();
    assert_eq!(get(&format!("{http}{path}"), key), json!({"errno": errno, "error": error}));
    assert!(pf.seen.iter().all(|l| !l.contains(KEY)), "the key was printed: {:?}", pf.seen);
}

#[test]
fn a_write_without_its_mode_or_data_is_parameter_required() {
    let (_pf, http, _) = served();
    let url = format!("{http}/nbiot?imei={IMEI}&obj_id=3311&obj_inst_id=0");
    assert_eq!(post(&url, KEY, json!({"data": []})), json!({"errno": 3, "error": "parameter required: mode"}));
    let url = format!("{url}&mode=2");
    assert_eq!(post(&url, KEY, json!({})), json!({"errno": 3, "error": "parameter required: data"}));
}

/// Runs `request` on a thread (it waits for the device) while the MCU answers `urc` with `rsp`.
fn answered(
    mcu: &mut Mcu,
    urc: &str,
    rsp: impl Fn(&str) -> String,
    request: impl FnOnce() -> Value + Send + 'static,
) -> (String, Value) {
    let call = std::thread::spawn(request);
    let seen = mcu.urc(urc);
    mcu.send(&rsp(&Mcu::msg_id(&seen)));
    (seen, call.join().unwrap())
}

#[test]
fn an_application_creates_lists_reads_writes_executes_and_observes_a_device() {
    let (pf, http, port) = served();
    let created = post(
        &format!("{http}/devices"),
        KEY,
        json!({"title": "bench", "protocol": "LWM2M", "auth_info": {IMEI: "460040000000001"}, "obsv": false}),
    );
    assert_eq!(created, json!({"errno": 0, "error": "succ", "data": {"device_id": "1"}}));
    let listed = get(&format!("{http}/devices"), Some(KEY));
    assert_eq!(listed["data"]["devices"][0]["online"], false, "{listed}");

    let mut mcu = Mcu::bc39();
    mcu.register(port);
    let listed = get(&format!("{http}/devices"), Some(KEY));
    assert_eq!(listed["data"]["devices"][0]["online"], true, "{listed}");
    assert_eq!(listed["data"]["devices"][0]["auth_info"], json!({IMEI: "460040000000001"}), "{listed}");

    let res = get(&format!("{http}/nbiot/resources?imei={IMEI}&obj_id=3311"), Some(KEY));
    assert_eq!(
        res,
        json!({"errno": 0, "error": "succ", "data": {"total_count": 1, "item": [{"obj_id": 3311, "instances": [
            {"inst_id": 0, "resources": []}, {"inst_id": 1, "resources": []}]}]}})
    );

    let url = format!("{http}/nbiot?imei={IMEI}&obj_id=3311&obj_inst_id=0&res_id=5700");
    let (_, read) = answered(
        &mut mcu,
        "+MIPLREAD: 0,",
        |id| format!("AT+MIPLREADRSP=0,{id},1,3311,0,5700,4,4,25.5,0,0"),
        move || get(&url, Some(KEY)),
    );
    assert_eq!(
        read,
        json!({"errno": 0, "error": "succ", "data": [{"obj_inst_id": 0, "res": [{"res_id": 5700, "val": 25.5}]}]})
    );

    let url = format!("{http}/nbiot?imei={IMEI}&obj_id=3311&obj_inst_id=0&mode=2");
    let (urc, wrote) = answered(
        &mut mcu,
        "+MIPLWRITE: 0,",
        |id| format!("AT+MIPLWRITERSP=0,{id},2"),
        move || post(&url, KEY, json!({"data": [{"res_id": 5706, "val": "hello"}]})),
    );
    assert!(urc.contains(",3311,0,5706,1,5,") || urc.contains(",3311,0,5706,2,5,"), "{urc}");
    assert_eq!(wrote, json!({"errno": 0, "error": "succ"}));

    let url = format!("{http}/nbiot/execute?imei={IMEI}&obj_id=3311&obj_inst_id=0&res_id=5850");
    let (urc, executed) = answered(
        &mut mcu,
        "+MIPLEXECUTE: 0,",
        |id| format!("AT+MIPLEXECUTERSP=0,{id},2"),
        move || post(&url, KEY, json!({"args": "ping"})),
    );
    assert!(urc.contains(",3311,0,5850"), "{urc}");
    assert_eq!(executed, json!({"errno": 0, "error": "succ"}));

    // The module answers an observe itself here (the emulator's default, BC39 §5.7).
    let url = format!("{http}/nbiot/observe?imei={IMEI}&obj_id=3311&obj_inst_id=0&res_id=5700");
    let observed = post(&url, KEY, json!({}));
    assert_eq!(observed, json!({"errno": 0, "error": "succ"}));
    mcu.urc("+MIPLOBSERVE: 0,");

    // A device that answers with an error is OneNET's 5106 with the reason.
    let url = format!("{http}/nbiot?imei={IMEI}&obj_id=3311&obj_inst_id=1&res_id=5700");
    let (_, refused) =
        answered(&mut mcu, "+MIPLREAD: 0,", |id| format!("AT+MIPLREADRSP=0,{id},13"), move || get(&url, Some(KEY)));
    assert_eq!(refused, json!({"errno": 5106, "error": "UNSUCESS: NOT_FOUND (4.04)"}));

    // One that does not answer in `timeout` seconds is OneNET's time-out, not before.
    let started = Instant::now();
    let url = format!("{http}/nbiot?imei={IMEI}&obj_id=3311&obj_inst_id=0&res_id=5700&timeout=5");
    let late = get(&url, Some(KEY));
    assert_eq!(late, json!({"errno": 5106, "error": "UNSUCESS: TIME_OUT"}));
    assert!(started.elapsed() >= Duration::from_secs(5), "{:?}", started.elapsed());
    assert!(pf.seen.iter().all(|l| !l.contains(KEY)), "the key was printed: {:?}", pf.seen);
}

#[test]
fn a_body_past_the_limit_is_refused_before_it_is_read_whole() {
    let (_pf, http, _) = served();
    let big = "x".repeat(64 * 1024);
    let r = agent().post(&format!("{http}/devices")).header("api-key", KEY).send(big.as_bytes());
    assert!(matches!(r, Err(ureq::Error::StatusCode(413))), "{r:?}");
}
